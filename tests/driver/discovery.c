/* Master discovery (common/master_discovery.h) against a real HTTP endpoint served by
 * an actor named "master" (GET /master/info), its errors, and a scheduler driver that
 * finds its master through it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/master_discovery.h"
#include "plexus/scheduler.h"
#include "peer.h"
#include "proto/internal.pb-c.h"

#define WAIT_MS 10000

/* What /master/info answers: 0 = the real JSON, 1 = JSON without "pid", 2 = not JSON. */
static int answer_mode;
static char info_pid[ACTOR_PID_TEXT_MAX];

static actor_future *info(actor_t *self, const actor_http_request *req, void *arg)
{
	char body[512];
	switch (answer_mode) {
	case 1:
		snprintf(body, sizeof(body), "{\"id\": \"m1\", \"hostname\": \"localhost\"}");
		break;
	case 2:
		snprintf(body, sizeof(body), "this is not json");
		break;
	default:
		snprintf(body, sizeof(body),
		         "{\"id\": \"m1\", \"pid\": \"%s\", \"hostname\": \"localhost\", "
		         "\"ip\": \"127.0.0.1\", \"port\": 1, \"version\": \"0.1.0\"}",
		         info_pid);
	}
	return actor_http_reply(200, "application/json", body, strlen(body));
}

/* The master's HTTP side: serves /master/info, naming info_pid. A peer cannot route
 * HTTP, so the scheduler test below points info_pid at a peer for the protocol. */
static int info_init(actor_t *self)
{
	return actor_http_route(self, "/info", info, NULL);
}

static const actor_def info_def = {.name = "master", .init = info_init};

static actor_pid info_actor;
static char http_addr[64];

static void setup(void)
{
	answer_mode = 0;
	test_runtime_start(true);
	cr_assert_eq(actor_spawn(&info_def, NULL, &info_actor), 0);
	actor_pid_format(info_actor, info_pid, sizeof(info_pid));
	cr_assert_neq(actor_runtime_http_port(), 0);
	snprintf(http_addr, sizeof(http_addr), "127.0.0.1:%u", actor_runtime_http_port());
}

static void teardown(void)
{
	test_runtime_stop();
}

TestSuite(discovery, .init = setup, .fini = teardown, .timeout = 60);

/* Awaits f and returns it (the caller unrefs). */
static actor_future *await(actor_future *f)
{
	cr_assert_not_null(f);
	cr_assert_eq(actor_future_await(f, WAIT_MS), 0, "discovery did not complete");
	return f;
}

Test(discovery, pid_spec_is_used_as_is)
{
	actor_future *f = await(px_master_discover("master@10.1.2.3:4567", 0));
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	const actor_pid *pid = actor_future_value(f);
	cr_expect_str_eq(actor_pid_str(*pid), "master@10.1.2.3:4567");
	actor_future_unref(f);
	cr_expect(px_master_spec_is_pid("master@10.1.2.3:4567"));
	cr_expect_not(px_master_spec_is_pid("10.1.2.3:4567"));
}

Test(discovery, http_address_gives_the_pid_from_master_info)
{
	actor_future *f = await(px_master_discover(http_addr, 0));
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY, "failed: %s",
	             actor_future_why(f) ? actor_future_why(f) : "?");
	const actor_pid *pid = actor_future_value(f);
	cr_expect(actor_pid_equal(*pid, info_actor), "got %s", actor_pid_str(*pid));
	actor_future_unref(f);

	char with_scheme[80];
	snprintf(with_scheme, sizeof(with_scheme), "http://%s", http_addr);
	f = await(px_master_discover(with_scheme, 0));
	cr_expect_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	actor_future_unref(f);
}

Test(discovery, unreachable_address_fails_with_econn)
{
	/* A port that was just free: nothing listens there. */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	char spec[64];
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(a.sin_port));

	actor_future *f = await(px_master_discover(spec, 2000));
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_FAILED);
	cr_expect_eq(actor_future_error(f), ACTOR_ECONN, "error %s",
	             actor_errname(actor_future_error(f)));
	cr_assert_not_null(actor_future_why(f));
	cr_expect(strstr(actor_future_why(f), "cannot reach the master") != NULL, "why: %s",
	          actor_future_why(f));
	cr_expect(strstr(actor_future_why(f), spec) != NULL, "why: %s", actor_future_why(f));
	actor_future_unref(f);
}

Test(discovery, bad_answers_fail_with_eproto)
{
	answer_mode = 1;
	actor_future *f = await(px_master_discover(http_addr, 0));
	cr_expect_eq(actor_future_state(f), ACTOR_FUTURE_FAILED);
	cr_expect_eq(actor_future_error(f), ACTOR_EPROTO);
	actor_future_unref(f);
	answer_mode = 2;
	f = await(px_master_discover(http_addr, 0));
	cr_expect_eq(actor_future_error(f), ACTOR_EPROTO);
	actor_future_unref(f);
}

Test(discovery, no_master_actor_answers_404)
{
	actor_terminate(info_actor);
	cr_assert_eq(actor_wait(info_actor, WAIT_MS), 0);
	actor_future *f = await(px_master_discover(http_addr, 0));
	cr_expect_eq(actor_future_error(f), ACTOR_ECONN);
	cr_expect(actor_future_why(f) && strstr(actor_future_why(f), "404"), "why: %s",
	          actor_future_why(f) ? actor_future_why(f) : "");
	actor_future_unref(f);
}

Test(discovery, malformed_specs_are_einval)
{
	const char *bad[] = {"",          "localhost", "host:",          "host:0", "host:70000",
	                     "host:12ab", "a@b",       "master@1.2.3.4", ":5050"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		cr_expect_eq(px_master_spec_check(bad[i], err, sizeof(err)), ACTOR_EINVAL, "'%s'",
		             bad[i]);
		cr_expect_neq(err[0], '\0', "no reason for '%s'", bad[i]);
		actor_future *f = await(px_master_discover(bad[i], 0));
		cr_expect_eq(actor_future_error(f), ACTOR_EINVAL, "'%s'", bad[i]);
		actor_future_unref(f);
	}
	cr_expect_eq(px_master_spec_check("localhost:5050", NULL, 0), 0);
	cr_expect_eq(px_master_spec_check("master@127.0.0.1:5050", NULL, 0), 0);
}

static struct counter registered;

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *mi, void *arg)
{
	counter_add(&registered, 1);
}

Test(discovery, scheduler_driver_finds_master_over_http)
{
	/* The protocol side is a recording peer; /master/info points at it. */
	peer *master = peer_spawn("master-protocol");
	snprintf(info_pid, sizeof(info_pid), "%s", peer_pid_text(master));

	memset(&registered, 0, sizeof(registered));
	px_scheduler_callbacks cb = {.registered = on_registered};
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.user = "u";
	fw.name = "n";
	px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, NULL, &fw, http_addr, NULL);
	cr_assert_not_null(d);
	cr_assert_eq(px_scheduler_driver_start(d), PX_DRIVER_RUNNING);
	actor_pid from;
	ProtobufCMessage *reg = peer_wait(
	    master, &plexus__internal__register_framework_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(reg, "the driver did not register with the discovered master");
	protobuf_c_message_free_unpacked(reg, NULL);
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-http";
	Plexus__Internal__FrameworkRegisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	peer_send(master, from, &ok.base);
	cr_expect(counter_wait(&registered, 1, WAIT_MS));
	px_scheduler_driver_free(d);
	peer_free(master);
}

static struct counter disconnected, reregistered;

static void on_disconnected(px_scheduler_driver *d, void *arg)
{
	counter_add(&disconnected, 1);
}

static void on_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *mi, void *arg)
{
	counter_add(&reregistered, 1);
}

/* A master that comes back under another PID is found again through /master/info, and
 * the framework re-registers there with its id. */
Test(discovery, lost_master_is_rediscovered_under_a_new_pid)
{
	peer *first = peer_spawn("master-a");
	peer *second = peer_spawn("master-b");
	snprintf(info_pid, sizeof(info_pid), "%s", peer_pid_text(first));

	memset(&registered, 0, sizeof(registered));
	memset(&disconnected, 0, sizeof(disconnected));
	memset(&reregistered, 0, sizeof(reregistered));
	px_scheduler_callbacks cb = {.registered = on_registered,
	                             .disconnected = on_disconnected,
	                             .reregistered = on_reregistered};
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.user = "u";
	fw.name = "n";
	px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, NULL, &fw, http_addr, NULL);
	cr_assert_not_null(d);
	cr_assert_eq(px_scheduler_driver_start(d), PX_DRIVER_RUNNING);
	actor_pid from;
	ProtobufCMessage *reg = peer_wait(
	    first, &plexus__internal__register_framework_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(reg);
	protobuf_c_message_free_unpacked(reg, NULL);
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-moved";
	Plexus__Internal__FrameworkRegisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	peer_send(first, from, &ok.base);
	cr_assert(counter_wait(&registered, 1, WAIT_MS));

	/* /master/info now names the second master; the first one goes away. */
	snprintf(info_pid, sizeof(info_pid), "%s", peer_pid_text(second));
	peer_kill(first);
	cr_assert(counter_wait(&disconnected, 1, WAIT_MS));
	Plexus__Internal__ReregisterFrameworkMessage *rr = (void *)peer_wait(
	    second, &plexus__internal__reregister_framework_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(rr, "the driver did not find the new master");
	cr_assert_not_null(rr->framework->id);
	cr_expect_str_eq(rr->framework->id->value, "fw-moved");
	protobuf_c_message_free_unpacked(&rr->base, NULL);
	Plexus__Internal__FrameworkReregisteredMessage again =
	    PLEXUS__INTERNAL__FRAMEWORK_REREGISTERED_MESSAGE__INIT;
	again.framework_id = &fid;
	peer_send(second, from, &again.base);
	cr_expect(counter_wait(&reregistered, 1, WAIT_MS));
	px_scheduler_driver_free(d);
	peer_free(first);
	peer_free(second);
}
