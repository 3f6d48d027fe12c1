/* actor.spawn — the whole life of a short-lived actor: spawn 1,000,000 actors that
 * each end on their first message, send each one message, wait until all have ended.
 * Measures spawn, handler install, one delivery, terminate and the release of the
 * actor's resources. */
#include <stdlib.h>

#include "bench_actor.h"

static int64_t actors = 1000000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"actors", &actors, "actors spawned"},
	{"workers", &workers, "worker threads (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

static bench_latch *ended; /* counts fini calls */

/* Each actor's state is its own byte of one array, set when its message arrives: a
 * check that every actor got its message, without a counter shared by the workers. */
static void on_die(actor_t *self, const actor_msg *msg, void *arg)
{
	*(unsigned char *)actor_state(self) = 1;
	actor_terminate(actor_self(self));
}

static int mortal_init(actor_t *self)
{
	return actor_install(self, "die", on_die, NULL);
}

static void mortal_fini(actor_t *self)
{
	bench_latch_count_down(ended);
}

static const actor_def mortal_def = {.name = "mortal", .init = mortal_init, .fini = mortal_fini};

int main(int argc, char **argv)
{
	bench_start("actor.spawn", argc, argv, flags, BENCH_NFLAGS(flags));
	if (actors < 1)
		bench_fail("need --actors >= 1");
	bench_actor_start(&workers);
	ended = bench_latch_alloc(actors);
	unsigned char *handled = calloc((size_t)actors, 1);
	if (handled == NULL)
		bench_fail("out of memory");

	/* How far the workers fall behind the spawning thread: the number of actors alive
	 * at once decides how large the runtime's tables grow. Sampled, so cheap. */
	uint64_t peak_alive = 0;
	actor_stats st;
	uint64_t start = bench_now_ns();
	for (int64_t i = 0; i < actors; i++) {
		actor_pid pid;
		if ((i & 4095) == 0) {
			actor_runtime_stats(&st);
			if (st.actors_alive > peak_alive)
				peak_alive = st.actors_alive;
		}
		int rc = actor_spawn(&mortal_def, &handled[i], &pid);
		if (rc != 0)
			bench_fail("spawn %lld: %s", (long long)i, actor_strerror(rc));
		if ((rc = actor_send(NULL, pid, "die", "", 0)) != 0)
			bench_fail("send: %s", actor_strerror(rc));
	}
	double spawned = (double)(bench_now_ns() - start) / 1e9;
	bench_actor_await(ended, timeout_s, "every actor to end");
	double elapsed = (double)(bench_now_ns() - start) / 1e9;

	int64_t missed = 0;
	for (int64_t i = 0; i < actors; i++)
		missed += handled[i] == 0;
	if (missed != 0)
		bench_fail("%lld of %lld actors ended without handling their message",
			   (long long)missed, (long long)actors);
	free(handled);
	actor_runtime_stats(&st);

	bench_result *r = bench_result_alloc((double)actors / elapsed, "actors/s");
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_result_extra(r, "spawn_loop_s", spawned);
	bench_result_count(r, "actors_alive_after", (int64_t)st.actors_alive);
	bench_result_count(r, "actors_alive_peak", (int64_t)peak_alive);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_latch_free(ended);
	bench_result_print(r);
	return 0;
}
