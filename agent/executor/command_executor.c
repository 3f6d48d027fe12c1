/* plexus-executor — the command executor, as Mesos's mesos-executor: the agent starts
 * it for a task that brings a command instead of an executor. It registers with the
 * agent through the executor driver, runs the task's command in the sandbox (its
 * working directory, whose stdout and stderr files it inherits), and reports
 * TASK_STARTING, TASK_RUNNING, then TASK_FINISHED (exit 0), TASK_FAILED (with the exit
 * status or signal in the message) or TASK_KILLED.
 *
 * The task runs in a process group of its own, so a kill reaches everything it started:
 * SIGTERM to the group, then SIGKILL after the kill policy's grace period (3 s by
 * default, as Mesos). The executor's own work happens in a small actor; the driver's
 * callbacks hand it over with actor_call. After the terminal update the executor waits
 * for the agent's shutdown request (the agent sends it once it holds the update) or at
 * most five seconds, then stops. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor/libactor.h"
#include "plexus/executor.h"
#include "proto/internal.pb-c.h"

#define DEFAULT_KILL_GRACE_MS 3000
#define LINGER_MS 5000 /* long enough for a loaded agent to take the update */

extern char **environ;
/* Present when built with LeakSanitizer. */
extern void __lsan_do_leak_check(void) __attribute__((weak));

struct executor {
	px_executor_driver *driver;
	actor_pid pid;
	Plexus__TaskInfo *task; /* owned; NULL until launched */
	pid_t child;            /* the task's process (and group); 0 when none */
	bool killing;
	bool done; /* the terminal update was sent */
	bool stopping;
	bool away; /* the agent is gone (restarting): updates wait for it */
	int64_t grace_ms;
	uint64_t escalate_timer, linger_timer;
};

static void send_status(struct executor *e, Plexus__TaskState state, const char *message)
{
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;

	st.task_id = e->task->task_id;
	st.state = state;
	st.message = (char *)message;
	px_executor_driver_send_status_update(e->driver, &st);
}

static void stop(actor_t *self, struct executor *e)
{
	if (e->stopping)
		return;
	e->stopping = true;
	px_executor_driver_stop(e->driver);
}

static void linger_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct executor *e = actor_state(self);
	e->linger_timer = 0;
	/* While a checkpointing agent restarts, the terminal update is still to be
	 * delivered: wait for the agent (the driver shuts us down if it never returns). */
	if (e->away)
		return;
	stop(self, e);
}

static void do_away(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct executor *e = actor_state(self);
	e->away = arg != NULL;
	if (!e->away && e->done && e->linger_timer == 0 && !e->stopping)
		e->linger_timer = actor_delay(self, LINGER_MS, linger_cb, NULL);
}

/* ---- the task process ------------------------------------------------------------- */

/* The task's process ended (f: actor_reap's future for it, pid in arg). */
static void on_task_exit(actor_t *self, actor_future *f, void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	char msg[256];
	Plexus__TaskState state;

	/* Not READY: the executor is ending and stopped watching (its fini kills it). */
	if (self == NULL || actor_future_state(f) != ACTOR_FUTURE_READY)
		return;
	struct executor *e = actor_state(self);
	int status = actor_reap_status(f);
	if (pid != e->child)
		return;
	e->child = 0;
	if (e->escalate_timer != 0) {
		actor_cancel(self, e->escalate_timer);
		e->escalate_timer = 0;
	}
	if (e->killing) {
		state = PLEXUS__TASK_STATE__TASK_KILLED;
		snprintf(msg, sizeof(msg), "Command terminated with signal %s",
		         WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "none (it exited)");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		state = PLEXUS__TASK_STATE__TASK_FINISHED;
		snprintf(msg, sizeof(msg), "Command exited with status 0");
	} else if (WIFEXITED(status)) {
		state = PLEXUS__TASK_STATE__TASK_FAILED;
		snprintf(msg, sizeof(msg), "Command exited with status %d", WEXITSTATUS(status));
	} else {
		state = PLEXUS__TASK_STATE__TASK_FAILED;
		snprintf(msg, sizeof(msg), "Command terminated with signal %s",
		         strsignal(WTERMSIG(status)));
	}
	fprintf(stderr, "plexus-executor: %s\n", msg);
	send_status(e, state, msg);
	e->done = true;
	if (e->stopping)
		return;
	e->linger_timer = actor_delay(self, LINGER_MS, linger_cb, NULL);
}

/* argv and envp of the task's command; NULL on out of memory. */
static char **command_argv(const Plexus__CommandInfo *cmd)
{
	bool shell = !cmd->has_shell || cmd->shell;
	size_t n = shell ? 3 : (cmd->n_arguments ? cmd->n_arguments : 1);
	char **argv = calloc(n + 1, sizeof(*argv));

	if (argv == NULL)
		return NULL;
	if (shell) {
		argv[0] = (char *)"sh";
		argv[1] = (char *)"-c";
		argv[2] = cmd->value;
	} else if (cmd->n_arguments == 0) {
		argv[0] = cmd->value;
	} else {
		for (size_t i = 0; i < cmd->n_arguments; i++)
			argv[i] = cmd->arguments[i];
	}
	return argv;
}

/* Whether entry ("NAME=value") names a variable that cmd's environment sets. */
static bool overridden(const char *entry, const Plexus__CommandInfo *cmd)
{
	size_t n = strcspn(entry, "=");
	if (strncmp(entry, "MESOS_TASK_ID=", 14) == 0)
		return true;
	for (size_t i = 0; cmd->environment && i < cmd->environment->n_variables; i++) {
		const char *name = cmd->environment->variables[i]->name;
		if (name != NULL && strlen(name) == n && strncmp(entry, name, n) == 0)
			return true;
	}
	return false;
}

/* The executor's environment (the agent's MESOS_* and PLEXUS_* among it) without the
 * runtime's ACTOR_*, MESOS_TASK_ID naming the task, then the command's own variables,
 * which win over anything of the same name. */
static char **command_envp(const Plexus__CommandInfo *cmd, const char *task_id)
{
	size_t n = 0, extra = cmd->environment ? cmd->environment->n_variables : 0;
	while (environ[n] != NULL)
		n++;
	char **envp = calloc(n + extra + 2, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "ACTOR_", 6) != 0 && !overridden(environ[i], cmd) &&
		    (envp[k] = strdup(environ[i])) != NULL)
			k++;
	if (asprintf(&envp[k], "MESOS_TASK_ID=%s", task_id) >= 0)
		k++;
	else
		envp[k] = NULL;
	for (size_t i = 0; i < extra; i++) {
		const Plexus__Environment__Variable *v = cmd->environment->variables[i];
		if (v->name == NULL || v->value == NULL)
			continue;
		char *s = NULL;
		if (asprintf(&s, "%s=%s", v->name, v->value) >= 0)
			envp[k++] = s;
	}
	return envp;
}

static void free_envp(char **envp)
{
	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

static void do_launch(actor_t *self, void *arg)
{
	Plexus__TaskInfo *task = arg;

	if (self == NULL) {
		protobuf_c_message_free_unpacked(&task->base, NULL);
		return;
	}
	struct executor *e = actor_state(self);
	if (e->task != NULL) {
		/* One task per command executor, as in Mesos. */
		Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
		st.task_id = task->task_id;
		st.state = PLEXUS__TASK_STATE__TASK_ERROR;
		st.message = (char *)"The command executor runs a single task";
		px_executor_driver_send_status_update(e->driver, &st);
		protobuf_c_message_free_unpacked(&task->base, NULL);
		return;
	}
	e->task = task;
	e->grace_ms = DEFAULT_KILL_GRACE_MS;
	if (task->kill_policy && task->kill_policy->grace_period)
		e->grace_ms = task->kill_policy->grace_period->nanoseconds / 1000000;
	send_status(e, PLEXUS__TASK_STATE__TASK_STARTING, NULL);

	const Plexus__CommandInfo *cmd = task->command;
	if (cmd == NULL || cmd->value == NULL) {
		send_status(e, PLEXUS__TASK_STATE__TASK_FAILED, "The task has no command");
		e->done = true;
		e->linger_timer = actor_delay(self, LINGER_MS, linger_cb, NULL);
		return;
	}
	char **argv = command_argv(cmd), **envp = command_envp(cmd, task->task_id->value);
	const char *path = (!cmd->has_shell || cmd->shell) ? "/bin/sh" : cmd->value;
	pid_t pid = argv && envp ? fork() : -1;
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (strchr(path, '/') != NULL)
			execve(path, argv, envp);
		else
			execvpe(path, argv, envp);
		fprintf(stderr, "plexus-executor: cannot execute '%s': %s\n", path,
		        strerror(errno));
		_exit(127);
	}
	int err = errno;
	free(argv);
	free_envp(envp);
	if (pid < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "Cannot start the command: %s", strerror(err));
		send_status(e, PLEXUS__TASK_STATE__TASK_FAILED, msg);
		e->done = true;
		e->linger_timer = actor_delay(self, LINGER_MS, linger_cb, NULL);
		return;
	}
	/* Also here, so that a kill right after the fork reaches the new group. */
	setpgid(pid, pid);
	e->child = pid;
	actor_future *ended = actor_reap(pid);
	actor_future_on_any(ended, self, on_task_exit, (void *)(intptr_t)pid);
	actor_future_unref(ended);
	fprintf(stderr, "plexus-executor: running task %s (pid %d): %s\n", task->task_id->value,
	        (int)pid, cmd->value);
	send_status(e, PLEXUS__TASK_STATE__TASK_RUNNING, NULL);
}

static void escalate_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct executor *e = actor_state(self);
	e->escalate_timer = 0;
	if (e->child > 0) {
		fprintf(stderr, "plexus-executor: the task is still there after %lld ms; SIGKILL\n",
		        (long long)e->grace_ms);
		kill(-e->child, SIGKILL);
	}
}

static void do_kill(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct executor *e = actor_state(self);
	if (e->child <= 0 || e->killing)
		return;
	e->killing = true;
	fprintf(stderr, "plexus-executor: killing the task (SIGTERM, SIGKILL after %lld ms)\n",
	        (long long)e->grace_ms);
	kill(-e->child, SIGTERM);
	e->escalate_timer = actor_delay(self, e->grace_ms, escalate_cb, NULL);
}

static void do_shutdown(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct executor *e = actor_state(self);
	if (e->child > 0) {
		/* The terminal update goes out when the task is gone; then we stop. */
		do_kill(self, NULL);
		return;
	}
	stop(self, e);
}

/* ---- driver callbacks (inside the driver's actor) --------------------------------- */

static void cb_launch(px_executor_driver *d, const Plexus__TaskInfo *task, void *arg)
{
	struct executor *e = arg;
	size_t len = protobuf_c_message_get_packed_size(&task->base);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return;
	protobuf_c_message_pack(&task->base, buf);
	Plexus__TaskInfo *t = plexus__task_info__unpack(NULL, len, buf);
	free(buf);
	if (t != NULL)
		actor_call(e->pid, do_launch, t);
}

static void cb_kill(px_executor_driver *d, const Plexus__TaskID *task_id, void *arg)
{
	struct executor *e = arg;
	actor_call(e->pid, do_kill, NULL);
}

static void cb_shutdown(px_executor_driver *d, void *arg)
{
	struct executor *e = arg;
	actor_call(e->pid, do_shutdown, NULL);
}

static void cb_disconnected(px_executor_driver *d, void *arg)
{
	struct executor *e = arg;
	actor_call(e->pid, do_away, (void *)1);
}

static void cb_reregistered(px_executor_driver *d, const Plexus__AgentInfo *agent, void *arg)
{
	struct executor *e = arg;
	actor_call(e->pid, do_away, NULL);
}

static void cb_error(px_executor_driver *d, const char *message, void *arg)
{
	fprintf(stderr, "plexus-executor: driver error: %s\n", message);
}

static void executor_fini(actor_t *self)
{
	struct executor *e = actor_state(self);
	if (e->child > 0) {
		/* Never leave the task behind. */
		actor_reap_unwatch(e->child);
		kill(-e->child, SIGKILL);
		while (waitpid(e->child, NULL, 0) < 0 && errno == EINTR)
			;
		e->child = 0;
	}
}

static const actor_def executor_def = {
    .name = "command_executor",
    .fini = executor_fini,
};

int main(int argc, char **argv)
{
	static const px_executor_callbacks callbacks = {
	    .launch_task = cb_launch,
	    .kill_task = cb_kill,
	    .shutdown = cb_shutdown,
	    .error = cb_error,
	    .disconnected = cb_disconnected,
	    .reregistered = cb_reregistered,
	};
	struct executor e = {0};
	char err[512];
	actor_config cfg;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: plexus-executor\n"
		       "The Plexus command executor. The agent starts it with PLEXUS_AGENT_PID,\n"
		       "PLEXUS_FRAMEWORK_ID and PLEXUS_EXECUTOR_ID in its environment.\n");
		return 0;
	}
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.http_port = -1;
	int rc = actor_runtime_init(&cfg);
	if (rc != 0) {
		fprintf(stderr, "plexus-executor: cannot start the runtime: %s\n",
		        actor_strerror(rc));
		return 1;
	}
	if ((rc = actor_spawn(&executor_def, &e, &e.pid)) != 0) {
		fprintf(stderr, "plexus-executor: cannot spawn: %s\n", actor_strerror(rc));
		actor_runtime_fini();
		return 1;
	}
	e.driver = px_executor_driver_alloc(&callbacks, &e, err, sizeof(err));
	if (e.driver == NULL) {
		fprintf(stderr, "plexus-executor: %s\n", err);
		actor_terminate(e.pid);
		actor_wait(e.pid, -1);
		actor_runtime_fini();
		return 1;
	}
	enum px_driver_status status = px_executor_driver_run(e.driver);
	/* Stopped (or aborted): the task must not outlive us. */
	actor_terminate(e.pid);
	actor_wait(e.pid, -1);
	px_executor_driver_free(e.driver);
	if (e.task != NULL)
		protobuf_c_message_free_unpacked(&e.task->base, NULL);
	int code = status == PX_DRIVER_STOPPED ? 0 : 1;
	/* Everything is said and acknowledged by now. The runtime is not taken down:
	 * actor_runtime_fini() sometimes makes nng panic ("pthread_mutex_unlock: Invalid
	 * argument", from one of its task threads while the transport closes), which would
	 * turn a clean exit into SIGABRT. The kernel closes the sockets; leaks are still
	 * checked under LeakSanitizer. */
	fflush(NULL);
	if (__lsan_do_leak_check != NULL)
		__lsan_do_leak_check();
	_exit(code);
}
