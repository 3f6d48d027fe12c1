/* cluster.allocator_cycle — one full allocation pass of the allocator alone (no
 * network, no actor): A agents (cpus 24, mem 96 GiB, disk 1 TiB, ports 31000-32000),
 * F frameworks spread round-robin over R roles, every framework wanting all it can
 * get. Sizes (A,F) = (1,000, 100), (10,000, 500), (50,000, 1,000); R = F/10 unless
 * --roles is given.
 *
 * For each size: build the cluster, then `passes` times: time one alloc_run() from
 * a state where everything is free (every agent is offered whole to someone), check
 * that every agent was offered exactly once, then give every offer back (untimed).
 * The figure per size is the median pass in ms; `value` is the 50,000 x 1,000 one.
 * This is Mesos's HierarchicalAllocator_BENCHMARK "one allocation" shape. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "master/allocator/allocator.h"

static int64_t passes = 3;
static int64_t roles = 0;
static int64_t only = 0;                   /* 1..3: run one size only */
static int64_t agents = 0, frameworks = 0; /* both set: one custom size */

static const bench_flag flags[] = {
    {"passes", &passes, "timed passes per size (median reported)"},
    {"roles", &roles, "roles R (0: F/10)"},
    {"only", &only, "run only size 1, 2 or 3 (0: all)"},
    {"agents", &agents, "custom size: agents (with --frameworks)"},
    {"frameworks", &frameworks, "custom size: frameworks (with --agents)"},
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Candidates (clients considered) per agent in the last size run: the pass's work,
 * independent of caches and noise. */
static double candidates_per_agent;

static double run_size(int64_t na, int64_t nf, int64_t nr)
{
	alloc_core *a = alloc_core_new(NULL);
	px_resources *total = NULL;
	char err[256];
	if (a == NULL || px_resources_parse("cpus:24; mem:98304; disk:1048576; ports:[31000-32000]",
	                                    NULL, &total, err, sizeof(err)) != PX_OK)
		bench_fail("setup: %s", err);
	char id[64];
	for (int64_t i = 0; i < na; i++) {
		snprintf(id, sizeof(id), "agent-%06ld", (long)i);
		if (alloc_agent_add(a, id, total) != ALLOC_OK)
			bench_fail("agent_add %s", id);
	}
	for (int64_t i = 0; i < nf; i++) {
		char role[32];
		snprintf(role, sizeof(role), "role-%ld", (long)(i % nr));
		const char *rs[] = {role};
		snprintf(id, sizeof(id), "framework-%04ld", (long)i);
		if (alloc_framework_add(a, id, rs, 1) != ALLOC_OK)
			bench_fail("framework_add %s", id);
	}
	uint64_t *ns = calloc((size_t)passes, sizeof(*ns));
	alloc_counters before, after;
	alloc_counters_get(a, &before);
	for (int64_t p = 0; p < passes; p++) {
		alloc_offers *b = NULL;
		uint64_t t0 = bench_now_ns();
		int rc = alloc_run(a, p, &b);
		ns[p] = bench_now_ns() - t0;
		if (rc != ALLOC_OK)
			bench_fail("alloc_run: %s", alloc_strerror(rc));
		/* Everything free and everyone wanting all: each agent offered once, whole. */
		if ((int64_t)alloc_offers_count(b) != na)
			bench_fail("%ld agents but %zu offers", (long)na, alloc_offers_count(b));
		for (size_t i = 0; i < alloc_offers_count(b); i++) {
			const alloc_offer *o = alloc_offers_at(b, i);
			if (!px_resources_equal(o->resources, total))
				bench_fail("offer on %s is not the whole agent", o->agent_id);
			if (alloc_recover_offered(a, o->framework_id, o->role, o->agent_id,
			                          o->resources, 0, p) != ALLOC_OK)
				bench_fail("recover on %s", o->agent_id);
		}
		alloc_offers_free(b);
	}
	alloc_counters_get(a, &after);
	candidates_per_agent =
	    (double)(after.candidates - before.candidates) / (double)(passes * na);
	qsort(ns, (size_t)passes, sizeof(*ns), cmp_u64);
	double ms = (double)ns[passes / 2] / 1e6;
	bench_log("A=%ld F=%ld R=%ld: median pass %.2f ms (min %.2f, max %.2f), %.0f ns per agent, "
	          "%.2f candidates per agent",
	          (long)na, (long)nf, (long)nr, ms, (double)ns[0] / 1e6,
	          (double)ns[passes - 1] / 1e6, (double)ns[passes / 2] / (double)na,
	          candidates_per_agent);
	free(ns);
	px_resources_free(total);
	alloc_core_free(a);
	return ms;
}

int main(int argc, char **argv)
{
	bench_start("cluster.allocator_cycle", argc, argv, flags, BENCH_NFLAGS(flags));
	if (passes < 1)
		bench_fail("--passes must be >= 1");
	if (agents > 0 && frameworks > 0) {
		int64_t nr = roles > 0 ? roles : (frameworks / 10 > 0 ? frameworks / 10 : 1);
		double ms = run_size(agents, frameworks, nr);
		bench_result *r = bench_result_alloc(ms, "ms/cycle");
		bench_result_extra(r, "candidates_per_agent", candidates_per_agent);
		bench_result_print(r);
		return 0;
	}
	static const int64_t sizes[3][2] = {{1000, 100}, {10000, 500}, {50000, 1000}};
	static const char *const keys[3] = {"ms_1000x100", "ms_10000x500", "ms_50000x1000"};
	double ms[3] = {0};
	for (int i = 0; i < 3; i++) {
		if (only != 0 && only != i + 1)
			continue;
		int64_t nr = roles > 0 ? roles : sizes[i][1] / 10;
		ms[i] = run_size(sizes[i][0], sizes[i][1], nr);
	}
	int last = only ? (int)only - 1 : 2;
	bench_result *r = bench_result_alloc(ms[last], "ms/cycle");
	for (int i = 0; i < 3; i++)
		if (only == 0 || only == i + 1)
			bench_result_extra(r, keys[i], ms[i]);
	bench_result_print(r);
	return 0;
}
