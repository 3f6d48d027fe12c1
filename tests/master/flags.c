/* The master's flags: defaults, Mesos durations, and bad flags or values (status 2). */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static int parse(master_flags *f, const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "master";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	FILE *null = fopen("/dev/null", "w");
	int rv = master_flags_parse(f, argc, argv, null, null);
	fclose(null);
	return rv;
}

Test(flags, defaults_are_mesos_defaults)
{
	master_flags f;

	master_flags_default(&f);
	cr_assert_eq(f.port, 5050);
	cr_assert_eq(f.actor_port, 0);
	cr_assert_eq(f.offer_timeout_ms, 0);
	cr_assert_eq(f.agent_ping_timeout_ms, 15000);
	cr_assert_eq(f.max_agent_ping_timeouts, 5);
	cr_assert_eq(f.allocation_interval_ms, 1000);
	cr_assert_null(f.work_dir);
}

Test(flags, values_and_durations_are_read)
{
	master_flags f;
	const char *args[] = {"--port=6060",
	                      "--actor-port=7070",
	                      "--work-dir=/tmp/x",
	                      "--offer-timeout=2mins",
	                      "--agent-ping-timeout=500ms",
	                      "--max-agent-ping-timeouts=3",
	                      "--allocation-interval=1.5",
	                      "--ip=127.0.0.2",
	                      NULL};

	master_flags_default(&f);
	cr_assert_eq(parse(&f, args), 0);
	cr_assert_eq(f.port, 6060);
	cr_assert_eq(f.actor_port, 7070);
	cr_assert_str_eq(f.work_dir, "/tmp/x");
	cr_assert_str_eq(f.ip, "127.0.0.2");
	cr_assert_eq(f.offer_timeout_ms, 120000);
	cr_assert_eq(f.agent_ping_timeout_ms, 500);
	cr_assert_eq(f.max_agent_ping_timeouts, 3);
	cr_assert_eq(f.allocation_interval_ms, 1500);
	master_flags_fini(&f);
}

Test(flags, bad_flags_and_values_are_status_2)
{
	const char *bad[][2] = {
	    {"--port=70000", NULL},
	    {"--port=x", NULL},
	    {"--offer-timeout=soon", NULL},
	    {"--agent-ping-timeout=0", NULL},
	    {"--max-agent-ping-timeouts=0", NULL},
	    {"--no-such-flag", NULL},
	    {"--work-dir=", NULL},
	    {"stray", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		master_flags f;
		master_flags_default(&f);
		cr_assert_eq(parse(&f, bad[i]), 2, "%s", bad[i][0]);
		master_flags_fini(&f);
	}
	master_flags f;
	master_flags_default(&f);
	const char *help[] = {"--help", NULL};
	cr_assert_eq(parse(&f, help), 1);
	master_flags_fini(&f);
}
