/* memory.c — a task past its memory limit is killed and fails with the memory reason. */
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

TestSuite(memory, .init = setup, .fini = teardown, .timeout = 60);

Test(memory, task_past_its_limit_fails_with_the_memory_reason)
{
	if (!test_have_cgroups())
		cr_skip_test("needs root and cgroups");
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", "cgroups/cpu,cgroups/mem", false, 0);
	/* Under its limit: it finishes. */
	test_run_task(&h, "t-fits", HOG_PATH " mem 16", "cpus:0.1;mem:128");
	struct seen_update u;
	cr_assert(test_wait_state("t-fits", PLEXUS__TASK_STATE__TASK_FINISHED, &u, 20000),
	          "a task within its limit did not finish");
	/* Past it: the kernel kills it, the agent says why. */
	test_run_task(&h, "t-oom", HOG_PATH " mem 1024 hold", "cpus:0.1;mem:128");
	cr_assert(test_wait_state("t-oom", PLEXUS__TASK_STATE__TASK_FAILED, &u, 30000),
	          "the task past its limit did not fail");
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY,
	             "reason %d: %s", u.reason, u.message);
	cr_assert(strstr(u.message, "container memory limit") != NULL, "%s", u.message);
	cr_assert(master_wait_exited(2, 10000), "the executors did not exit");
}

Test(memory, posix_mem_kills_a_container_past_its_limit)
{
	/* Nothing contains it: the monitor's check finds it resident past its mem. */
	test_start_agent(&h, "cpus:2;mem:2048;disk:1024", "posix/cpu,posix/mem", false, 0);
	test_run_task(&h, "t-big", HOG_PATH " mem 400 hold", "cpus:0.1;mem:128");
	struct seen_update u;
	cr_assert(test_wait_state("t-big", PLEXUS__TASK_STATE__TASK_FAILED, &u, 20000),
	          "the task past its limit did not fail");
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY,
	             "reason %d: %s", u.reason, u.message);
	cr_assert(strstr(u.message, "container memory limit") != NULL, "%s", u.message);
	cr_assert(master_wait_exited(1, 10000), "the executor did not exit");
}
