/* metrics_internal.h — counters the transport, HTTP and protobuf layers keep about
 * themselves (internal). Updated with relaxed atomics from any thread; served by
 * /metrics/snapshot together with actor_runtime_stats() and user metrics. */
#ifndef ACTOR_METRICS_INTERNAL_H
#define ACTOR_METRICS_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

struct actor__net_stats {
	_Atomic uint64_t bytes_in;         /* read from peers' connections */
	_Atomic uint64_t bytes_out;        /* written to peers' connections */
	_Atomic uint64_t frames_in;        /* decoded and handed to the core */
	_Atomic uint64_t frames_out;       /* queued for a peer */
	_Atomic uint64_t frames_dropped;   /* malformed, misaddressed, oversized, or lost with
	                                      their connection */
	_Atomic int64_t connections_open;  /* inbound and outbound */
	_Atomic uint64_t connections_failed; /* dials that failed and connections lost */
	_Atomic uint64_t pb_decode_errors; /* protobuf bodies that did not unpack */
	_Atomic uint64_t http_requests;
	_Atomic uint64_t http_errors;      /* answered 4xx/5xx by the runtime itself */
};

extern struct actor__net_stats actor__net_stats;

#define ACTOR__STAT_ADD(field, n)                                              \
	atomic_fetch_add_explicit(&actor__net_stats.field, (n), memory_order_relaxed)

#endif
