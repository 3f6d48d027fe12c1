/* faults.h — what the fault tests share: progress predicates over the nimbus's view
 * and the exact check of the word counts through the idempotent sink (distinct
 * (sentence, word index) keys must equal the reference exactly). Included by one
 * test file each; every helper is static. */
#ifndef TESTS_STORM_FAULTS_H
#define TESTS_STORM_FAULTS_H
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "storm_harness.h"

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

static bool nothing_pending(void *arg)
{
	json_t *v = sh_nimbus("wc");
	bool ok = v != NULL && sh_component(v, "sentences", "pending") == 0;
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
	json_decref(v);
	cr_expect(sh_wait(10000, nothing_pending, NULL), "no tree is in flight at the end");
}

#endif
