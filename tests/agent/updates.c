/* updates.c — the status update manager against a master that does not acknowledge:
 * acknowledgements are dropped with libactor's message filter and the paused clock is
 * moved by hand, so the retries (10 s, then 20 s, 40 s ...) are exact. Also the
 * re-registration after the master comes back. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "proto/plexus.pb-c.h"

static struct harness h;
static atomic_bool dropping;
static atomic_int from_executor; /* StatusUpdateMessages the agent received */
static atomic_int dropped;

static actor_filter_verdict filter(const actor_msg *m, void *arg)
{
	if (!actor_pid_equal(m->to, h.agent))
		return ACTOR_FILTER_PASS;
	if (strcmp(m->name, "plexus.internal.StatusUpdateMessage") == 0)
		atomic_fetch_add(&from_executor, 1);
	if (atomic_load(&dropping) &&
	    strcmp(m->name, "plexus.internal.StatusUpdateAcknowledgementMessage") == 0) {
		atomic_fetch_add(&dropped, 1);
		return ACTOR_FILTER_DROP;
	}
	return ACTOR_FILTER_PASS;
}

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	actor_filter_install(NULL, NULL);
	if (actor_clock_paused())
		actor_clock_resume();
	harness_stop(&h);
}

TestSuite(updates, .init = setup, .fini = teardown, .timeout = 60);

static size_t updates_now(struct seen_update *got, size_t max)
{
	actor_clock_settle();
	return master_updates(got, max);
}

Test(updates, retried_until_acknowledged_and_kept_in_order)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	actor_clock_pause();
	atomic_store(&dropping, true);
	actor_filter_install(filter, NULL);

	run_command_task(&h, "t-retry", "true");
	/* The executor's three updates reach the agent (in real time, another process). */
	for (int i = 0; i < 2000 && atomic_load(&from_executor) < 3; i++) {
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(atomic_load(&from_executor), 3, "the executor's updates did not arrive");

	struct seen_update got[16];
	/* Only the first update of the task is out: the next waits for its ack. */
	cr_assert(master_wait_updates(1, 5000));
	cr_assert_eq(updates_now(got, 16), 1);
	cr_assert_eq(got[0].state, PLEXUS__TASK_STATE__TASK_STARTING);
	cr_assert_eq(got[0].latest_state, PLEXUS__TASK_STATE__TASK_STARTING);

	actor_clock_advance(9999);
	cr_assert_eq(updates_now(got, 16), 1, "retried before 10 s");
	actor_clock_advance(1);
	cr_assert_eq(updates_now(got, 16), 2, "not retried after 10 s");
	cr_assert_eq(got[1].state, PLEXUS__TASK_STATE__TASK_STARTING);
	cr_assert_eq(memcmp(got[0].uuid, got[1].uuid, 16), 0, "a retry is the same update");
	/* By now the agent knows the task finished, and says so. */
	cr_assert_eq(got[1].latest_state, PLEXUS__TASK_STATE__TASK_FINISHED);

	/* Backoff doubles: nothing at +19.999 s, the third copy at +20 s. */
	actor_clock_advance(19999);
	cr_assert_eq(updates_now(got, 16), 2);
	actor_clock_advance(1);
	cr_assert_eq(updates_now(got, 16), 3);
	cr_assert_eq(atomic_load(&dropped), 3);

	/* Acknowledgements get through again: the next retry is acknowledged and the
	 * rest of the stream follows in order. */
	atomic_store(&dropping, false);
	actor_clock_advance(40000);
	cr_assert(master_wait_updates(6, 5000));
	size_t n = updates_now(got, 16);
	cr_assert_eq(n, 6);
	static const int states[] = {
	    PLEXUS__TASK_STATE__TASK_STARTING, PLEXUS__TASK_STATE__TASK_STARTING,
	    PLEXUS__TASK_STATE__TASK_STARTING, PLEXUS__TASK_STATE__TASK_STARTING,
	    PLEXUS__TASK_STATE__TASK_RUNNING,  PLEXUS__TASK_STATE__TASK_FINISHED};
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i].state, states[i], "update %zu", i);
	cr_assert_neq(memcmp(got[3].uuid, got[4].uuid, 16), 0);
	cr_assert_neq(memcmp(got[4].uuid, got[5].uuid, 16), 0);
}

Test(updates, reregisters_with_its_tasks_after_the_master_comes_back)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	run_command_task(&h, "t-long", "exec sleep 300");
	cr_assert(master_wait_updates(2, 20000));
	struct seen_update got[4];
	master_updates(got, 4);
	cr_assert_eq(got[1].state, PLEXUS__TASK_STATE__TASK_RUNNING);

	harness_restart_master(&h);
	char *res = master_wait_registration(2, 1, 20000);
	cr_assert_not_null(res, "the agent did not register again");
	free(res);
	cr_assert_eq(master_last_reregistration_tasks(), 1);
}

Test(updates, answers_pings)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	Plexus__Internal__PingAgentMessage ping = PLEXUS__INTERNAL__PING_AGENT_MESSAGE__INIT;
	ping.has_connected = true;
	ping.connected = true;
	master_send(h.agent, &ping.base);
	master_send(h.agent, &ping.base);
	for (int i = 0; i < 1000 && master_pongs() < 2; i++) {
		struct timespec ts = {0, 2 * 1000000L};
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(master_pongs(), 2);
}

Test(updates, custom_executor_gets_its_environment_and_a_registration_timeout)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	Plexus__ExecutorInfo ex = PLEXUS__EXECUTOR_INFO__INIT;
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	eid.value = (char *)"custom-1";
	/* An executor that never registers. */
	cmd.value = (char *)"env > env.txt; echo $$ > pid; exec sleep 300";
	ex.executor_id = &eid;
	ex.command = &cmd;
	/* Paused before the launch, so the registration timer starts on the paused clock. */
	actor_clock_pause();
	run_task(&h, "t-custom", NULL, &ex, -1);

	char *dir = sandbox_of(&h, "custom-1");
	for (int i = 0; i < 1000 && dir == NULL; i++) {
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
		dir = sandbox_of(&h, "custom-1");
	}
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/pid", dir);
	cr_assert(wait_file(path, 10000));
	char *text = read_file(path);
	int pid = atoi(text);
	free(text);
	snprintf(path, sizeof(path), "%s/env.txt", dir);
	text = read_file(path);
	cr_assert_not_null(text);
	char line[1400];
	snprintf(line, sizeof(line), "PLEXUS_AGENT_PID=%s\n", actor_pid_str(h.agent));
	cr_assert(strstr(text, line) != NULL, "%s", text);
	cr_assert(strstr(text, "PLEXUS_FRAMEWORK_ID=" FRAMEWORK_ID "\n") != NULL, "%s", text);
	cr_assert(strstr(text, "PLEXUS_EXECUTOR_ID=custom-1\n") != NULL, "%s", text);
	cr_assert(strstr(text, "PLEXUS_AGENT_ID=" AGENT_ID "\n") != NULL, "%s", text);
	snprintf(line, sizeof(line), "PLEXUS_DIRECTORY=%s\n", dir);
	cr_assert(strstr(text, line) != NULL, "%s", text);
	free(text);

	/* It never registers: after the registration timeout (1 min on the agent's clock)
	 * it is destroyed and its task is lost, with that reason. The executor may have
	 * written its files while the agent's turn that launched it (and arms the timer) is
	 * still running: settle first, so the timer starts before the clock moves. */
	actor_clock_settle();
	actor_clock_advance(59000);
	actor_clock_settle();
	cr_assert_eq(master_updates(NULL, 0), 0);
	cr_assert_eq(kill(pid, 0), 0);
	actor_clock_advance(1000);
	if (!master_wait_updates(1, 10000)) {
		char target[128], *state = NULL;
		snprintf(target, sizeof(target), "/%s/state", h.agent.id);
		http_get(h.http_port, target, &state);
		cr_assert_fail("no update after the registration timeout; agent state: %s",
			       state ? state : "(none)");
	}
	struct seen_update got[2];
	cr_assert_eq(master_updates(got, 2), 1);
	cr_assert_eq(got[0].state, PLEXUS__TASK_STATE__TASK_LOST);
	cr_assert_eq(got[0].reason,
	             PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_REGISTRATION_TIMEOUT);
	cr_assert_eq(kill(pid, 0), -1, "the executor survived");
	free(dir);
}

Test(updates, finds_the_master_by_its_http_address_and_again_after_a_restart)
{
	h.master_by_http = true;
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	harness_restart_master(&h);
	char *res = master_wait_registration(2, 1, 20000);
	cr_assert_not_null(res, "the agent did not find the master again");
	free(res);
}

Test(updates, held_updates_go_out_at_once_after_reregistration)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	master_set_auto_ack(false);
	run_command_task(&h, "t-held", "true");
	cr_assert(master_wait_updates(1, 20000));
	/* The master goes away without acknowledging; a new one comes (acknowledging).
	 * The agent re-registers and sends the unacknowledged update again at once, not
	 * after its 10 s retry interval, then the rest in order. */
	master_set_auto_ack(true);
	harness_restart_master(&h);
	char *res = master_wait_registration(2, 1, 20000);
	cr_assert_not_null(res);
	free(res);
	cr_assert(master_wait_updates(4, 5000), "the held updates did not follow");
	struct seen_update got[8];
	cr_assert_eq(master_updates(got, 8), 4);
	static const int states[] = {
	    PLEXUS__TASK_STATE__TASK_STARTING, PLEXUS__TASK_STATE__TASK_STARTING,
	    PLEXUS__TASK_STATE__TASK_RUNNING, PLEXUS__TASK_STATE__TASK_FINISHED};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(got[i].state, states[i], "update %d", i);
	cr_assert_eq(memcmp(got[0].uuid, got[1].uuid, 16), 0);
}
