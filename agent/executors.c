/* executors.c — tasks and their executors: launching an executor (the command executor
 * for a task that brings only a command, or the framework's own) in a fresh sandbox
 * through the launcher, its registration, handing it tasks, killing tasks, shutting
 * executors down (SIGTERM/SIGKILL through the launcher after the grace period), and
 * what happens when an executor process ends. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/containerizer/hooks.h"
#include "agent/files.h"
#include "agent/fetcher.h"
#include "agent/internal.h"
#include "agent/paths.h"
#include "plexus/util.h"

extern char **environ;

static void append(struct agent_task **list, struct agent_task *t)
{
	while (*list != NULL)
		list = &(*list)->next;
	t->next = NULL;
	*list = t;
}

static void unlink_task(struct agent_task **list, struct agent_task *t)
{
	for (; *list != NULL; list = &(*list)->next)
		if (*list == t) {
			*list = t->next;
			t->next = NULL;
			return;
		}
}

/* ---- timers naming executors by serial -------------------------------------------- */

struct ex_tick {
	uint64_t serial;
	uint64_t id;
};

static struct agent_executor *by_serial(struct agent *a, uint64_t serial)
{
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
			if (ex->serial == serial)
				return ex;
	return NULL;
}

static uint64_t ex_arm(struct agent *a, struct agent_executor *ex, int64_t ms, actor_fn fn)
{
	struct ex_tick *t = malloc(sizeof(*t));
	if (t == NULL)
		return 0;
	t->serial = ex->serial;
	t->id = actor_delay(a->self, ms, fn, t);
	return t->id;
}

/* The executor a timer was for, if the timer is still the current one of *field. */
static struct agent_executor *ex_fired(actor_t *self, void *arg, size_t field)
{
	struct ex_tick *t = arg;
	uint64_t serial = t->serial, id = t->id;

	free(t);
	if (self == NULL)
		return NULL;
	struct agent_executor *ex = by_serial(actor_state(self), serial);
	if (ex == NULL)
		return NULL;
	uint64_t *timer = (uint64_t *)((char *)ex + field);
	if (*timer != id)
		return NULL;
	*timer = 0;
	return ex;
}

static void ex_cancel(struct agent *a, uint64_t *timer)
{
	if (*timer != 0) {
		actor_cancel(a->self, *timer);
		*timer = 0;
	}
}

/* ---- the environment of an executor ----------------------------------------------- */

struct envbuf {
	char **v;
	size_t n, cap;
};

static int env_add(struct envbuf *e, const char *name, const char *value)
{
	char *s = NULL;

	if (asprintf(&s, "%s=%s", name, value ? value : "") < 0)
		return ENOMEM;
	size_t nlen = strlen(name);
	/* A later value of a name replaces the earlier one. */
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, nlen) == 0 && e->v[i][nlen] == '=') {
			free(e->v[i]);
			e->v[i] = s;
			return 0;
		}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (v == NULL) {
			free(s);
			return ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

static void env_free(struct envbuf *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* The agent's own environment (PATH, HOME ...) without what belongs to the agent's
 * runtime, then what the executor driver reads (PLEXUS_*) and the same under Mesos's
 * names (MESOS_*), then the variables of the executor's CommandInfo. */
static int build_env(struct agent *a, struct agent_executor *ex, struct envbuf *e)
{
	char pid[ACTOR_PID_TEXT_MAX], grace[32], ip[16], recovery[32], endpoint[32];
	char mgrace[32], mrecovery[32];
	int rc = 0;
	uint32_t aip = a->pid.ip;

	for (char **p = environ; p != NULL && *p != NULL && rc == 0; p++) {
		if (strncmp(*p, "PLEXUS_", 7) == 0 || strncmp(*p, "ACTOR_", 6) == 0 ||
		    strncmp(*p, "MESOS_", 6) == 0)
			continue;
		char *eq = strchr(*p, '=');
		if (eq == NULL)
			continue;
		char name[256];
		size_t n = (size_t)(eq - *p);
		if (n >= sizeof(name))
			continue;
		memcpy(name, *p, n);
		name[n] = '\0';
		rc = env_add(e, name, eq + 1);
	}
	actor_pid_format(a->pid, pid, sizeof(pid));
	snprintf(grace, sizeof(grace), "%lldms", (long long)ex->grace_ms);
	snprintf(recovery, sizeof(recovery), "%lldms", (long long)a->recovery_timeout_ms);
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", aip >> 24, (aip >> 16) & 255, (aip >> 8) & 255,
	         aip & 255);
	/* Mesos's endpoint is where the agent's HTTP API answers. */
	snprintf(endpoint, sizeof(endpoint), "%s:%d", ip,
	         a->http_port > 0 ? a->http_port : a->pid.port);
	px_duration_format(ex->grace_ms, mgrace, sizeof(mgrace));
	px_duration_format(a->recovery_timeout_ms, mrecovery, sizeof(mrecovery));
	const char *vars[][2] = {
	    {"PLEXUS_AGENT_PID", pid},
	    {"PLEXUS_AGENT_ID", a->agent_id},
	    {"PLEXUS_FRAMEWORK_ID", ex->fw->id},
	    {"PLEXUS_EXECUTOR_ID", ex->id},
	    {"PLEXUS_DIRECTORY", ex->directory},
	    {"PLEXUS_SANDBOX", ex->directory},
	    /* A checkpointing agent recovers its executors after a restart: they wait for
	     * it (up to the recovery timeout) instead of shutting down at once. */
	    {"PLEXUS_CHECKPOINT", a->checkpoint ? "1" : "0"},
	    {"PLEXUS_RECOVERY_TIMEOUT", recovery},
	    {"PLEXUS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", grace},
	    /* The same as Mesos names them, for executors written against Mesos. */
	    {"MESOS_FRAMEWORK_ID", ex->fw->id},
	    {"MESOS_EXECUTOR_ID", ex->id},
	    {"MESOS_DIRECTORY", ex->directory},
	    {"MESOS_SANDBOX", ex->directory},
	    {"MESOS_SLAVE_ID", a->agent_id},
	    {"MESOS_AGENT_ID", a->agent_id},
	    {"MESOS_SLAVE_PID", pid},
	    {"MESOS_AGENT_ENDPOINT", endpoint},
	    {"MESOS_CHECKPOINT", a->checkpoint ? "1" : "0"},
	    {"MESOS_RECOVERY_TIMEOUT", mrecovery},
	    {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", mgrace},
	    /* The executor's runtime listens on an ephemeral port of the agent's address. */
	    {"ACTOR_IP", ip},
	    {"ACTOR_PORT", "0"},
	    {"ACTOR_WORKERS", "2"},
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && rc == 0; i++)
		rc = env_add(e, vars[i][0], vars[i][1]);
	const Plexus__CommandInfo *cmd = ex->info->command;
	if (cmd != NULL && cmd->environment != NULL)
		for (size_t i = 0; i < cmd->environment->n_variables && rc == 0; i++) {
			const Plexus__Environment__Variable *v = cmd->environment->variables[i];
			if (v->name != NULL && v->value != NULL && *v->name != '\0')
				rc = env_add(e, v->name, v->value);
		}
	return rc;
}

/* ---- launching -------------------------------------------------------------------- */

static void on_reaped(actor_t *self, pid_t pid, int status, void *arg);
static void registration_timeout_cb(actor_t *self, void *arg);
static void fetched(actor_t *self, actor_future *f, void *arg);

/* A generated ExecutorInfo for a task that brings only a command, as Mesos makes for
 * its command executor: the executor's id is the task's id. */
static Plexus__ExecutorInfo *command_executor_info(struct agent *a, const Plexus__TaskInfo *task,
                                                   const char *framework_id)
{
	Plexus__ExecutorInfo info = PLEXUS__EXECUTOR_INFO__INIT;
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	char name[512];

	eid.value = task->task_id->value;
	fid.value = (char *)framework_id;
	cmd.value = a->executor_path;
	cmd.has_shell = true;
	cmd.shell = false;
	/* The task's URIs are fetched into the executor's sandbox, as Mesos does. */
	if (task->command != NULL) {
		cmd.n_uris = task->command->n_uris;
		cmd.uris = task->command->uris;
	}
	snprintf(name, sizeof(name), "Command Executor (Task: %s) (Command: %s)",
	         task->task_id->value,
	         task->command && task->command->value ? task->command->value : "");
	info.executor_id = &eid;
	info.framework_id = &fid;
	info.command = &cmd;
	info.name = name;
	info.source = task->task_id->value;
	info.has_type = true;
	info.type = PLEXUS__EXECUTOR_INFO__TYPE__DEFAULT;
	return (void *)px_message_copy(&info.base);
}

/* Marks an executor whose process never started (or never will) TERMINATED, with the
 * reason its tasks will carry. */
static void launch_failed(struct agent *a, struct agent_executor *ex, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void launch_failed(struct agent *a, struct agent_executor *ex, const char *fmt, ...)
{
	va_list ap;

	free(ex->end_message);
	va_start(ap, fmt);
	if (vasprintf(&ex->end_message, fmt, ap) < 0)
		ex->end_message = NULL;
	va_end(ap);
	actor_warn("agent %s: cannot launch executor %s of framework %s: %s", a->pid.id,
	           ex->id ? ex->id : "?", ex->fw->id, ex->end_message ? ex->end_message : "?");
	ex->phase = EXECUTOR_TERMINATED;
	ex->container.pid = 0;
	ex->has_end_reason = true;
	ex->end_reason = PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
}

static void fail_live_tasks(struct agent *a, struct agent_executor *ex);
static int start_process(struct agent *a, struct agent_executor *ex, char *err, size_t errlen);

/* The fetch of an executor's URIs is over (f): start its process, or end it with the
 * fetcher's reason, as Mesos reports a failed fetch (TASK_FAILED, container launch
 * failed). Its tasks waited in queued meanwhile. */
static void fetched(actor_t *self, actor_future *f, void *arg)
{
	uint64_t serial = (uint64_t)(uintptr_t)arg;
	char err[512] = "";

	if (self == NULL)
		return; /* the agent has ended */
	struct agent *a = actor_state(self);
	struct agent_executor *ex = by_serial(a, serial);
	if (ex == NULL || ex->fetch != f)
		return;
	ex->fetch = NULL;
	if (ex->phase != EXECUTOR_LAUNCHING) {
		/* Shut down while fetching (agent_shutdown_executor discarded the fetch). */
		actor_info("agent %s: executor %s of framework %s ends before it started",
		           a->pid.id, ex->id, ex->fw->id);
		ex->phase = EXECUTOR_TERMINATED;
		if (!ex->has_end_reason) {
			ex->has_end_reason = true;
			ex->end_reason = PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
			ex->end_message = strdup("Executor shut down before it started");
		}
	} else if (actor_future_state(f) != ACTOR_FUTURE_READY) {
		const char *why = actor_future_why(f);
		launch_failed(a, ex,
		              "Failed to launch container: Failed to fetch all URIs for container "
		              "'%s': %s",
		              ex->run_uuid, why ? why : actor_strerror(actor_future_error(f)));
	} else if (start_process(a, ex, err, sizeof(err)) != 0) {
		launch_failed(a, ex, "Failed to launch the executor: %s", err);
	} else {
		actor_future_unref(f);
		agent_container_update(a, ex); /* the tasks queued meanwhile */
		agent_checkpoint_executor(a, ex);
		return;
	}
	actor_future_unref(f);
	fail_live_tasks(a, ex);
	agent_checkpoint_executor(a, ex);
	agent_gc(a, ex->fw);
}

/* Starts the executor's process (its sandbox is ready): argv and environment, the
 * launcher, the reaper's watch, the registration timer. 0, or -1 with err. */
static int start_process(struct agent *a, struct agent_executor *ex, char *err, size_t errlen)
{
	const Plexus__CommandInfo *cmd = ex->info->command;
	struct agent_framework *fw = ex->fw;
	struct envbuf env = {0};
	char *argv[4] = {NULL};
	int rc;

	const char *path;
	char **args = argv;
	char **owned_args = NULL;
	if (!cmd->has_shell || cmd->shell) {
		path = "/bin/sh";
		argv[0] = (char *)"sh";
		argv[1] = (char *)"-c";
		argv[2] = cmd->value;
	} else {
		path = cmd->value;
		owned_args = calloc(cmd->n_arguments + 2, sizeof(*owned_args));
		if (owned_args == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (cmd->n_arguments == 0)
			owned_args[0] = cmd->value;
		for (size_t i = 0; i < cmd->n_arguments; i++)
			owned_args[i] = cmd->arguments[i];
		args = owned_args;
	}
	if (build_env(a, ex, &env) != 0) {
		free(owned_args);
		env_free(&env);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct agent_launch l = {
	    .path = path, .argv = args, .envp = env.v, .directory = ex->directory};
	agent_container_launch_info(a, ex, &l);
	rc = a->launcher->launch(&l, &ex->container, err, errlen);
	free(owned_args);
	env_free(&env);
	if (rc != 0)
		return -1;
	if ((rc = actor_reap_watch(ex->container.pid, a->pid, on_reaped, NULL)) != 0) {
		/* Without a reaper nobody would notice its end: do not run it at all. */
		a->launcher->destroy(&ex->container);
		while (waitpid(ex->container.pid, NULL, 0) < 0 && errno == EINTR)
			;
		agent_container_cleanup(a, ex);
		snprintf(err, errlen, "cannot watch the executor process: %s", actor_strerror(rc));
		return -1;
	}
	ex->start_ticks = ckpt_process_start((int)ex->container.pid);
	actor_gauge_add(a->m.executors_running, 1);
	actor_info("agent %s: launched executor %s of framework %s (pid %d) in %s", a->pid.id,
	           ex->id, fw->id, (int)ex->container.pid, ex->directory);
	ex->registration_timer = ex_arm(a, ex, a->registration_timeout_ms, registration_timeout_cb);
	return 0;
}

/* Starts an executor. Returns it (in fw's list) even when the launch failed: then it
 * is TERMINATED with end_message saying why, so its tasks fail the usual way. With
 * URIs to fetch it stays LAUNCHING without a process until the fetch is over (then
 * fetched() goes on). */
static struct agent_executor *launch_executor(struct agent *a, struct agent_framework *fw,
                                              Plexus__ExecutorInfo *info, bool command)
{
	struct agent_executor *ex = calloc(1, sizeof(*ex));
	char err[512] = "";
	uint8_t uuid[16];
	int rc;

	if (ex == NULL) {
		agent_pb_free(info);
		return NULL;
	}
	ex->fw = fw;
	ex->info = info;
	ex->command = command;
	ex->id = strdup(info->executor_id->value);
	ex->serial = ++a->next_serial;
	ex->grace_ms = a->shutdown_grace_ms;
	if (info->shutdown_grace_period != NULL && info->shutdown_grace_period->nanoseconds >= 0)
		ex->grace_ms = info->shutdown_grace_period->nanoseconds / 1000000;
	px_uuid_random(uuid);
	px_uuid_format(uuid, ex->run_uuid);
	ex->phase = EXECUTOR_LAUNCHING;
	ex->next = fw->executors;
	fw->executors = ex;
	if (ex->id == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto failed;
	}
	rc = agent_sandbox_create(a->work_dir, a->agent_id, fw->id, ex->id, ex->run_uuid,
	                          &ex->directory, err, sizeof(err));
	if (rc != 0)
		goto failed;
	/* Served by /files under its real path and under Mesos's virtual one. */
	char *virt = agent_sandbox_virtual(fw->id, ex->id);
	files_attach(ex->directory, ex->directory);
	if (virt != NULL)
		files_attach(ex->directory, virt);
	free(virt);

	const Plexus__CommandInfo *cmd = info->command;
	if (cmd == NULL || cmd->value == NULL || *cmd->value == '\0') {
		snprintf(err, sizeof(err), "the executor has no command to run");
		goto failed;
	}
	/* Mesos fetches before the executor starts, off the agent's actor (downloads take
	 * their time); a failed fetch fails its tasks. */
	if (cmd->n_uris > 0) {
		ex->fetch = agent_fetch(a->fetcher, cmd, ex->directory);
		actor_future_on_any(ex->fetch, a->self, fetched, (void *)(uintptr_t)ex->serial);
		return ex;
	}
	if (start_process(a, ex, err, sizeof(err)) != 0)
		goto failed;
	return ex;
failed:
	launch_failed(a, ex, "Failed to launch the executor: %s", err);
	return ex;
}

/* Sends the task to a registered executor (Mesos sends RunTaskMessage on). */
static void send_task(struct agent *a, struct agent_executor *ex, struct agent_task *t)
{
	Plexus__Internal__RunTaskMessage m = PLEXUS__INTERNAL__RUN_TASK_MESSAGE__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;

	fid.value = ex->fw->id;
	m.framework_id = &fid;
	m.framework = ex->fw->info;
	m.framework_pid = ex->fw->pid;
	m.task = t->info;
	actor_send_pb(a->self, ex->driver, &m.base);
}

/* Ends the tasks that never reached a terminal state, after their executor is gone. */
static void fail_live_tasks(struct agent *a, struct agent_executor *ex)
{
	/* A container that could not launch (a failed fetch) fails its tasks, as Mesos's. */
	bool launch_failed =
	    ex->has_end_reason &&
	    ex->end_reason == PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
	Plexus__TaskState state = ex->command || launch_failed ? PLEXUS__TASK_STATE__TASK_FAILED
	                                                       : PLEXUS__TASK_STATE__TASK_LOST;
	Plexus__TaskStatus__Reason reason =
	    ex->has_end_reason ? ex->end_reason
	                       : PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
	char msg[700];

	if (ex->end_message != NULL)
		snprintf(msg, sizeof(msg), "%s", ex->end_message);
	else if (WIFSIGNALED(ex->wait_status))
		snprintf(msg, sizeof(msg), "Executor terminated: killed by signal %d (%s)",
		         WTERMSIG(ex->wait_status), strsignal(WTERMSIG(ex->wait_status)));
	else
		snprintf(msg, sizeof(msg), "Executor terminated: exited with status %d",
		         WIFEXITED(ex->wait_status) ? WEXITSTATUS(ex->wait_status) : -1);
	while (ex->queued != NULL) {
		struct agent_task *t = ex->queued;
		ex->queued = t->next;
		append(&ex->launched, t);
	}
	for (struct agent_task *t = ex->launched, *next; t != NULL; t = next) {
		next = t->next;
		if (px_task_state_is_terminal(t->state))
			continue;
		agent_task_transition(a, t, state);
		if (!ex->fw->removing)
			agent_send_update(a, ex->fw, ex, t->info->task_id->value, state, reason,
			                  msg);
	}
	if (ex->fw->removing) {
		/* Nobody will acknowledge these: they are complete now. */
		while (ex->launched != NULL) {
			struct agent_task *t = ex->launched;
			ex->launched = t->next;
			append(&ex->completed, t);
		}
	}
}

/* The framework fw_id, made known to the agent if it is new; NULL on out of memory. */
static struct agent_framework *ensure_framework(struct agent *a, const char *fw_id,
                                                const Plexus__FrameworkInfo *info, const char *pid)
{
	struct agent_framework *fw = agent_framework_find(a, fw_id);
	if (fw == NULL) {
		fw = calloc(1, sizeof(*fw));
		if (fw == NULL || (fw->id = strdup(fw_id)) == NULL) {
			free(fw);
			actor_error("agent: out of memory for framework %s", fw_id);
			return NULL;
		}
		fw->next = a->frameworks;
		a->frameworks = fw;
		actor_gauge_add(a->m.frameworks_active, 1);
	}
	if (info != NULL) {
		agent_pb_free(fw->info);
		fw->info = (void *)px_message_copy(&info->base);
	}
	if (pid != NULL && *pid != '\0') {
		free(fw->pid);
		fw->pid = strdup(pid);
	}
	fw->removing = false;
	return fw;
}

void agent_run_task(struct agent *a, const Plexus__Internal__RunTaskMessage *m)
{
	const Plexus__TaskInfo *task = m->task;
	const char *fw_id = m->framework_id && m->framework_id->value ? m->framework_id->value
	                    : m->framework && m->framework->id        ? m->framework->id->value
	                                                              : NULL;

	if (task == NULL || task->task_id == NULL || task->task_id->value == NULL ||
	    fw_id == NULL) {
		actor_warn("agent %s: ignoring a RunTaskMessage without task or framework id",
		           a->pid.id);
		actor_counter_inc(a->m.invalid_messages);
		return;
	}
	if (a->conn != AGENT_REGISTERED || a->agent_id == NULL) {
		actor_warn("agent %s: ignoring task %s: not registered with the master", a->pid.id,
		           task->task_id->value);
		return;
	}
	struct agent_framework *fw = ensure_framework(a, fw_id, m->framework, m->framework_pid);
	if (fw == NULL)
		return;
	if (agent_task_find(fw, task->task_id->value, NULL) != NULL) {
		actor_warn("agent %s: ignoring task %s of framework %s: a task with that id runs "
		           "already",
		           a->pid.id, task->task_id->value, fw_id);
		return;
	}

	const char *invalid = NULL;
	if (!agent_path_id_valid(task->task_id->value))
		invalid = "the task id cannot be used as a path component";
	else if (task->executor == NULL && (task->command == NULL))
		invalid = "the task has neither a command nor an executor";
	else if (task->executor != NULL && task->command != NULL)
		invalid = "the task has both a command and an executor";
	else if (task->executor != NULL &&
	         (task->executor->executor_id == NULL ||
	          !agent_path_id_valid(task->executor->executor_id->value)))
		invalid = "the executor id cannot be used as a path component";

	struct agent_task *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->info = (void *)px_message_copy(&task->base)) == NULL) {
		free(t);
		actor_error("agent: out of memory for task %s", task->task_id->value);
		return;
	}

	const char *ex_id =
	    task->executor ? task->executor->executor_id->value : task->task_id->value;
	struct agent_executor *ex = invalid ? NULL : agent_executor_find(fw, ex_id);
	if (invalid == NULL && ex == NULL) {
		Plexus__ExecutorInfo *info = task->executor ? (void *)px_message_copy(&task->executor->base)
		                                            : command_executor_info(a, task, fw_id);
		if (info != NULL)
			ex = launch_executor(a, fw, info, task->executor == NULL);
		if (ex == NULL)
			invalid = "out of memory";
	}
	if (invalid != NULL || ex->phase == EXECUTOR_TERMINATING ||
	    (ex->phase == EXECUTOR_TERMINATED && !ex->has_end_reason)) {
		/* No executor will ever see this task: it ends here. */
		Plexus__TaskState state =
		    invalid ? PLEXUS__TASK_STATE__TASK_ERROR : PLEXUS__TASK_STATE__TASK_LOST;
		Plexus__TaskStatus__Reason reason =
		    invalid ? PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID
		            : PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
		agent_task_transition(a, t, state);
		agent_send_update(a, fw, NULL, task->task_id->value, state, reason,
		                  invalid ? invalid : "Executor terminating");
		agent_pb_free(t->info);
		free(t->timestamps);
		free(t->states);
		free(t);
		agent_gc(a, fw);
		return;
	}
	agent_task_transition(a, t, PLEXUS__TASK_STATE__TASK_STAGING);
	switch (ex->phase) {
	case EXECUTOR_RUNNING:
		append(&ex->launched, t);
		send_task(a, ex, t);
		break;
	case EXECUTOR_LAUNCHING:
		append(&ex->queued, t);
		break;
	default: /* the launch failed just now */
		append(&ex->queued, t);
		fail_live_tasks(a, ex);
		agent_gc(a, fw);
		return;
	}
	agent_container_update(a, ex); /* the container grows by the task */
	agent_checkpoint_executor(a, ex);
}

static void on_run_task(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;

	if (agent_from_master(a, from, "RunTaskMessage"))
		agent_run_task(a, (const void *)msg);
}

/* Task groups need the default executor, which does not exist yet: each task of the
 * group ends at once, so the framework is not left waiting. */
static void on_run_task_group(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__RunTaskGroupMessage *m = (const void *)msg;

	if (!agent_from_master(a, from, "RunTaskGroupMessage"))
		return;
	const char *fw_id = m->framework && m->framework->id ? m->framework->id->value : NULL;
	if (fw_id == NULL || m->task_group == NULL || a->conn != AGENT_REGISTERED) {
		actor_warn("agent %s: ignoring a RunTaskGroupMessage without framework id or tasks",
		           a->pid.id);
		actor_counter_inc(a->m.invalid_messages);
		return;
	}
	struct agent_framework *fw = ensure_framework(a, fw_id, m->framework, NULL);
	if (fw == NULL)
		return;
	for (size_t i = 0; i < m->task_group->n_tasks; i++) {
		const Plexus__TaskInfo *t = m->task_group->tasks[i];
		if (t->task_id != NULL && t->task_id->value != NULL)
			agent_send_update(a, fw, NULL, t->task_id->value,
			                  PLEXUS__TASK_STATE__TASK_ERROR,
			                  PLEXUS__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID,
			                  "Task groups are not supported by this agent yet");
	}
	agent_gc(a, fw);
}

/* ---- executor registration -------------------------------------------------------- */

void agent_executor_refuse(actor_t *self, struct agent *a, actor_pid from,
                           Plexus__FrameworkID *framework_id, Plexus__ExecutorID *executor_id)
{
	Plexus__Internal__ShutdownExecutorMessage sd = PLEXUS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;

	sd.framework_id = framework_id;
	sd.executor_id = executor_id;
	actor_send_pb(self, from, &sd.base);
	actor_counter_inc(a->m.invalid_messages);
}

static void on_register_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                 void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__RegisterExecutorMessage *m = (const void *)msg;
	struct agent_framework *fw =
	    m->framework_id ? agent_framework_find(a, m->framework_id->value) : NULL;
	struct agent_executor *ex =
	    fw && m->executor_id ? agent_executor_find(fw, m->executor_id->value) : NULL;

	if (ex == NULL || ex->phase != EXECUTOR_LAUNCHING) {
		actor_warn("agent %s: executor %s of framework %s registers, but %s; shutting it "
		           "down",
		           a->pid.id,
		           m->executor_id && m->executor_id->value ? m->executor_id->value : "?",
		           m->framework_id && m->framework_id->value ? m->framework_id->value : "?",
		           ex == NULL ? "it is unknown" : "it is not launching");
		agent_executor_refuse(self, a, from, m->framework_id, m->executor_id);
		return;
	}
	ex->driver = from;
	ex->phase = EXECUTOR_RUNNING;
	actor_link(self, from);
	ex->linked = true;
	ex_cancel(a, &ex->registration_timer);

	Plexus__Internal__ExecutorRegisteredMessage r =
	    PLEXUS__INTERNAL__EXECUTOR_REGISTERED_MESSAGE__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__AgentInfo info;
	Plexus__Resource **res;
	size_t nres;
	agent_fill_info(a, &info, &res, &nres);
	aid.value = a->agent_id;
	info.id = &aid;
	fid.value = fw->id;
	r.executor_info = ex->info;
	r.framework_id = &fid;
	r.framework_info = fw->info;
	r.agent_id = &aid;
	r.agent_info = &info;
	actor_send_pb(self, from, &r.base);
	px_pb_resources_free(res, nres);
	actor_info("agent %s: executor %s of framework %s registered as %s", a->pid.id, ex->id,
	           fw->id, actor_pid_str(from));
	agent_checkpoint_executor(a, ex); /* a restarted agent reconnects to this PID */

	while (ex->queued != NULL) {
		struct agent_task *t = ex->queued;
		ex->queued = t->next;
		append(&ex->launched, t);
		if (!px_task_state_is_terminal(t->state))
			send_task(a, ex, t);
	}
}

static void registration_timeout_cb(actor_t *self, void *arg)
{
	struct agent_executor *ex =
	    ex_fired(self, arg, offsetof(struct agent_executor, registration_timer));
	if (ex == NULL || ex->phase != EXECUTOR_LAUNCHING)
		return;
	struct agent *a = actor_state(self);
	actor_warn("agent %s: executor %s did not register within %lld ms; destroying it",
	           a->pid.id, ex->id, (long long)a->registration_timeout_ms);
	ex->has_end_reason = true;
	ex->end_reason = PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_REGISTRATION_TIMEOUT;
	free(ex->end_message);
	ex->end_message = strdup("Executor did not register in time");
	ex->phase = EXECUTOR_TERMINATING;
	a->launcher->destroy(&ex->container);
}

/* ---- killing ---------------------------------------------------------------------- */

bool agent_executor_has_live_tasks(const struct agent_executor *ex)
{
	for (const struct agent_task *t = ex->queued; t; t = t->next)
		if (!px_task_state_is_terminal(t->state))
			return true;
	for (const struct agent_task *t = ex->launched; t; t = t->next)
		if (!px_task_state_is_terminal(t->state))
			return true;
	return false;
}

void agent_kill_task(struct agent *a, const Plexus__Internal__KillTaskMessage *m)
{
	const char *fw_id = m->framework_id ? m->framework_id->value : NULL;
	const char *task_id = m->task_id ? m->task_id->value : NULL;
	struct agent_framework *fw = agent_framework_find(a, fw_id);
	struct agent_executor *ex = NULL;

	if (fw == NULL || task_id == NULL) {
		actor_warn("agent %s: ignoring a kill of task %s: framework %s is not running here",
		           a->pid.id, task_id ? task_id : "?", fw_id ? fw_id : "?");
		return;
	}
	struct agent_task *t = agent_task_find(fw, task_id, &ex);
	if (t == NULL) {
		/* The master thinks it runs here; tell it otherwise. */
		agent_send_update(a, fw, NULL, task_id, PLEXUS__TASK_STATE__TASK_LOST,
		                  PLEXUS__TASK_STATUS__REASON__REASON_TASK_UNKNOWN,
		                  "Attempted to kill an unknown task");
		return;
	}
	if (px_task_state_is_terminal(t->state))
		return;
	bool queued = false;
	for (struct agent_task *q = ex->queued; q; q = q->next)
		queued |= q == t;
	if (queued) {
		/* The executor never saw it: it ends here, as Mesos does. */
		unlink_task(&ex->queued, t);
		append(&ex->launched, t);
		agent_task_transition(a, t, PLEXUS__TASK_STATE__TASK_KILLED);
		agent_send_update(a, fw, ex, task_id, PLEXUS__TASK_STATE__TASK_KILLED,
		                  PLEXUS__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
		                  "Killed before delivery to the executor");
		if (!agent_executor_has_live_tasks(ex))
			agent_shutdown_executor(a, ex,
			                        "its only tasks were killed before delivery");
		return;
	}
	if (ex->phase != EXECUTOR_RUNNING)
		return; /* it is going away anyway; its tasks end with it */
	actor_send_pb(a->self, ex->driver, &m->base);
}

static void on_kill_task(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct agent *a = arg;

	if (agent_from_master(a, from, "KillTaskMessage"))
		agent_kill_task(a, (const void *)msg);
}

static void shutdown_timeout_cb(actor_t *self, void *arg)
{
	struct agent_executor *ex =
	    ex_fired(self, arg, offsetof(struct agent_executor, shutdown_timer));
	if (ex == NULL || ex->phase != EXECUTOR_TERMINATING)
		return;
	struct agent *a = actor_state(self);
	actor_info("agent %s: executor %s is still there after its grace period; killing it",
	           a->pid.id, ex->id);
	a->launcher->destroy(&ex->container);
}

void agent_shutdown_executor(struct agent *a, struct agent_executor *ex, const char *why)
{
	if (ex->phase == EXECUTOR_TERMINATED || ex->phase == EXECUTOR_TERMINATING)
		return;
	actor_info("agent %s: shutting down executor %s of framework %s: %s", a->pid.id, ex->id,
	           ex->fw->id, why);
	ex_cancel(a, &ex->registration_timer);
	if (ex->fetch != NULL) {
		/* Still fetching, no process yet: the fetch stops and fetched() ends it. */
		ex->phase = EXECUTOR_TERMINATING;
		actor_future_discard(ex->fetch);
		return;
	}
	if (ex->phase == EXECUTOR_RUNNING) {
		Plexus__Internal__ShutdownExecutorMessage m =
		    PLEXUS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
		Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
		fid.value = ex->fw->id;
		m.framework_id = &fid;
		m.executor_id = ex->info->executor_id;
		actor_send_pb(a->self, ex->driver, &m.base);
		ex->phase = EXECUTOR_TERMINATING;
		ex->shutdown_timer = ex_arm(a, ex, ex->grace_ms, shutdown_timeout_cb);
	} else {
		/* Not registered: nothing to ask, so it goes at once. */
		ex->phase = EXECUTOR_TERMINATING;
		a->launcher->destroy(&ex->container);
	}
}

void agent_shutdown_framework(struct agent *a, struct agent_framework *fw)
{
	fw->removing = true;
	sum_cleanup(&a->sum, a->self, fw->id);
	for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
		agent_shutdown_executor(a, ex, "its framework is shutting down");
	agent_gc(a, fw);
}

static void on_shutdown_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                  void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__ShutdownFrameworkMessage *m = (const void *)msg;

	if (!agent_from_master(a, from, "ShutdownFrameworkMessage"))
		return;
	struct agent_framework *fw =
	    m->framework_id ? agent_framework_find(a, m->framework_id->value) : NULL;
	if (fw != NULL)
		agent_shutdown_framework(a, fw);
}

static void on_shutdown_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                 void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__ShutdownExecutorMessage *m = (const void *)msg;

	if (!agent_from_master(a, from, "ShutdownExecutorMessage"))
		return;
	struct agent_framework *fw =
	    m->framework_id ? agent_framework_find(a, m->framework_id->value) : NULL;
	struct agent_executor *ex =
	    fw && m->executor_id ? agent_executor_find(fw, m->executor_id->value) : NULL;
	if (ex != NULL)
		agent_shutdown_executor(a, ex, "the master asked");
}

/* ---- framework messages ----------------------------------------------------------- */

static void on_framework_to_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                     void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__FrameworkToExecutorMessage *m = (const void *)msg;
	struct agent_framework *fw =
	    m->framework_id ? agent_framework_find(a, m->framework_id->value) : NULL;
	struct agent_executor *ex =
	    fw && m->executor_id ? agent_executor_find(fw, m->executor_id->value) : NULL;

	if (ex == NULL || ex->phase != EXECUTOR_RUNNING) {
		actor_warn("agent %s: dropping a framework message for an executor that is not "
		           "running here",
		           a->pid.id);
		actor_counter_inc(a->m.invalid_messages);
		return;
	}
	actor_send_pb(self, ex->driver, msg);
}

static void on_executor_to_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                     void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__ExecutorToFrameworkMessage *m = (const void *)msg;
	struct agent_framework *fw =
	    m->framework_id ? agent_framework_find(a, m->framework_id->value) : NULL;
	struct agent_executor *ex =
	    fw && m->executor_id ? agent_executor_find(fw, m->executor_id->value) : NULL;

	if (ex == NULL || !actor_pid_equal(ex->driver, from) || a->conn != AGENT_REGISTERED) {
		actor_warn("agent %s: dropping a framework message from %s", a->pid.id,
		           actor_pid_str(from));
		actor_counter_inc(a->m.invalid_messages);
		return;
	}
	actor_send_pb(self, a->master, msg);
}

/* ---- the end of an executor ------------------------------------------------------- */

static struct agent_executor *by_pid(struct agent *a, pid_t pid)
{
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
			if (ex->container.pid == pid && !ex->container.exited)
				return ex;
	return NULL;
}

static void on_reaped(actor_t *self, pid_t pid, int status, void *arg)
{
	struct agent *a = actor_state(self);
	struct agent_executor *ex = by_pid(a, pid);

	if (ex != NULL)
		agent_executor_ended(a, ex, status);
}

void agent_executor_ended(struct agent *a, struct agent_executor *ex, int status)
{
	actor_t *self = a->self;
	pid_t pid = ex->container.pid;

	ex->container.exited = true;
	ex->wait_status = status;
	/* Whatever the executor left behind (its task, if it crashed) goes with it. */
	a->launcher->destroy(&ex->container);
	agent_container_note_limitation(a, ex);
	agent_container_cleanup(a, ex);
	ex->phase = EXECUTOR_TERMINATED;
	ex_cancel(a, &ex->registration_timer);
	ex_cancel(a, &ex->shutdown_timer);
	if (ex->linked) {
		actor_unlink(self, ex->driver);
		ex->linked = false;
	}
	actor_gauge_add(a->m.executors_running, -1);
	actor_counter_inc(a->m.executors_terminated);
	if (status == ACTOR_REAP_UNKNOWN)
		actor_info("agent %s: executor %s of framework %s (pid %d) ended", a->pid.id, ex->id,
		           ex->fw->id, (int)pid);
	else
		actor_info("agent %s: executor %s of framework %s (pid %d) ended: %s %d", a->pid.id,
		           ex->id, ex->fw->id, (int)pid, WIFSIGNALED(status) ? "signal" : "status",
		           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	fail_live_tasks(a, ex);
	agent_checkpoint_executor(a, ex);
	if (a->conn == AGENT_REGISTERED && !ex->fw->removing) {
		Plexus__Internal__ExitedExecutorMessage m =
		    PLEXUS__INTERNAL__EXITED_EXECUTOR_MESSAGE__INIT;
		Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
		Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
		aid.value = a->agent_id;
		fid.value = ex->fw->id;
		m.agent_id = &aid;
		m.framework_id = &fid;
		m.executor_id = ex->info->executor_id;
		m.has_status = true;
		m.status = status;
		actor_send_pb(self, a->master, &m.base);
	}
	agent_gc(a, ex->fw);
}

bool agent_executors_exited(struct agent *a, actor_pid who)
{
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
			if (ex->linked && actor_pid_equal(ex->driver, who)) {
				/* The process's end, seen by the reaper, is what counts. */
				ex->linked = false;
				actor_debug("agent: the driver of executor %s is gone", ex->id);
				return true;
			}
	return false;
}

void agent_executors_destroy_all(struct agent *a)
{
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next) {
			if (ex->container.pid <= 0 || ex->container.exited)
				continue;
			bool mine = actor_reap_unwatch(ex->container.pid);
			a->launcher->destroy(&ex->container);
			/* SIGKILL is quick, but never wait forever on a process in the kernel's
			 * hands (uninterruptible sleep): two seconds, then leave it. */
			for (int i = 0; mine && i < 200; i++) {
				pid_t r = waitpid(ex->container.pid, NULL, WNOHANG);
				if (r != 0 && !(r < 0 && errno == EINTR))
					break;
				if (i == 199)
					actor_error("agent %s: executor %s (pid %d) did not die",
					            a->pid.id, ex->id, (int)ex->container.pid);
				usleep(10000);
			}
			ex->container.exited = true;
			agent_container_cleanup(a, ex);
			actor_gauge_add(a->m.executors_running, -1);
			/* An agent started later on this work dir must not look for it. */
			ex->phase = EXECUTOR_TERMINATED;
			ex->wait_status = SIGKILL;
			agent_checkpoint_executor(a, ex);
		}
}

void agent_executors_install(struct agent *a)
{
	actor_t *self = a->self;

	actor_install_pb(self, &plexus__internal__run_task_message__descriptor, on_run_task, a);
	actor_install_pb(self, &plexus__internal__run_task_group_message__descriptor,
	                 on_run_task_group, a);
	actor_install_pb(self, &plexus__internal__kill_task_message__descriptor, on_kill_task, a);
	actor_install_pb(self, &plexus__internal__shutdown_framework_message__descriptor,
	                 on_shutdown_framework, a);
	actor_install_pb(self, &plexus__internal__shutdown_executor_message__descriptor,
	                 on_shutdown_executor, a);
	actor_install_pb(self, &plexus__internal__register_executor_message__descriptor,
	                 on_register_executor, a);
	actor_install_pb(self, &plexus__internal__framework_to_executor_message__descriptor,
	                 on_framework_to_executor, a);
	actor_install_pb(self, &plexus__internal__executor_to_framework_message__descriptor,
	                 on_executor_to_framework, a);
}
