/* actor.idle_memory — what an actor costs while it waits: spawn 100,000 idle actors
 * (no handlers, no state of their own) and divide the growth of the resident set by
 * their number. Everything the runtime keeps per actor counts: its record, mailbox,
 * name and registry entry, and allocator overhead. Target: <= 1 KiB per actor. */
#include "bench_actor.h"

static int64_t actors = 100000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"actors", &actors, "idle actors spawned"},
	{"workers", &workers, "worker threads (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

static bench_latch *started; /* counts inits that have run */

static int idle_init(actor_t *self)
{
	bench_latch_count_down(started);
	return 0;
}

static const actor_def idle_def = {.name = "idle", .init = idle_init};

/* Spawns n idle actors and waits until each has run its init. */
static void spawn_idle(int64_t n)
{
	started = bench_latch_alloc(n);
	for (int64_t i = 0; i < n; i++) {
		int rc = actor_spawn(&idle_def, NULL, NULL);
		if (rc != 0)
			bench_fail("spawn %lld: %s", (long long)i, actor_strerror(rc));
	}
	bench_actor_await(started, timeout_s, "the idle actors to start");
	bench_latch_free(started);
}

int main(int argc, char **argv)
{
	bench_start("actor.idle_memory", argc, argv, flags, BENCH_NFLAGS(flags));
	if (actors < 1)
		bench_fail("need --actors >= 1");
	bench_actor_start(&workers);

	/* A few actors first, so the runtime's one-off allocations (worker stacks touched,
	 * first registry buckets, allocator arenas) are not charged to the measured ones. */
	spawn_idle(100);
	actor_stats st;
	actor_runtime_stats(&st);
	uint64_t alive_before = st.actors_alive;
	size_t before = bench_rss_bytes();

	spawn_idle(actors);
	size_t after = bench_rss_bytes();
	actor_runtime_stats(&st);
	if (st.actors_alive - alive_before != (uint64_t)actors)
		bench_fail("expected %lld more actors alive, the runtime counts %lld",
			   (long long)actors, (long long)(st.actors_alive - alive_before));
	if (before == 0 || after == 0)
		bench_fail("cannot read the resident set size from /proc/self/status");

	double per = ((double)after - (double)before) / (double)actors;
	bench_result *r = bench_result_alloc(per, "bytes/actor");
	bench_result_count(r, "rss_before_bytes", (int64_t)before);
	bench_result_count(r, "rss_after_bytes", (int64_t)after);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_result_print(r);
	return 0;
}
