/* actor.pingpong_local — two actors in one OS process, sequential round trips with
 * one message in flight. Measures the latency of a local send, delivery and the
 * wake-up of the receiving actor, twice per round trip. */
#include <string.h>

#include "bench_actor.h"

static int64_t repeat = 1000000;
static int64_t size = 16;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"repeat", &repeat, "round trips"},
	{"size", &size, "payload bytes each way (>= 8)"},
	{"workers", &workers, "worker threads (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

/* Each state on its own cache line: the two actors may run on different workers. */
struct ponger {
	BENCH_CACHELINE_ALIGNED int64_t pings;
};

struct pinger {
	BENCH_CACHELINE_ALIGNED actor_pid ponger;
	int64_t pongs;
	int64_t bad; /* pongs of the wrong size or out of order */
	bench_latch *done;
	unsigned char payload[256];
};

static void on_ping(actor_t *self, const actor_msg *msg, void *arg)
{
	struct ponger *p = actor_state(self);
	p->pings++;
	actor_send(self, msg->from, "pong", msg->data, msg->len);
}

/* Sends ping number n (its sequence number rides in the payload). */
static void send_ping(actor_t *self, struct pinger *p, int64_t n)
{
	memcpy(p->payload, &n, sizeof(n));
	actor_send(self, p->ponger, "ping", p->payload, (size_t)size);
}

static void on_pong(actor_t *self, const actor_msg *msg, void *arg)
{
	struct pinger *p = actor_state(self);
	int64_t n;
	if (msg->len != (size_t)size)
		p->bad++;
	else if (memcpy(&n, msg->data, sizeof(n)), n != p->pongs)
		p->bad++;
	p->pongs++;
	if (p->pongs < repeat)
		send_ping(self, p, p->pongs);
	else
		bench_latch_count_down(p->done);
}

static void on_go(actor_t *self, const actor_msg *msg, void *arg)
{
	send_ping(self, actor_state(self), 0);
}

static int ponger_init(actor_t *self)
{
	return actor_install(self, "ping", on_ping, NULL);
}

static int pinger_init(actor_t *self)
{
	int rc = actor_install(self, "pong", on_pong, NULL);
	return rc != 0 ? rc : actor_install(self, "go", on_go, NULL);
}

static const actor_def ponger_def = {.name = "ponger", .init = ponger_init};
static const actor_def pinger_def = {.name = "pinger", .init = pinger_init};

int main(int argc, char **argv)
{
	bench_start("actor.pingpong_local", argc, argv, flags, BENCH_NFLAGS(flags));
	if (size < 8 || size > 256 || repeat < 1)
		bench_fail("need 8 <= --size <= 256 and --repeat >= 1");
	bench_actor_start(&workers);

	struct ponger ponger = {0};
	struct pinger pinger = {.done = bench_latch_alloc(1)};
	memset(pinger.payload, 'x', sizeof(pinger.payload));
	actor_pid pong_pid, ping_pid;
	int rc = actor_spawn(&ponger_def, &ponger, &pong_pid);
	if (rc != 0)
		bench_fail("spawn: %s", actor_strerror(rc));
	pinger.ponger = pong_pid;
	if ((rc = actor_spawn(&pinger_def, &pinger, &ping_pid)) != 0)
		bench_fail("spawn: %s", actor_strerror(rc));

	uint64_t start = bench_now_ns();
	if ((rc = actor_send(NULL, ping_pid, "go", "", 0)) != 0)
		bench_fail("send: %s", actor_strerror(rc));
	bench_actor_await(pinger.done, timeout_s, "the last pong");
	double elapsed = (double)(bench_now_ns() - start) / 1e9;

	actor_terminate(ping_pid);
	actor_terminate(pong_pid);
	bench_actor_wait(ping_pid, timeout_s);
	bench_actor_wait(pong_pid, timeout_s);
	if (ponger.pings != repeat || pinger.pongs != repeat || pinger.bad != 0)
		bench_fail("expected %lld pings and pongs in order, got %lld pings, %lld pongs, "
			   "%lld wrong", (long long)repeat, (long long)ponger.pings,
			   (long long)pinger.pongs, (long long)pinger.bad);

	bench_result *r = bench_result_alloc((double)repeat / elapsed, "roundtrips/s");
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_result_extra(r, "mean_us", elapsed * 1e6 / (double)repeat);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_latch_free(pinger.done);
	bench_result_print(r);
	return 0;
}
