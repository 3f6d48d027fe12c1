/* Remote messaging between real OS processes on 127.0.0.1 (the peer is net_peer). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "net/frame.h"
#include "probe.h"

static peer_proc peer;

static void setup(void)
{
	probe_start(1 << 20);
}

static void teardown(void)
{
	peer_kill(&peer);
	probe_stop();
}

static const char *const echo_args[] = {"echo", NULL};

static void ping_once(actor_pid to, const char *text)
{
	cr_assert_eq(probe_send(to, "ping", text, strlen(text)), 0);
	probe_item it;
	cr_assert(probe_wait("pong", 10000, &it), "no pong for %s", text);
	cr_assert_str_eq((char *)it.data, text);
	cr_assert(actor_pid_equal(it.from, to), "pong from %s", actor_pid_str(it.from));
	free(it.data);
}

TestSuite(remote, .init = setup, .fini = teardown, .timeout = 240);

Test(remote, pingpong)
{
	peer_start(&peer, echo_args);
	cr_assert_neq(peer.actor.port, actor_runtime_port(), "the peer has its own port");
	for (int i = 0; i < 1000; i++) {
		char text[32];
		snprintf(text, sizeof(text), "round %d", i);
		ping_once(peer.actor, text);
	}
	cr_assert_eq(peer_quit(&peer), 0, "the peer exits cleanly");
}

/* ---- 1,000,000 messages from 4 senders: none lost, order per sender kept ---------- */

#define SENDERS 4
#define PER_SENDER 250000

static struct sink {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t next[SENDERS];
	uint64_t got, bad;
} sink = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static void on_seq(actor_t *self, const actor_msg *msg, void *arg)
{
	uint32_t who;
	uint64_t seq;
	if (msg->len != 12) {
		sink.bad++;
		return;
	}
	memcpy(&who, msg->data, 4);
	memcpy(&seq, msg->data + 4, 8);
	/* Only this actor touches next[]; the lock is for the waiting thread. */
	if (who >= SENDERS || seq != sink.next[who])
		sink.bad++;
	else
		sink.next[who]++;
	uint64_t got = __atomic_add_fetch(&sink.got, 1, __ATOMIC_RELAXED);
	if (got % 1000 == 0 || got == SENDERS * PER_SENDER) {
		pthread_mutex_lock(&sink.mu);
		pthread_cond_broadcast(&sink.cv);
		pthread_mutex_unlock(&sink.mu);
	}
}

static int sink_init(actor_t *self)
{
	return actor_install(self, "seq", on_seq, NULL);
}

static const actor_def sink_def = {.name = "sink", .init = sink_init};

Test(remote, million_messages_from_four_senders_in_order)
{
	actor_pid sink_pid;
	cr_assert_eq(actor_spawn(&sink_def, NULL, &sink_pid), 0);
	peer_start(&peer, echo_args);

	char go[160];
	actor_pid_format(sink_pid, go, sizeof(go));
	snprintf(go + strlen(go), sizeof(go) - strlen(go), " %d", PER_SENDER);
	cr_assert_eq(probe_send(peer.actor, "go", go, strlen(go)), 0);

	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 200;
	pthread_mutex_lock(&sink.mu);
	uint64_t got = 0;
	while ((got = __atomic_load_n(&sink.got, __ATOMIC_RELAXED)) < SENDERS * PER_SENDER)
		if (pthread_cond_timedwait(&sink.cv, &sink.mu, &until) != 0)
			break;
	pthread_mutex_unlock(&sink.mu);
	actor_terminate(sink_pid);
	cr_assert_eq(actor_wait(sink_pid, 10000), 0);
	cr_assert_eq(sink.got, SENDERS * PER_SENDER, "received %llu of %d",
		     (unsigned long long)sink.got, SENDERS * PER_SENDER);
	cr_assert_eq(sink.bad, 0, "%llu messages out of order or malformed",
		     (unsigned long long)sink.bad);
	for (int i = 0; i < SENDERS; i++)
		cr_assert_eq(sink.next[i], PER_SENDER);
}

/* ---- links across OS processes ---------------------------------------------------- */

static void expect_exited(actor_pid who)
{
	probe_item it;
	cr_assert(probe_wait("exited", 20000, &it), "no exited for %s", actor_pid_str(who));
	cr_assert(actor_pid_equal(it.from, who), "exited for %s", actor_pid_str(it.from));
	free(it.data);
}

Test(remote, exited_when_the_peer_is_killed)
{
	peer_start(&peer, echo_args);
	probe_link(peer.actor);
	ping_once(peer.actor, "linked"); /* the link is in place before the kill */
	peer_kill(&peer);
	expect_exited(peer.actor);
}

Test(remote, exited_when_the_remote_actor_ends)
{
	peer_start(&peer, echo_args);
	probe_link(peer.actor);
	cr_assert_eq(probe_send(peer.actor, "stop", "", 0), 0);
	expect_exited(peer.actor);
	cr_assert(peer_alive(&peer), "only the actor ended, not its process");
}

/* A port on 127.0.0.1 where nobody listens (bound once, then closed). */
static uint16_t unused_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

Test(remote, exited_when_the_peer_cannot_be_reached)
{
	actor_pid nobody;
	cr_assert_eq(actor_pid_make("nobody", 0x7f000001, unused_port(), &nobody), 0);
	probe_link(nobody);
	expect_exited(nobody);
	/* Sending there is accepted (delivery is not confirmed) and fails quietly. */
	cr_assert_eq(probe_send(nobody, "ping", "x", 1), 0);
}

Test(remote, reconnects_after_the_peer_restarts_on_the_same_port)
{
	peer_start(&peer, echo_args);
	actor_pid first = peer.actor;
	probe_link(first);
	ping_once(first, "before");
	peer_kill(&peer);
	expect_exited(first);

	char port[16];
	snprintf(port, sizeof(port), "%u", first.port);
	const char *const again[] = {"echo", port, NULL};
	peer_start(&peer, again);
	cr_assert(actor_pid_equal(peer.actor, first), "same PID after the restart");
	ping_once(peer.actor, "after");

	/* Linking again works and fires again. */
	probe_link(peer.actor);
	ping_once(peer.actor, "relinked");
	peer_kill(&peer);
	expect_exited(peer.actor);
}

/* ---- bad bytes ---------------------------------------------------------------- */

static uint8_t *frame(const actor_pid *from, const actor_pid *to, const char *name,
		      const void *body, size_t len, size_t *size)
{
	*size = actor__frame_size(from, to, strlen(name), len);
	cr_assert_gt(*size, 0);
	uint8_t *buf = malloc(*size);
	size_t head = actor__frame_encode_head(buf, from, to, name, strlen(name), len);
	memcpy(buf + head, body, len);
	return buf;
}

static uint64_t metric(uint16_t http_port, const char *key)
{
	char *body = NULL;
	cr_assert_eq(http_call(http_port, "GET", "/metrics/snapshot", NULL, NULL, 0, &body), 200);
	json_error_t err;
	json_t *o = json_loads(body, 0, &err);
	cr_assert_not_null(o, "metrics are not JSON: %s", err.text);
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_integer(v), "no integer %s in %s", key, body);
	uint64_t n = (uint64_t)json_integer_value(v);
	json_decref(o);
	free(body);
	return n;
}

Test(remote, garbage_and_truncated_frames_do_not_stop_the_peer)
{
	peer_start(&peer, echo_args);
	uint16_t port = peer.actor.port;
	uint64_t dropped_before = metric(peer.http_port, "actor/frames_dropped");

	/* 1: random bytes. The peer must close the connection. */
	int fd = tcp_connect(port);
	cr_assert_geq(fd, 0);
	uint8_t junk[4096];
	srand(7);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	cr_assert(tcp_wait_closed(fd, 10000), "garbage must close the connection");
	close(fd);

	/* 2: a frame cut short, then the sender vanishes. */
	actor_pid me = probe_pid(), bad = peer.actor;
	size_t size;
	uint8_t *f = frame(&me, &peer.actor, "ping", "truncated", 9, &size);
	fd = tcp_connect(port);
	cr_assert_eq(write(fd, f, size - 3), (ssize_t)(size - 3));
	close(fd);
	free(f);

	/* 3: well framed, but for a PID of another process, then for an unknown actor,
	 * then junk so the peer closes: everything before it has been read by then. */
	bad.port = (uint16_t)(port + 1);
	fd = tcp_connect(port);
	f = frame(&me, &bad, "ping", "x", 1, &size);
	cr_assert_eq(write(fd, f, size), (ssize_t)size);
	free(f);
	actor_pid nobody = peer.actor;
	strcpy(nobody.id, "nobody");
	nobody.len = 6;
	f = frame(&me, &nobody, "ping", "x", 1, &size);
	cr_assert_eq(write(fd, f, size), (ssize_t)size);
	free(f);
	cr_assert_eq(write(fd, "garbage!", 8), 8);
	cr_assert(tcp_wait_closed(fd, 10000));
	close(fd);

	/* 4: a header announcing a frame over the peer's limit (64 MiB by default). */
	uint8_t huge[ACTOR__FRAME_HEADER] = {'P', 'X', 1, 0, 0, 0, 0, 0x10}; /* 256 MiB */
	fd = tcp_connect(port);
	cr_assert_eq(write(fd, huge, sizeof(huge)), (ssize_t)sizeof(huge));
	cr_assert(tcp_wait_closed(fd, 10000), "an oversized frame must close the connection");
	close(fd);

	/* The peer is alive and still serves others. */
	cr_assert(peer_alive(&peer));
	ping_once(peer.actor, "still here");
	cr_assert_geq(metric(peer.http_port, "actor/messages_dropped"), 1,
		      "the message for an unknown actor is counted as dropped");
	uint64_t dropped = metric(peer.http_port, "actor/frames_dropped") - dropped_before;
	cr_assert_geq(dropped, 4, "garbage, misaddressed, trailing junk and oversized frames "
				  "are counted (got %llu)", (unsigned long long)dropped);
}

Test(remote, oversized_messages_are_refused_on_both_sides)
{
	/* Sender side: over our own limit (1 MiB here). */
	peer_start(&peer, echo_args);
	size_t big = 2 << 20;
	char *data = calloc(1, big);
	cr_assert_eq(probe_send(peer.actor, "ping", data, big), ACTOR_EMSGSIZE);
	peer_kill(&peer);

	/* Receiver side: within our limit but over the peer's (64 KiB). */
	const char *const small[] = {"echo", "0", "65536", NULL};
	peer_start(&peer, small);
	probe_link(peer.actor);
	ping_once(peer.actor, "small is fine");
	cr_assert_eq(probe_send(peer.actor, "ping", data, 100000), 0, "accepted locally");
	expect_exited(peer.actor); /* the peer closed the connection on us */
	cr_assert(peer_alive(&peer), "the receiver refuses, it does not crash");
	ping_once(peer.actor, "and serves again");
	free(data);
}

/* ---- the runtime ends cleanly while traffic is in flight ------------------------- */

static actor_pid flood_target;

static int flood_init(actor_t *self)
{
	for (int i = 0; i < 2000; i++)
		actor_send(self, flood_target, "ping", "0123456789abcdef", 16);
	actor_link(self, flood_target);
	return 0;
}

static const actor_def flood_def = {.name = "flood", .init = flood_init};

static void lifecycle_fini(void)
{
	peer_kill(&peer);
}

/* Each round starts a runtime, sends a burst to a live peer (whose answers come back
 * while we stop) and ends the runtime at once. Stopping must never hang or crash. */
Test(lifecycle, runtime_ends_with_frames_in_flight, .fini = lifecycle_fini, .timeout = 120)
{
	probe_start(0);
	peer_start(&peer, echo_args);
	flood_target = peer.actor;
	probe_stop();
	for (int round = 0; round < 150; round++) {
		actor_config cfg;
		actor_config_default(&cfg);
		cfg.listen = true;
		cfg.ip = "127.0.0.1";
		cfg.port = 0;
		cfg.http_port = round % 2 ? 0 : -1;
		cr_assert_eq(actor_runtime_init(&cfg), 0, "round %d", round);
		for (int k = 0; k < 3; k++)
			cr_assert_eq(actor_spawn(&flood_def, NULL, NULL), 0);
		actor_runtime_fini();
	}
	cr_assert(peer_alive(&peer), "the peer lives through it all");
}
