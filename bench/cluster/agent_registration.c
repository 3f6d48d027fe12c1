/* cluster.agent_registration — one master in one OS process; A agents in another, each
 * a real agent actor of the agent library (agent_start: its own work dir, posix
 * isolation, no executors), all started at once and registering. A = 1,000 and 10,000
 * (--big=1 adds 50,000; --agents=N runs that one size only). Each size gets a fresh
 * master and agents process.
 *
 * Figure per size: seconds from starting the agents' process until the master's
 * master/slaves_active gauge (GET /metrics/snapshot, polled every 20 ms) counts all A;
 * and the master's RSS then. `value` is the 10,000 figure (or the last size run). The
 * time includes the agents' process starting and its agent_start calls (logged apart
 * by that process), as when a whole rack comes up.
 *
 * --sim=1 registers simulated agents instead (cluster.h: one actor each speaking the
 * agent's side of the protocol, no work dir): the master's share of the work alone. */
#include "agent/agent.h"
#include "cluster.h"

static int64_t agents = 0; /* 0: 1,000 and 10,000 */
static int64_t big = 0;
static int64_t sim = 0;
static int64_t workers = 0;
static int64_t timeout_s = 180;

static const bench_flag flags[] = {
    {"agents", &agents, "one size only (0: 1,000 and 10,000)"},
    {"big", &big, "also 50,000 agents"},
    {"sim", &sim, "1: simulated agents (cluster.h) instead of the agent library's"},
    {"workers", &workers, "worker threads of each process (0: cores)"},
    {"timeout_s", &timeout_s, "give up on a size after this long"},
};

static void work_root(pid_t main_pid, char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/plexus-bench-reg-%ld", (long)main_pid);
}

/* The agents' process: n real agents, started as fast as agent_start goes. */
static int agents_peer(int port, int64_t n)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	cl_wait_http(port + 1, 30000, "the master");
	cl_runtime_start(workers, 0, 0);
	char mp[64], root[128], dir[192], err[512];
	cl_master_pid(port, mp, sizeof(mp));
	work_root(getppid(), root, sizeof(root));
	uint64_t t0 = bench_now_ns();
	for (int64_t i = 0; i < n; i++) {
		struct agent_flags f;
		agent_flags_default(&f);
		snprintf(dir, sizeof(dir), "%s/a%lld", root, (long long)i);
		f.master = mp;
		f.ip = "127.0.0.1";
		f.port = (int)actor_runtime_http_port();
		f.work_dir = dir;
		f.resources = CL_AGENT_RESOURCES;
		f.isolation = "posix/cpu,posix/mem";
		actor_pid pid;
		if (agent_start(&f, &pid, err, sizeof(err)) != 0)
			bench_fail("agent_start %lld: %s", (long long)i, err);
	}
	bench_log("%lld agents started in %.2f s", (long long)n,
	          (double)(bench_now_ns() - t0) / 1e9);
	int sig;
	sigwait(&sigs, &sig);
	_exit(0); /* 10,000s of agents are not stopped one by one: the process ends */
}

/* The agents' work dirs; also at exit, so that a failed run leaves none behind. */
static void remove_work_root(void)
{
	char root[128], cmd[192];
	work_root(getpid(), root, sizeof(root));
	if (access(root, F_OK) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		bench_log("could not remove %s", root);
}

struct size_result {
	int64_t agents;
	double secs;
	size_t rss;
};

static struct size_result run_size(int64_t n)
{
	int port = cl_port_pair();
	pid_t master = bench_peer_spawn("master", port);
	cl_wait_http(port + 1, 30000, "the master");
	char arg[64];
	snprintf(arg, sizeof(arg), "%lld", (long long)n);
	setenv("CL_AGENTS", arg, 1);
	pid_t peer = bench_peer_spawn("agents", port);
	struct size_result r = {.agents = n};
	r.secs = cl_wait_agents(port, n, timeout_s, 20);
	r.rss = cl_rss_of(master);
	cl_peers_kill(master, peer);
	remove_work_root();
	bench_log("%lld agents: registered in %.2f s, master RSS %.1f MiB", (long long)n, r.secs,
	          (double)r.rss / 1048576.0);
	return r;
}

int main(int argc, char **argv)
{
	bench_start("cluster.agent_registration", argc, argv, flags, BENCH_NFLAGS(flags));
	alarm((unsigned)timeout_s * 4 + 120);
	const char *role = bench_peer_role();
	if (role != NULL && strcmp(role, "master") == 0)
		return cl_master_peer(bench_peer_port(), 0);
	if (role != NULL && strcmp(role, "agents") == 0) {
		const char *n = getenv("CL_AGENTS");
		if (sim)
			return cl_sims_peer(bench_peer_port(), n ? atoll(n) : 0, false, workers);
		return agents_peer(bench_peer_port(), n ? atoll(n) : 0);
	}

	atexit(remove_work_root);
	int64_t sizes[3] = {1000, 10000, 50000};
	size_t nsizes = big ? 3 : 2;
	if (agents > 0) {
		sizes[0] = agents;
		nsizes = 1;
	}
	struct size_result res[3];
	double value = 0;
	for (size_t i = 0; i < nsizes; i++) {
		res[i] = run_size(sizes[i]);
		if (i == 0 || sizes[i] == 10000)
			value = res[i].secs;
	}
	if (agents == 0 && nsizes == 3)
		value = res[1].secs;
	bench_result *r = bench_result_alloc(value, "s");
	for (size_t i = 0; i < nsizes; i++) {
		char key[64];
		snprintf(key, sizeof(key), "s_%lld", (long long)res[i].agents);
		bench_result_extra(r, key, res[i].secs);
		snprintf(key, sizeof(key), "master_rss_bytes_%lld", (long long)res[i].agents);
		bench_result_count(r, key, (int64_t)res[i].rss);
	}
	bench_result_print(r);
	return 0;
}
