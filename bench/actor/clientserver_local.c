/* actor.clientserver_local — one server, 8 clients in the same OS process, each
 * client making 10,000 requests with 250 in flight, 3-byte payload (libprocess's
 * Process_BENCHMARK_ClientServer without the HTTP kick-off). As there, each client
 * links to the server and the server links to each client on its first request. The
 * server is the bottleneck: it measures one busy actor fed by many senders. */
#include <stdbool.h>
#include <string.h>

#include "bench_actor.h"

static int64_t clients = 8;
static int64_t requests = 10000;
static int64_t concurrency = 250;
static int64_t size = 3;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"clients", &clients, "client actors"},
	{"requests", &requests, "requests per client"},
	{"concurrency", &concurrency, "requests in flight per client"},
	{"size", &size, "payload bytes each way"},
	{"workers", &workers, "worker threads (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

#define MAX_SIZE 4096

/* Each state on its own cache line: clients and server run on different workers. */
/* The server's set of clients it has linked to, as libprocess keeps a hashset<UPID>:
 * open addressing on actor_pid_hash, so a request costs one hash and one comparison. */
struct server {
	BENCH_CACHELINE_ALIGNED int64_t pings;
	int64_t bad;      /* requests of the wrong size */
	size_t nlinked;
	size_t cap;       /* power of two, at least twice the number of clients */
	actor_pid *linked;
	bool *used;
};

/* Returns true if from was already in the set, else adds it. */
static bool linked_before(struct server *s, actor_pid from)
{
	size_t i = (size_t)actor_pid_hash(from) & (s->cap - 1);
	for (; s->used[i]; i = (i + 1) & (s->cap - 1))
		if (actor_pid_equal(s->linked[i], from))
			return true;
	if (s->nlinked * 2 >= s->cap)
		return true; /* more senders than clients: not ours to link */
	s->used[i] = true;
	s->linked[i] = from;
	s->nlinked++;
	return false;
}

struct client {
	BENCH_CACHELINE_ALIGNED actor_pid server;
	int64_t sent;
	int64_t received;
	int64_t bad; /* replies of the wrong size */
	bench_latch *done;
	char payload[MAX_SIZE];
};

static void on_ping(actor_t *self, const actor_msg *msg, void *arg)
{
	struct server *s = actor_state(self);
	if (!linked_before(s, msg->from))
		actor_link(self, msg->from);
	s->pings++;
	if (msg->len != (size_t)size)
		s->bad++;
	actor_send(self, msg->from, "pong", msg->data, msg->len);
}

static void send_ping(actor_t *self, struct client *c)
{
	actor_send(self, c->server, "ping", c->payload, (size_t)size);
	c->sent++;
}

static void on_pong(actor_t *self, const actor_msg *msg, void *arg)
{
	struct client *c = actor_state(self);
	c->received++;
	if (msg->len != (size_t)size)
		c->bad++;
	if (c->received == requests)
		bench_latch_count_down(c->done);
	else if (c->sent < requests)
		send_ping(self, c);
}

static void on_run(actor_t *self, const actor_msg *msg, void *arg)
{
	struct client *c = actor_state(self);
	actor_link(self, c->server);
	while (c->sent < concurrency && c->sent < requests)
		send_ping(self, c);
}

static int server_init(actor_t *self)
{
	return actor_install(self, "ping", on_ping, NULL);
}

static int client_init(actor_t *self)
{
	int rc = actor_install(self, "pong", on_pong, NULL);
	return rc != 0 ? rc : actor_install(self, "run", on_run, NULL);
}

/* Links are part of the workload, not of the check: their events are ignored. */
static void on_exited(actor_t *self, actor_pid who)
{
}

static const actor_def server_def = {.name = "server", .init = server_init, .exited = on_exited};
static const actor_def client_def = {.name = "client", .init = client_init, .exited = on_exited};

int main(int argc, char **argv)
{
	bench_start("actor.clientserver_local", argc, argv, flags, BENCH_NFLAGS(flags));
	if (clients < 1 || requests < 1 || concurrency < 1 || size < 0 || size > MAX_SIZE)
		bench_fail("need clients, requests, concurrency >= 1 and 0 <= size <= %d", MAX_SIZE);
	bench_actor_start(&workers);

	size_t n = (size_t)clients;
	bench_latch *done = bench_latch_alloc(clients);
	struct server server = {.cap = 16};
	while (server.cap < 2 * n)
		server.cap *= 2;
	server.linked = calloc(server.cap, sizeof(actor_pid));
	server.used = calloc(server.cap, sizeof(bool));
	struct client *cli = bench_alloc_aligned(n, sizeof(*cli));
	actor_pid spid, *cpid = calloc(n, sizeof(*cpid));
	if (server.linked == NULL || server.used == NULL || cpid == NULL)
		bench_fail("out of memory");
	int rc = actor_spawn(&server_def, &server, &spid);
	if (rc != 0)
		bench_fail("spawn: %s", actor_strerror(rc));
	for (size_t i = 0; i < n; i++) {
		cli[i].server = spid;
		cli[i].done = done;
		memset(cli[i].payload, '1', sizeof(cli[i].payload));
		if ((rc = actor_spawn(&client_def, &cli[i], &cpid[i])) != 0)
			bench_fail("spawn: %s", actor_strerror(rc));
	}

	uint64_t start = bench_now_ns();
	for (size_t i = 0; i < n; i++) {
		if ((rc = actor_send(NULL, cpid[i], "run", "", 0)) != 0)
			bench_fail("send: %s", actor_strerror(rc));
	}
	bench_actor_await(done, timeout_s, "every client's last reply");
	double elapsed = (double)(bench_now_ns() - start) / 1e9;

	/* The clients first: the server's links to them then fire into a live server. */
	int64_t answered = 0;
	for (size_t i = 0; i < n; i++) {
		actor_terminate(cpid[i]);
		bench_actor_wait(cpid[i], timeout_s);
		if (cli[i].sent != requests || cli[i].received != requests || cli[i].bad != 0)
			bench_fail("client %zu: expected %lld requests answered, got %lld sent, "
				   "%lld received, %lld wrong", i, (long long)requests,
				   (long long)cli[i].sent, (long long)cli[i].received,
				   (long long)cli[i].bad);
		answered += cli[i].received;
	}
	actor_terminate(spid);
	bench_actor_wait(spid, timeout_s);
	if (server.pings != answered || server.bad != 0 || server.nlinked != n)
		bench_fail("server: %lld requests (expected %lld), %lld wrong, %zu clients linked",
			   (long long)server.pings, (long long)answered, (long long)server.bad,
			   server.nlinked);

	bench_result *r = bench_result_alloc((double)answered / elapsed, "rpcs/s");
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_actor_stats(r);
	actor_runtime_fini();
	bench_latch_free(done);
	free(server.linked);
	free(server.used);
	free(cli);
	free(cpid);
	bench_result_print(r);
	return 0;
}
