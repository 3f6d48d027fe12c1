/* Futures: promises, dispatch, continuations inside actors, then, collect, after,
 * await, discard, abandon, reference counting. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static _Atomic int frees;

static void count_free(void *v)
{
	atomic_fetch_add(&frees, 1);
	free(v);
}

static int *boxed(int v)
{
	int *p = malloc(sizeof(*p));
	*p = v;
	return p;
}

Test(future, promise_set_once_and_value_freed_once)
{
	actor_promise *p = actor_promise_alloc();
	actor_future *f = actor_promise_future(p);

	atomic_store(&frees, 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_PENDING);
	cr_assert_null(actor_future_value(f));
	cr_assert_eq(actor_promise_set(p, boxed(5), count_free), 0);
	cr_assert_eq(actor_promise_set(p, boxed(6), count_free), ACTOR_ESTATE);
	cr_assert_eq(atomic_load(&frees), 1, "second value not freed");
	cr_assert_eq(actor_promise_fail(p, ACTOR_EIO, "late"), ACTOR_ESTATE);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	cr_assert_eq(*(int *)actor_future_value(f), 5);
	cr_assert_eq(actor_future_error(f), 0);
	actor_promise_free(p);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	actor_future_ref(f);
	actor_future_unref(f);
	cr_assert_eq(atomic_load(&frees), 1);
	actor_future_unref(f);
	cr_assert_eq(atomic_load(&frees), 2);
	actor_future_unref(NULL);
}

Test(future, abandoned_failed_and_discarded)
{
	actor_promise *p = actor_promise_alloc();
	actor_future *f = actor_promise_future(p);

	actor_promise_free(p);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_ABANDONED);
	cr_assert_eq(actor_future_error(f), ACTOR_EABANDONED);
	actor_future_unref(f);

	p = actor_promise_alloc();
	f = actor_promise_future(p);
	cr_assert_eq(actor_promise_fail(p, ACTOR_EIO, "disk on fire"), 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(f), ACTOR_EIO);
	cr_assert_str_eq(actor_future_why(f), "disk on fire");
	actor_promise_free(p);
	actor_future_unref(f);

	atomic_store(&frees, 0);
	p = actor_promise_alloc();
	f = actor_promise_future(p);
	actor_future_discard(f);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_DISCARDED);
	cr_assert_eq(actor_future_error(f), ACTOR_ECANCELED);
	cr_assert_eq(actor_promise_set(p, boxed(1), count_free), ACTOR_ESTATE);
	cr_assert_eq(atomic_load(&frees), 1);
	actor_promise_free(p);
	actor_future_unref(f);

	f = actor_future_failed(ACTOR_ENOENT, NULL);
	cr_assert_eq(actor_future_error(f), ACTOR_ENOENT);
	actor_future_unref(f);
}

/* ---- continuations inside actors ---- */

struct where {
	struct latch l;
	actor_t *expect;
	actor_t *in;
	actor_t *current;
	pthread_t thread;
	int calls;
	int state;
};

static void note_where(actor_t *in, actor_future *f, void *arg)
{
	struct where *w = arg;
	w->in = in;
	w->current = actor_current();
	w->thread = pthread_self();
	w->state = actor_future_state(f);
	w->calls++;
	latch_add(&w->l, 1);
}

struct holder {
	actor_t *self;
	struct latch ready;
};

static void holder_note(actor_t *self, void *arg)
{
	struct holder *h = arg;
	h->self = self;
	latch_add(&h->ready, 1);
}

static const actor_def holder_def = {.name = "holder"};

/* Spawns an actor and learns its actor_t (valid only inside it; used for identity). */
static actor_pid spawn_holder(struct holder *h)
{
	actor_pid pid;

	latch_init(&h->ready);
	cr_assert_eq(actor_spawn(&holder_def, NULL, &pid), 0);
	cr_assert_eq(actor_call(pid, holder_note, h), 0);
	cr_assert(latch_wait(&h->ready, 1, 5000));
	return pid;
}

struct on_any_req {
	actor_future *f;
	struct where *w;
};

static void register_on_any(actor_t *self, void *arg)
{
	struct on_any_req *r = arg;
	actor_future_on_any(r->f, self, note_where, r->w);
	latch_add(&r->w->l, 100);
}

Test(future, on_any_runs_inside_the_chosen_actor)
{
	struct holder h;
	struct where w = {0};
	actor_promise *p;
	actor_future *f;
	actor_pid hp;

	latch_init(&w.l);
	rt_start(2);
	hp = spawn_holder(&h);
	p = actor_promise_alloc();
	f = actor_promise_future(p);
	struct on_any_req r = {.f = f, .w = &w};
	cr_assert_eq(actor_call(hp, register_on_any, &r), 0);
	cr_assert(latch_wait(&w.l, 100, 5000));
	/* Completed from the test thread; the continuation still runs inside the actor. */
	actor_promise_set(p, NULL, NULL);
	cr_assert(latch_wait(&w.l, 101, 5000));
	cr_assert_eq(w.in, h.self);
	cr_assert_eq(w.current, h.self);
	cr_assert(!pthread_equal(w.thread, pthread_self()));
	cr_assert_eq(w.state, ACTOR_FUTURE_READY);

	/* Already complete, in == NULL: runs at once on this thread. */
	struct where w2 = {0};
	latch_init(&w2.l);
	actor_future_on_any(f, NULL, note_where, &w2);
	cr_assert_eq(w2.calls, 1);
	cr_assert_null(w2.in);
	cr_assert(pthread_equal(w2.thread, pthread_self()));
	actor_promise_free(p);
	actor_future_unref(f);
	actor_runtime_fini();
}

Test(future, continuation_for_ended_actor_runs_with_null)
{
	struct holder h;
	struct where w = {0};
	actor_promise *p;
	actor_future *f;
	actor_pid hp;

	latch_init(&w.l);
	rt_start(2);
	hp = spawn_holder(&h);
	p = actor_promise_alloc();
	f = actor_promise_future(p);
	struct on_any_req r = {.f = f, .w = &w};
	cr_assert_eq(actor_call(hp, register_on_any, &r), 0);
	cr_assert(latch_wait(&w.l, 100, 5000));
	actor_terminate(hp);
	cr_assert_eq(actor_wait(hp, 5000), 0);
	actor_promise_set(p, NULL, NULL);
	cr_assert(latch_wait(&w.l, 101, 5000));
	cr_assert_null(w.in);
	cr_assert_eq(w.calls, 1);
	actor_promise_free(p);
	actor_future_unref(f);
	actor_runtime_fini();
}

/* ---- dispatch ---- */

static void *add_one(actor_t *self, void *arg, int *err)
{
	int *n = arg;
	if (self == NULL) {
		*n = -1;
		return NULL;
	}
	cr_assert_eq(actor_current(), self);
	return boxed(*n + 1);
}

static void *fail_dispatch(actor_t *self, void *arg, int *err)
{
	*err = ACTOR_EIO;
	return NULL;
}

Test(future, dispatch_runs_inside_and_completes)
{
	struct holder h;
	actor_pid hp, ghost;
	int n = 41;
	actor_future *f;

	atomic_store(&frees, 0);
	rt_start(2);
	hp = spawn_holder(&h);
	f = actor_dispatch(hp, add_one, &n, count_free);
	cr_assert_eq(actor_future_await(f, 5000), 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	cr_assert_eq(*(int *)actor_future_value(f), 42);
	actor_future_unref(f);
	actor_clock_settle(); /* the dispatch's own reference goes when its turn ends */
	cr_assert_eq(atomic_load(&frees), 1);

	f = actor_dispatch(hp, fail_dispatch, NULL, NULL);
	cr_assert_eq(actor_future_await(f, 5000), 0);
	cr_assert_eq(actor_future_error(f), ACTOR_EIO);
	actor_future_unref(f);

	cr_assert_eq(actor_pid_make("ghost", actor_runtime_ip(), actor_runtime_port(), &ghost), 0);
	f = actor_dispatch(ghost, add_one, &n, count_free);
	cr_assert_eq(actor_future_await(f, 5000), 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(f), ACTOR_ENOENT);
	cr_assert_eq(n, -1, "fn did not run with self == NULL");
	actor_future_unref(f);
	actor_runtime_fini();
}

/* ---- then ---- */

struct then_ctx {
	actor_t *expect;
	actor_t *saw;
	int runs;
};

static actor_future *then_double(actor_t *in, actor_future *f, void *arg)
{
	struct then_ctx *c = arg;
	c->saw = actor_current();
	c->runs++;
	return actor_future_ready(boxed(*(int *)actor_future_value(f) * 2), free);
}

static actor_future *then_null(actor_t *in, actor_future *f, void *arg)
{
	struct then_ctx *c = arg;
	c->runs++;
	return NULL;
}

Test(future, then_chains_in_an_actor_and_skips_failures)
{
	struct holder h;
	struct then_ctx c = {0};
	actor_pid hp;
	actor_promise *p;
	actor_future *f, *g;

	rt_start(2);
	hp = spawn_holder(&h);
	(void)hp;
	p = actor_promise_alloc();
	f = actor_promise_future(p);
	/* h.self is used only as the actor to run in; the call happens from this thread,
	 * which is allowed for code that holds a valid actor_t while it lives. */
	g = actor_future_then(f, h.self, then_double, &c);
	actor_promise_set(p, boxed(21), free);
	cr_assert_eq(actor_future_await(g, 5000), 0);
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_READY);
	cr_assert_eq(*(int *)actor_future_value(g), 42);
	cr_assert_eq(c.saw, h.self);
	actor_future_unref(g);
	actor_future_unref(f);
	actor_promise_free(p);

	/* NULL from fn: READY with no value. */
	f = actor_future_ready(NULL, NULL);
	g = actor_future_then(f, NULL, then_null, &c);
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_READY);
	cr_assert_null(actor_future_value(g));
	cr_assert_eq(c.runs, 2);
	actor_future_unref(g);
	actor_future_unref(f);

	/* A failure skips fn and passes through. */
	f = actor_future_failed(ACTOR_EPROTO, "garbled");
	g = actor_future_then(f, NULL, then_double, &c);
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(g), ACTOR_EPROTO);
	cr_assert_str_eq(actor_future_why(g), "garbled");
	cr_assert_eq(c.runs, 2);
	actor_future_unref(g);
	actor_future_unref(f);
	actor_runtime_fini();
}

/* ---- collect ---- */

Test(future, collect_waits_for_all_and_fails_fast)
{
	actor_promise *p[3];
	actor_future *f[3], *all;

	for (int i = 0; i < 3; i++) {
		p[i] = actor_promise_alloc();
		f[i] = actor_promise_future(p[i]);
	}
	all = actor_future_collect(f, 3);
	actor_promise_set(p[0], NULL, NULL);
	actor_promise_set(p[2], NULL, NULL);
	cr_assert_eq(actor_future_state(all), ACTOR_FUTURE_PENDING);
	actor_promise_set(p[1], NULL, NULL);
	cr_assert_eq(actor_future_state(all), ACTOR_FUTURE_READY);
	actor_future_unref(all);
	for (int i = 0; i < 3; i++) {
		actor_promise_free(p[i]);
		actor_future_unref(f[i]);
	}

	for (int i = 0; i < 3; i++) {
		p[i] = actor_promise_alloc();
		f[i] = actor_promise_future(p[i]);
	}
	all = actor_future_collect(f, 3);
	actor_promise_fail(p[1], ACTOR_ECONN, "lost");
	cr_assert_eq(actor_future_state(all), ACTOR_FUTURE_FAILED, "did not fail fast");
	cr_assert_eq(actor_future_error(all), ACTOR_ECONN);
	actor_promise_set(p[0], NULL, NULL);
	actor_future_unref(all);
	for (int i = 0; i < 3; i++) {
		actor_promise_free(p[i]); /* p[2] is abandoned: no effect on all */
		actor_future_unref(f[i]);
	}

	all = actor_future_collect(NULL, 0);
	cr_assert_eq(actor_future_state(all), ACTOR_FUTURE_READY);
	actor_future_unref(all);
}

/* ---- after, await ---- */

Test(future, after_times_out_on_the_paused_clock)
{
	actor_promise *p = NULL;
	actor_future *f, *g;

	rt_start(1);
	actor_clock_pause();
	p = actor_promise_alloc();
	f = actor_promise_future(p);
	g = actor_future_after(f, 1000);
	actor_clock_advance(999);
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_PENDING);
	actor_clock_advance(1);
	actor_clock_settle();
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(g), ACTOR_ETIMEDOUT);
	actor_future_unref(g);

	/* Completed in time: mirrors the value, and the timer is gone. */
	g = actor_future_after(f, 1000);
	actor_promise_set(p, boxed(3), free);
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_READY);
	cr_assert_eq(*(int *)actor_future_value(g), 3);
	actor_clock_advance(5000);
	cr_assert_eq(actor_future_state(g), ACTOR_FUTURE_READY);
	actor_future_unref(g);
	actor_future_unref(f);
	actor_promise_free(p);
	actor_runtime_fini();
}

static void *try_await(actor_t *self, void *arg, int *err)
{
	actor_future *f = arg;
	return boxed(actor_future_await(f, 0));
}

Test(future, await_times_out_uses_real_time_and_refuses_inside_actors)
{
	struct holder h;
	actor_pid hp;
	actor_promise *p;
	actor_future *f, *g;
	struct timespec t0, t1;

	rt_start(2);
	actor_clock_pause(); /* await must not depend on the runtime clock */
	hp = spawn_holder(&h);
	p = actor_promise_alloc();
	f = actor_promise_future(p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(actor_future_await(f, 30), ACTOR_ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_geq(ms, 29);
	g = actor_dispatch(hp, try_await, f, free);
	cr_assert_eq(actor_future_await(g, 5000), 0);
	cr_assert_eq(*(int *)actor_future_value(g), ACTOR_ESTATE);
	actor_future_unref(g);
	actor_promise_set(p, NULL, NULL);
	cr_assert_eq(actor_future_await(f, -1), 0);
	actor_future_unref(f);
	actor_promise_free(p);
	actor_runtime_fini();
}

/* ---- a chain through actors, many times (dispatch + continuation in the caller) ---- */

struct chain {
	actor_pid target;
	int left;
	int done;
	actor_promise *finished;
};

static void *chain_work(actor_t *self, void *arg, int *err)
{
	return NULL;
}

static void chain_next(actor_t *self, void *arg);

static void chain_cont(actor_t *in, actor_future *f, void *arg)
{
	struct chain *c = arg;
	cr_assert_not_null(in);
	cr_assert_eq(actor_current(), in);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	c->done++;
	chain_next(in, c);
}

static void chain_next(actor_t *self, void *arg)
{
	struct chain *c = arg;
	if (c->left == 0) {
		actor_promise_set(c->finished, NULL, NULL);
		return;
	}
	c->left--;
	actor_future *f = actor_dispatch(c->target, chain_work, NULL, NULL);
	actor_future_on_any(f, self, chain_cont, c);
	actor_future_unref(f);
}

Test(future, ten_thousand_dispatches_with_continuations)
{
	struct holder h;
	struct chain c = {0};
	actor_pid caller;
	actor_future *done;

	rt_start(2);
	c.target = spawn_holder(&h);
	c.left = 10000;
	c.finished = actor_promise_alloc();
	done = actor_promise_future(c.finished);
	cr_assert_eq(actor_spawn(&holder_def, NULL, &caller), 0);
	actor_call(caller, chain_next, &c);
	cr_assert_eq(actor_future_await(done, 30000), 0);
	cr_assert_eq(c.done, 10000);
	actor_future_unref(done);
	actor_promise_free(c.finished);
	actor_runtime_fini();
}
