/* throughput.c — storm.throughput: the word-count topology with acking on, 2 workers
 * on the 2 agents of `plexus local`: spout tuples acked per second end to end over a
 * measured interval after a warm-up, with the complete latency's p50 and p99 (from the
 * spouts' histograms over the same interval). The spout emits without end,
 * max_spout_pending bounding what is in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "storm_bench.h"

#ifndef ACKING
#define ACKING     1
#define BENCH_NAME "storm.throughput"
#endif

static int64_t seconds = 10, warmup = 5, spouts = 2, bolts = 2, pending = 2000, sentences = 3000000;

static const bench_flag flags[] = {
    {"seconds", &seconds, "measured interval"},
    {"warmup", &warmup, "seconds before measuring"},
    {"spouts", &spouts, "spout tasks"},
    {"bolts", &bolts, "tasks of each bolt (split, count, sink)"},
    {"pending", &pending, "max_spout_pending per spout task (acking on)"},
    {"sentences", &sentences, "sentences in all (acking off: the run ends with them)"},
};

static void conf(char *buf, size_t size, const char *key, int64_t v)
{
	snprintf(buf, size, "%s=%lld", key, (long long)v);
}

int main(int argc, char **argv)
{
	bench_start(BENCH_NAME, argc, argv, flags, BENCH_NFLAGS(flags));
	int port = sb_start_cluster();
	char c_spouts[64], c_split[64], c_count[64], c_sink[64], c_pending[64], c_total[64];
	conf(c_spouts, sizeof(c_spouts), "wc.spouts", spouts);
	conf(c_split, sizeof(c_split), "wc.split", bolts);
	conf(c_count, sizeof(c_count), "wc.count", bolts);
	conf(c_sink, sizeof(c_sink), "wc.sink", bolts);
	conf(c_pending, sizeof(c_pending), "topology.max.spout.pending", pending);
	conf(c_total, sizeof(c_total), "wc.sentences", ACKING ? 0 : sentences);
	const char *confs[] = {c_spouts,
	                       c_split,
	                       c_count,
	                       c_sink,
	                       c_pending,
	                       c_total,
	                       ACKING ? "topology.acking=true" : "topology.acking=false",
	                       NULL};
	sb_submit(port, confs);
	sb_wait_active(30000);
	struct sb_totals a, b, sink_a, sink_b;
	double t0, t1;
	if (ACKING) {
		sb_nap_ms((int)(warmup * 1000));
		json_t *v = sb_view();
		t0 = sb_now_s();
		sb_totals(v, NULL, &a);
		json_decref(v);
		sb_nap_ms((int)(seconds * 1000));
		v = sb_view();
		t1 = sb_now_s();
		sb_totals(v, NULL, &b);
		sb_totals(v, "sink", &sink_b);
		json_decref(v);
		sink_a = sink_b; /* only the rate over the interval matters below */
	} else {
		/* Without acking nothing tells the spout to slow down: emit a fixed number of
		 * sentences and time them from the start until the sink has every word. */
		json_t *v = sb_view();
		t0 = sb_now_s();
		sb_totals(v, "sink", &sink_a);
		json_decref(v);
		int64_t words = 0;
		for (int64_t id = 0; id < sentences; id++) {
			uint64_t x = (uint64_t)id * 6364136223846793005ULL + 1442695040888963407ULL;
			words += 4 + (int64_t)((x >> 33) % 8);
		}
		for (;;) {
			v = sb_view();
			sb_totals(v, "sink", &sink_b);
			sb_totals(v, NULL, &b);
			json_decref(v);
			if (sink_b.executed >= words)
				break;
			if (sb_now_s() - t0 > 300)
				bench_fail("the sink saw %lld of %lld words in 300 s",
				           (long long)sink_b.executed, (long long)words);
			sb_nap_ms(100);
		}
		t1 = sb_now_s();
		memset(&a, 0, sizeof(a));
		b.acked = sentences;
	}
	double dt = t1 - t0;
	double rate = (double)(b.acked - a.acked) / dt;
	bench_result *r = bench_result_alloc(rate, ACKING ? "acked tuples/s" : "tuples/s");
	if (ACKING) {
		uint64_t hist[STM_HIST_BUCKETS];
		for (int i = 0; i < STM_HIST_BUCKETS; i++)
			hist[i] = b.hist[i] - a.hist[i];
		bench_result_extra(r, "p50_ms", stm_hist_quantile(hist, 0.50));
		bench_result_extra(r, "p99_ms", stm_hist_quantile(hist, 0.99));
		bench_result_count(r, "failed", b.failed - a.failed);
	} else {
		bench_result_extra(r, "words_per_s",
		                   (double)(sink_b.executed - sink_a.executed) / dt);
	}
	bench_result_extra(r, "per_core", rate / 2);
	bench_result_extra(r, "seconds", dt);
	bench_result_print(r);
	sb_stop();
	return 0;
}
