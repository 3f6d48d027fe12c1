/* tests/marathon/app.c — app definitions (validation, defaults, round trip) and
 * placement constraints, without a cluster. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mar_state.h"

static struct mar_app *parse(const char *text, json_t **errors)
{
	json_t *in = json_loads(text, 0, NULL);
	cr_assert_not_null(in, "bad test JSON: %s", text);
	struct mar_app *app = mar_app_parse(in, NULL, errors);
	json_decref(in);
	return app;
}

/* The first error's path, for the assertion messages. */
static const char *first_path(json_t *errors)
{
	return json_string_value(json_object_get(json_array_get(errors, 0), "path"));
}

Test(app, defaults_are_marathons)
{
	json_t *errors;
	struct mar_app *app = parse("{\"id\": \"web\", \"cmd\": \"sleep 100\"}", &errors);
	cr_assert_not_null(app);
	cr_assert_str_eq(app->id, "/web");
	cr_assert_float_eq(app->cpus, 1.0, 1e-9);
	cr_assert_float_eq(app->mem, 128.0, 1e-9);
	cr_assert_eq(app->instances, 1);
	cr_assert_float_eq(app->backoff_s, 1.0, 1e-9);
	cr_assert_float_eq(app->backoff_factor, 1.15, 1e-9);
	cr_assert_float_eq(app->max_launch_delay_s, 3600, 1e-9);
	cr_assert_float_eq(app->min_health_capacity, 1.0, 1e-9);
	cr_assert_float_eq(app->max_over_capacity, 1.0, 1e-9);
	mar_app_free(app);
}

Test(app, full_definition_round_trips)
{
	json_t *errors;
	struct mar_app *app = parse(
	    "{\"id\": \"/prod/web\", \"cmd\": \"python3 -m http.server $PORT0\", \"cpus\": 0.5,"
	    " \"mem\": 64, \"instances\": 3, \"env\": {\"A\": \"1\"}, \"labels\": {\"team\": "
	    "\"x\"},"
	    " \"constraints\": [[\"hostname\", \"UNIQUE\"], [\"rack\", \"GROUP_BY\"],"
	    " [\"zone\", \"LIKE\", \"a.*\"]], \"portDefinitions\": [{\"port\": 0, \"name\": "
	    "\"http\"}],"
	    " \"healthChecks\": [{\"protocol\": \"HTTP\", \"path\": \"/\", \"portIndex\": 0,"
	    " \"gracePeriodSeconds\": 3, \"intervalSeconds\": 1, \"timeoutSeconds\": 1,"
	    " \"maxConsecutiveFailures\": 2}], \"upgradeStrategy\": {\"minimumHealthCapacity\": "
	    "0.5,"
	    " \"maximumOverCapacity\": 0.2}, \"backoffSeconds\": 2, \"backoffFactor\": 2}",
	    &errors);
	cr_assert_not_null(app, "rejected at %s", first_path(errors));
	cr_assert_eq(app->nconstraints, 3);
	cr_assert_eq(app->constraints[1].op, MAR_GROUP_BY);
	cr_assert_eq(app->nports, 1);
	cr_assert_str_eq(app->ports[0].name, "http");
	cr_assert_eq(app->nchecks, 1);
	cr_assert_eq(app->checks[0].max_failures, 2);
	cr_assert_float_eq(app->max_over_capacity, 0.2, 1e-9);
	struct mar_app *copy = mar_app_copy(app);
	cr_assert_not_null(copy);
	cr_assert(json_equal(copy->json, app->json));
	cr_assert(mar_app_same_config(app, copy));
	copy->instances = 7;
	json_object_set_new(copy->json, "instances", json_integer(7));
	cr_assert(mar_app_same_config(app, copy), "a scale is not a config change");
	json_object_set_new(copy->json, "cmd", json_string("sleep 1"));
	cr_assert_not(mar_app_same_config(app, copy));
	mar_app_free(copy);
	mar_app_free(app);
}

Test(app, invalid_definitions_say_where)
{
	static const struct {
		const char *json, *path;
	} cases[] = {
	    {"{\"cmd\": \"x\"}", "/id"},
	    {"{\"id\": \"Bad_Name\", \"cmd\": \"x\"}", "/id"},
	    {"{\"id\": \"a\"}", "/"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"args\": [\"y\"]}", "/"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"cpus\": -1}", "/cpus"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"instances\": 1.5}", "/instances"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"constraints\": [[\"hostname\", \"SOMETIMES\"]]}",
	     "/constraints(0)"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"constraints\": [[\"zone\", \"LIKE\", \"(\"]]}",
	     "/constraints(0)"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"healthChecks\": [{\"protocol\": \"HTTP\"}]}",
	     "/healthChecks(0)"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"healthChecks\": [{\"protocol\": \"COMMAND\","
	     " \"command\": {\"value\": \"true\"}}]}",
	     "/healthChecks(0)"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"upgradeStrategy\": {\"minimumHealthCapacity\": 2}}",
	     "/upgradeStrategy/minimumHealthCapacity"},
	    {"{\"id\": \"a\", \"cmd\": \"x\", \"env\": {\"A\": 1}}", "/env(A)"},
	    {"[1, 2]", "/"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *errors = NULL;
		json_t *in = json_loads(cases[i].json, 0, NULL);
		struct mar_app *app = mar_app_parse(in, NULL, &errors);
		json_decref(in);
		cr_assert_null(app, "accepted %s", cases[i].json);
		cr_assert_str_eq(first_path(errors), cases[i].path, "%s: error at %s, expected %s",
		                 cases[i].json, first_path(errors), cases[i].path);
		json_decref(errors);
	}
}

Test(app, url_id_must_match_body_id)
{
	json_t *errors = NULL, *in = json_loads("{\"id\": \"/a\", \"cmd\": \"x\"}", 0, NULL);
	cr_assert_null(mar_app_parse(in, "/b", &errors));
	json_decref(errors);
	struct mar_app *app = mar_app_parse(in, "a/", &errors);
	cr_assert_not_null(app);
	mar_app_free(app);
	json_decref(in);
}

/* An entry with tasks placed on (host, rack) pairs. */
static struct mar_entry *entry_with(const char *constraints, const char *const *hosts,
                                    const char *const *racks, size_t n)
{
	char text[512];
	json_t *errors;
	snprintf(text, sizeof(text), "{\"id\": \"a\", \"cmd\": \"x\", \"constraints\": %s}",
	         constraints);
	struct mar_entry *e = calloc(1, sizeof(*e));
	e->app = parse(text, &errors);
	cr_assert_not_null(e->app);
	for (size_t i = n; i-- > 0;) {
		struct mar_task *t = calloc(1, sizeof(*t));
		snprintf(t->host, sizeof(t->host), "%s", hosts[i]);
		t->attrs = json_pack("{s:s}", "rack", racks[i]);
		t->next = e->tasks;
		e->tasks = t;
	}
	return e;
}

static void entry_free(struct mar_entry *e)
{
	while (e->tasks != NULL) {
		struct mar_task *t = e->tasks;
		e->tasks = t->next;
		json_decref(t->attrs);
		free(t);
	}
	mar_app_free(e->app);
	free(e);
}

static bool accepts(struct mar_entry *e, const char *host, const char *rack)
{
	json_t *attrs = rack ? json_pack("{s:s}", "rack", rack) : json_object();
	bool ok = mar_constraints_accept(e, host, attrs, NULL);
	json_decref(attrs);
	return ok;
}

Test(constraints, unique_hostname)
{
	const char *hosts[] = {"h1"}, *racks[] = {"r1"};
	struct mar_entry *e = entry_with("[[\"hostname\", \"UNIQUE\"]]", hosts, racks, 1);
	cr_assert_not(accepts(e, "h1", "r1"));
	cr_assert(accepts(e, "h2", "r1"));
	e->tasks->killing = true; /* a task being killed no longer holds its host */
	cr_assert(accepts(e, "h1", "r1"));
	entry_free(e);
}

Test(constraints, group_by_spreads_evenly)
{
	const char *hosts[] = {"h1", "h2", "h3"}, *racks[] = {"r1", "r1", "r2"};
	struct mar_entry *e = entry_with("[[\"rack\", \"GROUP_BY\"]]", hosts, racks, 3);
	cr_assert_not(accepts(e, "h4", "r1"), "r1 has more than r2");
	cr_assert(accepts(e, "h4", "r2"));
	cr_assert(accepts(e, "h4", "r3"), "a new group is the least used");
	cr_assert_not(accepts(e, "h4", NULL), "an agent without the attribute");
	/* A known agent in rack r3 with no task yet makes r3 the least used group. */
	json_t *agents =
	    json_pack("{s:{s:s, s:{s:s}}}", "S9", "hostname", "h9", "attributes", "rack", "r3");
	json_t *r2 = json_pack("{s:s}", "rack", "r2");
	cr_assert_not(mar_constraints_accept(e, "h4", r2, agents));
	json_decref(r2);
	json_decref(agents);
	entry_free(e);
}

Test(constraints, like_unlike_cluster_max_per)
{
	const char *hosts[] = {"h1"}, *racks[] = {"a1"};
	struct mar_entry *e =
	    entry_with("[[\"rack\", \"LIKE\", \"a.*\"], [\"hostname\", \"UNLIKE\","
	               " \"bad.*\"]]",
	               hosts, racks, 1);
	cr_assert(accepts(e, "h2", "a7"));
	cr_assert_not(accepts(e, "h2", "b7"));
	cr_assert_not(accepts(e, "h2", "xa1"), "LIKE matches the whole value");
	cr_assert_not(accepts(e, "bad1", "a7"));
	entry_free(e);
	e = entry_with("[[\"rack\", \"CLUSTER\", \"r9\"]]", hosts, racks, 1);
	cr_assert(accepts(e, "h2", "r9"));
	cr_assert_not(accepts(e, "h2", "r8"));
	entry_free(e);
	const char *h2[] = {"h1", "h2"}, *r2[] = {"r1", "r1"};
	e = entry_with("[[\"rack\", \"MAX_PER\", \"2\"]]", h2, r2, 2);
	cr_assert_not(accepts(e, "h3", "r1"));
	cr_assert(accepts(e, "h3", "r2"));
	entry_free(e);
}
