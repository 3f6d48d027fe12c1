/* worker_loss.c — at-least-once when a worker dies, on a real `plexus local`: a worker
 * SIGKILLed mid-stream is relaunched with its tasks and the spout replays what was not
 * acked, without loss; a slow bolt holds the spout back at max_spout_pending. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "faults.h"
#include "storm_harness.h"

TestSuite(storm_worker_loss, .init = sh_init, .fini = sh_fini, .timeout = 240);

Test(storm_worker_loss, worker_sigkill_replays_without_loss)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=12000", "topology.message.timeout.secs=2",
	                       "topology.max.spout.pending=200", "wc.sink_delay_us=40", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 12000, 8000};
	cr_assert(sh_wait(60000, sink_has, &p), "the stream flows");
	struct relaunch r = {.name = "wc"};
	r.worker = other_worker("wc", &r.old);
	kill(r.old, SIGKILL);
	cr_assert(sh_wait(60000, relaunched, &r), "the nimbus relaunched worker %d", r.worker);
	cr_assert(sh_wait(60000, spout_acked, &p), "every sentence was acked in the end");
	json_t *v = sh_nimbus("wc");
	cr_expect_geq(json_integer_value(json_object_get(v, "relaunches")), 1);
	json_decref(v);
	expect_exact(12000, true);
}

static int64_t rss_kb(pid_t pid)
{
	char path[64], line[256];
	int64_t kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

Test(storm_worker_loss, slow_bolt_is_held_back_by_max_spout_pending)
{
	int port = sh_local_start(2);
	const char *confs[] = {"wc.sentences=0", "topology.max.spout.pending=50",
	                       "wc.sink_delay_us=2000", "wc.sink=1", NULL};
	sh_submit_wordcount(port, "wc", confs);
	struct progress p = {"wc", 200, 0};
	cr_assert(sh_wait(60000, spout_acked, &p), "trees complete");
	json_t *v = sh_nimbus("wc");
	int64_t pending_max = sh_component(v, "sentences", "pending_max");
	cr_expect_leq(pending_max, 50, "never more than max_spout_pending in flight: %lld",
	              (long long)pending_max);
	cr_expect_eq(pending_max, 50, "the limit was reached: the spout was held back");
	cr_expect_eq(sh_component(v, "sentences", "failed"), 0, "nothing timed out");
	for (int i = 0; i < 2; i++) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(sh_worker(v, i), "pid"));
		cr_expect_lt(rss_kb(pid), 200 * 1024, "worker %d's memory stays bounded", i);
	}
	json_decref(v);
}
