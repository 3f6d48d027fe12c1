/* scheduler_api.c — Mesos's v1 Scheduler HTTP API against a real `plexus local`: a
 * framework that is nothing but HTTP (libcurl) subscribes, gets offers, launches a
 * command task, sees it finish and acknowledges each update; the same in protobuf;
 * failover of an HTTP framework; and every malformed request answered with its
 * status and reason while the master goes on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "proto/scheduler.pb-c.h"
#include "v1_client.h"

#define API "/api/v1/scheduler"

static int port;
static struct v1_stream *streams[4];

static bool healthy(void *arg)
{
	return http_get(port, "/health", NULL) == 200 && master_active_agents(port) == 1;
}

static void setup(void)
{
	char port_flag[32], work[512];

	memset(streams, 0, sizeof(streams));
	harness_init();
	port = free_port();
	snprintf(port_flag, sizeof(port_flag), "--port=%d", port);
	snprintf(work, sizeof(work), "--work-dir=%s/local", harness_dir());
	plexus_spawnl("local", "local", "--agents=1", port_flag, work,
	              "--resources=cpus:1;mem:512;disk:1024", "--allocation-interval=100ms",
	              "--status-update-retry-interval-min=200ms", NULL);
	cr_assert(wait_until(10000, healthy, NULL), "plexus local never came up");
}

static void teardown(void)
{
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++)
		v1_close(streams[i]);
	harness_fini();
}

TestSuite(scheduler_api, .init = setup, .fini = teardown, .timeout = 90);

static const char *value_at(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);
	if (b != NULL)
		v = json_object_get(v, b);
	if (c != NULL)
		v = json_object_get(v, c);
	return json_string_value(v);
}

static struct v1_stream *subscribe_json(const char *extra_info, const char *framework_id)
{
	char body[1024];
	if (framework_id != NULL)
		snprintf(body, sizeof(body),
		         "{\"type\": \"SUBSCRIBE\", \"framework_id\": {\"value\": \"%s\"}, "
		         "\"subscribe\": {\"framework_info\": {\"user\": \"root\", \"name\": "
		         "\"http fw\", \"id\": {\"value\": \"%s\"}%s}}}",
		         framework_id, framework_id, extra_info);
	else
		snprintf(body, sizeof(body),
		         "{\"type\": \"SUBSCRIBE\", \"subscribe\": {\"framework_info\": "
		         "{\"user\": \"root\", \"name\": \"http fw\"%s}}}",
		         extra_info);
	return v1_subscribe(port, API, body, strlen(body), false, "application/json");
}

/* The task's agent and the update's uuid of the next UPDATE for task in state. */
static json_t *wait_update(struct v1_stream *s, size_t *next, const char *task, const char *state)
{
	for (;;) {
		json_t *ev = v1_wait_event(s, "UPDATE", next, 20000);
		if (ev == NULL)
			return NULL;
		json_t *st = json_object_get(json_object_get(ev, "update"), "status");
		if (strcmp(value_at(st, "task_id", "value", NULL), task) == 0 &&
		    strcmp(json_string_value(json_object_get(st, "state")), state) == 0)
			return ev;
		json_decref(ev);
	}
}

static void ack(struct v1_stream *s, const char *fw, json_t *update_ev)
{
	json_t *st = json_object_get(json_object_get(update_ev, "update"), "status");
	const char *uuid = json_string_value(json_object_get(st, "uuid"));
	cr_assert_not_null(uuid, "the update has no uuid to acknowledge");
	long code = v1_post_json(
	    port, API, v1_stream_id(s), NULL,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"ACKNOWLEDGE\", \"acknowledge\": "
	    "{\"agent_id\": {\"value\": \"%s\"}, \"task_id\": {\"value\": \"%s\"}, \"uuid\": "
	    "\"%s\"}}",
	    fw, value_at(st, "agent_id", "value", NULL), value_at(st, "task_id", "value", NULL),
	    uuid);
	cr_assert_eq(code, 202);
}

Test(scheduler_api, json_framework_subscribes_launches_and_acknowledges)
{
	struct v1_stream *s = streams[0] = subscribe_json("", NULL);
	size_t next = 0;

	cr_assert_not_null(s, "no answer to SUBSCRIBE");
	cr_assert_eq(v1_status(s), 200);
	cr_assert_eq(strlen(v1_stream_id(s)), 36, "Mesos-Stream-Id: '%s'", v1_stream_id(s));
	json_t *ev = v1_wait_event(s, NULL, &next, 10000);
	cr_assert_not_null(ev, "no event");
	cr_assert_str_eq(value_at(ev, "type", NULL, NULL), "SUBSCRIBED");
	char fw[128];
	snprintf(fw, sizeof(fw), "%s", value_at(ev, "subscribed", "framework_id", "value"));
	cr_expect_eq(json_real_value(json_object_get(json_object_get(ev, "subscribed"),
	                                             "heartbeat_interval_seconds")),
	             15.0);
	cr_expect_not_null(json_object_get(json_object_get(ev, "subscribed"), "master_info"));
	json_decref(ev);
	ev = v1_wait_event(s, NULL, &next, 10000);
	cr_assert_not_null(ev);
	cr_expect_str_eq(value_at(ev, "type", NULL, NULL), "HEARTBEAT");
	json_decref(ev);

	json_t *offers = v1_wait_event(s, "OFFERS", &next, 10000);
	cr_assert_not_null(offers, "no OFFERS event");
	json_t *offer =
	    json_array_get(json_object_get(json_object_get(offers, "offers"), "offers"), 0);
	cr_assert_not_null(offer);
	cr_expect_str_eq(value_at(offer, "framework_id", "value", NULL), fw);
	long code = v1_post_json(
	    port, API, v1_stream_id(s), NULL,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"ACCEPT\", \"accept\": "
	    "{\"offer_ids\": [{\"value\": \"%s\"}], \"operations\": [{\"type\": \"LAUNCH\", "
	    "\"launch\": {\"task_infos\": [{\"name\": \"hello\", \"task_id\": {\"value\": "
	    "\"hello\"}, \"agent_id\": {\"value\": \"%s\"}, \"command\": {\"value\": \"echo "
	    "hi\"}, \"resources\": [{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": "
	    "{\"value\": 0.1}}, {\"name\": \"mem\", \"type\": \"SCALAR\", \"scalar\": "
	    "{\"value\": 32}}]}]}}], \"filters\": {\"refuse_seconds\": 1}}}",
	    fw, value_at(offer, "id", "value", NULL), value_at(offer, "agent_id", "value", NULL));
	json_decref(offers);
	cr_assert_eq(code, 202);

	/* Updates come one at a time per task, each after the previous one's ack. */
	const char *states[] = {"TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"};
	for (size_t i = 0; i < 3; i++) {
		ev = wait_update(s, &next, "hello", states[i]);
		cr_assert_not_null(ev, "no %s update", states[i]);
		ack(s, fw, ev);
		json_decref(ev);
	}
	/* The master saw the acknowledgement of the terminal update: the task is done. */
	cr_assert(wait_master_task_state(port, "hello", "TASK_FINISHED", 10000));

	/* Explicit reconciliation of a task the master never heard of. */
	code = v1_post_json(port, API, v1_stream_id(s), NULL,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"RECONCILE\", "
	                    "\"reconcile\": {\"tasks\": [{\"task_id\": {\"value\": \"ghost\"}}]}}",
	                    fw);
	cr_assert_eq(code, 202);
	ev = wait_update(s, &next, "ghost", "TASK_LOST");
	cr_assert_not_null(ev, "no reconciliation answer for an unknown task");
	cr_expect_str_eq(json_string_value(json_object_get(
	                     json_object_get(json_object_get(ev, "update"), "status"), "reason")),
	                 "REASON_RECONCILIATION");
	json_decref(ev);

	/* The master lists the HTTP framework like any other. */
	json_t *st = http_json(port, "/master/frameworks");
	cr_assert_not_null(st);
	json_t *f0 = json_array_get(json_object_get(st, "frameworks"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(f0, "id")), fw);
	cr_expect(json_is_true(json_object_get(f0, "active")));
	json_decref(st);

	/* TEARDOWN removes it and ends the stream. */
	code = v1_post_json(port, API, v1_stream_id(s), NULL,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"TEARDOWN\"}", fw);
	cr_assert_eq(code, 202);
	cr_assert(v1_wait_closed(s, 10000), "the stream did not end after TEARDOWN");
	st = http_json(port, "/master/frameworks");
	cr_expect_eq(json_array_size(json_object_get(st, "frameworks")), 0);
	cr_expect_eq(json_array_size(json_object_get(st, "completed_frameworks")), 1);
	json_decref(st);
}

/* A Call packed as protobuf. */
static long post_pb(const char *stream_id, const Plexus__Scheduler__Call *call)
{
	size_t len = plexus__scheduler__call__get_packed_size(call);
	uint8_t *buf = malloc(len ? len : 1);
	plexus__scheduler__call__pack(call, buf);
	long code = v1_post(port, API, "application/x-protobuf", stream_id, buf, len, NULL);
	free(buf);
	return code;
}

Test(scheduler_api, protobuf_framework_subscribes_declines_and_tears_down)
{
	Plexus__Scheduler__Call call = PLEXUS__SCHEDULER__CALL__INIT;
	Plexus__Scheduler__Call__Subscribe sub = PLEXUS__SCHEDULER__CALL__SUBSCRIBE__INIT;
	Plexus__FrameworkInfo info = PLEXUS__FRAMEWORK_INFO__INIT;

	info.user = "root";
	info.name = "protobuf fw";
	sub.framework_info = &info;
	call.has_type = true;
	call.type = PLEXUS__SCHEDULER__CALL__TYPE__SUBSCRIBE;
	call.subscribe = &sub;
	size_t len = plexus__scheduler__call__get_packed_size(&call);
	uint8_t *buf = malloc(len);
	plexus__scheduler__call__pack(&call, buf);
	struct v1_stream *s = streams[0] =
	    v1_subscribe(port, API, buf, len, true, "application/x-protobuf");
	free(buf);
	cr_assert_not_null(s);
	cr_assert_eq(v1_status(s), 200);

	size_t next = 0;
	json_t *ev = v1_wait_event(s, "SUBSCRIBED", &next, 10000);
	cr_assert_not_null(ev, "no SUBSCRIBED event decoded from protobuf");
	char fw[128];
	snprintf(fw, sizeof(fw), "%s", value_at(ev, "subscribed", "framework_id", "value"));
	json_decref(ev);
	json_t *offers = v1_wait_event(s, "OFFERS", &next, 10000);
	cr_assert_not_null(offers);
	json_t *offer =
	    json_array_get(json_object_get(json_object_get(offers, "offers"), "offers"), 0);

	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	Plexus__OfferID *oids[] = {&oid};
	Plexus__Filters filters = PLEXUS__FILTERS__INIT;
	Plexus__Scheduler__Call__Decline decline = PLEXUS__SCHEDULER__CALL__DECLINE__INIT;
	Plexus__Scheduler__Call dc = PLEXUS__SCHEDULER__CALL__INIT;
	fid.value = fw;
	oid.value = (char *)value_at(offer, "id", "value", NULL);
	filters.has_refuse_seconds = true;
	filters.refuse_seconds = 0.2;
	decline.n_offer_ids = 1;
	decline.offer_ids = oids;
	decline.filters = &filters;
	dc.framework_id = &fid;
	dc.has_type = true;
	dc.type = PLEXUS__SCHEDULER__CALL__TYPE__DECLINE;
	dc.decline = &decline;
	cr_assert_eq(post_pb(v1_stream_id(s), &dc), 202);
	/* The declined resources come back after the short filter, in a new offer. */
	json_t *again = v1_wait_event(s, "OFFERS", &next, 10000);
	cr_assert_not_null(again, "no offer after the decline's filter expired");
	json_t *o2 = json_array_get(json_object_get(json_object_get(again, "offers"), "offers"), 0);
	cr_expect_str_neq(value_at(o2, "id", "value", NULL), oid.value);
	json_decref(again);
	json_decref(offers);

	/* SUPPRESS, then REVIVE: both accepted. */
	Plexus__Scheduler__Call sc = PLEXUS__SCHEDULER__CALL__INIT;
	sc.framework_id = &fid;
	sc.has_type = true;
	sc.type = PLEXUS__SCHEDULER__CALL__TYPE__SUPPRESS;
	cr_expect_eq(post_pb(v1_stream_id(s), &sc), 202);
	sc.type = PLEXUS__SCHEDULER__CALL__TYPE__REVIVE;
	cr_expect_eq(post_pb(v1_stream_id(s), &sc), 202);

	sc.type = PLEXUS__SCHEDULER__CALL__TYPE__TEARDOWN;
	cr_assert_eq(post_pb(v1_stream_id(s), &sc), 202);
	cr_assert(v1_wait_closed(s, 10000), "the stream did not end after TEARDOWN");
}

static bool framework_disconnected(void *arg)
{
	json_t *st = http_json(port, "/master/frameworks");
	json_t *f0 = json_array_get(json_object_get(st, "frameworks"), 0);
	bool gone = f0 != NULL && json_is_false(json_object_get(f0, "connected"));
	json_decref(st);
	return gone;
}

Test(scheduler_api, closed_stream_disconnects_and_resubscribe_fails_over)
{
	struct v1_stream *s = streams[0] = subscribe_json(", \"failover_timeout\": 60", NULL);
	size_t next = 0;

	cr_assert_not_null(s);
	json_t *ev = v1_wait_event(s, "SUBSCRIBED", &next, 10000);
	cr_assert_not_null(ev);
	char fw[128];
	snprintf(fw, sizeof(fw), "%s", value_at(ev, "subscribed", "framework_id", "value"));
	json_decref(ev);
	char old_stream[64];
	snprintf(old_stream, sizeof(old_stream), "%s", v1_stream_id(s));

	/* The client goes away: the master keeps the framework for its failover timeout. */
	v1_close(s);
	streams[0] = NULL;
	cr_assert(wait_until(10000, framework_disconnected, NULL),
	          "the master never saw the stream close");
	long code =
	    v1_post_json(port, API, old_stream, NULL,
	                 "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"REVIVE\"}", fw);
	cr_expect_eq(code, 403, "a call of a disconnected framework: %ld", code);

	/* A new subscription with the id takes the framework over. */
	s = streams[1] = subscribe_json(", \"failover_timeout\": 60", fw);
	cr_assert_not_null(s);
	next = 0;
	ev = v1_wait_event(s, "SUBSCRIBED", &next, 10000);
	cr_assert_not_null(ev, "no SUBSCRIBED after failover");
	cr_expect_str_eq(value_at(ev, "subscribed", "framework_id", "value"), fw);
	json_decref(ev);
	cr_expect_str_neq(v1_stream_id(s), old_stream);
	json_t *st = http_json(port, "/master/frameworks");
	json_t *f0 = json_array_get(json_object_get(st, "frameworks"), 0);
	cr_expect(json_is_true(json_object_get(f0, "connected")));
	cr_expect(json_is_true(json_object_get(f0, "active")));
	json_decref(st);
	/* The old stream id is not the framework's any more. */
	code = v1_post_json(port, API, old_stream, NULL,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"REVIVE\"}", fw);
	cr_expect_eq(code, 400);
	ev = v1_wait_event(s, "OFFERS", &next, 10000);
	cr_expect_not_null(ev, "no offers after failover");
	json_decref(ev);
}

Test(scheduler_api, bad_requests_get_their_status_and_reason)
{
	struct v1_stream *s = streams[0] = subscribe_json("", NULL);
	size_t next = 0;
	char *out = NULL;

	cr_assert_not_null(s);
	json_t *ev = v1_wait_event(s, "SUBSCRIBED", &next, 10000);
	cr_assert_not_null(ev);
	char fw[128];
	snprintf(fw, sizeof(fw), "%s", value_at(ev, "subscribed", "framework_id", "value"));
	json_decref(ev);
	const char *sid = v1_stream_id(s);

	struct {
		const char *ctype, *stream, *body;
		long status;
		const char *reason;
	} cases[] = {
	    {"text/plain", NULL, "{}", 415, "Content-Type"},
	    {NULL, NULL, "{}", 415, "Content-Type"},
	    {"application/json", NULL, "{not json", 400, "invalid JSON"},
	    {"application/json", NULL, "[1, 2]", 400, "JSON object"},
	    {"application/json", NULL, "{\"type\": \"NO_SUCH_CALL\"}", 400, "NO_SUCH_CALL"},
	    {"application/json", NULL, "{\"type\": 99}", 400, "type"},
	    {"application/json", NULL, "{}", 400, "'type'"},
	    {"application/json", NULL, "{\"type\": \"SUBSCRIBE\"}", 400, "subscribe"},
	    {"application/json", NULL, "{\"type\": \"REVIVE\", \"bogus_field\": 1}", 400,
	     "bogus_field"},
	    {"application/json", NULL, "{\"type\": \"REVIVE\"}", 400, "framework_id"},
	    {"application/x-protobuf", NULL, "\xff\xff\xff", 400, "Call"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long code = v1_post(port, API, cases[i].ctype, cases[i].stream, cases[i].body,
		                    strlen(cases[i].body), &out);
		cr_expect_eq(code, cases[i].status, "case %zu: %ld %s", i, code, out);
		cr_expect(strstr(out, cases[i].reason) != NULL, "case %zu: reason '%s'", i, out);
		free(out);
	}
	/* Stream ids: missing, wrong; an unknown framework. */
	long code =
	    v1_post_json(port, API, NULL, &out,
	                 "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"REVIVE\"}", fw);
	cr_expect_eq(code, 400);
	cr_expect(strstr(out, "Mesos-Stream-Id") != NULL, "%s", out);
	free(out);
	code = v1_post_json(port, API, "not-the-stream", &out,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"REVIVE\"}", fw);
	cr_expect_eq(code, 400);
	cr_expect(strstr(out, "didn't match") != NULL, "%s", out);
	free(out);
	code = v1_post_json(port, API, sid, &out,
	                    "{\"framework_id\": {\"value\": \"nobody\"}, \"type\": \"REVIVE\"}");
	cr_expect_eq(code, 403, "%s", out);
	free(out);
	/* A call that misses its own part, and a bad uuid. */
	code = v1_post_json(port, API, sid, &out,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"ACCEPT\"}", fw);
	cr_expect_eq(code, 400, "%s", out);
	free(out);
	code = v1_post_json(port, API, sid, &out,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"ACKNOWLEDGE\", "
	                    "\"acknowledge\": {\"agent_id\": {\"value\": \"a\"}, \"task_id\": "
	                    "{\"value\": \"t\"}, \"uuid\": \"AAAA\"}}",
	                    fw);
	cr_expect_eq(code, 400, "%s", out);
	free(out);
	/* An Accept that allows neither type, and a GET. */
	const char *subscribe = "{\"type\": \"SUBSCRIBE\", \"subscribe\": {\"framework_info\": "
	                        "{\"user\": \"root\", \"name\": \"x\"}}}";
	struct v1_stream *bad =
	    v1_subscribe(port, API, subscribe, strlen(subscribe), false, "text/html");
	cr_assert_not_null(bad);
	cr_expect_eq(v1_status(bad), 406);
	v1_close(bad);
	cr_expect_eq(http_get(port, API, NULL), 405);

	/* Nothing of it disturbed the master or the subscriber. */
	cr_expect_eq(http_get(port, "/health", NULL), 200);
	ev = v1_wait_event(s, "OFFERS", &next, 10000);
	cr_expect_not_null(ev, "the subscriber lost its offers");
	json_decref(ev);
	code = v1_post_json(port, API, sid, NULL,
	                    "{\"framework_id\": {\"value\": \"%s\"}, \"type\": \"REVIVE\"}", fw);
	cr_expect_eq(code, 202);
}
