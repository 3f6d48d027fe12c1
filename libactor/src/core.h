/* core.h — what the files of the in-process runtime share (internal).
 *
 * Objects and their owners:
 *   struct actor        one per live actor; freed when the last reference goes
 *                       (registry.c keeps the count in the actor's slot word).
 *   struct actor__node  one queued item of a mailbox: a message, a call, a link event.
 *   struct actor__worker one per worker thread (sched.c); its counters are summed by stats.
 */
#ifndef ACTOR_CORE_H
#define ACTOR_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/libactor.h"
#include "transport.h"

#define ACTOR__CACHELINE 64

/* memcmp(a, b, len) == 0 for the short ids and names of the hot path, without a call:
 * two overlapping 8-byte loads cover 8..16 bytes. */
static inline bool actor__bytes_equal(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	uint64_t u, v, s, t;

	if (len >= 8 && len <= 16) {
		__builtin_memcpy(&u, x, 8);
		__builtin_memcpy(&v, y, 8);
		__builtin_memcpy(&s, x + len - 8, 8);
		__builtin_memcpy(&t, y + len - 8, 8);
		return ((u ^ v) | (s ^ t)) == 0;
	}
	if (len < 8) {
		for (size_t i = 0; i < len; i++)
			if (x[i] != y[i])
				return false;
		return true;
	}
	return __builtin_memcmp(x, y, len) == 0;
}

/* ---- mailbox items (mailbox.c) ---- */

enum actor__kind {
	ACTOR__MAIL,       /* a named message (struct actor__mail) */
	ACTOR__CALL,       /* run fn(self, arg); the runtime frees the node */
	ACTOR__CALL_OWNED, /* run fn(self, arg); fn owns the node (it is embedded in arg) */
	ACTOR__EXITED,     /* a linked actor ended (struct actor__pidnode) */
	ACTOR__LINK,       /* who wants exited when this actor ends */
	ACTOR__UNLINK,     /* who no longer does */
	ACTOR__NOP,        /* only wakes the actor (actor_terminate) */
};

struct actor__node {
	struct actor__node *_Atomic next;
	uint32_t kind;
	uint32_t aux; /* ACTOR__MAIL: strlen(name) */
};

/* Compact on purpose (a 64-byte header): a message often crosses cores, and every
 * cache line of it is a transfer. The receiver rebuilds the actor_msg on its stack. */
struct actor__mail {
	struct actor__node node; /* aux: strlen(name) */
	uint64_t from_hint;
	uint32_t from_ip;
	uint16_t from_port;
	uint16_t from_len;
	const uint8_t *data;
	size_t len;
	void (*release)(void *owner); /* borrowed body (remote); NULL when inline */
	void *owner;
	/* inline: the sender's id (from_len bytes), name, NUL, then the body if copied */
};

static inline const char *actor__mail_name(const struct actor__mail *m)
{
	return (const char *)(m + 1) + m->from_len;
}

/* Fills *out for the handler; to is the receiving actor's PID. */
void actor__mail_msg(const struct actor__mail *m, const actor_pid *to, actor_msg *out);

struct actor__call {
	struct actor__node node;
	actor_fn fn;
	void *arg;
};

struct actor__pidnode {
	struct actor__node node;
	actor_pid who;
};

/* Vyukov's intrusive multi-producer single-consumer queue: a push is one atomic
 * exchange; the consumer (the actor's own turn) needs no atomic read-modify-write.
 * The queue also is the actor's scheduling state: a tail of (stub | 1) means "idle".
 * The push that replaces a marked tail learns it woke the actor and schedules it;
 * the consumer goes idle with one compare-and-swap of the tail from stub to
 * (stub | 1), which fails if anything was pushed, and never touches the actor again
 * after it succeeds (another worker may own it by then). */
struct actor;
void actor__mailbox_init(struct actor *a);
/* Returns true when the push woke an idle actor: the caller must schedule it. */
bool actor__mailbox_push(struct actor *a, struct actor__node *n);
/* Consumer only. NULL when empty (or when a push is half done: it will show up). */
struct actor__node *actor__mailbox_pop(struct actor *a);
/* Consumer only: marks the queue idle if it is empty. False if something is queued
 * (or being pushed): the actor stays scheduled. */
bool actor__mailbox_mark_idle(struct actor *a);

/* One allocation holding header, name and (copied) body. NULL on out of memory. */
struct actor__mail *actor__mail_alloc(const actor_pid *from, const actor_pid *to, const char *name,
				      size_t name_len, const void *data, size_t len);
/* Same, but the body stays where it is until release(owner). */
struct actor__mail *actor__mail_alloc_borrowed(const actor_pid *from, const actor_pid *to,
					       const char *name, size_t name_len,
					       const uint8_t *data, size_t len,
					       void (*release)(void *), void *owner);
void actor__mail_free(struct actor__mail *m);
struct actor__call *actor__call_alloc(actor_fn fn, void *arg);
struct actor__node *actor__nop_alloc(void);
struct actor__pidnode *actor__pidnode_alloc(enum actor__kind kind, const actor_pid *who);
/* Disposes of an item that will never be delivered: messages are dropped (counted),
 * calls run with self == NULL, link requests answer exited. */
void actor__node_discard(const actor_pid *owner, struct actor__node *n);

/* ---- actors (actor.c) ---- */

enum {
	ACTOR__F_TERMINATE = 1u, /* asked to end; takes effect before queued items */
	ACTOR__F_ENDED = 2u,     /* fini has returned */
	ACTOR__F_DEAD = 4u,      /* ending: lookups no longer find it */
};

struct actor__handler {
	char *name;
	size_t len;
	actor_handler_fn fn;
	void *arg;
	void (*arg_free)(void *arg); /* NULL: the installer keeps arg */
};

/* actor_install, but the actor owns arg: arg_free(arg) runs when the handler is
 * replaced or the actor is freed. On error arg stays the caller's. */
int actor__install_owned(actor_t *self, const char *name, actor_handler_fn fn, void *arg,
			 void (*arg_free)(void *arg));

struct actor__timer;

/* Laid out so that what senders write (mb_tail, mb_pushed) is at least a cache line
 * away from what the actor's own turn writes (mb_head, mb_popped, last_handler): a
 * flooded actor and its senders on two cores do not fight over one line. */
struct actor {
	struct actor__node *mb_head; /* mailbox, consumer side */
	uint64_t mb_popped;
	struct actor__node mb_stub;
	_Atomic uint32_t flags;
	_Atomic uint32_t waiters; /* threads in actor_wait */
	uint32_t slot;
	struct actor *run_next; /* run queue link (sched.c) */
	const actor_def *def;
	void *state;
	struct actor__handler *handlers;
	uint16_t nhandlers, handlers_cap, last_handler;
	uint32_t nlinked, linked_cap;   /* PIDs this actor is linked to */
	uint32_t nlinkers, linkers_cap; /* PIDs linked to this actor */
	actor_pid *linked;
	actor_pid *linkers;
	struct actor__timer *timers; /* guarded by timer.c's lock */
	struct actor *reg_next;      /* registry bucket chain */
	uint64_t reg_hash;
	actor_pid pid;                    /* read-only once spawned */
	struct actor__node *_Atomic mb_tail; /* mailbox, producer side */
	_Atomic uint64_t mb_pushed;
};

extern _Thread_local struct actor *actor__tls_current;

/* Queues n for a, scheduling a if it was idle. The caller holds a reference. */
void actor__post(struct actor *a, struct actor__node *n);
/* The same for a thread that is no worker (the transport's): if a was idle, it runs
 * one turn right here, at once or when the batch of deliveries ends
 * (actor__deliver_remote_begin/_done in transport.h; see actor__sched_run_here). The
 * caller holds a reference. */
void actor__post_here(struct actor *a, struct actor__node *n);
/* Queues n for the local actor pid; if there is none, discards n (see node_discard). */
void actor__post_pid(const actor_pid *pid, struct actor__node *n);
/* Runs fn inside pid's actor, or fn(NULL, arg) at once if it does not exist. */
void actor__call_pid(const actor_pid *pid, actor_fn fn, void *arg);
/* One turn: handles up to batch items. Returns what the scheduler does next. */
enum actor__turn { ACTOR__TURN_IDLE, ACTOR__TURN_AGAIN, ACTOR__TURN_DEAD };
enum actor__turn actor__run(struct actor *a, int batch);
/* Called by registry.c when the last reference goes. */
void actor__destroy(struct actor *a);
bool actor__pid_is_local(const actor_pid *pid);
void actor__wake_waiters(void);

/* ---- links (link.c) ---- */

/* Inside a: the item kinds EXITED, LINK, UNLINK. */
void actor__link_event(struct actor *a, struct actor__node *n);
/* a is ending: every linker gets exited; a's own links are dropped. */
void actor__links_end(struct actor *a);
/* Tells who (local or remote) that `ended` is gone. */
void actor__send_exited(const actor_pid *ended, const actor_pid *who);
void actor__links_fini(void);

/* ---- registry (registry.c) ---- */

int actor__registry_init(void);
void actor__registry_fini(void);
/* Gives a a slot (one reference, held by the registry) and a unique id from base. */
int actor__registry_add(struct actor *a, const char *base);
/* Removes a's name: lookups by id no longer find it. */
void actor__registry_remove(struct actor *a);
/* The local actor pid names, with a new reference; NULL if none (or ended). */
struct actor *actor__lookup(const actor_pid *pid);
/* The same for a short use: on a worker thread no reference is taken (the actor's
 * memory outlives the worker's current turn, see registry.c); elsewhere it is one.
 * Pair with actor__release on the same thread, before the turn ends. */
struct actor *actor__acquire(const actor_pid *pid);
void actor__release(struct actor *a);
/* Frees ended actors that no worker can still be looking at. */
void actor__reclaim(void);
/* Ended actors not freed yet (their mailboxes may still hold remote bodies). */
size_t actor__limbo_len(void);
void actor__ref(struct actor *a);
void actor__unref(struct actor *a);
/* Collects (with references) every registered actor; *n gets the count. */
struct actor **actor__registry_all(size_t *n);

/* ---- scheduler (sched.c) ---- */

struct actor__counters {
	_Atomic uint64_t sent, received, dropped, spawned, ended, high_water;
	_Atomic uint64_t sched_in, sched_out; /* idle -> scheduled and back, for settle */
	bool single_writer;                   /* a worker's own */
};

int actor__sched_start(int workers, int batch);
void actor__sched_stop(void);
/* a has just become runnable (a push woke it). */
void actor__sched_enqueue(struct actor *a);
/* a has just become runnable by a push from this thread: on a thread that is no
 * worker and runs no actor, runs one turn of a here and queues the rest for the
 * workers; elsewhere the same as actor__sched_enqueue. */
void actor__sched_run_here(struct actor *a);
extern _Thread_local struct actor__worker *actor__tls_worker;
/* Epochs for deferred frees: a worker announces the epoch it has seen between turns
 * (UINT64_MAX while it sleeps); actors retired before the smallest announced epoch
 * can be freed. */
extern _Atomic uint64_t actor__epoch;
uint64_t actor__sched_min_epoch(void);

/* Counters of the calling thread (a worker's own, else shared ones). */
struct actor__counters *actor__counters(void);
void actor__counters_sum(struct actor__counters *out);
/* True when every actor is idle (nothing queued or running), seen consistently. */
bool actor__sched_quiet(void);

/* Adds n to one counter of cs. A worker's own counters have one writer, so a plain
 * load and store do (a locked add would drain the store buffer on every message);
 * the shared ones take an atomic add. */
static inline void actor__count(struct actor__counters *cs, _Atomic uint64_t *c, uint64_t n)
{
	if (cs->single_writer)
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
	else
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* ---- runtime (runtime.c) ---- */

struct actor__rt {
	_Atomic int running;
	uint32_t ip;
	uint16_t port;
	int workers;
	int batch;
	size_t max_frame;
};
extern struct actor__rt actor__rt;

/* ---- timers (timer.c) and clock (clock.c) ---- */

int actor__timers_start(void);
void actor__timers_stop(void);
/* Stops the child watcher's thread (reap.c); pending watches are dropped. */
void actor__reap_stop(void);
/* A timer of actor owner (fn runs inside it) at deadline on the runtime clock. */
uint64_t actor__timer_add(struct actor *owner, int64_t deadline, actor_fn fn, void *arg);
/* A timer of nobody: fn(arg, true) on the timer thread when due, fn(arg, false) if cancelled. */
typedef void (*actor__timer_fn)(void *arg, bool fired);
uint64_t actor__timer_add_free(int64_t deadline, actor__timer_fn fn, void *arg);
bool actor__timer_cancel(struct actor *owner, uint64_t id);
/* Owner is ending: its timers run with self == NULL. */
void actor__timers_cancel_owner(struct actor *owner);
/* Fires every due timer; returns whether any timer is still due (none after it). */
void actor__timers_fire_due(void);
bool actor__timers_due(void);
/* The clock moved or paused: re-arm the timer thread. */
void actor__timers_kick(void);
void actor__clock_reset(void);
int64_t actor__real_ms(void);

/* ---- filter (filter.c) ---- */

extern _Atomic(void *) actor__filter_cur;
actor_filter_verdict actor__filter_run(const actor_msg *m);
static inline bool actor__filter_drops(const actor_msg *m)
{
	if (atomic_load_explicit(&actor__filter_cur, memory_order_acquire) == NULL)
		return false;
	return actor__filter_run(m) == ACTOR_FILTER_DROP;
}

#endif
