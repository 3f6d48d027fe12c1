/* tasks.c — a real agent actor and real plexus-executor children, driven by a test
 * actor that plays the master. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "harness.h"
#include "proto/plexus.pb-c.h"

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(tasks, .init = setup, .fini = teardown, .timeout = 60);

static const char *state_name(int s)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&plexus__task_state__descriptor, s);
	return v ? v->name : "?";
}

/* Waits for n updates and checks their states in order. */
static void expect_states(const int *states, size_t n, struct seen_update *out)
{
	cr_assert(master_wait_updates(n, 20000), "only some of %zu updates arrived", n);
	struct seen_update got[64];
	size_t m = master_updates(got, 64);
	cr_assert_geq(m, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i].state, states[i], "update %zu: expected %s, got %s (%s)", i,
		             state_name(states[i]), state_name(got[i].state), got[i].message);
	if (out != NULL)
		memcpy(out, got, n * sizeof(*out));
}

Test(tasks, registers_with_given_resources_and_attributes)
{
	harness_start_agent(&h, "cpus:3;mem:2048;disk:100;ports:[5000-5010]", "rack:r1;zone:2");
	char *res = master_wait_registration(1, 1, 1000);
	cr_assert_not_null(res);
	cr_assert_str_eq(res, "cpus:3; disk:100; mem:2048; ports:[5000-5010]");
	free(res);
	char attrs[512];
	master_last_attributes(attrs, sizeof(attrs));
	cr_assert_str_eq(attrs, "rack=r1;zone=2");
}

Test(tasks, registers_with_detected_resources)
{
	harness_start_agent(&h, "cpus:2", NULL);
	char *res = master_wait_registration(1, 1, 1000);
	cr_assert_not_null(res);
	/* cpus as given; mem, disk and ports detected. */
	cr_assert(strstr(res, "cpus:2;") == res, "%s", res);
	cr_assert(strstr(res, "mem:") != NULL, "%s", res);
	cr_assert(strstr(res, "disk:") != NULL, "%s", res);
	cr_assert(strstr(res, "ports:[31000-32000]") != NULL, "%s", res);
	free(res);
}

Test(tasks, command_runs_and_finishes_with_stdout_in_the_sandbox)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	run_command_task(&h, "t1", "echo hello from the sandbox; pwd");
	static const int states[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING,
	                             PLEXUS__TASK_STATE__TASK_FINISHED};
	struct seen_update got[3];
	expect_states(states, 3, got);
	for (int i = 0; i < 3; i++) {
		cr_assert_str_eq(got[i].task_id, "t1");
		cr_assert_eq(got[i].source, PLEXUS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR);
	}
	char *dir = sandbox_of(&h, "t1");
	cr_assert_not_null(dir, "no sandbox");
	char path[1200];
	snprintf(path, sizeof(path), "%s/stdout", dir);
	char *out = read_file(path);
	cr_assert_not_null(out);
	char expected[1400];
	snprintf(expected, sizeof(expected), "hello from the sandbox\n%s\n", dir);
	cr_assert_str_eq(out, expected);
	free(out);
	free(dir);
	/* Its task over, the executor is told to go and exits by itself. */
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}

Test(tasks, failing_command_fails_with_its_exit_status)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	run_command_task(&h, "t-fail", "echo oops >&2; exit 3");
	static const int states[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING,
	                             PLEXUS__TASK_STATE__TASK_FAILED};
	struct seen_update got[3];
	expect_states(states, 3, got);
	cr_assert(strstr(got[2].message, "exited with status 3") != NULL, "message: %s",
	          got[2].message);
	char *dir = sandbox_of(&h, "t-fail");
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/stderr", dir);
	char *err = read_file(path);
	cr_assert(err != NULL && strstr(err, "oops\n") != NULL);
	free(err);
	free(dir);
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}

Test(tasks, kill_ends_the_task_and_its_process_group)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	/* The shell records its pid and a background child's, then waits. */
	run_command_task(&h, "t-kill", "sleep 300 & echo $$ $! > pids; wait");
	static const int running[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                              PLEXUS__TASK_STATE__TASK_RUNNING};
	expect_states(running, 2, NULL);
	char *dir = sandbox_of(&h, "t-kill");
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/pids", dir);
	cr_assert(wait_file(path, 10000), "the task did not write its pids");
	char *text = read_file(path);
	int shell = 0, child = 0;
	cr_assert_eq(sscanf(text, "%d %d", &shell, &child), 2, "pids: %s", text);
	free(text);
	cr_assert_eq(kill(child, 0), 0, "the task's child should be running");

	kill_task(&h, "t-kill");
	static const int killed[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING,
	                             PLEXUS__TASK_STATE__TASK_KILLED};
	struct seen_update got[3];
	expect_states(killed, 3, got);
	/* The executor reaped the shell before reporting; the background sleep was in its
	 * group and got the signal too (it may linger as a zombie of init only briefly). */
	cr_assert_eq(kill(shell, 0), -1);
	cr_assert_eq(errno, ESRCH);
	int gone = -1;
	for (int i = 0; i < 500 && gone != 0; i++) {
		gone = kill(child, 0) == -1 && errno == ESRCH ? 0 : -1;
		if (gone != 0)
			usleep(10000);
	}
	cr_assert_eq(gone, 0, "the task's background child survived the kill");
	cr_assert_eq(kill(-shell, 0), -1, "the process group still exists");
	free(dir);
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}

Test(tasks, executor_that_dies_fails_its_task_with_a_reason)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	/* The task kills its own executor (its parent) with SIGKILL. */
	run_command_task(&h, "t-crash", "kill -9 $PPID; sleep 300");
	/* The executor may die before its own updates leave it: wait for the agent's. */
	struct seen_update got[8];
	size_t n = 0;
	for (size_t want = 1; want <= 3; want++) {
		cr_assert(master_wait_updates(want, 20000), "no terminal update");
		n = master_updates(got, 8);
		if (got[n - 1].state == PLEXUS__TASK_STATE__TASK_FAILED)
			break;
	}
	struct seen_update *last = &got[n - 1];
	cr_assert_eq(last->state, PLEXUS__TASK_STATE__TASK_FAILED, "%s", state_name(last->state));
	cr_assert_eq(last->reason, PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED);
	cr_assert_eq(last->source, PLEXUS__TASK_STATUS__SOURCE__SOURCE_AGENT);
	cr_assert(strstr(last->message, "signal 9") != NULL, "%s", last->message);
}

Test(tasks, files_read_serves_the_sandbox_and_nothing_else)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	run_command_task(&h, "t-files", "printf 'abcdefghij'");
	static const int states[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING,
	                             PLEXUS__TASK_STATE__TASK_FINISHED};
	expect_states(states, 3, NULL);
	char *dir = sandbox_of(&h, "t-files");
	cr_assert_not_null(dir);
	char target[2048], *body = NULL;

	snprintf(target, sizeof(target), "/files/read?path=%s/stdout&offset=2&length=4", dir);
	cr_assert_eq(http_get(h.http_port, target, &body), 200, "%s", body);
	cr_assert_str_eq(body, "{\"data\":\"cdef\",\"offset\":2}");
	free(body);

	/* The virtual path of the latest run. */
	snprintf(target, sizeof(target),
	         "/files/read?path=/frameworks/%s/executors/t-files/runs/latest/stdout&offset=0",
	         FRAMEWORK_ID);
	cr_assert_eq(http_get(h.http_port, target, &body), 200, "%s", body);
	cr_assert_str_eq(body, "{\"data\":\"abcdefghij\",\"offset\":0}");
	free(body);

	/* No offset: the size, as Mesos answers. */
	snprintf(target, sizeof(target), "/files/read?path=%s/stdout", dir);
	cr_assert_eq(http_get(h.http_port, target, &body), 200);
	cr_assert_str_eq(body, "{\"data\":\"\",\"offset\":10}");
	free(body);

	/* Escaping the sandbox with "..": refused, nothing served. */
	snprintf(target, sizeof(target),
	         "/files/read?path=%s/../../../../../../../../../../../../../../../../etc/passwd",
	         dir);
	cr_assert_eq(http_get(h.http_port, target, &body), 403, "%s", body);
	cr_assert(strstr(body, "root:") == NULL);
	cr_assert(strstr(body, "outside the sandbox") != NULL, "%s", body);
	free(body);

	/* A symlink inside the sandbox pointing out of it: refused too. */
	char link[1200];
	snprintf(link, sizeof(link), "%s/escape", dir);
	cr_assert_eq(symlink("/etc/passwd", link), 0);
	snprintf(target, sizeof(target), "/files/read?path=%s/escape&offset=0", dir);
	cr_assert_eq(http_get(h.http_port, target, &body), 403, "%s", body);
	cr_assert(strstr(body, "root:") == NULL);
	free(body);

	/* Not attached at all. */
	cr_assert_eq(http_get(h.http_port, "/files/read?path=/etc/passwd", &body), 404);
	cr_assert(strstr(body, "root:") == NULL);
	free(body);
	cr_assert_eq(http_get(h.http_port, "/files/read", &body), 400);
	free(body);

	/* Browse lists the sandbox. */
	snprintf(target, sizeof(target), "/files/browse?path=%s", dir);
	cr_assert_eq(http_get(h.http_port, target, &body), 200);
	cr_assert(strstr(body, "/stdout\"") != NULL, "%s", body);
	cr_assert(strstr(body, "\"mode\":\"-rw-r--r--\"") != NULL, "%s", body);
	free(body);
	free(dir);
}

Test(tasks, state_and_metrics_show_the_task)
{
	harness_start_agent(&h, "cpus:2;mem:256", "rack:r9");
	run_command_task(&h, "t-state", "exec sleep 300");
	static const int states[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING};
	expect_states(states, 2, NULL);
	char target[128], *body = NULL;
	snprintf(target, sizeof(target), "/%s/state", h.agent.id);
	cr_assert_eq(http_get(h.http_port, target, &body), 200);
	cr_assert(strstr(body, "\"id\":\"" AGENT_ID "\"") != NULL, "%s", body);
	cr_assert(strstr(body, "\"rack\":\"r9\"") != NULL, "%s", body);
	cr_assert(strstr(body, "\"cpus\":2") != NULL, "%s", body);
	cr_assert(strstr(body, "\"state\":\"TASK_RUNNING\"") != NULL, "%s", body);
	cr_assert(strstr(body, "\"id\":\"t-state\"") != NULL, "%s", body);
	free(body);
	cr_assert_eq(http_get(h.http_port, "/metrics/snapshot", &body), 200);
	cr_assert(strstr(body, "\"slave/tasks_running\":1") != NULL, "%s", body);
	cr_assert(strstr(body, "\"slave/registered\":1") != NULL, "%s", body);
	free(body);
	snprintf(target, sizeof(target), "/%s/health", h.agent.id);
	cr_assert_eq(http_get(h.http_port, target, &body), 200);
	free(body);
}

Test(tasks, kill_escalates_to_sigkill_after_the_grace_period)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	/* The task ignores SIGTERM (and so does the sleep it starts). */
	run_task(&h, "t-stubborn", "trap '' TERM; echo $$ > pid; sleep 300; echo survived", NULL,
	         200);
	static const int running[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                              PLEXUS__TASK_STATE__TASK_RUNNING};
	expect_states(running, 2, NULL);
	char *dir = sandbox_of(&h, "t-stubborn");
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/pid", dir);
	cr_assert(wait_file(path, 10000));
	char *text = read_file(path);
	int shell = atoi(text);
	free(text);

	kill_task(&h, "t-stubborn");
	static const int killed[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING,
	                             PLEXUS__TASK_STATE__TASK_KILLED};
	struct seen_update got[3];
	expect_states(killed, 3, got);
	cr_assert(strstr(got[2].message, "Killed") != NULL, "%s", got[2].message);
	/* The shell was reaped by the executor; its orphaned sleep, killed with it, is
	 * reaped by init a moment later. */
	bool gone = false;
	for (int i = 0; i < 500 && !gone; i++) {
		gone = kill(-shell, 0) == -1 && errno == ESRCH;
		if (!gone)
			usleep(10000);
	}
	cr_assert(gone, "the task's process group survived");
	snprintf(path, sizeof(path), "%s/stdout", dir);
	text = read_file(path);
	cr_assert(text == NULL || strstr(text, "survived") == NULL);
	free(text);
	free(dir);
}

Test(tasks, two_agents_in_one_process)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	struct agent_flags f;
	char master[ACTOR_PID_TEXT_MAX], err[256] = "", work2[400];
	agent_flags_default(&f);
	actor_pid_format(h.master, master, sizeof(master));
	snprintf(work2, sizeof(work2), "%s/agent-2", h.work_dir);
	f.master = master;
	f.work_dir = work2;
	f.resources = "cpus:2;mem:256";
	f.executor_path = PLEXUS_EXECUTOR_PATH;
	actor_pid second;
	cr_assert_eq(agent_start(&f, &second, err, sizeof(err)), 0, "%s", err);
	char *res = master_wait_registration(1, 2, 10000);
	cr_assert_not_null(res, "the second agent did not register");
	cr_assert(strncmp(res, "cpus:2; disk:", 13) == 0 && strstr(res, "mem:256") != NULL, "%s",
	          res);
	free(res);
	cr_assert_str_neq(h.agent.id, second.id);
	cr_assert_str_eq(h.agent.id, "slave(1)");
	cr_assert_str_eq(second.id, "slave(2)");

	/* A task on the second agent lands in its own work dir. */
	actor_pid first = h.agent;
	h.agent = second;
	run_command_task(&h, "t-two", "echo second");
	h.agent = first;
	static const int states[] = {PLEXUS__TASK_STATE__TASK_STARTING,
	                             PLEXUS__TASK_STATE__TASK_RUNNING,
	                             PLEXUS__TASK_STATE__TASK_FINISHED};
	expect_states(states, 3, NULL);
	char path[1024];
	snprintf(path, sizeof(path),
	         "%s/slaves/agent-S1/frameworks/%s/executors/t-two/runs/latest/stdout", work2,
	         FRAMEWORK_ID);
	char *out = read_file(path);
	cr_assert(out != NULL && strcmp(out, "second\n") == 0, "%s", out ? out : "(none)");
	free(out);
	char target[128], *body = NULL;
	snprintf(target, sizeof(target), "/%s/state", second.id);
	cr_assert_eq(http_get(h.http_port, target, &body), 200);
	cr_assert(strstr(body, "\"id\":\"agent-S1\"") != NULL, "%s", body);
	free(body);
	agent_stop(second);
}

Test(tasks, bad_input_is_refused_with_a_reason)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);

	/* A RunTaskMessage from anyone but the master is ignored (and counted). */
	Plexus__Internal__RunTaskMessage m = PLEXUS__INTERNAL__RUN_TASK_MESSAGE__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__TaskInfo t = PLEXUS__TASK_INFO__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	fid.value = (char *)FRAMEWORK_ID;
	tid.value = (char *)"t-stranger";
	aid.value = (char *)AGENT_ID;
	cmd.value = (char *)"true";
	t.name = (char *)"stranger";
	t.task_id = &tid;
	t.agent_id = &aid;
	t.command = &cmd;
	m.framework_id = &fid;
	m.task = &t;
	cr_assert_eq(actor_send_pb(NULL, h.agent, &m.base), 0);
	actor_clock_settle();

	/* A task id that cannot be a directory: TASK_ERROR at once. */
	run_command_task(&h, "bad/id", "true");
	cr_assert(master_wait_updates(1, 10000));
	struct seen_update got[4];
	cr_assert_eq(master_updates(got, 4), 1);
	cr_assert_str_eq(got[0].task_id, "bad/id");
	cr_assert_eq(got[0].state, PLEXUS__TASK_STATE__TASK_ERROR);
	cr_assert_eq(got[0].reason, PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID);

	/* Task groups are refused task by task. */
	Plexus__Internal__RunTaskGroupMessage g = PLEXUS__INTERNAL__RUN_TASK_GROUP_MESSAGE__INIT;
	Plexus__FrameworkInfo fi = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__TaskGroupInfo group = PLEXUS__TASK_GROUP_INFO__INIT;
	Plexus__TaskInfo *tasks[1] = {&t};
	fi.user = (char *)"u";
	fi.name = (char *)"n";
	fi.id = &fid;
	tid.value = (char *)"t-group";
	group.tasks = tasks;
	group.n_tasks = 1;
	g.framework = &fi;
	g.task_group = &group;
	master_send(h.agent, &g.base);
	cr_assert(master_wait_updates(2, 10000));
	cr_assert_eq(master_updates(got, 4), 2);
	cr_assert_str_eq(got[1].task_id, "t-group");
	cr_assert_eq(got[1].state, PLEXUS__TASK_STATE__TASK_ERROR);
	cr_assert_eq(got[1].reason, PLEXUS__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID);

	char *body = NULL;
	cr_assert_eq(http_get(h.http_port, "/metrics/snapshot", &body), 200);
	cr_assert(strstr(body, "\"slave/invalid_messages\":1") != NULL, "%s", body);
	cr_assert(strstr(body, "\"slave/tasks_error\":1") != NULL, "%s", body);
	free(body);
}

Test(tasks, executor_that_cannot_start_fails_its_task)
{
	h.executor_path = "/nonexistent/plexus-executor";
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	run_command_task(&h, "t-nolaunch", "true");
	cr_assert(master_wait_updates(1, 10000));
	struct seen_update got[2];
	cr_assert_eq(master_updates(got, 2), 1);
	cr_assert_eq(got[0].state, PLEXUS__TASK_STATE__TASK_FAILED, "%s", state_name(got[0].state));
	cr_assert_eq(got[0].reason, PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED);
	cr_assert(strstr(got[0].message, "/nonexistent/plexus-executor") != NULL, "%s",
	          got[0].message);
}
