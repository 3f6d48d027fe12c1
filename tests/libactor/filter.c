/* The test filter: sees every message before delivery (local and remote) and can drop it. */
#include <stdatomic.h>
#include <string.h>

#include "helpers.h"
#include "../../libactor/src/transport.h"

static _Atomic int seen, dropped_by_us;

static actor_filter_verdict drop_secret(const actor_msg *m, void *arg)
{
	atomic_fetch_add(&seen, 1);
	if (strcmp(m->name, "secret") == 0) {
		atomic_fetch_add(&dropped_by_us, 1);
		return ACTOR_FILTER_DROP;
	}
	return ACTOR_FILTER_PASS;
}

struct box {
	struct latch l;
	int secrets, publics;
};

static void on_secret(actor_t *self, const actor_msg *m, void *arg)
{
	struct box *b = actor_state(self);
	b->secrets++;
	latch_add(&b->l, 1);
}

static void on_public(actor_t *self, const actor_msg *m, void *arg)
{
	struct box *b = actor_state(self);
	b->publics++;
	latch_add(&b->l, 1);
}

static int box_init(actor_t *self)
{
	actor_install(self, "secret", on_secret, NULL);
	return actor_install(self, "public", on_public, NULL);
}

static const actor_def box_def = {.name = "box", .init = box_init};

Test(filter, drops_and_counts_local_and_remote_messages)
{
	struct box b = {0};
	actor_pid pid, far;
	actor_stats s0, s1;

	latch_init(&b.l);
	rt_start(2);
	cr_assert_eq(actor_spawn(&box_def, &b, &pid), 0);
	actor_filter_install(drop_secret, NULL);
	actor_runtime_stats(&s0);
	actor_send(NULL, pid, "secret", "x", 1);
	actor_send(NULL, pid, "public", "y", 1);
	cr_assert_eq(actor_pid_parse("far@10.0.0.2:7", &far), 0);
	actor__deliver_remote(&far, &pid, "secret", 6, NULL, 0, NULL, NULL);
	actor__deliver_remote(&far, &pid, "public", 6, NULL, 0, NULL, NULL);
	cr_assert(latch_wait(&b.l, 2, 5000));
	actor_clock_settle();
	actor_runtime_stats(&s1);
	cr_assert_eq(b.secrets, 0);
	cr_assert_eq(b.publics, 2);
	cr_assert_eq(atomic_load(&seen), 4);
	cr_assert_eq(atomic_load(&dropped_by_us), 2);
	cr_assert_eq(s1.messages_dropped - s0.messages_dropped, 2);

	actor_filter_install(NULL, NULL);
	actor_send(NULL, pid, "secret", "x", 1);
	cr_assert(latch_wait(&b.l, 3, 5000));
	cr_assert_eq(b.secrets, 1);
	cr_assert_eq(atomic_load(&seen), 4);
	actor_runtime_fini();
}
