/* registration.c — the agent and its master: finding the master (a PID, or its HTTP
 * address through common/master_discovery.h), registering (RegisterAgentMessage) and
 * registering again with what runs here after the master came back
 * (ReregisterAgentMessage), answering pings, and noticing a lost master (its `exited`,
 * or no ping within the ping timeout). Retries back off from --registration-backoff
 * doubling up to a minute, on the runtime clock. */
#include <stdlib.h>
#include <string.h>

#include "agent/checkpoint.h"
#include "agent/internal.h"
#include "common/master_discovery.h"

#define BACKOFF_MAX_MS          60000
#define PING_TIMEOUT_DEFAULT_MS 75000 /* Mesos: 15 s times 5 missed pings */

static void detect(struct agent *a);
static void send_registration(struct agent *a);

bool agent_from_master(struct agent *a, actor_pid from, const char *what)
{
	if (a->master_known && actor_pid_equal(from, a->master))
		return true;
	actor_warn("agent %s: ignoring %s from %s, which is not the master", a->pid.id, what,
	           actor_pid_str(from));
	actor_counter_inc(a->m.invalid_messages);
	return false;
}

/* ---- timers ----------------------------------------------------------------------- */

static void cancel(struct agent *a, uint64_t *timer)
{
	if (*timer != 0) {
		actor_cancel(a->self, *timer);
		*timer = 0;
	}
}

/* A timer callback's arg: which timer it was, so a cancelled one that had already fired
 * does nothing. */
struct tick {
	uint64_t id;
};

static uint64_t arm(struct agent *a, int64_t ms, actor_fn fn)
{
	struct tick *t = malloc(sizeof(*t));
	if (t == NULL) {
		actor_error("agent: out of memory arming a timer");
		return 0;
	}
	t->id = actor_delay(a->self, ms, fn, t);
	return t->id;
}

static bool fired(actor_t *self, void *arg, uint64_t *timer)
{
	struct tick *t = arg;
	uint64_t id = t->id;
	free(t);
	if (self == NULL || *timer != id)
		return false;
	*timer = 0;
	return true;
}

static void next_backoff(struct agent *a)
{
	a->backoff_cur = a->backoff_cur == 0 ? a->backoff_ms : a->backoff_cur * 2;
	if (a->backoff_cur > BACKOFF_MAX_MS)
		a->backoff_cur = BACKOFF_MAX_MS;
}

static void retry_cb(actor_t *self, void *arg)
{
	struct agent *a = self ? actor_state(self) : NULL;
	if (!fired(self, arg, a ? &a->register_timer : NULL))
		return;
	if (a->conn == AGENT_REGISTERED || a->stopping)
		return;
	if (a->master_known && a->conn == AGENT_REGISTERING) {
		send_registration(a);
		return;
	}
	detect(a);
}

static void ping_timeout_cb(actor_t *self, void *arg)
{
	struct agent *a = self ? actor_state(self) : NULL;
	if (!fired(self, arg, a ? &a->ping_timer : NULL))
		return;
	actor_warn("agent %s: no ping from the master for %lld ms; finding it again", a->pid.id,
	           (long long)a->ping_timeout_ms);
	agent_registration_exited(a, a->master);
}

static void arm_ping_watchdog(struct agent *a)
{
	cancel(a, &a->ping_timer);
	a->ping_timer =
	    arm(a, a->ping_timeout_ms > 0 ? a->ping_timeout_ms : PING_TIMEOUT_DEFAULT_MS,
	        ping_timeout_cb);
}

/* ---- (re-)registration ------------------------------------------------------------ */

static Plexus__Task *task_pb(struct agent *a, struct agent_framework *fw, struct agent_executor *ex,
                             struct agent_task *t)
{
	Plexus__Task task = PLEXUS__TASK__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;

	fid.value = fw->id;
	aid.value = a->agent_id;
	eid.value = ex->id;
	task.name = t->info->name;
	task.task_id = t->info->task_id;
	task.framework_id = &fid;
	if (!ex->command)
		task.executor_id = &eid;
	task.agent_id = &aid;
	task.state = t->state;
	task.resources = t->info->resources;
	task.n_resources = t->info->n_resources;
	task.labels = t->info->labels;
	return (void *)px_message_copy(&task.base);
}

static void send_reregistration(struct agent *a, Plexus__AgentInfo *info)
{
	Plexus__Internal__ReregisterAgentMessage m =
	    PLEXUS__INTERNAL__REREGISTER_AGENT_MESSAGE__INIT;
	size_t nex = 0, ntasks = 0, nfw = 0;

	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next) {
		nfw++;
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next) {
			nex++;
			for (struct agent_task *t = ex->queued; t; t = t->next)
				ntasks++;
			for (struct agent_task *t = ex->launched; t; t = t->next)
				ntasks++;
		}
	}
	m.agent = info;
	m.version = (char *)"0.1.0";
	if (a->checkpointed != NULL) {
		m.checkpointed_resources = a->checkpointed->resources;
		m.n_checkpointed_resources = a->checkpointed->n_resources;
	}
	m.executor_infos = calloc(nex + 1, sizeof(*m.executor_infos));
	m.tasks = calloc(ntasks + 1, sizeof(*m.tasks));
	m.frameworks = calloc(nfw + 1, sizeof(*m.frameworks));
	if (m.executor_infos == NULL || m.tasks == NULL || m.frameworks == NULL)
		goto out;
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next) {
		if (fw->info != NULL)
			m.frameworks[m.n_frameworks++] = fw->info;
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next) {
			/* Command executors are the agent's business; Mesos does not report them.
			 */
			if (!ex->command)
				m.executor_infos[m.n_executor_infos++] = ex->info;
			struct agent_task *lists[] = {ex->queued, ex->launched};
			for (int l = 0; l < 2; l++)
				for (struct agent_task *t = lists[l]; t; t = t->next) {
					Plexus__Task *pb = task_pb(a, fw, ex, t);
					if (pb != NULL)
						m.tasks[m.n_tasks++] = pb;
				}
		}
	}
	actor_send_pb(a->self, a->master, &m.base);
out:
	for (size_t i = 0; i < m.n_tasks; i++)
		agent_pb_free(m.tasks[i]);
	free(m.tasks);
	free(m.executor_infos);
	free(m.frameworks);
}

static void send_registration(struct agent *a)
{
	Plexus__AgentInfo info;
	Plexus__Resource **res;
	size_t nres;
	Plexus__AgentID id = PLEXUS__AGENT_ID__INIT;

	agent_fill_info(a, &info, &res, &nres);
	if (a->agent_id != NULL) {
		id.value = a->agent_id;
		info.id = &id;
		actor_info("agent %s: registering again with %s as %s", a->pid.id,
		           actor_pid_str(a->master), a->agent_id);
		send_reregistration(a, &info);
	} else {
		Plexus__Internal__RegisterAgentMessage m =
		    PLEXUS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
		m.agent = &info;
		m.version = (char *)"0.1.0";
		actor_info("agent %s: registering with %s", a->pid.id, actor_pid_str(a->master));
		actor_send_pb(a->self, a->master, &m.base);
	}
	px_pb_resources_free(res, nres);
	a->conn = AGENT_REGISTERING;
	next_backoff(a);
	cancel(a, &a->register_timer);
	a->register_timer = arm(a, a->backoff_cur, retry_cb);
}

/* ---- finding the master ----------------------------------------------------------- */

static void detect_cont(actor_t *self, actor_future *f, void *arg)
{
	if (self == NULL)
		return;
	struct agent *a = actor_state(self);
	if (a->stopping || a->conn == AGENT_REGISTERED)
		return;
	if (actor_future_state(f) != ACTOR_FUTURE_READY) {
		actor_warn("agent %s: cannot find the master at '%s': %s; trying again", a->pid.id,
		           a->master_text,
		           actor_future_why(f) ? actor_future_why(f)
		                               : actor_strerror(actor_future_error(f)));
		next_backoff(a);
		cancel(a, &a->register_timer);
		a->register_timer = arm(a, a->backoff_cur, retry_cb);
		return;
	}
	const actor_pid *pid = actor_future_value(f);
	if (a->master_known && a->linked && !actor_pid_equal(*pid, a->master)) {
		actor_unlink(self, a->master);
		a->linked = false;
	}
	a->master = *pid;
	a->master_known = true;
	if (!a->linked) {
		actor_link(self, a->master);
		a->linked = true;
	}
	send_registration(a);
}

static void detect(struct agent *a)
{
	actor_future *f = px_master_discover(a->master_text, 5000);
	if (f == NULL) {
		next_backoff(a);
		cancel(a, &a->register_timer);
		a->register_timer = arm(a, a->backoff_cur, retry_cb);
		return;
	}
	actor_future_on_any(f, a->self, detect_cont, NULL);
	actor_future_unref(f);
}

/* ---- handlers --------------------------------------------------------------------- */

static void registered(struct agent *a, const Plexus__AgentID *id, const Plexus__MasterInfo *master,
                       const Plexus__DurationInfo *ping, bool again)
{
	if (id == NULL || id->value == NULL || *id->value == '\0') {
		actor_warn("agent %s: ignoring a registration answer without an agent id",
		           a->pid.id);
		return;
	}
	if (a->conn == AGENT_REGISTERED) {
		actor_debug("agent %s: already registered; ignoring a duplicate answer", a->pid.id);
		return;
	}
	if (again && a->agent_id != NULL && strcmp(a->agent_id, id->value) != 0) {
		actor_error("agent %s: the master re-registered us as %s, but we are %s", a->pid.id,
		            id->value, a->agent_id);
		return;
	}
	if (a->agent_id == NULL && (a->agent_id = strdup(id->value)) == NULL)
		return;
	agent_pb_free(a->master_info);
	a->master_info = master ? (void *)px_message_copy(&master->base) : NULL;
	a->ping_timeout_ms = ping != NULL ? ping->nanoseconds / 1000000 : 0;
	a->conn = AGENT_REGISTERED;
	a->backoff_cur = 0;
	cancel(a, &a->register_timer);
	actor_gauge_add(a->m.registered, 1);
	actor_info("agent %s: %s with %s as %s", a->pid.id,
	           again ? "registered again" : "registered", actor_pid_str(a->master),
	           a->agent_id);
	arm_ping_watchdog(a);
	agent_checkpoint_agent(a); /* a restarted agent comes back under this id */
	/* Updates held while there was no master go out now, oldest first per task. */
	sum_resume(&a->sum, a->self);
}

static void on_registered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__AgentRegisteredMessage *m = (const void *)msg;

	if (agent_from_master(a, from, "AgentRegisteredMessage"))
		registered(a, m->agent_id, m->master_info, m->ping_timeout, false);
}

static void on_reregistered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__AgentReregisteredMessage *m = (const void *)msg;

	if (agent_from_master(a, from, "AgentReregisteredMessage"))
		registered(a, m->agent_id, m->master_info, m->ping_timeout, true);
}

static void on_ping(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__PingAgentMessage *m = (const void *)msg;
	Plexus__Internal__PongAgentMessage pong = PLEXUS__INTERNAL__PONG_AGENT_MESSAGE__INIT;

	if (!agent_from_master(a, from, "PingAgentMessage"))
		return;
	actor_send_pb(self, from, &pong.base);
	if (a->conn != AGENT_REGISTERED)
		return;
	arm_ping_watchdog(a);
	if (m->has_connected && !m->connected) {
		/* The master does not know us (it failed over, or removed us): register again. */
		actor_info("agent %s: the master says we are not connected; registering again",
		           a->pid.id);
		agent_registration_exited(a, a->master);
	}
}

static void on_shutdown(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__ShutdownMessage *m = (const void *)msg;

	if (!agent_from_master(a, from, "ShutdownMessage"))
		return;
	actor_warn("agent %s: the master removed this agent (%s); killing every executor and "
	           "registering anew",
	           a->pid.id, m->message ? m->message : "no reason given");
	for (struct agent_framework *fw = a->frameworks, *next; fw != NULL; fw = next) {
		next = fw->next;
		agent_shutdown_framework(a, fw);
	}
	if (a->conn == AGENT_REGISTERED)
		actor_gauge_add(a->m.registered, -1);
	agent_checkpoint_forget_agent(a);
	free(a->agent_id);
	a->agent_id = NULL;
	a->conn = AGENT_DISCONNECTED;
	cancel(a, &a->ping_timer);
	sum_pause(&a->sum, self);
	a->backoff_cur = 0;
	cancel(a, &a->register_timer);
	a->register_timer = arm(a, a->backoff_ms, retry_cb);
}

/* Dynamic reservations and persistent volumes the master applied to this agent. Kept in
 * memory (checkpointing to disk comes with recovery) and reported on re-registration. */
static void on_checkpoint_resources(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                    void *arg)
{
	struct agent *a = arg;

	if (!agent_from_master(a, from, "CheckpointResourcesMessage"))
		return;
	agent_pb_free(a->checkpointed);
	a->checkpointed = (void *)px_message_copy(msg);
}

void agent_registration_install(struct agent *a)
{
	actor_t *self = a->self;

	actor_install_pb(self, &plexus__internal__checkpoint_resources_message__descriptor,
	                 on_checkpoint_resources, a);
	actor_install_pb(self, &plexus__internal__agent_registered_message__descriptor,
	                 on_registered, a);
	actor_install_pb(self, &plexus__internal__agent_reregistered_message__descriptor,
	                 on_reregistered, a);
	actor_install_pb(self, &plexus__internal__ping_agent_message__descriptor, on_ping, a);
	actor_install_pb(self, &plexus__internal__shutdown_message__descriptor, on_shutdown, a);
}

void agent_registration_start(struct agent *a)
{
	a->conn = AGENT_DISCONNECTED;
	detect(a);
}

void agent_registration_exited(struct agent *a, actor_pid who)
{
	if (!a->master_known || !actor_pid_equal(who, a->master))
		return;
	actor_warn("agent %s: lost the master %s; finding it again", a->pid.id, actor_pid_str(who));
	bool was_registered = a->conn == AGENT_REGISTERED;
	if (was_registered)
		actor_gauge_add(a->m.registered, -1);
	a->conn = AGENT_DISCONNECTED;
	if (a->linked) {
		actor_unlink(a->self, a->master);
		a->linked = false;
	}
	cancel(a, &a->ping_timer);
	sum_pause(&a->sum, a->self);
	/* The first attempt comes soon; a master that stays down pushes it out further. */
	if (was_registered)
		a->backoff_cur = 0;
	cancel(a, &a->register_timer);
	next_backoff(a);
	a->register_timer = arm(a, a->backoff_cur, retry_cb);
}

void agent_registration_stop(struct agent *a)
{
	a->stopping = true;
	cancel(a, &a->register_timer);
	cancel(a, &a->ping_timer);
}
