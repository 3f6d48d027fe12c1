/* Links: exited on end, for PIDs that never existed, once per link; unlink; the
 * remote side through a fake transport (system messages, peer loss, borrowed bodies). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "../../libactor/src/transport.h"

struct watcher {
	struct latch exited;
	actor_pid who[16];
	int n;
};

static void watcher_exited(actor_t *self, actor_pid who)
{
	struct watcher *w = actor_state(self);
	cr_assert_eq(actor_current(), self);
	if (w->n < 16)
		w->who[w->n] = who;
	w->n++;
	latch_add(&w->exited, 1);
}

static const actor_def watcher_def = {.name = "watcher", .exited = watcher_exited};
static const actor_def plain_def = {.name = "plain"};

struct link_req {
	actor_pid target;
	int times;
	bool unlink;
	struct latch *done;
};

static void do_link(actor_t *self, void *arg)
{
	struct link_req *r = arg;
	if (self != NULL) {
		for (int i = 0; i < r->times; i++)
			actor_link(self, r->target);
		if (r->unlink)
			actor_unlink(self, r->target);
	}
	latch_add(r->done, 1);
}

static void link_from(actor_pid watcher, actor_pid target, int times, bool unlink)
{
	struct latch done;
	struct link_req r = {.target = target, .times = times, .unlink = unlink, .done = &done};

	latch_init(&done);
	cr_assert_eq(actor_call(watcher, do_link, &r), 0);
	cr_assert(latch_wait(&done, 1, 5000));
}

static void watcher_setup(struct watcher *w)
{
	memset(w, 0, sizeof(*w));
	latch_init(&w->exited);
}

Test(link, exited_once_when_linked_actor_ends)
{
	struct watcher w;
	actor_pid wp, target;

	watcher_setup(&w);
	rt_start(2);
	cr_assert_eq(actor_spawn(&watcher_def, &w, &wp), 0);
	cr_assert_eq(actor_spawn(&plain_def, NULL, &target), 0);
	link_from(wp, target, 2, false); /* linking twice is one link */
	actor_terminate(target);
	cr_assert(latch_wait(&w.exited, 1, 5000));
	actor_clock_settle();
	cr_assert_eq(w.n, 1);
	cr_assert(actor_pid_equal(w.who[0], target));
	actor_runtime_fini();
}

Test(link, exited_for_pid_that_never_existed_or_ended)
{
	struct watcher w;
	actor_pid wp, ghost, ended;

	watcher_setup(&w);
	rt_start(2);
	cr_assert_eq(actor_spawn(&watcher_def, &w, &wp), 0);
	cr_assert_eq(actor_pid_make("ghost", actor_runtime_ip(), actor_runtime_port(), &ghost), 0);
	link_from(wp, ghost, 1, false);
	cr_assert(latch_wait(&w.exited, 1, 5000));
	cr_assert(actor_pid_equal(w.who[0], ghost));
	cr_assert_eq(actor_spawn(&plain_def, NULL, &ended), 0);
	actor_terminate(ended);
	cr_assert_eq(actor_wait(ended, 5000), 0);
	link_from(wp, ended, 1, false);
	cr_assert(latch_wait(&w.exited, 2, 5000));
	cr_assert(actor_pid_equal(w.who[1], ended));
	/* Not local and no transport: nobody could ever report it, so it counts as gone. */
	actor_pid far;
	cr_assert_eq(actor_pid_parse("far@10.9.9.9:5050", &far), 0);
	link_from(wp, far, 1, false);
	cr_assert(latch_wait(&w.exited, 3, 5000));
	actor_clock_settle();
	cr_assert_eq(w.n, 3);
	actor_runtime_fini();
}

Test(link, unlink_means_no_exited)
{
	struct watcher w;
	actor_pid wp, target, marker;

	watcher_setup(&w);
	rt_start(2);
	cr_assert_eq(actor_spawn(&watcher_def, &w, &wp), 0);
	cr_assert_eq(actor_spawn(&plain_def, NULL, &target), 0);
	cr_assert_eq(actor_spawn(&plain_def, NULL, &marker), 0);
	link_from(wp, target, 1, true);
	link_from(wp, marker, 1, false);
	actor_terminate(target);
	cr_assert_eq(actor_wait(target, 5000), 0);
	actor_terminate(marker);
	cr_assert(latch_wait(&w.exited, 1, 5000));
	actor_clock_settle();
	cr_assert_eq(w.n, 1);
	cr_assert(actor_pid_equal(w.who[0], marker), "got exited for %s", actor_pid_str(w.who[0]));
	actor_runtime_fini();
}

Test(link, many_linkers_each_get_exited)
{
	enum { N = 50 };
	struct watcher w[N];
	actor_pid wp[N], target;

	rt_start(2);
	cr_assert_eq(actor_spawn(&plain_def, NULL, &target), 0);
	for (int i = 0; i < N; i++) {
		watcher_setup(&w[i]);
		cr_assert_eq(actor_spawn(&watcher_def, &w[i], &wp[i]), 0);
		link_from(wp[i], target, 1, false);
	}
	actor_runtime_fini(); /* ends the target and the watchers, in any order */
	actor_stats st;
	(void)st;
	for (int i = 0; i < N; i++)
		cr_assert_leq(w[i].n, 1);
}

/* ---- remote side, through a fake transport ---- */

struct sent {
	actor_pid from, to;
	char name[32];
	size_t len;
};

static struct {
	pthread_mutex_t mu;
	struct sent v[64];
	int n;
	struct latch l;
} fake;

static int fake_start(const actor_config *cfg, uint32_t *ip, uint16_t *port)
{
	return 0;
}

static void fake_stop(void)
{
}

static int fake_send(const actor_pid *from, const actor_pid *to, const char *name,
		     size_t name_len, const void *data, size_t len)
{
	pthread_mutex_lock(&fake.mu);
	if (fake.n < 64) {
		struct sent *s = &fake.v[fake.n++];
		s->from = *from;
		s->to = *to;
		snprintf(s->name, sizeof(s->name), "%.*s", (int)name_len, name);
		s->len = len;
	}
	pthread_mutex_unlock(&fake.mu);
	latch_add(&fake.l, 1);
	return 0;
}

static const struct actor_transport_ops fake_ops = {
	.name = "fake", .start = fake_start, .stop = fake_stop, .send = fake_send};

static void fake_setup(void)
{
	pthread_mutex_init(&fake.mu, NULL);
	fake.n = 0;
	latch_init(&fake.l);
	rt_start(2);
	actor__transport = &fake_ops;
}

static void fake_teardown(void)
{
	actor__transport = NULL;
	actor_runtime_fini();
}

Test(link, remote_link_sends_system_message_and_takes_exited_back)
{
	struct watcher w;
	actor_pid wp, far, far2;

	watcher_setup(&w);
	fake_setup();
	cr_assert_eq(actor_spawn(&watcher_def, &w, &wp), 0);
	cr_assert_eq(actor_pid_parse("far@10.0.0.9:5050", &far), 0);
	cr_assert_eq(actor_pid_parse("other@10.0.0.7:5051", &far2), 0);
	link_from(wp, far, 1, false);
	link_from(wp, far2, 1, false);
	cr_assert(latch_wait(&fake.l, 2, 5000));
	cr_assert_str_eq(fake.v[0].name, "actor.link");
	cr_assert(actor_pid_equal(fake.v[0].from, wp));
	cr_assert(actor_pid_equal(fake.v[0].to, far));

	/* The remote side reports the end of far. */
	actor__deliver_remote(&far, &wp, "actor.exited", 12, NULL, 0, NULL, NULL);
	cr_assert(latch_wait(&w.exited, 1, 5000));
	cr_assert(actor_pid_equal(w.who[0], far));
	/* A duplicate report is not a second exited. */
	actor__deliver_remote(&far, &wp, "actor.exited", 12, NULL, 0, NULL, NULL);
	/* The connection to far2's process is lost. */
	actor__peer_lost(far2.ip, far2.port);
	cr_assert(latch_wait(&w.exited, 2, 5000));
	cr_assert(actor_pid_equal(w.who[1], far2));
	actor__peer_lost(far2.ip, far2.port);
	actor_clock_settle();
	cr_assert_eq(w.n, 2);
	fake_teardown();
}

Test(link, remote_linker_hears_of_local_end)
{
	actor_pid target, far, ghost;

	fake_setup();
	cr_assert_eq(actor_spawn(&plain_def, NULL, &target), 0);
	cr_assert_eq(actor_pid_parse("linker@10.0.0.9:5050", &far), 0);
	actor__deliver_remote(&far, &target, "actor.link", 10, NULL, 0, NULL, NULL);
	actor_clock_settle();
	actor_terminate(target);
	cr_assert(latch_wait(&fake.l, 1, 5000));
	cr_assert_str_eq(fake.v[0].name, "actor.exited");
	cr_assert(actor_pid_equal(fake.v[0].from, target));
	cr_assert(actor_pid_equal(fake.v[0].to, far));
	/* A remote link to a PID that does not exist is answered at once. */
	cr_assert_eq(actor_pid_make("ghost", actor_runtime_ip(), actor_runtime_port(), &ghost), 0);
	actor__deliver_remote(&far, &ghost, "actor.link", 10, NULL, 0, NULL, NULL);
	cr_assert(latch_wait(&fake.l, 2, 5000));
	cr_assert_str_eq(fake.v[1].name, "actor.exited");
	cr_assert(actor_pid_equal(fake.v[1].from, ghost));
	fake_teardown();
}

/* ---- remote messages: borrowed body, released once ---- */

struct body_owner {
	_Atomic int released;
	uint8_t bytes[5];
};

static void body_release(void *owner)
{
	struct body_owner *o = owner;
	atomic_fetch_add(&o->released, 1);
}

struct got {
	struct latch l;
	char name[32];
	uint8_t data[8];
	size_t len;
	bool borrowed;
	actor_pid from;
};

static void got_msg(actor_t *self, const actor_msg *m, void *arg)
{
	struct got *g = actor_state(self);
	struct body_owner *o = arg;
	snprintf(g->name, sizeof(g->name), "%s", m->name);
	g->len = m->len;
	memcpy(g->data, m->data, m->len < 8 ? m->len : 8);
	g->borrowed = m->data == o->bytes;
	g->from = m->from;
	latch_add(&g->l, 1);
}

static struct body_owner the_owner;

static int got_init(actor_t *self)
{
	return actor_install(self, "remote.Hello", got_msg, &the_owner);
}

Test(link, remote_message_is_delivered_without_copy_and_released_once)
{
	static const actor_def d = {.name = "got", .init = got_init};
	struct got g = {0};
	actor_pid gp, far, ghost;
	actor_stats a, b;

	latch_init(&g.l);
	memcpy(the_owner.bytes, "hello", 5);
	atomic_store(&the_owner.released, 0);
	fake_setup();
	cr_assert_eq(actor_spawn(&d, &g, &gp), 0);
	cr_assert_eq(actor_pid_parse("far@10.0.0.9:5050", &far), 0);
	actor__deliver_remote(&far, &gp, "remote.Hello", 12, the_owner.bytes, 5, body_release,
			      &the_owner);
	cr_assert(latch_wait(&g.l, 1, 5000));
	cr_assert_str_eq(g.name, "remote.Hello");
	cr_assert_eq(g.len, 5);
	cr_assert(memcmp(g.data, "hello", 5) == 0);
	cr_assert(g.borrowed, "the body was copied");
	cr_assert(actor_pid_equal(g.from, far));
	actor_clock_settle();
	cr_assert_eq(atomic_load(&the_owner.released), 1);

	actor_runtime_stats(&a);
	cr_assert_eq(actor_pid_make("ghost", actor_runtime_ip(), actor_runtime_port(), &ghost), 0);
	actor__deliver_remote(&far, &ghost, "remote.Hello", 12, the_owner.bytes, 5, body_release,
			      &the_owner);
	cr_assert_eq(atomic_load(&the_owner.released), 2);
	/* A name with a NUL inside is malformed. */
	actor__deliver_remote(&far, &gp, "bad\0name", 8, the_owner.bytes, 5, body_release,
			      &the_owner);
	cr_assert_eq(atomic_load(&the_owner.released), 3);
	actor_runtime_stats(&b);
	cr_assert_eq(b.messages_dropped - a.messages_dropped, 2);

	/* A local send to a non-local PID goes to the transport. */
	cr_assert_eq(actor_send(NULL, far, "remote.Hi", "abc", 3), 0);
	cr_assert(latch_wait(&fake.l, 1, 5000));
	cr_assert_str_eq(fake.v[0].name, "remote.Hi");
	cr_assert_eq(fake.v[0].len, 3);
	fake_teardown();
}
