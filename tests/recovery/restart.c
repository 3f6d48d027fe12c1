/* restart.c — an agent process SIGKILLed while its tasks run, then started again on the
 * same work dir, with a real master process, real plexus-executor children and a test
 * framework: the tasks keep running, an update sent while the agent was down arrives,
 * the master never loses the tasks; an executor that died meanwhile ends its task with a
 * clear status; --recover=cleanup kills the executors; a damaged checkpoint is reported
 * and not fatal. Every child (agents, executors, tasks) is killed at the end, also when
 * a test fails (the harness is their subreaper and kills what is left). */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static struct cluster c;
static struct fw *fw;
static int restarts;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	fw = NULL;
	restarts = 0;
	harness_init();
	fw_runtime_start();
}

static void teardown(void)
{
	fw_stop(fw, false);
	fw = NULL;
	harness_fini();
}

TestSuite(restart, .init = setup, .fini = teardown, .timeout = 60);

/* Each task writes its pid to "pid" in its sandbox, then waits for a "stop" file there. */
#define TASK_COMMAND "echo $$ > pid; while [ ! -e stop ]; do sleep 0.05; done"

static void agent_args(const char **args, char *bufs[6], int http_port, const char *extra)
{
	size_t n = 0;
	asprintf(&bufs[0], "--master=%s", c.master_addr);
	asprintf(&bufs[1], "--port=%d", http_port);
	asprintf(&bufs[2], "--work-dir=%s/agent1", harness_dir());
	args[n++] = "agent";
	args[n++] = bufs[0];
	args[n++] = bufs[1];
	args[n++] = bufs[2];
	args[n++] = "--resources=cpus:2;mem:512;disk:1024";
	args[n++] = "--isolation=posix/cpu,posix/mem";
	args[n++] = "--status-update-retry-interval-min=200ms";
	args[n++] = "--status-update-retry-interval-max=1secs";
	args[n++] = "--executor-shutdown-grace-period=1secs";
	args[n++] = "--registration-backoff-factor=100ms";
	args[n++] = extra != NULL && strncmp(extra, "--executor-reregistration-timeout=", 34) == 0
	                ? extra
	                : "--executor-reregistration-timeout=10secs";
	if (extra != NULL && strncmp(extra, "--executor-reregistration-timeout=", 34) != 0)
		args[n++] = extra;
	args[n] = NULL;
}

/* Starts (or restarts) the one agent on <scratch>/agent1. */
static pid_t start_agent(const char *extra)
{
	const char *args[24];
	char *bufs[6] = {0}, name[32];
	snprintf(name, sizeof(name), "agent1-%d", restarts++);
	agent_args(args, bufs, free_port(), extra);
	pid_t pid = plexus_spawn(name, args);
	for (int i = 0; i < 6; i++)
		free(bufs[i]);
	return pid;
}

static bool one_agent(void *arg)
{
	(void)arg;
	return master_active_agents(c.master_port) >= 1;
}

/* A master whose agents are lost only after 10 s without pongs (the restart takes far
 * less), a framework, and one agent. */
static void start_cluster(void)
{
	static const char *const master_extra[] = {"--agent-ping-timeout=500ms",
	                                           "--max-agent-ping-timeouts=20", NULL};
	cluster_start_master(&c, master_extra);
	c.agents[0] = start_agent(NULL);
	c.nagents = 1;
	cr_assert(wait_until(10000, one_agent, NULL), "the agent never registered");
	fw = fw_start(c.master_addr, "recovery", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
}

static void launch(const char *const *ids, size_t n)
{
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o, "no offer");
	fw_launch(fw, o, ids, n, TASK_COMMAND, 0.1, 16);
	fw_offer_free(o);
	for (size_t i = 0; i < n; i++)
		cr_assert(fw_wait_state(fw, ids[i], PLEXUS__TASK_STATE__TASK_RUNNING, 20000),
		          "task %s never ran", ids[i]);
}

/* The sandbox of a task (its command executor's latest run), malloc'ed. */
static char *sandbox(const char *task)
{
	char *pattern = NULL, *out = NULL;
	glob_t g;
	asprintf(&pattern, "%s/agent1/slaves/*/frameworks/*/executors/%s/runs/latest",
	         harness_dir(), task);
	if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0)
		out = strdup(g.gl_pathv[0]);
	globfree(&g);
	free(pattern);
	cr_assert_not_null(out, "no sandbox for task %s", task);
	return out;
}

static char *in_sandbox(const char *task, const char *file)
{
	char *dir = sandbox(task), *p = NULL;
	asprintf(&p, "%s/%s", dir, file);
	free(dir);
	return p;
}

static pid_t task_pid(const char *task)
{
	char *p = in_sandbox(task, "pid");
	pid_t pid = 0;
	for (int i = 0; i < 400 && pid <= 0; i++) {
		FILE *f = fopen(p, "r");
		if (f != NULL) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid <= 0)
			usleep(10000);
	}
	free(p);
	cr_assert_gt(pid, 0, "task %s never wrote its pid", task);
	return pid;
}

/* Running, not a zombie. */
static bool running(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static bool gone(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	/* Orphans are this process's children (it is their subreaper): collect them. */
	(void)waitpid(pid, NULL, WNOHANG);
	return !running(pid);
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	int ppid = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

static void touch(const char *task, const char *file)
{
	char *p = in_sandbox(task, file);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "cannot create %s", p);
	fclose(f);
	free(p);
}

static void kill_agent(void)
{
	proc_signal(c.agents[0], SIGKILL);
}

/* Stops the agent gracefully (it kills its executors) and checks its log is clean. */
static void stop_agent(void)
{
	int status = -1;
	kill(c.agents[0], SIGTERM);
	cr_expect(proc_wait(c.agents[0], 15000, &status), "the agent did not stop");
}

static bool log_has(const char *name, const char *text)
{
	FILE *f = fopen(proc_log(name), "r");
	char line[4096];
	bool found = false;
	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, text) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

static void expect_clean_logs(void)
{
	char name[32], *pattern = NULL;
	glob_t g;
	/* The executors' own reports land in their sandboxes' stderr. */
	asprintf(&pattern, "%s/agent1/slaves/*/frameworks/*/executors/*/runs/*/stderr",
	         harness_dir());
	if (glob(pattern, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char cmd[1200];
			snprintf(cmd, sizeof(cmd), "grep -qs 'Sanitizer\\|runtime error' '%s'",
			         g.gl_pathv[i]);
			cr_expect_neq(system(cmd), 0, "sanitizer report in %s", g.gl_pathv[i]);
		}
	globfree(&g);
	free(pattern);
	for (int i = 0; i < restarts; i++) {
		snprintf(name, sizeof(name), "agent1-%d", i);
		cr_expect(!log_has(name, "Sanitizer") && !log_has(name, "runtime error"),
		          "%s's log reports a sanitizer error: %s", name, proc_log(name));
	}
}

Test(restart, tasks_keep_running_and_a_finished_tasks_update_arrives)
{
	static const char *const ids[] = {"long", "short"};
	start_cluster();
	launch(ids, 2);
	pid_t long_pid = task_pid("long"), short_pid = task_pid("short");

	kill_agent();
	cr_assert(running(long_pid) && running(short_pid),
	          "the tasks died with the agent (SIGKILL)");
	/* "short" finishes while the agent is down: its update has nowhere to go yet. */
	touch("short", "stop");
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)short_pid), "short never finished");
	cr_assert_eq(fw_count(fw, "short", PLEXUS__TASK_STATE__TASK_FINISHED), 0);

	c.agents[0] = start_agent(NULL);
	cr_assert(fw_wait_state(fw, "short", PLEXUS__TASK_STATE__TASK_FINISHED, 20000),
	          "the update sent while the agent was down never arrived");
	cr_assert(running(long_pid), "the long task died across the restart");
	char state[64] = "";
	cr_assert(master_task_state(c.master_port, "long", state, sizeof(state)));
	cr_assert_str_eq(state, "TASK_RUNNING");
	cr_assert_eq(fw_count(fw, "long", PLEXUS__TASK_STATE__TASK_LOST), 0);
	cr_assert(log_has("agent1-1", "re-registered"), "no executor re-registered");

	/* The re-attached executor is the agent's again: a kill reaches it. */
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = (char *)"long";
	px_scheduler_driver_kill(fw_driver(fw), &tid);
	cr_assert(fw_wait_state(fw, "long", PLEXUS__TASK_STATE__TASK_KILLED, 20000),
	          "the recovered task could not be killed");
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)long_pid));
	stop_agent();
	expect_clean_logs();
}

Test(restart, an_executor_that_died_while_the_agent_was_down_fails_its_task)
{
	static const char *const ids[] = {"victim"};
	struct fw_update u;
	start_cluster();
	launch(ids, 1);
	pid_t task = task_pid("victim"), executor = parent_of(task);
	cr_assert_gt(executor, 1);

	kill_agent();
	kill(executor, SIGKILL);
	cr_assert(wait_until(5000, gone, (void *)(intptr_t)executor));

	c.agents[0] = start_agent(NULL);
	cr_assert(fw_wait_terminal(fw, "victim", &u, 20000), "the task never ended");
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FAILED, "ended %s",
	             px_task_state_name(u.state));
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED);
	cr_assert(strstr(u.message, "while the agent was down") != NULL, "message: %s", u.message);
	/* What the dead executor left running went with it. */
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)task), "its task still runs");
	stop_agent();
	expect_clean_logs();
}

static char *latest_id(void)
{
	char *p = NULL, buf[256] = "";
	asprintf(&p, "%s/agent1/meta/slaves/latest", harness_dir());
	FILE *f = fopen(p, "r");
	free(p);
	if (f == NULL)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

struct new_id_arg {
	const char *old;
};

static bool new_id(void *arg)
{
	struct new_id_arg *a = arg;
	char *id = latest_id();
	bool changed = id != NULL && strcmp(id, a->old) != 0;
	free(id);
	return changed;
}

Test(restart, recover_cleanup_kills_the_executors_and_starts_a_new_agent)
{
	static const char *const ids[] = {"doomed"};
	start_cluster();
	launch(ids, 1);
	pid_t task = task_pid("doomed"), executor = parent_of(task);
	char *old = latest_id();
	cr_assert_not_null(old, "the agent id was not checkpointed");

	kill_agent();
	cr_assert(running(executor) && running(task));
	c.agents[0] = start_agent("--recover=cleanup");
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)executor), "the executor survived");
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)task), "the task survived");
	struct new_id_arg a = {old};
	cr_assert(wait_until(10000, new_id, &a), "the agent did not register as a new agent");
	free(old);
	stop_agent();
	expect_clean_logs();
}

/* Cuts the run checkpoint of a task's executor to half its size. */
static void truncate_checkpoint(const char *task)
{
	char *pattern = NULL;
	glob_t g;
	asprintf(&pattern, "%s/agent1/meta/slaves/*/frameworks/*/executors/%s/runs/*/run.ckpt",
	         harness_dir(), task);
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no checkpoint for %s", task);
	free(pattern);
	struct stat st;
	cr_assert_eq(stat(g.gl_pathv[0], &st), 0);
	cr_assert_gt(st.st_size, 100);
	cr_assert_eq(truncate(g.gl_pathv[0], st.st_size / 2), 0);
	globfree(&g);
}

Test(restart, a_truncated_checkpoint_is_reported_and_not_fatal)
{
	static const char *const ids[] = {"damaged", "intact"};
	struct fw_update u;
	start_cluster();
	launch(ids, 2);
	pid_t damaged = task_pid("damaged"), intact = task_pid("intact");

	kill_agent();
	truncate_checkpoint("damaged");
	c.agents[0] = start_agent(NULL);
	/* The damaged run is killed (its pid was still readable) and its task ends. */
	cr_assert(fw_wait_terminal(fw, "damaged", &u, 20000), "the damaged run's task hangs");
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FAILED, "ended %s",
	             px_task_state_name(u.state));
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED);
	cr_assert(strstr(u.message, "checkpoint") != NULL, "message: %s", u.message);
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)damaged));
	cr_assert(log_has("agent1-1", "is damaged (truncated record"),
	          "the damage is not in the log: %s", proc_log("agent1-1"));
	/* The rest was recovered: the intact task still runs and the agent is up. */
	cr_assert(running(intact));
	cr_assert(running(c.agents[0]), "the agent died");
	touch("intact", "stop");
	cr_assert(fw_wait_state(fw, "intact", PLEXUS__TASK_STATE__TASK_FINISHED, 20000));
	stop_agent();
	expect_clean_logs();
}

Test(restart, executors_killed_by_a_stopping_agent_are_not_looked_for_again)
{
	static const char *const ids[] = {"stopped"};
	struct fw_update u;
	start_cluster();
	launch(ids, 1);
	pid_t task = task_pid("stopped");

	stop_agent(); /* a graceful stop kills its executors */
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)task), "the task outlived the stop");
	c.agents[0] = start_agent(NULL);
	cr_assert(fw_wait_terminal(fw, "stopped", &u, 20000), "the task never ended");
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FAILED, "ended %s",
	             px_task_state_name(u.state));
	cr_assert(strstr(u.message, "when the agent stopped") != NULL, "message: %s", u.message);
	cr_assert(!log_has("agent1-1", "reconnecting"), "the restarted agent looked for it");
	stop_agent();
	expect_clean_logs();
}

Test(restart, an_executor_that_does_not_reregister_is_destroyed)
{
	static const char *const ids[] = {"mute"};
	struct fw_update u;
	start_cluster();
	launch(ids, 1);
	pid_t task = task_pid("mute"), executor = parent_of(task);
	cr_assert_gt(executor, 1);

	kill_agent();
	kill(executor, SIGSTOP); /* alive, but it cannot answer the reconnect */
	c.agents[0] = start_agent("--executor-reregistration-timeout=1secs");
	cr_assert(fw_wait_terminal(fw, "mute", &u, 20000), "the task never ended");
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FAILED, "ended %s",
	             px_task_state_name(u.state));
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_REREGISTRATION_TIMEOUT);
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)executor), "the executor survived");
	cr_assert(wait_until(10000, gone, (void *)(intptr_t)task), "its task survived");
	stop_agent();
	expect_clean_logs();
}
