/* posix.c — the posix fallback: chosen when cgroups are missing or cannot be written,
 * said in the agent's /state; tasks still run and are accounted. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/containerizer/containerizer.h"
#include "common.h"

static struct harness h;
static char fake[64] = "/tmp/plexus-ctr-fake-XXXXXX";

static void setup(void)
{
	harness_start(&h);
	cr_assert_not_null(mkdtemp(fake));
}

static void teardown(void)
{
	char work[256];
	snprintf(work, sizeof(work), "%s", h.work_dir);
	harness_stop(&h);
	test_kill_strays(work);
	test_remove_cgroups();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fake);
	(void)!system(cmd);
}

TestSuite(posix, .init = setup, .fini = teardown, .timeout = 60);

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fclose(f);
}

Test(posix, no_cgroups_mounted_falls_back_to_posix)
{
	struct containerizer *z = NULL;
	char err[256];
	struct containerizer_flags f = {.cgroups_base = fake, .cgroups_root = "r"};
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(containerizer_kind(z), "posix");
	cr_assert_str_eq(containerizer_isolation(z), "posix/cpu,posix/mem,disk/du");
	containerizer_free(z);
	/* Asked for by name, cgroups become their posix counterparts. */
	f.isolation = "cgroups/cpu,cgroups/mem,disk/du";
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(containerizer_isolation(z), "posix/cpu,posix/mem,disk/du");
	containerizer_free(z);
}

Test(posix, cgroups_not_writable_falls_back_to_posix)
{
	/* A v1 layout whose root cannot hold cgroups: the root is a file. */
	static const char *const hier[] = {"cpu", "cpuacct", "memory"};
	char path[256];
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", fake, hier[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", fake, hier[i]);
		touch(path);
		snprintf(path, sizeof(path), "%s/%s/blocked", fake, hier[i]);
		touch(path);
	}
	struct containerizer *z = NULL;
	char err[256];
	struct containerizer_flags f = {.cgroups_base = fake, .cgroups_root = "blocked"};
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(containerizer_kind(z), "posix");
	containerizer_free(z);
	/* The same tree with a usable root is taken as cgroups v1 (when root). */
	f.cgroups_root = "fine";
	cr_assert_eq(containerizer_create(&f, &z, err, sizeof(err)), 0, "%s", err);
	if (geteuid() == 0)
		cr_assert_str_eq(containerizer_kind(z), "cgroups v1");
	containerizer_free(z);
}

Test(posix, unknown_isolator_is_refused)
{
	struct containerizer_flags f = {.isolation = "cgroups/cpu,cgroups/gpu"};
	char err[256] = "";
	cr_assert_neq(containerizer_flags_check(&f, err, sizeof(err)), 0);
	cr_assert(strstr(err, "cgroups/gpu") != NULL, "%s", err);
	f.isolation = "cgroups/cpu,posix/cpu";
	cr_assert_neq(containerizer_flags_check(&f, err, sizeof(err)), 0);
}

Test(posix, agent_says_which_isolation_is_active_and_runs_tasks)
{
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", "posix/cpu,posix/mem", false, 0);
	char *body = NULL;
	cr_assert_eq(http_get(h.http_port, "/slave(1)/state", &body), 200);
	json_t *j = json_loads(body, 0, NULL);
	free(body);
	cr_assert_not_null(j);
	json_t *flags = json_object_get(j, "flags");
	cr_assert_str_eq(json_string_value(json_object_get(flags, "isolation")),
	                 "posix/cpu,posix/mem");
	cr_assert_str_eq(json_string_value(json_object_get(flags, "containment")), "posix");
	json_decref(j);
	test_run_task(&h, "t-posix", "echo hello", "cpus:0.1;mem:64");
	cr_assert(test_wait_state("t-posix", PLEXUS__TASK_STATE__TASK_FINISHED, NULL, 20000));
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}

static int parse(struct agent_flags *f, const char **argv)
{
	int argc = 0;
	while (argv[argc] != NULL)
		argc++;
	agent_flags_default(f);
	return agent_flags_parse(f, argc, (char **)argv);
}

Test(posix, containment_flags_parse)
{
	struct agent_flags f;
	const char *ok[] = {"agent",
	                    "--master=m@1.2.3.4:5",
	                    "--isolation=cgroups/cpu,cgroups/mem,namespaces/pid,disk/du",
	                    "--cgroups-root=mine",
	                    "--cgroups-enable-cfs",
	                    "--enforce-container-disk-quota=true",
	                    "--container-disk-watch-interval=2secs",
	                    NULL};
	cr_assert_eq(parse(&f, ok), 0);
	cr_assert_str_eq(f.isolation, "cgroups/cpu,cgroups/mem,namespaces/pid,disk/du");
	cr_assert_str_eq(f.cgroups_root, "mine");
	cr_assert_eq(f.cgroups_enable_cfs, 1);
	cr_assert_eq(f.enforce_container_disk_quota, 1);
	cr_assert_eq(f.container_disk_watch_ms, 2000);
	const char *bad_iso[] = {"agent", "--master=m@1.2.3.4:5", "--isolation=cgroups/gpu", NULL};
	cr_assert_eq(parse(&f, bad_iso), 2);
	const char *bad_bool[] = {"agent", "--master=m@1.2.3.4:5", "--cgroups-enable-cfs=maybe",
	                          NULL};
	cr_assert_eq(parse(&f, bad_bool), 2);
	const char *bad_dur[] = {"agent", "--master=m@1.2.3.4:5",
	                         "--container-disk-watch-interval=soon", NULL};
	cr_assert_eq(parse(&f, bad_dur), 2);
}
