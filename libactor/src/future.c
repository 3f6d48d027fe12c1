/* future.c — futures, promises, dispatch and continuations.
 *
 * A future is shared by its producer (the promise), its holders and its pending
 * continuations, each holding a reference; the last unref frees it with its value.
 * Completion happens once, under a per-future spinlock that also guards the list of
 * continuations; the list is taken out under the lock and run after it (never call
 * back with a lock held). A continuation bound to an actor travels to it as a call
 * through its mailbox (libprocess's defer); if that actor has ended, it runs with
 * in == NULL. Threads in actor_future_await sleep on one shared condition variable,
 * touched only when a future completes while somebody waits on it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

struct actor__cb {
	struct actor__call call; /* first: posted to `in` as an owned call */
	struct actor__cb *next;
	actor_future *f;
	actor_future_fn fn;
	void *arg;
	actor_pid in;
};

struct actor_future {
	_Atomic int refs;
	_Atomic int state;
	atomic_flag lock;
	_Atomic int waiters;
	int err;
	void *value;
	actor_value_free_fn value_free;
	char *why;
	actor_future *source; /* holds the value when this future mirrors another */
	struct actor__cb *cbs, **cbs_tail;
};

struct actor_promise {
	actor_future *f;
};

static pthread_mutex_t actor__await_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t actor__await_cv;
static pthread_once_t actor__await_once = PTHREAD_ONCE_INIT;

static void actor__await_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&actor__await_cv, &attr);
	pthread_condattr_destroy(&attr);
}

static void actor__flock(actor_future *f)
{
	while (atomic_flag_test_and_set_explicit(&f->lock, memory_order_acquire))
		;
}

static void actor__funlock(actor_future *f)
{
	atomic_flag_clear_explicit(&f->lock, memory_order_release);
}

static actor_future *actor__future_alloc(void)
{
	actor_future *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	atomic_store_explicit(&f->refs, 1, memory_order_relaxed);
	atomic_store_explicit(&f->state, ACTOR_FUTURE_PENDING, memory_order_relaxed);
	atomic_flag_clear(&f->lock);
	f->cbs_tail = &f->cbs;
	return f;
}

void actor_future_ref(actor_future *f)
{
	if (f != NULL)
		atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void actor_future_unref(actor_future *f)
{
	if (f == NULL || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (f->value_free != NULL && f->value != NULL)
		f->value_free(f->value);
	free(f->why);
	actor_future_unref(f->source);
	free(f);
}

static void actor__cb_run(actor_t *self, void *arg)
{
	struct actor__cb *cb = arg;

	cb->fn(self, cb->f, cb->arg);
	actor_future_unref(cb->f);
	free(cb);
}

static void actor__cb_dispatch(struct actor__cb *cb)
{
	if (actor_pid_is_none(cb->in)) {
		actor__cb_run(NULL, cb);
		return;
	}
	cb->call.node.kind = ACTOR__CALL_OWNED;
	cb->call.fn = actor__cb_run;
	cb->call.arg = cb;
	actor__post_pid(&cb->in, &cb->call.node);
}

/* Completes f once. On ACTOR_ESTATE (already complete) nothing was taken over. */
static int actor__complete(actor_future *f, int state, void *value, actor_value_free_fn vfree,
			   int err, const char *why, actor_future *source)
{
	struct actor__cb *cbs;

	actor__flock(f);
	if (atomic_load_explicit(&f->state, memory_order_relaxed) != ACTOR_FUTURE_PENDING) {
		actor__funlock(f);
		return ACTOR_ESTATE;
	}
	f->value = value;
	f->value_free = vfree;
	f->err = err;
	f->why = why != NULL ? strdup(why) : NULL;
	f->source = source;
	cbs = f->cbs;
	f->cbs = NULL;
	f->cbs_tail = &f->cbs;
	atomic_store_explicit(&f->state, state, memory_order_seq_cst);
	actor__funlock(f);
	if (atomic_load_explicit(&f->waiters, memory_order_seq_cst) > 0) {
		pthread_once(&actor__await_once, actor__await_init);
		pthread_mutex_lock(&actor__await_mu);
		pthread_cond_broadcast(&actor__await_cv);
		pthread_mutex_unlock(&actor__await_mu);
	}
	while (cbs != NULL) {
		struct actor__cb *next = cbs->next;
		actor__cb_dispatch(cbs);
		cbs = next;
	}
	return 0;
}

/* Gives dst the outcome of the completed future src. */
static void actor__mirror(actor_future *src, actor_future *dst)
{
	int st = atomic_load_explicit(&src->state, memory_order_acquire);

	if (st == ACTOR_FUTURE_READY) {
		actor_future_ref(src);
		if (actor__complete(dst, st, src->value, NULL, 0, NULL, src) != 0)
			actor_future_unref(src);
	} else {
		actor__complete(dst, st, NULL, NULL, src->err, src->why, NULL);
	}
}

actor_promise *actor_promise_alloc(void)
{
	actor_promise *p = malloc(sizeof(*p));

	if (p == NULL)
		return NULL;
	p->f = actor__future_alloc();
	if (p->f == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

actor_future *actor_promise_future(actor_promise *p)
{
	actor_future_ref(p->f);
	return p->f;
}

int actor_promise_set(actor_promise *p, void *value, actor_value_free_fn value_free)
{
	int rc = actor__complete(p->f, ACTOR_FUTURE_READY, value, value_free, 0, NULL, NULL);

	if (rc != 0 && value_free != NULL && value != NULL)
		value_free(value);
	return rc;
}

int actor_promise_fail(actor_promise *p, int err, const char *why)
{
	if (err == 0)
		err = ACTOR_EFAILED;
	return actor__complete(p->f, ACTOR_FUTURE_FAILED, NULL, NULL, err, why, NULL);
}

void actor_promise_free(actor_promise *p)
{
	if (p == NULL)
		return;
	actor__complete(p->f, ACTOR_FUTURE_ABANDONED, NULL, NULL, ACTOR_EABANDONED, NULL, NULL);
	actor_future_unref(p->f);
	free(p);
}

actor_future *actor_future_ready(void *value, actor_value_free_fn value_free)
{
	actor_future *f = actor__future_alloc();

	if (f == NULL) {
		if (value_free != NULL && value != NULL)
			value_free(value);
		return NULL;
	}
	actor__complete(f, ACTOR_FUTURE_READY, value, value_free, 0, NULL, NULL);
	return f;
}

actor_future *actor_future_failed(int err, const char *why)
{
	actor_future *f = actor__future_alloc();

	if (f != NULL)
		actor__complete(f, ACTOR_FUTURE_FAILED, NULL, NULL, err ? err : ACTOR_EFAILED, why,
				NULL);
	return f;
}

enum actor_future_state actor_future_state(const actor_future *f)
{
	return (enum actor_future_state)atomic_load_explicit(&((actor_future *)f)->state,
							     memory_order_acquire);
}

void *actor_future_value(const actor_future *f)
{
	return actor_future_state(f) == ACTOR_FUTURE_READY ? f->value : NULL;
}

int actor_future_error(const actor_future *f)
{
	switch (actor_future_state(f)) {
	case ACTOR_FUTURE_FAILED:
		return f->err;
	case ACTOR_FUTURE_DISCARDED:
		return ACTOR_ECANCELED;
	case ACTOR_FUTURE_ABANDONED:
		return ACTOR_EABANDONED;
	default:
		return 0;
	}
}

const char *actor_future_why(const actor_future *f)
{
	return actor_future_state(f) == ACTOR_FUTURE_PENDING ? NULL : f->why;
}

void actor_future_discard(actor_future *f)
{
	if (f != NULL)
		actor__complete(f, ACTOR_FUTURE_DISCARDED, NULL, NULL, ACTOR_ECANCELED, NULL, NULL);
}

void actor_future_on_any(actor_future *f, actor_t *in, actor_future_fn fn, void *arg)
{
	struct actor__cb *cb;

	if (f == NULL || fn == NULL)
		return;
	cb = malloc(sizeof(*cb));
	if (cb == NULL) {
		actor_error("out of memory: continuation runs without its actor");
		fn(NULL, f, arg);
		return;
	}
	cb->next = NULL;
	cb->f = f;
	cb->fn = fn;
	cb->arg = arg;
	cb->in = in != NULL ? in->pid : actor_pid_none;
	actor_future_ref(f);
	actor__flock(f);
	if (atomic_load_explicit(&f->state, memory_order_relaxed) == ACTOR_FUTURE_PENDING) {
		*f->cbs_tail = cb;
		f->cbs_tail = &cb->next;
		actor__funlock(f);
		return;
	}
	actor__funlock(f);
	actor__cb_dispatch(cb);
}

/* ---- dispatch ---- */

struct actor__dispatch {
	struct actor__call call;
	actor_future *f;
	actor_dispatch_fn fn;
	void *arg;
	actor_value_free_fn value_free;
};

static void actor__dispatch_run(actor_t *self, void *arg)
{
	struct actor__dispatch *d = arg;
	int err = 0;
	void *v;

	if (self == NULL) {
		v = d->fn(NULL, d->arg, &err);
		if (v != NULL && d->value_free != NULL)
			d->value_free(v);
		actor__complete(d->f, ACTOR_FUTURE_FAILED, NULL, NULL, ACTOR_ENOENT,
				"no such actor", NULL);
	} else {
		v = d->fn(self, d->arg, &err);
		if (err != 0) {
			if (v != NULL && d->value_free != NULL)
				d->value_free(v);
			actor__complete(d->f, ACTOR_FUTURE_FAILED, NULL, NULL, err, NULL, NULL);
		} else if (actor__complete(d->f, ACTOR_FUTURE_READY, v, d->value_free, 0, NULL,
					   NULL) != 0 &&
			   v != NULL && d->value_free != NULL) {
			d->value_free(v); /* discarded meanwhile */
		}
	}
	actor_future_unref(d->f);
	free(d);
}

actor_future *actor_dispatch(actor_pid to, actor_dispatch_fn fn, void *arg,
			     actor_value_free_fn value_free)
{
	struct actor__dispatch *d;
	actor_future *f;

	if (fn == NULL)
		return actor_future_failed(ACTOR_EINVAL, "no function");
	f = actor__future_alloc();
	d = malloc(sizeof(*d));
	if (f == NULL || d == NULL) {
		free(f);
		free(d);
		return NULL;
	}
	d->call.node.kind = ACTOR__CALL_OWNED;
	d->call.fn = actor__dispatch_run;
	d->call.arg = d;
	d->f = f;
	d->fn = fn;
	d->arg = arg;
	d->value_free = value_free;
	atomic_store_explicit(&f->refs, 2, memory_order_relaxed); /* caller's and d's */
	actor__count(actor__counters(), &actor__counters()->sent, 1);
	actor__post_pid(&to, &d->call.node);
	return f;
}

/* ---- then ---- */

struct actor__then {
	actor_future *out;
	actor_then_fn fn;
	void *arg;
	bool had_in;
};

static void actor__mirror_cb(actor_t *in, actor_future *f, void *arg)
{
	actor_future *out = arg;

	actor__mirror(f, out);
	actor_future_unref(out);
}

static void actor__then_cb(actor_t *in, actor_future *f, void *arg)
{
	struct actor__then *t = arg;
	actor_future *next;

	if (actor_future_state(f) != ACTOR_FUTURE_READY) {
		actor__mirror(f, t->out);
	} else if (t->had_in && in == NULL) {
		/* Its actor has ended: fn runs only to release arg. */
		actor_future_unref(t->fn(NULL, f, t->arg));
		actor__complete(t->out, ACTOR_FUTURE_FAILED, NULL, NULL, ACTOR_ENOENT,
				"actor ended", NULL);
	} else {
		next = t->fn(in, f, t->arg);
		if (next == NULL) {
			actor__complete(t->out, ACTOR_FUTURE_READY, NULL, NULL, 0, NULL, NULL);
		} else {
			actor_future_ref(t->out);
			actor_future_on_any(next, NULL, actor__mirror_cb, t->out);
			actor_future_unref(next);
		}
	}
	actor_future_unref(t->out);
	free(t);
}

actor_future *actor_future_then(actor_future *f, actor_t *in, actor_then_fn fn, void *arg)
{
	struct actor__then *t;
	actor_future *out;

	if (f == NULL || fn == NULL)
		return actor_future_failed(ACTOR_EINVAL, "no future or function");
	out = actor__future_alloc();
	t = malloc(sizeof(*t));
	if (out == NULL || t == NULL) {
		free(out);
		free(t);
		return NULL;
	}
	t->out = out;
	t->fn = fn;
	t->arg = arg;
	t->had_in = in != NULL;
	actor_future_ref(out); /* t's */
	actor_future_on_any(f, in, actor__then_cb, t);
	return out;
}

/* ---- collect ---- */

struct actor__collect {
	actor_future *out;
	_Atomic size_t remaining;
	_Atomic size_t refs;
};

static void actor__collect_cb(actor_t *in, actor_future *f, void *arg)
{
	struct actor__collect *c = arg;

	if (actor_future_state(f) == ACTOR_FUTURE_READY) {
		if (atomic_fetch_sub(&c->remaining, 1) == 1)
			actor__complete(c->out, ACTOR_FUTURE_READY, NULL, NULL, 0, NULL, NULL);
	} else {
		actor__mirror(f, c->out); /* the first failure wins; later ones are no-ops */
	}
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		actor_future_unref(c->out);
		free(c);
	}
}

actor_future *actor_future_collect(actor_future *const *fs, size_t n)
{
	struct actor__collect *c;
	actor_future *out;

	if (n == 0)
		return actor_future_ready(NULL, NULL);
	out = actor__future_alloc();
	c = malloc(sizeof(*c));
	if (out == NULL || c == NULL) {
		free(out);
		free(c);
		return NULL;
	}
	c->out = out;
	atomic_store(&c->remaining, n);
	atomic_store(&c->refs, n);
	actor_future_ref(out); /* c's */
	for (size_t i = 0; i < n; i++)
		actor_future_on_any(fs[i], NULL, actor__collect_cb, c);
	return out;
}

/* ---- after ---- */

struct actor__after {
	actor_future *out;
	_Atomic uint64_t timer;
	_Atomic int refs;
};

static void actor__after_release(struct actor__after *a)
{
	if (atomic_fetch_sub(&a->refs, 1) == 1) {
		actor_future_unref(a->out);
		free(a);
	}
}

static void actor__after_timer(void *arg, bool fired)
{
	struct actor__after *a = arg;

	if (fired)
		actor__complete(a->out, ACTOR_FUTURE_FAILED, NULL, NULL, ACTOR_ETIMEDOUT,
				"timed out", NULL);
	actor__after_release(a);
}

static void actor__after_cb(actor_t *in, actor_future *f, void *arg)
{
	struct actor__after *a = arg;
	uint64_t id = atomic_load(&a->timer);

	actor__mirror(f, a->out);
	if (id != 0)
		actor__timer_cancel(NULL, id); /* runs actor__after_timer(a, false) */
	actor__after_release(a);
}

actor_future *actor_future_after(actor_future *f, int64_t ms)
{
	struct actor__after *a;
	actor_future *out;
	uint64_t id;

	if (f == NULL)
		return actor_future_failed(ACTOR_EINVAL, "no future");
	out = actor__future_alloc();
	a = malloc(sizeof(*a));
	if (out == NULL || a == NULL) {
		free(out);
		free(a);
		return NULL;
	}
	a->out = out;
	atomic_store(&a->timer, 0);
	atomic_store(&a->refs, 2);
	actor_future_ref(out); /* a's */
	if (ms < 0)
		ms = 0;
	id = actor__timer_add_free(actor_clock_now() + ms, actor__after_timer, a);
	if (id == 0)
		atomic_fetch_sub(&a->refs, 1); /* no timer: the future only mirrors f */
	else
		atomic_store(&a->timer, id);
	actor_future_on_any(f, NULL, actor__after_cb, a);
	return out;
}

/* ---- await ---- */

int actor_future_await(actor_future *f, int64_t timeout_ms)
{
	struct timespec deadline;
	int rc = 0;

	if (f == NULL)
		return ACTOR_EINVAL;
	if (actor__tls_current != NULL)
		return ACTOR_ESTATE;
	if (actor_future_state(f) != ACTOR_FUTURE_PENDING)
		return 0;
	pthread_once(&actor__await_once, actor__await_init);
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	atomic_fetch_add_explicit(&f->waiters, 1, memory_order_seq_cst);
	pthread_mutex_lock(&actor__await_mu);
	while (actor_future_state(f) == ACTOR_FUTURE_PENDING) {
		if (timeout_ms < 0) {
			pthread_cond_wait(&actor__await_cv, &actor__await_mu);
		} else if (pthread_cond_timedwait(&actor__await_cv, &actor__await_mu, &deadline) ==
			   ETIMEDOUT) {
			if (actor_future_state(f) == ACTOR_FUTURE_PENDING)
				rc = ACTOR_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&actor__await_mu);
	atomic_fetch_sub_explicit(&f->waiters, 1, memory_order_seq_cst);
	return rc;
}
