/* recovery.c — storm.recovery: SIGKILL the worker that does not run the spout while
 * the word count runs with acking on; seconds from the kill until its replacement
 * processes tuples (its tasks report executed tuples again), and until the spout's
 * acked rate is back to half of what it was before the kill. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "storm_bench.h"

static int64_t timeout_secs = 2, warmup = 3;

static const bench_flag flags[] = {
    {"timeout", &timeout_secs, "topology.message.timeout.secs"},
    {"warmup", &warmup, "seconds of steady running before the kill"},
};

/* Tuples executed by the tasks of worker index with generation gen (0: any). */
static int64_t worker_executed(json_t *v, int index, int64_t *gen)
{
	json_t *w = json_array_get(json_object_get(v, "worker_list"), (size_t)index);
	const char *st = json_string_value(json_object_get(w, "state"));
	*gen = json_integer_value(json_object_get(w, "gen"));
	if (st == NULL || strcmp(st, "running") != 0)
		return -1;
	int64_t n = 0;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(v, "task_list"), i, t)
	{
		if (json_integer_value(json_object_get(t, "worker")) == index)
			n += json_integer_value(json_object_get(t, "executed"));
	}
	return n;
}

int main(int argc, char **argv)
{
	bench_start("storm.recovery", argc, argv, flags, BENCH_NFLAGS(flags));
	int port = sb_start_cluster();
	char c_timeout[64];
	snprintf(c_timeout, sizeof(c_timeout), "topology.message.timeout.secs=%lld",
	         (long long)timeout_secs);
	const char *confs[] = {"wc.sentences=0", c_timeout, "topology.max.spout.pending=1000",
	                       NULL};
	sb_submit(port, confs);
	sb_wait_active(30000);
	sb_nap_ms((int)(warmup * 1000));
	json_t *v = sb_view();
	int victim = sb_non_spout_worker(v);
	pid_t pid = sb_worker_pid(v, victim);
	int64_t gen0;
	worker_executed(v, victim, &gen0);
	struct sb_totals before;
	sb_totals(v, NULL, &before);
	json_decref(v);
	sb_nap_ms(1000);
	v = sb_view();
	struct sb_totals later;
	sb_totals(v, NULL, &later);
	json_decref(v);
	double rate_before = (double)(later.acked - before.acked);
	if (pid <= 0 || rate_before <= 0)
		bench_fail("the topology does not run");
	double t0 = sb_now_s();
	kill(pid, SIGKILL);
	double processing = -1, recovered = -1;
	int64_t last_acked = later.acked;
	double last_t = t0;
	while (sb_now_s() - t0 < 120 && (processing < 0 || recovered < 0)) {
		sb_nap_ms(50);
		v = sb_view();
		int64_t gen;
		int64_t n = worker_executed(v, victim, &gen);
		if (processing < 0 && gen > gen0 && n > 0)
			processing = sb_now_s() - t0;
		struct sb_totals now;
		sb_totals(v, NULL, &now);
		json_decref(v);
		double t = sb_now_s();
		if (processing >= 0 && recovered < 0 && t - last_t >= 0.5) {
			if ((double)(now.acked - last_acked) / (t - last_t) >= rate_before / 2)
				recovered = t - t0;
			last_acked = now.acked;
			last_t = t;
		}
	}
	if (processing < 0)
		bench_fail("the replacement worker never processed tuples");
	bench_result *r = bench_result_alloc(processing, "s");
	bench_result_extra(r, "rate_back_s", recovered);
	bench_result_extra(r, "acked_per_s_before", rate_before);
	bench_result_print(r);
	sb_stop();
	return 0;
}
