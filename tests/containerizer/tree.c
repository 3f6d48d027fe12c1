/* tree.c — a task that forks a tree of sleepers and double-forks a daemon into a session
 * of its own is killed, and nothing of it survives: with cgroups (the cgroup is swept)
 * and with a pid namespace (its init's end takes the namespace down). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

TestSuite(tree, .init = setup, .fini = teardown, .timeout = 60);

/* Four sleepers (two in a subshell), the subshell, and a daemon that leaves the
 * task's process group and session (setsid) after a double fork. */
static const char script[] = "sleep 300 &\n"
                             "sleep 300 &\n"
                             "sh -c 'sleep 300 & sleep 300 & wait' &\n"
                             "sh -c 'setsid sh -c \"exec sleep 301\" & exit 0'\n"
                             "echo ready > ready\n"
                             "wait\n";

/* Every process whose working directory is dir (the task's tree and the executor). */
static size_t pids_in(const char *dir, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;
	char link[300], target[PATH_MAX];
	while (d != NULL && (e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/cwd", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, dir) == 0)
			out[n++] = (pid_t)atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static void run_tree(const char *isolation)
{
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", isolation, false, 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/tree.sh", h.work_dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(script, f);
	fclose(f);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "sh %s", path);
	test_run_task(&h, "t-tree", cmd, "cpus:0.1;mem:64");
	cr_assert(test_wait_state("t-tree", PLEXUS__TASK_STATE__TASK_RUNNING, NULL, 20000));
	char *dir = sandbox_of(&h, "t-tree");
	cr_assert_not_null(dir);
	char *real = realpath(dir, NULL);
	cr_assert_not_null(real);
	snprintf(path, sizeof(path), "%s/ready", real);
	cr_assert(wait_file(path, 10000), "the task did not start its tree");
	/* The daemon's double fork may still be under way: wait for the whole tree
	 * (executor, shell, four sleepers, the subshell, the daemon). */
	pid_t pids[64];
	size_t n = 0;
	for (int64_t end = test_now_ms() + 5000; test_now_ms() < end;) {
		n = pids_in(real, pids, 64);
		if (n >= 8)
			break;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	cr_assert_geq(n, 8, "only %zu processes of the tree found", n);

	kill_task(&h, "t-tree");
	cr_assert(test_wait_state("t-tree", PLEXUS__TASK_STATE__TASK_KILLED, NULL, 20000));
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
	for (size_t i = 0; i < n; i++)
		cr_assert(test_wait_gone(pids[i], 5000), "pid %d of the task survived",
		          (int)pids[i]);
	size_t left = pids_in(real, pids, 64);
	cr_assert_eq(left, 0, "%zu processes still run in the sandbox", left);
	free(real);
	free(dir);
}

Test(tree, killed_with_cgroups_nothing_survives)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	run_tree("cgroups/cpu,cgroups/mem");
}

Test(tree, killed_in_a_pid_namespace_nothing_survives)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	run_tree("posix/cpu,posix/mem,namespaces/pid");
}

Test(tree, killed_with_cgroups_in_a_pid_namespace_nothing_survives)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	run_tree("cgroups/cpu,cgroups/mem,namespaces/pid");
}

Test(tree, in_a_pid_namespace_a_task_can_end_its_executor)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", "posix/cpu,posix/mem,namespaces/pid",
	                 false, 0);
	/* The executor is not the namespace's pid 1 (which would ignore this SIGKILL). */
	test_run_task(&h, "t-crash", "kill -9 $PPID; exec sleep 300", "cpus:0.1;mem:64");
	struct seen_update u;
	cr_assert(test_wait_state("t-crash", PLEXUS__TASK_STATE__TASK_FAILED, &u, 20000),
	          "the task outlived its executor");
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED, "%d %s",
	             u.reason, u.message);
	cr_assert(strstr(u.message, "137") != NULL, "%s", u.message);
	char *dir = sandbox_of(&h, "t-crash");
	cr_assert_not_null(dir);
	char *real = realpath(dir, NULL);
	cr_assert_not_null(real);
	pid_t pids[8];
	size_t left = 1;
	for (int64_t end = test_now_ms() + 5000; left > 0 && test_now_ms() < end;) {
		left = pids_in(real, pids, 8);
		struct timespec ts = {0, 10 * 1000000L};
		if (left > 0)
			nanosleep(&ts, NULL);
	}
	cr_assert_eq(left, 0, "the task's sleep survived its executor");
	free(real);
	free(dir);
}

Test(tree, killed_with_the_memory_cgroup_alone_nothing_survives)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	run_tree("cgroups/mem");
}
