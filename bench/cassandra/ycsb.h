/* ycsb.h — a YCSB-like core workload against a ring on `plexus local`: load `records`
 * records of `record_bytes` bytes, then `ops` operations of which read_percent are
 * reads and the rest updates, keys drawn from YCSB's Zipfian distribution (theta
 * 0.99), all at QUORUM with `window` requests in flight from one client. */
#ifndef BENCH_CASSANDRA_YCSB_H
#define BENCH_CASSANDRA_YCSB_H

/* Runs the benchmark called name and prints its result line; returns the exit status. */
int ycsb_main(const char *name, int read_percent, int argc, char **argv);

#endif
