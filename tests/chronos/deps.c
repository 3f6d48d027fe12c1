/* deps.c — dependent jobs and failures on a real cluster: a child runs once all its
 * parents have succeeded since its own last run (never after only some, never after a
 * failed parent), in order; a failing job retries with a doubling backoff and records
 * its error; a job that fails once and then succeeds counts one success. */
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
	chr_test_init(1);
}

TestSuite(deps, .init = setup, .fini = chr_test_fini, .timeout = 280);

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

static int64_t count(const char *job, const char *field)
{
	return chr_job_int(port(), job, field);
}

static void wait_count(const char *job, const char *field, int64_t want)
{
	cr_assert(chr_wait_count(port(), job, field, want, 60000), "%s.%s is %lld, not %lld", job,
	          field, (long long)count(job, field), (long long)want);
}

/* The order the jobs ran in, from the shared log each task appends its name to. */
static void assert_order(const char *want)
{
	char path[512], got[1024] = "";
	size_t n;
	snprintf(path, sizeof(path), "%s/order.txt", chr_test_dir());
	char **lines = chr_lines(path, false, &n);
	for (size_t i = 0; i < n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, lines[i]);
	}
	chr_lines_free(lines, n);
	cr_assert_str_eq(got, want);
}

Test(deps, a_child_runs_only_after_all_parents_succeed_since_its_last_run)
{
	char job[1024], marker[512];
	const char *dir;
	chr_test_runtime(CHR_T2026 - 60000);
	chr_test_scheduler(60000);
	dir = chr_test_dir();
	snprintf(marker, sizeof(marker), "%s/b-fails", dir);
	snprintf(job, sizeof(job),
	         "{\"name\": \"a\", \"command\": \"echo a >> %s/order.txt\", \"schedule\": "
	         "\"R/2026-01-01T00:00:00Z/PT1H\", \"cpus\": 0.1, \"mem\": 16}",
	         dir);
	post("/v1/scheduler/iso8601", job);
	snprintf(job, sizeof(job),
	         "{\"name\": \"b\", \"command\": \"test ! -e %s && echo b >> %s/order.txt\", "
	         "\"schedule\": \"R/2026-01-01T00:30:00Z/PT1H\", \"retries\": 0, \"cpus\": 0.1, "
	         "\"mem\": 16}",
	         marker, dir);
	post("/v1/scheduler/iso8601", job);
	snprintf(job, sizeof(job),
	         "{\"name\": \"c\", \"command\": \"echo c >> %s/order.txt\", \"parents\": [\"a\", "
	         "\"b\"], \"cpus\": 0.1, \"mem\": 16}",
	         dir);
	post("/v1/scheduler/dependency", job);

	/* 00:00 a succeeds: c still waits for b. */
	actor_clock_advance(60000);
	wait_count("a", "successCount", 1);
	cr_assert_eq(count("c", "activeRuns"), 0, "c started with only a done");
	/* 00:30 b succeeds: now c runs. */
	actor_clock_advance(30 * 60000);
	wait_count("b", "successCount", 1);
	wait_count("c", "successCount", 1);
	assert_order("a b c");

	/* 01:00 a again: c waits for b's next success, not its old one. */
	actor_clock_advance(30 * 60000);
	wait_count("a", "successCount", 2);
	cr_assert_eq(count("c", "activeRuns"), 0, "c ran on b's success from before its last run");
	actor_clock_advance(30 * 60000);
	wait_count("c", "successCount", 2);
	assert_order("a b c a b c");

	/* 02:00 a, 02:30 b fails: c does not run. */
	FILE *f = fopen(marker, "w");
	cr_assert_not_null(f);
	fclose(f);
	actor_clock_advance(30 * 60000);
	wait_count("a", "successCount", 3);
	actor_clock_advance(30 * 60000);
	wait_count("b", "errorCount", 1);
	cr_assert_eq(count("c", "activeRuns"), 0, "c ran after a failed parent");
	cr_assert_eq(count("c", "successCount"), 2);

	/* 03:00 a, 03:30 b succeeds again: c runs once more. */
	unlink(marker);
	actor_clock_advance(30 * 60000);
	wait_count("a", "successCount", 4);
	actor_clock_advance(30 * 60000);
	wait_count("b", "successCount", 3);
	wait_count("c", "successCount", 3);
	assert_order("a b c a b c a a b c");

	char *dot;
	cr_assert_eq(chr_http("GET", "/v1/scheduler/graph/dot", NULL, &dot), 200);
	cr_assert_not_null(strstr(dot, "\"a\" -> \"c\";"), "%s", dot);
	cr_assert_not_null(strstr(dot, "\"b\" -> \"c\";"), "%s", dot);
	free(dot);
}

Test(deps, a_failing_job_retries_with_backoff_and_records_its_error)
{
	char job[1024], path[512];
	chr_test_runtime(CHR_T2026 - 60000);
	chr_test_scheduler(10 * 60000); /* first retry after 10 minutes, then 20 */
	snprintf(path, sizeof(path), "%s/attempts.txt", chr_test_dir());
	snprintf(job, sizeof(job),
	         "{\"name\": \"flaky\", \"command\": \"echo $CHRONOS_ATTEMPT >> %s; exit 3\", "
	         "\"schedule\": \"R1/2026-01-01T00:00:00Z/PT1H\", \"retries\": 2, \"cpus\": 0.1, "
	         "\"mem\": 16}",
	         path);
	post("/v1/scheduler/iso8601", job);
	actor_clock_advance(60000);

	int64_t waits[] = {10 * 60000, 20 * 60000};
	for (int attempt = 1; attempt <= 2; attempt++) {
		/* Failed, not yet given up: a retry is pending, no error counted. */
		json_t *j = NULL;
		for (int i = 0; i < 3000; i++) {
			json_decref(j);
			j = chr_job_get(port(), "flaky");
			if (*json_string_value(json_object_get(j, "nextRetry")) != '\0')
				break;
			usleep(20000);
		}
		const char *retry = json_string_value(json_object_get(j, "nextRetry"));
		cr_assert_neq(*retry, '\0', "attempt %d: no retry pending", attempt);
		int64_t at;
		cr_assert(chr_time_parse(retry, &at, NULL, NULL, 0));
		cr_assert_eq(at - chr_test_now(), waits[attempt - 1],
		             "attempt %d: retry in %lld ms", attempt,
		             (long long)(at - chr_test_now()));
		cr_assert_eq(json_integer_value(json_object_get(j, "errorCount")), 0);
		cr_assert_not_null(strstr(json_string_value(json_object_get(j, "lastErrorMessage")),
		                          "TASK_FAILED"));
		json_decref(j);
		/* Not a moment early. */
		actor_clock_advance(waits[attempt - 1] - 1000);
		cr_assert_neq(*json_string_value(
		                  json_object_get(j = chr_job_get(port(), "flaky"), "nextRetry")),
		              '\0');
		json_decref(j);
		actor_clock_advance(1000);
	}
	wait_count("flaky", "errorCount", 1);
	json_t *j = chr_job_get(port(), "flaky");
	cr_assert_eq(json_integer_value(json_object_get(j, "successCount")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "errorsSinceLastSuccess")), 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "activeRuns")), 0);
	cr_assert_neq(*json_string_value(json_object_get(j, "lastError")), '\0');
	cr_assert_not_null(
	    strstr(json_string_value(json_object_get(j, "lastErrorMessage")), "TASK_FAILED"), "%s",
	    json_string_value(json_object_get(j, "lastErrorMessage")));
	json_decref(j);
	size_t n;
	char **lines = chr_lines(path, false, &n);
	cr_assert_eq(n, 3, "1 try and 2 retries, not %zu", n);
	cr_assert_str_eq(lines[0], "1");
	cr_assert_str_eq(lines[2], "3");
	chr_lines_free(lines, n);
}

Test(deps, a_run_that_fails_once_then_succeeds_counts_one_success)
{
	char job[1024];
	chr_test_runtime(CHR_T2026);
	chr_test_scheduler(60000);
	snprintf(job, sizeof(job),
	         "{\"name\": \"second-time\", \"command\": \"test $CHRONOS_ATTEMPT -ge 2\", "
	         "\"schedule\": \"R1/2026-01-01T00:00:00Z/PT1H\", \"cpus\": 0.1, \"mem\": 16}");
	post("/v1/scheduler/iso8601", job);
	actor_clock_advance(1);
	/* The first attempt fails; its retry is due a minute later. */
	json_t *j = NULL;
	for (int i = 0; i < 3000; i++) {
		json_decref(j);
		j = chr_job_get(port(), "second-time");
		if (*json_string_value(json_object_get(j, "nextRetry")) != '\0')
			break;
		usleep(20000);
	}
	cr_assert_neq(*json_string_value(json_object_get(j, "nextRetry")), '\0');
	json_decref(j);
	actor_clock_advance(60000);
	wait_count("second-time", "successCount", 1);
	cr_assert_eq(count("second-time", "errorCount"), 0);
	cr_assert_eq(count("second-time", "errorsSinceLastSuccess"), 0);
}
