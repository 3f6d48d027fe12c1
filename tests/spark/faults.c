/* faults.c — the engine when things go away, and on a shared cluster: an executor
 * SIGKILLed mid-job (the result is still exact and only its map outputs are computed
 * again), idle executors released, offers suppressed while idle and revived by the
 * next job. Real `plexus local` with two agents, real executors. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spk_test.h"

static long long num(spk_bytes b)
{
	char t[32];
	size_t n = b.len < sizeof(t) - 1 ? b.len : sizeof(t) - 1;
	memcpy(t, b.data, n);
	t[n] = '\0';
	return atoll(t);
}

static int fn_mod10(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	char t[8];
	int n = snprintf(t, sizeof(t), "%lld", num(in->value) % 10);
	spk_emit_value(out, t, (size_t)n);
	return 0;
}

/* Passes rows through, arg milliseconds each. */
static int fn_slow(const spk_row *in, const char *arg, spk_emitter *out)
{
	usleep((useconds_t)atoi(arg) * 1000);
	spk_emit(out, in);
	return 0;
}

static void register_fns(void)
{
	spk_register_map("mod10", fn_mod10);
	spk_register_map("slow", fn_slow);
}

SPK_TEST_BOOT(register_fns)

static struct spk_cluster cluster;
static spk_context *sc;

static void setup(void)
{
	sc = NULL;
	spk_cluster_start(&cluster, 2, "cpus:2;mem:1024;disk:1024");
}

static void teardown(void)
{
	spk_context_stop(sc);
	sc = NULL;
	spk_cluster_stop(&cluster);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 150);

struct killer {
	pthread_t thread;
	pid_t victim;
	bool killed;
};

static bool tasks_running(void *arg)
{
	(void)arg;
	return spk_context_tasks_running(sc) > 0;
}

static void *kill_when_running(void *arg)
{
	struct killer *k = arg;
	if (spk_wait(20000, tasks_running, NULL)) {
		usleep(50 * 1000); /* well inside the reduce stage's first tasks */
		/* Only a kill while the job still runs tests recovery. */
		k->killed = spk_context_tasks_running(sc) > 0 && kill(k->victim, SIGKILL) == 0;
	}
	return NULL;
}

Test(faults, a_killed_executor_loses_only_its_map_outputs_and_the_result_is_exact)
{
	sc = spk_test_context(&cluster, 0);
	enum { MAPS = 8, N = 4000 };
	spk_rdd *keyed = spk_key_by(spk_range(sc, 0, N, 1, MAPS), "mod10", NULL);
	spk_rdd *sums = spk_reduce_by_key(keyed, "sum", NULL, 4);
	int sid = spk_shuffle_id(sums);
	/* First job: the map stage's outputs spread over both executors. */
	uint64_t n = 0;
	cr_assert_eq(spk_count(sums, &n), 0, "%s", spk_context_error(sc));
	cr_assert_eq(n, 10);
	char victim_id[128], where[MAPS][128];
	for (int m = 0; m < MAPS; m++)
		cr_assert_eq(spk_context_map_location(sc, sid, m, where[m], sizeof(where[m])), 0);
	snprintf(victim_id, sizeof(victim_id), "%s", where[0]);
	bool lost[MAPS];
	int nlost = 0;
	for (int m = 0; m < MAPS; m++) {
		lost[m] = strcmp(where[m], victim_id) == 0;
		nlost += lost[m];
	}
	struct killer k = {.victim = spk_executor_pid_of(victim_id)};
	cr_assert_gt(k.victim, 0, "no process for executor %s", victim_id);

	/* Second job over the same shuffle: the victim dies while reducers run. */
	pthread_create(&k.thread, NULL, kill_when_running, &k);
	spk_rows *rows = NULL;
	int rc = spk_collect(spk_map(sums, "slow", "250"), &rows);
	pthread_join(k.thread, NULL);
	cr_assert(k.killed, "the executor was not killed while the job ran");
	cr_assert_eq(rc, 0, "%s", spk_context_error(sc));
	cr_assert_eq(rows->n, 10);
	for (size_t i = 0; i < rows->n; i++) {
		long long key = num(rows->rows[i].key), want = 0;
		for (long long v = key; v < N; v += 10)
			want += v;
		cr_expect_eq(num(rows->rows[i].value), want, "key %lld", key);
	}
	spk_rows_free(rows);
	int attempts[MAPS];
	cr_assert_eq(spk_context_shuffle_attempts(sc, sid, attempts, MAPS), MAPS);
	for (int m = 0; m < MAPS; m++)
		cr_expect_eq(attempts[m], lost[m] ? 2 : 1, "map %d (on %s): %d attempts", m,
		             where[m], attempts[m]);
	cr_expect_gt(nlost, 0);
}

static json_t *driver_state(void)
{
	char *body = NULL;
	json_t *j = NULL;
	if (spk_http_get(spk_context_http_port(sc), "/spark/jobs", &body) == 200)
		j = json_loads(body, 0, NULL);
	free(body);
	return j;
}

static bool no_executors(void *arg)
{
	(void)arg;
	return spk_context_executors(sc) == 0;
}

/* The framework holds no offer and uses nothing on the master. */
static bool idle_on_master(void *arg)
{
	(void)arg;
	char *body = NULL;
	bool idle = false;
	if (spk_http_get(cluster.port, "/master/state", &body) == 200) {
		json_t *s = json_loads(body, 0, NULL);
		json_t *fws = json_object_get(s, "frameworks"), *fw;
		size_t i;
		json_array_foreach(fws, i, fw)
		{
			if (strcmp(json_string_value(json_object_get(fw, "name")), "spark-test") !=
			    0)
				continue;
			json_t *used = json_object_get(fw, "used_resources");
			idle = json_array_size(json_object_get(fw, "offers")) == 0 &&
			       json_real_value(json_object_get(used, "cpus")) == 0 &&
			       json_integer_value(json_object_get(used, "cpus")) == 0;
		}
		json_decref(s);
	}
	free(body);
	return idle;
}

Test(faults, idle_executors_are_released_offers_suppressed_and_revived_for_a_job)
{
	sc = spk_test_context(&cluster, 300);
	uint64_t n = 0;
	cr_assert_eq(spk_count(spk_range(sc, 0, 100, 1, 4), &n), 0, "%s", spk_context_error(sc));
	cr_expect_eq(n, 100);
	cr_assert(spk_wait(10000, no_executors, NULL), "idle executors were never released");
	cr_assert(spk_wait(10000, idle_on_master, NULL),
	          "the framework still holds offers or resources");
	json_t *j = driver_state();
	cr_assert_not_null(j, "no JSON at /spark/jobs");
	json_t *offers = json_object_get(j, "offers");
	cr_expect(json_is_true(json_object_get(offers, "suppressed")));
	cr_expect_geq(json_integer_value(json_object_get(offers, "suppress_calls")), 1);
	cr_expect_eq(json_integer_value(json_object_get(offers, "decline_seconds")), 120);
	json_t *job = json_array_get(json_object_get(j, "jobs"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(job, "status")), "SUCCEEDED");
	cr_expect_eq(json_integer_value(json_object_get(job, "tasks_done")), 4);
	json_decref(j);
	/* The next job revives offers and gets executors again. */
	cr_assert_eq(spk_count(spk_range(sc, 0, 50, 1, 3), &n), 0, "%s", spk_context_error(sc));
	cr_expect_eq(n, 50);
	j = driver_state();
	cr_assert_not_null(j);
	cr_expect_geq(
	    json_integer_value(json_object_get(json_object_get(j, "offers"), "revive_calls")), 2);
	cr_expect_eq(json_array_size(json_object_get(j, "jobs")), 2);
	json_decref(j);
}
