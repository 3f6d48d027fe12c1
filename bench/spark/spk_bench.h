/* spk_bench.h — what the spark benchmarks share: a `plexus local` with two agents (the
 * binary at <build>/cli/plexus, or $PLEXUS_BIN) on a free port, stopped at exit, and a
 * context on it. */
#ifndef BENCH_SPARK_SPK_BENCH_H
#define BENCH_SPARK_SPK_BENCH_H

#include <stdint.h>

#include <spark/spark.h>

#include "bench.h"

/* Starts the cluster (agents of agent_cpus cpus and 8 GiB each) and a context whose
 * executors have executor_cores cores; bench_fail()s when either does not come up. */
spk_context *spk_bench_start(int agents, int agent_cpus, int executor_cores);
/* Stops the context and the cluster. */
void spk_bench_stop(spk_context *sc);
/* A scratch directory removed at exit. */
const char *spk_bench_dir(void);

#endif
