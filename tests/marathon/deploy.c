/* tests/marathon/deploy.c — health checks and deployments on a real `plexus local`:
 * an instance failing its HTTP check is replaced, a rolling restart never drops below
 * minimumHealthCapacity nor goes above maximumOverCapacity (checked at every event),
 * and deleting a deployment rolls the app back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mar_harness.h"

static int master, api;

static void setup(void)
{
	mh_init();
	/* One agent: agents of one plexus local share the host and would offer the same
	 * ports, and these apps really listen on theirs. */
	master = mh_local(1, "cpus:8;mem:4096;ports:[31000-31199]");
	api = mh_marathon(master, NULL, NULL);
}

static void teardown(void)
{
	mh_fini();
}

TestSuite(deploy, .init = setup, .fini = teardown, .timeout = 240);

static bool terminal(const char *state)
{
	return strcmp(state, "TASK_RUNNING") != 0 && strcmp(state, "TASK_STARTING") != 0 &&
	       strcmp(state, "TASK_STAGING") != 0;
}

Test(deploy, failing_http_check_replaces_the_instance)
{
	int status;
	/* The server answers 404 on the checked path: every check fails. */
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"sick\", \"cmd\": \"exec python3 -m http.server $PORT0\","
	                    " \"cpus\": 0.1, \"mem\": 32, \"portDefinitions\": [{\"port\": 0}],"
	                    " \"healthChecks\": [{\"protocol\": \"HTTP\", \"path\": \"/missing\","
	                    " \"gracePeriodSeconds\": 1, \"intervalSeconds\": 1,"
	                    " \"timeoutSeconds\": 1, \"maxConsecutiveFailures\": 2}]}",
	                    &status));
	cr_assert_eq(status, 201);
	struct mh_events *ev = mh_events_open(api);
	cr_assert_not_null(ev);
	char type[64], killed[256] = "";
	json_t *e;
	int failed_checks = 0;
	while (killed[0] == '\0' && (e = mh_events_next(ev, type, 15000)) != NULL) {
		if (strcmp(type, "failed_health_check_event") == 0)
			failed_checks++;
		if (strcmp(type, "unhealthy_instance_kill_event") == 0)
			snprintf(killed, sizeof(killed), "%s",
			         json_string_value(json_object_get(e, "taskId")));
		json_decref(e);
	}
	cr_assert_neq(killed[0], '\0', "the unhealthy instance was not killed");
	cr_assert_geq(failed_checks, 2, "killed after %d failures, wanted 2", failed_checks);

	/* A new instance replaces it. */
	char replacement[256] = "";
	while (replacement[0] == '\0' && (e = mh_events_next(ev, type, 15000)) != NULL) {
		const char *task = json_string_value(json_object_get(e, "taskId"));
		const char *state = json_string_value(json_object_get(e, "taskStatus"));
		if (strcmp(type, "status_update_event") == 0 && strcmp(task, killed) != 0 &&
		    strcmp(state, "TASK_RUNNING") == 0)
			snprintf(replacement, sizeof(replacement), "%s", task);
		json_decref(e);
	}
	cr_assert_neq(replacement[0], '\0', "no replacement started");
	mh_events_close(ev);
	json_t *app = mh_app(api, "/sick");
	cr_assert_eq(json_integer_value(json_object_get(app, "tasksHealthy")), 0);
	json_decref(app);
}

/* Live and healthy tasks as the event stream tells them. */
struct census {
	json_t *live;    /* task id -> true */
	json_t *healthy; /* task id -> true */
};

/* Applies one event; true when it ended a task that was healthy (a healthy instance
 * the scheduler took away, which must never leave fewer than the minimum). A check
 * that fails on its own is not the scheduler's doing and is not such a step. */
static bool census_apply(struct census *c, const char *type, json_t *e)
{
	const char *task = json_string_value(json_object_get(e, "taskId"));
	bool took_healthy = false;
	if (strcmp(type, "status_update_event") == 0) {
		const char *state = json_string_value(json_object_get(e, "taskStatus"));
		if (terminal(state)) {
			took_healthy = json_object_get(c->healthy, task) != NULL;
			json_object_del(c->live, task);
			json_object_del(c->healthy, task);
		} else {
			json_object_set_new(c->live, task, json_true());
		}
	} else if (strcmp(type, "health_status_changed_event") == 0) {
		if (json_is_true(json_object_get(e, "alive")) && json_object_get(c->live, task))
			json_object_set_new(c->healthy, task, json_true());
		else
			json_object_del(c->healthy, task);
	}
	return took_healthy;
}

Test(deploy, rolling_restart_keeps_the_healthy_minimum)
{
	int status;
	/* 4 instances, at least 2 healthy (0.5), at most 5 in all (0.25 over). */
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"web\", \"cmd\": \"exec python3 -m http.server $PORT0\","
	                    " \"cpus\": 0.1, \"mem\": 32, \"instances\": 4,"
	                    " \"portDefinitions\": [{\"port\": 0}],"
	                    " \"healthChecks\": [{\"protocol\": \"HTTP\", \"path\": \"/\","
	                    " \"gracePeriodSeconds\": 10, \"intervalSeconds\": 1,"
	                    " \"timeoutSeconds\": 5, \"maxConsecutiveFailures\": 3}],"
	                    " \"upgradeStrategy\": {\"minimumHealthCapacity\": 0.5,"
	                    " \"maximumOverCapacity\": 0.25}}",
	                    &status));
	cr_assert_eq(status, 201);
	cr_assert(mh_wait_count(api, "/web", "tasksHealthy", 4, 60000));
	cr_assert(mh_wait_deployed(api, "/web", 5000));

	struct census c = {.live = json_object(), .healthy = json_object()};
	json_t *app = mh_app(api, "/web"), *t;
	size_t i;
	char old_version[64];
	snprintf(old_version, sizeof(old_version), "%s",
	         json_string_value(
	             json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt")));
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	{
		const char *id = json_string_value(json_object_get(t, "id"));
		json_object_set_new(c.live, id, json_true());
		json_object_set_new(c.healthy, id, json_true());
	}
	json_decref(app);

	struct mh_events *ev = mh_events_open(api);
	cr_assert_not_null(ev);
	json_t *r = mh_json("POST", api, "/v2/apps/web/restart", NULL, &status);
	cr_assert_eq(status, 200);
	char deployment[64];
	snprintf(deployment, sizeof(deployment), "%s",
	         json_string_value(json_object_get(r, "deploymentId")));
	json_decref(r);

	char type[64];
	json_t *e;
	bool done = false;
	int steps = 0;
	while (!done && (e = mh_events_next(ev, type, 60000)) != NULL) {
		bool took_healthy = census_apply(&c, type, e);
		steps++;
		if (took_healthy)
			cr_assert_geq(json_object_size(c.healthy), 2,
			              "a healthy instance went below the minimum (step %d)", steps);
		cr_assert_leq(json_object_size(c.live), 5, "over capacity after %s (step %d)", type,
		              steps);
		done = strcmp(type, "deployment_success") == 0 &&
		       strcmp(json_string_value(json_object_get(e, "id")), deployment) == 0;
		json_decref(e);
	}
	mh_events_close(ev);
	cr_assert(done, "the restart did not finish");
	cr_assert_gt(steps, 10);

	app = mh_app(api, "/web");
	cr_assert_eq(json_integer_value(json_object_get(app, "tasksHealthy")), 4);
	const char *new_version = json_string_value(
	    json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt"));
	cr_assert_str_neq(new_version, old_version);
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	    cr_assert_str_eq(json_string_value(json_object_get(t, "version")), new_version);
	cr_assert_eq(json_array_size(json_object_get(app, "tasks")), 4);
	json_decref(app);
	json_decref(c.live);
	json_decref(c.healthy);
}

static bool has_deployment(void *arg)
{
	char *out = arg;
	json_t *list = mh_json("GET", api, "/v2/deployments", NULL, NULL);
	const char *id = json_string_value(json_object_get(json_array_get(list, 0), "id"));
	if (id != NULL)
		snprintf(out, 64, "%s", id);
	json_decref(list);
	return id != NULL;
}

Test(deploy, deleting_a_deployment_rolls_back)
{
	int status;
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"rb\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 16,"
	                    " \"instances\": 2}",
	                    &status));
	cr_assert_eq(status, 201);
	cr_assert(mh_wait_count(api, "/rb", "tasksRunning", 2, 60000));
	cr_assert(mh_wait_deployed(api, "/rb", 5000));
	json_t *app = mh_app(api, "/rb");
	char v1[64];
	snprintf(v1, sizeof(v1), "%s",
	         json_string_value(
	             json_object_get(json_object_get(app, "versionInfo"), "lastConfigChangeAt")));
	json_decref(app);

	/* Version 2 never starts: its deployment stays under way. */
	json_decref(mh_json("PUT", api, "/v2/apps/rb", "{\"cmd\": \"exit 3\"}", &status));
	cr_assert_eq(status, 200);
	char deployment[64] = "";
	cr_assert(mh_wait(5000, has_deployment, deployment));

	json_t *j = mh_json("PUT", api, "/v2/apps/rb", "{\"instances\": 3}", &status);
	cr_assert_eq(status, 409, "a locked app takes no change");
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(j, "deployments"), 0), "id")),
	                 deployment);
	json_decref(j);

	char path[128];
	snprintf(path, sizeof(path), "/v2/deployments/%s", deployment);
	j = mh_json("DELETE", api, path, NULL, &status);
	cr_assert_eq(status, 200);
	cr_assert_str_neq(json_string_value(json_object_get(j, "deploymentId")), deployment);
	json_decref(j);
	cr_assert(mh_wait_deployed(api, "/rb", 60000), "the rollback did not finish");

	app = mh_app(api, "/rb");
	cr_assert_str_eq(json_string_value(json_object_get(app, "cmd")), "sleep 1000");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(app, "versionInfo"),
	                                                   "lastConfigChangeAt")),
	                 v1);
	json_t *t;
	size_t i;
	cr_assert_eq(json_array_size(json_object_get(app, "tasks")), 2);
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	{
		cr_assert_str_eq(json_string_value(json_object_get(t, "version")), v1);
		cr_assert_str_eq(json_string_value(json_object_get(t, "state")), "TASK_RUNNING");
	}
	json_decref(app);
}
