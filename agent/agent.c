/* agent.c — the agent actor: its state, its handlers in one block, status updates from
 * executors and acknowledgements from the master, metrics, start and stop.
 * Registration with the master lives in registration.c, executors in executors.c, HTTP
 * in http.c and files.c. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/containerizer/containerizer.h"
#include "agent/containerizer/hooks.h"
#include "agent/detect.h"
#include "agent/fetcher.h"
#include "agent/files.h"
#include "agent/internal.h"
#include "agent/paths.h"

/* N of "slave(N)", process-wide, from 1 as Mesos numbers its agents. */
static atomic_uint agent_seq;

/* ---- metrics ---------------------------------------------------------------------- */

/* Metric names as Mesos's agent has them. Gauges are shared by every agent of the OS
 * process (the registry is process-wide), so each agent adds and removes its own share
 * instead of setting a value. */
static void metrics_init(struct agent_metrics *m)
{
	static const struct {
		Plexus__TaskState s;
		const char *name;
		bool terminal;
	} names[] = {
	    {PLEXUS__TASK_STATE__TASK_STAGING, "slave/tasks_staging", false},
	    {PLEXUS__TASK_STATE__TASK_STARTING, "slave/tasks_starting", false},
	    {PLEXUS__TASK_STATE__TASK_RUNNING, "slave/tasks_running", false},
	    {PLEXUS__TASK_STATE__TASK_KILLING, "slave/tasks_killing", false},
	    {PLEXUS__TASK_STATE__TASK_FINISHED, "slave/tasks_finished", true},
	    {PLEXUS__TASK_STATE__TASK_FAILED, "slave/tasks_failed", true},
	    {PLEXUS__TASK_STATE__TASK_KILLED, "slave/tasks_killed", true},
	    {PLEXUS__TASK_STATE__TASK_LOST, "slave/tasks_lost", true},
	    {PLEXUS__TASK_STATE__TASK_ERROR, "slave/tasks_error", true},
	    {PLEXUS__TASK_STATE__TASK_DROPPED, "slave/tasks_dropped", true},
	    {PLEXUS__TASK_STATE__TASK_GONE, "slave/tasks_gone", true},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].terminal)
			m->terminal[names[i].s] = actor_counter_get(names[i].name);
		else
			m->tasks[names[i].s] = actor_gauge_get(names[i].name);
	}
	m->registered = actor_gauge_get("slave/registered");
	m->executors_running = actor_gauge_get("slave/executors_running");
	m->executors_terminated = actor_counter_get("slave/executors_terminated");
	m->valid_status_updates = actor_counter_get("slave/valid_status_updates");
	m->invalid_status_updates = actor_counter_get("slave/invalid_status_updates");
	m->invalid_messages = actor_counter_get("slave/invalid_messages");
	m->frameworks_active = actor_gauge_get("slave/frameworks_active");
}

void agent_task_transition(struct agent *a, struct agent_task *t, Plexus__TaskState state)
{
	if ((unsigned)state >= 16)
		return;
	if (t->nstatus > 0 && t->state == state)
		return;
	if (t->nstatus > 0 && !px_task_state_is_terminal(t->state))
		actor_gauge_add(a->m.tasks[t->state], -1);
	if (px_task_state_is_terminal(state))
		actor_counter_inc(a->m.terminal[state]);
	else
		actor_gauge_add(a->m.tasks[state], 1);
	double *ts = realloc(t->timestamps, (t->nstatus + 1) * sizeof(*ts));
	if (ts != NULL) {
		t->timestamps = ts;
		Plexus__TaskState *ss = realloc(t->states, (t->nstatus + 1) * sizeof(*ss));
		if (ss != NULL) {
			t->states = ss;
			t->states[t->nstatus] = state;
			t->timestamps[t->nstatus] = agent_wall_now();
			t->nstatus++;
		}
	}
	t->state = state;
}

/* ---- look-ups --------------------------------------------------------------------- */

struct agent_framework *agent_framework_find(struct agent *a, const char *id)
{
	if (id == NULL)
		return NULL;
	for (struct agent_framework *fw = a->frameworks; fw != NULL; fw = fw->next)
		if (strcmp(fw->id, id) == 0)
			return fw;
	return NULL;
}

struct agent_executor *agent_executor_find(struct agent_framework *fw, const char *id)
{
	if (fw == NULL || id == NULL)
		return NULL;
	for (struct agent_executor *ex = fw->executors; ex != NULL; ex = ex->next)
		if (strcmp(ex->id, id) == 0)
			return ex;
	return NULL;
}

static struct agent_task *in_list(struct agent_task *t, const char *task_id)
{
	for (; t != NULL; t = t->next)
		if (strcmp(t->info->task_id->value, task_id) == 0)
			return t;
	return NULL;
}

struct agent_task *agent_task_find(struct agent_framework *fw, const char *task_id,
                                   struct agent_executor **exp)
{
	if (fw == NULL || task_id == NULL)
		return NULL;
	for (struct agent_executor *ex = fw->executors; ex != NULL; ex = ex->next) {
		struct agent_task *t = in_list(ex->queued, task_id);
		if (t == NULL)
			t = in_list(ex->launched, task_id);
		if (t != NULL) {
			if (exp != NULL)
				*exp = ex;
			return t;
		}
	}
	return NULL;
}

/* ---- status updates --------------------------------------------------------------- */

static Plexus__AgentID *new_agent_id(const char *value)
{
	Plexus__AgentID *id = malloc(sizeof(*id));
	if (id == NULL)
		return NULL;
	plexus__agent_id__init(id);
	id->value = strdup(value);
	if (id->value == NULL) {
		free(id);
		return NULL;
	}
	return id;
}

static Plexus__ExecutorID *new_executor_id(const char *value)
{
	Plexus__ExecutorID *id = malloc(sizeof(*id));
	if (id == NULL)
		return NULL;
	plexus__executor_id__init(id);
	id->value = strdup(value);
	if (id->value == NULL) {
		free(id);
		return NULL;
	}
	return id;
}

/* Fills in what the agent knows about an update before it is kept: its agent and
 * executor ids, and the uuid inside the status (frameworks acknowledge by it). */
static int complete_update(struct agent *a, struct agent_executor *ex,
                           Plexus__Internal__StatusUpdate *u)
{
	Plexus__TaskStatus *st = u->status;

	agent_pb_free(u->agent_id);
	agent_pb_free(st->agent_id);
	u->agent_id = new_agent_id(a->agent_id);
	st->agent_id = new_agent_id(a->agent_id);
	if (ex != NULL && !ex->command) {
		agent_pb_free(u->executor_id);
		agent_pb_free(st->executor_id);
		u->executor_id = new_executor_id(ex->id);
		st->executor_id = new_executor_id(ex->id);
		if (u->executor_id == NULL || st->executor_id == NULL)
			return ENOMEM;
	}
	if (u->agent_id == NULL || st->agent_id == NULL)
		return ENOMEM;
	if (!st->has_uuid) {
		st->uuid.data = malloc(16);
		if (st->uuid.data == NULL)
			return ENOMEM;
		memcpy(st->uuid.data, u->uuid.data, 16);
		st->uuid.len = 16;
		st->has_uuid = true;
	}
	if (!u->has_timestamp) {
		u->timestamp = agent_wall_now();
		u->has_timestamp = true;
	}
	if (!st->has_timestamp) {
		st->timestamp = u->timestamp;
		st->has_timestamp = true;
	}
	return 0;
}

void agent_send_update(struct agent *a, struct agent_framework *fw, struct agent_executor *ex,
                       const char *task_id, Plexus__TaskState state,
                       Plexus__TaskStatus__Reason reason, const char *message)
{
	Plexus__Internal__StatusUpdate u = PLEXUS__INTERNAL__STATUS_UPDATE__INIT;
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	uint8_t uuid[16];

	px_uuid_random(uuid);
	tid.value = (char *)task_id;
	fid.value = fw->id;
	st.task_id = &tid;
	st.state = state;
	st.has_source = true;
	st.source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_AGENT;
	st.has_reason = true;
	st.reason = reason;
	st.message = (char *)message;
	u.framework_id = &fid;
	u.status = &st;
	u.has_uuid = true;
	u.uuid.data = uuid;
	u.uuid.len = 16;

	Plexus__Internal__StatusUpdate *copy = (void *)px_message_copy(&u.base);
	if (copy == NULL || complete_update(a, ex, copy) != 0) {
		agent_pb_free(copy);
		actor_error(
		    "agent: out of memory; the %s update of task %s is lost",
		    protobuf_c_enum_descriptor_get_value(&plexus__task_state__descriptor, state)
		        ->name,
		    task_id);
		return;
	}
	actor_info(
	    "agent: task %s of framework %s is %s: %s", task_id, fw->id,
	    protobuf_c_enum_descriptor_get_value(&plexus__task_state__descriptor, state)->name,
	    message ? message : "");
	sum_update(&a->sum, a->self, copy);
	agent_checkpoint_executor(a, ex);
}

/* The status update manager's way out: StatusUpdateMessage to the master, with the
 * newest state the agent knows of the task (Mesos's latest_state). */
static void forward_update(actor_t *self, Plexus__Internal__StatusUpdate *u, void *arg)
{
	struct agent *a = arg;
	Plexus__Internal__StatusUpdateMessage m = PLEXUS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
	char pid[ACTOR_PID_TEXT_MAX];
	struct agent_framework *fw = agent_framework_find(a, u->framework_id->value);
	struct agent_task *t = agent_task_find(fw, u->status->task_id->value, NULL);

	if (t != NULL) {
		u->has_latest_state = true;
		u->latest_state = t->state;
	}
	actor_pid_format(a->pid, pid, sizeof(pid));
	m.update = u;
	m.pid = pid;
	actor_send_pb(self, a->master, &m.base);
}

static void move_task(struct agent_task **from, struct agent_task **to, struct agent_task *t)
{
	for (struct agent_task **pp = from; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			t->next = *to;
			*to = t;
			return;
		}
}

static void on_status_update(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__StatusUpdateMessage *m = (const void *)msg;

	(void)self;
	agent_executor_update(arg, from, m->update);
}

void agent_executor_update(struct agent *a, actor_pid from, const Plexus__Internal__StatusUpdate *u)
{
	actor_t *self = a->self;
	const char *why = NULL;
	struct agent_framework *fw = NULL;
	struct agent_executor *ex = NULL;
	struct agent_task *t = NULL;

	if (u == NULL || u->framework_id == NULL || u->status == NULL ||
	    u->status->task_id == NULL || !u->has_uuid || u->uuid.len != 16)
		why = "it lacks framework_id, status.task_id or a 16-byte uuid";
	else if ((fw = agent_framework_find(a, u->framework_id->value)) == NULL)
		why = "its framework is unknown";
	else if ((t = agent_task_find(fw, u->status->task_id->value, &ex)) == NULL)
		why = "its task is unknown";
	else if (ex->phase == EXECUTOR_TERMINATED || !actor_pid_equal(ex->driver, from))
		why = "it does not come from the task's executor";
	if (why != NULL) {
		actor_warn("agent: ignoring a status update from %s: %s", actor_pid_str(from), why);
		actor_counter_inc(a->m.invalid_status_updates);
		return;
	}
	Plexus__Internal__StatusUpdate *copy = (void *)px_message_copy(&u->base);
	if (copy == NULL || complete_update(a, ex, copy) != 0) {
		agent_pb_free(copy);
		actor_error("agent: out of memory handling an update of task %s",
		            t->info->task_id->value);
		return;
	}
	actor_counter_inc(a->m.valid_status_updates);
	/* A terminal task stays terminal: a late update is still passed on (the framework
	 * decides), but the task's state does not move back. */
	/* A task killed for its container's limit fails with that reason, as Mesos's. */
	int limit_reason;
	if (agent_container_rewrite_failure(a, ex, copy->status->state, &limit_reason,
	                                    &copy->status->message)) {
		copy->status->has_reason = true;
		copy->status->reason = (Plexus__TaskStatus__Reason)limit_reason;
	}
	if (!px_task_state_is_terminal(t->state))
		agent_task_transition(a, t, copy->status->state);

	Plexus__Internal__StatusUpdateAcknowledgementMessage ack =
	    PLEXUS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = a->agent_id;
	ack.agent_id = &aid;
	ack.framework_id = u->framework_id;
	ack.task_id = u->status->task_id;
	ack.has_uuid = true;
	ack.uuid = u->uuid;
	if (sum_update(&a->sum, self, copy) != 0)
		return;
	/* Kept on disk before the executor is told it may forget the update. */
	agent_checkpoint_executor(a, ex);
	/* The update is in the agent's hands now: the executor may forget it. */
	actor_send_pb(self, from, &ack.base);
	/* A command executor has nothing left to do once its task is over; telling it so
	 * (after the acknowledgement, in order) lets it exit without guessing. */
	if (ex->command && px_task_state_is_terminal(t->state) && !agent_executor_has_live_tasks(ex))
		agent_shutdown_executor(a, ex, "its task is over");
}

static void on_ack(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__StatusUpdateAcknowledgementMessage *m = (const void *)msg;

	if (!agent_from_master(a, from, "status update acknowledgement"))
		return;
	if (m->framework_id == NULL || m->task_id == NULL || !m->has_uuid) {
		actor_warn("agent: ignoring an acknowledgement without framework, task or uuid");
		actor_counter_inc(a->m.invalid_messages);
		return;
	}
	Plexus__Internal__StatusUpdate *acked = NULL;
	int rc = sum_ack(&a->sum, self, m->framework_id->value, m->task_id->value, m->uuid.data,
	                 m->uuid.len, &acked);
	if (rc != 0) {
		actor_warn("agent: ignoring an acknowledgement for task %s of framework %s: %s",
		           m->task_id->value, m->framework_id->value,
		           rc == ENOENT ? "no update is pending" : "not the pending update's uuid");
		return;
	}
	struct agent_framework *fw = agent_framework_find(a, m->framework_id->value);
	struct agent_executor *ex = NULL;
	struct agent_task *t = agent_task_find(fw, m->task_id->value, &ex);
	if (t != NULL && px_task_state_is_terminal(acked->status->state)) {
		/* The framework knows the task is over: it moves to the completed ones. */
		move_task(&ex->launched, &ex->completed, t);
		move_task(&ex->queued, &ex->completed, t);
	}
	if (t != NULL)
		agent_checkpoint_executor(a, ex);
	agent_gc(a, fw);
	agent_pb_free(acked);
}

/* ---- the actor -------------------------------------------------------------------- */

static void free_tasks(struct agent *a, struct agent_task *t)
{
	while (t != NULL) {
		struct agent_task *next = t->next;
		if (a != NULL && t->nstatus > 0 && !px_task_state_is_terminal(t->state))
			actor_gauge_add(a->m.tasks[t->state], -1);
		agent_pb_free(t->info);
		free(t->timestamps);
		free(t->states);
		free(t);
		t = next;
	}
}

void agent_executor_free(struct agent_executor *ex)
{
	if (ex == NULL)
		return;
	if (ex->directory != NULL) {
		char *virt = agent_sandbox_virtual(ex->fw->id, ex->id);
		files_detach(ex->directory, NULL);
		if (virt != NULL)
			files_detach(virt, ex->directory);
		free(virt);
	}
	free_tasks(NULL, ex->queued);
	free_tasks(NULL, ex->launched);
	free_tasks(NULL, ex->completed);
	agent_pb_free(ex->info);
	actor_future_discard(ex->fetch);
	actor_future_unref(ex->fetch);
	free(ex->end_message);
	free(ex->id);
	free(ex->directory);
	free(ex);
}

static void framework_free(struct agent_framework *fw)
{
	for (struct agent_executor *ex = fw->executors, *next; ex != NULL; ex = next) {
		next = ex->next;
		agent_executor_free(ex);
	}
	for (struct agent_executor *ex = fw->completed, *next; ex != NULL; ex = next) {
		next = ex->next;
		agent_executor_free(ex);
	}
	agent_pb_free(fw->info);
	free(fw->id);
	free(fw->pid);
	free(fw);
}

/* Mesos keeps a bounded history of completed executors and frameworks. */
#define MAX_COMPLETED_EXECUTORS  150
#define MAX_COMPLETED_FRAMEWORKS 50

void agent_gc(struct agent *a, struct agent_framework *fw)
{
	if (fw == NULL)
		return;
	for (struct agent_executor **pp = &fw->executors; *pp != NULL;) {
		struct agent_executor *ex = *pp;
		if (ex->phase == EXECUTOR_TERMINATED && ex->queued == NULL &&
		    ex->launched == NULL) {
			/* Its sandbox stays readable (Mesos keeps it until garbage collection;
			 * here until the executor leaves the bounded completed list). */
			*pp = ex->next;
			ex->next = fw->completed;
			fw->completed = ex;
			/* Nothing of it is left to recover; its sandbox goes after --gc-delay. */
			agent_checkpoint_forget_executor(a, ex);
			if (ex->directory != NULL)
				agent_gc_schedule(a, ex->directory, 0);
			continue;
		}
		pp = &ex->next;
	}
	size_t n = 0;
	for (struct agent_executor **pp = &fw->completed; *pp != NULL;) {
		if (++n > MAX_COMPLETED_EXECUTORS) {
			struct agent_executor *ex = *pp;
			*pp = ex->next;
			agent_executor_free(ex);
			continue;
		}
		pp = &(*pp)->next;
	}
	if (fw->executors != NULL)
		return;
	/* No executor left: the framework is done on this agent. */
	for (struct agent_framework **pp = &a->frameworks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == fw) {
			*pp = fw->next;
			fw->next = a->completed_frameworks;
			a->completed_frameworks = fw;
			actor_gauge_add(a->m.frameworks_active, -1);
			break;
		}
	n = 0;
	for (struct agent_framework **pp = &a->completed_frameworks; *pp != NULL;) {
		if (++n > MAX_COMPLETED_FRAMEWORKS) {
			struct agent_framework *old = *pp;
			*pp = old->next;
			framework_free(old);
			continue;
		}
		pp = &(*pp)->next;
	}
}

void agent_fill_info(struct agent *a, Plexus__AgentInfo *info, Plexus__Resource ***res,
                     size_t *nres)
{
	plexus__agent_info__init(info);
	info->hostname = a->hostname;
	info->has_port = true;
	info->port = a->http_port;
	*res = NULL;
	*nres = 0;
	if (px_resources_to_pb(a->resources, PX_PB_REFINED, res, nres) == PX_OK) {
		info->resources = *res;
		info->n_resources = *nres;
	}
	info->attributes = a->attributes;
	info->n_attributes = a->nattributes;
}

static int agent_init(actor_t *self)
{
	struct agent *a = actor_state(self);

	a->self = self;
	a->pid = actor_self(self);
	sum_init(&a->sum, a->sum.min_ms, a->sum.max_ms, forward_update, a);
	metrics_init(&a->m);

	/* Handlers, one block: master-facing first, then executor-facing. */
	actor_install_pb(self, &plexus__internal__status_update_acknowledgement_message__descriptor,
	                 on_ack, a);
	actor_install_pb(self, &plexus__internal__status_update_message__descriptor,
	                 on_status_update, a);
	agent_registration_install(a); /* Agent(Re)Registered, PingAgent, Shutdown */
	agent_executors_install(a);    /* RunTask, KillTask, Shutdown*, RegisterExecutor ... */
	agent_recovery_install(a);     /* ReregisterExecutor */
	/* init never fails, so that fini always runs and frees the state. */
	if (agent_http_install(a) != 0)
		actor_error("agent %s: cannot install its HTTP routes", a->pid.id);
	/* What a previous run of this agent left (executors, updates) comes first, so
	 * that registration already reports it. */
	agent_recover(a);
	agent_gc_start(a);
	agent_registration_start(a);
	return 0;
}

static void agent_exited(actor_t *self, actor_pid who)
{
	struct agent *a = actor_state(self);

	if (agent_executors_exited(a, who))
		return;
	agent_registration_exited(a, who);
}

static void agent_fini(actor_t *self)
{
	struct agent *a = actor_state(self);

	a->self = self;
	agent_registration_stop(a);
	agent_gc_stop(a);
	if (a->reregister_timer != 0)
		actor_cancel(self, a->reregister_timer);
	/* Fetches still running stop first (their executors never started). */
	agent_fetcher_free(a->fetcher);
	a->fetcher = NULL;
	agent_executors_destroy_all(a);
	containerizer_free(a->launcher_ctx);
	sum_fini(&a->sum, self);
	for (struct agent_framework *fw = a->frameworks, *next; fw != NULL; fw = next) {
		next = fw->next;
		for (struct agent_executor *ex = fw->executors; ex != NULL; ex = ex->next) {
			free_tasks(a, ex->queued);
			free_tasks(a, ex->launched);
			ex->queued = ex->launched = NULL;
		}
		actor_gauge_add(a->m.frameworks_active, -1);
		framework_free(fw);
	}
	for (struct agent_framework *fw = a->completed_frameworks, *next; fw != NULL; fw = next) {
		next = fw->next;
		framework_free(fw);
	}
	if (a->conn == AGENT_REGISTERED)
		actor_gauge_add(a->m.registered, -1);
	px_resources_free(a->resources);
	agent_attributes_free(a->attributes, a->nattributes);
	agent_pb_free(a->master_info);
	agent_pb_free(a->checkpointed);
	free(a->master_text);
	free(a->hostname);
	free(a->work_dir);
	free(a->executor_path);
	free(a->agent_id);
	free(a);
	files_unref();
}

static const actor_def agent_def = {
    .name = "slave",
    .init = agent_init,
    .fini = agent_fini,
    .exited = agent_exited,
};

/* ---- start and stop --------------------------------------------------------------- */

void agent_flags_default(struct agent_flags *f)
{
	memset(f, 0, sizeof(*f));
	f->port = 5051;
	f->actor_port = 0;
	f->work_dir = "/tmp/plexus/agent";
	f->executor_shutdown_grace_ms = 5000;
	f->executor_registration_timeout_ms = 60000;
	f->registration_backoff_ms = 1000;
	f->update_retry_min_ms = 10000;
	f->update_retry_max_ms = 600000;
	f->checkpoint = 1;
	f->recover = "reconnect";
	f->recovery_timeout_ms = 15 * 60000;
	f->executor_reregistration_timeout_ms = 2000;
	f->gc_delay_ms = 7LL * 24 * 3600 * 1000;
	f->gc_disk_headroom = 0.1;
	f->disk_watch_interval_ms = 60000;
	f->fetcher_cache_size = 2ULL << 30; /* Mesos's 2GB */
}

/* The plexus-executor binary next to the running program (plexus or a test). */
static char *default_executor_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *path = NULL;

	if (n <= 0)
		return strdup("plexus-executor");
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	if (asprintf(&path, "%s/plexus-executor", self) < 0)
		return NULL;
	return path;
}

int agent_start(const struct agent_flags *f, actor_pid *out, char *err, size_t errlen)
{
	char why[512] = "";
	struct agent *a = calloc(1, sizeof(*a));
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (a == NULL)
		return px_errorf(err, errlen, PX_ENOMEM, "out of memory");
	if (f->master == NULL || *f->master == '\0') {
		free(a);
		return px_errorf(err, errlen, PX_EINVAL, "--master is required");
	}
	if ((rc = agent_mkdirs(f->work_dir)) != 0) {
		free(a);
		return px_errorf(err, errlen, PX_EINVAL, "cannot create the work dir '%s': %s",
		                 f->work_dir, strerror(rc));
	}
	char *real = realpath(f->work_dir, NULL);
	a->work_dir = real;
	a->master_text = strdup(f->master);
	char host[256] = "localhost";
	if (f->hostname == NULL)
		gethostname(host, sizeof(host) - 1);
	a->hostname = strdup(f->hostname ? f->hostname : host);
	a->executor_path = f->executor_path ? strdup(f->executor_path) : default_executor_path();
	a->http_port = f->port;
	a->shutdown_grace_ms = f->executor_shutdown_grace_ms;
	a->registration_timeout_ms = f->executor_registration_timeout_ms;
	a->backoff_ms = f->registration_backoff_ms > 0 ? f->registration_backoff_ms : 1000;
	a->sum.min_ms = f->update_retry_min_ms;
	a->sum.max_ms = f->update_retry_max_ms;
	a->start_time = agent_wall_now();
	a->checkpoint = f->checkpoint != 0;
	a->recover_cleanup = f->recover != NULL && strcmp(f->recover, "cleanup") == 0;
	a->recovery_timeout_ms = f->recovery_timeout_ms > 0 ? f->recovery_timeout_ms : 15 * 60000;
	a->reregister_timeout_ms =
	    f->executor_reregistration_timeout_ms > 0 ? f->executor_reregistration_timeout_ms : 2000;
	a->gc_delay_ms = f->gc_delay_ms > 0 ? f->gc_delay_ms : 7LL * 24 * 3600 * 1000;
	a->gc_headroom =
	    f->gc_disk_headroom >= 0 && f->gc_disk_headroom <= 1 ? f->gc_disk_headroom : 0.1;
	a->disk_watch_ms = f->disk_watch_interval_ms > 0 ? f->disk_watch_interval_ms : 60000;
	if (f->recover != NULL && strcmp(f->recover, "reconnect") != 0 && !a->recover_cleanup) {
		rc = px_errorf(err, errlen, PX_EINVAL,
		               "--recover must be reconnect or cleanup, not '%s'", f->recover);
		goto fail;
	}
	if (a->work_dir == NULL || a->master_text == NULL || a->hostname == NULL ||
	    a->executor_path == NULL) {
		rc = px_errorf(err, errlen, PX_ENOMEM, "out of memory");
		goto fail;
	}
	rc = agent_resources(f->resources, a->work_dir, &a->resources, why, sizeof(why));
	if (rc != PX_OK) {
		px_errorf(err, errlen, rc, "--resources: %s", why);
		goto fail;
	}
	rc = agent_attributes_parse(f->attributes, &a->attributes, &a->nattributes, why,
	                            sizeof(why));
	if (rc != PX_OK) {
		px_errorf(err, errlen, rc, "--attributes: %s", why);
		goto fail;
	}
	struct containerizer_flags cf = {
	    .isolation = f->isolation,
	    .cgroups_root = f->cgroups_root,
	    .enable_cfs = f->cgroups_enable_cfs != 0,
	    .enforce_disk = f->enforce_container_disk_quota != 0,
	    .disk_watch_ms = f->container_disk_watch_ms,
	};
	a->launcher = &containerizer_launcher;
	if (containerizer_create(&cf, (struct containerizer **)&a->launcher_ctx, why,
	                         sizeof(why)) != 0) {
		rc = px_errorf(err, errlen, PX_EINVAL, "%s", why);
		goto fail;
	}
	char *cache_dir = NULL;
	if (f->fetcher_cache_dir == NULL && asprintf(&cache_dir, "%s/fetch", a->work_dir) < 0)
		cache_dir = NULL;
	const char *cdir = f->fetcher_cache_dir ? f->fetcher_cache_dir : cache_dir;
	rc = cdir ? agent_fetcher_alloc(cdir, f->fetcher_cache_size, &a->fetcher, why, sizeof(why))
	          : -1;
	free(cache_dir);
	if (rc != 0) {
		rc = px_errorf(err, errlen, PX_EINVAL, "--fetcher-cache-dir: %s",
		               cdir ? why : "out of memory");
		goto fail;
	}
	if ((rc = files_ref()) != 0) {
		px_errorf(err, errlen, PX_EINVAL, "cannot start the files actor: %s",
		          actor_strerror(rc));
		goto fail;
	}
	/* Spawn as "slave(N)": the runtime appends its own "(K)" only when the id is taken
	 * (another library in the process spawned that name). */
	snprintf(a->name, sizeof(a->name), "slave(%u)", atomic_fetch_add(&agent_seq, 1) + 1);
	a->def = agent_def;
	a->def.name = a->name;
	actor_pid pid;
	rc = actor_spawn(&a->def, a, &pid);
	if (rc != 0) {
		/* init never fails, so the spawn failed before it: nothing ran. */
		px_errorf(err, errlen, PX_EINVAL, "cannot spawn the agent actor: %s",
		          actor_strerror(rc));
		files_unref();
		goto fail;
	}
	/* a belongs to the actor now (it may even have ended): log from f. */
	actor_info("agent %s started: work dir %s, master %s", actor_pid_str(pid), f->work_dir,
	           f->master);
	if (out != NULL)
		*out = pid;
	return 0;
fail:
	agent_fetcher_free(a->fetcher);
	containerizer_free(a->launcher_ctx);
	px_resources_free(a->resources);
	agent_attributes_free(a->attributes, a->nattributes);
	free(a->work_dir);
	free(a->master_text);
	free(a->hostname);
	free(a->executor_path);
	free(a);
	return rc ? rc : PX_EINVAL;
}

void agent_stop(actor_pid pid)
{
	actor_terminate(pid);
	actor_wait(pid, -1);
}
