/* actor.protobuf_handler — remote sends of a protobuf message (plexus.bench.Blob: a
 * sequence number and a repeated bytes field holding one chunk of SIZE bytes) to a
 * typed handler in a peer OS process, for sizes 10 B ... 1 MiB. The handler gets the
 * unpacked message (actor_install_pb). Messages go in batches followed by a plain
 * "sync" that the peer answers once it has handled the batch (order per sender is
 * kept), so no more than a batch is ever buffered. Figures per size: messages/s and
 * MB/s of chunk payload, end to end. */
#include <stdio.h>
#include <string.h>

#include "actor/pb.h"
#include "bench_actor.h"
#include "protobuf_handler.pb-c.h"

static int64_t total_mb = 64;    /* payload per size, bounded by min/max messages */
static int64_t min_msgs = 200;
static int64_t max_msgs = 100000;
static int64_t workers = 0;
static int64_t timeout_s = 300;

static const bench_flag flags[] = {
	{"total_mb", &total_mb, "payload MiB sent per size (within min/max messages)"},
	{"min_msgs", &min_msgs, "fewest messages per size"},
	{"max_msgs", &max_msgs, "most messages per size"},
	{"workers", &workers, "worker threads per process (0 = runtime default)"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

static const size_t sizes[] = {10, 100, 1024, 10240, 102400, 1048576};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define BATCH_BYTES ((size_t)8 << 20)

/* ---- the peer: the typed handler ----------------------------------------------- */

static bench_latch *quit;

struct sink {
	uint64_t next_seq, bytes, bad;
};

static void on_blob(actor_t *self, actor_pid from, const ProtobufCMessage *m, void *arg)
{
	struct sink *s = actor_state(self);
	const Plexus__Bench__Blob *b = (const Plexus__Bench__Blob *)m;
	if (b->seq != s->next_seq || b->n_chunks != 1)
		s->bad++;
	s->next_seq = b->seq + 1;
	for (size_t i = 0; i < b->n_chunks; i++)
		s->bytes += b->chunks[i].len;
}

/* "sync" (body: the count expected so far) -> "synced" (body: the count of bad ones). */
static void on_sync(actor_t *self, const actor_msg *msg, void *arg)
{
	struct sink *s = actor_state(self);
	uint64_t expect;
	if (msg->len != sizeof(expect))
		return;
	memcpy(&expect, msg->data, sizeof(expect));
	uint64_t bad = s->bad + (s->next_seq != expect);
	actor_send(self, msg->from, "synced", &bad, sizeof(bad));
}

static void on_reset(actor_t *self, const actor_msg *msg, void *arg)
{
	struct sink *s = actor_state(self);
	memset(s, 0, sizeof(*s));
	actor_send(self, msg->from, "synced", &s->bad, sizeof(s->bad));
}

static void on_quit(actor_t *self, const actor_msg *msg, void *arg)
{
	bench_latch_count_down(quit);
}

static int sink_init(actor_t *self)
{
	actor_install_pb(self, &plexus__bench__blob__descriptor, on_blob, NULL);
	actor_install(self, "sync", on_sync, NULL);
	actor_install(self, "reset", on_reset, NULL);
	actor_install(self, "quit", on_quit, NULL);
	actor_pid boot;
	if (actor_pid_make("boot", actor_runtime_ip(), (uint16_t)bench_peer_port(), &boot) != 0)
		return ACTOR_EINVAL;
	return actor_send(self, boot, "hello", NULL, 0);
}

static const actor_def sink_def = {.name = "sink", .init = sink_init};

static int peer_main(void)
{
	bench_actor_start_listening(&workers);
	quit = bench_latch_alloc(1);
	struct sink s = {0};
	if (actor_spawn(&sink_def, &s, NULL) != 0)
		bench_fail("spawn sink");
	bench_actor_await(quit, timeout_s, "quit");
	actor_runtime_fini();
	bench_latch_free(quit);
	return 0;
}

/* ---- the main process: a sender actor driven one size at a time --------------- */

struct sender {
	actor_pid sink;
	bench_latch *hello;
	bench_latch *round;    /* one size done */
	size_t size;
	uint64_t count, sent, batch;
	uint64_t bad;
	uint8_t *chunk;
	int rv;
};

static void send_batch(actor_t *self, struct sender *s)
{
	Plexus__Bench__Blob b = PLEXUS__BENCH__BLOB__INIT;
	ProtobufCBinaryData chunk = {.len = s->size, .data = s->chunk};
	b.n_chunks = 1;
	b.chunks = &chunk;
	uint64_t end = s->sent + s->batch < s->count ? s->sent + s->batch : s->count;
	for (; s->sent < end; s->sent++) {
		b.seq = s->sent;
		int rv = actor_send_pb(self, s->sink, &b.base);
		if (rv != 0 && s->rv == 0)
			s->rv = rv;
	}
	actor_send(self, s->sink, "sync", &s->sent, sizeof(s->sent));
}

static void on_hello(actor_t *self, const actor_msg *msg, void *arg)
{
	struct sender *s = actor_state(self);
	s->sink = msg->from;
	bench_latch_count_down(s->hello);
}

static void on_synced(actor_t *self, const actor_msg *msg, void *arg)
{
	struct sender *s = actor_state(self);
	uint64_t bad = 0;
	if (msg->len == sizeof(bad))
		memcpy(&bad, msg->data, sizeof(bad));
	s->bad += bad;
	if (s->sent < s->count && s->count > 0)
		send_batch(self, s);
	else
		bench_latch_count_down(s->round);
}

/* Starts a round: dispatched into the sender by the main thread. */
static void start_round(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct sender *s = actor_state(self);
	send_batch(self, s);
}

static void reset_sink(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct sender *s = actor_state(self);
	actor_send(self, s->sink, "reset", NULL, 0);
}

static int sender_init(actor_t *self)
{
	actor_install(self, "hello", on_hello, NULL);
	actor_install(self, "synced", on_synced, NULL);
	return 0;
}

static const actor_def sender_def = {.name = "boot", .init = sender_init};

int main(int argc, char **argv)
{
	bench_start("actor.protobuf_handler", argc, argv, flags, BENCH_NFLAGS(flags));
	if (total_mb < 1 || min_msgs < 1 || max_msgs < min_msgs)
		bench_fail("need --total_mb >= 1 and 1 <= --min_msgs <= --max_msgs");
	if (bench_peer_role() != NULL)
		return peer_main();

	bench_actor_start_listening(&workers);
	struct sender s = {0};
	s.hello = bench_latch_alloc(1);
	s.chunk = malloc(sizes[NSIZES - 1]);
	if (s.chunk == NULL)
		bench_fail("out of memory");
	memset(s.chunk, 0xab, sizes[NSIZES - 1]);
	actor_pid sender;
	if (actor_spawn(&sender_def, &s, &sender) != 0 || strcmp(sender.id, "boot") != 0)
		bench_fail("spawn sender");
	pid_t peer = bench_peer_spawn("sink", actor_runtime_port());
	bench_actor_await(s.hello, timeout_s, "the sink's hello");

	double rate[NSIZES], mbps[NSIZES];
	for (size_t i = 0; i < NSIZES; i++) {
		/* Reset the sink's sequence, and wait for it, before timing. */
		s.count = 0;
		s.sent = 0;
		s.round = bench_latch_alloc(1);
		actor_call(sender, reset_sink, NULL);
		bench_actor_await(s.round, timeout_s, "the sink's reset");
		bench_latch_free(s.round);

		uint64_t want = ((uint64_t)total_mb << 20) / sizes[i];
		want = want < (uint64_t)min_msgs ? (uint64_t)min_msgs : want;
		want = want > (uint64_t)max_msgs ? (uint64_t)max_msgs : want;
		s.size = sizes[i];
		s.count = want;
		s.sent = 0;
		s.batch = BATCH_BYTES / sizes[i];
		s.batch = s.batch < 1 ? 1 : s.batch > 2000 ? 2000 : s.batch;
		s.round = bench_latch_alloc(1);
		uint64_t start = bench_now_ns();
		actor_call(sender, start_round, NULL);
		bench_actor_await(s.round, timeout_s, "a round of messages");
		double elapsed = (double)(bench_now_ns() - start) / 1e9;
		bench_latch_free(s.round);
		if (s.rv != 0)
			bench_fail("send of %zu bytes: %s", sizes[i], actor_strerror(s.rv));
		if (s.bad != 0)
			bench_fail("%llu messages of %zu bytes were lost, out of order or wrong",
				   (unsigned long long)s.bad, sizes[i]);
		rate[i] = (double)want / elapsed;
		mbps[i] = rate[i] * (double)sizes[i] / 1e6;
		bench_log("%8zu B: %llu messages, %.0f msgs/s, %.1f MB/s", sizes[i],
			  (unsigned long long)want, rate[i], mbps[i]);
	}

	actor_send(NULL, s.sink, "quit", NULL, 0);
	if (bench_peer_wait(peer, timeout_s * 1000) != 0)
		bench_fail("the sink process failed");

	/* The headline figure is the 1 KiB rate; every size is in the extras. */
	bench_result *r = bench_result_alloc(rate[2], "msgs/s@1KiB");
	for (size_t i = 0; i < NSIZES; i++) {
		char key[64];
		snprintf(key, sizeof(key), "msgs_per_s_%zuB", sizes[i]);
		bench_result_extra(r, key, rate[i]);
		snprintf(key, sizeof(key), "mb_per_s_%zuB", sizes[i]);
		bench_result_extra(r, key, mbps[i]);
	}
	bench_result_param(r, "workers", workers);
	bench_actor_stats(r);
	bench_result_print(r);
	actor_terminate(sender);
	bench_actor_wait(sender, timeout_s);
	actor_runtime_fini();
	bench_latch_free(s.hello);
	free(s.chunk);
	return 0;
}
