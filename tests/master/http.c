/* The HTTP API: /master/state in Mesos's shape, the other endpoints, teardown, metrics,
 * and garbage bodies answered with 400 and a reason. */
#include <string.h>

#include "harness.h"

static probe *agent, *sched;
static char *agent_id, *fw_id;

/* An agent with 4 cpus, a framework with one running task of 1 cpu. */
static void setup(void)
{
	h_start(NULL);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:4;mem:1024;ports:[31000-32000]");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "web", 0, NULL);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *res = h_resources_json("cpus:1;mem:128;ports:[31000-31001]");
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"operations\": [{\"type\": \"LAUNCH\", \"launch\": {\"task_infos\": [{\"name\": "
	    "\"t\", \"task_id\": {\"value\": \"t1\"}, \"agent_id\": {\"value\": \"%s\"}, "
	    "\"resources\": %s, \"command\": {\"value\": \"sleep 1000\"}}]}}]}",
	    fw_id, o->offers[0]->id->value, agent_id, res);
	free(res);
	pb_done(o);
	pb_done(probe_expect(agent, &plexus__internal__run_task_message__descriptor));
	probe_send_json(
	    agent, h_master(), &plexus__internal__status_update_message__descriptor,
	    "{\"update\": {\"framework_id\": {\"value\": \"%s\"}, \"agent_id\": {\"value\": "
	    "\"%s\"}, \"status\": {\"task_id\": {\"value\": \"t1\"}, \"state\": "
	    "\"TASK_RUNNING\"}, \"uuid\": \"AAECAwQFBgcICQoLDA0ODw==\"}}",
	    fw_id, agent_id);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_RUNNING, -1));
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 60);

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_number(v), "%s is not a number", key);
	return json_number_value(v);
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

Test(http, state_has_mesos_shape)
{
	json_t *s = h_get_json("/master/state");
	char pid[ACTOR_PID_TEXT_MAX];

	actor_pid_format(h_master(), pid, sizeof(pid));
	cr_assert_str_eq(str(s, "pid"), pid);
	cr_assert_str_eq(str(s, "leader"), pid);
	cr_assert_str_eq(str(json_object_get(s, "leader_info"), "pid"), pid);
	cr_assert_eq(num(s, "activated_slaves"), 1);
	cr_assert_eq(num(s, "deactivated_slaves"), 0);
	cr_assert(json_is_array(json_object_get(s, "completed_frameworks")));

	json_t *slave = json_array_get(json_object_get(s, "slaves"), 0);
	cr_assert_str_eq(str(slave, "id"), agent_id);
	cr_assert_str_eq(str(slave, "hostname"), "h1");
	cr_assert(json_is_true(json_object_get(slave, "active")));
	cr_assert_eq(num(json_object_get(slave, "resources"), "cpus"), 4);
	cr_assert_eq(num(json_object_get(slave, "resources"), "mem"), 1024);
	cr_assert_str_eq(str(json_object_get(slave, "resources"), "ports"), "[31000-32000]");
	cr_assert_eq(num(json_object_get(slave, "used_resources"), "cpus"), 1);
	cr_assert_eq(num(json_object_get(slave, "unreserved_resources"), "cpus"), 4);
	cr_assert(json_is_array(json_object_get(slave, "used_resources_full")));

	json_t *fw = json_array_get(json_object_get(s, "frameworks"), 0);
	cr_assert_str_eq(str(fw, "id"), fw_id);
	cr_assert_str_eq(str(fw, "name"), "web");
	cr_assert_str_eq(str(fw, "pid"), actor_pid_str(probe_pid(sched)));
	cr_assert(json_is_true(json_object_get(fw, "active")));
	cr_assert_eq(num(fw, "TASK_RUNNING"), 1);
	cr_assert_eq(num(json_object_get(fw, "used_resources"), "cpus"), 1);
	json_t *t = json_array_get(json_object_get(fw, "tasks"), 0);
	cr_assert_str_eq(str(t, "id"), "t1");
	cr_assert_str_eq(str(t, "slave_id"), agent_id);
	cr_assert_str_eq(str(t, "framework_id"), fw_id);
	cr_assert_str_eq(str(t, "state"), "TASK_RUNNING");
	cr_assert_str_eq(str(json_object_get(t, "resources"), "ports"), "[31000-31001]");
	cr_assert_eq(json_array_size(json_object_get(t, "statuses")), 2);
	json_decref(s);
}

Test(http, frameworks_slaves_tasks_info_and_health)
{
	json_t *j = h_get_json("/master/frameworks");
	cr_assert_eq(json_array_size(json_object_get(j, "frameworks")), 1);
	json_decref(j);
	j = h_get_json("/master/slaves");
	cr_assert_eq(json_array_size(json_object_get(j, "slaves")), 1);
	json_decref(j);
	j = h_get_json("/master/tasks");
	cr_assert_eq(json_array_size(json_object_get(j, "tasks")), 1);
	json_decref(j);
	j = h_get_json("/master/tasks?limit=0");
	cr_assert_eq(json_array_size(json_object_get(j, "tasks")), 0);
	json_decref(j);

	j = h_get_json("/master/info");
	char pid[ACTOR_PID_TEXT_MAX];
	actor_pid_format(h_master(), pid, sizeof(pid));
	cr_assert_str_eq(str(j, "pid"), pid);
	cr_assert_str_eq(str(j, "ip"), "127.0.0.1");
	cr_assert_eq(num(j, "port"), actor_runtime_http_port());
	cr_assert_gt(strlen(str(j, "id")), 0);
	cr_assert_gt(strlen(str(j, "version")), 0);
	cr_assert_gt(strlen(str(j, "hostname")), 0);
	json_decref(j);

	cr_assert_eq(h_http("GET", "/health", NULL, NULL, NULL), 200);
	cr_assert_eq(h_http("GET", "/master/health", NULL, NULL, NULL), 200);
}

Test(http, metrics_carry_the_masters_counts)
{
	json_t *m = h_get_json("/metrics/snapshot");
	cr_assert_eq(num(m, "master/frameworks_active"), 1);
	cr_assert_eq(num(m, "master/slaves_active"), 1);
	cr_assert_eq(num(m, "master/tasks_running"), 1);
	cr_assert_eq(num(m, "master/tasks_staging"), 0);
	cr_assert_eq(num(m, "master/elected"), 1);
	cr_assert_eq(num(m, "master/slave_registrations"), 1);
	cr_assert_eq(num(m, "master/valid_status_updates"), 1);
	json_decref(m);
}

static void expect_400(const char *content_type, const char *body, const char *reason)
{
	char *out = NULL;
	int status = h_http("POST", "/master/teardown", content_type, body, &out);
	cr_assert_eq(status, 400, "body '%s': %d %s", body ? body : "", status, out);
	cr_assert_not_null(strstr(out, reason), "body '%s': reason '%s'", body ? body : "", out);
	free(out);
}

Test(http, garbage_bodies_are_400_with_a_reason)
{
	expect_400("application/json", "{\"framework_id\": ", "JSON");
	expect_400("application/json", "{\"framework_id\": 7}", "framework_id");
	expect_400("application/x-www-form-urlencoded", "\x01\x02garbage", "frameworkId");
	expect_400(NULL, "frameworkId=%zz", "frameworkId");
	expect_400(NULL, "", "Missing");
	expect_400(NULL, "frameworkId=no-such-framework", "No framework");
	char *out = NULL;
	cr_assert_eq(h_http("GET", "/master/tasks?limit=-3", NULL, NULL, &out), 400);
	free(out);
	cr_assert_eq(h_http("GET", "/master/teardown", NULL, NULL, NULL), 405);
	/* Nothing was harmed. */
	json_t *s = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(s, "frameworks")), 1);
	json_decref(s);
	json_t *m = h_get_json("/metrics/snapshot");
	cr_assert_geq(num(m, "master/http_bad_requests"), 7);
	json_decref(m);
}

Test(http, teardown_by_form_removes_the_framework)
{
	char body[256], *out = NULL;
	snprintf(body, sizeof(body), "frameworkId=%s", fw_id);
	cr_assert_eq(
	    h_http("POST", "/master/teardown", "application/x-www-form-urlencoded", body, &out),
	    200, "%s", out);
	free(out);
	Plexus__Internal__FrameworkErrorMessage *e =
	    probe_expect(sched, &plexus__internal__framework_error_message__descriptor);
	pb_done(e);
	pb_done(probe_expect(agent, &plexus__internal__shutdown_framework_message__descriptor));
	json_t *s = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(s, "frameworks")), 0);
	cr_assert_eq(json_array_size(json_object_get(s, "completed_frameworks")), 1);
	json_decref(s);
}

Test(http, teardown_by_json_body)
{
	char body[256], *out = NULL;
	snprintf(body, sizeof(body), "{\"framework_id\": {\"value\": \"%s\"}}", fw_id);
	cr_assert_eq(h_http("POST", "/master/teardown", "application/json", body, &out), 200, "%s",
	             out);
	free(out);
	pb_done(probe_expect(agent, &plexus__internal__shutdown_framework_message__descriptor));
}
