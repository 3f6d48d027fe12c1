/* faults.c — at-least-once through faults, on real processes: a worker SIGKILLed
 * mid-stream, a lost agent, a nimbus killed and started again, and a slow bolt held
 * back by max_spout_pending. Counts are checked through the idempotent sink: distinct
 * (sentence, word index) keys must equal the reference exactly. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "storm_harness.h"

TestSuite(storm_faults, .init = sh_init, .fini = sh_fini, .timeout = 150);

struct progress {
	const char *name;
	int64_t acked;
	int64_t lines;
};

static bool spout_acked(void *arg)
{
	struct progress *p = arg;
	json_t *v = sh_nimbus(p->name);
	bool ok = v != NULL && sh_component(v, "sentences", "acked") >= p->acked;
	json_decref(v);
	return ok;
}

static const char *out_dir(void)
{
	static char dir[300];
	snprintf(dir, sizeof(dir), "%s/out", sh_dir());
	return dir;
}

static bool sink_has(void *arg)
{
	struct progress *p = arg;
	return wc_lines(out_dir()) >= p->lines;
}

/* The worker index that does not run the spout, and its OS pid. */
static int other_worker(const char *name, pid_t *pid)
{
	json_t *v = sh_nimbus(name);
	cr_assert_not_null(v);
	int w = 1 - sh_worker_of(v, "sentences");
	cr_assert(w == 0 || w == 1);
	*pid = (pid_t)json_integer_value(json_object_get(sh_worker(v, w), "pid"));
	cr_assert_gt(*pid, 0);
	json_decref(v);
	return w;
}

struct relaunch {
	const char *name;
	int worker;
	pid_t old;
};

static bool relaunched(void *arg)
{
	struct relaunch *r = arg;
	json_t *v = sh_nimbus(r->name);
	json_t *w = sh_worker(v, r->worker);
	const char *st = json_string_value(json_object_get(w, "state"));
	pid_t pid = (pid_t)json_integer_value(json_object_get(w, "pid"));
	bool ok = st != NULL && strcmp(st, "running") == 0 && pid > 0 && pid != r->old &&
	          json_integer_value(json_object_get(w, "epoch")) ==
	              json_integer_value(json_object_get(v, "epoch"));
	json_decref(v);
	return ok;
}

static void expect_exact(uint64_t sentences, bool want_replays)
{
	json_t *v = sh_nimbus("wc");
	struct wc_result r;
	wc_check(out_dir(), sentences, &r);
	cr_expect_eq(r.distinct, r.expected, "nothing lost: %lld of %lld words",
	             (long long)r.distinct, (long long)r.expected);
	cr_expect(r.exact, "counts equal the reference once duplicates are discounted");
	cr_expect(r.one_task_per_word, "a word reaches one count task only");
	if (want_replays) {
		cr_expect_gt(sh_component(v, "sentences", "failed"), 0, "trees failed");
		cr_expect_gt(sh_component(v, "sentences", "emitted"), (int64_t)sentences,
		             "the spout replayed them");
	}
	cr_expect_eq(sh_component(v, "sentences", "pending"), 0);
	json_decref(v);
}

Test(storm_faults, worker_sigkill_replays_without_loss)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=12000", "topology.message.timeout.secs=2",
	                       "topology.max.spout.pending=200", "wc.sink_delay_us=40", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 12000, 8000};
	cr_assert(sh_wait(30000, sink_has, &p), "the stream flows");
	struct relaunch r = {.name = "wc"};
	r.worker = other_worker("wc", &r.old);
	kill(r.old, SIGKILL);
	cr_assert(sh_wait(30000, relaunched, &r), "the nimbus relaunched worker %d", r.worker);
	cr_assert(sh_wait(60000, spout_acked, &p), "every sentence was acked in the end");
	json_t *v = sh_nimbus("wc");
	cr_expect_geq(json_integer_value(json_object_get(v, "relaunches")), 1);
	json_decref(v);
	expect_exact(12000, true);
}

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

Test(storm_faults, lost_agent_relaunches_its_worker)
{
	int port = sh_master_start();
	pid_t agents[2] = {sh_agent_start(port, 0), sh_agent_start(port, 1)};
	const char *confs[] = {"wc.sentences=12000", "topology.message.timeout.secs=2",
	                       "topology.max.spout.pending=200", "wc.sink_delay_us=40", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 12000, 8000};
	cr_assert(sh_wait(30000, sink_has, &p), "the stream flows");
	struct relaunch r = {.name = "wc"};
	r.worker = other_worker("wc", &r.old);
	pid_t agent = ancestor_among(r.old, agents, 2);
	cr_assert_gt(agent, 0, "worker %d runs under one of the agents", r.worker);
	sh_kill(agent);
	cr_assert(sh_wait(40000, relaunched, &r), "worker %d runs again elsewhere", r.worker);
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

Test(storm_faults, restarted_nimbus_keeps_its_workers)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=12000", "topology.max.spout.pending=200",
	                       "wc.sink_delay_us=40", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 12000, 3000};
	cr_assert(sh_wait(30000, sink_has, &p), "the stream flows");
	json_t *v = sh_nimbus("wc");
	pid_t w0 = (pid_t)json_integer_value(json_object_get(sh_worker(v, 0), "pid"));
	pid_t w1 = (pid_t)json_integer_value(json_object_get(sh_worker(v, 1), "pid"));
	char fid[128];
	snprintf(fid, sizeof(fid), "%s", json_string_value(json_object_get(v, "framework_id")));
	json_decref(v);

	pid_t nimbus = sh_nimbus_pid("wc");
	kill(nimbus, SIGKILL);
	cr_assert(sh_wait(5000, nimbus_gone, &nimbus));
	/* The workers go on without their nimbus. */
	int64_t before = wc_lines(out_dir());
	p.lines = before + 2000;
	cr_assert(sh_wait(20000, sink_has, &p), "tuples flow while the nimbus is down");

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

static int64_t rss_kb(pid_t pid)
{
	char path[64], line[256];
	int64_t kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

Test(storm_faults, slow_bolt_is_held_back_by_max_spout_pending)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=0", "topology.max.spout.pending=50",
	                       "wc.sink_delay_us=2000", "wc.sink=1", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 200, 0};
	cr_assert(sh_wait(30000, spout_acked, &p), "trees complete");
	json_t *v = sh_nimbus("wc");
	int64_t pending_max = sh_component(v, "sentences", "pending_max");
	cr_expect_leq(pending_max, 50, "never more than max_spout_pending in flight: %lld",
	              (long long)pending_max);
	cr_expect_eq(pending_max, 50, "the limit was reached: the spout was held back");
	cr_expect_eq(sh_component(v, "sentences", "failed"), 0, "nothing timed out");
	for (int i = 0; i < 2; i++) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(sh_worker(v, i), "pid"));
		cr_expect_lt(rss_kb(pid), 200 * 1024, "worker %d's memory stays bounded", i);
	}
	json_decref(v);
}
