/* schedule.c — schedules fire at the right times on the scheduler's paused clock while
 * a real `plexus local` runs the tasks in real time: two days of hourly runs (each at
 * its hour, never a second early, each once), a finite R5
 * schedule, and epsilon (a run missed by more than it is skipped, one within it runs). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actor/clock.h>
#include <actor/http.h>

#include "chr_iso8601.h"
#include "chr_test.h"

static void setup(void)
{
	chr_test_init(2);
}

TestSuite(schedule, .init = setup, .fini = chr_test_fini, .timeout = 280);

static int port(void)
{
	return actor_runtime_http_port();
}

static void post_job(const char *json)
{
	char *body;
	int status = chr_http("POST", "/v1/scheduler/iso8601", json, &body);
	cr_assert_eq(status, 204, "POST %s: %d %s", json, status, body ? body : "");
	free(body);
}

/* The job's schedule as it stands ("R/<next run>/PT1H"), in buf. */
static const char *schedule_of(const char *name, char *buf, size_t size)
{
	json_t *j = chr_job_get(port(), name);
	cr_assert_not_null(j, "no job %s", name);
	snprintf(buf, size, "%s", json_string_value(json_object_get(j, "schedule")));
	json_decref(j);
	return buf;
}

static const char *expect_schedule(const char *prefix, int64_t next, const char *period, char *buf,
                                   size_t size)
{
	char when[40];
	snprintf(buf, size, "%s/%s/%s", prefix, chr_time_format(next, when, sizeof(when)), period);
	return buf;
}

/* The runs of a job that have not succeeded yet are either running or waiting for a
 * retry: moves the clock to each retry as it becomes pending, until all succeeded. */
static bool settle_retries(const char *name, int64_t want, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 20; i++) {
		json_t *j = chr_job_get(port(), name);
		int64_t ok = json_integer_value(json_object_get(j, "successCount"));
		const char *retry = json_string_value(json_object_get(j, "nextRetry"));
		int64_t at = 0;
		if (retry != NULL && *retry != '\0')
			chr_time_parse(retry, &at, NULL, NULL, 0);
		json_decref(j);
		if (ok >= want)
			return true;
		if (at != 0 && at >= chr_test_now())
			actor_clock_advance(at - chr_test_now());
		usleep(20000);
	}
	return false;
}

Test(schedule, hourly_runs_fire_each_hour_once_and_on_time)
{
	char job[1024], got[160], want[160];
	chr_test_runtime(CHR_T2026 - 30 * 60000);
	chr_test_scheduler(60000);
	snprintf(job, sizeof(job),
	         "{\"name\": \"hourly\", \"command\": \"echo $CHRONOS_SCHEDULED_TIME "
	         "$CHRONOS_ATTEMPT >> %s/hourly.txt\", \"schedule\": "
	         "\"R/2026-01-01T00:00:00Z/PT1H\", \"epsilon\": \"PT1M\", \"cpus\": 0.05, "
	         "\"mem\": 16, \"disk\": 0, \"concurrent\": true}",
	         chr_test_dir());
	post_job(job);

	/* One second before each hour nothing has fired; at the hour its run has. */
	actor_clock_advance(30 * 60000 - 1000);
	const int hours = 2 * 24;
	for (int h = 0; h < hours; h++) {
		int64_t due = CHR_T2026 + h * CHR_HOUR;
		cr_assert_str_eq(schedule_of("hourly", got, sizeof(got)),
		                 expect_schedule("R", due, "PT1H", want, sizeof(want)),
		                 "hour %d fired early", h);
		actor_clock_advance(1000);
		cr_assert_str_eq(schedule_of("hourly", got, sizeof(got)),
		                 expect_schedule("R", due + CHR_HOUR, "PT1H", want, sizeof(want)),
		                 "hour %d did not fire at its time", h);
		if (h + 1 < hours)
			actor_clock_advance(CHR_HOUR - 1000);
	}
	/* A loaded cluster may report a finished task as failed (its executor's update lost
	 * on the way to the agent): such a run is retried, as Chronos retries it. */
	cr_assert(settle_retries("hourly", hours, 250000), "only %lld of %d runs succeeded",
	          (long long)chr_job_int(port(), "hourly", "successCount"), hours);
	cr_assert_eq(chr_job_int(port(), "hourly", "successCount"), hours);
	cr_assert_eq(chr_job_int(port(), "hourly", "errorCount"), 0);

	/* Each hour's first attempt ran exactly once, with its own scheduled time; any
	 * other line is a retry of one of those hours. */
	char path[512];
	size_t n, first = 0;
	snprintf(path, sizeof(path), "%s/hourly.txt", chr_test_dir());
	char **lines = chr_lines(path, true, &n);
	cr_assert_geq(n, (size_t)hours, "%zu runs for %d hours", n, hours);
	for (size_t i = 0; i < n; i++) {
		char when[40];
		size_t len = strlen(lines[i]);
		cr_assert_gt(len, 2);
		bool retry = strcmp(lines[i] + len - 2, " 1") != 0;
		lines[i][len - 2] = '\0';
		int64_t at;
		cr_assert(chr_time_parse(lines[i], &at, NULL, NULL, 0), "%s", lines[i]);
		cr_assert_eq((at - CHR_T2026) % CHR_HOUR, 0, "%s is not on an hour", lines[i]);
		if (!retry) {
			cr_assert_str_eq(lines[i],
			                 chr_time_format(CHR_T2026 + (int64_t)first * CHR_HOUR,
			                                 when, sizeof(when)),
			                 "first attempt %zu", first);
			first++;
		}
	}
	cr_assert_eq(first, (size_t)hours, "%zu first attempts for %d hours", first, hours);
	chr_lines_free(lines, n);
}

Test(schedule, a_finite_schedule_runs_its_count_and_stops)
{
	char job[1024], got[160], want[160];
	chr_test_runtime(CHR_T2026);
	chr_test_scheduler(60000);
	snprintf(job, sizeof(job),
	         "{\"name\": \"five\", \"command\": \"echo $CHRONOS_SCHEDULED_TIME >> "
	         "%s/five.txt\", \"schedule\": \"R5/2026-01-01T00:10:00Z/PT10M\", \"cpus\": 0.1, "
	         "\"mem\": 16}",
	         chr_test_dir());
	post_job(job);
	for (int step = 1; step <= 12; step++) {
		actor_clock_advance(10 * 60000);
		int want_runs = step < 5 ? step : 5;
		/* One run at a time (not concurrent): wait for each before the next is due. */
		cr_assert(chr_wait_count(port(), "five", "successCount", want_runs, 60000),
		          "step %d: %lld runs", step,
		          (long long)chr_job_int(port(), "five", "successCount"));
	}
	cr_assert_eq(chr_job_int(port(), "five", "successCount"), 5);
	cr_assert_str_eq(
	    schedule_of("five", got, sizeof(got)),
	    expect_schedule("R0", CHR_T2026 + 60 * 60000, "PT10M", want, sizeof(want)));
	char path[512];
	size_t n;
	snprintf(path, sizeof(path), "%s/five.txt", chr_test_dir());
	char **lines = chr_lines(path, true, &n);
	cr_assert_eq(n, 5);
	chr_lines_free(lines, n);
}

Test(schedule, runs_missed_by_more_than_epsilon_are_skipped)
{
	char job[1024], got[160], want[160];
	chr_test_runtime(CHR_T2026 - 30 * 60000);
	chr_test_scheduler(60000);
	snprintf(job, sizeof(job),
	         "{\"name\": \"late\", \"command\": \"echo $CHRONOS_SCHEDULED_TIME >> "
	         "%s/late.txt\", \"schedule\": \"R/2026-01-01T00:00:00Z/PT1H\", \"epsilon\": "
	         "\"PT10M\", \"cpus\": 0.1, \"mem\": 16}",
	         chr_test_dir());
	post_job(job);
	/* As if the scheduler had stalled from 23:30 to 03:05: 00:00, 01:00 and 02:00 are
	 * later than epsilon, 03:00 is within it. */
	actor_clock_advance((3 * 60 + 35) * 60000);
	cr_assert(chr_wait_count(port(), "late", "successCount", 1, 60000));
	cr_assert_str_eq(
	    schedule_of("late", got, sizeof(got)),
	    expect_schedule("R", CHR_T2026 + 4 * CHR_HOUR, "PT1H", want, sizeof(want)));
	char path[512], when[40];
	size_t n;
	snprintf(path, sizeof(path), "%s/late.txt", chr_test_dir());
	char **lines = chr_lines(path, true, &n);
	cr_assert_eq(n, 1, "%zu runs", n);
	cr_assert_str_eq(lines[0], chr_time_format(CHR_T2026 + 3 * CHR_HOUR, when, sizeof(when)));
	chr_lines_free(lines, n);
}
