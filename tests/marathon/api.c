/* tests/marathon/api.c — the REST API against a real `plexus local` and `plexus
 * marathon`: errors in Marathon's shape, create / scale / delete, a killed task
 * replaced, backoff between failed launches, the queue and the event stream. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "mar_harness.h"

static int master, api;

static void setup(void)
{
	mh_init();
	master = mh_local(2, "cpus:4;mem:2048;ports:[31000-31099]");
	api = mh_marathon(master, NULL, NULL);
}

static void teardown(void)
{
	mh_fini();
}

TestSuite(api, .init = setup, .fini = teardown, .timeout = 240);

static const char *message(json_t *j)
{
	const char *m = json_string_value(json_object_get(j, "message"));
	return m ? m : "(none)";
}

Test(api, ping_info_and_errors)
{
	char *body = NULL;
	int status;
	cr_assert_eq(mh_http("GET", api, "/ping", NULL, &body), 200);
	cr_assert_str_eq(body, "pong");
	free(body);

	json_t *info = mh_json("GET", api, "/v2/info", NULL, &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(info, "name")), "marathon");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(info, "http_config"), "http_port")),
	    api);
	json_decref(info);

	json_t *j = mh_json("POST", api, "/v2/apps", "{not json", &status);
	cr_assert_eq(status, 400);
	cr_assert_str_eq(message(j), "Invalid JSON");
	json_decref(j);

	j = mh_json("POST", api, "/v2/apps", "{\"id\": \"/x\", \"cpus\": -2}", &status);
	cr_assert_eq(status, 422);
	cr_assert_str_eq(message(j), "Object is not valid");
	cr_assert_geq(json_array_size(json_object_get(j, "details")), 2, "cmd and cpus");
	json_decref(j);

	j = mh_json("GET", api, "/v2/apps/nope", NULL, &status);
	cr_assert_eq(status, 404);
	cr_assert_str_eq(message(j), "App '/nope' does not exist");
	json_decref(j);

	j = mh_json("DELETE", api, "/v2/deployments/none", NULL, &status);
	cr_assert_eq(status, 404);
	json_decref(j);
	cr_assert_eq(mh_http("GET", api, "/v2/nothing", NULL, NULL), 404);
}

/* Every task of the app has one port from the agents' range, none given twice on one
 * agent. */
static void assert_ports(const char *id, int n)
{
	json_t *app = mh_app(api, id), *t, *seen = json_object();
	size_t i;
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	{
		json_t *ports = json_object_get(t, "ports");
		cr_assert_eq(json_array_size(ports), 1);
		int p = (int)json_integer_value(json_array_get(ports, 0));
		cr_assert(p >= 31000 && p <= 31099, "port %d not from the offer", p);
		char key[256];
		snprintf(key, sizeof(key), "%s:%d",
		         json_string_value(json_object_get(t, "slaveId")), p);
		cr_assert_null(json_object_get(seen, key), "port %s given twice", key);
		json_object_set_new(seen, key, json_true());
	}
	cr_assert_eq(json_object_size(seen), (size_t)n);
	json_decref(seen);
	json_decref(app);
}

static bool no_deployments(void *arg)
{
	json_t *list = mh_json("GET", api, "/v2/deployments", NULL, NULL);
	bool none = json_is_array(list) && json_array_size(list) == 0;
	json_decref(list);
	return none;
}

Test(api, create_scale_and_delete)
{
	int status;
	json_t *j = mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"/svc/web\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1,"
	                    " \"mem\": 16, \"instances\": 2, \"portDefinitions\": [{\"port\": 0}]}",
	                    &status);
	cr_assert_eq(status, 201, "POST: %d %s", status, message(j));
	cr_assert_str_eq(json_string_value(json_object_get(j, "id")), "/svc/web");
	cr_assert_eq(json_array_size(json_object_get(j, "deployments")), 1);
	json_decref(j);
	cr_assert(mh_wait_count(api, "/svc/web", "tasksRunning", 2, 60000));
	cr_assert(mh_wait_deployed(api, "/svc/web", 5000));
	assert_ports("/svc/web", 2);

	j = mh_json("POST", api, "/v2/apps",
	            "{\"id\": \"/svc/web\", \"cmd\": \"sleep 1\", \"mem\": 16}", &status);
	cr_assert_eq(status, 409);
	cr_assert_str_eq(message(j), "An app with id [/svc/web] already exists.");
	json_decref(j);

	/* Scale up with a partial PUT, as `curl -X PUT -d '{"instances": 5}'` does. */
	j = mh_json("PUT", api, "/v2/apps/svc/web", "{\"instances\": 5}", &status);
	cr_assert_eq(status, 200);
	cr_assert_not_null(json_string_value(json_object_get(j, "deploymentId")));
	json_decref(j);
	cr_assert(mh_wait_count(api, "/svc/web", "tasksRunning", 5, 60000));
	cr_assert(mh_wait_deployed(api, "/svc/web", 5000));
	assert_ports("/svc/web", 5);
	json_t *app = mh_app(api, "/svc/web");
	cr_assert_eq(json_integer_value(json_object_get(app, "instances")), 5);
	cr_assert_str_eq(json_string_value(json_object_get(app, "cmd")), "sleep 1000",
	                 "a partial PUT keeps the rest");
	json_decref(app);

	j = mh_json("PUT", api, "/v2/apps/svc/web", "{\"instances\": 1}", &status);
	cr_assert_eq(status, 200);
	json_decref(j);
	cr_assert(mh_wait_count(api, "/svc/web", "tasksRunning", 1, 60000));
	cr_assert(mh_wait_deployed(api, "/svc/web", 10000));
	app = mh_app(api, "/svc/web");
	cr_assert_eq(json_array_size(json_object_get(app, "tasks")), 1, "killed tasks are gone");
	json_decref(app);

	json_t *list = mh_json("GET", api, "/v2/apps", NULL, &status);
	cr_assert_eq(json_array_size(json_object_get(list, "apps")), 1);
	json_decref(list);

	j = mh_json("DELETE", api, "/v2/apps/svc/web", NULL, &status);
	cr_assert_eq(status, 200);
	json_decref(j);
	cr_assert(mh_wait_count(api, "/svc/web", "tasksRunning", -1, 60000), "app still there");
	cr_assert(mh_wait(20000, no_deployments, NULL), "the stop did not finish");
}

/* The pid a task wrote into the scratch directory, or 0. */
static pid_t task_pid(const char *task_id)
{
	char path[512];
	int pid = 0;
	snprintf(path, sizeof(path), "%s/pid-%s", mh_dir(), task_id);
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static char *first_task_id(const char *app_id)
{
	json_t *app = mh_app(api, app_id);
	const char *id = json_string_value(
	    json_object_get(json_array_get(json_object_get(app, "tasks"), 0), "id"));
	char *copy = id ? strdup(id) : NULL;
	json_decref(app);
	return copy;
}

struct gone {
	const char *app, *task;
};

/* The app runs its full count again and the given task is not among its tasks. */
static bool replaced(void *arg)
{
	struct gone *g = arg;
	json_t *app = mh_app(api, g->app), *t;
	size_t i;
	int running = 0;
	bool still = false;
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	{
		still |= strcmp(json_string_value(json_object_get(t, "id")), g->task) == 0;
		running +=
		    strcmp(json_string_value(json_object_get(t, "state")), "TASK_RUNNING") == 0;
	}
	bool ok = app != NULL && !still && running == 2;
	json_decref(app);
	return ok;
}

Test(api, killed_tasks_are_replaced)
{
	char body[512];
	int status;
	snprintf(body, sizeof(body),
	         "{\"id\": \"kept\", \"cmd\": \"echo $$ > %s/pid-$MESOS_TASK_ID; exec sleep 1000\","
	         " \"cpus\": 0.1, \"mem\": 16, \"instances\": 2, \"backoffSeconds\": 0.2}",
	         mh_dir());
	json_decref(mh_json("POST", api, "/v2/apps", body, &status));
	cr_assert_eq(status, 201);
	cr_assert(mh_wait_count(api, "/kept", "tasksRunning", 2, 60000));

	/* The process dies under its executor: TASK_FAILED, then a new task. */
	char *victim = first_task_id("/kept");
	cr_assert_not_null(victim);
	pid_t pid = 0;
	for (int i = 0; i < 200 && (pid = task_pid(victim)) == 0; i++)
		usleep(10000);
	cr_assert_gt(pid, 0, "the task did not write its pid");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	struct gone g = {"/kept", victim};
	cr_assert(mh_wait(20000, replaced, &g), "the killed task was not replaced");
	free(victim);

	/* Killed through the API without scale=true: replaced as well. */
	victim = first_task_id("/kept");
	char path[512];
	snprintf(path, sizeof(path), "/v2/apps/kept/tasks/%s", victim);
	json_t *j = mh_json("DELETE", api, path, NULL, &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "task"), "id")),
	                 victim);
	json_decref(j);
	g.task = victim;
	cr_assert(mh_wait(20000, replaced, &g), "the task killed by the API was not replaced");
	free(victim);

	/* With scale=true the app shrinks instead. */
	victim = first_task_id("/kept");
	snprintf(path, sizeof(path), "/v2/apps/kept/tasks/%s?scale=true", victim);
	json_decref(mh_json("DELETE", api, path, NULL, &status));
	cr_assert_eq(status, 200);
	free(victim);
	cr_assert(mh_wait_count(api, "/kept", "instances", 1, 5000));
	cr_assert(mh_wait_count(api, "/kept", "tasksRunning", 1, 60000));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(api, failed_launches_back_off)
{
	struct mh_events *ev = mh_events_open(api);
	cr_assert_not_null(ev);
	char type[64];
	json_t *e = mh_events_next(ev, type, 5000);
	cr_assert_not_null(e);
	cr_assert_str_eq(type, "event_stream_attached");
	json_decref(e);

	int status;
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"crash\", \"cmd\": \"exit 1\", \"cpus\": 0.1, \"mem\": 16,"
	                    " \"backoffSeconds\": 0.3, \"backoffFactor\": 2,"
	                    " \"maxLaunchDelaySeconds\": 1.2}",
	                    &status));
	cr_assert_eq(status, 201);

	/* The delay before each relaunch: 0.3, 0.6, 1.2, then capped at 1.2. */
	static const double expect[] = {0.3, 0.6, 1.2, 1.2};
	double failed_at[5];
	int failures = 0;
	bool queued = false;
	while (failures < 5 && (e = mh_events_next(ev, type, 10000)) != NULL) {
		if (strcmp(type, "status_update_event") == 0 &&
		    strcmp(json_string_value(json_object_get(e, "taskStatus")), "TASK_FAILED") ==
		        0) {
			failed_at[failures++] = now_s();
			if (!queued) {
				json_t *q = mh_json("GET", api, "/v2/queue", NULL, NULL);
				json_t *item = json_array_get(json_object_get(q, "queue"), 0);
				double left = json_number_value(json_object_get(
				    json_object_get(item, "delay"), "timeLeftSeconds"));
				queued = item != NULL && left > 0;
				json_decref(q);
			}
		}
		json_decref(e);
	}
	cr_assert_eq(failures, 5, "only %d failures seen", failures);
	cr_assert(queued, "/v2/queue did not show the launch delay");
	for (int i = 0; i < 4; i++) {
		double gap = failed_at[i + 1] - failed_at[i];
		cr_assert_geq(gap, expect[i] * 0.9, "relaunch %d after %.2fs, backoff %.2fs", i + 1,
		              gap, expect[i]);
		/* No upper bound: a loaded machine starts tasks late, never early. */
	}
	mh_events_close(ev);

	/* DELETE /v2/queue/{id}/delay lets it launch at once. */
	cr_assert_eq(mh_http("DELETE", api, "/v2/queue/crash/delay", NULL, NULL), 204);
	json_decref(mh_json("DELETE", api, "/v2/apps/crash", NULL, &status));
	cr_assert_eq(status, 200);
	cr_assert(mh_wait_count(api, "/crash", "instances", -1, 60000));
}
