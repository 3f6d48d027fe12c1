/* actor.clientserver_remote — one server actor in a peer OS process, C clients in the
 * main process, each making `requests` requests with `inflight` outstanding, 3-byte
 * payloads over TCP loopback. Throughput here comes from batching: everything queued
 * for one peer goes out in one write. */
#include <stdio.h>
#include <string.h>

#include "bench_actor.h"

static int64_t clients = 8;
static int64_t requests = 10000;
static int64_t inflight = 250;
static int64_t size = 3;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"clients", &clients, "client actors in the main process"},
	{"requests", &requests, "requests per client"},
	{"inflight", &inflight, "requests outstanding per client"},
	{"size", &size, "payload bytes each way"},
	{"workers", &workers, "worker threads per process (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

/* ---- the peer: the server ------------------------------------------------------- */

static bench_latch *quit;

static void on_req(actor_t *self, const actor_msg *msg, void *arg)
{
	actor_send(self, msg->from, "resp", msg->data, msg->len);
}

static void on_quit(actor_t *self, const actor_msg *msg, void *arg)
{
	bench_latch_count_down(quit);
}

static int server_init(actor_t *self)
{
	actor_install(self, "req", on_req, NULL);
	actor_install(self, "quit", on_quit, NULL);
	actor_pid boot;
	if (actor_pid_make("boot", actor_runtime_ip(), (uint16_t)bench_peer_port(), &boot) != 0)
		return ACTOR_EINVAL;
	return actor_send(self, boot, "hello", NULL, 0);
}

static const actor_def server_def = {.name = "server", .init = server_init};

static int peer_main(void)
{
	bench_actor_start_listening(&workers);
	quit = bench_latch_alloc(1);
	if (actor_spawn(&server_def, NULL, NULL) != 0)
		bench_fail("spawn server");
	bench_actor_await(quit, timeout_s, "quit");
	actor_runtime_fini();
	bench_latch_free(quit);
	return 0;
}

/* ---- the main process: clients -------------------------------------------------- */

static actor_pid server;
static bench_latch *hello, *done;

static void on_hello(actor_t *self, const actor_msg *msg, void *arg)
{
	server = msg->from;
	bench_latch_count_down(hello);
}

static int boot_init(actor_t *self)
{
	return actor_install(self, "hello", on_hello, NULL);
}

static const actor_def boot_def = {.name = "boot", .init = boot_init};

struct client {
	int64_t sent, received, bad;
};

static const char payload[64] = "abc";

static void on_resp(actor_t *self, const actor_msg *msg, void *arg)
{
	struct client *c = actor_state(self);
	if (msg->len != (size_t)size)
		c->bad++;
	c->received++;
	if (c->sent < requests) {
		c->sent++;
		actor_send(self, server, "req", payload, (size_t)size);
	}
	if (c->received == requests)
		bench_latch_count_down(done);
}

static int client_init(actor_t *self)
{
	struct client *c = actor_state(self);
	actor_install(self, "resp", on_resp, NULL);
	for (; c->sent < inflight && c->sent < requests; c->sent++)
		actor_send(self, server, "req", payload, (size_t)size);
	return 0;
}

static const actor_def client_def = {.name = "client", .init = client_init};

int main(int argc, char **argv)
{
	bench_start("actor.clientserver_remote", argc, argv, flags, BENCH_NFLAGS(flags));
	if (clients < 1 || requests < 1 || inflight < 1 || size < 0 || size > 64)
		bench_fail("need --clients, --requests, --inflight >= 1 and 0 <= --size <= 64");
	if (bench_peer_role() != NULL)
		return peer_main();

	bench_actor_start_listening(&workers);
	hello = bench_latch_alloc(1);
	done = bench_latch_alloc(clients);
	actor_pid boot;
	if (actor_spawn(&boot_def, NULL, &boot) != 0 || strcmp(boot.id, "boot") != 0)
		bench_fail("spawn boot");
	pid_t peer = bench_peer_spawn("server", actor_runtime_port());
	bench_actor_await(hello, timeout_s, "the server's hello");

	struct client *cs = calloc((size_t)clients, sizeof(*cs));
	actor_pid *pids = calloc((size_t)clients, sizeof(*pids));
	uint64_t start = bench_now_ns();
	for (int64_t i = 0; i < clients; i++)
		if (actor_spawn(&client_def, &cs[i], &pids[i]) != 0)
			bench_fail("spawn client");
	bench_actor_await(done, timeout_s, "the clients");
	double elapsed = (double)(bench_now_ns() - start) / 1e9;

	int64_t bad = 0;
	for (int64_t i = 0; i < clients; i++) {
		actor_terminate(pids[i]);
		bench_actor_wait(pids[i], timeout_s);
		bad += cs[i].bad;
	}
	if (bad != 0)
		bench_fail("%lld responses were wrong", (long long)bad);
	if (actor_send(NULL, server, "quit", NULL, 0) != 0)
		bench_fail("cannot tell the server to quit");
	if (bench_peer_wait(peer, timeout_s * 1000) != 0)
		bench_fail("the server process failed");

	double total = (double)clients * (double)requests;
	bench_result *r = bench_result_alloc(total / elapsed, "rpcs/s");
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_result_param(r, "workers", workers);
	bench_actor_stats(r);
	bench_result_print(r);
	actor_terminate(boot);
	bench_actor_wait(boot, timeout_s);
	actor_runtime_fini();
	bench_latch_free(hello);
	bench_latch_free(done);
	free(cs);
	free(pids);
	return 0;
}
