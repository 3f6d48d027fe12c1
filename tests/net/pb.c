/* Protobuf messages between actors: typed handlers get the unpacked message, bodies
 * that do not decode are dropped and counted, both locally and across OS processes. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pb_test.pb-c.h"
#include "probe.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int notes;
static char last_text[64];
static size_t last_parts;
static actor_pid last_from;

static void on_note(actor_t *self, actor_pid from, const ProtobufCMessage *m, void *arg)
{
	const Plexus__Test__Note *n = (const Plexus__Test__Note *)m;
	cr_assert_eq(m->descriptor, &plexus__test__note__descriptor);
	pthread_mutex_lock(&mu);
	snprintf(last_text, sizeof(last_text), "%s", n->text);
	last_parts = n->n_parts;
	last_from = from;
	notes++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void on_sync(actor_t *self, const actor_msg *msg, void *arg)
{
	actor_send(self, msg->from, "synced", NULL, 0);
}

static int reader_init(actor_t *self)
{
	actor_install(self, "sync", on_sync, NULL);
	return actor_install_pb(self, &plexus__test__note__descriptor, on_note, NULL);
}

static const actor_def reader_def = {.name = "reader", .init = reader_init};
static actor_pid reader;

static void setup(void)
{
	probe_start(0);
	cr_assert_eq(actor_spawn(&reader_def, NULL, &reader), 0);
}

static void teardown(void)
{
	actor_terminate(reader);
	actor_wait(reader, 10000);
	probe_stop();
}

TestSuite(pb, .init = setup, .fini = teardown, .timeout = 60);

static void wait_notes(int n)
{
	pthread_mutex_lock(&mu);
	while (notes < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static uint64_t metric(const char *key)
{
	char *text = actor_metrics_snapshot();
	json_t *o = json_loads(text, 0, NULL);
	free(text);
	cr_assert_not_null(o);
	uint64_t v = (uint64_t)json_integer_value(json_object_get(o, key));
	json_decref(o);
	return v;
}

Test(pb, typed_handler_gets_the_unpacked_message)
{
	Plexus__Test__Note n = PLEXUS__TEST__NOTE__INIT;
	ProtobufCBinaryData parts[2] = {{3, (uint8_t *)"abc"}, {1, (uint8_t *)"d"}};
	n.text = "hello";
	n.n_parts = 2;
	n.parts = parts;
	cr_assert_eq(actor_send_pb(NULL, reader, &n.base), 0);
	wait_notes(1);
	cr_assert_str_eq(last_text, "hello");
	cr_assert_eq(last_parts, 2);
}

Test(pb, a_body_that_does_not_decode_is_dropped_and_counted)
{
	uint64_t before = metric("actor/pb_decode_errors");
	/* A length-delimited field that runs past the end. */
	const uint8_t junk[] = {0x0a, 0x7f, 'x'};
	cr_assert_eq(actor_send(NULL, reader, plexus__test__note__descriptor.name, junk,
				sizeof(junk)), 0);
	/* Then a good one: when it arrives, the bad one (sent before) has been handled. */
	Plexus__Test__Note n = PLEXUS__TEST__NOTE__INIT;
	n.text = "after";
	cr_assert_eq(actor_send_pb(NULL, reader, &n.base), 0);
	wait_notes(1);
	cr_assert_eq(notes, 1, "the bad body never reaches the handler");
	cr_assert_str_eq(last_text, "after");
	cr_assert_eq(metric("actor/pb_decode_errors"), before + 1);
}

static uint64_t peer_metric(uint16_t port, const char *key)
{
	char *body = NULL;
	cr_assert_eq(http_call(port, "GET", "/metrics/snapshot", NULL, NULL, 0, &body), 200);
	json_t *o = json_loads(body, 0, NULL);
	free(body);
	cr_assert_not_null(o);
	uint64_t v = (uint64_t)json_integer_value(json_object_get(o, key));
	json_decref(o);
	return v;
}

Test(pb, across_processes_the_receiver_unpacks_and_drops_what_does_not_decode)
{
	peer_proc peer = {0};
	const char *const args[] = {"echo", NULL};
	peer_start(&peer, args);

	/* A body that does not decode, then a good message: the good one's answer comes
	 * after the bad one was handled (order per sender). */
	const uint8_t junk[] = {0x0a, 0x7f, 'x'};
	cr_assert_eq(probe_send(peer.actor, plexus__test__note__descriptor.name, junk,
				sizeof(junk)), 0);
	Plexus__Test__Note n = PLEXUS__TEST__NOTE__INIT;
	ProtobufCBinaryData parts[3] = {{1, (uint8_t *)"a"}, {1, (uint8_t *)"b"}, {1, (uint8_t *)"c"}};
	n.text = "remote";
	n.n_parts = 3;
	n.parts = parts;
	size_t size = protobuf_c_message_get_packed_size(&n.base);
	uint8_t *packed = malloc(size);
	protobuf_c_message_pack(&n.base, packed);
	cr_assert_eq(probe_send(peer.actor, plexus__test__note__descriptor.name, packed, size), 0);
	free(packed);

	probe_item it;
	cr_assert(probe_wait("noted", 10000, &it), "no answer to the good message");
	cr_assert_str_eq((char *)it.data, "remote/3");
	free(it.data);
	cr_assert_eq(peer_metric(peer.http_port, "actor/pb_decode_errors"), 1);
	peer_kill(&peer);
}

static intptr_t last_tag;

static void on_tagged_note(actor_t *self, actor_pid from, const ProtobufCMessage *m, void *arg)
{
	pthread_mutex_lock(&mu);
	last_tag = (intptr_t)arg;
	notes++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* Installs the typed handler a thousand times with different arguments: the last one
 * wins, and each replaced one is freed (a leak would fail this test under ASan). */
static int reinstaller_init(actor_t *self)
{
	for (intptr_t tag = 1; tag <= 1000; tag++) {
		int rc = actor_install_pb(self, &plexus__test__note__descriptor, on_tagged_note,
					  (void *)tag);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const actor_def reinstaller_def = {.name = "reinstaller", .init = reinstaller_init};

Test(pb, reinstalling_replaces_the_handler_and_frees_the_old_one)
{
	actor_pid pid;
	Plexus__Test__Note n = PLEXUS__TEST__NOTE__INIT;

	cr_assert_eq(actor_spawn(&reinstaller_def, NULL, &pid), 0);
	n.text = "again";
	cr_assert_eq(actor_send_pb(NULL, pid, &n.base), 0);
	wait_notes(1);
	cr_assert_eq(last_tag, 1000);
	actor_terminate(pid);
	cr_assert_eq(actor_wait(pid, 10000), 0);
}

Test(pb, install_checks_its_arguments)
{
	cr_assert_eq(actor_install_pb(NULL, &plexus__test__note__descriptor, on_note, NULL),
		     ACTOR_EINVAL);
	cr_assert_eq(actor_send_pb(NULL, reader, NULL), ACTOR_EINVAL);
}
