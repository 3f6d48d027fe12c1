/* actor.dispatch_future — 1,000,000 dispatches that return futures, each chained with
 * one continuation that runs back in the caller (libprocess's DispatchDefer:
 * dispatch(self, f).then(defer(self, g)), one after another). Measures the cost of
 * a dispatch, a promise completed, and a continuation sent back through the mailbox. */
#include "bench_actor.h"

static int64_t repeat = 1000000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"repeat", &repeat, "dispatches, one after another"},
	{"workers", &workers, "worker threads (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

struct chain {
	BENCH_CACHELINE_ALIGNED int64_t dispatched; /* dispatch functions run */
	int64_t continued;  /* continuations run */
	int64_t lost;       /* callbacks that ran with self == NULL */
	bench_latch *done;
};

static void *work(actor_t *self, void *arg, int *err)
{
	if (self == NULL)
		return NULL;
	struct chain *c = actor_state(self);
	c->dispatched++;
	return NULL;
}

static void step(actor_t *self);

static actor_future *cont(actor_t *in, actor_future *f, void *arg)
{
	struct chain *c = arg;
	if (in == NULL) {
		c->lost++;
		return NULL;
	}
	c->continued++;
	if (c->continued < repeat)
		step(in);
	else
		bench_latch_count_down(c->done);
	return NULL;
}

/* One link of the chain: dispatch to ourselves, continue here when it is done. */
static void step(actor_t *self)
{
	actor_future *f = actor_dispatch(actor_self(self), work, NULL, NULL);
	actor_future *g = actor_future_then(f, self, cont, actor_state(self));
	actor_future_unref(f);
	actor_future_unref(g);
}

static void start(actor_t *self, void *arg)
{
	if (self != NULL)
		step(self);
}

static int chain_init(actor_t *self)
{
	return 0;
}

static const actor_def chain_def = {.name = "chain", .init = chain_init};

int main(int argc, char **argv)
{
	bench_start("actor.dispatch_future", argc, argv, flags, BENCH_NFLAGS(flags));
	if (repeat < 1)
		bench_fail("need --repeat >= 1");
	bench_actor_start(&workers);

	struct chain chain = {.done = bench_latch_alloc(1)};
	actor_pid pid;
	int rc = actor_spawn(&chain_def, &chain, &pid);
	if (rc != 0)
		bench_fail("spawn: %s", actor_strerror(rc));

	uint64_t start_ns = bench_now_ns();
	if ((rc = actor_call(pid, start, NULL)) != 0)
		bench_fail("call: %s", actor_strerror(rc));
	bench_actor_await(chain.done, timeout_s, "the end of the chain");
	double elapsed = (double)(bench_now_ns() - start_ns) / 1e9;

	actor_terminate(pid);
	bench_actor_wait(pid, timeout_s);
	if (chain.dispatched != repeat || chain.continued != repeat || chain.lost != 0)
		bench_fail("expected %lld dispatches and continuations, got %lld and %lld (%lld lost)",
			   (long long)repeat, (long long)chain.dispatched,
			   (long long)chain.continued, (long long)chain.lost);

	bench_result *r = bench_result_alloc((double)repeat / elapsed, "ops/s");
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_result_extra(r, "mean_us", elapsed * 1e6 / (double)repeat);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_latch_free(chain.done);
	bench_result_print(r);
	return 0;
}
