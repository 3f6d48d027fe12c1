/* recovery_flags.c — the flags of checkpointing, recovery and sandbox garbage
 * collection: defaults as Mesos's, values parsed, bad values refused (exit status 2). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "agent/agent.h"

static int parse(struct agent_flags *f, const char *flag)
{
	char *argv[] = {(char *)"agent", (char *)"--master=127.0.0.1:5050", (char *)flag, NULL};
	agent_flags_default(f);
	return agent_flags_parse(f, flag ? 3 : 2, argv);
}

Test(recovery_flags, defaults_are_mesos)
{
	struct agent_flags f;
	cr_assert_eq(parse(&f, NULL), 0);
	cr_assert_eq(f.checkpoint, 1);
	cr_assert_str_eq(f.recover, "reconnect");
	cr_assert_eq(f.recovery_timeout_ms, 15 * 60000);
	cr_assert_eq(f.executor_reregistration_timeout_ms, 2000);
	cr_assert_eq(f.gc_delay_ms, 7LL * 24 * 3600 * 1000);
	cr_assert_float_eq(f.gc_disk_headroom, 0.1, 1e-9);
	cr_assert_eq(f.disk_watch_interval_ms, 60000);
}

Test(recovery_flags, values_are_parsed)
{
	struct agent_flags f;
	cr_assert_eq(parse(&f, "--checkpoint=false"), 0);
	cr_assert_eq(f.checkpoint, 0);
	cr_assert_eq(parse(&f, "--recover=cleanup"), 0);
	cr_assert_str_eq(f.recover, "cleanup");
	cr_assert_eq(parse(&f, "--gc-delay=2hrs"), 0);
	cr_assert_eq(f.gc_delay_ms, 2 * 3600 * 1000);
	cr_assert_eq(parse(&f, "--gc-disk-headroom=0.25"), 0);
	cr_assert_float_eq(f.gc_disk_headroom, 0.25, 1e-9);
	cr_assert_eq(parse(&f, "--recovery-timeout=30secs"), 0);
	cr_assert_eq(f.recovery_timeout_ms, 30000);
	cr_assert_eq(parse(&f, "--executor-reregistration-timeout=500ms"), 0);
	cr_assert_eq(f.executor_reregistration_timeout_ms, 500);
	cr_assert_eq(parse(&f, "--disk-watch-interval=10secs"), 0);
	cr_assert_eq(f.disk_watch_interval_ms, 10000);
}

Test(recovery_flags, bad_values_exit_2, .init = cr_redirect_stderr)
{
	struct agent_flags f;
	cr_assert_eq(parse(&f, "--recover=maybe"), 2);
	cr_assert_eq(parse(&f, "--checkpoint=yes"), 2);
	cr_assert_eq(parse(&f, "--gc-disk-headroom=1.5"), 2);
	cr_assert_eq(parse(&f, "--gc-disk-headroom=lots"), 2);
	cr_assert_eq(parse(&f, "--gc-delay=soon"), 2);
}

Test(recovery_flags, agent_start_refuses_a_bad_recover)
{
	struct agent_flags f;
	char err[256] = "";
	agent_flags_default(&f);
	f.master = "127.0.0.1:1";
	f.work_dir = "/tmp";
	f.recover = "later";
	cr_assert_neq(agent_start(&f, NULL, err, sizeof(err)), 0);
	cr_assert(strstr(err, "--recover") != NULL, "%s", err);
}
