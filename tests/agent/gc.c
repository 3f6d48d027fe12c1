/* gc.c — old sandboxes are garbage-collected after --gc-delay on the runtime clock
 * (paused and advanced here), and a live executor's sandbox stays. A real agent actor
 * and real plexus-executor children, driven by the test actor playing the master. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actor/clock.h"
#include "agent/agent.h"
#include "harness.h"

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	if (actor_clock_paused())
		actor_clock_resume();
	harness_stop(&h);
}

TestSuite(gc, .init = setup, .fini = teardown, .timeout = 60);

#define HOUR_MS (3600LL * 1000)

static void start_agent(int64_t gc_delay_ms, double headroom, int64_t disk_watch_ms)
{
	struct agent_flags f;
	char master[ACTOR_PID_TEXT_MAX], err[512] = "";
	agent_flags_default(&f);
	actor_pid_format(h.master, master, sizeof(master));
	f.master = master;
	f.work_dir = h.work_dir;
	f.resources = "cpus:2;mem:256";
	f.executor_path = PLEXUS_EXECUTOR_PATH;
	f.port = h.http_port;
	f.gc_delay_ms = gc_delay_ms;
	f.gc_disk_headroom = headroom;
	f.disk_watch_interval_ms = disk_watch_ms;
	cr_assert_eq(agent_start(&f, &h.agent, err, sizeof(err)), 0, "agent_start: %s", err);
	char *r = master_wait_registration(1, 1, 10000);
	cr_assert_not_null(r, "the agent did not register");
	free(r);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Waits (real time) until path is gone (gone) or exists (!gone). */
static bool wait_path(const char *path, bool gone, int64_t timeout_ms)
{
	for (int64_t t = 0; t <= timeout_ms; t += 10) {
		if (exists(path) != gone)
			return true;
		usleep(10000);
	}
	return false;
}

static bool wait_state(const char *task, int state, int64_t timeout_ms)
{
	for (int64_t t = 0; t <= timeout_ms; t += 10) {
		struct seen_update got[64];
		size_t n = master_updates(got, 64);
		for (size_t i = 0; i < n; i++)
			if (strcmp(got[i].task_id, task) == 0 && got[i].state == state)
				return true;
		usleep(10000);
	}
	return false;
}

Test(gc, an_old_sandbox_goes_after_the_delay_and_a_live_one_stays)
{
	char done_meta[600];
	/* The disk is never measured within the test: only the delay counts. */
	start_agent(HOUR_MS, 0.1, 1000 * HOUR_MS);
	run_command_task(&h, "done", "true");
	cr_assert(wait_state("done", PLEXUS__TASK_STATE__TASK_FINISHED, 20000));
	char *link = sandbox_of(&h, "done");
	char *done_dir = realpath(link, NULL);
	cr_assert_not_null(done_dir, "no sandbox for the finished task (%s)", link);
	/* The executor is over once its checkpoint is gone: then its sandbox is scheduled. */
	snprintf(done_meta, sizeof(done_meta), "%s/meta/slaves/%s/frameworks/%s/executors/done",
	         h.work_dir, AGENT_ID, FRAMEWORK_ID);
	cr_assert(wait_path(done_meta, true, 20000), "the finished executor's checkpoint stays");

	run_command_task(&h, "live", "sleep 30");
	cr_assert(wait_state("live", PLEXUS__TASK_STATE__TASK_RUNNING, 20000));
	char *live_link = sandbox_of(&h, "live");
	char *live_dir = realpath(live_link, NULL);
	cr_assert_not_null(live_dir);

	actor_clock_pause();
	actor_clock_advance(HOUR_MS / 2);
	actor_clock_settle();
	cr_assert(exists(done_dir), "the sandbox went before --gc-delay");
	actor_clock_advance(HOUR_MS / 2 + 60000);
	actor_clock_settle();
	cr_assert(wait_path(done_dir, true, 5000), "the old sandbox %s is still there", done_dir);
	cr_assert(!exists(link), "the latest link of the removed run is left dangling");
	cr_assert(exists(live_dir), "the live sandbox %s was collected", live_dir);
	actor_clock_resume();
	free(link);
	free(done_dir);
	free(live_link);
	free(live_dir);
}

Test(gc, a_full_disk_collects_before_the_delay)
{
	char meta[600];
	/* A headroom of 1 means the disk always counts as full: every scheduled sandbox
	 * goes at the next disk check, a week's delay notwithstanding. */
	start_agent(7 * 24 * HOUR_MS, 1.0, 60000);
	run_command_task(&h, "done", "true");
	cr_assert(wait_state("done", PLEXUS__TASK_STATE__TASK_FINISHED, 20000));
	char *link = sandbox_of(&h, "done");
	char *dir = realpath(link, NULL);
	cr_assert_not_null(dir);
	snprintf(meta, sizeof(meta), "%s/meta/slaves/%s/frameworks/%s/executors/done", h.work_dir,
	         AGENT_ID, FRAMEWORK_ID);
	cr_assert(wait_path(meta, true, 20000), "the finished executor's checkpoint stays");

	actor_clock_pause();
	cr_assert(exists(dir));
	actor_clock_advance(61000); /* past one --disk-watch-interval */
	actor_clock_settle();
	cr_assert(wait_path(dir, true, 5000), "a full disk did not hasten the collection");
	actor_clock_resume();
	free(link);
	free(dir);
}
