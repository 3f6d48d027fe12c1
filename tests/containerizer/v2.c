/* v2.c — the cgroups v2 layout on a fake tree (this machine mounts v1): detection, the
 * cpu weight and CFS cap, the memory limit, and OOM kills read from memory.events. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/containerizer/isolator.h"
#include "common.h"

static char fake[64] = "/tmp/plexus-ctr-v2-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(fake));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fake);
	(void)!system(cmd);
}

TestSuite(v2, .init = setup, .fini = teardown, .timeout = 30);

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", fake, rel);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", fake, rel);
	char *t = read_file(path);
	cr_assert_not_null(t, "%s", path);
	return t;
}

Test(v2, detected_and_written_as_v2)
{
	struct cg_system sys;
	char why[256] = "";

	put("cgroup.controllers", "cpuset cpu io memory pids\n");
	put("cgroup.subtree_control", "");
	cr_assert_eq(cg_detect(fake, &sys, why, sizeof(why)), 0);
	cr_assert_eq(sys.layout, CG_V2, "%s", why);

	/* The kernel makes the control files with the directory; here the test does. */
	char path[256];
	snprintf(path, sizeof(path), "%s/r", fake);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/r/c1", fake);
	cr_assert_eq(mkdir(path, 0755), 0);
	const char *files[] = {
	    "r/cgroup.subtree_control", "r/c1/cpu.weight",    "r/c1/cpu.max",     "r/c1/memory.max",
	    "r/c1/memory.swap.max",     "r/c1/memory.events", "r/c1/cgroup.procs"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");

	struct ctr_config cfg = {.cg = sys, .enable_cfs = true};
	snprintf(cfg.cgroups_root, sizeof(cfg.cgroups_root), "r");
	struct ctr c = {.cfg = &cfg, .res = {.cpus = 0.5, .mem_bytes = 128 << 20}};
	snprintf(c.cgroup, sizeof(c.cgroup), "r/c1");
	char err[256] = "";
	cr_assert_eq(isolator_cgroups_cpu.prepare(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(isolator_cgroups_mem.prepare(&c, err, sizeof(err)), 0, "%s", err);

	char *t = get("r/cgroup.subtree_control");
	cr_assert(strstr(t, "+cpu") != NULL && strstr(t, "+memory") != NULL, "%s", t);
	free(t);
	/* 512 shares on v2's 1..10000 scale. */
	t = get("r/c1/cpu.weight");
	cr_assert_str_eq(t, "20");
	free(t);
	t = get("r/c1/cpu.max");
	cr_assert_str_eq(t, "50000 100000");
	free(t);
	t = get("r/c1/memory.max");
	cr_assert_str_eq(t, "134217728");
	free(t);

	struct ctr_limitation lim;
	put("r/c1/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
	cr_assert_not(isolator_cgroups_mem.limitation(&c, &lim));
	put("r/c1/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
	put("r/c1/memory.peak", "134217728\n");
	cr_assert(isolator_cgroups_mem.limitation(&c, &lim));
	cr_assert_eq(lim.reason, PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY);
	cr_assert(strstr(lim.message, "container memory limit") != NULL, "%s", lim.message);

	/* Usage comes from cpu.stat and memory.stat. */
	put("r/c1/cpu.stat", "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n");
	put("r/c1/memory.stat", "anon 1048576\nfile 4096\nfile_mapped 0\n");
	put("r/c1/memory.current", "1052672\n");
	Plexus__ResourceStatistics st = PLEXUS__RESOURCE_STATISTICS__INIT;
	isolator_cgroups_cpu.usage(&c, &st);
	isolator_cgroups_mem.usage(&c, &st);
	cr_assert_float_eq(st.cpus_user_time_secs, 2.0, 1e-9);
	cr_assert_float_eq(st.cpus_system_time_secs, 1.0, 1e-9);
	cr_assert_eq(st.mem_rss_bytes, 1048576);
	cr_assert_eq(st.mem_total_bytes, 1052672);
	cr_assert_eq(st.mem_limit_bytes, 128 << 20);
}

Test(v2, v2_without_cpu_and_memory_is_not_used)
{
	struct cg_system sys;
	char why[256] = "";
	put("cgroup.controllers", "hugetlb\n");
	cr_assert_eq(cg_detect(fake, &sys, why, sizeof(why)), 0);
	cr_assert_eq(sys.layout, CG_NONE);
	cr_assert(strlen(why) > 0);
}
