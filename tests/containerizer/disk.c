/* disk.c — a sandbox past its disk is killed with the disk reason when enforcement is
 * on, and only measured when it is off. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

TestSuite(disk, .init = setup, .fini = teardown, .timeout = 60);

#define WRITER "dd if=/dev/zero of=blob bs=1M count=24 2>/dev/null; echo written; sleep 300"

Test(disk, past_its_disk_the_task_fails_with_the_disk_reason)
{
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", "posix/cpu,posix/mem,disk/du", true, 100);
	test_run_task(&h, "t-disk", WRITER, "cpus:0.1;mem:64;disk:8");
	struct seen_update u;
	cr_assert(test_wait_state("t-disk", PLEXUS__TASK_STATE__TASK_FAILED, &u, 20000),
	          "the task past its disk did not fail");
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_DISK,
	             "reason %d: %s", u.reason, u.message);
	cr_assert(strstr(u.message, "disk") != NULL, "%s", u.message);
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}

Test(disk, without_enforcement_the_task_keeps_running)
{
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", "posix/cpu,posix/mem,disk/du", false,
	                 100);
	test_run_task(&h, "t-disk", WRITER, "cpus:0.1;mem:64;disk:8");
	cr_assert(test_wait_state("t-disk", PLEXUS__TASK_STATE__TASK_RUNNING, NULL, 20000));
	char *dir = sandbox_of(&h, "t-disk");
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/stdout", dir);
	bool written = false;
	for (int64_t end = test_now_ms() + 10000; !written && test_now_ms() < end;) {
		char *text = read_file(path);
		written = text && strstr(text, "written");
		free(text);
	}
	cr_assert(written);
	/* Several walks later it still runs. */
	struct seen_update u;
	cr_assert_not(test_wait_state("t-disk", PLEXUS__TASK_STATE__TASK_FAILED, &u, 1000),
	              "failed without enforcement: %s", u.message);
	free(dir);
	kill_task(&h, "t-disk");
	cr_assert(test_wait_state("t-disk", PLEXUS__TASK_STATE__TASK_KILLED, NULL, 20000));
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}
