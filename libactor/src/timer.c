/* timer.c — timers, on one libev loop thread. The only file that touches libev.
 *
 * A new timer is pushed onto a lock-free incoming queue and the loop thread is woken
 * with ev_async_send when the queue was empty; other threads never touch libev
 * otherwise. The async callback drains the whole queue (wake-ups coalesce, so one
 * callback must serve them all) into a binary heap ordered by (deadline on the
 * runtime clock, id) and arms the loop's single ev_timer for the earliest deadline.
 * The heap is guarded by a mutex, and whoever takes it drains the queue first, so
 * cancel, actor_clock_advance and settle always see every timer. While the clock is
 * paused nothing is armed: timers fire when actor_clock_advance() moves the clock,
 * from the advancing thread. Firing is serialized so that the timers of one actor
 * are posted to it in deadline order. */
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
	struct actor__timer *qnext; /* incoming queue */
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
	_Atomic uint64_t next_id;
	struct actor__timer *_Atomic incoming; /* newest first */
	struct ev_loop *loop;
	ev_async async;
	ev_timer tick;
	pthread_t thread;
	_Atomic int stop;
	bool started;
} tm = {.lock = PTHREAD_MUTEX_INITIALIZER, .fire_lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local bool actor__tls_on_loop;

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

/* Runs a timer that will not fire. */
static void actor__timer_drop(struct actor__timer *t)
{
	if (t->fn != NULL)
		t->fn(NULL, t->arg);
	else
		t->ffn(t->arg, false);
	free(t);
}

/* Moves the incoming queue into the heap, oldest first. Caller holds tm.lock. Timers
 * that cannot be stored (out of memory) are returned, to be dropped after unlocking. */
static struct actor__timer *actor__timers_drain(bool *inserted)
{
	struct actor__timer *t = atomic_exchange_explicit(&tm.incoming, NULL, memory_order_acquire);
	struct actor__timer *fifo = NULL, *lost = NULL, *next;

	for (; t != NULL; t = next) {
		next = t->qnext;
		t->qnext = fifo;
		fifo = t;
	}
	for (t = fifo; t != NULL; t = next) {
		next = t->qnext;
		if (tm.n == tm.cap) {
			size_t cap = tm.cap ? tm.cap * 2 : 64;
			struct actor__timer **h = realloc(tm.heap, cap * sizeof(*h));
			if (h == NULL) {
				t->qnext = lost;
				lost = t;
				continue;
			}
			tm.heap = h;
			tm.cap = cap;
		}
		tm.heap[tm.n++] = t;
		actor__heap_up(tm.n - 1);
		*inserted = true;
		if (t->owner != NULL) {
			t->oprev = NULL;
			t->onext = t->owner->timers;
			if (t->onext != NULL)
				t->onext->oprev = t;
			t->owner->timers = t;
		}
	}
	return lost;
}

static void actor__timers_lock(void)
{
	struct actor__timer *lost;
	bool inserted = false;

	pthread_mutex_lock(&tm.lock);
	lost = actor__timers_drain(&inserted);
	/* Drained by some other thread: the loop must re-arm for a possibly earlier one
	 * (the loop thread re-arms by itself after every callback). */
	if (inserted && !actor__tls_on_loop)
		actor__timers_kick();
	if (lost != NULL) {
		pthread_mutex_unlock(&tm.lock);
		actor_error("out of memory: timers run as cancelled");
		while (lost != NULL) {
			struct actor__timer *next = lost->qnext;
			actor__timer_drop(lost);
			lost = next;
		}
		pthread_mutex_lock(&tm.lock);
	}
}

static uint64_t actor__timer_insert(struct actor__timer *t)
{
	struct actor__timer *head = atomic_load_explicit(&tm.incoming, memory_order_relaxed);
	uint64_t id = atomic_fetch_add_explicit(&tm.next_id, 1, memory_order_relaxed) + 1;

	t->id = id;
	do
		t->qnext = head;
	while (!atomic_compare_exchange_weak_explicit(&tm.incoming, &head, t, memory_order_release,
						      memory_order_relaxed));
	/* t may be fired and freed from here on: only id is used. */
	if (head == NULL)
		actor__timers_kick();
	return id;
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

bool actor__timer_cancel(struct actor *owner, uint64_t id)
{
	struct actor__timer *t = NULL;

	actor__timers_lock();
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

	actor__timers_lock();
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
	actor__timers_lock();
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

	actor__timers_lock();
	due = tm.n > 0 && tm.heap[0]->deadline <= actor_clock_now();
	pthread_mutex_unlock(&tm.lock);
	return due;
}

static void actor__timers_rearm(struct ev_loop *loop)
{
	int64_t wait = -1;

	actor__timers_lock();
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
	actor__tls_on_loop = true;
	ev_run(tm.loop, 0);
	return NULL;
}

int actor__timers_start(void)
{
	tm.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (tm.loop == NULL)
		return ACTOR_ENOMEM;
	atomic_store(&tm.stop, 0);
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
		actor__timers_lock();
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
