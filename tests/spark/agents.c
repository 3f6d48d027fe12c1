/* agents.c — the engine on a cluster of separate processes (a master and two agents):
 * an agent and its executor killed between jobs over one shuffle (the next job's
 * result is exact and only the lost map outputs ran again), and a Spark job sharing the
 * cluster with another framework (a second application), both getting executors and
 * finishing while the other runs. */
#include <criterion/criterion.h>
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

static void setup(void)
{
	spk_cluster_start_separate(&cluster, 2, "cpus:2;mem:1024;disk:1024");
}

static void teardown(void)
{
	spk_cluster_stop(&cluster);
}

TestSuite(agents, .init = setup, .fini = teardown, .timeout = 150);

/* The parent of a process (its agent, for an executor). */
static pid_t parent_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	pid_t ppid = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "PPid:", 5) == 0)
			ppid = (pid_t)atoi(line + 5);
	if (f != NULL)
		fclose(f);
	return ppid;
}

static void check_sums(spk_rows *rows, int n)
{
	cr_assert_eq(rows->n, 10, "%zu rows", rows->n);
	for (size_t i = 0; i < rows->n; i++) {
		long long key = num(rows->rows[i].key), want = 0;
		for (long long v = key; v < n; v += 10)
			want += v;
		cr_expect_eq(num(rows->rows[i].value), want, "key %lld", key);
	}
}

Test(agents, a_lost_agent_loses_only_its_map_outputs)
{
	spk_context *sc = spk_test_context(&cluster, 0);
	enum { MAPS = 8, N = 2000 };
	spk_rdd *sums = spk_reduce_by_key(spk_key_by(spk_range(sc, 0, N, 1, MAPS), "mod10", NULL),
	                                  "sum", NULL, 3);
	int sid = spk_shuffle_id(sums);
	spk_rows *rows = NULL;
	cr_assert_eq(spk_collect(sums, &rows), 0, "%s", spk_context_error(sc));
	check_sums(rows, N);
	spk_rows_free(rows);
	char where[MAPS][128];
	for (int m = 0; m < MAPS; m++)
		cr_assert_eq(spk_context_map_location(sc, sid, m, where[m], sizeof(where[m])), 0);
	pid_t exec = spk_executor_pid_of(where[0]);
	cr_assert_gt(exec, 0);
	/* Its agent is an ancestor (a shell or a launcher may sit between them). */
	int idx = -1;
	pid_t agent = exec;
	for (int up = 0; up < 6 && idx < 0 && agent > 1; up++) {
		agent = parent_of(agent);
		for (int i = 0; i < cluster.nagents; i++)
			if (cluster.agents[i] == agent)
				idx = i;
	}
	cr_assert_geq(idx, 0, "executor %d is not a child of an agent", (int)exec);
	/* The machine goes: its agent and its executor. */
	kill(agent, SIGKILL);
	kill(exec, SIGKILL);
	cluster.agents[idx] = 0;
	cr_assert_eq(spk_collect(spk_map(sums, "slow", "1"), &rows), 0, "%s",
	             spk_context_error(sc));
	check_sums(rows, N);
	spk_rows_free(rows);
	int attempts[MAPS];
	cr_assert_eq(spk_context_shuffle_attempts(sc, sid, attempts, MAPS), MAPS);
	for (int m = 0; m < MAPS; m++)
		cr_expect_eq(attempts[m], strcmp(where[m], where[0]) == 0 ? 2 : 1, "map %d", m);
	cr_expect_eq(spk_context_executors(sc), 1);
	spk_context_stop(sc);
}

struct long_job {
	spk_context *sc;
	pthread_t thread;
	int rc;
	bool done;
};

static void *run_long(void *arg)
{
	struct long_job *j = arg;
	uint64_t n = 0;
	/* 8 tasks of 40 rows at 25 ms: about 1 s of work per core. */
	j->rc = spk_count(spk_map(spk_range(j->sc, 0, 320, 1, 8), "slow", "25"), &n);
	if (j->rc == 0 && n != 320)
		j->rc = -2;
	__atomic_store_n(&j->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static bool running(void *arg)
{
	struct long_job *j = arg;
	return spk_context_tasks_running(j->sc) > 0;
}

Test(agents, two_applications_share_the_cluster)
{
	/* Each application wants one single-core executor per agent: together they fit
	 * (2 cpus per agent), and neither may hoard what the other needs. */
	spk_conf conf;
	spk_conf_default(&conf);
	conf.master = cluster.master;
	conf.executor_cores = 1;
	conf.executor_mem_mb = 256;
	char err[256];
	conf.app_name = "batch-a";
	spk_context *a = spk_context_start(&conf, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	conf.app_name = "batch-b";
	spk_context *b = spk_context_start(&conf, err, sizeof(err));
	cr_assert_not_null(b, "%s", err);
	struct long_job job = {.sc = a};
	pthread_create(&job.thread, NULL, run_long, &job);
	cr_assert(spk_wait(20000, running, &job), "the first application never ran a task");
	uint64_t n = 0;
	cr_assert_eq(spk_count(spk_range(b, 0, 100, 1, 4), &n), 0, "%s", spk_context_error(b));
	cr_expect_eq(n, 100);
	cr_expect_not(__atomic_load_n(&job.done, __ATOMIC_SEQ_CST),
	              "the second application waited for the first to end");
	pthread_join(job.thread, NULL);
	cr_expect_eq(job.rc, 0, "%s", spk_context_error(a));
	spk_context_stop(b); /* b first: a started the runtime they share */
	spk_context_stop(a);
}
