/* cpu.c — cpu shares in proportion to cpus: two busy containers pinned to one core share
 * it near 1:3 (measured from their cgroups' cpu time over a bounded window). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/containerizer/containerizer.h"
#include "common.h"

extern char **environ;

static struct containerizer *z;
static struct agent_container ctr[2];
static char dir[64] = "/tmp/plexus-ctr-cpu-XXXXXX";

static void setup(void)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = 1;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++)
		if (ctr[i].pid > 0 && !ctr[i].exited) {
			containerizer_launcher.destroy(&ctr[i]);
			waitpid(ctr[i].pid, NULL, 0);
			ctr[i].exited = true;
			containerizer_launcher.cleanup(&ctr[i]);
		}
	containerizer_free(z);
	actor_runtime_fini();
	test_remove_cgroups();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

TestSuite(cpu, .init = setup, .fini = teardown, .timeout = 60);

static double cpu_secs(const struct agent_container *c)
{
	Plexus__ResourceStatistics st = PLEXUS__RESOURCE_STATISTICS__INIT;
	containerizer_usage(c, &st);
	cr_assert(st.has_cpus_user_time_secs);
	return st.cpus_user_time_secs + st.cpus_system_time_secs;
}

Test(cpu, shares_split_one_core_one_to_three)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	struct containerizer_flags f = {.isolation = "cgroups/cpu,cgroups/mem",
	                                .cgroups_root = test_cgroups_root()};
	char err[512] = "";
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	cr_assert(strncmp(containerizer_kind(z), "cgroups", 7) == 0, "%s", containerizer_kind(z));
	static const double cpus[2] = {0.25, 0.75};
	for (int i = 0; i < 2; i++) {
		char sub[128], id[32];
		snprintf(sub, sizeof(sub), "%s/%d", dir, i);
		snprintf(id, sizeof(id), "cpu-%d", i);
		cr_assert_eq(mkdir(sub, 0755), 0);
		char *argv[] = {"hog", "spin", "0", NULL};
		struct agent_launch l = {.path = HOG_PATH,
		                         .argv = argv,
		                         .envp = environ,
		                         .directory = sub,
		                         .ctx = z,
		                         .container_id = id,
		                         .framework_id = "fw",
		                         .executor_id = id,
		                         .source = id,
		                         .cpus = cpus[i]};
		cr_assert_eq(containerizer_launcher.launch(&l, &ctr[i], err, sizeof(err)), 0, "%s",
		             err);
	}
	/* Let both start spinning, then measure a window of 1.5 s. */
	struct timespec settle = {0, 300 * 1000000L}, window = {1, 500 * 1000000L};
	nanosleep(&settle, NULL);
	double a0 = cpu_secs(&ctr[0]), b0 = cpu_secs(&ctr[1]);
	nanosleep(&window, NULL);
	double a = cpu_secs(&ctr[0]) - a0, b = cpu_secs(&ctr[1]) - b0;
	cr_log_info("cpu time in the window: %.3f s and %.3f s (ratio %.2f)", a, b,
	            a > 0 ? b / a : 0);
	cr_assert_gt(a + b, 0.3, "the spinners hardly ran: %.3f + %.3f s", a, b);
	cr_assert(b / a > 2.2 && b / a < 4.2, "expected near 1:3, got %.3f : %.3f (%.2f)", a, b,
	          b / a);
}

Test(cpu, cfs_quota_caps_a_container)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	struct containerizer_flags f = {.isolation = "cgroups/cpu,cgroups/mem",
	                                .cgroups_root = test_cgroups_root(),
	                                .enable_cfs = true};
	char err[512] = "";
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/cap", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	char *argv[] = {"hog", "spin", "1", NULL};
	struct agent_launch l = {.path = HOG_PATH,
	                         .argv = argv,
	                         .envp = environ,
	                         .directory = sub,
	                         .ctx = z,
	                         .container_id = "cap",
	                         .framework_id = "fw",
	                         .executor_id = "cap",
	                         .source = "cap",
	                         .cpus = 0.2};
	cr_assert_eq(containerizer_launcher.launch(&l, &ctr[0], err, sizeof(err)), 0, "%s", err);
	struct timespec settle = {0, 300 * 1000000L}, window = {1, 0};
	nanosleep(&settle, NULL);
	double a0 = cpu_secs(&ctr[0]);
	nanosleep(&window, NULL);
	double a = cpu_secs(&ctr[0]) - a0;
	cr_log_info("capped at 0.2 cpus: %.3f s of cpu in 1 s", a);
	/* Unbounded it would take a whole core; the quota allows 0.2 s per second. */
	cr_assert(a > 0.05 && a < 0.35, "expected about 0.2 s, got %.3f s", a);
	Plexus__ResourceStatistics st = PLEXUS__RESOURCE_STATISTICS__INIT;
	containerizer_usage(&ctr[0], &st);
	cr_assert(st.has_cpus_nr_throttled && st.cpus_nr_throttled > 0, "never throttled");
}

Test(cpu, failed_launch_leaves_no_process_and_no_cgroup)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	struct containerizer_flags f = {.isolation = "cgroups/cpu,cgroups/mem",
	                                .cgroups_root = test_cgroups_root()};
	char err[512] = "";
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	char *argv[] = {"nothing", NULL};
	struct agent_launch l = {.path = "/nonexistent/program",
	                         .argv = argv,
	                         .envp = environ,
	                         .directory = dir,
	                         .ctx = z,
	                         .container_id = "bad"};
	cr_assert_neq(containerizer_launcher.launch(&l, &ctr[0], err, sizeof(err)), 0);
	cr_assert(strstr(err, "/nonexistent/program") != NULL, "%s", err);
	cr_assert_eq(ctr[0].pid, 0);
	cr_assert_null(ctr[0].state);
	cr_assert_eq(test_count_cgroups(), 0, "a failed launch left its cgroups");
}
