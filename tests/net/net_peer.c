/* net_peer — the other OS process of the tests in tests/net.
 *
 *   net_peer ROLE PROBE-PID [PORT [MAX-FRAME]]
 *
 * Listens on 127.0.0.1:PORT (0: ephemeral) with an HTTP server, spawns the actor "echo"
 * and sends "ready" (body: the HTTP port in decimal) from it to PROBE-PID. ROLE is
 * informational ("echo"). Runs until its stdin closes, then ends the runtime and exits 0.
 *
 * echo answers: "ping" -> "pong" with the same body to the sender; "stop" -> ends
 * itself; "go" (body "SINK-PID COUNT") -> spawns 4 senders that each send COUNT "seq"
 * messages (body: sender index u32, sequence number u64) to SINK-PID;
 * plexus.test.Note (protobuf, typed handler) -> "noted" with the note's text and the
 * number of its parts. */
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/libactor.h"
#include "actor/pb.h"
#include "pb_test.pb-c.h"

#define SENDERS 4

static actor_pid probe;

struct sender {
	actor_pid sink;
	uint32_t index;
	uint64_t count;
};

static void send_all(actor_t *self, void *arg)
{
	struct sender *s = actor_state(self);
	uint8_t body[12];
	memcpy(body, &s->index, 4);
	for (uint64_t i = 0; i < s->count; i++) {
		memcpy(body + 4, &i, 8);
		int rv = actor_send(self, s->sink, "seq", body, sizeof(body));
		if (rv != 0) {
			fprintf(stderr, "net_peer: send failed: %s\n", actor_strerror(rv));
			break;
		}
	}
}

static int sender_init(actor_t *self)
{
	return actor_call(actor_self(self), send_all, NULL);
}

static void sender_fini(actor_t *self)
{
	free(actor_state(self));
}

static const actor_def sender_def = {.name = "sender", .init = sender_init, .fini = sender_fini};

static void on_ping(actor_t *self, const actor_msg *msg, void *arg)
{
	actor_send(self, msg->from, "pong", msg->data, msg->len);
}

static void on_stop(actor_t *self, const actor_msg *msg, void *arg)
{
	actor_terminate(actor_self(self));
}

static void on_go(actor_t *self, const actor_msg *msg, void *arg)
{
	char text[160];
	size_t n = msg->len < sizeof(text) - 1 ? msg->len : sizeof(text) - 1;
	memcpy(text, msg->data, n);
	text[n] = 0;
	char *space = strchr(text, ' ');
	actor_pid sink;
	if (space == NULL)
		return;
	*space = 0;
	if (actor_pid_parse(text, &sink) != 0)
		return;
	uint64_t count = strtoull(space + 1, NULL, 10);
	for (uint32_t i = 0; i < SENDERS; i++) {
		struct sender *s = malloc(sizeof(*s));
		s->sink = sink;
		s->index = i;
		s->count = count;
		if (actor_spawn(&sender_def, s, NULL) != 0)
			free(s);
	}
}

static void on_note(actor_t *self, actor_pid from, const ProtobufCMessage *m, void *arg)
{
	const Plexus__Test__Note *n = (const Plexus__Test__Note *)m;
	char text[256];
	int len = snprintf(text, sizeof(text), "%s/%zu", n->text, n->n_parts);
	actor_send(self, from, "noted", text, (size_t)len);
}

static int echo_init(actor_t *self)
{
	actor_install_pb(self, &plexus__test__note__descriptor, on_note, NULL);
	actor_install(self, "ping", on_ping, NULL);
	actor_install(self, "stop", on_stop, NULL);
	actor_install(self, "go", on_go, NULL);
	char port[16];
	int n = snprintf(port, sizeof(port), "%u", actor_runtime_http_port());
	return actor_send(self, probe, "ready", port, (size_t)n);
}

static const actor_def echo_def = {.name = "echo", .init = echo_init};

int main(int argc, char **argv)
{
	if (argc < 3 || actor_pid_parse(argv[2], &probe) != 0) {
		fprintf(stderr, "usage: net_peer ROLE PROBE-PID [PORT [MAX-FRAME]]\n");
		return 2;
	}
	/* Never outlive the test that started us, even if it is killed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.ip = "127.0.0.1";
	cfg.port = argc > 3 ? atoi(argv[3]) : 0;
	cfg.max_frame = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	cfg.http_port = 0;
	cfg.workers = 2;
	int rv = actor_runtime_init(&cfg);
	if (rv != 0) {
		fprintf(stderr, "net_peer: runtime: %s\n", actor_strerror(rv));
		return 1;
	}
	actor_pid echo;
	rv = actor_spawn(&echo_def, NULL, &echo);
	if (rv != 0) {
		fprintf(stderr, "net_peer: spawn: %s\n", actor_strerror(rv));
		actor_runtime_fini();
		return 1;
	}
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	actor_runtime_fini();
	return 0;
}
