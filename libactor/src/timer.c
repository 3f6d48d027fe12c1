/* timer.c — timers, on one libev loop thread. The only file that touches libev.
 *
 * Timers are kept in one binary heap ordered by (deadline on the runtime clock, id),
 * guarded by a mutex because actors add and cancel them from any worker. The loop
 * thread has a single ev_timer armed for the earliest deadline while the clock runs;
 * other threads never touch libev except ev_async_send, whose callback re-reads the
 * whole state (wake-ups coalesce, so one callback must serve them all). While the
 * clock is paused nothing is armed: timers fire when actor_clock_advance() moves the
 * clock, from the advancing thread. Firing is serialized so that the timers of one
 * actor are posted to it in deadline order. */
#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct actor__timer {
	uint64_t id;
	int64_t deadline;
	size_t heap_idx;
	struct actor *owner; /* NULL: a free timer (ffn) */
	struct actor__timer *onext, *oprev;
	actor_fn fn;
	actor__timer_fn ffn;
	void *arg;
	actor_pid owner_pid;
};

static struct {
	pthread_mutex_t lock;
	pthread_mutex_t fire_lock;
	struct actor__timer **heap;
	size_t n, cap;
	uint64_t next_id;
	struct ev_loop *loop;
	ev_async async;
	ev_timer tick;
	pthread_t thread;
	_Atomic int stop;
	bool started;
} tm = {.lock = PTHREAD_MUTEX_INITIALIZER, .fire_lock = PTHREAD_MUTEX_INITIALIZER};

static bool actor__timer_before(const struct actor__timer *a, const struct actor__timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void actor__heap_set(size_t i, struct actor__timer *t)
{
	tm.heap[i] = t;
	t->heap_idx = i;
}

static void actor__heap_up(size_t i)
{
	struct actor__timer *t = tm.heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!actor__timer_before(t, tm.heap[p]))
			break;
		actor__heap_set(i, tm.heap[p]);
		i = p;
	}
	actor__heap_set(i, t);
}

static void actor__heap_down(size_t i)
{
	struct actor__timer *t = tm.heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct actor__timer *best = t;
		if (l < tm.n && actor__timer_before(tm.heap[l], best)) {
			m = l;
			best = tm.heap[l];
		}
		if (l + 1 < tm.n && actor__timer_before(tm.heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		actor__heap_set(i, tm.heap[m]);
		i = m;
	}
	actor__heap_set(i, t);
}

/* Caller holds tm.lock. */
static void actor__heap_remove(struct actor__timer *t)
{
	size_t i = t->heap_idx;

	tm.n--;
	if (i != tm.n) {
		struct actor__timer *moved = tm.heap[tm.n];
		actor__heap_set(i, moved);
		actor__heap_down(i);
		actor__heap_up(moved->heap_idx);
	}
}

/* Caller holds tm.lock. */
static void actor__owner_unlink(struct actor__timer *t)
{
	if (t->owner == NULL)
		return;
	if (t->oprev != NULL)
		t->oprev->onext = t->onext;
	else
		t->owner->timers = t->onext;
	if (t->onext != NULL)
		t->onext->oprev = t->oprev;
	t->owner = NULL;
}

void actor__timers_kick(void)
{
	if (tm.started)
		ev_async_send(tm.loop, &tm.async);
}

static uint64_t actor__timer_insert(struct actor__timer *t)
{
	bool earliest;

	pthread_mutex_lock(&tm.lock);
	if (tm.n == tm.cap) {
		size_t cap = tm.cap ? tm.cap * 2 : 64;
		struct actor__timer **h = realloc(tm.heap, cap * sizeof(*h));
		if (h == NULL) {
			pthread_mutex_unlock(&tm.lock);
			return 0;
		}
		tm.heap = h;
		tm.cap = cap;
	}
	t->id = ++tm.next_id;
	tm.heap[tm.n++] = t;
	actor__heap_up(tm.n - 1);
	if (t->owner != NULL) {
		t->oprev = NULL;
		t->onext = t->owner->timers;
		if (t->onext != NULL)
			t->onext->oprev = t;
		t->owner->timers = t;
	}
	earliest = tm.heap[0] == t;
	pthread_mutex_unlock(&tm.lock);
	if (earliest && !actor_clock_paused())
		actor__timers_kick();
	return t->id;
}

uint64_t actor__timer_add(struct actor *owner, int64_t deadline, actor_fn fn, void *arg)
{
	struct actor__timer *t = calloc(1, sizeof(*t));
	uint64_t id;

	if (t == NULL)
		return 0;
	t->deadline = deadline;
	t->owner = owner;
	t->owner_pid = owner->pid;
	t->fn = fn;
	t->arg = arg;
	id = actor__timer_insert(t);
	if (id == 0)
		free(t);
	return id;
}

uint64_t actor__timer_add_free(int64_t deadline, actor__timer_fn fn, void *arg)
{
	struct actor__timer *t = calloc(1, sizeof(*t));
	uint64_t id;

	if (t == NULL)
		return 0;
	t->deadline = deadline;
	t->ffn = fn;
	t->arg = arg;
	id = actor__timer_insert(t);
	if (id == 0)
		free(t);
	return id;
}

/* Runs a timer that will not fire. */
static void actor__timer_drop(struct actor__timer *t)
{
	if (t->fn != NULL)
		t->fn(NULL, t->arg);
	else
		t->ffn(t->arg, false);
	free(t);
}

bool actor__timer_cancel(struct actor *owner, uint64_t id)
{
	struct actor__timer *t = NULL;

	pthread_mutex_lock(&tm.lock);
	if (owner != NULL) {
		for (t = owner->timers; t != NULL && t->id != id; t = t->onext)
			;
	} else {
		for (size_t i = 0; i < tm.n; i++) {
			if (tm.heap[i]->id == id && tm.heap[i]->owner == NULL && tm.heap[i]->ffn) {
				t = tm.heap[i];
				break;
			}
		}
	}
	if (t != NULL) {
		actor__heap_remove(t);
		actor__owner_unlink(t);
	}
	pthread_mutex_unlock(&tm.lock);
	if (t == NULL)
		return false;
	actor__timer_drop(t);
	return true;
}

void actor__timers_cancel_owner(struct actor *owner)
{
	struct actor__timer *list = NULL, *t;

	pthread_mutex_lock(&tm.lock);
	while ((t = owner->timers) != NULL) {
		actor__heap_remove(t);
		actor__owner_unlink(t);
		t->onext = list;
		list = t;
	}
	pthread_mutex_unlock(&tm.lock);
	/* Oldest first, as they were set. */
	struct actor__timer *rev = NULL;
	while (list != NULL) {
		t = list->onext;
		list->onext = rev;
		rev = list;
		list = t;
	}
	while (rev != NULL) {
		t = rev->onext;
		actor__timer_drop(rev);
		rev = t;
	}
}

void actor__timers_fire_due(void)
{
	struct actor__timer *head = NULL, **tail = &head, *t;
	int64_t now;

	pthread_mutex_lock(&tm.fire_lock);
	pthread_mutex_lock(&tm.lock);
	now = actor_clock_now();
	while (tm.n > 0 && tm.heap[0]->deadline <= now) {
		t = tm.heap[0];
		actor__heap_remove(t);
		actor__owner_unlink(t);
		t->onext = NULL;
		*tail = t;
		tail = &t->onext;
	}
	pthread_mutex_unlock(&tm.lock);
	while (head != NULL) {
		t = head;
		head = t->onext;
		if (t->fn != NULL)
			actor__call_pid(&t->owner_pid, t->fn, t->arg);
		else
			t->ffn(t->arg, true);
		free(t);
	}
	pthread_mutex_unlock(&tm.fire_lock);
}

bool actor__timers_due(void)
{
	bool due;

	pthread_mutex_lock(&tm.lock);
	due = tm.n > 0 && tm.heap[0]->deadline <= actor_clock_now();
	pthread_mutex_unlock(&tm.lock);
	return due;
}

static void actor__timers_rearm(struct ev_loop *loop)
{
	int64_t wait = -1;

	pthread_mutex_lock(&tm.lock);
	if (tm.n > 0 && !actor_clock_paused()) {
		wait = tm.heap[0]->deadline - actor_clock_now();
		if (wait < 0)
			wait = 0;
	}
	pthread_mutex_unlock(&tm.lock);
	ev_timer_stop(loop, &tm.tick);
	if (wait >= 0) {
		ev_now_update(loop);
		ev_timer_set(&tm.tick, (double)wait / 1000.0, 0.0);
		ev_timer_start(loop, &tm.tick);
	}
}

static void actor__tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (!actor_clock_paused())
		actor__timers_fire_due();
	actor__timers_rearm(loop);
}

static void actor__async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	if (atomic_load(&tm.stop)) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (!actor_clock_paused())
		actor__timers_fire_due();
	actor__timers_rearm(loop);
}

static void *actor__timer_main(void *arg)
{
	ev_run(tm.loop, 0);
	return NULL;
}

int actor__timers_start(void)
{
	tm.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (tm.loop == NULL)
		return ACTOR_ENOMEM;
	atomic_store(&tm.stop, 0);
	tm.next_id = 0;
	ev_async_init(&tm.async, actor__async_cb);
	ev_async_start(tm.loop, &tm.async);
	ev_timer_init(&tm.tick, actor__tick_cb, 0.0, 0.0);
	if (pthread_create(&tm.thread, NULL, actor__timer_main, NULL) != 0) {
		ev_loop_destroy(tm.loop);
		tm.loop = NULL;
		return ACTOR_ENOMEM;
	}
	tm.started = true;
	return 0;
}

void actor__timers_stop(void)
{
	struct actor__timer *t;

	if (tm.started) {
		atomic_store(&tm.stop, 1);
		ev_async_send(tm.loop, &tm.async);
		pthread_join(tm.thread, NULL);
		tm.started = false;
		ev_loop_destroy(tm.loop);
		tm.loop = NULL;
	}
	/* Timers nobody will fire now: each callback still runs once. */
	for (;;) {
		pthread_mutex_lock(&tm.lock);
		t = tm.n > 0 ? tm.heap[0] : NULL;
		if (t != NULL) {
			actor__heap_remove(t);
			actor__owner_unlink(t);
		}
		pthread_mutex_unlock(&tm.lock);
		if (t == NULL)
			break;
		actor__timer_drop(t);
	}
	free(tm.heap);
	tm.heap = NULL;
	tm.n = tm.cap = 0;
}
