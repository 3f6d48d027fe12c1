/* sched.c — the worker pool.
 *
 * Each worker has a LIFO "next" slot and a FIFO run queue; there is one injection
 * queue for threads that are not workers. An actor made runnable by an actor running
 * on a worker goes into that worker's next slot, so a request and its reply run back
 * to back on one thread with no wake-up (a futex wake costs ~10 µs here, a whole
 * local round trip far less). The next slot is used at most ACTOR__NEXT_STREAK times
 * in a row, so a ping-pong pair cannot starve the run queue.
 *
 * A worker with nothing to do steals half of another worker's queue, spins for a
 * while and then sleeps on a futex. Whoever queues work that the current thread will
 * not run itself wakes one sleeper, but only when nobody is spinning: a spinning
 * worker finds the work on its own. Sleepers read wake_seq before their last look at
 * the queues, so a wake that comes in between is never lost.
 *
 * The next slot is not stealable in the ordinary way, so a long handler could hold up
 * the actor it just woke while a core idles. A spinner about to sleep, and a sleeper
 * every ACTOR__NAP_NS, therefore takes the next slot of a worker whose turn count has
 * not moved meanwhile (an atomic exchange, as the owner takes it).
 *
 * Between turns each worker announces the epoch it has seen (see registry.c). */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define ACTOR__NEXT_STREAK 32
#define ACTOR__SPIN_NS 50000
#define ACTOR__NAP_NS (10 * 1000 * 1000) /* a sleeper looks for stuck workers this often */
#define ACTOR__GLOBAL_EVERY 61
#define ACTOR__STEAL_NEXT_MAX 64 /* workers whose next slot can be taken when stuck */

struct actor__queue {
	atomic_flag lock;
	struct actor *head, *tail;
	_Atomic size_t len;
};

struct actor__worker {
	struct actor__counters c; /* first: written on every message by this worker only */
	struct actor__queue q;
	struct actor *_Atomic next; /* taken by the owner, or by a thief if the owner is stuck */
	_Atomic uint64_t turns;     /* turns begun; a thief sees a long turn by its not moving */
	_Atomic uint64_t epoch;     /* last epoch seen between turns; UINT64_MAX asleep */
	int streak;
	unsigned ticks;
	int index;
	pthread_t thread;
} __attribute__((aligned(ACTOR__CACHELINE)));

static struct {
	struct actor__worker *workers;
	int nworkers;
	int batch;
	struct actor__queue inject __attribute__((aligned(ACTOR__CACHELINE)));
	struct actor__counters shared __attribute__((aligned(ACTOR__CACHELINE)));
	_Atomic int nspinning __attribute__((aligned(ACTOR__CACHELINE)));
	_Atomic int nsleeping;
	_Atomic uint32_t wake_seq;
	_Atomic int stop;
} sch;

_Thread_local struct actor__worker *actor__tls_worker;
_Atomic uint64_t actor__epoch = 1;

/* Between turns the worker holds no actor it did not take a reference to. */
static inline void actor__quiescent(struct actor__worker *w)
{
	uint64_t e = atomic_load_explicit(&actor__epoch, memory_order_seq_cst);

	if (atomic_load_explicit(&w->epoch, memory_order_relaxed) != e)
		atomic_store_explicit(&w->epoch, e, memory_order_seq_cst);
}

uint64_t actor__sched_min_epoch(void)
{
	uint64_t min = UINT64_MAX;

	for (int i = 0; i < sch.nworkers; i++) {
		uint64_t e = atomic_load_explicit(&sch.workers[i].epoch, memory_order_seq_cst);
		if (e < min)
			min = e;
	}
	return min;
}

static inline void actor__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void actor__qlock(struct actor__queue *q)
{
	while (atomic_flag_test_and_set_explicit(&q->lock, memory_order_acquire))
		actor__cpu_relax();
}

static void actor__qunlock(struct actor__queue *q)
{
	atomic_flag_clear_explicit(&q->lock, memory_order_release);
}

static void actor__qpush(struct actor__queue *q, struct actor *a)
{
	a->run_next = NULL;
	actor__qlock(q);
	if (q->tail != NULL)
		q->tail->run_next = a;
	else
		q->head = a;
	q->tail = a;
	atomic_store_explicit(&q->len, atomic_load_explicit(&q->len, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	actor__qunlock(q);
}

static struct actor *actor__qpop(struct actor__queue *q)
{
	struct actor *a;

	if (atomic_load_explicit(&q->len, memory_order_relaxed) == 0)
		return NULL;
	actor__qlock(q);
	a = q->head;
	if (a != NULL) {
		q->head = a->run_next;
		if (q->head == NULL)
			q->tail = NULL;
		atomic_store_explicit(&q->len,
				      atomic_load_explicit(&q->len, memory_order_relaxed) - 1,
				      memory_order_relaxed);
	}
	actor__qunlock(q);
	return a;
}

/* Moves half of victim's queue to w's; returns one actor to run now. */
static struct actor *actor__steal(struct actor__worker *w, struct actor__queue *victim)
{
	struct actor *first, *last;
	size_t n, take;

	if (atomic_load_explicit(&victim->len, memory_order_relaxed) == 0)
		return NULL;
	actor__qlock(victim);
	n = atomic_load_explicit(&victim->len, memory_order_relaxed);
	if (n == 0) {
		actor__qunlock(victim);
		return NULL;
	}
	take = (n + 1) / 2;
	first = victim->head;
	last = first;
	for (size_t i = 1; i < take; i++)
		last = last->run_next;
	victim->head = last->run_next;
	if (victim->head == NULL)
		victim->tail = NULL;
	atomic_store_explicit(&victim->len, n - take, memory_order_relaxed);
	actor__qunlock(victim);
	last->run_next = NULL;
	for (struct actor *a = first->run_next, *next; a != NULL; a = next) {
		next = a->run_next;
		actor__qpush(&w->q, a);
	}
	return first;
}

static void actor__futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ACTOR__NAP_NS};

	/* Wakes are not lost; the timeout lets a sleeper look for a stuck next slot. */
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void actor__wake_one(void)
{
	atomic_fetch_add_explicit(&sch.wake_seq, 1, memory_order_seq_cst);
	syscall(SYS_futex, (uint32_t *)&sch.wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void actor__wake_all(void)
{
	atomic_fetch_add_explicit(&sch.wake_seq, 1, memory_order_seq_cst);
	syscall(SYS_futex, (uint32_t *)&sch.wake_seq, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
}

/* Work was queued that this thread will not run at once. */
static void actor__notify(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&sch.nspinning, memory_order_seq_cst) == 0 &&
	    atomic_load_explicit(&sch.nsleeping, memory_order_seq_cst) > 0)
		actor__wake_one();
}

void actor__sched_enqueue(struct actor *a)
{
	struct actor__worker *w = actor__tls_worker;

	if (w != NULL) {
		atomic_store_explicit(&w->c.sched_in,
				      atomic_load_explicit(&w->c.sched_in, memory_order_relaxed) + 1,
				      memory_order_release);
		/* Only the owner puts into the slot, so an empty slot stays empty until then. */
		if (atomic_load_explicit(&w->next, memory_order_relaxed) == NULL) {
			atomic_store_explicit(&w->next, a, memory_order_release);
			return;
		}
		struct actor *old = atomic_exchange_explicit(&w->next, a, memory_order_acq_rel);
		if (old != NULL) {
			actor__qpush(&w->q, old);
			actor__notify();
		}
		return;
	}
	atomic_fetch_add_explicit(&sch.shared.sched_in, 1, memory_order_seq_cst);
	actor__qpush(&sch.inject, a);
	actor__notify();
}

/* A message from another OS process reaches an idle actor on one of nng's threads.
 * Waking a worker for it costs a futex wake-up (~10 µs here) and, on a busy machine, a
 * wait for a core; a remote ping-pong pays that twice per round trip. So the thread
 * that decoded the message runs the actor's turn itself, as a worker would (one batch
 * at most, then whatever is left goes to the workers). The actor still runs on one
 * thread at a time: the push that woke it made this thread its owner. */
void actor__sched_run_here(struct actor *a)
{
	if (actor__tls_worker != NULL || actor__tls_current != NULL) {
		actor__sched_enqueue(a);
		return;
	}
	atomic_fetch_add_explicit(&sch.shared.sched_in, 1, memory_order_seq_cst);
	switch (actor__run(a, sch.batch)) {
	case ACTOR__TURN_AGAIN:
		/* Still scheduled: sched_in stays counted until a worker ends the turn. */
		actor__qpush(&sch.inject, a);
		actor__notify();
		break;
	case ACTOR__TURN_IDLE:
	case ACTOR__TURN_DEAD:
		atomic_fetch_add_explicit(&sch.shared.sched_out, 1, memory_order_seq_cst);
		break;
	}
}

static bool actor__any_work(void)
{
	if (atomic_load_explicit(&sch.inject.len, memory_order_seq_cst) > 0)
		return true;
	for (int i = 0; i < sch.nworkers; i++)
		if (atomic_load_explicit(&sch.workers[i].q.len, memory_order_seq_cst) > 0)
			return true;
	return false;
}

static struct actor *actor__find_work(struct actor__worker *w)
{
	struct actor *a;

	if (++w->ticks % ACTOR__GLOBAL_EVERY == 0 && (a = actor__qpop(&sch.inject)) != NULL)
		return a;
	if (atomic_load_explicit(&w->next, memory_order_relaxed) != NULL &&
	    (a = atomic_exchange_explicit(&w->next, NULL, memory_order_acquire)) != NULL) {
		if (++w->streak <= ACTOR__NEXT_STREAK)
			return a;
		/* Too many in a row: let the run queue have a turn. */
		actor__qpush(&w->q, a);
	}
	w->streak = 0;
	if ((a = actor__qpop(&w->q)) != NULL)
		return a;
	if ((a = actor__qpop(&sch.inject)) != NULL)
		return a;
	for (int i = 1; i < sch.nworkers; i++) {
		struct actor__worker *v = &sch.workers[(w->index + i) % sch.nworkers];
		if ((a = actor__steal(w, &v->q)) != NULL)
			return a;
	}
	return NULL;
}

/* Takes the next slot of a worker whose turn count has not moved since seen[]. */
static struct actor *actor__steal_stuck_next(struct actor__worker *w, const uint64_t *seen)
{
	for (int i = 0; i < sch.nworkers && i < ACTOR__STEAL_NEXT_MAX; i++) {
		struct actor__worker *v = &sch.workers[i];
		struct actor *a;
		if (v == w || atomic_load_explicit(&v->next, memory_order_relaxed) == NULL ||
		    atomic_load_explicit(&v->turns, memory_order_relaxed) != seen[i])
			continue;
		a = atomic_exchange_explicit(&v->next, NULL, memory_order_acquire);
		if (a != NULL)
			return a;
	}
	return NULL;
}

static int64_t actor__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void actor__run_one(struct actor__worker *w, struct actor *a)
{
	uint64_t turns = atomic_load_explicit(&w->turns, memory_order_relaxed) + 1;

	atomic_store_explicit(&w->turns, turns, memory_order_relaxed);
	if ((turns & 255) == 0)
		actor__reclaim();
	switch (actor__run(a, sch.batch)) {
	case ACTOR__TURN_AGAIN:
		actor__qpush(&w->q, a);
		if (atomic_load_explicit(&w->q.len, memory_order_relaxed) > 1)
			actor__notify();
		break;
	case ACTOR__TURN_IDLE:
	case ACTOR__TURN_DEAD:
		atomic_store_explicit(&w->c.sched_out,
				      atomic_load_explicit(&w->c.sched_out, memory_order_relaxed) + 1,
				      memory_order_release);
		break;
	}
}

/* Sleeps until woken, or until another worker has been inside one turn for a whole
 * nap with an actor waiting in its next slot: that actor is returned, to run here. */
static struct actor *actor__sleep(struct actor__worker *w)
{
	uint64_t seen[ACTOR__STEAL_NEXT_MAX];
	struct actor *a = NULL;
	uint32_t seq = atomic_load_explicit(&sch.wake_seq, memory_order_seq_cst);

	atomic_fetch_add_explicit(&sch.nsleeping, 1, memory_order_seq_cst);
	if (!actor__any_work() && !atomic_load_explicit(&sch.stop, memory_order_seq_cst)) {
		/* Frees what this worker's epoch held back. Not after going offline: freeing
		 * can post (a link request answered with exited) and look actors up. */
		actor__quiescent(w);
		actor__reclaim();
		atomic_store_explicit(&w->epoch, UINT64_MAX, memory_order_seq_cst);
		for (;;) {
			for (int i = 0; i < sch.nworkers && i < ACTOR__STEAL_NEXT_MAX; i++)
				seen[i] = atomic_load_explicit(&sch.workers[i].turns,
							       memory_order_relaxed);
			actor__futex_wait(&sch.wake_seq, seq);
			if (atomic_load_explicit(&sch.wake_seq, memory_order_seq_cst) != seq ||
			    atomic_load_explicit(&sch.stop, memory_order_seq_cst) || actor__any_work())
				break;
			actor__quiescent(w);
			if ((a = actor__steal_stuck_next(w, seen)) != NULL)
				break;
			atomic_store_explicit(&w->epoch, UINT64_MAX, memory_order_seq_cst);
		}
		actor__quiescent(w);
	}
	atomic_fetch_sub_explicit(&sch.nsleeping, 1, memory_order_seq_cst);
	return a;
}

static void *actor__worker_main(void *arg)
{
	struct actor__worker *w = arg;
	struct actor *a;

	actor__tls_worker = w;
	actor__quiescent(w);
	while (!atomic_load_explicit(&sch.stop, memory_order_acquire)) {
		actor__quiescent(w);
		if ((a = actor__find_work(w)) != NULL) {
			actor__run_one(w, a);
			continue;
		}
		/* Spin a little: work often comes back within microseconds. */
		uint64_t seen[ACTOR__STEAL_NEXT_MAX];
		for (int i = 0; i < sch.nworkers && i < ACTOR__STEAL_NEXT_MAX; i++)
			seen[i] = atomic_load_explicit(&sch.workers[i].turns, memory_order_relaxed);
		atomic_fetch_add_explicit(&sch.nspinning, 1, memory_order_seq_cst);
		int64_t until = actor__now_ns() + ACTOR__SPIN_NS;
		unsigned spins = 0;
		a = NULL;
		actor__reclaim();
		while (!atomic_load_explicit(&sch.stop, memory_order_relaxed)) {
			actor__quiescent(w);
			if ((a = actor__find_work(w)) != NULL)
				break;
			for (int i = 0; i < 32; i++)
				actor__cpu_relax();
			if ((++spins & 15) == 0 && actor__now_ns() > until)
				break;
		}
		if (a == NULL)
			a = actor__steal_stuck_next(w, seen);
		if (atomic_fetch_sub_explicit(&sch.nspinning, 1, memory_order_seq_cst) == 1 &&
		    a != NULL && actor__any_work())
			actor__notify(); /* the last spinner leaves: someone else looks */
		if (a != NULL) {
			actor__run_one(w, a);
			continue;
		}
		a = actor__sleep(w);
		if (a != NULL)
			actor__run_one(w, a);
	}
	atomic_store_explicit(&w->epoch, UINT64_MAX, memory_order_seq_cst);
	actor__tls_worker = NULL;
	return NULL;
}

int actor__sched_start(int workers, int batch)
{
	sch.nworkers = workers;
	sch.batch = batch;
	atomic_store(&sch.stop, 0);
	atomic_store(&sch.nspinning, 0);
	atomic_store(&sch.nsleeping, 0);
	sch.inject.head = sch.inject.tail = NULL;
	atomic_store(&sch.inject.len, 0);
	atomic_flag_clear(&sch.inject.lock);
	struct actor__counters zero = {0};
	sch.shared = zero;
	sch.workers = aligned_alloc(ACTOR__CACHELINE,
				    sizeof(*sch.workers) * (size_t)workers);
	if (sch.workers == NULL)
		return ACTOR_ENOMEM;
	for (int i = 0; i < workers; i++) {
		struct actor__worker *w = &sch.workers[i];
		*w = (struct actor__worker){.index = i, .c.single_writer = true, .epoch = UINT64_MAX};
		atomic_flag_clear(&w->q.lock);
	}
	for (int i = 0; i < workers; i++) {
		if (pthread_create(&sch.workers[i].thread, NULL, actor__worker_main,
				   &sch.workers[i]) != 0) {
			atomic_store(&sch.stop, 1);
			actor__wake_all();
			for (int j = 0; j < i; j++)
				pthread_join(sch.workers[j].thread, NULL);
			free(sch.workers);
			sch.workers = NULL;
			return ACTOR_ENOMEM;
		}
	}
	return 0;
}

void actor__sched_stop(void)
{
	if (sch.workers == NULL)
		return;
	atomic_store(&sch.stop, 1);
	actor__wake_all();
	for (int i = 0; i < sch.nworkers; i++)
		pthread_join(sch.workers[i].thread, NULL);
	free(sch.workers);
	sch.workers = NULL;
	sch.nworkers = 0;
	actor__reclaim(); /* no worker is left to hold anything back */
}

struct actor__counters *actor__counters(void)
{
	struct actor__worker *w = actor__tls_worker;

	return w != NULL ? &w->c : &sch.shared;
}

static void actor__counters_add(struct actor__counters *out, struct actor__counters *c)
{
	out->sent += atomic_load_explicit(&c->sent, memory_order_relaxed);
	out->received += atomic_load_explicit(&c->received, memory_order_relaxed);
	out->dropped += atomic_load_explicit(&c->dropped, memory_order_relaxed);
	out->spawned += atomic_load_explicit(&c->spawned, memory_order_relaxed);
	out->ended += atomic_load_explicit(&c->ended, memory_order_relaxed);
	uint64_t hw = atomic_load_explicit(&c->high_water, memory_order_relaxed);
	if (hw > out->high_water)
		out->high_water = hw;
}

void actor__counters_sum(struct actor__counters *out)
{
	*out = (struct actor__counters){0};
	actor__counters_add(out, &sch.shared);
	for (int i = 0; i < sch.nworkers; i++)
		actor__counters_add(out, &sch.workers[i].c);
}

/* Reads every "out" before every "in": an actor counted out was counted in earlier,
 * so ins == outs means nothing was queued or running at some instant in between. */
static bool actor__quiet_once(void)
{
	uint64_t in = 0, out = 0;

	atomic_thread_fence(memory_order_seq_cst);
	out += atomic_load_explicit(&sch.shared.sched_out, memory_order_seq_cst);
	for (int i = 0; i < sch.nworkers; i++)
		out += atomic_load_explicit(&sch.workers[i].c.sched_out, memory_order_acquire);
	atomic_thread_fence(memory_order_seq_cst);
	in += atomic_load_explicit(&sch.shared.sched_in, memory_order_seq_cst);
	for (int i = 0; i < sch.nworkers; i++)
		in += atomic_load_explicit(&sch.workers[i].c.sched_in, memory_order_acquire);
	return in == out;
}

bool actor__sched_quiet(void)
{
	return actor__quiet_once() && actor__quiet_once();
}
