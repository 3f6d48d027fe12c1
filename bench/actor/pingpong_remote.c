/* actor.pingpong_remote — two OS processes on TCP loopback, sequential round trips
 * with one message in flight. The main process's pinger sends "ping" to the peer's
 * ponger, which answers "pong"; every round trip crosses the nng transport twice.
 * Compare its p50 with net.nng_floor's: the gap is the runtime's own cost. */
#include <stdio.h>
#include <string.h>

#include "bench_actor.h"

static int64_t repeat = 100000;
static int64_t size = 16;
static int64_t warmup = 1000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"repeat", &repeat, "timed round trips"},
	{"size", &size, "payload bytes each way (>= 8)"},
	{"warmup", &warmup, "untimed round trips first"},
	{"workers", &workers, "worker threads per process (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

/* ---- the peer: a ponger that says hello to the pinger, then answers pings -------- */

static bench_latch *peer_done;

static void on_ping(actor_t *self, const actor_msg *msg, void *arg)
{
	actor_send(self, msg->from, "pong", msg->data, msg->len);
}

static void on_quit(actor_t *self, const actor_msg *msg, void *arg)
{
	bench_latch_count_down(peer_done);
}

static int ponger_init(actor_t *self)
{
	actor_install(self, "ping", on_ping, NULL);
	actor_install(self, "quit", on_quit, NULL);
	actor_pid pinger;
	if (actor_pid_make("pinger", actor_runtime_ip(), (uint16_t)bench_peer_port(), &pinger) != 0)
		return ACTOR_EINVAL;
	return actor_send(self, pinger, "hello", NULL, 0);
}

static const actor_def ponger_def = {.name = "ponger", .init = ponger_init};

static int peer_main(void)
{
	bench_actor_start_listening(&workers);
	peer_done = bench_latch_alloc(1);
	if (actor_spawn(&ponger_def, NULL, NULL) != 0)
		bench_fail("spawn ponger");
	bench_actor_await(peer_done, timeout_s, "the pinger's quit");
	actor_runtime_fini();
	bench_latch_free(peer_done);
	return 0;
}

/* ---- the main process: the pinger ----------------------------------------------- */

struct pinger {
	actor_pid ponger;
	int64_t n;         /* round trips done, warm-up included */
	int64_t bad;
	uint64_t last_ns;
	uint64_t start_ns, end_ns;
	uint64_t *samples;
	bench_latch *done;
	unsigned char payload[4096];
};

static void send_ping(actor_t *self, struct pinger *p)
{
	memcpy(p->payload, &p->n, sizeof(p->n));
	actor_send(self, p->ponger, "ping", p->payload, (size_t)size);
}

static void on_hello(actor_t *self, const actor_msg *msg, void *arg)
{
	struct pinger *p = actor_state(self);
	p->ponger = msg->from;
	p->last_ns = bench_now_ns();
	if (warmup == 0)
		p->start_ns = p->last_ns;
	send_ping(self, p);
}

static void on_pong(actor_t *self, const actor_msg *msg, void *arg)
{
	struct pinger *p = actor_state(self);
	int64_t seq;
	if (msg->len != (size_t)size || (memcpy(&seq, msg->data, sizeof(seq)), seq != p->n))
		p->bad++;
	uint64_t now = bench_now_ns();
	if (p->n >= warmup)
		p->samples[p->n - warmup] = now - p->last_ns;
	p->n++;
	if (p->n < warmup + repeat) {
		p->last_ns = now;
		if (p->n == warmup)
			p->start_ns = now;
		send_ping(self, p);
	} else {
		p->end_ns = now;
		actor_send(self, p->ponger, "quit", NULL, 0);
		bench_latch_count_down(p->done);
	}
}

static int pinger_init(actor_t *self)
{
	actor_install(self, "hello", on_hello, NULL);
	actor_install(self, "pong", on_pong, NULL);
	return 0;
}

static const actor_def pinger_def = {.name = "pinger", .init = pinger_init};

int main(int argc, char **argv)
{
	bench_start("actor.pingpong_remote", argc, argv, flags, BENCH_NFLAGS(flags));
	if (size < 8 || size > 4096 || repeat < 1 || warmup < 0)
		bench_fail("need 8 <= --size <= 4096, --repeat >= 1, --warmup >= 0");
	if (bench_peer_role() != NULL)
		return peer_main();

	bench_actor_start_listening(&workers);
	struct pinger p = {0};
	p.samples = malloc((size_t)repeat * sizeof(*p.samples));
	p.done = bench_latch_alloc(1);
	if (p.samples == NULL)
		bench_fail("out of memory");
	actor_pid pinger;
	if (actor_spawn(&pinger_def, &p, &pinger) != 0)
		bench_fail("spawn pinger");
	if (strcmp(pinger.id, "pinger") != 0)
		bench_fail("the pinger is not called pinger");
	pid_t peer = bench_peer_spawn("ponger", actor_runtime_port());
	bench_actor_await(p.done, timeout_s, "the round trips");
	if (bench_peer_wait(peer, timeout_s * 1000) != 0)
		bench_fail("the ponger process failed");
	if (p.bad != 0)
		bench_fail("%lld pongs were wrong", (long long)p.bad);

	double elapsed = (double)(p.end_ns - p.start_ns) / 1e9;
	bench_sort_u64(p.samples, (size_t)repeat);
	bench_result *r = bench_result_alloc((double)repeat / elapsed, "roundtrips/s");
	bench_result_extra(r, "p50_us", (double)bench_percentile(p.samples, (size_t)repeat, 50) / 1e3);
	bench_result_extra(r, "p99_us", (double)bench_percentile(p.samples, (size_t)repeat, 99) / 1e3);
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_result_param(r, "workers", workers);
	bench_actor_stats(r);
	actor_terminate(pinger);
	bench_actor_wait(pinger, timeout_s);
	bench_result_print(r);
	actor_runtime_fini();
	bench_latch_free(p.done);
	free(p.samples);
	return 0;
}
