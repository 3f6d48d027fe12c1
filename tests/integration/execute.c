/* execute.c — `plexus execute` end to end against a cluster of real processes: its
 * exit status is the command's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct cluster c;
static char master_flag[96];

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	harness_init();
	cluster_start(&c);
	snprintf(master_flag, sizeof(master_flag), "--master=%s", c.master_addr);
}

TestSuite(execute, .init = setup, .fini = harness_fini, .timeout = 90);

Test(execute, exit_status_is_the_commands)
{
	char *out = NULL;
	const char *ok[] = {"execute", master_flag, "--name=hello", "--command=echo hello", NULL};
	cr_expect_eq(plexus_run(&out, 30000, ok), 0, "output: %s", out);
	cr_expect(strstr(out, "TASK_FINISHED") != NULL, "output: %s", out);
	free(out);
	const char *fail[] = {"execute", master_flag, "--name=seven", "--command=exit 7", NULL};
	cr_expect_eq(plexus_run(&out, 30000, fail), 7, "output: %s", out);
	cr_expect(strstr(out, "TASK_FAILED") != NULL, "output: %s", out);
	free(out);
	cr_expect(wait_master_task_state(c.master_port, "hello", "TASK_FINISHED", 5000));
	cr_expect(wait_master_task_state(c.master_port, "seven", "TASK_FAILED", 5000));
}

Test(execute, unreachable_master_is_exit_status_1)
{
	char dead[96];
	snprintf(dead, sizeof(dead), "--master=127.0.0.1:%d", free_port());
	const char *args[] = {"execute", dead, "--name=x", "--command=true", NULL};
	cr_expect_eq(plexus_run(NULL, 30000, args), 1);
}
