/* operator_api.c — Mesos's v1 Operator HTTP API of the master (POST /api/v1) against a
 * real `plexus local`: the GET_* calls in JSON and in protobuf, TEARDOWN, bad requests,
 * and SUBSCRIBE: a snapshot, then the events of a task launched by `plexus execute`
 * from start to finish. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "proto/master.pb-c.h"
#include "v1_client.h"

static int port;
static char master_flag[64];
static struct v1_stream *stream;

static bool healthy(void *arg)
{
	return http_get(port, "/health", NULL) == 200 && master_active_agents(port) == 1;
}

static void setup(void)
{
	char port_flag[32], work[512];

	stream = NULL;
	harness_init();
	port = free_port();
	snprintf(port_flag, sizeof(port_flag), "--port=%d", port);
	snprintf(master_flag, sizeof(master_flag), "--master=127.0.0.1:%d", port);
	snprintf(work, sizeof(work), "--work-dir=%s/local", harness_dir());
	plexus_spawnl("local", "local", "--agents=1", port_flag, work,
	              "--resources=cpus:1;mem:512;disk:1024", "--allocation-interval=100ms", NULL);
	cr_assert(wait_until(10000, healthy, NULL), "plexus local never came up");
}

static void teardown(void)
{
	v1_close(stream);
	harness_fini();
}

TestSuite(operator_api, .init = setup, .fini = teardown, .timeout = 90);

/* A call of type in JSON; its answer parsed (NULL unless 200 and JSON). */
static json_t *call_json(const char *type)
{
	char *out = NULL;
	long code = v1_post_json(port, "/api/v1", NULL, &out, "{\"type\": \"%s\"}", type);
	json_t *j = code == 200 ? json_loads(out, 0, NULL) : NULL;
	cr_expect_eq(code, 200, "%s: %ld %s", type, code, out);
	free(out);
	return j;
}

Test(operator_api, get_calls_answer_in_json)
{
	json_t *j = call_json("GET_HEALTH");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "type")), "GET_HEALTH");
	cr_expect(json_is_true(json_object_get(json_object_get(j, "get_health"), "healthy")));
	json_decref(j);

	j = call_json("GET_VERSION");
	cr_assert_not_null(j);
	cr_expect_not_null(json_string_value(json_object_get(
	    json_object_get(json_object_get(j, "get_version"), "version_info"), "version")));
	json_decref(j);

	j = call_json("GET_FLAGS");
	cr_assert_not_null(j);
	json_t *flags = json_object_get(json_object_get(j, "get_flags"), "flags");
	bool interval = false;
	for (size_t i = 0; i < json_array_size(flags); i++) {
		json_t *f = json_array_get(flags, i);
		if (strcmp(json_string_value(json_object_get(f, "name")), "allocation_interval") ==
		    0)
			interval =
			    strcmp(json_string_value(json_object_get(f, "value")), "100ms") == 0;
	}
	cr_expect(interval, "no allocation_interval of 100ms among the flags");
	json_decref(j);

	j = call_json("GET_METRICS");
	cr_assert_not_null(j);
	cr_expect_gt(json_array_size(json_object_get(json_object_get(j, "get_metrics"), "metrics")),
	             10);
	json_decref(j);

	j = call_json("GET_AGENTS");
	cr_assert_not_null(j);
	json_t *agents = json_object_get(json_object_get(j, "get_agents"), "agents");
	cr_assert_eq(json_array_size(agents), 1);
	json_t *a0 = json_array_get(agents, 0);
	cr_expect(json_is_true(json_object_get(a0, "active")));
	cr_expect_gt(json_array_size(json_object_get(a0, "total_resources")), 0);
	json_decref(j);

	j = call_json("GET_MASTER");
	cr_assert_not_null(j);
	cr_expect_not_null(json_object_get(json_object_get(j, "get_master"), "master_info"));
	json_decref(j);

	j = call_json("GET_STATE");
	cr_assert_not_null(j);
	cr_expect_not_null(json_object_get(json_object_get(j, "get_state"), "get_agents"));
	json_decref(j);
}

Test(operator_api, get_state_answers_in_protobuf)
{
	Plexus__Master__Call call = PLEXUS__MASTER__CALL__INIT;
	uint8_t buf[16];
	char *out = NULL;

	call.has_type = true;
	call.type = PLEXUS__MASTER__CALL__TYPE__GET_STATE;
	size_t len = plexus__master__call__pack(&call, buf);
	/* v1_post sends no Accept: the answer is JSON then; ask for protobuf with a
	 * protobuf body and check the bytes decode. */
	long code = v1_post(port, "/api/v1", "application/x-protobuf", NULL, buf, len, &out);
	cr_assert_eq(code, 200);
	json_t *j = json_loads(out, 0, NULL);
	cr_expect_not_null(j, "without Accept the answer is JSON: %s", out);
	json_decref(j);
	free(out);

	size_t n = 0;
	code = v1_post_accept(port, "/api/v1", "application/x-protobuf", "application/x-protobuf",
	                      NULL, buf, len, &out, &n);
	cr_assert_eq(code, 200);
	Plexus__Master__Response *r =
	    plexus__master__response__unpack(NULL, n, (const uint8_t *)out);
	cr_assert_not_null(r, "the answer is not a protobuf Response");
	cr_expect_eq(r->type, PLEXUS__MASTER__RESPONSE__TYPE__GET_STATE);
	cr_assert_not_null(r->get_state);
	cr_assert_not_null(r->get_state->get_agents);
	cr_expect_eq(r->get_state->get_agents->n_agents, 1);
	cr_expect_gt(r->get_state->get_agents->agents[0]->n_total_resources, 0);
	plexus__master__response__free_unpacked(r, NULL);
	free(out);
}

Test(operator_api, subscribe_sends_a_snapshot_then_task_events)
{
	const char *body = "{\"type\": \"SUBSCRIBE\"}";
	size_t next = 0;

	stream = v1_subscribe(port, "/api/v1", body, strlen(body), false, "application/json");
	cr_assert_not_null(stream);
	cr_assert_eq(v1_status(stream), 200);
	json_t *ev = v1_wait_event(stream, NULL, &next, 10000);
	cr_assert_not_null(ev);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "type")), "SUBSCRIBED");
	json_t *snap = json_object_get(json_object_get(ev, "subscribed"), "get_state");
	cr_expect_eq(
	    json_array_size(json_object_get(json_object_get(snap, "get_agents"), "agents")), 1);
	json_decref(ev);
	ev = v1_wait_event(stream, NULL, &next, 10000);
	cr_assert_not_null(ev);
	cr_expect_str_eq(json_string_value(json_object_get(ev, "type")), "HEARTBEAT");
	json_decref(ev);

	const char *args[] = {"execute", master_flag, "--name=watched", "--command=echo watched",
	                      NULL};
	cr_assert_eq(plexus_run(NULL, 30000, args), 0);

	ev = v1_wait_event(stream, "FRAMEWORK_ADDED", &next, 10000);
	cr_assert_not_null(ev, "no FRAMEWORK_ADDED");
	json_decref(ev);
	ev = v1_wait_event(stream, "TASK_ADDED", &next, 10000);
	cr_assert_not_null(ev, "no TASK_ADDED");
	json_t *task = json_object_get(json_object_get(ev, "task_added"), "task");
	cr_expect_str_eq(
	    json_string_value(json_object_get(json_object_get(task, "task_id"), "value")),
	    "watched");
	json_decref(ev);
	bool finished = false;
	while (!finished && (ev = v1_wait_event(stream, "TASK_UPDATED", &next, 10000)) != NULL) {
		const char *state = json_string_value(
		    json_object_get(json_object_get(ev, "task_updated"), "state"));
		finished = state != NULL && strcmp(state, "TASK_FINISHED") == 0;
		json_decref(ev);
	}
	cr_expect(finished, "no TASK_UPDATED to TASK_FINISHED");
	ev = v1_wait_event(stream, "FRAMEWORK_REMOVED", &next, 10000);
	cr_expect_not_null(ev, "no FRAMEWORK_REMOVED when plexus execute ended");
	json_decref(ev);

	/* GET_TASKS lists the finished task of the removed framework. */
	json_t *j = call_json("GET_TASKS");
	cr_assert_not_null(j);
	json_t *gt = json_object_get(j, "get_tasks");
	size_t n = json_array_size(json_object_get(gt, "tasks")) +
	           json_array_size(json_object_get(gt, "completed_tasks"));
	cr_expect_eq(n, 1, "GET_TASKS lists %zu tasks", n);
	json_decref(j);
}

Test(operator_api, teardown_and_bad_requests)
{
	char *out = NULL;
	long code;

	code = v1_post_json(port, "/api/v1", NULL, &out,
	                    "{\"type\": \"TEARDOWN\", \"teardown\": {\"framework_id\": "
	                    "{\"value\": \"nobody\"}}}");
	cr_expect_eq(code, 400, "%s", out);
	free(out);
	code = v1_post(port, "/api/v1", "text/html", NULL, "{}", 2, &out);
	cr_expect_eq(code, 415, "%s", out);
	free(out);
	code = v1_post(port, "/api/v1", "application/json", NULL, "{\"type\": 1000}", 14, &out);
	cr_expect_eq(code, 400, "%s", out);
	free(out);
	code = v1_post(port, "/api/v1", "application/json", NULL, "{\"type\": \"GET_", 14, &out);
	cr_expect_eq(code, 400, "%s", out);
	cr_expect(strstr(out, "invalid JSON") != NULL, "%s", out);
	free(out);
	code = v1_post(port, "/api/v1", "application/json", NULL, "{\"type\": \"GET_QUOTA\"}", 21,
	               &out);
	cr_expect_eq(code, 501, "%s", out);
	free(out);
	cr_expect_eq(http_get(port, "/api/v1", NULL), 405);
	cr_expect_eq(http_get(port, "/health", NULL), 200);
}

static const char *task_at(json_t *o, size_t i)
{
	return json_string_value(
	    json_object_get(json_array_get(json_object_get(o, "tasks"), i), "id"));
}

Test(operator_api, v0_flags_version_and_task_filters)
{
	json_t *j = http_json(port, "/master/flags");
	cr_assert_not_null(j);
	cr_expect_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "flags"), "allocation_interval")),
	    "100ms");
	json_decref(j);
	j = http_json(port, "/version");
	cr_assert_not_null(j);
	cr_expect_not_null(json_string_value(json_object_get(j, "version")));
	json_decref(j);

	/* Two tasks of two frameworks, both completed by the time they are listed. */
	const char *first[] = {"execute", master_flag, "--name=first", "--command=true", NULL};
	const char *second[] = {"execute", master_flag, "--name=second", "--command=true", NULL};
	cr_assert_eq(plexus_run(NULL, 30000, first), 0);
	cr_assert_eq(plexus_run(NULL, 30000, second), 0);
	j = http_json(port, "/master/tasks");
	cr_assert_not_null(j);
	cr_expect_eq(json_array_size(json_object_get(j, "tasks")), 2,
	             "completed frameworks' tasks");
	cr_expect_str_eq(task_at(j, 0), "first");
	const char *fw = json_string_value(
	    json_object_get(json_array_get(json_object_get(j, "tasks"), 1), "framework_id"));
	char path[256];
	snprintf(path, sizeof(path), "/master/tasks?framework_id=%s", fw);
	json_t *byfw = http_json(port, path);
	json_decref(j);
	cr_assert_not_null(byfw);
	cr_expect_eq(json_array_size(json_object_get(byfw, "tasks")), 1);
	cr_expect_str_eq(task_at(byfw, 0), "second");
	json_decref(byfw);
	j = http_json(port, "/master/tasks?order=desc&limit=1");
	cr_assert_not_null(j);
	cr_expect_eq(json_array_size(json_object_get(j, "tasks")), 1);
	cr_expect_str_eq(task_at(j, 0), "second");
	json_decref(j);
	j = http_json(port, "/master/tasks?task_id=first&offset=0");
	cr_assert_not_null(j);
	cr_expect_eq(json_array_size(json_object_get(j, "tasks")), 1);
	json_decref(j);
	cr_expect_eq(http_get(port, "/master/tasks?order=sideways", NULL), 400);
}
