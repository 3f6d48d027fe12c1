/* agents.c — agents: registration and re-registration (with the tasks they run),
 * health checks, disconnection and loss, clean unregistration.
 *
 * Health: the master pings each agent every --agent-ping-timeout; an agent that has not
 * answered the previous ping counts a miss, and after --max-agent-ping-timeouts misses
 * in a row it is lost: its tasks become TASK_LOST (TASK_UNREACHABLE for PARTITION_AWARE
 * frameworks), every framework gets a LostAgentMessage, and its resources leave the
 * allocator. A broken connection (libactor's `exited`) only deactivates the agent: the
 * pings decide, as in Mesos, so a short network blip loses nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator_link.h"
#include "master/master_internal.h"
#include "master/registrar.h"

struct mst_agent *mst_agent_find(struct master *m, const char *id)
{
	return mst_idmap_get(&m->agent_index, id);
}

struct mst_agent *mst_agent_find_pid(struct master *m, actor_pid pid)
{
	char key[ACTOR_PID_TEXT_MAX];

	actor_pid_format(pid, key, sizeof(key));
	return mst_idmap_get(&m->agents_by_pid, key);
}

/* Adds a to the master's list and index of agents. */
static int agent_insert(struct master *m, struct mst_agent *a)
{
	if (mst_idmap_put(&m->agent_index, a->id, a) != 0)
		return ENOMEM;
	a->next = m->agents;
	m->agents = a;
	return 0;
}

/* Indexes a under its (new) pid. The newest agent at a pid wins, as a new agent
 * process at an old address is what a registration from it means. */
static void agent_index_pid(struct master *m, struct mst_agent *a)
{
	if (a->pid_key[0] != '\0' && mst_idmap_get(&m->agents_by_pid, a->pid_key) == a)
		mst_idmap_del(&m->agents_by_pid, a->pid_key);
	actor_pid_format(a->pid, a->pid_key, sizeof(a->pid_key));
	if (mst_idmap_put(&m->agents_by_pid, a->pid_key, a) != 0)
		actor_error("master: out of memory indexing agent %s", a->id);
}

bool mst_agent_is_unreachable(struct master *m, const char *id)
{
	for (size_t i = 0; i < m->n_unreachable; i++)
		if (strcmp(m->unreachable[i], id) == 0)
			return true;
	return false;
}

static void unreachable_add(struct master *m, const char *id)
{
	if (mst_agent_is_unreachable(m, id))
		return;
	char **u = realloc(m->unreachable, (m->n_unreachable + 1) * sizeof(*u));
	if (u == NULL)
		return;
	m->unreachable = u;
	if ((u[m->n_unreachable] = strdup(id)) != NULL)
		m->n_unreachable++;
}

static void unreachable_remove(struct master *m, const char *id)
{
	for (size_t i = 0; i < m->n_unreachable; i++) {
		if (strcmp(m->unreachable[i], id) == 0) {
			free(m->unreachable[i]);
			m->unreachable[i] = m->unreachable[--m->n_unreachable];
			return;
		}
	}
}

void mst_agent_free(struct mst_agent *a)
{
	if (a == NULL)
		return;
	free(a->id);
	free(a->version);
	mst_pb_free(a->info);
	px_resources_free(a->total);
	px_resources_free(a->used);
	px_resources_free(a->offered);
	free(a);
}

/* The agent's total: what it advertises, with the dynamic reservations and volumes it
 * checkpointed taking the place of the plain resources they were made from. */
static int agent_total(const Plexus__AgentInfo *info, Plexus__Resource *const *ckpt, size_t n_ckpt,
                       px_resources **out, char *err, size_t errlen)
{
	px_resources *total = NULL, *cp = NULL;
	int rv = px_resources_from_pb(info->resources, info->n_resources, &total, err, errlen);

	if (rv == PX_OK)
		rv = px_resources_from_pb(ckpt, n_ckpt, &cp, err, errlen);
	for (size_t i = 0; rv == PX_OK && cp && i < px_resources_size(cp); i++) {
		const struct px_resource *r = px_resources_at(cp, i);
		px_resources *one = px_resources_new(), *plain = NULL;
		if (one == NULL || px_resources_add_resource(one, r) != PX_OK ||
		    px_resources_pop_reservation(one, &plain) != PX_OK) {
			rv = PX_ENOMEM;
		} else if (px_resource_is_dynamic(r) && px_resources_contains(total, plain)) {
			px_resources_subtract(total, plain);
			rv = px_resources_add(total, one);
		}
		px_resources_free(one);
		px_resources_free(plain);
	}
	px_resources_free(cp);
	if (rv != PX_OK) {
		px_resources_free(total);
		return rv;
	}
	*out = total;
	return PX_OK;
}

static struct mst_agent *agent_new(struct master *m, const char *id, const Plexus__AgentInfo *info,
                                   px_resources *total, actor_pid pid, const char *version)
{
	struct mst_agent *a = calloc(1, sizeof(*a));
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;

	if (a == NULL) {
		px_resources_free(total);
		return NULL;
	}
	a->total = total;
	aid.value = (char *)id;
	/* The stored AgentInfo carries the id. */
	Plexus__AgentInfo tmp = *info;
	tmp.id = &aid;
	a->info = (void *)px_message_copy(&tmp.base);
	a->id = strdup(id);
	a->version = strdup(version ? version : "");
	a->used = px_resources_new();
	a->offered = px_resources_new();
	a->pid = pid;
	if (a->info == NULL || a->id == NULL || a->version == NULL || a->used == NULL ||
	    a->offered == NULL) {
		mst_agent_free(a);
		return NULL;
	}
	a->registered_time = mst_master_wall_time();
	/* An agent on a machine that is down comes (back) under maintenance. */
	a->maintenance = mst_machine_is_down(m, a);
	return a;
}

static void send_ping(actor_t *self, struct mst_agent *a)
{
	Plexus__Internal__PingAgentMessage ping = PLEXUS__INTERNAL__PING_AGENT_MESSAGE__INIT;

	ping.has_connected = true;
	ping.connected = true;
	actor_send_pb(self, a->pid, &ping.base);
	a->awaiting_pong = true;
}

static void agent_lost(actor_t *self, struct master *m, struct mst_agent *a);

static void ping_timeout(actor_t *self, void *arg)
{
	char *id = arg;

	if (self != NULL) {
		struct master *m = actor_state(self);
		struct mst_agent *a = mst_agent_find(m, id);
		if (a != NULL) {
			a->ping_timer = 0;
			if (a->awaiting_pong &&
			    ++a->ping_misses >= m->flags.max_agent_ping_timeouts) {
				actor_warn("master: agent %s missed %d pings", a->id,
				           a->ping_misses);
				agent_lost(self, m, a);
			} else {
				send_ping(self, a);
				char *again = strdup(a->id);
				if (again != NULL)
					a->ping_timer =
					    actor_delay(self, m->flags.agent_ping_timeout_ms,
					                ping_timeout, again);
			}
		}
	}
	free(id);
}

static void start_pings(actor_t *self, struct master *m, struct mst_agent *a)
{
	if (a->ping_timer) {
		actor_cancel(self, a->ping_timer);
		a->ping_timer = 0;
	}
	a->ping_misses = 0;
	send_ping(self, a);
	char *id = strdup(a->id);
	if (id != NULL)
		a->ping_timer = actor_delay(self, m->flags.agent_ping_timeout_ms, ping_timeout, id);
}

static void send_registered(actor_t *self, struct master *m, struct mst_agent *a, bool again)
{
	Plexus__MasterInfo *info = mst_master_info_new(m);
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__DurationInfo ping = PLEXUS__DURATION_INFO__INIT;
	int64_t total_ms = m->flags.agent_ping_timeout_ms * m->flags.max_agent_ping_timeouts;

	aid.value = a->id;
	ping.nanoseconds = total_ms * 1000000;
	if (again) {
		Plexus__Internal__AgentReregisteredMessage r =
		    PLEXUS__INTERNAL__AGENT_REREGISTERED_MESSAGE__INIT;
		r.agent_id = &aid;
		r.master_info = info;
		r.ping_timeout = &ping;
		actor_send_pb(self, a->pid, &r.base);
	} else {
		Plexus__Internal__AgentRegisteredMessage r =
		    PLEXUS__INTERNAL__AGENT_REGISTERED_MESSAGE__INIT;
		r.agent_id = &aid;
		r.master_info = info;
		r.ping_timeout = &ping;
		actor_send_pb(self, a->pid, &r.base);
	}
	mst_pb_free(info);
}

static void agent_connect(actor_t *self, struct master *m, struct mst_agent *a, actor_pid pid)
{
	if (!actor_pid_equal(a->pid, pid))
		actor_unlink(self, a->pid);
	a->pid = pid;
	agent_index_pid(m, a);
	a->connected = true;
	a->active = true;
	actor_link(self, pid);
	start_pings(self, m, a);
}

static const char *validate_agent(const Plexus__AgentInfo *info)
{
	if (info == NULL)
		return "no AgentInfo";
	if (info->hostname[0] == '\0')
		return "AgentInfo.hostname is empty";
	return NULL;
}

static void register_agent(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__RegisterAgentMessage *r = (const void *)msg;
	const char *bad = validate_agent(r->agent);
	char err[256];
	px_resources *total = NULL;

	if (bad == NULL &&
	    agent_total(r->agent, r->checkpointed_resources, r->n_checkpointed_resources, &total,
	                err, sizeof(err)) != PX_OK)
		bad = err;
	if (bad != NULL) {
		actor_warn("master: refusing agent registration from %s: %s", actor_pid_str(from),
		           bad);
		Plexus__Internal__ShutdownMessage sd = PLEXUS__INTERNAL__SHUTDOWN_MESSAGE__INIT;
		sd.message = (char *)bad;
		actor_send_pb(self, from, &sd.base);
		return;
	}
	struct mst_agent *a = mst_agent_find_pid(m, from);
	if (a != NULL && a->connected) {
		/* A retry of a registration that already went through. */
		px_resources_free(total);
		send_registered(self, m, a, false);
	mst_api_operator_agent_added(m, a);
		return;
	}
	char id[64];
	snprintf(id, sizeof(id), "%s-S%llu", m->id, (unsigned long long)m->next_agent++);
	a = agent_new(m, id, r->agent, total, from, r->version);
	if (a == NULL) {
		actor_error("master: out of memory registering an agent");
		return;
	}
	int rv = mst_registrar_admit(m->registrar, a->info);
	if (rv != 0) {
		/* Not durable, not admitted: the agent retries. */
		actor_error("master: cannot admit agent at %s: %s", actor_pid_str(from),
		            strerror(rv));
		mst_agent_free(a);
		return;
	}
	if (mst_alloc_agent_add(m->alloc, a->id, a->total, a->maintenance) != 0) {
		mst_registrar_remove(m->registrar, a->id);
		mst_agent_free(a);
		return;
	}
	if (agent_insert(m, a) != 0) {
		mst_alloc_agent_remove(m->alloc, a->id);
		mst_registrar_remove(m->registrar, a->id);
		mst_agent_free(a);
		return;
	}
	agent_connect(self, m, a, from);
	actor_counter_inc(m->metrics.slave_registrations);
	actor_info("master: registered agent %s at %s (%s)", a->id, actor_pid_str(from),
	           a->info->hostname);
	send_registered(self, m, a, false);
	/* The new agent is active and connected (agent_connect). Not mst_master_update_gauges:
	 * it walks every agent, which made registering 10,000 agents quadratic. */
	actor_gauge_add(m->metrics.slaves_active, 1);
	actor_gauge_add(m->metrics.slaves_connected, 1);
	mst_master_update_offer_gauges(m);
	mst_alloc_run(m->alloc);
}

/* Adds what a re-registering agent reports: frameworks the master does not know (it
 * restarted) and tasks it does not know. */
static void adopt_tasks(actor_t *self, struct master *m, struct mst_agent *a, actor_pid from,
                        const Plexus__Internal__ReregisterAgentMessage *r)
{
	for (size_t i = 0; i < r->n_frameworks; i++)
		mst_framework_recover(m, r->frameworks[i]);
	for (size_t i = 0; i < r->n_tasks; i++) {
		const Plexus__Task *t = r->tasks[i];
		struct mst_framework *fw = mst_framework_find(m, t->framework_id->value);
		if (fw == NULL && mst_framework_completed_find(m, t->framework_id->value) != NULL) {
			/* The framework was removed while the agent was away. */
			Plexus__Internal__ShutdownFrameworkMessage sd =
			    PLEXUS__INTERNAL__SHUTDOWN_FRAMEWORK_MESSAGE__INIT;
			sd.framework_id = t->framework_id;
			actor_send_pb(self, from, &sd.base);
			continue;
		}
		if (fw == NULL) {
			actor_warn("master: agent %s reports task %s of unknown framework %s",
			           a->id, t->task_id->value, t->framework_id->value);
			continue;
		}
		if (px_task_state_is_terminal(t->state) ||
		    mst_task_find(fw, t->task_id->value) != NULL)
			continue;
		mst_task_add_reported(m, fw, a, t);
	}
}

/* After a partition: tasks of frameworks that are not PARTITION_AWARE were reported
 * lost already, so the agent is told to shut those frameworks down (Mesos does). */
static void shutdown_partition_unaware(actor_t *self, struct master *m, actor_pid to,
                                       const Plexus__Internal__ReregisterAgentMessage *r)
{
	for (size_t i = 0; i < r->n_tasks; i++) {
		struct mst_framework *fw = mst_framework_find(m, r->tasks[i]->framework_id->value);
		if (fw != NULL && fw->partition_aware)
			continue;
		Plexus__Internal__ShutdownFrameworkMessage sd =
		    PLEXUS__INTERNAL__SHUTDOWN_FRAMEWORK_MESSAGE__INIT;
		sd.framework_id = r->tasks[i]->framework_id;
		actor_send_pb(self, to, &sd.base);
	}
}

static void reregister_agent(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ReregisterAgentMessage *r = (const void *)msg;
	const char *bad = validate_agent(r->agent);
	char err[256];
	px_resources *total = NULL;

	if (bad == NULL && (r->agent->id == NULL || r->agent->id->value[0] == '\0'))
		bad = "re-registration without an agent id";
	if (bad == NULL &&
	    agent_total(r->agent, r->checkpointed_resources, r->n_checkpointed_resources, &total,
	                err, sizeof(err)) != PX_OK)
		bad = err;
	if (bad != NULL) {
		actor_warn("master: refusing agent re-registration from %s: %s",
		           actor_pid_str(from), bad);
		Plexus__Internal__ShutdownMessage sd = PLEXUS__INTERNAL__SHUTDOWN_MESSAGE__INIT;
		sd.message = (char *)bad;
		actor_send_pb(self, from, &sd.base);
		return;
	}
	const char *id = r->agent->id->value;
	struct mst_agent *a = mst_agent_find(m, id);
	if (a != NULL) {
		/* Known (it restarted, or its connection broke): take the new PID. */
		px_resources_free(total);
		a->reregistered_time = mst_master_wall_time();
		agent_connect(self, m, a, from);
		mst_alloc_agent_activate(m->alloc, a->id, true);
		adopt_tasks(self, m, a, from, r);
	} else {
		if (mst_agent_is_unreachable(m, id)) {
			shutdown_partition_unaware(self, m, from, r);
			unreachable_remove(m, id);
		}
		a = agent_new(m, id, r->agent, total, from, r->version);
		if (a == NULL) {
			actor_error("master: out of memory re-registering an agent");
			return;
		}
		int rv = mst_registrar_find(m->registrar, id)
		             ? 0
		             : mst_registrar_admit(m->registrar, a->info);
		if (rv != 0) {
			actor_error("master: cannot admit agent %s: %s", id, strerror(rv));
			mst_agent_free(a);
			return;
		}
		a->reregistered_time = a->registered_time;
		if (agent_insert(m, a) != 0) {
			mst_agent_free(a);
			return;
		}
		/* The allocator knows the agent before the tasks that use part of it. */
		if (mst_alloc_agent_add(m->alloc, a->id, a->total, a->maintenance) != 0)
			actor_error("master: allocator refused agent %s", a->id);
		adopt_tasks(self, m, a, from, r);
		agent_connect(self, m, a, from);
	}
	actor_counter_inc(m->metrics.slave_reregistrations);
	actor_info("master: re-registered agent %s at %s", a->id, actor_pid_str(from));
	send_registered(self, m, a, true);
	mst_api_operator_agent_added(m, a);
	mst_master_update_gauges(m);
	mst_alloc_run(m->alloc);
}

/* Removes an agent: its tasks end (lost or unreachable after a health check failure,
 * lost or gone when it left cleanly) and frameworks hear of it. */
static void agent_remove(actor_t *self, struct master *m, struct mst_agent *a, bool unreachable,
                         const char *why)
{
	mst_offers_rescind(self, m, NULL, a->id);
	for (struct mst_framework *fw = m->frameworks; fw; fw = fw->next) {
		struct mst_task **pp = &fw->tasks;
		while (*pp) {
			struct mst_task *t = *pp;
			if (strcmp(t->agent_id, a->id) != 0) {
				pp = &t->next;
				continue;
			}
			Plexus__TaskState st = PLEXUS__TASK_STATE__TASK_LOST;
			if (fw->partition_aware)
				st = unreachable ? PLEXUS__TASK_STATE__TASK_UNREACHABLE
				                 : PLEXUS__TASK_STATE__TASK_GONE;
			mst_task_set_state(m, t, st);
			mst_status_update_send(self, m, fw, t->id, a->id, t->executor_id, st,
			                       PLEXUS__TASK_STATUS__REASON__REASON_AGENT_REMOVED,
			                       why);
			mst_task_complete(m, fw, t); /* unlinks t, so *pp is the next one */
		}
	}
	Plexus__Internal__LostAgentMessage lost = PLEXUS__INTERNAL__LOST_AGENT_MESSAGE__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = a->id;
	lost.agent_id = &aid;
	for (struct mst_framework *fw = m->frameworks; fw; fw = fw->next)
		if (fw->connected)
			actor_send_pb(self, fw->pid, &lost.base);
	mst_api_operator_agent_removed(m, a->id);

	mst_alloc_agent_remove(m->alloc, a->id);
	if (unreachable)
		unreachable_add(m, a->id);
	mst_registrar_remove(m->registrar, a->id);
	if (a->ping_timer)
		actor_cancel(self, a->ping_timer);
	actor_unlink(self, a->pid);
	struct mst_agent **pp = &m->agents;
	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	mst_idmap_del(&m->agent_index, a->id);
	if (mst_idmap_get(&m->agents_by_pid, a->pid_key) == a)
		mst_idmap_del(&m->agents_by_pid, a->pid_key);
	actor_counter_inc(m->metrics.slave_removals);
	actor_info("master: removed agent %s: %s", a->id, why);
	mst_agent_free(a);
	mst_master_update_gauges(m);
}

static void agent_lost(actor_t *self, struct master *m, struct mst_agent *a)
{
	agent_remove(self, m, a, true, "Agent is unreachable: health check timed out");
}

static void unregister_agent(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__UnregisterAgentMessage *r = (const void *)msg;
	struct mst_agent *a = r->agent_id ? mst_agent_find(m, r->agent_id->value) : NULL;

	if (a == NULL || !actor_pid_equal(a->pid, from)) {
		actor_warn("master: ignoring unregistration of agent %s from %s",
		           r->agent_id ? r->agent_id->value : "(none)", actor_pid_str(from));
		actor_counter_inc(m->metrics.dropped_messages);
		return;
	}
	agent_remove(self, m, a, false, "Agent unregistered");
}

static void pong(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	struct mst_agent *a = mst_agent_find_pid(m, from);

	if (a == NULL) {
		actor_debug("master: pong from unknown %s", actor_pid_str(from));
		return;
	}
	a->awaiting_pong = false;
	a->ping_misses = 0;
}

bool mst_agent_exited(actor_t *self, struct master *m, actor_pid pid)
{
	struct mst_agent *a = mst_agent_find_pid(m, pid);

	if (a == NULL || !a->connected)
		return a != NULL;
	actor_warn("master: agent %s at %s disconnected", a->id, actor_pid_str(pid));
	a->connected = false;
	a->active = false;
	mst_alloc_agent_activate(m->alloc, a->id, false);
	mst_offers_rescind(self, m, NULL, a->id);
	return true;
}

void mst_agents_reregister_timeout(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct master *m = actor_state(self);
	m->reregister_timer = 0;
	for (size_t i = mst_registrar_count(m->registrar); i-- > 0;) {
		const char *id = mst_registrar_at(m->registrar, i)->id->value;
		if (mst_agent_find(m, id) != NULL)
			continue;
		actor_warn("master: agent %s did not re-register in time; it is lost", id);
		unreachable_add(m, id);
		mst_registrar_remove(m->registrar, id);
		actor_counter_inc(m->metrics.slave_removals);
	}
	mst_master_update_gauges(m);
}

void mst_agents_install(actor_t *self)
{
	actor_install_pb(self, &plexus__internal__register_agent_message__descriptor,
	                 register_agent, NULL);
	actor_install_pb(self, &plexus__internal__reregister_agent_message__descriptor,
	                 reregister_agent, NULL);
	actor_install_pb(self, &plexus__internal__unregister_agent_message__descriptor,
	                 unregister_agent, NULL);
	actor_install_pb(self, &plexus__internal__pong_agent_message__descriptor, pong, NULL);
}
