/* actor.links_churn — the cost of actors ending while many links exist (MESOS-2182;
 * libprocess's Process_BENCHMARK_LargeNumberOfLinks). 5,000 linker/linkee pairs stay
 * alive; then 10,000 times: spawn an actor and call into it a function that
 * terminates it; wait for all of them. A runtime whose link bookkeeping is scanned on
 * every exit shows it here. Figure: elapsed ms, lower is better. */
#include <stdatomic.h>
#include <stdlib.h>

#include "bench_actor.h"

static int64_t links = 5000;
static int64_t iterations = 10000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"links", &links, "linker/linkee pairs kept alive"},
	{"iterations", &iterations, "ephemeral actors spawned and terminated"},
	{"workers", &workers, "worker threads (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

static bench_latch *linked;        /* counts linkers whose init has linked */
static bench_latch *linkee_gone;   /* counts exited events seen by linkers */
static atomic_llong calls_run;     /* terminating calls that ran inside their actor */
static atomic_llong ephemeral_fini;

struct linker {
	actor_pid to;
};

static int linker_init(actor_t *self)
{
	struct linker *l = actor_state(self);
	actor_link(self, l->to);
	bench_latch_count_down(linked);
	return 0;
}

static void linker_exited(actor_t *self, actor_pid who)
{
	struct linker *l = actor_state(self);
	if (actor_pid_equal(who, l->to))
		bench_latch_count_down(linkee_gone);
}

static int linkee_init(actor_t *self)
{
	return 0;
}

static void terminate_self(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	atomic_fetch_add_explicit(&calls_run, 1, memory_order_relaxed);
	actor_terminate(actor_self(self));
}

static int ephemeral_init(actor_t *self)
{
	return 0;
}

static void ephemeral_fini_fn(actor_t *self)
{
	atomic_fetch_add_explicit(&ephemeral_fini, 1, memory_order_relaxed);
}

static const actor_def linkee_def = {.name = "linkee", .init = linkee_init};
static const actor_def linker_def = {.name = "linker", .init = linker_init,
				     .exited = linker_exited};
static const actor_def ephemeral_def = {.name = "ephemeral", .init = ephemeral_init,
					.fini = ephemeral_fini_fn};

int main(int argc, char **argv)
{
	bench_start("actor.links_churn", argc, argv, flags, BENCH_NFLAGS(flags));
	if (links < 0 || iterations < 1)
		bench_fail("need --links >= 0 and --iterations >= 1");
	bench_actor_start(&workers);

	size_t nl = (size_t)links, ni = (size_t)iterations;
	linked = bench_latch_alloc(links);
	linkee_gone = bench_latch_alloc(links);
	struct linker *state = calloc(nl + 1, sizeof(*state));
	actor_pid *linkees = calloc(nl + 1, sizeof(*linkees));
	actor_pid *linkers = calloc(nl + 1, sizeof(*linkers));
	actor_pid *ephemeral = calloc(ni, sizeof(*ephemeral));
	if (state == NULL || linkees == NULL || linkers == NULL || ephemeral == NULL)
		bench_fail("out of memory");
	for (size_t i = 0; i < nl; i++) {
		int rc = actor_spawn(&linkee_def, NULL, &linkees[i]);
		if (rc != 0)
			bench_fail("spawn: %s", actor_strerror(rc));
		state[i].to = linkees[i];
		if ((rc = actor_spawn(&linker_def, &state[i], &linkers[i])) != 0)
			bench_fail("spawn: %s", actor_strerror(rc));
	}
	bench_actor_await(linked, timeout_s, "the linkers to link");

	uint64_t start = bench_now_ns();
	for (size_t i = 0; i < ni; i++) {
		int rc = actor_spawn(&ephemeral_def, NULL, &ephemeral[i]);
		if (rc != 0)
			bench_fail("spawn: %s", actor_strerror(rc));
		if ((rc = actor_call(ephemeral[i], terminate_self, NULL)) != 0)
			bench_fail("call: %s", actor_strerror(rc));
	}
	for (size_t i = 0; i < ni; i++)
		bench_actor_wait(ephemeral[i], timeout_s);
	double elapsed = (double)(bench_now_ns() - start) / 1e9;

	if (atomic_load(&calls_run) != iterations || atomic_load(&ephemeral_fini) != iterations)
		bench_fail("expected %lld calls and endings, got %lld calls, %lld endings",
			   (long long)iterations, (long long)atomic_load(&calls_run),
			   (long long)atomic_load(&ephemeral_fini));
	/* The links were real: ending every linkee must reach every linker. */
	for (size_t i = 0; i < nl; i++)
		actor_terminate(linkees[i]);
	bench_actor_await(linkee_gone, timeout_s, "the linkers' exited events");

	bench_result *r = bench_result_alloc(elapsed * 1e3, "ms");
	bench_result_extra(r, "per_op_us", elapsed * 1e6 / (double)iterations);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_latch_free(linked);
	bench_latch_free(linkee_gone);
	free(state);
	free(linkees);
	free(linkers);
	free(ephemeral);
	bench_result_print(r);
	return 0;
}
