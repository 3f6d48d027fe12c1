/* speed.h — the speed layer of the lambda architecture, a storm topology:
 *
 *   tail (spout, 1 task)   reads the master dataset's buckets in order as the generator
 *                          appends them, one tuple (url, bucket, time) per event,
 *                          tracked with the event's place in the log as message id
 *   count (bolt, fields-grouped by url)
 *                          adds views per (url, bucket) and writes the totals to
 *                          lambda.realtime in cassandra every tick; a tuple is acked
 *                          only once the total that includes it is written
 *
 * At least once: an event whose count was lost (a worker killed before the write) is
 * replayed from the log; one counted and then replayed (the write happened, the ack did
 * not) is counted twice. The batch layer corrects both. */
#ifndef LAMBDA_SPEED_H
#define LAMBDA_SPEED_H

#include "storm/storm.h"

extern const stm_spout_def speed_tail_spout;
extern const stm_bolt_def speed_count_bolt;

/* Configuration keys (set by `plexus lambda up`, or `plexus storm submit --conf`). */
#define SPEED_CONF_DATASET   "lambda.dataset"   /* the master dataset's directory */
#define SPEED_CONF_MASTER    "lambda.master"    /* host:port, to find cassandra */
#define SPEED_CONF_CASSANDRA "lambda.cassandra" /* the cassandra framework's name */
#define SPEED_CONF_FLUSH_MS  "lambda.flush_ms"  /* the count bolt's write interval */

#endif
