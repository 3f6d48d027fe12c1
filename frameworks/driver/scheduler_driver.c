/* scheduler_driver.c — the scheduler driver: an actor that registers a framework with
 * the master and turns the master's messages into the scheduler's callbacks.
 *
 * Threads: the public calls may come from anywhere. The driver's status (and the wake
 * up of join) sits under a mutex; `aborted` is an atomic so that handlers already
 * queued see an abort at once, as Mesos's driver does. Everything else (connection,
 * framework id, saved offers) is touched only inside the actor: calls made elsewhere
 * are packed into a `struct sched_call` and run inside it. */
#include "plexus/scheduler.h"

#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/actor.h"
#include "actor/error.h"
#include "actor/future.h"
#include "actor/log.h"
#include "actor/pb.h"
#include "actor/runtime.h"
#include "common/master_discovery.h"
#include "common/resources.h"
#include "frameworks/driver/driver_util.h"
#include "plexus/message.h"
#include "plexus/util.h"
#include "proto/internal.pb-c.h"

#define DEFAULT_BACKOFF_FACTOR_MS 2000
#define DEFAULT_BACKOFF_MAX_MS    60000

/* An offer or an agent the driver has heard of, with the agent's PID (from the
 * offer's pids[]), so that framework messages can go straight to the agent. */
struct saved {
	char *key;      /* offer id or agent id */
	char *agent_id; /* for offers: the agent the offer is on */
	actor_pid pid;
	bool has_pid;
};

struct saved_list {
	struct saved *v;
	size_t n, cap;
};

struct px_scheduler_driver {
	px_scheduler_callbacks cb;
	void *arg;
	px_scheduler_options opts;
	char *master_spec;
	char name[ACTOR_PID_ID_MAX + 1];
	actor_def def; /* outlives the actor: it names it "scheduler-<uuid>" */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum px_driver_status status; /* under mu */
	bool spawned;                 /* under mu */
	actor_pid pid;                /* set once, under mu, before the actor runs */
	atomic_bool aborted;          /* stopped or aborted: handlers ignore what still arrives */

	/* Inside the actor only. */
	Plexus__FrameworkInfo *framework; /* owned copy; id set once registered */
	bool failover;                    /* the next re-registration replaces a scheduler */
	bool connected;
	bool has_master;
	actor_pid master;
	int64_t backoff_ms;   /* bound of the next retry delay */
	uint64_t retry_timer; /* 0 when no retry is scheduled */
	struct saved_list offers;
	struct saved_list agents;
	bool owns_runtime; /* start initialised the runtime: free finalises it */
};

/* Whether a master spec names an actor of this very OS process (a PID with this
 * runtime's address), which needs no network transport. */
static bool master_in_process(const char *spec)
{
	actor_pid pid;
	if (!px_master_spec_is_pid(spec) || actor_pid_parse(spec, &pid) != 0)
		return false;
	return pid.ip == actor_runtime_ip() && pid.port == actor_runtime_port();
}

/* ---- small helpers --------------------------------------------------------------- */

static void saved_free(struct saved *s)
{
	free(s->key);
	free(s->agent_id);
}

static struct saved *saved_find(struct saved_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	return NULL;
}

static void saved_remove(struct saved_list *l, const char *key)
{
	struct saved *s = saved_find(l, key);
	if (s == NULL)
		return;
	saved_free(s);
	*s = l->v[--l->n];
}

static void saved_put(struct saved_list *l, const char *key, const char *agent_id,
                      const actor_pid *pid)
{
	struct saved *s = saved_find(l, key);
	if (s == NULL) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct saved *v = realloc(l->v, cap * sizeof(*v));
			if (v == NULL)
				return; /* only an optimisation is lost: messages go via the master
				         */
			l->v = v;
			l->cap = cap;
		}
		s = &l->v[l->n];
		memset(s, 0, sizeof(*s));
		s->key = strdup(key);
		if (s->key == NULL)
			return;
		l->n++;
	}
	free(s->agent_id);
	s->agent_id = agent_id ? strdup(agent_id) : NULL;
	s->has_pid = pid != NULL;
	if (pid != NULL)
		s->pid = *pid;
}

static void saved_clear(struct saved_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		saved_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static enum px_driver_status status_get(px_scheduler_driver *d)
{
	pthread_mutex_lock(&d->mu);
	enum px_driver_status s = d->status;
	pthread_mutex_unlock(&d->mu);
	return s;
}

/* Whether a message from `from` may be handled: the driver runs and `from` is the
 * master it registered with. */
static bool from_master(px_scheduler_driver *d, actor_pid from, const char *what)
{
	if (atomic_load(&d->aborted)) {
		actor_debug("scheduler driver: ignoring %s: the driver is aborted", what);
		return false;
	}
	if (!d->has_master || !actor_pid_equal(from, d->master)) {
		actor_warn("scheduler driver: ignoring %s from %s, which is not the master", what,
		           actor_pid_str(from));
		return false;
	}
	return true;
}

static bool same_framework(px_scheduler_driver *d, const Plexus__FrameworkID *id)
{
	return id != NULL && id->value != NULL && d->framework->id != NULL &&
	       strcmp(id->value, d->framework->id->value) == 0;
}

/* ---- registration ---------------------------------------------------------------- */

static void attempt_registration(actor_t *self, px_scheduler_driver *d);

static void retry_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	px_scheduler_driver *d = actor_state(self);
	d->retry_timer = 0;
	attempt_registration(self, d);
}

/* Schedules the next attempt after a random delay in [0, backoff], then doubles the
 * bound up to its maximum (Mesos's reliable registration). */
static void schedule_retry(actor_t *self, px_scheduler_driver *d)
{
	if (d->retry_timer != 0 || d->connected || atomic_load(&d->aborted))
		return;
	int64_t delay = px_random_upto(d->backoff_ms);
	d->retry_timer = actor_delay(self, delay, retry_cb, NULL);
	d->backoff_ms *= 2;
	if (d->backoff_ms > d->opts.backoff_max_ms)
		d->backoff_ms = d->opts.backoff_max_ms;
}

static void send_registration(actor_t *self, px_scheduler_driver *d)
{
	if (d->framework->id == NULL) {
		Plexus__Internal__RegisterFrameworkMessage m =
		    PLEXUS__INTERNAL__REGISTER_FRAMEWORK_MESSAGE__INIT;
		m.framework = d->framework;
		actor_info("scheduler driver: registering framework '%s' with %s",
		           d->framework->name, actor_pid_str(d->master));
		actor_send_pb(self, d->master, &m.base);
	} else {
		Plexus__Internal__ReregisterFrameworkMessage m =
		    PLEXUS__INTERNAL__REREGISTER_FRAMEWORK_MESSAGE__INIT;
		m.framework = d->framework;
		m.has_failover = true;
		m.failover = d->failover;
		actor_info("scheduler driver: re-registering framework %s with %s (failover %s)",
		           d->framework->id->value, actor_pid_str(d->master),
		           d->failover ? "true" : "false");
		actor_send_pb(self, d->master, &m.base);
	}
}

/* The master was found (or not): link to it and send the registration. */
static void discovered(actor_t *self, actor_future *f, void *arg)
{
	if (self == NULL)
		return;
	px_scheduler_driver *d = actor_state(self);
	if (d->connected || atomic_load(&d->aborted))
		return;
	if (actor_future_state(f) != ACTOR_FUTURE_READY) {
		actor_warn("scheduler driver: master not found: %s",
		           actor_future_why(f) ? actor_future_why(f)
		                               : actor_strerror(actor_future_error(f)));
		return; /* the retry timer is running */
	}
	const actor_pid *pid = actor_future_value(f);
	if (d->has_master && !actor_pid_equal(*pid, d->master))
		actor_unlink(self, d->master);
	d->master = *pid;
	d->has_master = true;
	actor_link(self, d->master);
	send_registration(self, d);
}

/* One attempt: find the master afresh (its PID may have changed), register, and
 * schedule the next attempt in case no answer comes. */
static void attempt_registration(actor_t *self, px_scheduler_driver *d)
{
	if (d->connected || atomic_load(&d->aborted))
		return;
	actor_future *f = px_master_discover(d->master_spec, d->opts.discovery_timeout_ms);
	actor_future_on_any(f, self, discovered, NULL);
	actor_future_unref(f);
	schedule_retry(self, d);
}

static void now_connected(actor_t *self, px_scheduler_driver *d, actor_pid master)
{
	d->connected = true;
	d->failover = false;
	d->backoff_ms = d->opts.backoff_factor_ms;
	if (d->retry_timer != 0) {
		actor_cancel(self, d->retry_timer);
		d->retry_timer = 0;
	}
}

static void on_registered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__FrameworkRegisteredMessage *m = (const void *)msg;
	if (!from_master(d, from, "FrameworkRegisteredMessage"))
		return;
	if (d->connected) {
		actor_debug("scheduler driver: already registered; ignoring a late answer");
		return;
	}
	if (m->framework_id == NULL || m->framework_id->value == NULL) {
		actor_warn("scheduler driver: FrameworkRegisteredMessage without a framework id");
		return;
	}
	Plexus__FrameworkID *id = (Plexus__FrameworkID *)px_message_copy(&m->framework_id->base);
	if (id == NULL) {
		actor_error("scheduler driver: out of memory for the framework id");
		return;
	}
	if (d->framework->id != NULL)
		protobuf_c_message_free_unpacked(&d->framework->id->base, NULL);
	d->framework->id = id;
	now_connected(self, d, from);
	actor_info("scheduler driver: framework registered with id %s", id->value);
	if (d->cb.registered != NULL)
		d->cb.registered(d, d->framework->id, m->master_info, d->arg);
}

static void on_reregistered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__FrameworkReregisteredMessage *m = (const void *)msg;
	if (!from_master(d, from, "FrameworkReregisteredMessage"))
		return;
	if (d->connected) {
		actor_debug("scheduler driver: already re-registered; ignoring a late answer");
		return;
	}
	if (!same_framework(d, m->framework_id)) {
		actor_warn(
		    "scheduler driver: re-registered under framework id %s, not ours; ignored",
		    m->framework_id && m->framework_id->value ? m->framework_id->value : "(none)");
		return;
	}
	now_connected(self, d, from);
	actor_info("scheduler driver: framework %s re-registered", d->framework->id->value);
	if (d->cb.reregistered != NULL)
		d->cb.reregistered(d, m->master_info, d->arg);
}

/* exited: the master (or a PID we no longer care about) is gone. */
static void on_exited(actor_t *self, actor_pid who)
{
	px_scheduler_driver *d = actor_state(self);
	if (!d->has_master || !actor_pid_equal(who, d->master) || atomic_load(&d->aborted))
		return;
	/* The master's PID stays the one answers are accepted from: a master that comes
	 * back under the same PID may answer a registration sent before this exited. */
	saved_clear(&d->offers);
	saved_clear(&d->agents);
	if (d->connected) {
		d->connected = false;
		actor_warn("scheduler driver: master %s exited; finding it again",
		           actor_pid_str(who));
		if (d->cb.disconnected != NULL)
			d->cb.disconnected(d, d->arg);
		attempt_registration(self, d);
	} else {
		schedule_retry(self, d);
	}
}

/* ---- master -> driver ------------------------------------------------------------ */

static void on_offers(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__ResourceOffersMessage *m = (const void *)msg;
	if (!from_master(d, from, "ResourceOffersMessage") || !d->connected)
		return;
	for (size_t i = 0; i < m->n_offers; i++) {
		const Plexus__Offer *o = m->offers[i];
		if (o->id == NULL || o->id->value == NULL)
			continue;
		actor_pid agent;
		bool has_pid = i < m->n_pids && actor_pid_parse(m->pids[i], &agent) == 0;
		const char *agent_id = o->agent_id ? o->agent_id->value : NULL;
		saved_put(&d->offers, o->id->value, agent_id, has_pid ? &agent : NULL);
	}
	if (d->cb.resource_offers != NULL)
		d->cb.resource_offers(d, m->offers, m->n_offers, d->arg);
}

static void on_rescind(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__RescindResourceOfferMessage *m = (const void *)msg;
	if (!from_master(d, from, "RescindResourceOfferMessage") || !d->connected)
		return;
	if (m->offer_id == NULL || m->offer_id->value == NULL)
		return;
	saved_remove(&d->offers, m->offer_id->value);
	if (d->cb.offer_rescinded != NULL)
		d->cb.offer_rescinded(d, m->offer_id, d->arg);
}

static void acknowledge(actor_t *self, px_scheduler_driver *d, const Plexus__AgentID *agent_id,
                        const Plexus__TaskID *task_id, ProtobufCBinaryData uuid)
{
	Plexus__Internal__StatusUpdateAcknowledgementMessage ack =
	    PLEXUS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
	ack.agent_id = (Plexus__AgentID *)agent_id;
	ack.task_id = (Plexus__TaskID *)task_id;
	ack.has_uuid = true;
	ack.uuid = uuid;
	px_pb_send_with(self, d->master, &ack.base, "framework_id", &d->framework->id->base);
}

static void on_status_update(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__StatusUpdateMessage *m = (const void *)msg;
	if (!from_master(d, from, "StatusUpdateMessage"))
		return;
	if (!d->connected) {
		actor_debug("scheduler driver: ignoring a status update while disconnected");
		return;
	}
	const Plexus__Internal__StatusUpdate *u = m->update;
	if (u == NULL || u->status == NULL || u->status->task_id == NULL) {
		actor_warn("scheduler driver: StatusUpdateMessage without a task status; dropped");
		return;
	}
	if (!same_framework(d, u->framework_id)) {
		actor_warn("scheduler driver: status update for another framework; dropped");
		return;
	}
	/* Only updates that came from an agent (pid set) and carry a uuid need an
	 * acknowledgement; the master's own updates (reconciliation, lost tasks) do not. */
	bool needs_ack = u->has_uuid && u->uuid.len > 0 && m->pid != NULL && m->pid[0] != '\0';
	Plexus__TaskStatus status = *u->status; /* shallow: only the uuid fields change */
	status.has_uuid = needs_ack;
	status.uuid = needs_ack ? u->uuid : (ProtobufCBinaryData){0, NULL};
	if (status.agent_id == NULL)
		status.agent_id = u->agent_id;
	if (d->cb.status_update != NULL)
		d->cb.status_update(d, &status, d->arg);
	/* The callback may have stopped or aborted the driver. */
	if (needs_ack && d->opts.implicit_acknowledgements && !atomic_load(&d->aborted) &&
	    status_get(d) == PX_DRIVER_RUNNING && d->connected)
		acknowledge(self, d, u->agent_id ? u->agent_id : u->status->agent_id,
		            u->status->task_id, u->uuid);
}

static void on_lost_agent(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__LostAgentMessage *m = (const void *)msg;
	if (!from_master(d, from, "LostAgentMessage") || !d->connected || m->agent_id == NULL)
		return;
	if (m->agent_id->value != NULL)
		saved_remove(&d->agents, m->agent_id->value);
	if (d->cb.agent_lost != NULL)
		d->cb.agent_lost(d, m->agent_id, d->arg);
}

static void on_exited_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                               void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__ExitedExecutorMessage *m = (const void *)msg;
	if (!from_master(d, from, "ExitedExecutorMessage") || !d->connected)
		return;
	if (d->cb.executor_lost != NULL)
		d->cb.executor_lost(d, m->executor_id, m->agent_id, m->status, d->arg);
}

/* Framework messages come straight from agents (or through the master). */
static void on_executor_message(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__ExecutorToFrameworkMessage *m = (const void *)msg;
	if (atomic_load(&d->aborted))
		return;
	if (d->framework->id != NULL && m->framework_id != NULL &&
	    !same_framework(d, m->framework_id)) {
		actor_warn("scheduler driver: framework message for another framework; dropped");
		return;
	}
	if (d->cb.framework_message != NULL)
		d->cb.framework_message(d, m->executor_id, m->agent_id, m->data.data, m->data.len,
		                        d->arg);
}

static void abort_in_actor(actor_t *self, px_scheduler_driver *d);

static void on_error(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_scheduler_driver *d = actor_state(self);
	const Plexus__Internal__FrameworkErrorMessage *m = (const void *)msg;
	if (!from_master(d, from, "FrameworkErrorMessage"))
		return;
	const char *text = m->message ? m->message : "(no message)";
	actor_error("scheduler driver: the master reports an error: %s", text);
	/* As Mesos: the driver aborts, then the scheduler hears why. */
	px_scheduler_driver_abort(d);
	if (d->cb.error != NULL)
		d->cb.error(d, text, d->arg);
}

/* ---- calls, run inside the actor -------------------------------------------------- */

enum call_kind {
	CALL_SEND,    /* msg to the master with our framework id */
	CALL_ACCEPT,  /* AcceptOffersMessage: bookkeeping, or drop updates if disconnected */
	CALL_DECLINE, /* DeclineOffersMessage */
	CALL_MESSAGE, /* FrameworkToExecutorMessage: to the agent when known */
	CALL_ACK,     /* StatusUpdateAcknowledgementMessage */
	CALL_STOP,
	CALL_ABORT,
	CALL_TASK_ERROR, /* a TaskStatus the driver made for a task it could not send */
};

struct sched_call {
	enum call_kind kind;
	ProtobufCMessage *msg; /* owned */
	bool failover;         /* CALL_STOP */
};

static void call_free(struct sched_call *c)
{
	if (c->msg != NULL)
		protobuf_c_message_free_unpacked(c->msg, NULL);
	free(c);
}

/* Launches while disconnected never reach the master: each task gets a terminal update
 * from the driver itself (TASK_DROPPED for partition-aware frameworks, TASK_LOST for
 * others, as Mesos). */
static void drop_launches(px_scheduler_driver *d, const Plexus__Internal__AcceptOffersMessage *m)
{
	bool partition_aware = false;
	for (size_t i = 0; i < d->framework->n_capabilities; i++)
		if (d->framework->capabilities[i]->type ==
		    PLEXUS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE)
			partition_aware = true;
	for (size_t i = 0; i < m->n_operations; i++) {
		const Plexus__Offer__Operation *op = m->operations[i];
		if (op->type != PLEXUS__OFFER__OPERATION__TYPE__LAUNCH || op->launch == NULL)
			continue;
		for (size_t t = 0; t < op->launch->n_task_infos; t++) {
			const Plexus__TaskInfo *task = op->launch->task_infos[t];
			Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
			st.task_id = task->task_id;
			st.agent_id = task->agent_id;
			st.state = partition_aware ? PLEXUS__TASK_STATE__TASK_DROPPED
			                           : PLEXUS__TASK_STATE__TASK_LOST;
			st.message = "Master disconnected";
			st.has_source = true;
			st.source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_MASTER;
			st.has_reason = true;
			st.reason = PLEXUS__TASK_STATUS__REASON__REASON_MASTER_DISCONNECTED;
			st.has_timestamp = true;
			st.timestamp = px_wall_time();
			if (d->cb.status_update != NULL && task->task_id != NULL)
				d->cb.status_update(d, &st, d->arg);
		}
	}
}

static void run_accept(actor_t *self, px_scheduler_driver *d,
                       Plexus__Internal__AcceptOffersMessage *m)
{
	if (!d->connected) {
		actor_warn(
		    "scheduler driver: master disconnected; the offers' launches are dropped");
		drop_launches(d, m);
		return;
	}
	/* Tasks launched on an offer's agent let framework messages go straight there. */
	for (size_t i = 0; i < m->n_offer_ids; i++) {
		const char *oid = m->offer_ids[i]->value;
		struct saved *o = oid ? saved_find(&d->offers, oid) : NULL;
		if (o == NULL) {
			actor_warn("scheduler driver: accepting unknown offer %s",
			           oid ? oid : "(none)");
			continue;
		}
		if (o->agent_id != NULL)
			saved_put(&d->agents, o->agent_id, NULL, o->has_pid ? &o->pid : NULL);
		saved_remove(&d->offers, oid);
	}
	px_pb_send_with(self, d->master, &m->base, "framework_id", &d->framework->id->base);
}

static void run_decline(actor_t *self, px_scheduler_driver *d,
                        Plexus__Internal__DeclineOffersMessage *m)
{
	for (size_t i = 0; i < m->n_offer_ids; i++)
		if (m->offer_ids[i]->value != NULL)
			saved_remove(&d->offers, m->offer_ids[i]->value);
	px_pb_send_with(self, d->master, &m->base, "framework_id", &d->framework->id->base);
}

static void run_message(actor_t *self, px_scheduler_driver *d,
                        Plexus__Internal__FrameworkToExecutorMessage *m)
{
	actor_pid to = d->master;
	struct saved *a =
	    m->agent_id && m->agent_id->value ? saved_find(&d->agents, m->agent_id->value) : NULL;
	if (a != NULL && a->has_pid)
		to = a->pid;
	px_pb_send_with(self, to, &m->base, "framework_id", &d->framework->id->base);
}

/* stop and abort inside the actor: tell the master, then (stop) end the actor. */
static void stop_in_actor(actor_t *self, px_scheduler_driver *d, bool failover)
{
	if (d->connected && !failover && d->framework->id != NULL) {
		Plexus__Internal__UnregisterFrameworkMessage m =
		    PLEXUS__INTERNAL__UNREGISTER_FRAMEWORK_MESSAGE__INIT;
		m.framework_id = d->framework->id;
		actor_send_pb(self, d->master, &m.base);
	}
	d->connected = false;
	if (d->retry_timer != 0) {
		actor_cancel(self, d->retry_timer);
		d->retry_timer = 0;
	}
	actor_terminate(actor_self(self));
}

static void abort_in_actor(actor_t *self, px_scheduler_driver *d)
{
	/* Still connected afterwards (as Mesos): a later stop(false) unregisters. */
	if (d->connected && d->framework->id != NULL) {
		Plexus__Internal__DeactivateFrameworkMessage m =
		    PLEXUS__INTERNAL__DEACTIVATE_FRAMEWORK_MESSAGE__INIT;
		m.framework_id = d->framework->id;
		actor_send_pb(self, d->master, &m.base);
	}
	if (d->retry_timer != 0) {
		actor_cancel(self, d->retry_timer);
		d->retry_timer = 0;
	}
}

static void run_call(actor_t *self, struct sched_call *c)
{
	px_scheduler_driver *d = actor_state(self);
	switch (c->kind) {
	case CALL_STOP:
		stop_in_actor(self, d, c->failover);
		break;
	case CALL_ABORT:
		abort_in_actor(self, d);
		break;
	case CALL_ACCEPT:
		if (!atomic_load(&d->aborted))
			run_accept(self, d, (Plexus__Internal__AcceptOffersMessage *)c->msg);
		break;
	case CALL_TASK_ERROR:
		if (!atomic_load(&d->aborted) && d->cb.status_update != NULL)
			d->cb.status_update(d, (Plexus__TaskStatus *)c->msg, d->arg);
		break;
	default:
		if (atomic_load(&d->aborted))
			break;
		if (!d->connected) {
			actor_warn("scheduler driver: master disconnected; dropping %s",
			           c->msg->descriptor->short_name);
			break;
		}
		if (c->kind == CALL_DECLINE)
			run_decline(self, d, (Plexus__Internal__DeclineOffersMessage *)c->msg);
		else if (c->kind == CALL_MESSAGE)
			run_message(self, d,
			            (Plexus__Internal__FrameworkToExecutorMessage *)c->msg);
		else
			px_pb_send_with(self, d->master, c->msg, "framework_id",
			                &d->framework->id->base);
		break;
	}
	call_free(c);
}

static void call_cb(actor_t *self, void *arg)
{
	if (self == NULL) {
		call_free(arg);
		return;
	}
	run_call(self, arg);
}


/* Runs c inside the driver's actor: at once when already there; otherwise queued, and
 * (wait) awaited when the caller is a plain thread, so that stop has told the master
 * before it returns. Takes c over. */
static void submit(px_scheduler_driver *d, struct sched_call *c, bool wait)
{
	pthread_mutex_lock(&d->mu);
	bool spawned = d->spawned;
	actor_pid pid = d->pid;
	pthread_mutex_unlock(&d->mu);
	if (!spawned) {
		call_free(c);
		return;
	}
	px_run_in(pid, call_cb, c, wait);
}

/* Copies msg and runs it as a call of kind. */
static enum px_driver_status submit_msg(px_scheduler_driver *d, enum call_kind kind,
                                        const ProtobufCMessage *msg)
{
	enum px_driver_status s = status_get(d);
	if (s != PX_DRIVER_RUNNING)
		return s;
	char why[384];
	if (kind != CALL_ACCEPT)
		px_driver_error_clear();
	if (px_message_check(msg, why, sizeof(why)) != 0) {
		px_driver_error_set("scheduler driver: %s refused: %s", msg->descriptor->short_name,
		                    why);
		return PX_DRIVER_INVALID_CALL;
	}
	struct sched_call *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->msg = px_message_copy(msg)) == NULL) {
		px_driver_error_set("scheduler driver: %s dropped: out of memory",
		                    msg->descriptor->short_name);
		free(c);
		return s;
	}
	c->kind = kind;
	submit(d, c, false);
	return s;
}

/* ---- the actor ----------------------------------------------------------------- */

static int sched_init(actor_t *self)
{
	px_scheduler_driver *d = actor_state(self);
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		actor_pb_fn fn;
	} handlers[] = {
	    {&plexus__internal__framework_registered_message__descriptor, on_registered},
	    {&plexus__internal__framework_reregistered_message__descriptor, on_reregistered},
	    {&plexus__internal__resource_offers_message__descriptor, on_offers},
	    {&plexus__internal__rescind_resource_offer_message__descriptor, on_rescind},
	    {&plexus__internal__status_update_message__descriptor, on_status_update},
	    {&plexus__internal__lost_agent_message__descriptor, on_lost_agent},
	    {&plexus__internal__exited_executor_message__descriptor, on_exited_executor},
	    {&plexus__internal__executor_to_framework_message__descriptor, on_executor_message},
	    {&plexus__internal__framework_error_message__descriptor, on_error},
	};
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		int rv = actor_install_pb(self, handlers[i].desc, handlers[i].fn, NULL);
		if (rv != 0)
			return rv;
	}
	d->backoff_ms = d->opts.backoff_factor_ms;
	attempt_registration(self, d);
	return 0;
}

static void sched_fini(actor_t *self)
{
	px_scheduler_driver *d = actor_state(self);
	saved_clear(&d->offers);
	saved_clear(&d->agents);
}

static void sched_unhandled(actor_t *self, const actor_msg *msg)
{
	actor_debug("scheduler driver: no handler for '%s' from %s; dropped", msg->name,
	            actor_pid_str(msg->from));
}

static const actor_def sched_def = {
    .name = "scheduler", /* replaced per driver: see start */
    .init = sched_init,
    .fini = sched_fini,
    .exited = on_exited,
    .unhandled = sched_unhandled,
};

/* ---- public API ------------------------------------------------------------------- */

void px_scheduler_options_default(px_scheduler_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->implicit_acknowledgements = true;
	opts->backoff_factor_ms = DEFAULT_BACKOFF_FACTOR_MS;
	opts->backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
	opts->discovery_timeout_ms = 5000;
}

px_scheduler_driver *px_scheduler_driver_alloc(const px_scheduler_callbacks *callbacks, void *arg,
                                               const Plexus__FrameworkInfo *framework,
                                               const char *master, const px_scheduler_options *opts)
{
	char why[384];
	px_driver_error_clear();
	if (framework == NULL) {
		px_driver_error_set("scheduler driver: no FrameworkInfo given");
		return NULL;
	}
	if (master == NULL || px_master_spec_check(master, why, sizeof(why)) != 0) {
		px_driver_error_set("scheduler driver: cannot use master '%s': %s",
		                    master != NULL ? master : "", master != NULL ? why : "none given");
		return NULL;
	}
	/* As Mesos's driver: an empty user is the user this scheduler runs as. */
	Plexus__FrameworkInfo fw = *framework;
	char user[256] = "";
	if (fw.user == NULL || fw.user[0] == '\0') {
		struct passwd pw, *found = NULL;
		char buf[1024];
		if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
			snprintf(user, sizeof(user), "%s", found->pw_name);
		else
			snprintf(user, sizeof(user), "%u", (unsigned)geteuid());
		fw.user = user;
	}
	if (px_message_check(&fw.base, why, sizeof(why)) != 0) {
		px_driver_error_set("scheduler driver: FrameworkInfo cannot be encoded: %s", why);
		return NULL;
	}
	framework = &fw;
	px_scheduler_driver *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	if (callbacks != NULL)
		d->cb = *callbacks;
	d->arg = arg;
	px_scheduler_options_default(&d->opts);
	if (opts != NULL) {
		d->opts.implicit_acknowledgements = opts->implicit_acknowledgements;
		if (opts->backoff_factor_ms > 0)
			d->opts.backoff_factor_ms = opts->backoff_factor_ms;
		if (opts->backoff_max_ms > 0)
			d->opts.backoff_max_ms = opts->backoff_max_ms;
		if (opts->discovery_timeout_ms > 0)
			d->opts.discovery_timeout_ms = opts->discovery_timeout_ms;
	}
	if (d->opts.backoff_max_ms < d->opts.backoff_factor_ms)
		d->opts.backoff_max_ms = d->opts.backoff_factor_ms;
	d->master_spec = strdup(master);
	d->framework = (Plexus__FrameworkInfo *)px_message_copy(&framework->base);
	if (d->master_spec == NULL || d->framework == NULL) {
		free(d->master_spec);
		if (d->framework != NULL)
			protobuf_c_message_free_unpacked(&d->framework->base, NULL);
		free(d);
		return NULL;
	}
	d->failover = d->framework->id != NULL;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->status = PX_DRIVER_NOT_STARTED;
	atomic_init(&d->aborted, false);
	/* "scheduler-<uuid>" as Mesos, but libactor keeps 22 of an id's 63 bytes for a
	 * "(N)" suffix, so the uuid is written as 24 hex digits (96 random bits). */
	uint8_t u[16];
	px_uuid_random(u);
	int at = snprintf(d->name, sizeof(d->name), "scheduler-");
	for (int i = 0; i < 12; i++)
		at += snprintf(d->name + at, sizeof(d->name) - (size_t)at, "%02x", u[i]);
	return d;
}

void px_scheduler_driver_free(px_scheduler_driver *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	bool spawned = d->spawned;
	actor_pid pid = d->pid;
	if (d->status == PX_DRIVER_RUNNING || d->status == PX_DRIVER_ABORTED)
		d->status = PX_DRIVER_STOPPED;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (spawned) {
		actor_terminate(pid);
		actor_wait(pid, -1);
	}
	protobuf_c_message_free_unpacked(&d->framework->base, NULL);
	free(d->master_spec);
	if (d->owns_runtime)
		actor_runtime_fini();
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

enum px_driver_status px_scheduler_driver_start(px_scheduler_driver *d)
{
	pthread_mutex_lock(&d->mu);
	if (d->status != PX_DRIVER_NOT_STARTED) {
		enum px_driver_status s = d->status;
		pthread_mutex_unlock(&d->mu);
		return s;
	}
	px_driver_error_clear();
	/* As Mesos's driver initialises libprocess: a program that did not start the
	 * runtime gets one that listens, so that the master can answer. */
	if (!actor_runtime_running()) {
		actor_config cfg;
		actor_config_default(&cfg);
		cfg.listen = true;
		cfg.http_port = -1;
		int rc = actor_runtime_init(&cfg);
		if (rc != 0 && !actor_runtime_running()) {
			pthread_mutex_unlock(&d->mu);
			px_driver_error_set("scheduler driver: cannot start the libactor runtime: %s",
			                    actor_strerror(rc));
			return PX_DRIVER_NOT_STARTED;
		}
		d->owns_runtime = rc == 0;
	}
	if (!actor_runtime_listening() && !master_in_process(d->master_spec)) {
		pthread_mutex_unlock(&d->mu);
		px_driver_error_set("scheduler driver: the master '%s' is in another OS process, "
		                    "but this process's libactor runtime does not listen, so the "
		                    "master could never answer: start it with actor_config.listen "
		                    "= true",
		                    d->master_spec);
		return PX_DRIVER_NOT_STARTED;
	}
	/* The definition carries the actor's id, so each driver has its own copy. */
	d->def = sched_def;
	d->def.name = d->name;
	actor_pid pid;
	int rv = actor_spawn(&d->def, d, &pid);
	if (rv != 0) {
		pthread_mutex_unlock(&d->mu);
		actor_error("scheduler driver: cannot spawn its actor: %s", actor_strerror(rv));
		return PX_DRIVER_NOT_STARTED;
	}
	d->pid = pid;
	d->spawned = true;
	d->status = PX_DRIVER_RUNNING;
	pthread_mutex_unlock(&d->mu);
	return PX_DRIVER_RUNNING;
}

enum px_driver_status px_scheduler_driver_stop(px_scheduler_driver *d, bool failover)
{
	pthread_mutex_lock(&d->mu);
	enum px_driver_status s = d->status;
	if (s != PX_DRIVER_RUNNING && s != PX_DRIVER_ABORTED) {
		pthread_mutex_unlock(&d->mu);
		return s;
	}
	/* The status changes, and join wakes, only once the stop is handed to the actor:
	 * a joining thread may free d as soon as it sees STOPPED. */
	pthread_mutex_unlock(&d->mu);
	atomic_store(&d->aborted, true);
	struct sched_call *c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->kind = CALL_STOP;
		c->failover = failover;
		submit(d, c, true);
	}
	pthread_mutex_lock(&d->mu);
	d->status = PX_DRIVER_STOPPED;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return s == PX_DRIVER_ABORTED ? PX_DRIVER_ABORTED : PX_DRIVER_STOPPED;
}

enum px_driver_status px_scheduler_driver_abort(px_scheduler_driver *d)
{
	pthread_mutex_lock(&d->mu);
	enum px_driver_status s = d->status;
	if (s != PX_DRIVER_RUNNING) {
		pthread_mutex_unlock(&d->mu);
		return s;
	}
	d->status = PX_DRIVER_ABORTED;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	atomic_store(&d->aborted, true);
	struct sched_call *c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->kind = CALL_ABORT;
		submit(d, c, true);
	}
	return PX_DRIVER_ABORTED;
}

enum px_driver_status px_scheduler_driver_join(px_scheduler_driver *d)
{
	return px_driver_join(&d->mu, &d->cv, &d->status, "scheduler driver");
}

enum px_driver_status px_scheduler_driver_run(px_scheduler_driver *d)
{
	enum px_driver_status s = px_scheduler_driver_start(d);
	return s != PX_DRIVER_RUNNING ? s : px_scheduler_driver_join(d);
}

enum px_driver_status px_scheduler_driver_status(px_scheduler_driver *d)
{
	return status_get(d);
}

int px_scheduler_driver_pid(px_scheduler_driver *d, char *buf, size_t size)
{
	pthread_mutex_lock(&d->mu);
	actor_pid pid = d->pid;
	bool spawned = d->spawned;
	pthread_mutex_unlock(&d->mu);
	if (!spawned) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	return actor_pid_format(pid, buf, size);
}

/* A TASK_ERROR update from the driver itself for a task it refused to send (reason
 * says why), delivered through status_update in order with the driver's other calls. */
static void queue_task_error(px_scheduler_driver *d, const Plexus__TaskInfo *task,
                             const char *reason)
{
	if (task == NULL || task->task_id == NULL || task->task_id->value == NULL)
		return; /* without an id there is nothing to report it against */
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = task->task_id;
	if (task->agent_id != NULL && task->agent_id->value != NULL)
		st.agent_id = task->agent_id;
	st.state = PLEXUS__TASK_STATE__TASK_ERROR;
	st.message = (char *)reason;
	st.has_source = true;
	st.source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_MASTER;
	st.has_reason = true;
	st.reason = PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID;
	st.has_timestamp = true;
	st.timestamp = px_wall_time();
	struct sched_call *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->msg = px_message_copy(&st.base)) == NULL) {
		free(c);
		return;
	}
	c->kind = CALL_TASK_ERROR;
	submit(d, c, false);
}

/* Validates an accept before it is encoded (an unencodable message would otherwise be
 * lost): a task that cannot be encoded is left out of its LAUNCH and gets TASK_ERROR,
 * naming the missing field, while the rest goes on; any other operation that cannot be
 * encoded refuses the whole call, its tasks get TASK_ERROR and the offers are declined
 * (they go back to the allocator). */
enum px_driver_status px_scheduler_driver_accept(px_scheduler_driver *d,
                                                 const Plexus__OfferID *const *offer_ids, size_t n,
                                                 const Plexus__Offer__Operation *const *ops,
                                                 size_t nops, const Plexus__Filters *filters)
{
	enum px_driver_status s = status_get(d);
	if (s != PX_DRIVER_RUNNING)
		return s;
	px_driver_error_clear();
	char why[384], reason[512];
	bool refused = false;
	const char *refusal = NULL;
	for (size_t i = 0; i < n && refusal == NULL; i++)
		if (offer_ids == NULL || offer_ids[i] == NULL || offer_ids[i]->value == NULL)
			refusal = "offer_ids has an offer without an id";
	if (refusal != NULL) {
		px_driver_error_set("scheduler driver: accept refused: %s", refusal);
		return PX_DRIVER_INVALID_CALL;
	}
	if (filters != NULL && px_message_check(&filters->base, why, sizeof(why)) != 0) {
		snprintf(reason, sizeof(reason), "filters.%s", why);
		refusal = reason;
	}
	Plexus__Offer__Operation *op_copies = calloc(nops ? nops : 1, sizeof(*op_copies));
	Plexus__Offer__Operation__Launch *launches = calloc(nops ? nops : 1, sizeof(*launches));
	Plexus__Offer__Operation **kept_ops = calloc(nops ? nops : 1, sizeof(*kept_ops));
	Plexus__TaskInfo ***kept_tasks = calloc(nops ? nops : 1, sizeof(*kept_tasks));
	if (op_copies == NULL || launches == NULL || kept_ops == NULL || kept_tasks == NULL) {
		free(op_copies), free(launches), free(kept_ops), free(kept_tasks);
		px_driver_error_set("scheduler driver: accept dropped: out of memory");
		return s;
	}
	size_t nkept = 0;
	for (size_t i = 0; i < nops && refusal == NULL; i++) {
		const Plexus__Offer__Operation *op = ops[i];
		if (op != NULL && op->type == PLEXUS__OFFER__OPERATION__TYPE__LAUNCH &&
		    op->launch != NULL) {
			const Plexus__Offer__Operation__Launch *l = op->launch;
			kept_tasks[i] = calloc(l->n_task_infos ? l->n_task_infos : 1, sizeof(**kept_tasks));
			if (kept_tasks[i] == NULL) {
				refusal = "out of memory";
				break;
			}
			launches[i] = *l;
			launches[i].n_task_infos = 0;
			launches[i].task_infos = kept_tasks[i];
			for (size_t t = 0; t < l->n_task_infos; t++) {
				Plexus__TaskInfo *task = l->task_infos[t];
				if (task != NULL && px_message_check(&task->base, why, sizeof(why)) == 0) {
					kept_tasks[i][launches[i].n_task_infos++] = task;
					continue;
				}
				snprintf(reason, sizeof(reason),
				         "Task cannot be encoded: operations[%zu].launch.task_infos[%zu].%s",
				         i, t, task != NULL ? why : "is NULL");
				px_driver_error_set("scheduler driver: %s", reason);
				refused = true;
				queue_task_error(d, task, reason);
			}
			op_copies[i] = *op;
			op_copies[i].launch = &launches[i];
			if (launches[i].n_task_infos > 0)
				kept_ops[nkept++] = &op_copies[i];
			continue;
		}
		if (op == NULL || px_message_check(&op->base, why, sizeof(why)) != 0) {
			snprintf(reason, sizeof(reason), "operations[%zu].%s", i,
			         op != NULL ? why : "is NULL");
			refusal = reason;
			break;
		}
		kept_ops[nkept++] = (Plexus__Offer__Operation *)op;
	}
	if (refusal != NULL) {
		/* Nothing of the call is sent: its tasks fail, the offers go back. */
		char msg[640];
		snprintf(msg, sizeof(msg), "Accept refused by the driver: %s", refusal);
		px_driver_error_set("scheduler driver: %s", msg);
		for (size_t i = 0; i < nops; i++)
			if (ops[i] != NULL && ops[i]->launch != NULL)
				for (size_t t = 0; t < ops[i]->launch->n_task_infos; t++)
					queue_task_error(d, ops[i]->launch->task_infos[t], msg);
		refused = true;
		nkept = 0;
	}
	Plexus__Internal__AcceptOffersMessage m = PLEXUS__INTERNAL__ACCEPT_OFFERS_MESSAGE__INIT;
	m.n_offer_ids = n;
	m.offer_ids = (Plexus__OfferID **)offer_ids;
	m.n_operations = nkept;
	m.operations = kept_ops;
	m.filters = refusal == NULL ? (Plexus__Filters *)filters : NULL;
	/* submit_msg leaves px_driver_error as it is when it succeeds. */
	enum px_driver_status rv = submit_msg(d, CALL_ACCEPT, &m.base);
	if (refused && rv == PX_DRIVER_RUNNING)
		rv = PX_DRIVER_INVALID_CALL;
	for (size_t i = 0; i < nops; i++)
		free(kept_tasks[i]);
	free(op_copies), free(launches), free(kept_ops), free(kept_tasks);
	return rv;
}

enum px_driver_status px_scheduler_driver_launch(px_scheduler_driver *d,
                                                 const Plexus__OfferID *const *offer_ids, size_t n,
                                                 const Plexus__TaskInfo *const *tasks,
                                                 size_t ntasks, const Plexus__Filters *filters)
{
	Plexus__Offer__Operation__Launch launch = PLEXUS__OFFER__OPERATION__LAUNCH__INIT;
	launch.n_task_infos = ntasks;
	launch.task_infos = (Plexus__TaskInfo **)tasks;
	Plexus__Offer__Operation op = PLEXUS__OFFER__OPERATION__INIT;
	op.has_type = true;
	op.type = PLEXUS__OFFER__OPERATION__TYPE__LAUNCH;
	op.launch = &launch;
	const Plexus__Offer__Operation *ops[1] = {&op};
	return px_scheduler_driver_accept(d, offer_ids, n, ops, ntasks > 0 ? 1 : 0, filters);
}

enum px_driver_status px_scheduler_driver_decline(px_scheduler_driver *d,
                                                  const Plexus__OfferID *offer_id,
                                                  const Plexus__Filters *filters)
{
	Plexus__Internal__DeclineOffersMessage m = PLEXUS__INTERNAL__DECLINE_OFFERS_MESSAGE__INIT;
	Plexus__OfferID *ids[1] = {(Plexus__OfferID *)offer_id};
	m.n_offer_ids = 1;
	m.offer_ids = ids;
	m.filters = (Plexus__Filters *)filters;
	return submit_msg(d, CALL_DECLINE, &m.base);
}

enum px_driver_status px_scheduler_driver_kill(px_scheduler_driver *d,
                                               const Plexus__TaskID *task_id)
{
	Plexus__Internal__KillTaskMessage m = PLEXUS__INTERNAL__KILL_TASK_MESSAGE__INIT;
	m.task_id = (Plexus__TaskID *)task_id;
	return submit_msg(d, CALL_SEND, &m.base);
}

enum px_driver_status px_scheduler_driver_reconcile(px_scheduler_driver *d,
                                                    const Plexus__TaskStatus *const *statuses,
                                                    size_t n)
{
	Plexus__Internal__ReconcileTasksMessage m = PLEXUS__INTERNAL__RECONCILE_TASKS_MESSAGE__INIT;
	m.n_statuses = n;
	m.statuses = (Plexus__TaskStatus **)statuses;
	return submit_msg(d, CALL_SEND, &m.base);
}

enum px_driver_status px_scheduler_driver_revive(px_scheduler_driver *d, const char *const *roles,
                                                 size_t nroles)
{
	Plexus__Internal__ReviveOffersMessage m = PLEXUS__INTERNAL__REVIVE_OFFERS_MESSAGE__INIT;
	m.n_roles = roles != NULL ? nroles : 0;
	m.roles = (char **)roles;
	return submit_msg(d, CALL_SEND, &m.base);
}

enum px_driver_status px_scheduler_driver_suppress(px_scheduler_driver *d, const char *const *roles,
                                                   size_t nroles)
{
	Plexus__Internal__SuppressOffersMessage m = PLEXUS__INTERNAL__SUPPRESS_OFFERS_MESSAGE__INIT;
	m.n_roles = roles != NULL ? nroles : 0;
	m.roles = (char **)roles;
	return submit_msg(d, CALL_SEND, &m.base);
}

enum px_driver_status px_scheduler_driver_send_message(px_scheduler_driver *d,
                                                       const Plexus__ExecutorID *executor_id,
                                                       const Plexus__AgentID *agent_id,
                                                       const uint8_t *data, size_t len)
{
	Plexus__Internal__FrameworkToExecutorMessage m =
	    PLEXUS__INTERNAL__FRAMEWORK_TO_EXECUTOR_MESSAGE__INIT;
	m.executor_id = (Plexus__ExecutorID *)executor_id;
	m.agent_id = (Plexus__AgentID *)agent_id;
	m.has_data = true;
	m.data.data = (uint8_t *)data;
	m.data.len = len;
	return submit_msg(d, CALL_MESSAGE, &m.base);
}

enum px_driver_status px_scheduler_driver_acknowledge(px_scheduler_driver *d,
                                                      const Plexus__TaskStatus *status)
{
	enum px_driver_status s = status_get(d);
	if (s != PX_DRIVER_RUNNING)
		return s;
	if (d->opts.implicit_acknowledgements) {
		actor_warn(
		    "scheduler driver: acknowledge called with implicit acknowledgements; ignored");
		return s;
	}
	if (status == NULL || !status->has_uuid || status->uuid.len == 0 ||
	    status->task_id == NULL) {
		actor_warn(
		    "scheduler driver: acknowledge needs a status with a uuid and a task id");
		return s;
	}
	Plexus__Internal__StatusUpdateAcknowledgementMessage m =
	    PLEXUS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
	m.agent_id = status->agent_id;
	m.task_id = status->task_id;
	m.has_uuid = true;
	m.uuid = status->uuid;
	return submit_msg(d, CALL_ACK, &m.base);
}

/* ---- explain: why no offer holds a request ---------------------------------------- */

/* How long the master has to answer an explanation, on the runtime's clock. */
#define EXPLAIN_TIMEOUT_MS 10000

/* One px_scheduler_driver_explain call. The question goes out from a short-lived actor
 * of its own (so the driver keeps no table of questions in flight) and the answer comes
 * back into the driver's actor, where fn runs like every callback. */
struct explain_call {
	actor_pid driver, master;
	Plexus__Internal__ExplainOffersMessage *msg; /* owned */
	px_scheduler_explain_fn fn;
	void *arg;
	int err;    /* 0: text is the explanation */
	char *text; /* owned */
};

/* The asking actor's state: the call until it is handed back to the driver. */
struct explainer {
	struct explain_call *call; /* NULL once handed back */
	uint64_t timer;
};

static void explain_call_free(struct explain_call *c)
{
	if (c->msg != NULL)
		protobuf_c_message_free_unpacked(&c->msg->base, NULL);
	free(c->text);
	free(c);
}

/* Inside the driver: the answer (or why there is none) reaches the scheduler. A driver
 * that has ended or aborted since drops it. */
static void explain_finish(actor_t *self, void *arg)
{
	struct explain_call *c = arg;
	if (self != NULL) {
		px_scheduler_driver *d = actor_state(self);
		if (!atomic_load(&d->aborted) && c->fn != NULL)
			c->fn(d, c->err, c->text ? c->text : "", c->arg);
	}
	explain_call_free(c);
}

static void explain_set(struct explain_call *c, int err, const char *text)
{
	free(c->text);
	c->err = err;
	c->text = strdup(text ? text : "");
}

/* Inside the asking actor: hands the call back to the driver once and ends. */
static void explainer_done(actor_t *self, struct explainer *x, int err, const char *text)
{
	struct explain_call *c = x->call;
	if (c == NULL)
		return;
	x->call = NULL;
	if (x->timer != 0)
		actor_cancel(self, x->timer);
	x->timer = 0;
	explain_set(c, err, text);
	px_run_in(c->driver, explain_finish, c, false);
	actor_terminate(actor_self(self));
}

static void on_explained(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct explainer *x = actor_state(self);
	const Plexus__Internal__OffersExplainedMessage *a = (const void *)msg;
	if (x->call == NULL || !actor_pid_equal(from, x->call->master))
		return;
	if (a->error != NULL)
		explainer_done(self, x, ACTOR_EFAILED, a->error);
	else
		explainer_done(self, x, 0, a->explanation ? a->explanation : "");
}

static void explainer_timeout(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct explainer *x = actor_state(self);
	x->timer = 0;
	explainer_done(self, x, ACTOR_ETIMEDOUT, "the master did not answer in time");
}

static void explainer_exited(actor_t *self, actor_pid who)
{
	explainer_done(self, actor_state(self), ACTOR_ENOENT,
	               "the master went away before answering");
}

static int explainer_init(actor_t *self)
{
	struct explainer *x = actor_state(self);
	int rv = actor_install_pb(self, &plexus__internal__offers_explained_message__descriptor,
	                          on_explained, NULL);
	if (rv != 0)
		return rv;
	actor_link(self, x->call->master);
	x->timer = actor_delay(self, EXPLAIN_TIMEOUT_MS, explainer_timeout, NULL);
	return actor_send_pb(self, x->call->master, &x->call->msg->base);
}

static void explainer_fini(actor_t *self)
{
	struct explainer *x = actor_state(self);
	/* Ended before an answer (the runtime is stopping): the driver still hears of it. */
	if (x->call != NULL) {
		explain_set(x->call, ACTOR_ECANCELED, "the question was cancelled");
		px_run_in(x->call->driver, explain_finish, x->call, false);
	}
	free(x);
}

static const actor_def explainer_def = {
    .name = "scheduler-explain",
    .init = explainer_init,
    .fini = explainer_fini,
    .exited = explainer_exited,
};

/* Inside the driver: the framework must be registered; then the asking actor starts. */
static void explain_start(actor_t *self, void *arg)
{
	struct explain_call *c = arg;
	if (self == NULL) {
		explain_call_free(c);
		return;
	}
	px_scheduler_driver *d = actor_state(self);
	if (!d->connected || d->framework->id == NULL) {
		explain_set(c, ACTOR_ESTATE, "the framework is not registered with a master");
		explain_finish(self, c);
		return;
	}
	c->master = d->master;
	c->msg->framework_id = (Plexus__FrameworkID *)px_message_copy(&d->framework->id->base);
	struct explainer *x = calloc(1, sizeof(*x));
	int rv = c->msg->framework_id != NULL && x != NULL ? 0 : ACTOR_ENOMEM;
	if (x != NULL)
		x->call = c;
	if (rv == 0)
		rv = actor_spawn(&explainer_def, x, NULL);
	if (rv != 0) {
		/* On a failed spawn nothing ran: the call is still ours. */
		free(x);
		explain_set(c, rv, actor_strerror(rv));
		explain_finish(self, c);
	}
}

enum px_driver_status px_scheduler_driver_explain(px_scheduler_driver *d, const char *resources,
                                                  px_scheduler_explain_fn fn, void *arg)
{
	enum px_driver_status s = status_get(d);
	if (s != PX_DRIVER_RUNNING)
		return s;
	px_driver_error_clear();
	px_resources *rs = NULL;
	char err[256] = "";
	if (fn == NULL || resources == NULL ||
	    px_resources_parse(resources, NULL, &rs, err, sizeof(err)) != PX_OK ||
	    px_resources_is_empty(rs)) {
		px_driver_error_set("scheduler driver: explain refused: %s",
		                    fn == NULL || resources == NULL ? "no callback or no resources"
		                    : err[0]                        ? err
		                                                    : "an empty request");
		px_resources_free(rs);
		return PX_DRIVER_INVALID_CALL;
	}
	pthread_mutex_lock(&d->mu);
	bool spawned = d->spawned;
	actor_pid pid = d->pid;
	pthread_mutex_unlock(&d->mu);
	struct explain_call *c = calloc(1, sizeof(*c));
	if (c != NULL && (c->msg = malloc(sizeof(*c->msg))) != NULL)
		plexus__internal__explain_offers_message__init(c->msg);
	if (!spawned || c == NULL || c->msg == NULL ||
	    px_resources_to_pb(rs, PX_PB_REFINED, &c->msg->resources, &c->msg->n_resources) !=
	        PX_OK) {
		px_driver_error_set("scheduler driver: explain: %s",
		                    spawned ? "out of memory" : "the driver is not started");
		if (c != NULL)
			explain_call_free(c);
		px_resources_free(rs);
		return spawned ? PX_DRIVER_INVALID_CALL : PX_DRIVER_NOT_STARTED;
	}
	px_resources_free(rs);
	c->driver = pid;
	c->fn = fn;
	c->arg = arg;
	c->msg->has_request_id = true;
	c->msg->request_id = 1;
	px_run_in(pid, explain_start, c, false);
	return s;
}
