/* spark.task_rate — empty tasks through the engine: a job of `tasks` partitions of an
 * empty range (count), on `plexus local` with 2 agents, executors already up (a warm-up
 * job first), as Spark's scheduler throughput is measured.
 *
 * Figure: tasks/s from the action's start to its end. Fails unless every task ran. */
#include <stdio.h>
#include <stdlib.h>

#include "spk_bench.h"

static int64_t tasks = 20000;
static int64_t agent_cpus = 2;
static int64_t executor_cores = 2;

static const bench_flag flags[] = {
    {"tasks", &tasks, "empty tasks in the job"},
    {"agent_cpus", &agent_cpus, "cpus of each of the 2 agents"},
    {"executor_cores", &executor_cores, "cores (task threads) of each executor"},
};

int main(int argc, char **argv)
{
	spk_main(argc, argv);
	bench_start("spark.task_rate", argc, argv, flags, BENCH_NFLAGS(flags));
	spk_context *sc = spk_bench_start(2, (int)agent_cpus, (int)executor_cores);
	uint64_t n = 0;
	if (spk_count(spk_range(sc, 0, 100, 1, 100), &n) != 0 || n != 100)
		bench_fail("warm-up failed: %s", spk_context_error(sc));
	/* Every partition of an empty range is an empty task. */
	spk_rdd *empty = spk_range(sc, 0, 0, 1, (int)tasks);
	uint64_t t0 = bench_now_ns();
	if (spk_count(empty, &n) != 0 || n != 0)
		bench_fail("job failed: %s", spk_context_error(sc));
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	spk_bench_stop(sc);
	bench_result *r = bench_result_alloc((double)tasks / secs, "tasks/s");
	bench_result_extra(r, "seconds", secs);
	bench_result_print(r);
	return 0;
}
