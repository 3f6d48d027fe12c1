/* bench_actor.h — what the libactor benchmarks share on top of bench.h: starting the
 * runtime with a known number of workers and waiting for a latch with a deadline.
 * Header-only, so bench.c stays free of libactor for the network floors. */
#ifndef BENCH_BENCH_ACTOR_H
#define BENCH_BENCH_ACTOR_H

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "actor/libactor.h"
#include "bench.h"

/* Resolves *workers (0 = the runtime's default: env ACTOR_WORKERS, else the number of
 * cores) to the actual count, writes it back so the result line shows it, and starts
 * the runtime with it; with listen, on 127.0.0.1 with an ephemeral actor port and no
 * HTTP server (for two-process benchmarks). bench_fail()s if the runtime does not start. */
static inline void bench_actor_start_with(int64_t *workers, bool listen)
{
	if (*workers <= 0) {
		const char *env = getenv("ACTOR_WORKERS");
		*workers = env != NULL ? atoi(env) : 0;
		if (*workers <= 0)
			*workers = sysconf(_SC_NPROCESSORS_ONLN);
		if (*workers <= 0)
			*workers = 1;
	}
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = (int)*workers;
	if (listen) {
		cfg.listen = true;
		cfg.ip = "127.0.0.1";
		cfg.port = 0;
		cfg.http_port = -1;
	}
	int rc = actor_runtime_init(&cfg);
	if (rc != 0)
		bench_fail("actor_runtime_init: %s", actor_strerror(rc));
}

/* The runtime for a benchmark in one OS process. */
static inline void bench_actor_start(int64_t *workers)
{
	bench_actor_start_with(workers, false);
}

/* The runtime for one side of a two-process benchmark. */
static inline void bench_actor_start_listening(int64_t *workers)
{
	bench_actor_start_with(workers, true);
}

/* Waits for l; on timeout fails the benchmark, naming what was being waited for. */
static inline void bench_actor_await(bench_latch *l, int64_t timeout_s, const char *what)
{
	if (bench_latch_wait(l, timeout_s * 1000) != 0)
		bench_fail("timed out after %lld s waiting for %s (%lld still to go)",
			   (long long)timeout_s, what, (long long)bench_latch_remaining(l));
}

/* Waits for an actor to end; fails the benchmark if it does not within timeout_s. */
static inline void bench_actor_wait(actor_pid pid, int64_t timeout_s)
{
	int rc = actor_wait(pid, timeout_s * 1000);
	if (rc != 0)
		bench_fail("actor_wait(%s): %s", actor_pid_str(pid), actor_strerror(rc));
}

/* Adds the runtime's own counters to the result (before actor_runtime_fini). */
static inline void bench_actor_stats(bench_result *r)
{
	actor_stats st;
	actor_runtime_stats(&st);
	bench_result_count(r, "messages_received", (int64_t)st.messages_received);
	bench_result_count(r, "messages_dropped", (int64_t)st.messages_dropped);
	bench_result_count(r, "mailbox_high_water", (int64_t)st.mailbox_high_water);
}

#endif
