/* tasks.c — a framework on a cluster of real processes (a master and two agents):
 * twenty tasks over both agents, a failing command, a killed task. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct cluster c;
static struct fw *fw;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	fw = NULL;
	harness_init();
	fw_runtime_start();
	cluster_start(&c);
}

static void teardown(void)
{
	fw_stop(fw, false);
	fw = NULL;
	harness_fini();
}

TestSuite(tasks, .init = setup, .fini = teardown, .timeout = 60);

/* Executors still running on an agent, from its /state. */
static int live_executors(int port)
{
	char path[64];
	json_t *s, *f;
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "/slave(1)/state");
	s = http_json(port, path);
	if (s == NULL)
		return -1;
	json_array_foreach(json_object_get(s, "frameworks"), i, f) n +=
	    (int)json_array_size(json_object_get(f, "executors"));
	json_decref(s);
	return n;
}

static bool agents_drained(void *arg)
{
	return live_executors(c.agent_ports[0]) == 0 && live_executors(c.agent_ports[1]) == 0;
}

Test(tasks, twenty_tasks_over_two_agents_finish_and_are_acknowledged)
{
	enum { N = 20 };
	char names[N][16];
	int launched = 0, finished = 0;
	char agent_of[N][128];

	fw = fw_start(c.master_addr, "integration-twenty", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000), "the framework never registered");
	for (int i = 0; i < N; i++)
		snprintf(names[i], sizeof(names[i]), "t%02d", i);
	/* Each agent has 1 cpu and each task takes 0.1: the 20 tasks need both agents. */
	while (launched < N) {
		Plexus__Offer *o = fw_next_offer(fw, 10000);
		cr_assert_not_null(o, "no offer after %d launches", launched);
		int fit = (int)(offer_cpus(o) / 0.1 + 1e-6);
		if (fit > N - launched)
			fit = N - launched;
		if (fit > 10)
			fit = 10;
		const char *ids[N];
		for (int k = 0; k < fit; k++)
			ids[k] = names[launched + k];
		fw_launch(fw, o, ids, (size_t)fit, "echo hello from $PLEXUS_SANDBOX", 0.1, 16);
		launched += fit;
		fw_offer_free(o);
	}
	for (int i = 0; i < N; i++) {
		struct fw_update u;
		cr_assert(fw_wait_terminal(fw, names[i], &u, 30000), "task %s never ended",
		          names[i]);
		cr_expect_eq(u.state, PLEXUS__TASK_STATE__TASK_FINISHED, "task %s ended %s: %s",
		             names[i], px_task_state_name(u.state), u.message);
		finished += u.state == PLEXUS__TASK_STATE__TASK_FINISHED;
		snprintf(agent_of[i], sizeof(agent_of[i]), "%s", u.agent_id);
	}
	cr_assert_eq(finished, N);
	int on_first = 0;
	for (int i = 0; i < N; i++)
		on_first += strcmp(agent_of[i], agent_of[0]) == 0;
	cr_expect(on_first > 0 && on_first < N, "all %d tasks ran on one agent", N);
	/* Acknowledged: each agent drops a task once its terminal update is acknowledged,
	 * and an executor once all its tasks are gone. */
	cr_assert(wait_until(10000, agents_drained, NULL),
	          "agents still hold executors (unacknowledged updates?)");
	for (int i = 0; i < N; i++)
		cr_expect(wait_master_task_state(c.master_port, names[i], "TASK_FINISHED", 5000),
		          "the master does not show %s finished", names[i]);
}

static const char *launch_one(const char *id, const char *command)
{
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	static char agent[128];
	cr_assert_not_null(o, "no offer");
	snprintf(agent, sizeof(agent), "%s", o->agent_id->value);
	fw_launch(fw, o, &id, 1, command, 0.1, 16);
	fw_offer_free(o);
	return agent;
}

Test(tasks, failing_command_ends_failed_with_its_exit_status)
{
	struct fw_update u;

	fw = fw_start(c.master_addr, "integration-fail", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	launch_one("fails", "echo about to fail >&2; exit 3");
	cr_assert(fw_wait_terminal(fw, "fails", &u, 20000), "the task never ended");
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FAILED, "ended %s",
	             px_task_state_name(u.state));
	cr_expect(strstr(u.message, "status 3") != NULL, "message '%s' lacks the exit status",
	          u.message);
	cr_expect(wait_master_task_state(c.master_port, "fails", "TASK_FAILED", 5000));
}

Test(tasks, kill_a_running_task)
{
	struct fw_update u;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;

	fw = fw_start(c.master_addr, "integration-kill", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	launch_one("sleeper", "sleep 60");
	cr_assert(fw_wait_state(fw, "sleeper", PLEXUS__TASK_STATE__TASK_RUNNING, 20000),
	          "the task never ran");
	tid.value = "sleeper";
	px_scheduler_driver_kill(fw_driver(fw), &tid);
	cr_assert(fw_wait_terminal(fw, "sleeper", &u, 20000), "the killed task never ended");
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_KILLED, "ended %s",
	             px_task_state_name(u.state));
	cr_expect(wait_master_task_state(c.master_port, "sleeper", "TASK_KILLED", 5000));
}
