/* throughput_unacked.c — storm.throughput_unacked: the word count of storm.throughput
 * with acking off (at-most-once): a fixed number of sentences, timed from the start
 * until the sink has seen every word; sentences per second end to end. */
#include <string.h>

#define ACKING     0
#define BENCH_NAME "storm.throughput_unacked"
#include "throughput.c"
