/* cluster.launch_throughput — three OS processes, as in production: a master; `agents`
 * simulated agents in a second process (cluster.h: actors speaking the agent's side of
 * internal.proto whose "executors" finish each task at once: TASK_RUNNING when the
 * task arrives, TASK_FINISHED once RUNNING was acknowledged); one framework (the
 * scheduler driver) in this process launching `tasks` tasks (cpus 0.01, mem 1 MiB) as
 * fast as offers allow, every task that fits in each offer (agents have cpus 24 and
 * 96 GiB, as cluster.allocator_cycle's), with refuse_seconds 0 so that what is left
 * or freed comes back at the next allocation.
 *
 * Figure: tasks/s from the first launch to the last TASK_FINISHED the scheduler saw.
 * Fails unless every task finished (and none ended otherwise). */
#include "cluster.h"

static int64_t tasks = 100000;
static int64_t agents = 100;
static int64_t allocation_interval_ms = 0; /* 0: the master's default (1 s) */
static int64_t workers = 0;
static int64_t timeout_s = 240;

static const bench_flag flags[] = {
    {"tasks", &tasks, "tasks to launch"},
    {"agents", &agents, "simulated agents"},
    {"allocation_interval_ms", &allocation_interval_ms, "master flag (0: its default, 1 s)"},
    {"workers", &workers, "worker threads of each process (0: cores)"},
    {"timeout_s", &timeout_s, "give up after this long"},
};

int main(int argc, char **argv)
{
	bench_start("cluster.launch_throughput", argc, argv, flags, BENCH_NFLAGS(flags));
	alarm((unsigned)timeout_s + 120);
	const char *role = bench_peer_role();
	if (role != NULL && strcmp(role, "master") == 0)
		return cl_master_peer(bench_peer_port(), allocation_interval_ms);
	if (role != NULL && strcmp(role, "agents") == 0)
		return cl_sims_peer(bench_peer_port(), agents, true, workers);

	int port = cl_port_pair();
	pid_t master = bench_peer_spawn("master", port);
	cl_wait_http(port + 1, 30000, "the master");
	pid_t sims = bench_peer_spawn("agents", port);
	double reg_s = cl_wait_agents(port, agents, 120, 50);
	bench_log("%lld agents registered in %.2f s", (long long)agents, reg_s);

	cl_runtime_start(workers, 0, -1);
	char mp[64];
	cl_master_pid(port, mp, sizeof(mp));
	static struct cl_fw f = {.cpus = 0.01, .mem = 1, .cmd = "true",
	                         .until = PLEXUS__TASK_STATE__TASK_FINISHED};
	f.total = tasks;
	px_scheduler_driver *d = cl_fw_start(&f, mp);
	cl_fw_wait(&f, timeout_s);
	double secs = (double)(atomic_load(&f.t_last) - atomic_load(&f.t_first)) / 1e9;
	size_t master_rss = cl_rss_of(master);
	px_scheduler_driver_stop(d, false);
	px_scheduler_driver_free(d);
	actor_runtime_fini();
	cl_peers_kill(master, sims);

	bench_result *r = bench_result_alloc((double)tasks / secs, "tasks/s");
	bench_result_extra(r, "elapsed_s", secs);
	bench_result_extra(r, "registration_s", reg_s);
	bench_result_count(r, "offers", atomic_load(&f.offers));
	bench_result_count(r, "master_rss_bytes", (int64_t)master_rss);
	bench_result_print(r);
	return 0;
}
