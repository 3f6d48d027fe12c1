/* Actors: spawn, send, ordering, drops, batching, terminate, wait, runtime fini. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* ---- a recorder: appends every "n" it receives ---- */

struct rec {
	struct latch got;
	long *seen;
	long n, cap;
	int finis;
	pthread_t thread;
};

static void rec_num(actor_t *self, const actor_msg *m, void *arg)
{
	struct rec *r = actor_state(self);
	long v;

	cr_assert_eq(m->len, sizeof(v));
	memcpy(&v, m->data, sizeof(v));
	if (r->n < r->cap)
		r->seen[r->n] = v;
	r->n++;
	latch_add(&r->got, 1);
}

static int rec_init(actor_t *self)
{
	return actor_install(self, "num", rec_num, NULL);
}

static void rec_fini(actor_t *self)
{
	struct rec *r = actor_state(self);
	r->finis++;
	latch_add(&r->got, 1000000000L);
}

static const actor_def rec_def = {.name = "rec", .init = rec_init, .fini = rec_fini};

static void rec_setup(struct rec *r, long cap)
{
	memset(r, 0, sizeof(*r));
	latch_init(&r->got);
	r->cap = cap;
	r->seen = calloc((size_t)cap, sizeof(long));
}

Test(actor, spawn_send_receive_in_order)
{
	struct rec r;
	actor_pid pid;

	rt_start(2);
	rec_setup(&r, 10000);
	cr_assert_eq(actor_spawn(&rec_def, &r, &pid), 0);
	cr_assert_str_eq(pid.id, "rec");
	cr_assert_eq(pid.ip, actor_runtime_ip());
	cr_assert_eq(pid.port, actor_runtime_port());
	for (long i = 0; i < 10000; i++)
		cr_assert_eq(actor_send(NULL, pid, "num", &i, sizeof(i)), 0);
	cr_assert(latch_wait(&r.got, 10000, 10000));
	for (long i = 0; i < 10000; i++)
		cr_assert_eq(r.seen[i], i, "message %ld arrived as %ld", i, r.seen[i]);
	actor_runtime_fini();
	cr_assert_eq(r.finis, 1);
	free(r.seen);
}

Test(actor, pid_parsed_from_text_reaches_actor)
{
	struct rec r;
	actor_pid pid, parsed;
	char text[ACTOR_PID_TEXT_MAX];
	long v = 7;

	rt_start(1);
	rec_setup(&r, 1);
	cr_assert_eq(actor_spawn(&rec_def, &r, &pid), 0);
	actor_pid_format(pid, text, sizeof(text));
	cr_assert_eq(actor_pid_parse(text, &parsed), 0);
	cr_assert_eq(parsed.hint, 0);
	cr_assert_eq(actor_send(NULL, parsed, "num", &v, sizeof(v)), 0);
	cr_assert(latch_wait(&r.got, 1, 5000));
	cr_assert_eq(r.seen[0], 7);
	actor_runtime_fini();
	free(r.seen);
}

Test(actor, names_taken_get_a_suffix)
{
	struct rec a, b;
	actor_pid pa, pb;

	rt_start(1);
	rec_setup(&a, 1);
	rec_setup(&b, 1);
	cr_assert_eq(actor_spawn(&rec_def, &a, &pa), 0);
	cr_assert_eq(actor_spawn(&rec_def, &b, &pb), 0);
	cr_assert_str_eq(pa.id, "rec");
	cr_assert(strncmp(pb.id, "rec(", 4) == 0, "second id is %s", pb.id);
	cr_assert(!actor_pid_equal(pa, pb));
	actor_runtime_fini();
	free(a.seen);
	free(b.seen);
}

Test(actor, id_is_free_again_once_wait_returns)
{
	struct rec a, b;
	actor_pid pa, pb;

	rt_start(2);
	for (int round = 0; round < 200; round++) {
		rec_setup(&a, 1);
		rec_setup(&b, 1);
		cr_assert_eq(actor_spawn(&rec_def, &a, &pa), 0);
		cr_assert_str_eq(pa.id, "rec");
		actor_terminate(pa);
		cr_assert_eq(actor_wait(pa, 10000), 0);
		/* A restart right after the wait must get the same id back, not "rec(1)". */
		cr_assert_eq(actor_spawn(&rec_def, &b, &pb), 0);
		cr_assert_str_eq(pb.id, "rec", "round %d: respawn got %s", round, pb.id);
		actor_terminate(pb);
		cr_assert_eq(actor_wait(pb, 10000), 0);
		free(a.seen);
		free(b.seen);
	}
	actor_runtime_fini();
}

/* ---- a sender actor: sends "num" 0..count-1 to a target in one handler ---- */

struct sender {
	actor_pid to;
	long count;
};

static void sender_go(actor_t *self, const actor_msg *m, void *arg)
{
	struct sender *s = actor_state(self);

	for (long i = 0; i < s->count; i++)
		actor_send(self, s->to, "num", &i, sizeof(i));
}

static int sender_init(actor_t *self)
{
	return actor_install(self, "go", sender_go, NULL);
}

static const actor_def sender_def = {.name = "sender", .init = sender_init};

Test(actor, order_per_sender_with_several_senders)
{
	enum { SENDERS = 4, EACH = 20000 };
	struct rec r;
	struct sender s[SENDERS];
	actor_pid rp, sp[SENDERS];
	long next[SENDERS] = {0};

	rt_start(2);
	rec_setup(&r, SENDERS * EACH);
	cr_assert_eq(actor_spawn(&rec_def, &r, &rp), 0);
	for (int i = 0; i < SENDERS; i++) {
		s[i].to = rp;
		s[i].count = EACH;
		cr_assert_eq(actor_spawn(&sender_def, &s[i], &sp[i]), 0);
	}
	for (int i = 0; i < SENDERS; i++)
		actor_send(NULL, sp[i], "go", NULL, 0);
	cr_assert(latch_wait(&r.got, SENDERS * EACH, 20000));
	actor_runtime_fini();
	/* Each sender sends 0..EACH-1; values from one sender must be increasing. Since all
	 * send the same values, check that the multiset is exact and each value v appears
	 * only after v-1 has appeared SENDERS times at most... simpler: count per value. */
	long *count = calloc(EACH, sizeof(long));
	for (long i = 0; i < SENDERS * EACH; i++) {
		long v = r.seen[i];
		cr_assert(v >= 0 && v < EACH);
		count[v]++;
		/* v can only arrive once per sender, after v-1 from that sender. */
		cr_assert(v == 0 || count[v - 1] >= count[v], "value %ld overtook %ld", v, v - 1);
	}
	for (long v = 0; v < EACH; v++)
		cr_assert_eq(count[v], SENDERS);
	(void)next;
	free(count);
	free(r.seen);
}

/* ---- 1,000,000 messages among 100 actors ---- */

struct ring {
	_Atomic long *received;
	actor_pid *pids;
	int n;
	struct latch *done;
};

struct hop {
	struct ring *ring;
	int index;
};

static void hop_msg(actor_t *self, const actor_msg *m, void *arg)
{
	struct hop *h = actor_state(self);
	long left;

	memcpy(&left, m->data, sizeof(left));
	atomic_fetch_add(&h->ring->received[h->index], 1);
	if (left > 0) {
		left--;
		actor_send(self, h->ring->pids[(h->index + 1 + (int)(left % 7)) % h->ring->n], "hop",
			   &left, sizeof(left));
	} else {
		latch_add(h->ring->done, 1);
	}
}

static int hop_init(actor_t *self)
{
	return actor_install(self, "hop", hop_msg, NULL);
}

static const actor_def hop_def = {.name = "hop", .init = hop_init};

Test(actor, million_messages_among_100_actors_none_lost)
{
	enum { N = 100, CHAINS = 1000, LEN = 1000 };
	struct ring ring;
	struct hop hops[N];
	struct latch done;
	actor_stats st0, st1;

	rt_start(2);
	latch_init(&done);
	ring.received = calloc(N, sizeof(*ring.received));
	ring.pids = calloc(N, sizeof(actor_pid));
	ring.n = N;
	ring.done = &done;
	for (int i = 0; i < N; i++) {
		hops[i].ring = &ring;
		hops[i].index = i;
		cr_assert_eq(actor_spawn(&hop_def, &hops[i], &ring.pids[i]), 0);
	}
	actor_runtime_stats(&st0);
	/* CHAINS chains of LEN hops each: 1,000,000 messages in all. */
	for (long c = 0; c < CHAINS; c++) {
		long left = LEN - 1;
		actor_send(NULL, ring.pids[c % N], "hop", &left, sizeof(left));
	}
	cr_assert(latch_wait(&done, CHAINS, 120000), "only %ld chains finished", latch_get(&done));
	long total = 0;
	for (int i = 0; i < N; i++)
		total += atomic_load(&ring.received[i]);
	cr_assert_eq(total, (long)CHAINS * LEN);
	actor_runtime_stats(&st1);
	cr_assert_eq(st1.messages_received - st0.messages_received, (uint64_t)CHAINS * LEN);
	cr_assert_eq(st1.messages_dropped, st0.messages_dropped);
	actor_runtime_fini();
	free(ring.received);
	free(ring.pids);
}

/* ---- batch fairness: a flooded actor does not starve another ---- */

struct flood {
	actor_pid other_pid;
	_Atomic long handled;
	_Atomic long handled_when_other_ran;
	struct latch other;
};

static void flood_msg(actor_t *self, const actor_msg *m, void *arg)
{
	struct flood *f = actor_state(self);
	/* The other actor becomes runnable only now, while this one has a long queue. */
	if (atomic_fetch_add(&f->handled, 1) == 0)
		actor_send(self, f->other_pid, "y", NULL, 0);
}

static int flood_init(actor_t *self)
{
	return actor_install(self, "x", flood_msg, NULL);
}

static const actor_def flood_def = {.name = "flooded", .init = flood_init};

static void other_msg(actor_t *self, const actor_msg *m, void *arg)
{
	struct flood *f = actor_state(self);
	atomic_store(&f->handled_when_other_ran, atomic_load(&f->handled));
	latch_add(&f->other, 1);
}

static int other_init(actor_t *self)
{
	return actor_install(self, "y", other_msg, NULL);
}

static const actor_def other_def = {.name = "other", .init = other_init};

static void flooder_go(actor_t *self, const actor_msg *m, void *arg)
{
	actor_pid *to = actor_state(self);
	/* Queue the flood from one handler: with one worker, nothing runs until it returns. */
	for (int i = 0; i < 100000; i++)
		actor_send(self, to[0], "x", NULL, 0);
}

static int flooder_init(actor_t *self)
{
	return actor_install(self, "go", flooder_go, NULL);
}

static const actor_def flooder_def = {.name = "flooder", .init = flooder_init};

Test(actor, batch_lets_other_actors_run)
{
	struct flood f = {0};
	actor_pid to[2], fl;
	actor_config cfg;

	latch_init(&f.other);
	actor_config_default(&cfg);
	cfg.workers = 1;
	cfg.batch = 16;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	cr_assert_eq(actor_spawn(&flood_def, &f, &to[0]), 0);
	cr_assert_eq(actor_spawn(&other_def, &f, &to[1]), 0);
	f.other_pid = to[1];
	cr_assert_eq(actor_spawn(&flooder_def, to, &fl), 0);
	actor_send(NULL, fl, "go", NULL, 0);
	cr_assert(latch_wait(&f.other, 1, 10000));
	long at = atomic_load(&f.handled_when_other_ran);
	cr_assert(at < 100000, "other ran only after the whole flood (%ld)", at);
	actor_clock_settle();
	cr_assert_eq(atomic_load(&f.handled), 100000);
	actor_stats st;
	actor_runtime_stats(&st);
	cr_assert_geq(st.mailbox_high_water, 1000);
	actor_runtime_fini();
}

/* ---- drops ---- */

Test(actor, unknown_pid_is_dropped_and_counted)
{
	actor_stats a, b;
	actor_pid ghost;

	rt_start(1);
	cr_assert_eq(actor_pid_make("ghost", actor_runtime_ip(), actor_runtime_port(), &ghost), 0);
	actor_runtime_stats(&a);
	cr_assert_eq(actor_send(NULL, ghost, "boo", "x", 1), 0);
	actor_runtime_stats(&b);
	cr_assert_eq(b.messages_dropped - a.messages_dropped, 1);
	cr_assert_eq(b.messages_sent - a.messages_sent, 1);
	/* Not local, no transport: refused with an error, never silently dropped. */
	cr_assert_eq(actor_pid_make("far", 0x0a000001, 9, &ghost), 0);
	cr_assert_eq(actor_send(NULL, ghost, "boo", NULL, 0), ACTOR_ENOTRANSPORT);
	actor_runtime_stats(&a);
	cr_assert_eq(a.messages_dropped - b.messages_dropped, 1);
	actor_runtime_fini();
}

struct unh {
	struct latch l;
	char name[32];
	int unhandled;
};

static void unh_unhandled(actor_t *self, const actor_msg *m)
{
	struct unh *u = actor_state(self);
	snprintf(u->name, sizeof(u->name), "%s", m->name);
	u->unhandled++;
	latch_add(&u->l, 1);
}

static void unh_mark(actor_t *self, const actor_msg *m, void *arg)
{
	struct unh *u = actor_state(self);
	latch_add(&u->l, 1);
}

static int unh_init(actor_t *self)
{
	return actor_install(self, "mark", unh_mark, NULL);
}

Test(actor, no_handler_goes_to_unhandled_or_is_dropped)
{
	static const actor_def with = {.name = "with", .init = unh_init, .unhandled = unh_unhandled};
	static const actor_def without = {.name = "without", .init = unh_init};
	struct unh u1 = {0}, u2 = {0};
	actor_pid p1, p2;
	actor_stats a, b;

	latch_init(&u1.l);
	latch_init(&u2.l);
	rt_start(1);
	cr_assert_eq(actor_spawn(&with, &u1, &p1), 0);
	cr_assert_eq(actor_spawn(&without, &u2, &p2), 0);
	actor_send(NULL, p1, "what", NULL, 0);
	cr_assert(latch_wait(&u1.l, 1, 5000));
	cr_assert_str_eq(u1.name, "what");
	actor_runtime_stats(&a);
	actor_send(NULL, p2, "what", NULL, 0);
	actor_send(NULL, p2, "mark", NULL, 0);
	cr_assert(latch_wait(&u2.l, 1, 5000));
	actor_runtime_stats(&b);
	cr_assert_eq(b.messages_dropped - a.messages_dropped, 1);
	actor_runtime_fini();
}

/* ---- terminate ---- */

struct slow {
	struct latch entered;
	struct latch release;
	int handled;
	int finis;
	int fini_saw_handled;
};

static void slow_block(actor_t *self, const actor_msg *m, void *arg)
{
	struct slow *s = actor_state(self);
	s->handled++;
	latch_add(&s->entered, 1);
	latch_wait(&s->release, 1, 10000);
}

static void slow_count(actor_t *self, const actor_msg *m, void *arg)
{
	struct slow *s = actor_state(self);
	s->handled++;
}

static int slow_init(actor_t *self)
{
	actor_install(self, "block", slow_block, NULL);
	return actor_install(self, "count", slow_count, NULL);
}

static void slow_fini(actor_t *self)
{
	struct slow *s = actor_state(self);
	cr_assert_eq(actor_current(), self);
	s->finis++;
	s->fini_saw_handled = s->handled;
}

static const actor_def slow_def = {.name = "slow", .init = slow_init, .fini = slow_fini};

struct callrec {
	struct latch l;
	int with_null;
	int with_self;
};

static void call_fn(actor_t *self, void *arg)
{
	struct callrec *c = arg;
	if (self == NULL)
		c->with_null++;
	else
		c->with_self++;
	latch_add(&c->l, 1);
}

Test(actor, terminate_drops_queued_messages_and_runs_fini_once)
{
	struct slow s = {0};
	struct callrec c = {0};
	actor_pid pid;
	actor_stats a, b;

	latch_init(&s.entered);
	latch_init(&s.release);
	latch_init(&c.l);
	rt_start(2);
	cr_assert_eq(actor_spawn(&slow_def, &s, &pid), 0);
	actor_send(NULL, pid, "block", NULL, 0);
	cr_assert(latch_wait(&s.entered, 1, 5000));
	for (int i = 0; i < 100; i++)
		actor_send(NULL, pid, "count", NULL, 0);
	cr_assert_eq(actor_call(pid, call_fn, &c), 0);
	actor_runtime_stats(&a);
	actor_terminate(pid);
	actor_terminate(pid);
	latch_add(&s.release, 1);
	cr_assert_eq(actor_wait(pid, 5000), 0);
	actor_runtime_stats(&b);
	cr_assert_eq(s.finis, 1);
	cr_assert_eq(s.fini_saw_handled, 1, "queued messages ran before the end");
	cr_assert_eq(b.messages_dropped - a.messages_dropped, 100);
	cr_assert(latch_wait(&c.l, 1, 5000));
	cr_assert_eq(c.with_null, 1);
	cr_assert_eq(c.with_self, 0);
	/* Gone now: sends are dropped, calls run with NULL, wait returns at once. */
	actor_send(NULL, pid, "count", NULL, 0);
	actor_call(pid, call_fn, &c);
	cr_assert(latch_wait(&c.l, 2, 5000));
	cr_assert_eq(c.with_null, 2);
	cr_assert_eq(actor_wait(pid, 0), 0);
	cr_assert_eq(b.actors_alive, 0);
	actor_runtime_fini();
	cr_assert_eq(s.finis, 1);
}

Test(actor, wait_times_out_while_actor_lives)
{
	struct rec r;
	actor_pid pid;

	rt_start(1);
	rec_setup(&r, 1);
	cr_assert_eq(actor_spawn(&rec_def, &r, &pid), 0);
	cr_assert_eq(actor_wait(pid, 20), ACTOR_ETIMEDOUT);
	actor_terminate(pid);
	cr_assert_eq(actor_wait(pid, -1), 0);
	cr_assert_eq(r.finis, 1);
	actor_runtime_fini();
	free(r.seen);
}

/* ---- self-termination and calls ---- */

static void selfterm_call(actor_t *self, void *arg)
{
	struct callrec *c = arg;
	cr_assert_eq(actor_current(), self);
	c->with_self++;
	actor_terminate(actor_self(self));
	latch_add(&c->l, 1);
}

static void count_fini(actor_t *self)
{
	int *n = actor_state(self);
	(*n)++;
}

Test(actor, call_runs_inside_and_actor_can_end_itself)
{
	static const actor_def d = {.name = "selfterm", .fini = count_fini};
	struct callrec c = {0};
	int finis = 0;
	actor_pid pid;

	latch_init(&c.l);
	rt_start(2);
	cr_assert_eq(actor_spawn(&d, &finis, &pid), 0);
	cr_assert_eq(actor_call(pid, selfterm_call, &c), 0);
	cr_assert_eq(actor_wait(pid, 5000), 0);
	cr_assert_eq(c.with_self, 1);
	cr_assert_eq(finis, 1);
	actor_runtime_fini();
}

static int failing_init(actor_t *self)
{
	return ACTOR_EEXIST;
}

Test(actor, failing_init_spawns_nothing)
{
	static const actor_def d = {.name = "failing", .init = failing_init, .fini = count_fini};
	int finis = 0;
	actor_pid pid = actor_pid_none;
	actor_stats st;

	rt_start(1);
	cr_assert_eq(actor_spawn(&d, &finis, &pid), ACTOR_EEXIST);
	cr_assert(actor_pid_is_none(pid));
	cr_assert_eq(finis, 0);
	actor_runtime_stats(&st);
	cr_assert_eq(st.actors_alive, 0);
	cr_assert_eq(actor_spawn(NULL, NULL, NULL), ACTOR_EINVAL);
	actor_runtime_fini();
	cr_assert_eq(actor_spawn(&d, &finis, &pid), ACTOR_ESTATE);
}

/* ---- many actors, runtime fini, restart ---- */

static _Atomic long many_finis;

static void many_fini(actor_t *self)
{
	atomic_fetch_add(&many_finis, 1);
}

static void many_stop(actor_t *self, const actor_msg *m, void *arg)
{
	actor_terminate(actor_self(self));
}

static int many_init(actor_t *self)
{
	return actor_install(self, "stop", many_stop, NULL);
}

Test(actor, hundred_thousand_actors_spawned_and_ended)
{
	static const actor_def d = {.name = "many", .init = many_init, .fini = many_fini};
	enum { N = 100000 };
	actor_pid *pids = malloc(N * sizeof(*pids));
	actor_stats st;

	atomic_store(&many_finis, 0);
	rt_start(2);
	for (int i = 0; i < N; i++)
		cr_assert_eq(actor_spawn(&d, NULL, &pids[i]), 0);
	actor_runtime_stats(&st);
	cr_assert_eq(st.actors_alive, N);
	for (int i = 0; i < N; i++)
		actor_send(NULL, pids[i], "stop", NULL, 0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(actor_wait(pids[i], 10000), 0);
	cr_assert_eq(atomic_load(&many_finis), N);
	actor_runtime_stats(&st);
	cr_assert_eq(st.actors_alive, 0);
	cr_assert_eq(st.actors_spawned, N);
	actor_runtime_fini();
	free(pids);
}

Test(actor, runtime_fini_ends_live_actors_and_init_works_again)
{
	static const actor_def d = {.name = "live", .init = many_init, .fini = many_fini};

	for (int round = 0; round < 2; round++) {
		atomic_store(&many_finis, 0);
		rt_start(2);
		cr_assert(actor_runtime_running());
		cr_assert_eq(actor_runtime_init(NULL), ACTOR_ESTATE);
		for (int i = 0; i < 1000; i++)
			cr_assert_eq(actor_spawn(&d, NULL, NULL), 0);
		actor_runtime_fini();
		cr_assert(!actor_runtime_running());
		cr_assert_eq(atomic_load(&many_finis), 1000);
	}
	actor_runtime_fini(); /* a second fini is a no-op */
}

Test(actor, bad_ip_is_einval_and_configured_ip_is_used)
{
	actor_config cfg;

	actor_config_default(&cfg);
	cfg.ip = "not an address";
	cr_assert_eq(actor_runtime_init(&cfg), ACTOR_EINVAL);
	cr_assert(!actor_runtime_running());
	actor_config_default(&cfg);
	cfg.ip = "10.1.2.3";
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	cr_assert_eq(actor_runtime_ip(), 0x0a010203u);
	cr_assert_eq(actor_runtime_port(), 0);
	actor_runtime_fini();
}

/* ---- a long handler does not hold up the actor it woke while a core is idle ---- */

struct longturn {
	actor_pid other;
	struct latch other_ran;
	bool ran_during_turn;
};

static void long_go(actor_t *self, const actor_msg *m, void *arg)
{
	struct longturn *t = actor_state(self);

	actor_send(self, t->other, "y", NULL, 0);
	/* Stay in this turn until the woken actor has run elsewhere (or give up). */
	t->ran_during_turn = latch_wait(&t->other_ran, 1, 5000);
}

static int long_init(actor_t *self)
{
	return actor_install(self, "go", long_go, NULL);
}

static void long_other(actor_t *self, const actor_msg *m, void *arg)
{
	struct longturn *t = actor_state(self);
	latch_add(&t->other_ran, 1);
}

static int long_other_init(actor_t *self)
{
	return actor_install(self, "y", long_other, NULL);
}

Test(actor, idle_worker_takes_over_what_a_long_turn_woke)
{
	static const actor_def ld = {.name = "long", .init = long_init};
	static const actor_def od = {.name = "woken", .init = long_other_init};
	struct longturn t = {0};
	actor_pid lp;

	latch_init(&t.other_ran);
	rt_start(2);
	cr_assert_eq(actor_spawn(&od, &t, &t.other), 0);
	cr_assert_eq(actor_spawn(&ld, &t, &lp), 0);
	actor_send(NULL, lp, "go", NULL, 0);
	actor_clock_settle();
	cr_assert(t.ran_during_turn, "the woken actor waited for the long turn to end");
	actor_runtime_fini();
}
