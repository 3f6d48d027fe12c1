/* The allocator actor: passes on the interval and after events, a burst of events
 * batched into one pass, all on the runtime's paused clock. */
#include <stdatomic.h>

#include "actor/libactor.h"
#include "helpers.h"
#include "master/allocator/allocator_actor.h"

static atomic_int batches;
static atomic_int offers;

/* Batches are kept and freed later by the test's thread, as a master would hand
 * them to another actor: the allocator keeps changing its books meanwhile. */
static alloc_offers *kept[64];
static atomic_int nkept;

static void on_offers(alloc_offers *b, void *arg)
{
	(void)arg;
	atomic_fetch_add(&batches, 1);
	atomic_fetch_add(&offers, (int)alloc_offers_count(b));
	int i = atomic_fetch_add(&nkept, 1);
	if (i < 64)
		kept[i] = b;
	else
		alloc_offers_free(b);
}

static void free_kept(void)
{
	int n = atomic_load(&nkept);
	for (int i = 0; i < n && i < 64; i++) {
		/* Still readable: the allocator never changes a set a batch holds. */
		for (size_t j = 0; j < alloc_offers_count(kept[i]); j++)
			cr_assert_gt(
			    px_resources_scalar(alloc_offers_at(kept[i], j)->resources, "cpus"), 0);
		alloc_offers_free(kept[i]);
	}
	atomic_store(&nkept, 0);
}

static void rt_start(void)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = 2;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	actor_clock_pause();
	atomic_store(&batches, 0);
	atomic_store(&offers, 0);
	atomic_store(&nkept, 0);
}

/* Runs fn inside the allocator and waits for it; returns its code. */
static int call(actor_pid pid, alloc_actor_fn fn, void *arg)
{
	actor_future *f = alloc_actor_dispatch(pid, fn, arg);
	cr_assert_eq(actor_future_await(f, 5000), 0);
	int rc = actor_future_state(f) == ACTOR_FUTURE_READY ? 0 : actor_future_error(f);
	actor_future_unref(f);
	return rc;
}

static int add_agent(alloc_core *core, int64_t now, void *arg)
{
	px_resources *rs = NULL;
	cr_assert_eq(px_resources_parse("cpus:4; mem:4096", NULL, &rs, NULL, 0), PX_OK);
	int rc = alloc_agent_add(core, arg, rs);
	px_resources_free(rs);
	return rc;
}

static int add_framework(alloc_core *core, int64_t now, void *arg)
{
	const char *roles[] = {"r"};
	return alloc_framework_add(core, arg, roles, 1);
}

static uint64_t passes_seen;
static int64_t now_seen;

static int read_passes(alloc_core *core, int64_t now, void *arg)
{
	alloc_counters c;
	alloc_counters_get(core, &c);
	passes_seen = c.passes;
	now_seen = now;
	return 0;
}

static uint64_t passes(actor_pid pid)
{
	cr_assert_eq(call(pid, read_passes, NULL), 0);
	return passes_seen;
}

/* Gives back every offered resource of "f" on one agent (an event that frees). */
static int decline(alloc_core *core, int64_t now, void *arg)
{
	const px_resources *o = alloc_offered(core, "f", "r", arg);
	if (o == NULL)
		return ALLOC_ENOENT;
	px_resources *copy = px_resources_copy(o);
	int rc = alloc_recover_offered(core, "f", "r", arg, copy, 0, now);
	px_resources_free(copy);
	return rc;
}

static const char *const agent_ids[] = {"a0", "a1", "a2",  "a3",  "a4",  "a5",  "a6",  "a7",
                                        "a8", "a9", "a10", "a11", "a12", "a13", "a14", "a15"};

Test(actor, burst_of_events_costs_one_pass)
{
	rt_start();
	alloc_actor_config cfg;
	alloc_actor_config_default(&cfg);
	cfg.offer_cb = on_offers;
	actor_pid pid;
	cr_assert_eq(alloc_actor_spawn(&cfg, &pid), 0);
	int64_t t0 = actor_clock_now();

	cr_assert_eq(call(pid, add_framework, "f"), 0);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(call(pid, add_agent, (void *)agent_ids[i]), 0);
	actor_clock_settle();
	/* Events arm the batch timer; nothing runs until the clock moves. */
	cr_assert_eq(passes(pid), 0);
	cr_assert_eq(now_seen, t0);
	actor_clock_advance(1);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 1, "17 events made %lu passes", (unsigned long)passes_seen);
	cr_assert_eq(atomic_load(&batches), 1);
	cr_assert_eq(atomic_load(&offers), 16);

	/* A burst of 16 declines: one more pass, offering all 16 agents again. */
	for (int i = 0; i < 16; i++)
		cr_assert_eq(call(pid, decline, (void *)agent_ids[i]), 0);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 1);
	actor_clock_advance(1);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 2);
	cr_assert_eq(atomic_load(&batches), 2);
	cr_assert_eq(atomic_load(&offers), 32);

	/* Calls that free nothing arm nothing. */
	cr_assert_eq(call(pid, read_passes, NULL), 0);
	actor_clock_advance(10);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 2);

	/* Errors come back through the future, and the actor lives on. */
	cr_assert_eq(call(pid, decline, "nope"), ALLOC_ENOENT);

	/* Half the batches go while the allocator lives, the rest after it ended. */
	free_kept();
	for (int i = 0; i < 8; i++)
		cr_assert_eq(call(pid, decline, (void *)agent_ids[i]), 0);
	actor_clock_advance(1);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 3);
	actor_terminate(pid);
	cr_assert_eq(actor_wait(pid, 5000), 0);
	actor_runtime_fini();
	free_kept();
}

Test(actor, passes_run_on_the_allocation_interval)
{
	rt_start();
	alloc_actor_config cfg;
	alloc_actor_config_default(&cfg);
	cfg.offer_cb = on_offers;
	cfg.allocation_interval_ms = 1000;
	actor_pid pid;
	cr_assert_eq(alloc_actor_spawn(&cfg, &pid), 0);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 0);
	actor_clock_advance(999);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 0);
	actor_clock_advance(1);
	actor_clock_settle();
	cr_assert_eq(passes(pid), 1);
	/* An empty pass makes no callback. */
	cr_assert_eq(atomic_load(&batches), 0);
	for (int i = 0; i < 3; i++) {
		actor_clock_advance(1000);
		actor_clock_settle();
	}
	cr_assert_eq(passes(pid), 4);
	/* run_now runs a pass at once. */
	actor_future *f = alloc_actor_run_now(pid);
	cr_assert_eq(actor_future_await(f, 5000), 0);
	actor_future_unref(f);
	cr_assert_eq(passes(pid), 5);
	actor_terminate(pid);
	cr_assert_eq(actor_wait(pid, 5000), 0);
	actor_runtime_fini();
	free_kept();
}

Test(actor, spawn_needs_a_callback)
{
	rt_start();
	alloc_actor_config cfg;
	alloc_actor_config_default(&cfg);
	cr_assert_eq(alloc_actor_spawn(&cfg, NULL), ALLOC_EINVAL);
	actor_runtime_fini();
}
