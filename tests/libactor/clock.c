/* The clock and timers: delay, cancel, the paused clock, advance, settle, resume. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

struct timers {
	struct latch fired;
	int order[16];
	int n;
	int with_null;
	int64_t fired_at[16];
	uint64_t ids[16];
	bool cancel_result;
	actor_t *self;
};

struct tick {
	struct timers *t;
	int tag;
};

static struct tick ticks[16];

static void on_tick(actor_t *self, void *arg)
{
	struct tick *k = arg;
	struct timers *t = k->t;

	if (self == NULL) {
		t->with_null++;
		latch_add(&t->fired, 1);
		return;
	}
	cr_assert_eq(actor_current(), self);
	if (t->n < 16) {
		t->order[t->n] = k->tag;
		t->fired_at[t->n] = actor_clock_now();
	}
	t->n++;
	latch_add(&t->fired, 1);
}

/* Arms three timers (30, 10, 20 ms) and one at 50 that is cancelled at once. */
static void arm(actor_t *self, void *arg)
{
	struct timers *t = arg;
	static const int64_t ms[] = {30, 10, 20, 50};

	t->self = self;
	for (int i = 0; i < 4; i++) {
		ticks[i].t = t;
		ticks[i].tag = (int)ms[i];
		t->ids[i] = actor_delay(self, ms[i], on_tick, &ticks[i]);
		cr_assert_neq(t->ids[i], 0);
	}
	t->cancel_result = actor_cancel(self, t->ids[3]);
	latch_add(&t->fired, 100);
}

static const actor_def plain = {.name = "timed"};

Test(clock, delays_fire_in_order_only_when_advanced)
{
	struct timers t = {0};
	actor_pid pid;

	latch_init(&t.fired);
	rt_start(2);
	actor_clock_pause();
	cr_assert(actor_clock_paused());
	int64_t start = actor_clock_now();
	cr_assert_eq(actor_spawn(&plain, NULL, &pid), 0);
	actor_call(pid, arm, &t);
	cr_assert(latch_wait(&t.fired, 100, 5000));
	cr_assert(t.cancel_result);
	cr_assert(latch_wait(&t.fired, 101, 5000), "cancelled fn did not run");
	cr_assert_eq(t.with_null, 1);

	actor_clock_settle();
	cr_assert_eq(t.n, 0, "a timer fired on a paused clock");
	actor_clock_advance(15);
	actor_clock_settle();
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.order[0], 10);
	actor_clock_advance(100);
	actor_clock_settle();
	cr_assert_eq(t.n, 3);
	cr_assert_eq(t.order[1], 20);
	cr_assert_eq(t.order[2], 30);
	cr_assert_eq(t.with_null, 1);
	cr_assert_eq(actor_clock_now(), start + 115);
	actor_runtime_fini();
}

static void cancel_fired(actor_t *self, void *arg)
{
	struct timers *t = arg;
	t->cancel_result = actor_cancel(self, t->ids[1]);
	latch_add(&t->fired, 1000);
}

Test(clock, cancel_after_fire_is_false_and_ended_actor_timers_run_with_null)
{
	struct timers t = {0};
	actor_pid pid;

	latch_init(&t.fired);
	rt_start(2);
	actor_clock_pause();
	cr_assert_eq(actor_spawn(&plain, NULL, &pid), 0);
	actor_call(pid, arm, &t);
	cr_assert(latch_wait(&t.fired, 101, 5000));
	actor_clock_advance(10);
	actor_clock_settle();
	cr_assert_eq(t.n, 1);
	actor_call(pid, cancel_fired, &t);
	cr_assert(latch_wait(&t.fired, 1101, 5000));
	cr_assert(!t.cancel_result, "cancel of a fired timer returned true");
	/* The 20 and 30 ms timers are pending; ending the actor runs them with NULL. */
	actor_terminate(pid);
	cr_assert_eq(actor_wait(pid, 5000), 0);
	cr_assert_eq(t.with_null, 3);
	actor_clock_advance(1000);
	actor_clock_settle();
	cr_assert_eq(t.n, 1);
	actor_runtime_fini();
}

/* ---- settle waits for chains of messages ---- */

struct relay {
	actor_pid next;
	_Atomic int *hits;
};

static void relay_msg(actor_t *self, const actor_msg *m, void *arg)
{
	struct relay *r = actor_state(self);
	int left;

	memcpy(&left, m->data, sizeof(left));
	atomic_fetch_add(r->hits, 1);
	if (left > 0) {
		left--;
		actor_send(self, r->next, "r", &left, sizeof(left));
	}
}

static int relay_init(actor_t *self)
{
	return actor_install(self, "r", relay_msg, NULL);
}

Test(clock, settle_returns_after_all_messages_are_handled)
{
	static const actor_def d = {.name = "relay", .init = relay_init};
	struct relay r[2];
	actor_pid p[2];
	_Atomic int hits = 0;
	int left = 20000;

	rt_start(2);
	r[0].hits = r[1].hits = &hits;
	cr_assert_eq(actor_spawn(&d, &r[0], &p[0]), 0);
	cr_assert_eq(actor_spawn(&d, &r[1], &p[1]), 0);
	r[0].next = p[1];
	r[1].next = p[0];
	actor_send(NULL, p[0], "r", &left, sizeof(left));
	actor_clock_settle();
	cr_assert_eq(atomic_load(&hits), 20001);
	actor_runtime_fini();
}

/* A timer that sends a message: advance + settle sees the message handled. */
static void tick_send(actor_t *self, void *arg)
{
	int zero = 0;
	if (self != NULL)
		actor_send(self, *(actor_pid *)arg, "r", &zero, sizeof(zero));
}

static void arm_send(actor_t *self, void *arg)
{
	actor_delay(self, 60000, tick_send, arg);
}

Test(clock, a_minute_passes_instantly)
{
	static const actor_def d = {.name = "relay", .init = relay_init};
	struct relay r = {0};
	actor_pid p;
	_Atomic int hits = 0;

	rt_start(2);
	actor_clock_pause();
	r.hits = &hits;
	cr_assert_eq(actor_spawn(&d, &r, &p), 0);
	r.next = p;
	actor_call(p, arm_send, &p);
	actor_clock_settle();
	actor_clock_advance(59999);
	actor_clock_settle();
	cr_assert_eq(atomic_load(&hits), 0);
	actor_clock_advance(1);
	actor_clock_settle();
	cr_assert_eq(atomic_load(&hits), 1);
	actor_runtime_fini();
}

static void arm_short(actor_t *self, void *arg)
{
	struct timers *t = arg;
	ticks[0].t = t;
	ticks[0].tag = 1;
	actor_delay(self, 5, on_tick, &ticks[0]);
}

Test(clock, real_clock_fires_and_resume_continues)
{
	struct timers t = {0};
	actor_pid pid;

	latch_init(&t.fired);
	rt_start(1);
	actor_clock_pause();
	int64_t frozen = actor_clock_now();
	actor_clock_advance(1000);
	actor_clock_resume();
	cr_assert(!actor_clock_paused());
	cr_assert_geq(actor_clock_now(), frozen + 1000);
	cr_assert_eq(actor_spawn(&plain, NULL, &pid), 0);
	actor_call(pid, arm_short, &t);
	cr_assert(latch_wait(&t.fired, 1, 5000), "a 5 ms timer did not fire on the real clock");
	cr_assert_eq(t.n, 1);
	actor_runtime_fini();
}

Test(clock, pending_timers_run_at_fini)
{
	struct timers t = {0};
	actor_pid pid;

	latch_init(&t.fired);
	rt_start(1);
	actor_clock_pause();
	cr_assert_eq(actor_spawn(&plain, NULL, &pid), 0);
	actor_call(pid, arm, &t);
	cr_assert(latch_wait(&t.fired, 101, 5000));
	actor_runtime_fini();
	cr_assert_eq(t.with_null, 4);
	cr_assert_eq(t.n, 0);
}

static struct timers fini_timers;

static void fini_sets_timer(actor_t *self)
{
	ticks[5].t = &fini_timers;
	ticks[5].tag = 5;
	cr_assert_neq(actor_delay(self, 10, on_tick, &ticks[5]), 0);
}

Test(clock, timer_set_in_fini_runs_with_null)
{
	static const actor_def d = {.name = "finitimer", .fini = fini_sets_timer};
	actor_pid pid;

	memset(&fini_timers, 0, sizeof(fini_timers));
	latch_init(&fini_timers.fired);
	rt_start(1);
	actor_clock_pause();
	cr_assert_eq(actor_spawn(&d, NULL, &pid), 0);
	actor_terminate(pid);
	cr_assert_eq(actor_wait(pid, 5000), 0);
	cr_assert_eq(fini_timers.with_null, 1);
	actor_clock_advance(100);
	actor_clock_settle();
	cr_assert_eq(fini_timers.n, 0);
	actor_runtime_fini();
}

static void arm_long_then_short(actor_t *self, void *arg)
{
	struct timers *t = arg;
	ticks[6].t = t;
	ticks[6].tag = 60000;
	ticks[7].t = t;
	ticks[7].tag = 5;
	actor_delay(self, 60000, on_tick, &ticks[6]);
	actor_delay(self, 5, on_tick, &ticks[7]);
}

Test(clock, a_sooner_timer_rearms_the_real_clock)
{
	struct timers t = {0};
	actor_pid pid;

	latch_init(&t.fired);
	rt_start(1);
	cr_assert_eq(actor_spawn(&plain, NULL, &pid), 0);
	actor_call(pid, arm_long_then_short, &t);
	cr_assert(latch_wait(&t.fired, 1, 3000), "the 5 ms timer waited behind the 60 s one");
	cr_assert_eq(t.order[0], 5);
	actor_runtime_fini();
	cr_assert_eq(t.with_null, 1); /* the 60 s timer, at fini */
}
