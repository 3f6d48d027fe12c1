/* metrics.h — named counters, gauges and timers, process-wide.
 *
 * Register once (usually in an actor's init) and keep the pointer: updates are single
 * atomic operations, cheap from any thread. A name is registered once per kind; asking
 * again returns the same metric. Metrics live until the process exits.
 *
 * GET /metrics/snapshot on the runtime's HTTP server returns every metric as one flat
 * JSON object of numbers, Mesos style, including the runtime's own under "actor/":
 *   actor/actors_alive actor/actors_spawned actor/messages_sent actor/messages_received
 *   actor/messages_dropped actor/mailbox_high_water actor/bytes_in actor/bytes_out
 *   actor/frames_in actor/frames_out actor/frames_dropped actor/connections_open
 *   actor/connections_failed actor/pb_decode_errors actor/http_requests actor/http_errors
 * A timer "t" appears as t_count, t_last_ms, t_mean_ms, t_min_ms and t_max_ms. */
#ifndef ACTOR_METRICS_H
#define ACTOR_METRICS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actor_counter actor_counter;
typedef struct actor_gauge actor_gauge;
typedef struct actor_timer actor_timer;

/* The metric called name (1..127 bytes), created on first use. NULL on out of memory,
 * a bad name, or a name already taken by a metric of another kind. */
actor_counter *actor_counter_get(const char *name);
actor_gauge *actor_gauge_get(const char *name);
actor_timer *actor_timer_get(const char *name);

/* Updates. NULL metrics are ignored, so a failed _get never crashes the caller. */
void actor_counter_add(actor_counter *c, uint64_t n);
void actor_counter_inc(actor_counter *c);
uint64_t actor_counter_value(const actor_counter *c);
void actor_gauge_set(actor_gauge *g, double v);
void actor_gauge_add(actor_gauge *g, double delta);
double actor_gauge_value(const actor_gauge *g);
/* Records one duration in milliseconds. */
void actor_timer_record(actor_timer *t, double ms);

/* The snapshot as a NUL-terminated JSON text (what /metrics/snapshot serves). The
 * caller frees it with free(). NULL on out of memory. */
char *actor_metrics_snapshot(void);

#ifdef __cplusplus
}
#endif

#endif
