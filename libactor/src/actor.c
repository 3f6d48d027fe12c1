/* actor.c — spawning, sending, the turn an actor takes on a worker, and its end.
 *
 * Whether an actor is idle lives in its mailbox's tail (see core.h): the push that
 * wakes an idle actor puts it on a run queue, so an actor is queued or running at
 * most once, and a turn ends either with the actor marked idle (a compare-and-swap
 * that fails if anything arrived) or with the actor queued again. An ended actor is
 * never marked idle, so nothing schedules it again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "http/http_internal.h"

_Thread_local struct actor *actor__tls_current;

/* What a turn (or an init) sent to other OS processes goes out now (see transport.h). */
static inline void actor__flush_remote(void)
{
	const struct actor_transport_ops *t = actor__transport;
	if (t != NULL && t->flush != NULL)
		t->flush();
}

static pthread_mutex_t actor__wait_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t actor__wait_cv;
static pthread_once_t actor__wait_once = PTHREAD_ONCE_INIT;

static void actor__wait_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&actor__wait_cv, &attr);
	pthread_condattr_destroy(&attr);
}

void actor__wake_waiters(void)
{
	pthread_once(&actor__wait_once, actor__wait_init);
	pthread_mutex_lock(&actor__wait_mu);
	pthread_cond_broadcast(&actor__wait_cv);
	pthread_mutex_unlock(&actor__wait_mu);
}

bool actor__pid_is_local(const actor_pid *pid)
{
	return pid->ip == actor__rt.ip && pid->port == actor__rt.port;
}

void actor__post(struct actor *a, struct actor__node *n)
{
	atomic_fetch_add_explicit(&a->mb_pushed, 1, memory_order_relaxed);
	if (actor__mailbox_push(a, n))
		actor__sched_enqueue(a);
}

/* Actors woken by actor__post_here on this thread, waiting for the end of the batch of
 * deliveries (actor__deliver_remote_done) to run: by then every message of the batch
 * is in their mailboxes, so one turn handles them all. Each holds a reference. */
#define ACTOR__WOKEN_MAX 16
static _Thread_local struct actor *actor__woken[ACTOR__WOKEN_MAX];
static _Thread_local int actor__nwoken;
static _Thread_local bool actor__batching;

void actor__post_here(struct actor *a, struct actor__node *n)
{
	atomic_fetch_add_explicit(&a->mb_pushed, 1, memory_order_relaxed);
	if (!actor__mailbox_push(a, n))
		return;
	if (!actor__batching) {
		actor__sched_run_here(a);
		return;
	}
	if (actor__nwoken == ACTOR__WOKEN_MAX) {
		actor__sched_enqueue(a);
		return;
	}
	actor__ref(a);
	actor__woken[actor__nwoken++] = a;
}

void actor__deliver_remote_begin(void)
{
	actor__batching = true;
}

void actor__deliver_remote_done(void)
{
	int n = actor__nwoken;
	actor__nwoken = 0;
	actor__batching = false;
	for (int i = 0; i < n; i++) {
		struct actor *a = actor__woken[i];
		actor__sched_run_here(a);
		actor__unref(a);
	}
}

void actor__post_pid(const actor_pid *pid, struct actor__node *n)
{
	struct actor *a = actor__pid_is_local(pid) ? actor__acquire(pid) : NULL;

	if (a == NULL) {
		actor__node_discard(pid, n);
		return;
	}
	actor__post(a, n);
	actor__release(a);
}

void actor__call_pid(const actor_pid *pid, actor_fn fn, void *arg)
{
	struct actor__call *c = actor__call_alloc(fn, arg);

	if (c == NULL) {
		actor_error("out of memory queueing a call for %s", actor_pid_str(*pid));
		fn(NULL, arg);
		return;
	}
	actor__post_pid(pid, &c->node);
}

/* Ends a inside its own turn (or a failed spawn). fini runs only if run_fini. */
static void actor__end(struct actor *a, bool run_fini)
{
	struct actor__node *n;
	struct actor *prev = actor__tls_current;

	/* a is never marked idle again, so no sender schedules it; what they push from
	 * now on is discarded at destroy, when nobody holds a reference. It stays
	 * registered until fini has returned, so that actor_wait still finds it. */
	actor__tls_current = NULL;
	while ((n = actor__mailbox_pop(a)) != NULL)
		actor__node_discard(&a->pid, n);
	if (run_fini && a->def->fini != NULL) {
		actor__tls_current = a;
		a->def->fini(a);
		actor__tls_current = NULL;
	}
	/* After fini, which may still have set timers: they run now, with self == NULL. */
	actor__timers_cancel_owner(a);
	actor__links_end(a);
	actor__tls_current = prev;
	actor__count(actor__counters(), &actor__counters()->ended, 1);
	atomic_fetch_or_explicit(&a->flags, ACTOR__F_DEAD, memory_order_seq_cst);
	/* Before the id is free again: an actor spawned under it must not see our routes. */
	actor__http_forget(a->pid.id);
	actor__registry_remove(a);
	/* Only now is the actor "ended" for actor_wait: a caller that waits and then
	 * spawns under the same id must find the id free. Waiters hold a reference, so a
	 * stays valid until they have seen the flag. */
	atomic_fetch_or_explicit(&a->flags, ACTOR__F_ENDED, memory_order_seq_cst);
	if (atomic_load_explicit(&a->waiters, memory_order_seq_cst) > 0)
		actor__wake_waiters();
	actor__unref(a); /* the registry's reference */
}

void actor__destroy(struct actor *a)
{
	struct actor *prev = actor__tls_current;
	struct actor__node *n;

	/* Leftover calls run with self == NULL, wherever the free happens. */
	actor__tls_current = NULL;
	while ((n = actor__mailbox_pop(a)) != NULL)
		actor__node_discard(&a->pid, n);
	for (uint16_t i = 0; i < a->nhandlers; i++) {
		free(a->handlers[i].name);
		if (a->handlers[i].arg_free != NULL)
			a->handlers[i].arg_free(a->handlers[i].arg);
	}
	free(a->handlers);
	free(a->linked);
	free(a->linkers);
	free(a);
	actor__tls_current = prev;
}

int actor_spawn(const actor_def *def, void *state, actor_pid *out)
{
	struct actor *a;
	struct actor *prev;
	int rc;

	if (def == NULL)
		return ACTOR_EINVAL;
	if (!actor_runtime_running())
		return ACTOR_ESTATE;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return ACTOR_ENOMEM;
	actor__mailbox_init(a);
	a->def = def;
	a->state = state;
	/* The mailbox starts out not idle: nobody schedules a while init runs. */
	rc = actor__registry_add(a, def->name);
	if (rc != 0) {
		free(a);
		return rc;
	}
	actor__count(actor__counters(), &actor__counters()->spawned, 1);
	if (def->init != NULL) {
		prev = actor__tls_current;
		actor__tls_current = a;
		rc = def->init(a);
		actor__tls_current = prev;
		if (prev == NULL) /* not inside a turn, whose end would flush */
			actor__flush_remote();
		if (rc != 0) {
			actor_debug("spawn of %s failed in init: %d", actor_pid_str(a->pid), rc);
			actor__end(a, false);
			return rc > 0 && rc < ACTOR__ERR_COUNT ? rc : ACTOR_EFAILED;
		}
	}
	if (out != NULL)
		*out = a->pid;
	/* Messages (or a terminate) may have arrived during init: then it runs now. */
	if ((atomic_load_explicit(&a->flags, memory_order_acquire) & ACTOR__F_TERMINATE) ||
	    !actor__mailbox_mark_idle(a))
		actor__sched_enqueue(a);
	return 0;
}

void actor_terminate(actor_pid pid)
{
	struct actor *a;

	if (!actor__pid_is_local(&pid) || (a = actor__lookup(&pid)) == NULL)
		return;
	atomic_fetch_or_explicit(&a->flags, ACTOR__F_TERMINATE, memory_order_seq_cst);
	/* Wake it with an empty item; the flag is seen before anything queued. */
	struct actor__node *n = actor__nop_alloc();
	if (n != NULL)
		actor__post(a, n);
	else
		actor_error("out of memory: %s ends at its next message", actor_pid_str(pid));
	actor__unref(a);
}

int actor_wait(actor_pid pid, int64_t timeout_ms)
{
	struct actor *a;
	struct timespec deadline;
	int rc = 0;

	if (!actor__pid_is_local(&pid) || (a = actor__lookup(&pid)) == NULL)
		return 0;
	pthread_once(&actor__wait_once, actor__wait_init);
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	atomic_fetch_add_explicit(&a->waiters, 1, memory_order_seq_cst);
	pthread_mutex_lock(&actor__wait_mu);
	while (!(atomic_load_explicit(&a->flags, memory_order_seq_cst) & ACTOR__F_ENDED)) {
		if (timeout_ms < 0) {
			pthread_cond_wait(&actor__wait_cv, &actor__wait_mu);
		} else if (pthread_cond_timedwait(&actor__wait_cv, &actor__wait_mu, &deadline) ==
			   ETIMEDOUT) {
			if (!(atomic_load(&a->flags) & ACTOR__F_ENDED))
				rc = ACTOR_ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&actor__wait_mu);
	atomic_fetch_sub_explicit(&a->waiters, 1, memory_order_seq_cst);
	actor__unref(a);
	return rc;
}

actor_pid actor_self(const actor_t *self)
{
	return self != NULL ? self->pid : actor_pid_none;
}

void *actor_state(const actor_t *self)
{
	return self != NULL ? self->state : NULL;
}

actor_t *actor_current(void)
{
	return actor__tls_current;
}

int actor_install(actor_t *self, const char *name, actor_handler_fn fn, void *arg)
{
	return actor__install_owned(self, name, fn, arg, NULL);
}

static void actor__handler_set(struct actor__handler *h, actor_handler_fn fn, void *arg,
			       void (*arg_free)(void *arg))
{
	h->fn = fn;
	h->arg = arg;
	h->arg_free = arg_free;
}

int actor__install_owned(actor_t *self, const char *name, actor_handler_fn fn, void *arg,
			 void (*arg_free)(void *arg))
{
	struct actor__handler *h;
	size_t len;

	if (self == NULL || name == NULL || fn == NULL)
		return ACTOR_EINVAL;
	len = strlen(name);
	for (uint16_t i = 0; i < self->nhandlers; i++) {
		h = &self->handlers[i];
		if (h->len == len && actor__bytes_equal(h->name, name, len)) {
			if (h->arg_free != NULL)
				h->arg_free(h->arg);
			actor__handler_set(h, fn, arg, arg_free);
			return 0;
		}
	}
	if (self->nhandlers == UINT16_MAX)
		return ACTOR_ENOMEM;
	if (self->nhandlers == self->handlers_cap) {
		uint16_t cap = self->handlers_cap ? (uint16_t)(self->handlers_cap * 2) : 4;
		if (cap < self->handlers_cap)
			cap = UINT16_MAX;
		h = realloc(self->handlers, cap * sizeof(*h));
		if (h == NULL)
			return ACTOR_ENOMEM;
		self->handlers = h;
		self->handlers_cap = cap;
	}
	h = &self->handlers[self->nhandlers];
	h->name = malloc(len + 1);
	if (h->name == NULL)
		return ACTOR_ENOMEM;
	memcpy(h->name, name, len + 1);
	h->len = len;
	actor__handler_set(h, fn, arg, arg_free);
	self->nhandlers++;
	return 0;
}

int actor_send(actor_t *self, actor_pid to, const char *name, const void *data, size_t len)
{
	const actor_pid *from = self != NULL ? &self->pid : &actor_pid_none;
	struct actor__counters *c;
	struct actor__mail *m;
	struct actor *a;
	size_t name_len;

	if (name == NULL || (data == NULL && len > 0))
		return ACTOR_EINVAL;
	if (!actor_runtime_running())
		return ACTOR_ECLOSED;
	name_len = strlen(name);
	c = actor__counters();
	if (!actor__pid_is_local(&to)) {
		const struct actor_transport_ops *t = actor__transport;
		if (t == NULL) {
			/* Nothing could ever carry it: say so rather than drop it silently. */
			actor_warn("cannot send %s to %s: it is in another OS process and this "
				   "runtime has no transport (actor_config.listen is false)",
				   name, actor_pid_str(to));
			actor__count(c, &c->dropped, 1);
			return ACTOR_ENOTRANSPORT;
		}
		int rc = t->send(from, &to, name, name_len, data, len);
		if (rc == 0)
			actor__count(c, &c->sent, 1);
		return rc;
	}
	actor__count(c, &c->sent, 1);
	a = actor__acquire(&to);
	if (a == NULL) {
		actor_debug("dropped message %s to %s: no such actor", name, actor_pid_str(to));
		actor__count(c, &c->dropped, 1);
		return 0;
	}
	m = actor__mail_alloc(from, &to, name, name_len, data, len);
	if (m == NULL) {
		actor__release(a);
		return ACTOR_ENOMEM;
	}
	actor__post(a, &m->node);
	actor__release(a);
	return 0;
}

int actor_call(actor_pid to, actor_fn fn, void *arg)
{
	if (fn == NULL)
		return ACTOR_EINVAL;
	if (!actor__pid_is_local(&to))
		return ACTOR_EINVAL; /* code cannot travel; fn never runs */
	actor__count(actor__counters(), &actor__counters()->sent, 1);
	actor__call_pid(&to, fn, arg);
	return 0;
}

uint64_t actor_delay(actor_t *self, int64_t ms, actor_fn fn, void *arg)
{
	if (self == NULL || fn == NULL)
		return 0;
	if (ms < 0)
		ms = 0;
	return actor__timer_add(self, actor_clock_now() + ms, fn, arg);
}

bool actor_cancel(actor_t *self, uint64_t timer)
{
	if (self == NULL || timer == 0)
		return false;
	return actor__timer_cancel(self, timer);
}

static struct actor__handler *actor__find_handler(struct actor *a, const char *name, size_t len)
{
	struct actor__handler *h;

	/* Most actors see one message kind at a time: try the last match first. */
	if (a->last_handler < a->nhandlers) {
		h = &a->handlers[a->last_handler];
		if (h->len == len && actor__bytes_equal(h->name, name, len))
			return h;
	}
	for (uint16_t i = 0; i < a->nhandlers; i++) {
		h = &a->handlers[i];
		if (h->len == len && actor__bytes_equal(h->name, name, len)) {
			a->last_handler = i;
			return h;
		}
	}
	return NULL;
}

static void actor__deliver(struct actor *a, struct actor__node *n, struct actor__counters *c)
{
	switch (n->kind) {
	case ACTOR__MAIL: {
		struct actor__mail *m = (struct actor__mail *)n;
		struct actor__handler *h;
		actor_msg msg;
		actor__mail_msg(m, &a->pid, &msg);
		if (actor__filter_drops(&msg)) {
			actor__count(c, &c->dropped, 1);
		} else if ((h = actor__find_handler(a, msg.name, n->aux)) != NULL) {
			actor__count(c, &c->received, 1);
			h->fn(a, &msg, h->arg);
		} else if (a->def->unhandled != NULL) {
			actor__count(c, &c->received, 1);
			a->def->unhandled(a, &msg);
		} else {
			actor_debug("dropped message %s to %s: no handler", msg.name,
				    actor_pid_str(a->pid));
			actor__count(c, &c->dropped, 1);
		}
		actor__mail_free(m);
		break;
	}
	case ACTOR__CALL: {
		struct actor__call *k = (struct actor__call *)n;
		actor__count(c, &c->received, 1);
		k->fn(a, k->arg);
		free(k);
		break;
	}
	case ACTOR__CALL_OWNED: {
		struct actor__call *k = (struct actor__call *)n;
		actor__count(c, &c->received, 1);
		k->fn(a, k->arg);
		break;
	}
	default:
		actor__link_event(a, n);
		break;
	}
}

enum actor__turn actor__run(struct actor *a, int batch)
{
	struct actor__counters *c = actor__counters();
	struct actor__node *n;
	uint64_t depth;
	int done = 0;

	actor__tls_current = a;
	depth = atomic_load_explicit(&a->mb_pushed, memory_order_relaxed) - a->mb_popped;
	if (depth > atomic_load_explicit(&c->high_water, memory_order_relaxed) && depth < (1ull << 62))
		atomic_store_explicit(&c->high_water, depth, memory_order_relaxed);
	for (;;) {
		if (atomic_load_explicit(&a->flags, memory_order_relaxed) & ACTOR__F_TERMINATE) {
			actor__end(a, true);
			actor__tls_current = NULL;
			actor__flush_remote();
			return ACTOR__TURN_DEAD;
		}
		if (done == batch)
			break;
		n = actor__mailbox_pop(a);
		if (n == NULL)
			break;
		actor__deliver(a, n, c);
		done++;
	}
	actor__tls_current = NULL;
	actor__flush_remote();
	if (done == batch)
		return ACTOR__TURN_AGAIN; /* to the back of the run queue */
	/* After a successful mark another worker may own a: do not touch it again. */
	return actor__mailbox_mark_idle(a) ? ACTOR__TURN_IDLE : ACTOR__TURN_AGAIN;
}
