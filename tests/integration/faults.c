/* faults.c — what happens when things go away or are refused, on a cluster of real
 * processes: decline filters, a SIGKILLed agent, framework failover within and past
 * its timeout, withheld acknowledgements, a master restart. Timeouts are short
 * through flags (pings every 500ms, 4 missed = lost, which a loaded machine running the
 * sanitizer build still meets; update retries from 200ms). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static struct cluster c;
static struct fw *fw, *fw2;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	fw = fw2 = NULL;
	harness_init();
	fw_runtime_start();
}

static void teardown(void)
{
	fw_stop(fw2, false);
	fw_stop(fw, false);
	fw = fw2 = NULL;
	harness_fini();
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 60);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Launches one task on the next offer; the agent id it went to. */
static void launch_one(struct fw *f, const char *id, const char *command, char *agent,
                       size_t agentlen)
{
	Plexus__Offer *o = fw_next_offer(f, 10000);
	cr_assert_not_null(o, "no offer");
	if (agent != NULL)
		snprintf(agent, agentlen, "%s", o->agent_id->value);
	fw_launch(f, o, &id, 1, command, 0.1, 16);
	fw_offer_free(o);
}

/* The index in c.agents of the agent the master calls agent_id. */
static int agent_index(const char *agent_id)
{
	json_t *s = http_json(c.master_port, "/master/state"), *a;
	size_t i;
	int idx = -1;

	json_array_foreach(json_object_get(s, "slaves"), i, a)
	{
		const char *id = json_string_value(json_object_get(a, "id"));
		int port = (int)json_integer_value(json_object_get(a, "port"));
		if (id != NULL && strcmp(id, agent_id) == 0)
			for (int k = 0; k < c.nagents; k++)
				if (c.agent_ports[k] == port)
					idx = k;
	}
	json_decref(s);
	return idx;
}

Test(faults, decline_with_refuse_seconds_is_honoured_then_offers_return)
{
	const double refuse = 1.5;
	char agent[128];

	cluster_start(&c);
	fw = fw_start(c.master_addr, "integration-decline", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o);
	snprintf(agent, sizeof(agent), "%s", o->agent_id->value);
	Plexus__Filters filters = PLEXUS__FILTERS__INIT;
	filters.has_refuse_seconds = true;
	filters.refuse_seconds = refuse;
	px_scheduler_driver_decline(fw_driver(fw), o->id, &filters);
	fw_offer_free(o);
	double declined = now_s();
	/* Offers of the other agent are declined for longer than the test lasts. */
	for (;;) {
		o = fw_next_offer(fw, 8000);
		cr_assert_not_null(o, "the declined agent's resources were never offered again");
		if (strcmp(o->agent_id->value, agent) == 0)
			break;
		filters.refuse_seconds = 60;
		px_scheduler_driver_decline(fw_driver(fw), o->id, &filters);
		fw_offer_free(o);
	}
	double after = now_s() - declined;
	fw_offer_free(o);
	cr_expect_geq(after, refuse - 0.1, "offered again after %.2fs, refused for %.1fs", after,
	              refuse);
	cr_expect_leq(after, refuse + 3, "offered again only after %.2fs", after);
}

static bool agent_lost(void *arg)
{
	return fw_agent_lost(arg) > 0;
}

Test(faults, sigkilled_agent_loses_its_tasks_within_the_ping_timeout)
{
	char agent[128];
	struct fw_update u;

	cluster_start(&c);
	fw = fw_start(c.master_addr, "integration-lost", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	launch_one(fw, "doomed", "sleep 60", agent, sizeof(agent));
	cr_assert(fw_wait_state(fw, "doomed", PLEXUS__TASK_STATE__TASK_RUNNING, 20000));
	int k = agent_index(agent);
	cr_assert_geq(k, 0, "no process for agent %s", agent);
	double t0 = now_s();
	proc_signal(c.agents[k], SIGKILL);
	/* 4 missed pings of 500ms: lost after ~2s; allow scheduling slack. */
	cr_assert(fw_wait_terminal(fw, "doomed", &u, 10000), "the task was never lost");
	double took = now_s() - t0;
	cr_expect(u.state == PLEXUS__TASK_STATE__TASK_LOST ||
	              u.state == PLEXUS__TASK_STATE__TASK_UNREACHABLE,
	          "ended %s", px_task_state_name(u.state));
	cr_expect_leq(took, 6.0, "lost only after %.2fs", took);
	cr_expect(wait_until(5000, agent_lost, fw), "no agent_lost callback");
	cr_expect_eq(master_active_agents(c.master_port), 1);
}

Test(faults, framework_failover_within_the_timeout_keeps_its_tasks)
{
	struct fw_update u;
	char id[128];
	char st[64];

	cluster_start(&c);
	fw = fw_start(c.master_addr, "integration-failover", 30, NULL, true);
	snprintf(id, sizeof(id), "%s", fw_wait_registered(fw, 10000));
	launch_one(fw, "kept", "sleep 60", NULL, 0);
	cr_assert(fw_wait_state(fw, "kept", PLEXUS__TASK_STATE__TASK_RUNNING, 20000));
	fw_stop(fw, true);
	fw = NULL;
	fw2 = fw_start(c.master_addr, "integration-failover", 30, id, true);
	const char *again = fw_wait_registered(fw2, 10000);
	cr_assert_not_null(again, "the new scheduler never registered");
	cr_assert_str_eq(again, id);
	cr_assert(master_task_state(c.master_port, "kept", st, sizeof(st)));
	cr_assert_str_eq(st, "TASK_RUNNING");
	/* The task belongs to the new scheduler: it can kill it and hears the end. */
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "kept";
	px_scheduler_driver_kill(fw_driver(fw2), &tid);
	cr_assert(fw_wait_terminal(fw2, "kept", &u, 20000), "no end of the task after failover");
	cr_expect_eq(u.state, PLEXUS__TASK_STATE__TASK_KILLED, "ended %s",
	             px_task_state_name(u.state));
}

static bool framework_completed(void *arg)
{
	json_t *s = http_json(c.master_port, "/master/state"), *f;
	size_t i;
	bool done = false;
	json_array_foreach(json_object_get(s, "completed_frameworks"), i, f)
	{
		const char *id = json_string_value(json_object_get(f, "id"));
		done = done || (id != NULL && strcmp(id, arg) == 0);
	}
	json_decref(s);
	return done;
}

Test(faults, framework_gone_past_its_failover_timeout_has_its_tasks_killed)
{
	char id[128];

	cluster_start(&c);
	fw = fw_start(c.master_addr, "integration-failover-late", 1, NULL, true);
	snprintf(id, sizeof(id), "%s", fw_wait_registered(fw, 10000));
	launch_one(fw, "orphan", "sleep 60", NULL, 0);
	cr_assert(fw_wait_state(fw, "orphan", PLEXUS__TASK_STATE__TASK_RUNNING, 20000));
	double t0 = now_s();
	fw_stop(fw, true);
	fw = NULL;
	cr_assert(wait_until(10000, framework_completed, id),
	          "the framework was never removed after its failover timeout");
	double took = now_s() - t0;
	cr_expect_geq(took, 0.9, "removed after %.2fs, before its 1s failover timeout", took);
	cr_assert(wait_master_task_state(c.master_port, "orphan", "TASK_KILLED", 10000),
	          "the orphaned task was not killed");
}

Test(faults, agent_retries_updates_until_acknowledged)
{
	cluster_start(&c);
	fw = fw_start(c.master_addr, "integration-acks", 0, NULL, false);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	launch_one(fw, "acked", "echo done", NULL, 0);
	/* The first update is resent (every 200ms, doubling) until acknowledged; the
	 * next one waits behind it. */
	struct fw_update ups[1];
	cr_assert(fw_wait_state(fw, "acked", -2, 20000), "no update at all");
	fw_updates(fw, ups, 1);
	int first = ups[0].state;
	cr_assert(fw_wait_count(fw, "acked", first, 3, 10000), "the %s update was not retried",
	          px_task_state_name(first));
	if (first != PLEXUS__TASK_STATE__TASK_FINISHED)
		cr_expect_eq(fw_count(fw, "acked", PLEXUS__TASK_STATE__TASK_FINISHED), 0,
		             "a later update overtook the unacknowledged one");
	/* Acknowledge each update in turn (the next one comes only after): the task
	 * then reaches its end. */
	int state = first;
	for (int round = 0; round < 8 && !px_task_state_is_terminal(state); round++) {
		fw_ack(fw, "acked");
		int prev = state;
		cr_assert(fw_wait_other_state(fw, "acked", prev, &state, 10000),
		          "no update after acknowledging %s", px_task_state_name(prev));
	}
	cr_assert_eq(state, PLEXUS__TASK_STATE__TASK_FINISHED, "ended %s", px_task_state_name(state));
	fw_ack(fw, "acked");
	/* Once acknowledged, the retries stop: no new copy within several retry intervals. */
	int n = fw_count(fw, "acked", PLEXUS__TASK_STATE__TASK_FINISHED);
	cr_expect(!fw_wait_count(fw, "acked", PLEXUS__TASK_STATE__TASK_FINISHED, n + 1, 2500),
	          "the agent kept resending an acknowledged update");
}

static bool two_agents(void *arg)
{
	return master_active_agents(c.master_port) == 2;
}

static bool reregistered(void *arg)
{
	return fw_reregistered(arg) > 0;
}

Test(faults, master_restart_agents_and_framework_come_back_with_running_tasks)
{
	char work[512], st[64];
	struct fw_update u;

	snprintf(work, sizeof(work), "--work-dir=%s/master", harness_dir());
	const char *extra[] = {work, NULL};
	cluster_start_master(&c, extra);
	cluster_start_agent(&c, 0, "cpus:1;mem:512;disk:1024", NULL);
	cluster_start_agent(&c, 1, "cpus:1;mem:512;disk:1024", NULL);
	fw = fw_start(c.master_addr, "integration-restart", 60, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	launch_one(fw, "survivor", "sleep 60", NULL, 0);
	cr_assert(fw_wait_state(fw, "survivor", PLEXUS__TASK_STATE__TASK_RUNNING, 20000));

	proc_signal(c.master, SIGKILL);
	cluster_start_master(&c, extra);
	cr_assert(wait_until(15000, two_agents, NULL), "the agents did not re-register");
	cr_assert(wait_until(15000, reregistered, fw), "the framework did not re-register");
	cr_assert(master_task_state(c.master_port, "survivor", st, sizeof(st)),
	          "the new master does not know the running task");
	cr_assert_str_eq(st, "TASK_RUNNING");
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "survivor";
	px_scheduler_driver_kill(fw_driver(fw), &tid);
	cr_assert(fw_wait_terminal(fw, "survivor", &u, 20000), "the task could not be killed");
	cr_expect_eq(u.state, PLEXUS__TASK_STATE__TASK_KILLED, "ended %s",
	             px_task_state_name(u.state));
}
