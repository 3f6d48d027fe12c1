/* future.h — futures and promises, reference counted.
 *
 * A promise is completed once (set, fail or discard). Its future is READY, FAILED,
 * DISCARDED, or ABANDONED when the promise was freed uncompleted. Continuations run
 * inside a chosen actor (libprocess's defer): they come back through its mailbox.
 * Every reference-returning call says "new reference"; release it with unref. */
#ifndef ACTOR_FUTURE_H
#define ACTOR_FUTURE_H

#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actor_future actor_future;
typedef struct actor_promise actor_promise;

enum actor_future_state {
	ACTOR_FUTURE_PENDING,
	ACTOR_FUTURE_READY,
	ACTOR_FUTURE_FAILED,
	ACTOR_FUTURE_DISCARDED,
	ACTOR_FUTURE_ABANDONED,
};

typedef void (*actor_value_free_fn)(void *value);
/* on_any continuation: runs once, whatever the outcome (see the callback rule in actor.h). */
typedef void (*actor_future_fn)(actor_t *in, actor_future *f, void *arg);
/* then continuation: runs only when f is READY; returns the next future (new reference),
 * or NULL for "READY with no value". */
typedef actor_future *(*actor_then_fn)(actor_t *in, actor_future *f, void *arg);
/* dispatch function: runs inside the actor; returns a value owned by the future
 * (freed with value_free), or sets *err to fail it. */
typedef void *(*actor_dispatch_fn)(actor_t *self, void *arg, int *err);

actor_promise *actor_promise_alloc(void);                 /* NULL on out of memory */
actor_future *actor_promise_future(actor_promise *p);     /* new reference */
/* Completing twice is a no-op (returns ACTOR_ESTATE; value_free(value) is called). */
int actor_promise_set(actor_promise *p, void *value, actor_value_free_fn value_free);
int actor_promise_fail(actor_promise *p, int err, const char *why);
/* Frees the promise; if it was not completed its future becomes ABANDONED. */
void actor_promise_free(actor_promise *p);

/* Already-completed futures (new references). */
actor_future *actor_future_ready(void *value, actor_value_free_fn value_free);
actor_future *actor_future_failed(int err, const char *why);

/* Runs fn inside `to`; the future completes with its result. If `to` does not exist
 * or ends first, fn runs with self == NULL (to free arg; its result is ignored) and the
 * future fails with ACTOR_ENOENT. New reference. */
actor_future *actor_dispatch(actor_pid to, actor_dispatch_fn fn, void *arg,
			     actor_value_free_fn value_free);

/* Continuations. `in` is the actor they run inside; NULL means "on whichever runtime
 * thread completes f" (for code outside actors). */
void actor_future_on_any(actor_future *f, actor_t *in, actor_future_fn fn, void *arg);
/* Returns a future (new reference) of fn's result; if f fails, is discarded or
 * abandoned, fn does not run and the result takes f's outcome. */
actor_future *actor_future_then(actor_future *f, actor_t *in, actor_then_fn fn, void *arg);
/* READY (no value) when all of fs are READY; fails fast with the first failure.
 * Does not take over the caller's references. New reference. */
actor_future *actor_future_collect(actor_future *const *fs, size_t n);
/* Mirrors f, but fails with ACTOR_ETIMEDOUT if f is still pending after ms of the
 * runtime's clock. New reference. */
actor_future *actor_future_after(actor_future *f, int64_t ms);

/* For threads outside actors (tests, main): waits up to timeout_ms of real time
 * (negative: forever) for f to complete. Returns 0 when it has, ACTOR_ETIMEDOUT if not.
 * Calling it inside an actor returns ACTOR_ESTATE (it would deadlock). */
int actor_future_await(actor_future *f, int64_t timeout_ms);

enum actor_future_state actor_future_state(const actor_future *f);
void *actor_future_value(const actor_future *f);          /* borrowed while f is held */
int actor_future_error(const actor_future *f);            /* 0 unless FAILED/... */
const char *actor_future_why(const actor_future *f);      /* failure text or NULL */
/* Asks the producer to stop: the future becomes DISCARDED if still pending. */
void actor_future_discard(actor_future *f);

void actor_future_ref(actor_future *f);
void actor_future_unref(actor_future *f);                 /* NULL is a no-op */

#ifdef __cplusplus
}
#endif

#endif
