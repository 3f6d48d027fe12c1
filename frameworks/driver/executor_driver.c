/* executor_driver.c — the executor driver: an actor that registers an executor with
 * its agent, hands it tasks and carries its status updates back, keeping each update
 * until the agent acknowledges it.
 *
 * Threads as in the scheduler driver: the status sits under a mutex and `aborted` is
 * an atomic; everything else lives inside the actor, and calls from elsewhere are
 * packed into a `struct exec_call` that runs there. */
#include "plexus/executor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor.h"
#include "actor/future.h"
#include "actor/log.h"
#include "actor/pb.h"
#include "actor/runtime.h"
#include "frameworks/driver/driver_util.h"
#include "plexus/message.h"
#include "plexus/util.h"
#include "proto/internal.pb-c.h"

#define DEFAULT_RECOVERY_TIMEOUT_MS (15 * 60 * 1000)
#define DEFAULT_GRACE_PERIOD_MS     5000

/* An owned protobuf message in a small list (unacknowledged updates or tasks). */
struct pb_list {
	ProtobufCMessage **v;
	size_t n, cap;
};

struct px_executor_driver {
	px_executor_callbacks cb;
	void *arg;
	actor_def def;
	bool owns_runtime; /* start initialised the runtime: free finalises it */

	/* From the environment; fixed after alloc. */
	actor_pid agent_env;
	Plexus__FrameworkID *framework_id;
	Plexus__ExecutorID *executor_id;
	Plexus__AgentID *agent_id_env; /* may be NULL */
	char *directory;
	bool checkpoint;
	int64_t recovery_timeout_ms;
	int64_t grace_ms;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum px_driver_status status; /* under mu */
	bool spawned;                 /* under mu */
	actor_pid pid;                /* under mu */
	atomic_bool aborted;          /* stopped, aborted or shut down: messages are ignored */

	/* Inside the actor only. */
	actor_pid agent;
	bool connected;
	bool shutting_down;
	Plexus__AgentID *agent_id; /* owned, from registration */
	uint64_t recovery_timer;
	struct pb_list updates; /* Plexus__Internal__StatusUpdate, unacknowledged */
	struct pb_list tasks;   /* Plexus__TaskInfo, launched and not yet acknowledged */
};

/* ---- small helpers ----------------------------------------------------------------- */

static void list_push(struct pb_list *l, ProtobufCMessage *m)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		ProtobufCMessage **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			actor_error("executor driver: out of memory; an update will not be resent");
			protobuf_c_message_free_unpacked(m, NULL);
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = m;
}

/* Removes entry i, keeping the order (updates are resent in the order sent). */
static void list_remove(struct pb_list *l, size_t i)
{
	protobuf_c_message_free_unpacked(l->v[i], NULL);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
	l->n--;
}

static void list_clear(struct pb_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		protobuf_c_message_free_unpacked(l->v[i], NULL);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool same_id(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static enum px_driver_status status_get(px_executor_driver *d)
{
	pthread_mutex_lock(&d->mu);
	enum px_driver_status s = d->status;
	pthread_mutex_unlock(&d->mu);
	return s;
}

static bool from_agent(px_executor_driver *d, actor_pid from, const char *what)
{
	if (atomic_load(&d->aborted)) {
		actor_debug("executor driver: ignoring %s: the driver is not running", what);
		return false;
	}
	if (!actor_pid_equal(from, d->agent)) {
		actor_warn("executor driver: ignoring %s from %s, which is not our agent", what,
		           actor_pid_str(from));
		return false;
	}
	return true;
}

/* The driver ends: status and waiters. Returns false if it had already ended. */
static bool set_final(px_executor_driver *d, enum px_driver_status s)
{
	pthread_mutex_lock(&d->mu);
	bool was_running = d->status == PX_DRIVER_RUNNING;
	if (was_running) {
		d->status = s;
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	atomic_store(&d->aborted, true);
	return was_running;
}

/* Calls the executor's shutdown once, then gives it the grace period to stop the
 * driver; past it the driver aborts so that join returns. */
static void grace_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	px_executor_driver *d = actor_state(self);
	if (set_final(d, PX_DRIVER_ABORTED))
		actor_warn("executor driver: the executor did not stop within its shutdown grace "
		           "period; aborting");
}

static void shut_down(actor_t *self, px_executor_driver *d, const char *why)
{
	if (d->shutting_down)
		return;
	d->shutting_down = true;
	actor_info("executor driver: shutting down: %s", why);
	if (d->cb.shutdown != NULL)
		d->cb.shutdown(d, d->arg);
	if (status_get(d) == PX_DRIVER_RUNNING)
		actor_delay(self, d->grace_ms, grace_cb, NULL);
}

/* ---- agent -> driver ----------------------------------------------------------------- */

static void set_agent_id(px_executor_driver *d, const Plexus__AgentID *id)
{
	if (id == NULL || id->value == NULL)
		return;
	Plexus__AgentID *copy = (Plexus__AgentID *)px_message_copy(&id->base);
	if (copy == NULL)
		return;
	if (d->agent_id != NULL)
		protobuf_c_message_free_unpacked(&d->agent_id->base, NULL);
	d->agent_id = copy;
}

static void on_registered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__ExecutorRegisteredMessage *m = (const void *)msg;
	if (!from_agent(d, from, "ExecutorRegisteredMessage"))
		return;
	set_agent_id(d, m->agent_id);
	d->connected = true;
	actor_info("executor driver: registered with agent %s", actor_pid_str(from));
	if (d->cb.registered != NULL)
		d->cb.registered(d, m->executor_info, m->framework_info, m->agent_info, d->arg);
}

static void on_reregistered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__ExecutorReregisteredMessage *m = (const void *)msg;
	if (!from_agent(d, from, "ExecutorReregisteredMessage"))
		return;
	set_agent_id(d, m->agent_id);
	d->connected = true;
	if (d->recovery_timer != 0) {
		actor_cancel(self, d->recovery_timer);
		d->recovery_timer = 0;
	}
	actor_info("executor driver: re-registered with agent %s", actor_pid_str(from));
	if (d->cb.reregistered != NULL)
		d->cb.reregistered(d, m->agent_info, d->arg);
}

/* A recovered agent (maybe under a new PID) asks the executor to attach again; the
 * driver answers with what the agent may have missed. */
static void on_reconnect(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__ReconnectExecutorMessage *m = (const void *)msg;
	if (atomic_load(&d->aborted) || d->shutting_down)
		return;
	if (d->agent_id != NULL && m->agent_id != NULL &&
	    !same_id(d->agent_id->value, m->agent_id->value)) {
		actor_warn("executor driver: reconnect from agent %s, not ours; ignored",
		           m->agent_id->value ? m->agent_id->value : "(none)");
		return;
	}
	if (!actor_pid_equal(from, d->agent))
		actor_unlink(self, d->agent);
	d->agent = from;
	actor_link(self, d->agent);

	Plexus__Internal__ReregisterExecutorMessage r =
	    PLEXUS__INTERNAL__REREGISTER_EXECUTOR_MESSAGE__INIT;
	r.executor_id = d->executor_id;
	r.framework_id = d->framework_id;
	r.n_tasks = d->tasks.n;
	r.tasks = (Plexus__TaskInfo **)d->tasks.v;
	r.n_updates = d->updates.n;
	r.updates = (Plexus__Internal__StatusUpdate **)d->updates.v;
	actor_info("executor driver: re-registering with agent %s (%zu tasks, %zu updates)",
	           actor_pid_str(from), d->tasks.n, d->updates.n);
	actor_send_pb(self, d->agent, &r.base);
}

static void on_run_task(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__RunTaskMessage *m = (const void *)msg;
	if (!from_agent(d, from, "RunTaskMessage"))
		return;
	if (!d->connected) {
		actor_warn("executor driver: ignoring a task while disconnected from the agent");
		return;
	}
	if (m->task == NULL || m->task->task_id == NULL) {
		actor_warn("executor driver: RunTaskMessage without a task; dropped");
		return;
	}
	ProtobufCMessage *copy = px_message_copy(&m->task->base);
	if (copy != NULL)
		list_push(&d->tasks, copy);
	if (d->cb.launch_task != NULL)
		d->cb.launch_task(d, m->task, d->arg);
}

static void on_kill_task(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__KillTaskMessage *m = (const void *)msg;
	if (!from_agent(d, from, "KillTaskMessage") || m->task_id == NULL)
		return;
	if (d->cb.kill_task != NULL)
		d->cb.kill_task(d, m->task_id, d->arg);
}

static void on_ack(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__StatusUpdateAcknowledgementMessage *m = (const void *)msg;
	if (!from_agent(d, from, "StatusUpdateAcknowledgementMessage"))
		return;
	bool found = false;
	for (size_t i = 0; i < d->updates.n; i++) {
		const Plexus__Internal__StatusUpdate *u = (const void *)d->updates.v[i];
		if (u->uuid.len == m->uuid.len && m->uuid.len > 0 &&
		    memcmp(u->uuid.data, m->uuid.data, m->uuid.len) == 0) {
			list_remove(&d->updates, i);
			found = true;
			break;
		}
	}
	if (!found)
		actor_warn("executor driver: acknowledgement of an unknown update; ignored");
	/* As Mesos: a task the agent has heard about is no longer the driver's to resend. */
	for (size_t i = 0; m->task_id != NULL && i < d->tasks.n; i++) {
		const Plexus__TaskInfo *t = (const void *)d->tasks.v[i];
		if (same_id(t->task_id->value, m->task_id->value)) {
			list_remove(&d->tasks, i);
			break;
		}
	}
}

static void on_framework_message(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                 void *arg)
{
	px_executor_driver *d = actor_state(self);
	const Plexus__Internal__FrameworkToExecutorMessage *m = (const void *)msg;
	if (!from_agent(d, from, "FrameworkToExecutorMessage"))
		return;
	if (d->cb.framework_message != NULL)
		d->cb.framework_message(d, m->data.data, m->data.len, d->arg);
}

static void on_shutdown(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	px_executor_driver *d = actor_state(self);
	if (!from_agent(d, from, "ShutdownExecutorMessage"))
		return;
	shut_down(self, d, "the agent asked");
}

static void recovery_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	px_executor_driver *d = actor_state(self);
	d->recovery_timer = 0;
	if (d->connected || atomic_load(&d->aborted))
		return;
	shut_down(self, d, "the agent did not come back within the recovery timeout");
}

static void on_exited(actor_t *self, actor_pid who)
{
	px_executor_driver *d = actor_state(self);
	if (!actor_pid_equal(who, d->agent) || atomic_load(&d->aborted))
		return;
	if (d->checkpoint && d->connected) {
		d->connected = false;
		actor_warn("executor driver: agent %s exited; waiting %lld ms for it to recover",
		           actor_pid_str(who), (long long)d->recovery_timeout_ms);
		if (d->cb.disconnected != NULL)
			d->cb.disconnected(d, d->arg);
		if (d->recovery_timer == 0)
			d->recovery_timer =
			    actor_delay(self, d->recovery_timeout_ms, recovery_cb, NULL);
		return;
	}
	if (!d->connected && d->recovery_timer != 0)
		return; /* already waiting for the agent */
	d->connected = false;
	shut_down(self, d, "the agent exited and this executor cannot be recovered");
}

/* ---- calls, run inside the actor -------------------------------------------------- */

enum call_kind { CALL_UPDATE, CALL_MESSAGE, CALL_STOP, CALL_ABORT };

struct exec_call {
	enum call_kind kind;
	ProtobufCMessage *msg; /* owned: TaskStatus (update) or the bytes' carrier */
};

static void call_free(struct exec_call *c)
{
	if (c->msg != NULL)
		protobuf_c_message_free_unpacked(c->msg, NULL);
	free(c);
}

static const Plexus__AgentID *current_agent_id(px_executor_driver *d)
{
	return d->agent_id != NULL ? d->agent_id : d->agent_id_env;
}

static void run_update(actor_t *self, px_executor_driver *d, Plexus__TaskStatus *status)
{
	if (status->state == PLEXUS__TASK_STATE__TASK_STAGING) {
		const char *why = "Attempted to send TASK_STAGING status update";
		actor_error("executor driver: %s; aborting", why);
		set_final(d, PX_DRIVER_ABORTED);
		if (d->cb.error != NULL)
			d->cb.error(d, why, d->arg);
		return;
	}
	uint8_t uuid[16];
	px_uuid_random(uuid);
	double now = px_wall_time();

	/* The driver's own fields go into status itself (owned by the call), and the
	 * update is packed from borrowed pointers, then copied for keeping. */
	Plexus__ExecutorID *saved_exec = status->executor_id;
	Plexus__AgentID *saved_agent = status->agent_id;
	protobuf_c_boolean saved_has_uuid = status->has_uuid;
	ProtobufCBinaryData saved_uuid = status->uuid;
	if (status->executor_id == NULL)
		status->executor_id = d->executor_id;
	if (status->agent_id == NULL)
		status->agent_id = (Plexus__AgentID *)current_agent_id(d);
	status->has_source = true;
	status->source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
	status->has_timestamp = true;
	status->timestamp = now;
	status->has_uuid = true;
	status->uuid = (ProtobufCBinaryData){sizeof(uuid), uuid};

	Plexus__Internal__StatusUpdate u = PLEXUS__INTERNAL__STATUS_UPDATE__INIT;
	u.framework_id = d->framework_id;
	u.executor_id = d->executor_id;
	u.agent_id = (Plexus__AgentID *)current_agent_id(d);
	u.status = status;
	u.has_timestamp = true;
	u.timestamp = now;
	u.has_uuid = true;
	u.uuid = status->uuid;

	char pid[ACTOR_PID_TEXT_MAX];
	actor_pid_format(actor_self(self), pid, sizeof(pid));
	Plexus__Internal__StatusUpdateMessage m = PLEXUS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
	m.update = &u;
	m.pid = pid;
	actor_send_pb(self, d->agent, &m.base);

	ProtobufCMessage *keep = px_message_copy(&u.base);
	if (keep != NULL)
		list_push(&d->updates, keep);

	/* Give status its own fields back before it is freed. */
	status->executor_id = saved_exec;
	status->agent_id = saved_agent;
	status->has_uuid = saved_has_uuid;
	status->uuid = saved_uuid;
}

static void run_message(actor_t *self, px_executor_driver *d,
                        Plexus__Internal__ExecutorToFrameworkMessage *m)
{
	Plexus__AgentID *saved_agent = m->agent_id;
	m->agent_id = (Plexus__AgentID *)current_agent_id(d);
	m->framework_id = d->framework_id;
	m->executor_id = d->executor_id;
	actor_send_pb(self, d->agent, &m->base);
	m->agent_id = saved_agent;
	m->framework_id = NULL;
	m->executor_id = NULL;
}

static void run_call(actor_t *self, struct exec_call *c)
{
	px_executor_driver *d = actor_state(self);
	switch (c->kind) {
	case CALL_UPDATE:
		run_update(self, d, (Plexus__TaskStatus *)c->msg);
		break;
	case CALL_MESSAGE:
		run_message(self, d, (Plexus__Internal__ExecutorToFrameworkMessage *)c->msg);
		break;
	case CALL_STOP:
		if (d->recovery_timer != 0) {
			actor_cancel(self, d->recovery_timer);
			d->recovery_timer = 0;
		}
		actor_terminate(actor_self(self));
		break;
	case CALL_ABORT:
		if (d->recovery_timer != 0) {
			actor_cancel(self, d->recovery_timer);
			d->recovery_timer = 0;
		}
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


static void submit(px_executor_driver *d, struct exec_call *c, bool wait)
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

/* ---- the actor ----------------------------------------------------------------- */

static int exec_init(actor_t *self)
{
	px_executor_driver *d = actor_state(self);
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		actor_pb_fn fn;
	} handlers[] = {
	    {&plexus__internal__executor_registered_message__descriptor, on_registered},
	    {&plexus__internal__executor_reregistered_message__descriptor, on_reregistered},
	    {&plexus__internal__reconnect_executor_message__descriptor, on_reconnect},
	    {&plexus__internal__run_task_message__descriptor, on_run_task},
	    {&plexus__internal__kill_task_message__descriptor, on_kill_task},
	    {&plexus__internal__status_update_acknowledgement_message__descriptor, on_ack},
	    {&plexus__internal__framework_to_executor_message__descriptor, on_framework_message},
	    {&plexus__internal__shutdown_executor_message__descriptor, on_shutdown},
	};
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		int rv = actor_install_pb(self, handlers[i].desc, handlers[i].fn, NULL);
		if (rv != 0)
			return rv;
	}
	d->agent = d->agent_env;
	actor_link(self, d->agent);
	Plexus__Internal__RegisterExecutorMessage m =
	    PLEXUS__INTERNAL__REGISTER_EXECUTOR_MESSAGE__INIT;
	m.framework_id = d->framework_id;
	m.executor_id = d->executor_id;
	actor_info("executor driver: registering executor %s of framework %s with agent %s",
	           d->executor_id->value, d->framework_id->value, actor_pid_str(d->agent));
	actor_send_pb(self, d->agent, &m.base);
	return 0;
}

static void exec_fini(actor_t *self)
{
	px_executor_driver *d = actor_state(self);
	list_clear(&d->updates);
	list_clear(&d->tasks);
	if (d->agent_id != NULL) {
		protobuf_c_message_free_unpacked(&d->agent_id->base, NULL);
		d->agent_id = NULL;
	}
}

static void exec_unhandled(actor_t *self, const actor_msg *msg)
{
	actor_debug("executor driver: no handler for '%s' from %s; dropped", msg->name,
	            actor_pid_str(msg->from));
}

static const actor_def exec_def = {
    .name = "executor",
    .init = exec_init,
    .fini = exec_fini,
    .exited = on_exited,
    .unhandled = exec_unhandled,
};

/* ---- public API ------------------------------------------------------------------- */

/* An id message (FrameworkID, ExecutorID, AgentID all have one string `value`). */
static ProtobufCMessage *id_alloc(const ProtobufCMessageDescriptor *desc, const char *value)
{
	ProtobufCMessage *m = calloc(1, desc->sizeof_message);
	char *copy = strdup(value);
	if (m == NULL || copy == NULL) {
		free(m);
		free(copy);
		return NULL;
	}
	protobuf_c_message_init(desc, m);
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(desc, "value");
	*(char **)((char *)m + f->offset) = copy;
	return m;
}

/* Frees what id_alloc made: the layout is the generated one, so the generic freer
 * (with the system allocator) releases both. */
static void id_free(ProtobufCMessage *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

static void driver_free_fields(px_executor_driver *d)
{
	id_free((ProtobufCMessage *)d->framework_id);
	id_free((ProtobufCMessage *)d->executor_id);
	id_free((ProtobufCMessage *)d->agent_id_env);
	free(d->directory);
}

px_executor_driver *px_executor_driver_alloc(const px_executor_callbacks *callbacks, void *arg,
                                             char *err, size_t errlen)
{
	char dummy[1];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	const char *agent = getenv("PLEXUS_AGENT_PID");
	const char *framework = getenv("PLEXUS_FRAMEWORK_ID");
	const char *executor = getenv("PLEXUS_EXECUTOR_ID");
	const char *agent_id = getenv("PLEXUS_AGENT_ID");
	const char *directory = getenv("PLEXUS_DIRECTORY");
	const char *checkpoint = getenv("PLEXUS_CHECKPOINT");
	const char *recovery = getenv("PLEXUS_RECOVERY_TIMEOUT");
	const char *grace = getenv("PLEXUS_EXECUTOR_SHUTDOWN_GRACE_PERIOD");
	actor_pid agent_pid;

	if (agent == NULL || actor_pid_parse(agent, &agent_pid) != 0) {
		snprintf(err, errlen, "PLEXUS_AGENT_PID %s", agent ? "is not a PID" : "is not set");
		return NULL;
	}
	if (framework == NULL || framework[0] == '\0') {
		snprintf(err, errlen, "PLEXUS_FRAMEWORK_ID is not set");
		return NULL;
	}
	if (executor == NULL || executor[0] == '\0') {
		snprintf(err, errlen, "PLEXUS_EXECUTOR_ID is not set");
		return NULL;
	}
	bool ckpt = true;
	if (checkpoint != NULL && checkpoint[0] != '\0') {
		if (strcmp(checkpoint, "0") == 0 || strcmp(checkpoint, "false") == 0)
			ckpt = false;
		else if (strcmp(checkpoint, "1") != 0 && strcmp(checkpoint, "true") != 0) {
			snprintf(err, errlen, "PLEXUS_CHECKPOINT: '%s' is not 0, 1, true or false",
			         checkpoint);
			return NULL;
		}
	}
	int64_t recovery_ms = DEFAULT_RECOVERY_TIMEOUT_MS, grace_ms = DEFAULT_GRACE_PERIOD_MS;
	if (recovery != NULL && !px_duration_parse(recovery, &recovery_ms)) {
		snprintf(err, errlen, "PLEXUS_RECOVERY_TIMEOUT: '%s' is not a duration", recovery);
		return NULL;
	}
	if (grace != NULL && !px_duration_parse(grace, &grace_ms)) {
		snprintf(err, errlen,
		         "PLEXUS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '%s' is not a duration", grace);
		return NULL;
	}

	px_executor_driver *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (callbacks != NULL)
		d->cb = *callbacks;
	d->arg = arg;
	d->agent_env = agent_pid;
	d->checkpoint = ckpt;
	d->recovery_timeout_ms = recovery_ms;
	d->grace_ms = grace_ms;
	d->framework_id =
	    (Plexus__FrameworkID *)id_alloc(&plexus__framework_id__descriptor, framework);
	d->executor_id = (Plexus__ExecutorID *)id_alloc(&plexus__executor_id__descriptor, executor);
	if (agent_id != NULL && agent_id[0] != '\0')
		d->agent_id_env =
		    (Plexus__AgentID *)id_alloc(&plexus__agent_id__descriptor, agent_id);
	d->directory = directory ? strdup(directory) : NULL;
	if (d->framework_id == NULL || d->executor_id == NULL ||
	    (agent_id != NULL && agent_id[0] != '\0' && d->agent_id_env == NULL) ||
	    (directory != NULL && d->directory == NULL)) {
		driver_free_fields(d);
		free(d);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->status = PX_DRIVER_NOT_STARTED;
	atomic_init(&d->aborted, false);
	d->def = exec_def;
	return d;
}

void px_executor_driver_free(px_executor_driver *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	bool spawned = d->spawned;
	actor_pid pid = d->pid;
	if (d->status == PX_DRIVER_RUNNING)
		d->status = PX_DRIVER_STOPPED;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	atomic_store(&d->aborted, true);
	if (spawned) {
		actor_terminate(pid);
		actor_wait(pid, -1);
	}
	driver_free_fields(d);
	if (d->owns_runtime)
		actor_runtime_fini();
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

enum px_driver_status px_executor_driver_start(px_executor_driver *d)
{
	pthread_mutex_lock(&d->mu);
	if (d->status != PX_DRIVER_NOT_STARTED) {
		enum px_driver_status s = d->status;
		pthread_mutex_unlock(&d->mu);
		return s;
	}
	px_driver_error_clear();
	/* An agent in another OS process needs a listening runtime. One the program did not
	 * start is started here, as Mesos's driver initialises libprocess. */
	if (!actor_runtime_running()) {
		actor_config cfg;
		actor_config_default(&cfg);
		cfg.listen = true;
		cfg.http_port = -1;
		int rc = actor_runtime_init(&cfg);
		if (rc != 0 && !actor_runtime_running()) {
			pthread_mutex_unlock(&d->mu);
			px_driver_error_set("executor driver: cannot start the libactor runtime: %s",
			                    actor_strerror(rc));
			return PX_DRIVER_NOT_STARTED;
		}
		d->owns_runtime = rc == 0;
	}
	bool agent_here = d->agent_env.ip == actor_runtime_ip() &&
	                  d->agent_env.port == actor_runtime_port();
	if (!actor_runtime_listening() && !agent_here) {
		pthread_mutex_unlock(&d->mu);
		px_driver_error_set("executor driver: this process's libactor runtime does not "
		                    "listen, so the agent could never answer: start it with "
		                    "actor_config.listen = true");
		return PX_DRIVER_NOT_STARTED;
	}
	actor_pid pid;
	int rv = actor_spawn(&d->def, d, &pid);
	if (rv != 0) {
		pthread_mutex_unlock(&d->mu);
		px_driver_error_set("executor driver: cannot spawn its actor: %s", actor_strerror(rv));
		return PX_DRIVER_NOT_STARTED;
	}
	d->pid = pid;
	d->spawned = true;
	d->status = PX_DRIVER_RUNNING;
	pthread_mutex_unlock(&d->mu);
	return PX_DRIVER_RUNNING;
}

enum px_driver_status px_executor_driver_stop(px_executor_driver *d)
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
	struct exec_call *c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->kind = CALL_STOP;
		submit(d, c, true);
	}
	pthread_mutex_lock(&d->mu);
	d->status = PX_DRIVER_STOPPED;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return s == PX_DRIVER_ABORTED ? PX_DRIVER_ABORTED : PX_DRIVER_STOPPED;
}

enum px_driver_status px_executor_driver_abort(px_executor_driver *d)
{
	if (!set_final(d, PX_DRIVER_ABORTED))
		return status_get(d);
	struct exec_call *c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->kind = CALL_ABORT;
		submit(d, c, false);
	}
	return PX_DRIVER_ABORTED;
}

enum px_driver_status px_executor_driver_join(px_executor_driver *d)
{
	return px_driver_join(&d->mu, &d->cv, &d->status, "executor driver");
}

enum px_driver_status px_executor_driver_run(px_executor_driver *d)
{
	enum px_driver_status s = px_executor_driver_start(d);
	return s != PX_DRIVER_RUNNING ? s : px_executor_driver_join(d);
}

enum px_driver_status px_executor_driver_status(px_executor_driver *d)
{
	return status_get(d);
}

static enum px_driver_status submit_msg(px_executor_driver *d, enum call_kind kind,
                                        const ProtobufCMessage *msg)
{
	enum px_driver_status s = status_get(d);
	if (s != PX_DRIVER_RUNNING)
		return s;
	char why[384];
	px_driver_error_clear();
	if (px_message_check(msg, why, sizeof(why)) != 0) {
		px_driver_error_set("executor driver: %s refused: %s", msg->descriptor->short_name,
		                    why);
		return PX_DRIVER_INVALID_CALL;
	}
	struct exec_call *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->msg = px_message_copy(msg)) == NULL) {
		px_driver_error_set("executor driver: %s dropped: out of memory",
		                    msg->descriptor->short_name);
		free(c);
		return s;
	}
	c->kind = kind;
	submit(d, c, false);
	return s;
}

enum px_driver_status px_executor_driver_send_status_update(px_executor_driver *d,
                                                            const Plexus__TaskStatus *status)
{
	return submit_msg(d, CALL_UPDATE, &status->base);
}

enum px_driver_status px_executor_driver_send_message(px_executor_driver *d, const uint8_t *data,
                                                      size_t len)
{
	Plexus__Internal__ExecutorToFrameworkMessage m =
	    PLEXUS__INTERNAL__EXECUTOR_TO_FRAMEWORK_MESSAGE__INIT;
	m.has_data = true;
	m.data.data = (uint8_t *)data;
	m.data.len = len;
	return submit_msg(d, CALL_MESSAGE, &m.base);
}
