/* api.c — the `plexus chronos` program and its REST API as a Chronos user drives it
 * with curl: jobs posted, listed, run now, killed and deleted; bad JSON, schedules,
 * parents and methods refused with a 4xx and a message; and jobs with their history
 * kept across a restart of the program (SIGTERM, then started again). Real time: no
 * schedule here is due, runs are started by PUT. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chr_test.h"

static int api_port;
static int chronos_pid;

static void start_chronos(void)
{
	char master[96], http[32], state[512];
	snprintf(master, sizeof(master), "--master=%s", chr_test_master());
	snprintf(http, sizeof(http), "--http-port=%d", api_port);
	snprintf(state, sizeof(state), "--state-file=%s/chronos.json", chr_test_dir());
	const char *args[] = {"chronos", master, http, state, "--failure-retry=1secs", NULL};
	chronos_pid = chr_spawn("chronos", args);
	for (int i = 0; i < 3000; i++) {
		if (chr_http_port(api_port, "GET", "/v1/scheduler/jobs", NULL, NULL) == 200)
			return;
		usleep(20000);
	}
	cr_assert_fail("plexus chronos never served its API");
}

static void setup(void)
{
	chr_test_init(1);
	api_port = chr_free_port();
	start_chronos();
}

TestSuite(api, .init = setup, .fini = chr_test_fini, .timeout = 280);

static int call(const char *method, const char *path, const char *body, char **out)
{
	return chr_http_port(api_port, method, path, body, out);
}

static void expect(const char *method, const char *path, const char *body, int status,
                   const char *message_part)
{
	char *out;
	int got = call(method, path, body, &out);
	cr_assert_eq(got, status, "%s %s %s: %d %s", method, path, body ? body : "", got,
	             out ? out : "");
	if (message_part != NULL) {
		json_t *o = json_loads(out, 0, NULL);
		const char *m = json_string_value(json_object_get(o, "message"));
		cr_assert_not_null(m, "no message in %s", out);
		cr_assert_not_null(strstr(m, message_part), "'%s' lacks '%s'", m, message_part);
		json_decref(o);
	}
	free(out);
}

Test(api, bad_requests_get_a_4xx_with_a_message)
{
	const char *iso = "/v1/scheduler/iso8601", *dep = "/v1/scheduler/dependency";
	expect("POST", iso, "{\"name\": ", 400, "not JSON");
	expect("POST", iso, "{\"name\": \"a\", \"command\": \"true\"}", 400, "'schedule'");
	expect("POST", iso,
	       "{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R/soon/PT1H\"}", 400,
	       "ISO 8601");
	expect("POST", iso,
	       "{\"name\": \"a\", \"command\": \"true\", \"schedule\": "
	       "\"R/2030-01-01T00:00:00Z/PT1Hour\"}",
	       400, "duration 'PT1Hour'");
	expect("POST", iso,
	       "{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"every hour\"}", 400,
	       "three parts");
	expect("POST", iso, "{\"name\": \"a?\", \"command\": \"true\", \"schedule\": \"R//PT1H\"}",
	       400, "'name'");
	expect("POST", iso,
	       "{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", "
	       "\"cpus\": \"many\"}",
	       400, "'cpus'");
	expect("POST", dep, "{\"name\": \"b\", \"command\": \"true\", \"parents\": [\"nobody\"]}",
	       400, "does not exist");
	expect("GET", iso, NULL, 405, "POST");
	expect("PUT", "/v1/scheduler/job/nobody", NULL, 404, "no job named 'nobody'");
	expect("DELETE", "/v1/scheduler/job/nobody", NULL, 404, "nobody");
	expect("DELETE", "/v1/scheduler/task/kill/nobody", NULL, 404, "nobody");
	expect("PUT", "/v1/scheduler/job/a%2Fb", NULL, 400, "job name");

	/* Nothing of that was taken. */
	char *out;
	cr_assert_eq(call("GET", "/v1/scheduler/jobs", NULL, &out), 200);
	cr_assert_str_eq(out, "[]");
	free(out);

	/* A parent cannot be deleted under its child, nor a job made its own ancestor. */
	expect("POST", iso,
	       "{\"name\": \"p\", \"command\": \"true\", \"schedule\": "
	       "\"R/2030-01-01T00:00:00Z/PT1H\"}",
	       204, NULL);
	expect("POST", dep, "{\"name\": \"k\", \"command\": \"true\", \"parents\": [\"p\"]}", 204,
	       NULL);
	expect("POST", dep, "{\"name\": \"p\", \"command\": \"true\", \"parents\": [\"k\"]}", 400,
	       "cycle");
	expect("DELETE", "/v1/scheduler/job/p", NULL, 400, "is a parent of 'k'");
	expect("DELETE", "/v1/scheduler/job/k", NULL, 204, NULL);
	expect("DELETE", "/v1/scheduler/job/p", NULL, 204, NULL);
}

Test(api, jobs_run_now_are_killed_and_deleted_and_kept_across_a_restart)
{
	char job[512];
	snprintf(job, sizeof(job),
	         "{\"name\": \"my job\", \"command\": \"echo $CHRONOS_JOB_NAME >> %s/out.txt\", "
	         "\"schedule\": \"R/2030-01-01T00:00:00Z/P1D\", \"owner\": \"ops@example.com\", "
	         "\"cpus\": 0.1, \"mem\": 32}",
	         chr_test_dir());
	expect("POST", "/v1/scheduler/iso8601", job, 204, NULL);
	expect("POST", "/v1/scheduler/iso8601",
	       "{\"name\": \"sleeper\", \"command\": \"sleep 60\", \"schedule\": "
	       "\"R/2030-01-01T00:00:00Z/P1D\", \"retries\": 3, \"cpus\": 0.1, \"mem\": 32}",
	       204, NULL);
	expect("POST", "/v1/scheduler/dependency",
	       "{\"name\": \"after\", \"command\": \"true\", \"parents\": [\"my job\"], \"cpus\": "
	       "0.1, \"mem\": 32}",
	       204, NULL);

	/* Run now: the job and then its child run. */
	expect("PUT", "/v1/scheduler/job/my%20job", NULL, 204, NULL);
	cr_assert(chr_wait_count(api_port, "my job", "successCount", 1, 60000));
	cr_assert(chr_wait_count(api_port, "after", "successCount", 1, 60000));
	char path[512];
	size_t n;
	snprintf(path, sizeof(path), "%s/out.txt", chr_test_dir());
	char **lines = chr_lines(path, false, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(lines[0], "my job", "the task sees CHRONOS_JOB_NAME");
	chr_lines_free(lines, n);

	/* Kill: the running task ends, is not retried, and counts as an error. */
	expect("PUT", "/v1/scheduler/job/sleeper", NULL, 204, NULL);
	char state[32] = "";
	for (int i = 0; i < 3000; i++) {
		if (strcmp(chr_master_task_state("sleeper", state, sizeof(state)),
		           "TASK_RUNNING") == 0)
			break;
		usleep(20000);
	}
	cr_assert_str_eq(state, "TASK_RUNNING");
	expect("DELETE", "/v1/scheduler/task/kill/sleeper", NULL, 204, NULL);
	cr_assert(chr_wait_count(api_port, "sleeper", "errorCount", 1, 60000));
	json_t *j = chr_job_get(api_port, "sleeper");
	cr_assert_eq(json_integer_value(json_object_get(j, "activeRuns")), 0,
	             "a killed run retried");
	cr_assert_not_null(
	    strstr(json_string_value(json_object_get(j, "lastErrorMessage")), "TASK_KILLED"), "%s",
	    json_string_value(json_object_get(j, "lastErrorMessage")));
	json_decref(j);

	char *dot;
	cr_assert_eq(call("GET", "/v1/scheduler/graph/dot", NULL, &dot), 200);
	cr_assert_not_null(strstr(dot, "\"my job\" -> \"after\";"), "%s", dot);
	cr_assert_not_null(strstr(dot, "\"sleeper\" [style=filled fillcolor=red];"), "%s", dot);
	free(dot);

	/* A restart of the program keeps every job and its history. */
	kill(chronos_pid, SIGTERM);
	int status;
	cr_assert_eq(waitpid(chronos_pid, &status, 0), chronos_pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "plexus chronos exited %d",
	          status);
	start_chronos();
	cr_assert_eq(chr_job_int(api_port, "my job", "successCount"), 1);
	cr_assert_eq(chr_job_int(api_port, "after", "successCount"), 1);
	cr_assert_eq(chr_job_int(api_port, "sleeper", "errorCount"), 1);
	j = chr_job_get(api_port, "my job");
	cr_assert_str_eq(json_string_value(json_object_get(j, "owner")), "ops@example.com");
	cr_assert_str_eq(json_string_value(json_object_get(j, "schedule")),
	                 "R/2030-01-01T00:00:00.000Z/P1D");
	json_decref(j);

	/* Delete: gone from the list, and from the graph. */
	expect("DELETE", "/v1/scheduler/job/after", NULL, 204, NULL);
	cr_assert_null(chr_job_get(api_port, "after"));
	cr_assert_eq(call("GET", "/v1/scheduler/graph/dot", NULL, &dot), 200);
	cr_assert_null(strstr(dot, "after"), "%s", dot);
	free(dot);
}
