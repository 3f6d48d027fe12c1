/* storm_bench.h — what the storm benchmarks share: a `plexus local` cluster in a
 * scratch directory, the word-count topology submitted with `plexus storm`, and the
 * nimbus's metrics. Everything started is killed by sb_stop (also at exit). */
#ifndef BENCH_STORM_H
#define BENCH_STORM_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "metrics.h"

/* Starts `plexus local` with 2 agents of cpus:2;mem:2048 and waits for them; the
 * master's HTTP port. */
int sb_start_cluster(void);
/* Submits the word count as "wc" with --conf flags ("K=V", NULL-terminated). */
void sb_submit(int port, const char *const *confs);
/* The nimbus's view (GET /storm/state), or NULL. */
json_t *sb_view(void);
/* Waits until the topology's spouts are active (every worker runs its tasks). */
void sb_wait_active(int timeout_ms);

/* Sums over the tasks of kind "spout" (or component, when not NULL). */
struct sb_totals {
	int64_t emitted, acked, failed, executed;
	uint64_t hist[STM_HIST_BUCKETS];
};
void sb_totals(json_t *view, const char *component, struct sb_totals *out);

/* The OS pid of worker index in a view, 0 if unknown. */
pid_t sb_worker_pid(json_t *view, int index);
/* The index of the worker that does not run the spout (of 2). */
int sb_non_spout_worker(json_t *view);

/* Kills everything started and removes the scratch directory. */
void sb_stop(void);

void sb_nap_ms(int ms);
double sb_now_s(void);

#endif
