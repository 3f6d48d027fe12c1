/* wordcount.c — the word-count topology on a real `plexus local` with two agents:
 * exact counts without faults, the fields grouping, list, rebalance and kill. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "http.h"
#include "storm_harness.h"

#define SENTENCES 3000

TestSuite(storm_wordcount, .init = sh_init, .fini = sh_fini, .timeout = 240);

struct done_arg {
	const char *name;
	int64_t acked;
};

static bool spout_acked(void *arg)
{
	struct done_arg *d = arg;
	json_t *v = sh_nimbus(d->name);
	bool ok = v != NULL && sh_component(v, "sentences", "acked") >= d->acked;
	json_decref(v);
	return ok;
}

struct count_arg {
	const char *name;
	int64_t words;
};

static bool count_executed(void *arg)
{
	struct count_arg *c = arg;
	json_t *v = sh_nimbus(c->name);
	bool ok = v != NULL && sh_component(v, "count", "executed") == c->words;
	json_decref(v);
	return ok;
}

static bool pid_gone(void *arg)
{
	return !sh_alive(*(pid_t *)arg);
}

Test(storm_wordcount, exact_counts_then_kill)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=3000", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct done_arg d = {"wc", SENTENCES};
	cr_assert(sh_wait(60000, spout_acked, &d), "the spout's sentences were not all acked");

	json_t *v = sh_nimbus("wc");
	cr_assert_not_null(v);
	cr_expect_eq(sh_component(v, "sentences", "failed"), 0, "no tree failed");
	cr_expect_eq(sh_component(v, "sentences", "emitted"), SENTENCES, "no replays");
	/* Two workers, one per agent. */
	const char *a0 = json_string_value(json_object_get(sh_worker(v, 0), "agent_id"));
	const char *a1 = json_string_value(json_object_get(sh_worker(v, 1), "agent_id"));
	cr_assert(a0 && a1 && strcmp(a0, a1) != 0, "workers spread over agents: %s %s", a0, a1);
	pid_t w0 = (pid_t)json_integer_value(json_object_get(sh_worker(v, 0), "pid"));
	pid_t w1 = (pid_t)json_integer_value(json_object_get(sh_worker(v, 1), "pid"));
	cr_assert(w0 > 0 && w1 > 0 && kill(w0, 0) == 0 && kill(w1, 0) == 0);

	char dir[300];
	snprintf(dir, sizeof(dir), "%s/out", sh_dir());
	struct wc_result r;
	wc_check(dir, SENTENCES, &r);
	cr_expect_eq(r.duplicates, 0, "no duplicates without faults");
	cr_expect_eq(r.lines, r.expected, "every word once: %lld lines, %lld words",
	             (long long)r.lines, (long long)r.expected);
	cr_expect(r.exact, "counts equal the reference");
	cr_expect(r.one_task_per_word, "a word reaches one count task only");
	/* Metrics arrive with each worker's heartbeat: wait for the count tasks'. */
	struct count_arg ca = {"wc", r.expected};
	cr_expect(sh_wait(10000, count_executed, &ca), "the count tasks executed every word once");

	char *out = NULL;
	const char *list[] = {"list", NULL};
	cr_assert_eq(sh_storm(&out, list), 0);
	cr_expect(strstr(out, "wc") != NULL && strstr(out, "active") != NULL, "list: %s", out);
	free(out);
	json_decref(v);

	/* Kill: every worker ends, the nimbus too, the master's tasks are killed. */
	pid_t nimbus = sh_nimbus_pid("wc");
	const char *kill_args[] = {"kill", "wc", NULL};
	cr_assert_eq(sh_storm(&out, kill_args), 0, "kill: %s", out);
	free(out);
	cr_expect(sh_wait(30000, pid_gone, &w0), "worker 0 ended");
	cr_expect(sh_wait(30000, pid_gone, &w1), "worker 1 ended");
	cr_expect(sh_wait(30000, pid_gone, &nimbus), "the nimbus ended");
	json_t *ms = sh_master_state(port);
	size_t i;
	json_t *fw;
	int running = 0;
	json_array_foreach(json_object_get(ms, "frameworks"), i, fw)
	{
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(fw, "tasks"), k, t)
		{
			const char *st = json_string_value(json_object_get(t, "state"));
			running += st != NULL && strcmp(st, "TASK_RUNNING") == 0;
		}
	}
	cr_expect_eq(running, 0, "no task of the topology runs any more");
	json_decref(ms);
	const char *again[] = {"kill", "wc", NULL};
	cr_expect_neq(sh_storm(NULL, again), 0, "a killed topology is gone");
	const char *bad_name[] = {"submit", "--master=127.0.0.1:1", WORDCOUNT_PATH, "no/slash",
	                          NULL};
	cr_expect_eq(sh_storm(NULL, bad_name), 2, "a bad name is refused");
	const char *not_a_program[] = {"submit", "--master=127.0.0.1:1", "/nonexistent", "x", NULL};
	cr_expect_eq(sh_storm(NULL, not_a_program), 1, "a missing program is refused");
}

static bool rebalanced(void *arg)
{
	json_t *v = sh_nimbus("wc");
	int running = 0;
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(v, "worker_list"), i, w)
	{
		const char *st = json_string_value(json_object_get(w, "state"));
		running += st != NULL && strcmp(st, "running") == 0 &&
		           json_integer_value(json_object_get(w, "epoch")) ==
		               json_integer_value(json_object_get(v, "epoch"));
	}
	bool ok =
	    v != NULL && json_integer_value(json_object_get(v, "workers")) == 3 && running == 3;
	json_decref(v);
	return ok;
}

Test(storm_wordcount, rebalance_to_three_workers)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=4000", "topology.message.timeout.secs=3", NULL};
	sh_submit_wordcount(port, "wc", confs);
	const char *args[] = {"rebalance", "wc", "--workers=3", NULL};
	cr_assert_eq(sh_storm(NULL, args), 0);
	cr_assert(sh_wait(60000, rebalanced, NULL), "three workers run the latest assignment");
	struct done_arg d = {"wc", 4000};
	cr_assert(sh_wait(60000, spout_acked, &d), "every sentence was acked");
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/out", sh_dir());
	struct wc_result r;
	wc_check(dir, 4000, &r);
	cr_expect(r.exact, "counts equal the reference after a rebalance");
	const char *bad[] = {"rebalance", "wc", "--workers=0", NULL};
	cr_expect_neq(sh_storm(NULL, bad), 0, "a bad rebalance is refused");
	/* The nimbus answers bad requests with 4xx and a reason, and keeps running. */
	char path[400], *body = NULL;
	snprintf(path, sizeof(path), "%s/state/wc/nimbus.json", sh_dir());
	json_t *st = json_load_file(path, 0, NULL);
	const char *http = json_string_value(json_object_get(st, "http"));
	cr_assert_not_null(http);
	cr_expect_eq(stm_http("POST", http, "/storm/rebalance?workers=abc", 3000, &body), 400);
	cr_expect(body != NULL && strstr(body, "workers") != NULL, "a reason: %s", body);
	free(body);
	cr_expect_eq(stm_http("POST", http, "/storm/rebalance?workers=1000", 3000, NULL), 400);
	cr_expect_eq(stm_http("GET", http, "/storm/kill", 3000, NULL), 405);
	cr_expect_eq(stm_http("GET", http, "/storm/nothing", 3000, NULL), 404);
	cr_expect_eq(stm_http("GET", http, "/storm/state", 3000, NULL), 200);
	json_decref(st);
}
