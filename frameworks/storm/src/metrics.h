/* metrics.h — what each task counts, as Storm's built-in metrics: emitted,
 * transferred, acked, failed, execute and complete latency.
 *
 * The task's executor is the only writer; the worker reads the counters from another
 * thread for its heartbeat, so each is stored with a relaxed atomic store (a plain
 * move on x86, no locked instruction on the hot path). */
#ifndef STM_METRICS_H
#define STM_METRICS_H

#include <stdint.h>

#include <jansson.h>

/* Latency histogram: 8 sub-buckets per power of two of microseconds. */
#define STM_HIST_BUCKETS (8 * 40)

struct stm_metrics {
	uint64_t emitted;     /* tuples emitted by the task's code */
	uint64_t transferred; /* tuple copies sent to tasks (one emit may reach several) */
	uint64_t executed;    /* bolt: tuples executed */
	uint64_t acked;       /* spout: trees completed; bolt: tuples acked */
	uint64_t failed;      /* spout: trees failed or timed out; bolt: tuples failed */
	uint64_t timed_out;   /* spout: of failed, those that timed out */
	uint64_t dropped;     /* tuples to a task whose worker is not up (replayed later) */
	uint64_t pending;     /* spout: trees in flight now */
	uint64_t pending_max; /* spout: the most trees in flight at once */
	uint64_t execute_us;  /* bolt: total time in execute */
	uint64_t complete[STM_HIST_BUCKETS]; /* spout: complete latency histogram */
};

#define STM_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STM_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define STM_GET(field)    __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Records one complete latency of us microseconds. */
void stm_metrics_complete(struct stm_metrics *m, uint64_t us);

/* The latency (ms) below which a fraction q of the histogram falls; 0 when empty. */
double stm_hist_quantile(const uint64_t *hist, double q);

/* Adds m's counters (read with STM_GET) to a JSON object: emitted, transferred,
 * executed, acked, failed, timed_out, dropped, pending, pending_max, execute_ms_avg,
 * complete_ms_p50, complete_ms_p99, complete_ms_avg, and the raw histogram
 * "complete_hist" (sparse: [[bucket, count] ...]). */
void stm_metrics_to_json(const struct stm_metrics *m, json_t *o);

/* Adds the counters of JSON object o (as written above) into sums and hist. */
void stm_metrics_add_json(json_t *sum, const json_t *o);

/* Fills the derived latency keys of a sum made by stm_metrics_add_json. */
void stm_metrics_finish_json(json_t *sum);

/* Monotonic microseconds (latency measurements only; timeouts use the runtime clock). */
int64_t stm_now_us(void);

#endif
