/* /master/state is written by common/json_writer.h straight into a buffer. Its output
 * must be what the jansson trees gave: the same bytes as json_dumps for awkward strings
 * (quotes, backslashes, control characters, non-ASCII, invalid UTF-8) and numbers, and
 * on a small cluster with awkward names the same frameworks and agents as
 * /master/frameworks and /master/slaves, which still build trees. */
#include <math.h>
#include <string.h>

#include "common/json_pb.h"
#include "common/json_writer.h"
#include "harness.h"

/* Strings jansson holds, and strings it refuses (json_string returns NULL). */
static const char *const awkward[] = {
    "",
    "plain",
    "quote \" backslash \\ slash /",
    "\b\f\n\r\t \x01\x02\x1f\x7f",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\x80",
    "\xef\xbf\xbf \xf4\x8f\xbf\xbf",
    "bad \xff",
    "bad \xc0\xaf overlong",
    "bad \xe0\x80\xaf overlong",
    "bad \xed\xa0\x80 surrogate",
    "bad \xf4\x90\x80\x80 too big",
    "bad \xc3 truncated",
    "bad \xe2\x82",
    "bad \x80 lone continuation",
};

static const double reals[] = {
    0,       1,         -1,      0.01, 1024, 0.1 + 0.2, 1e21,    1e-7, 123456789012345678.0,
    1.5e300, -2.5e-300, 3.14159, 1e15, 1e16, NAN,       INFINITY};

static char *tree_text(json_t *o)
{
	char *s = json_dumps(o, PX_JSON_DUMP_FLAGS);
	json_decref(o);
	cr_assert_not_null(s);
	return s;
}

static void writer_matches_jansson(size_t i, size_t j)
{
	json_t *o = json_object(), *a = json_array();
	px_jw w;
	size_t len;

	px_jw_init(&w, 1);
	px_jw_object_begin(&w);
	/* Members as the master writes them; jansson drops what it cannot hold. */
	json_object_set_new(o, awkward[i], json_string(awkward[j]));
	px_jw_kv_string(&w, awkward[i], awkward[j]);
	json_object_set_new(o, "r", json_real(reals[j % (sizeof(reals) / sizeof(reals[0]))]));
	px_jw_kv_real(&w, "r", reals[j % (sizeof(reals) / sizeof(reals[0]))]);
	json_object_set_new(o, "i", json_integer((json_int_t)j * -987654321987LL));
	px_jw_kv_integer(&w, "i", (json_int_t)j * -987654321987LL);
	json_object_set_new(o, "b", json_boolean(i & 1));
	px_jw_kv_bool(&w, "b", i & 1);
	px_jw_key_array(&w, "a");
	json_array_append_new(a, json_string(awkward[i]));
	px_jw_string(&w, awkward[i]);
	json_array_append_new(a, json_string(awkward[j]));
	px_jw_string(&w, awkward[j]);
	json_array_append_new(a, json_object());
	px_jw_object_begin(&w);
	px_jw_object_end(&w);
	px_jw_array_end(&w);
	json_object_set_new(o, "a", a);
	json_t *sub = json_pack("{s:[i,f,s]}", "x", 1, 2.5, "y\n");
	json_object_set_new(o, "j", json_incref(sub));
	px_jw_kv_json(&w, "j", sub);
	json_decref(sub);
	px_jw_object_end(&w);

	char *want = tree_text(o);
	char *got = px_jw_finish(&w, &len);
	cr_assert_not_null(got);
	cr_assert_eq(len, strlen(got));
	cr_assert_str_eq(got, want, "strings %zu and %zu", i, j);
	json_error_t e;
	json_t *parsed = json_loads(got, 0, &e);
	cr_assert_not_null(parsed, "%s does not parse: %s", got, e.text);
	json_decref(parsed);
	free(got);
	free(want);
}

Test(state_json, writer_gives_jsons_dumps_bytes)
{
	size_t n = sizeof(awkward) / sizeof(awkward[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			writer_matches_jansson(i, j);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(px_jw_utf8_valid(awkward[i]), strncmp(awkward[i], "bad", 3) != 0,
		             "string %zu", i);
}

Test(state_json, unbalanced_or_empty_writers_are_handled)
{
	px_jw w;
	size_t len = 7;

	px_jw_init(&w, 0);
	px_jw_array_begin(&w);
	cr_assert_null(px_jw_finish(&w, &len));
	px_jw_init(&w, 0);
	px_jw_fini(&w);
	px_jw_fini(&w);
}

/* Escaped for a JSON text: quotes, backslashes, control characters, non-ASCII. */
#define AWKWARD_JSON "we\\\"ird \\\\ na\\u0001me\\t\\n caf\\u00e9 \\u96ea"
#define AWKWARD_C    "we\"ird \\ na\x01me\t\n caf\xc3\xa9 \xe9\x9b\xaa"

static char *agent_id, *fw_id;

static void setup(void)
{
	h_start(NULL);
	probe *agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "host " AWKWARD_JSON,
	                            "cpus:4;cpus(r1):2;mem:1024;ports:[31000-32000]");
	probe *sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw " AWKWARD_JSON, 0, NULL);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *res[2] = {h_resources_json("cpus:1;mem:128;ports:[31000-31000]"),
	                h_resources_json("cpus:1;mem:128;ports:[31001-31001]")};
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"operations\": [{\"type\": \"LAUNCH\", \"launch\": {\"task_infos\": [{"
	    "\"name\": \"task " AWKWARD_JSON "\", \"task_id\": {\"value\": \"t0\\\"caf\\u00e9\"}, "
	    "\"agent_id\": {\"value\": \"%s\"}, \"resources\": %s, "
	    "\"command\": {\"value\": \"sleep 1000\"}}, {"
	    "\"name\": \"task " AWKWARD_JSON "\", \"task_id\": {\"value\": \"t1\"}, "
	    "\"agent_id\": {\"value\": \"%s\"}, \"resources\": %s, "
	    "\"command\": {\"value\": \"sleep 1000\"}}]}}]}",
	    fw_id, o->offers[0]->id->value, agent_id, res[0], agent_id, res[1]);
	free(res[0]);
	free(res[1]);
	pb_done(o);
	pb_done(probe_expect(agent, &plexus__internal__run_task_message__descriptor));
	pb_done(probe_expect(agent, &plexus__internal__run_task_message__descriptor));
	probe_send_json(
	    agent, h_master(), &plexus__internal__status_update_message__descriptor,
	    "{\"update\": {\"framework_id\": {\"value\": \"%s\"}, \"agent_id\": {\"value\": "
	    "\"%s\"}, \"status\": {\"task_id\": {\"value\": \"t0\\\"caf\\u00e9\"}, \"state\": "
	    "\"TASK_RUNNING\"}, \"uuid\": \"AAECAwQFBgcICQoLDA0ODw==\"}}",
	    fw_id, agent_id);
	pb_done(h_expect_update(sched, "t0\"caf\xc3\xa9", PLEXUS__TASK_STATE__TASK_RUNNING, -1));
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

Test(state_json, state_equals_the_tree_endpoints, .init = setup, .fini = teardown, .timeout = 60)
{
	json_t *s = h_get_json("/master/state");
	json_t *fws = h_get_json("/master/frameworks");
	json_t *ags = h_get_json("/master/slaves");

	json_t *slaves = json_object_get(s, "slaves");
	json_t *frameworks = json_object_get(s, "frameworks");
	cr_assert_eq(json_array_size(slaves), 1);
	cr_assert_eq(json_array_size(frameworks), 1);
	cr_assert(json_equal(slaves, json_object_get(ags, "slaves")));
	cr_assert(json_equal(frameworks, json_object_get(fws, "frameworks")));
	cr_assert(json_equal(json_object_get(s, "completed_frameworks"),
	                     json_object_get(fws, "completed_frameworks")));

	json_t *slave = json_array_get(slaves, 0);
	cr_assert_str_eq(json_string_value(json_object_get(slave, "hostname")), "host " AWKWARD_C);
	json_t *reserved = json_object_get(json_object_get(slave, "reserved_resources"), "r1");
	cr_assert_eq(json_number_value(json_object_get(reserved, "cpus")), 2);
	cr_assert_eq(json_array_size(json_object_get(slave, "reserved_resources_full")), 1);
	json_t *fw = json_array_get(frameworks, 0);
	cr_assert_str_eq(json_string_value(json_object_get(fw, "name")), "fw " AWKWARD_C);
	json_t *tasks = json_object_get(fw, "tasks");
	cr_assert_eq(json_array_size(tasks), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *t = json_array_get(tasks, i);
		cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "task " AWKWARD_C);
	}
	json_decref(s);
	json_decref(fws);
	json_decref(ags);
}
