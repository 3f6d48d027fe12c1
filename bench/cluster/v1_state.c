/* cluster.v1_state — the v1 operator API's GET_STATE (POST /api/v1, JSON) of a master
 * with `agents` agents and `tasks` running tasks, next to GET /master/state of the same
 * master, populated through the real protocol as cluster.state_query does: a master in one OS process,
 * simulated agents in a second (cluster.h: actors speaking the agent's side of
 * internal.proto; each task is answered TASK_RUNNING and stays so), and in this process
 * a framework (the scheduler driver) that launches the tasks (cpus 0.01, mem 1 MiB),
 * tasks/agents of them on each agent's offer. Once all are RUNNING, `queries` GET_STATE
 * calls and as many GET /master/state alternate, each timed from connect to the last
 * byte; the last GET_STATE answer is parsed and must list every agent and every task.
 *
 * Figure: ms p50 (value) and p99 of GET_STATE, the bytes of its answer, and the p50 of
 * /master/state for comparison. */
#include "cluster.h"

static int64_t agents = 10000;
static int64_t tasks = 100000;
static int64_t queries = 10;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
    {"agents", &agents, "simulated agents"},
    {"tasks", &tasks, "running tasks"},
    {"queries", &queries, "GET_STATE (and GET /master/state) this many times"},
    {"workers", &workers, "worker threads of each process (0: cores)"},
    {"timeout_s", &timeout_s, "give up populating after this long"},
};

/* Checks the last GET_STATE: every agent and every running task is in it. */
static void check_state(const char *body, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(body, len, 0, &e);
	if (j == NULL)
		bench_fail("GET_STATE does not parse: %s", e.text);
	json_t *gs = json_object_get(j, "get_state");
	size_t nag = json_array_size(json_object_get(json_object_get(gs, "get_agents"), "agents"));
	size_t nt = 0;
	json_t *ts = json_object_get(json_object_get(gs, "get_tasks"), "tasks"), *t;
	size_t k;
	json_array_foreach(ts, k, t)
	{
		const char *st = json_string_value(json_object_get(t, "state"));
		if (st != NULL && strcmp(st, "TASK_RUNNING") == 0)
			nt++;
	}
	json_decref(j);
	if ((int64_t)nag != agents || (int64_t)nt != tasks)
		bench_fail("GET_STATE lists %zu agents and %zu running tasks, not %lld and %lld",
		           nag, nt, (long long)agents, (long long)tasks);
}

int main(int argc, char **argv)
{
	bench_start("cluster.v1_state", argc, argv, flags, BENCH_NFLAGS(flags));
	alarm((unsigned)timeout_s + 300);
	const char *role = bench_peer_role();
	if (role != NULL && strcmp(role, "master") == 0)
		return cl_master_peer(bench_peer_port(), 0);
	if (role != NULL && strcmp(role, "agents") == 0)
		return cl_sims_peer(bench_peer_port(), agents, false, workers);
	if (queries < 1 || agents < 1 || tasks < 1)
		bench_fail("--queries, --agents and --tasks must be positive");

	int port = cl_port_pair();
	pid_t master = bench_peer_spawn("master", port);
	cl_wait_http(port + 1, 30000, "the master");
	pid_t sims = bench_peer_spawn("agents", port);
	double reg_s = cl_wait_agents(port, agents, 180, 100);
	bench_log("%lld agents registered in %.2f s", (long long)agents, reg_s);

	cl_runtime_start(workers, 0, -1);
	char mp[64];
	cl_master_pid(port, mp, sizeof(mp));
	static struct cl_fw f = {.cpus = 0.01, .mem = 1, .cmd = "sleep 1000",
	                         .until = PLEXUS__TASK_STATE__TASK_RUNNING};
	f.total = tasks;
	f.per_offer = (tasks + agents - 1) / agents;
	uint64_t t0 = bench_now_ns();
	px_scheduler_driver *d = cl_fw_start(&f, mp);
	cl_fw_wait(&f, timeout_s);
	double populate_s = (double)(bench_now_ns() - t0) / 1e9;
	bench_log("%lld tasks running after %.2f s; querying", (long long)tasks, populate_s);

	uint64_t *ns = calloc((size_t)queries, sizeof(*ns));
	uint64_t *v0 = calloc((size_t)queries, sizeof(*v0));
	char *body = NULL, *v0_body = NULL;
	size_t len = 0, v0_len = 0;
	for (int64_t q = 0; q < queries; q++) {
		free(body);
		uint64_t a = bench_now_ns();
		int st = cl_http_call(port + 1, "POST", "/api/v1", "application/json",
		                      "{\"type\": \"GET_STATE\"}", &body, &len, 60000);
		ns[q] = bench_now_ns() - a;
		if (st != 200)
			bench_fail("GET_STATE: status %d", st);
		free(v0_body);
		a = bench_now_ns();
		st = cl_http_get(port + 1, "/master/state", &v0_body, &v0_len, 60000);
		v0[q] = bench_now_ns() - a;
		if (st != 200)
			bench_fail("GET /master/state: status %d", st);
		bench_log("GET_STATE: %.1f ms, %zu bytes; /master/state: %.1f ms, %zu bytes",
		          (double)ns[q] / 1e6, len, (double)v0[q] / 1e6, v0_len);
	}
	free(v0_body);
	check_state(body, len);
	free(body);
	size_t master_rss = cl_rss_of(master);
	/* The framework goes with its driver's runtime; the master is killed with it. */
	px_scheduler_driver_abort(d);
	px_scheduler_driver_free(d);
	actor_runtime_fini();
	cl_peers_kill(master, sims);

	bench_sort_u64(ns, (size_t)queries);
	double p50 = (double)bench_percentile(ns, (size_t)queries, 50) / 1e6;
	double p99 = (double)bench_percentile(ns, (size_t)queries, 99) / 1e6;
	free(ns);
	bench_sort_u64(v0, (size_t)queries);
	double v0_p50 = (double)bench_percentile(v0, (size_t)queries, 50) / 1e6;
	free(v0);
	bench_result *r = bench_result_alloc(p50, "ms");
	bench_result_extra(r, "p50_ms", p50);
	bench_result_extra(r, "p99_ms", p99);
	bench_result_count(r, "bytes", (int64_t)len);
	bench_result_extra(r, "master_state_p50_ms", v0_p50);
	bench_result_extra(r, "registration_s", reg_s);
	bench_result_extra(r, "populate_s", populate_s);
	bench_result_count(r, "master_rss_bytes", (int64_t)master_rss);
	bench_result_print(r);
	return 0;
}
