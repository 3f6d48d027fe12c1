/* failover.c — at-least-once through the loss of an agent (a master and agents as
 * separate processes, one SIGKILLed) and of the nimbus (SIGKILLed, then submitted
 * again: it fails over to its framework and keeps the running workers). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "faults.h"
#include "storm_harness.h"

TestSuite(storm_failover, .init = sh_init, .fini = sh_fini, .timeout = 240);

/* The agent process whose descendant pid is. */
static pid_t ancestor_among(pid_t pid, const pid_t *candidates, int n)
{
	for (int depth = 0; depth < 8 && pid > 1; depth++) {
		for (int i = 0; i < n; i++)
			if (candidates[i] == pid)
				return pid;
		char path[64], line[512];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			return 0;
		char *ok = fgets(line, sizeof(line), f);
		fclose(f);
		const char *paren = ok ? strrchr(line, ')') : NULL;
		int ppid = 0;
		if (paren == NULL || sscanf(paren + 2, "%*c %d", &ppid) != 1)
			return 0;
		pid = ppid;
	}
	return 0;
}

Test(storm_failover, lost_agent_relaunches_its_worker)
{
	int port = sh_master_start();
	pid_t agents[2] = {sh_agent_start(port, 0), sh_agent_start(port, 1)};
	const char *confs[] = {"wc.sentences=12000", "topology.message.timeout.secs=2",
	                       "topology.max.spout.pending=200", "wc.sink_delay_us=40", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 12000, 8000};
	cr_assert(sh_wait(60000, sink_has, &p), "the stream flows");
	struct relaunch r = {.name = "wc"};
	r.worker = other_worker("wc", &r.old);
	pid_t agent = ancestor_among(r.old, agents, 2);
	cr_assert_gt(agent, 0, "worker %d runs under one of the agents", r.worker);
	sh_kill(agent);
	cr_assert(sh_wait(60000, relaunched, &r), "worker %d runs again elsewhere", r.worker);
	cr_assert(sh_wait(60000, spout_acked, &p), "every sentence was acked in the end");
	expect_exact(12000, true);
}

struct same_workers {
	pid_t pids[2];
	int64_t lines;
};

static bool nimbus_gone(void *arg)
{
	return !sh_alive(*(pid_t *)arg);
}

Test(storm_failover, restarted_nimbus_keeps_its_workers)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=12000", "topology.max.spout.pending=200",
	                       "wc.sink_delay_us=40", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 12000, 3000};
	cr_assert(sh_wait(60000, sink_has, &p), "the stream flows");
	json_t *v = sh_nimbus("wc");
	pid_t w0 = (pid_t)json_integer_value(json_object_get(sh_worker(v, 0), "pid"));
	pid_t w1 = (pid_t)json_integer_value(json_object_get(sh_worker(v, 1), "pid"));
	char fid[128];
	snprintf(fid, sizeof(fid), "%s", json_string_value(json_object_get(v, "framework_id")));
	json_decref(v);

	pid_t nimbus = sh_nimbus_pid("wc");
	kill(nimbus, SIGKILL);
	cr_assert(sh_wait(15000, nimbus_gone, &nimbus));
	/* The workers go on without their nimbus. */
	int64_t before = wc_lines(out_dir());
	p.lines = before + 2000;
	cr_assert(sh_wait(60000, sink_has, &p), "tuples flow while the nimbus is down");

	sh_submit_wordcount(port, "wc", confs);
	v = sh_nimbus("wc");
	cr_assert_not_null(v);
	cr_expect_str_eq(json_string_value(json_object_get(v, "framework_id")), fid,
	                 "the same framework");
	json_decref(v);
	p.acked = 12000;
	cr_assert(sh_wait(60000, spout_acked, &p), "every sentence was acked in the end");
	v = sh_nimbus("wc");
	cr_expect_eq(json_integer_value(json_object_get(sh_worker(v, 0), "pid")), w0,
	             "worker 0 kept");
	cr_expect_eq(json_integer_value(json_object_get(sh_worker(v, 1), "pid")), w1,
	             "worker 1 kept");
	cr_expect_eq(json_integer_value(json_object_get(v, "relaunches")), 0);
	cr_expect(sh_alive(w0) && sh_alive(w1));
	json_decref(v);
	expect_exact(12000, false);
}
