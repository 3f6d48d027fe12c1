/* actor.throughput_local — P client/destination pairs, P = worker threads (libprocess's
 * ThroughputPerformance, after Akka's TellThroughputPerformanceSpec). Each client sends
 * min(1000, repeat) pings, then one more per pong until it has sent `repeat`; each
 * destination answers every ping with a pong. Measures message throughput with many
 * messages in flight: mailbox operations and scheduling, not wake-up latency. */
#include "bench_actor.h"

static int64_t total = 3000000;
static int64_t window = 1000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"total", &total, "pings in all, split evenly over the clients"},
	{"window", &window, "pings each client sends at the start (capped by repeat)"},
	{"workers", &workers, "worker threads = pairs (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

static const char empty[1];

/* Each state on its own cache line: pairs run on different workers. */
struct destination {
	BENCH_CACHELINE_ALIGNED int64_t pings;
};

struct client {
	BENCH_CACHELINE_ALIGNED actor_pid destination;
	int64_t repeat;
	int64_t sent;
	int64_t received;
	bench_latch *done;
};

static void on_ping(actor_t *self, const actor_msg *msg, void *arg)
{
	struct destination *d = actor_state(self);
	d->pings++;
	actor_send(self, msg->from, "pong", empty, 0);
}

static void on_pong(actor_t *self, const actor_msg *msg, void *arg)
{
	struct client *c = actor_state(self);
	c->received++;
	if (c->sent < c->repeat) {
		actor_send(self, c->destination, "ping", empty, 0);
		c->sent++;
	} else if (c->received == c->repeat) {
		bench_latch_count_down(c->done);
	}
}

static void on_run(actor_t *self, const actor_msg *msg, void *arg)
{
	struct client *c = actor_state(self);
	int64_t first = c->repeat < window ? c->repeat : window;
	for (int64_t i = 0; i < first; i++) {
		actor_send(self, c->destination, "ping", empty, 0);
		c->sent++;
	}
}

static int destination_init(actor_t *self)
{
	return actor_install(self, "ping", on_ping, NULL);
}

static int client_init(actor_t *self)
{
	int rc = actor_install(self, "pong", on_pong, NULL);
	return rc != 0 ? rc : actor_install(self, "run", on_run, NULL);
}

static const actor_def destination_def = {.name = "destination", .init = destination_init};
static const actor_def client_def = {.name = "client", .init = client_init};

int main(int argc, char **argv)
{
	bench_start("actor.throughput_local", argc, argv, flags, BENCH_NFLAGS(flags));
	bench_actor_start(&workers);
	size_t pairs = (size_t)workers;
	int64_t repeat = total / (int64_t)pairs;
	if (repeat < 1 || window < 1)
		bench_fail("need --total >= workers and --window >= 1");

	bench_latch *done = bench_latch_alloc((int64_t)pairs);
	struct destination *dst = bench_alloc_aligned(pairs, sizeof(*dst));
	struct client *cli = bench_alloc_aligned(pairs, sizeof(*cli));
	actor_pid *dpid = calloc(pairs, sizeof(*dpid)), *cpid = calloc(pairs, sizeof(*cpid));
	if (dpid == NULL || cpid == NULL)
		bench_fail("out of memory");
	for (size_t i = 0; i < pairs; i++) {
		int rc = actor_spawn(&destination_def, &dst[i], &dpid[i]);
		if (rc != 0)
			bench_fail("spawn: %s", actor_strerror(rc));
		cli[i] = (struct client){.destination = dpid[i], .repeat = repeat, .done = done};
		if ((rc = actor_spawn(&client_def, &cli[i], &cpid[i])) != 0)
			bench_fail("spawn: %s", actor_strerror(rc));
	}

	uint64_t start = bench_now_ns();
	for (size_t i = 0; i < pairs; i++) {
		int rc = actor_send(NULL, cpid[i], "run", empty, 0);
		if (rc != 0)
			bench_fail("send: %s", actor_strerror(rc));
	}
	bench_actor_await(done, timeout_s, "every client's last pong");
	double elapsed = (double)(bench_now_ns() - start) / 1e9;

	int64_t answered = 0;
	for (size_t i = 0; i < pairs; i++) {
		actor_terminate(cpid[i]);
		actor_terminate(dpid[i]);
		bench_actor_wait(cpid[i], timeout_s);
		bench_actor_wait(dpid[i], timeout_s);
		if (cli[i].sent != repeat || cli[i].received != repeat || dst[i].pings != repeat)
			bench_fail("pair %zu: expected %lld pings and pongs, got %lld sent, %lld "
				   "answered, %lld received", i, (long long)repeat,
				   (long long)cli[i].sent, (long long)dst[i].pings,
				   (long long)cli[i].received);
		answered += cli[i].received;
	}

	bench_result *r = bench_result_alloc((double)answered / elapsed, "pings/s");
	bench_result_param(r, "pairs", (int64_t)pairs);
	bench_result_param(r, "repeat", repeat);
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_latch_free(done);
	free(dst);
	free(cli);
	free(dpid);
	free(cpid);
	bench_result_print(r);
	return 0;
}
