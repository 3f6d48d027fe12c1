/* statistics.c — /monitor/statistics in Mesos's shape, and numbers that match what the
 * task used: a task that touches 64 MiB shows at least that resident, with cgroups and
 * with the posix fallback; its sandbox's disk use is walked. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	char work[256];
	snprintf(work, sizeof(work), "%s", h.work_dir);
	harness_stop(&h);
	test_kill_strays(work);
	test_remove_cgroups();
}

TestSuite(statistics, .init = setup, .fini = teardown, .timeout = 60);

/* The statistics object of executor_id in /monitor/statistics (new reference), or NULL. */
static json_t *stats_of(const char *executor_id)
{
	char *body = NULL;
	int status = http_get(h.http_port, "/monitor/statistics", &body);
	cr_assert_eq(status, 200, "GET /monitor/statistics: %d %s", status, body ? body : "");
	json_t *arr = json_loads(body, 0, NULL);
	free(body);
	cr_assert(json_is_array(arr));
	json_t *found = NULL;
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item)
	{
		cr_assert_not_null(json_object_get(item, "framework_id"));
		cr_assert_not_null(json_object_get(item, "source"));
		const char *id = json_string_value(json_object_get(item, "executor_id"));
		if (id != NULL && strcmp(id, executor_id) == 0)
			found = json_incref(json_object_get(item, "statistics"));
	}
	json_decref(arr);
	return found;
}

static double num(json_t *st, const char *key)
{
	json_t *v = json_object_get(st, key);
	return v ? json_number_value(v) : -1;
}

static void check_usage(const char *isolation, bool cgroups)
{
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", isolation, false, 100);
	test_run_task(&h, "t-stats",
	              "dd if=/dev/zero of=blob bs=1M count=4 2>/dev/null; " HOG_PATH " mem 64 hold",
	              "cpus:0.5;mem:256;disk:64");
	char *dir = sandbox_of(&h, "t-stats");
	for (int i = 0; dir == NULL && i < 500; i++) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
		dir = sandbox_of(&h, "t-stats");
	}
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/stdout", dir);
	/* The executor writes to stdout too: wait for the hog's line. */
	bool touched = false;
	for (int64_t end = test_now_ms() + 20000; !touched && test_now_ms() < end;) {
		char *text = read_file(path);
		touched = text != NULL && strstr(text, "touched 64 MiB") != NULL;
		free(text);
		if (!touched) {
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	cr_assert(touched, "the task did not touch its memory");
	json_t *st = NULL;
	/* The disk walk runs every 100 ms: wait for one after the blob was written. */
	for (int64_t end = test_now_ms() + 5000; test_now_ms() < end;) {
		json_decref(st);
		st = stats_of("t-stats");
		cr_assert_not_null(st, "no statistics for the task's executor");
		if (num(st, "disk_used_bytes") >= 4 << 20)
			break;
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	char *text = json_dumps(st, JSON_COMPACT);
	cr_log_info("%s: %s", isolation, text);
	free(text);
	cr_assert_gt(num(st, "timestamp"), 1e9);
	cr_assert_geq(num(st, "mem_rss_bytes"), 64.0 * 1024 * 1024);
	cr_assert_geq(num(st, "cpus_user_time_secs"), 0);
	cr_assert_geq(num(st, "cpus_system_time_secs"), 0);
	cr_assert_geq(num(st, "disk_used_bytes"), 4.0 * 1024 * 1024);
	cr_assert_eq(num(st, "disk_limit_bytes"), 64.0 * 1024 * 1024);
	/* The task's mem plus the command executor's 32 MB. */
	cr_assert_eq(num(st, "mem_limit_bytes"), (256.0 + 32) * 1024 * 1024);
	/* The task's cpus plus the command executor's 0.1. */
	cr_assert(num(st, "cpus_limit") > 0.59 && num(st, "cpus_limit") < 0.61);
	if (cgroups)
		cr_assert_geq(num(st, "mem_total_bytes"), 64.0 * 1024 * 1024);
	json_decref(st);
	/* The executor's entry in the agent's state carries the same statistics. */
	char *body = NULL;
	cr_assert_eq(http_get(h.http_port, "/slave(1)/state", &body), 200);
	json_t *state = json_loads(body, 0, NULL);
	free(body);
	json_t *ex = json_array_get(
	    json_object_get(json_array_get(json_object_get(state, "frameworks"), 0), "executors"),
	    0);
	json_t *exst = json_object_get(ex, "statistics");
	cr_assert_not_null(exst, "no statistics in the executor's state");
	cr_assert_geq(num(exst, "mem_rss_bytes"), 64.0 * 1024 * 1024);
	json_decref(state);
	free(dir);
	kill_task(&h, "t-stats");
	cr_assert(test_wait_state("t-stats", PLEXUS__TASK_STATE__TASK_KILLED, NULL, 20000));
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
	/* Its cgroups went with it (the agent cleans up before it tells the master). */
	cr_assert_eq(test_count_cgroups(), 0, "the container's cgroups are still there");
	/* Gone from the statistics with its container. */
	st = stats_of("t-stats");
	cr_assert_null(st, "a cleaned-up container is still reported");
}

Test(statistics, match_what_the_task_used_with_cgroups)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	check_usage("cgroups/cpu,cgroups/mem,disk/du", true);
}

Test(statistics, match_what_the_task_used_with_posix)
{
	check_usage("posix/cpu,posix/mem,disk/du", false);
}
