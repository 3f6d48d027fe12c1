/* cluster.launch_real — `plexus local` with 2 agents (the real binary, next to this
 * program's build tree at cli/plexus, or $PLEXUS_BIN), each with `agent_cpus` cpus and
 * 8 GiB; a framework (the scheduler driver) in this process launches `tasks` real
 * command tasks (`true`, cpus 0.1, mem 32 MiB each: at most 80 at a time per agent) as
 * offers allow; every task runs under a real command executor process.
 *
 * Figure: tasks/s from the first launch to the last TASK_FINISHED. Fails unless every
 * task finished. `plexus local` gets SIGTERM at the end (and if this process dies), so
 * that its agents kill their executors. */
#include <limits.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cluster.h"

static int64_t tasks = 1000;
static int64_t agent_cpus = 8;
static int64_t workers = 0;
static int64_t timeout_s = 240;

static const bench_flag flags[] = {
    {"tasks", &tasks, "tasks to launch"},
    {"agent_cpus", &agent_cpus, "cpus each agent advertises"},
    {"workers", &workers, "worker threads of this process (0: cores)"},
    {"timeout_s", &timeout_s, "give up after this long"},
};

static char work_dir[128];
static pid_t local_pid;

/* At exit too: a failed run stops `plexus local` (so its agents kill their executors)
 * and leaves no work dir behind. */
static void remove_work_dir(void)
{
	if (local_pid > 0) {
		kill(local_pid, SIGTERM);
		for (int i = 0; i < 200 && waitpid(local_pid, NULL, WNOHANG) != local_pid; i++)
			usleep(50000);
		local_pid = 0;
	}
	if (work_dir[0] == '\0' || access(work_dir, F_OK) != 0)
		return;
	char cmd[192];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
	if (system(cmd) != 0)
		bench_log("could not remove %s", work_dir);
}

static pid_t start_local(int port, const char *dir)
{
	char bin[PATH_MAX];
	const char *env = getenv("PLEXUS_BIN");
	if (env != NULL) {
		snprintf(bin, sizeof(bin), "%s", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);
		if (n <= 0)
			bench_fail("readlink /proc/self/exe");
		bin[n] = '\0';
		for (int up = 0; up < 3; up++) { /* .../bench/cluster/launch_real -> ... */
			char *slash = strrchr(bin, '/');
			if (slash != NULL)
				*slash = '\0';
		}
		strncat(bin, "/cli/plexus", sizeof(bin) - strlen(bin) - 1);
	}
	if (access(bin, X_OK) != 0)
		bench_fail("no plexus binary at %s (set PLEXUS_BIN)", bin);
	char a_port[32], a_aport[32], a_dir[PATH_MAX + 16], a_res[64];
	snprintf(a_port, sizeof(a_port), "--port=%d", port + 1);
	snprintf(a_aport, sizeof(a_aport), "--actor-port=%d", port);
	snprintf(a_dir, sizeof(a_dir), "--work-dir=%s", dir);
	snprintf(a_res, sizeof(a_res), "--resources=cpus:%lld;mem:8192;disk:10240",
	         (long long)agent_cpus);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		setenv("ACTOR_LOG", "warn", 1);
		dup2(2, 1);
		char *args[] = {bin, "local", "--agents=2", "--ip=127.0.0.1", a_port, a_aport,
		                a_dir, a_res, NULL};
		execv(bin, args);
		_exit(127);
	}
	return pid;
}

static void stop_local(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	bench_log("plexus local did not stop within 15 s; killing it");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	bench_start("cluster.launch_real", argc, argv, flags, BENCH_NFLAGS(flags));
	alarm((unsigned)timeout_s + 120);
	snprintf(work_dir, sizeof(work_dir), "/tmp/plexus-bench-real-%ld", (long)getpid());
	int port = cl_port_pair();
	atexit(remove_work_dir);
	pid_t local = start_local(port, work_dir);
	local_pid = local;
	cl_wait_http(port + 1, 30000, "plexus local");
	double reg_s = cl_wait_agents(port, 2, 60, 20);

	cl_runtime_start(workers, 0, -1);
	char mp[64];
	cl_master_pid(port, mp, sizeof(mp));
	static struct cl_fw f = {.cpus = 0.1, .mem = 32, .cmd = "true",
	                         .until = PLEXUS__TASK_STATE__TASK_FINISHED};
	f.total = tasks;
	px_scheduler_driver *d = cl_fw_start(&f, mp);
	cl_fw_wait(&f, timeout_s);
	double secs = (double)(atomic_load(&f.t_last) - atomic_load(&f.t_first)) / 1e9;
	px_scheduler_driver_stop(d, false);
	px_scheduler_driver_free(d);
	actor_runtime_fini();
	stop_local(local);
	local_pid = 0;
	remove_work_dir();

	bench_result *r = bench_result_alloc((double)tasks / secs, "tasks/s");
	bench_result_extra(r, "elapsed_s", secs);
	bench_result_extra(r, "registration_s", reg_s);
	bench_result_count(r, "offers", atomic_load(&f.offers));
	bench_result_print(r);
	return 0;
}
