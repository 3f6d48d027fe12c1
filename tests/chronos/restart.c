/* restart.c — a scheduler that crashes (its driver aborted, nothing more written, as a
 * killed process) and starts again from its state file, failing over to the same
 * framework: no run is lost and none is repeated, whether its task was running,
 * finished while no scheduler ran, or was not yet launched; a run that fell due while
 * it was down runs (within epsilon); and a dependent job keeps its parents' successes
 * across the restart (Chronos lost them: its issue 811). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actor/clock.h>
#include <actor/http.h>

#include "chr_iso8601.h"
#include "chr_test.h"

static void setup(void)
{
	chr_test_init(1);
}

TestSuite(restart, .init = setup, .fini = chr_test_fini, .timeout = 280);

static int port(void)
{
	return actor_runtime_http_port();
}

static void post(const char *path, const char *json)
{
	char *body;
	int status = chr_http("POST", path, json, &body);
	cr_assert_eq(status, 204, "POST %s %s: %d %s", path, json, status, body ? body : "");
	free(body);
}

static void wait_count(const char *job, const char *field, int64_t want)
{
	cr_assert(chr_wait_count(port(), job, field, want, 60000), "%s.%s is %lld, not %lld", job,
	          field, (long long)chr_job_int(port(), job, field), (long long)want);
}

static size_t wait_lines(const char *path, size_t want)
{
	size_t n = 0;
	for (int i = 0; i < 3000; i++) {
		char **lines = chr_lines(path, false, &n);
		chr_lines_free(lines, n);
		if (n >= want)
			break;
		usleep(20000);
	}
	return n;
}

/* The scheduled times a job's tasks wrote, one line per run, must be exactly these. */
static void assert_runs(const char *path, const int64_t *want, size_t nwant)
{
	size_t n;
	char **lines = chr_lines(path, true, &n);
	cr_assert_eq(n, nwant, "%zu runs, expected %zu", n, nwant);
	for (size_t i = 0; i < n; i++) {
		char when[40];
		cr_assert_str_eq(lines[i], chr_time_format(want[i], when, sizeof(when)), "run %zu",
		                 i);
	}
	chr_lines_free(lines, n);
}

Test(restart, a_run_whose_task_finished_while_no_scheduler_ran_counts_once)
{
	char job[1024], path[512], state[32];
	chr_test_runtime(CHR_T2026 - 60000);
	chr_test_scheduler(60000);
	snprintf(path, sizeof(path), "%s/runs.txt", chr_test_dir());
	snprintf(job, sizeof(job),
	         "{\"name\": \"nightly\", \"command\": \"echo $CHRONOS_SCHEDULED_TIME >> %s; sleep "
	         "0.5\", \"schedule\": \"R/2026-01-01T00:00:00Z/PT1H\", \"epsilon\": \"PT10M\", "
	         "\"cpus\": 0.1, \"mem\": 16}",
	         path);
	post("/v1/scheduler/iso8601", job);

	actor_clock_advance(60000);
	cr_assert_eq(wait_lines(path, 1), 1, "the 00:00 run never started");
	chr_test_scheduler_end(true);
	/* The task ends on the cluster while no scheduler runs. */
	for (int i = 0; i < 3000; i++) {
		if (strcmp(chr_master_task_state("nightly", state, sizeof(state)),
		           "TASK_FINISHED") == 0)
			break;
		usleep(20000);
	}
	cr_assert_str_eq(state, "TASK_FINISHED");

	chr_test_scheduler(60000);
	wait_count("nightly", "successCount", 1);
	cr_assert_eq(chr_job_int(port(), "nightly", "activeRuns"), 0);
	actor_clock_advance(CHR_HOUR);
	wait_count("nightly", "successCount", 2);
	int64_t want[] = {CHR_T2026, CHR_T2026 + CHR_HOUR};
	assert_runs(path, want, 2);
	cr_assert_eq(chr_job_int(port(), "nightly", "successCount"), 2, "a run counted twice");
}

Test(restart, a_running_task_is_taken_over_and_a_run_due_while_down_runs_once)
{
	char job[1024], path[512];
	chr_test_runtime(CHR_T2026 - 60000);
	chr_test_scheduler(60000);
	snprintf(path, sizeof(path), "%s/runs.txt", chr_test_dir());
	snprintf(job, sizeof(job),
	         "{\"name\": \"hourly\", \"command\": \"echo $CHRONOS_SCHEDULED_TIME >> %s; sleep "
	         "1\", \"schedule\": \"R/2026-01-01T00:00:00Z/PT1H\", \"epsilon\": \"PT10M\", "
	         "\"cpus\": 0.1, \"mem\": 16}",
	         path);
	post("/v1/scheduler/iso8601", job);

	/* Crash while the 00:00 task runs; restart while it still runs. */
	actor_clock_advance(60000);
	cr_assert_eq(wait_lines(path, 1), 1);
	chr_test_scheduler_end(true);
	chr_test_scheduler(60000);
	wait_count("hourly", "successCount", 1);

	/* Down from 00:59 to 01:05: the 01:00 run is late by less than epsilon. */
	actor_clock_advance(CHR_T2026 + 59 * 60000 - chr_test_now());
	chr_test_scheduler_end(true);
	actor_clock_advance(6 * 60000);
	chr_test_scheduler(60000);
	wait_count("hourly", "successCount", 2);

	/* Down from 01:59 to 03:30: 02:00 and 03:00 are later than epsilon. */
	actor_clock_advance(CHR_T2026 + 119 * 60000 - chr_test_now());
	chr_test_scheduler_end(true);
	actor_clock_advance(91 * 60000);
	chr_test_scheduler(60000);
	actor_clock_advance(CHR_T2026 + 4 * CHR_HOUR - chr_test_now());
	wait_count("hourly", "successCount", 3);
	int64_t want[] = {CHR_T2026, CHR_T2026 + CHR_HOUR, CHR_T2026 + 4 * CHR_HOUR};
	assert_runs(path, want, 3);
}

Test(restart, a_crash_right_after_a_run_fell_due_neither_loses_nor_repeats_it)
{
	char job[1024], path[512];
	chr_test_runtime(CHR_T2026 - 60000);
	chr_test_scheduler(60000);
	snprintf(path, sizeof(path), "%s/runs.txt", chr_test_dir());
	snprintf(job, sizeof(job),
	         "{\"name\": \"quick\", \"command\": \"echo $CHRONOS_SCHEDULED_TIME >> %s\", "
	         "\"schedule\": \"R/2026-01-01T00:00:00Z/PT1H\", \"epsilon\": \"PT10M\", "
	         "\"cpus\": 0.1, \"mem\": 16}",
	         path);
	post("/v1/scheduler/iso8601", job);
	/* Each time the crash lands wherever the run is: queued, launched or done. */
	for (int h = 0; h < 4; h++) {
		actor_clock_advance(h == 0 ? 60000 : CHR_HOUR);
		chr_job_int(port(), "quick", "activeRuns"); /* the tick has been handled */
		chr_test_scheduler_end(true);
		chr_test_scheduler(60000);
		wait_count("quick", "successCount", h + 1);
	}
	int64_t want[4];
	for (int h = 0; h < 4; h++)
		want[h] = CHR_T2026 + h * CHR_HOUR;
	assert_runs(path, want, 4);
	cr_assert_eq(chr_job_int(port(), "quick", "successCount"), 4);
}

Test(restart, a_dependent_job_keeps_its_parents_successes)
{
	char job[1024], path[512];
	chr_test_runtime(CHR_T2026 - 60000);
	chr_test_scheduler(60000);
	snprintf(path, sizeof(path), "%s/child.txt", chr_test_dir());
	post("/v1/scheduler/iso8601",
	     "{\"name\": \"extract\", \"command\": \"true\", \"schedule\": "
	     "\"R/2026-01-01T00:00:00Z/PT1H\", \"cpus\": 0.1, \"mem\": 16}");
	post("/v1/scheduler/iso8601",
	     "{\"name\": \"load\", \"command\": \"true\", \"schedule\": "
	     "\"R/2026-01-01T00:30:00Z/PT1H\", \"cpus\": 0.1, \"mem\": 16}");
	snprintf(job, sizeof(job),
	         "{\"name\": \"report\", \"command\": \"echo ran >> %s\", \"parents\": "
	         "[\"extract\", \"load\"], \"cpus\": 0.1, \"mem\": 16}",
	         path);
	post("/v1/scheduler/dependency", job);

	actor_clock_advance(60000);
	wait_count("extract", "successCount", 1);
	/* The scheduler restarts between the two parents' successes. */
	chr_test_scheduler_end(true);
	chr_test_scheduler(60000);
	cr_assert_eq(chr_job_int(port(), "report", "activeRuns"), 0);
	actor_clock_advance(30 * 60000);
	wait_count("load", "successCount", 1);
	wait_count("report", "successCount", 1);
	size_t n;
	char **lines = chr_lines(path, false, &n);
	chr_lines_free(lines, n);
	cr_assert_eq(n, 1);
}
