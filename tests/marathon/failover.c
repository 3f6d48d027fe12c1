/* tests/marathon/failover.c — a master and separate agent processes: hostname:UNIQUE
 * places one instance per agent and no more, GROUP_BY spreads over racks, tasks of a
 * killed agent come back elsewhere, and a restarted scheduler (same state file) takes
 * over its framework and keeps its tasks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "mar_harness.h"

static int master;

static void setup(void)
{
	mh_init();
	master = mh_master();
}

static void teardown(void)
{
	mh_fini();
}

TestSuite(failover, .init = setup, .fini = teardown, .timeout = 240);

#define RES "cpus:2;mem:1024;ports:[32000-32099]"

/* How many of the app's tasks run on each host, into a JSON object. */
static json_t *per_host(int api, const char *id)
{
	json_t *app = mh_app(api, id), *t, *out = json_object();
	size_t i;
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	{
		const char *host = json_string_value(json_object_get(t, "host"));
		json_int_t n = json_integer_value(json_object_get(out, host));
		json_object_set_new(out, host, json_integer(n + 1));
	}
	json_decref(app);
	return out;
}

Test(failover, unique_hostname_places_one_per_agent)
{
	mh_agent(master, "host-a", "rack:r1", RES, 1);
	mh_agent(master, "host-b", "rack:r2", RES, 2);
	int api = mh_marathon(master, NULL, NULL), status;
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"one-each\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1,"
	                    " \"mem\": 16, \"instances\": 3,"
	                    " \"constraints\": [[\"hostname\", \"UNIQUE\"]]}",
	                    &status));
	cr_assert_eq(status, 201);
	cr_assert(mh_wait_count(api, "/one-each", "tasksRunning", 2, 60000));
	/* The third has nowhere to go: it waits in the queue, and stays there. */
	usleep(1500 * 1000);
	json_t *hosts = per_host(api, "/one-each");
	cr_assert_eq(json_object_size(hosts), 2);
	cr_assert_eq(json_integer_value(json_object_get(hosts, "host-a")), 1,
	             "never two on one agent");
	cr_assert_eq(json_integer_value(json_object_get(hosts, "host-b")), 1,
	             "never two on one agent");
	json_decref(hosts);
	json_t *q = mh_json("GET", api, "/v2/queue", NULL, NULL);
	json_t *item = json_array_get(json_object_get(q, "queue"), 0);
	cr_assert_eq(json_integer_value(json_object_get(item, "count")), 1);
	json_decref(q);

	/* GROUP_BY rack: 4 instances, 2 per rack. */
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"spread\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1,"
	                    " \"mem\": 16, \"instances\": 4,"
	                    " \"constraints\": [[\"rack\", \"GROUP_BY\"], [\"rack\", \"LIKE\","
	                    " \"r[0-9]\"]]}",
	                    &status));
	cr_assert_eq(status, 201);
	cr_assert(mh_wait_count(api, "/spread", "tasksRunning", 4, 60000));
	hosts = per_host(api, "/spread");
	cr_assert_eq(json_integer_value(json_object_get(hosts, "host-a")), 2);
	cr_assert_eq(json_integer_value(json_object_get(hosts, "host-b")), 2);
	json_decref(hosts);
}

struct on_host {
	int api;
	const char *app, *host;
	int n;
};

/* n tasks of the app run, all on host. */
static bool all_on(void *arg)
{
	struct on_host *w = arg;
	json_t *hosts = per_host(w->api, w->app);
	bool ok = json_object_size(hosts) == 1 &&
	          json_integer_value(json_object_get(hosts, w->host)) == w->n &&
	          mh_app_count(w->api, w->app, "tasksRunning") == w->n;
	json_decref(hosts);
	return ok;
}

Test(failover, tasks_of_a_killed_agent_come_back_elsewhere)
{
	pid_t a = mh_agent(master, "host-a", NULL, RES, 1);
	int api = mh_marathon(master, NULL, NULL), status;
	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"survivor\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1,"
	                    " \"mem\": 16, \"instances\": 3, \"backoffSeconds\": 0.1}",
	                    &status));
	cr_assert_eq(status, 201);
	struct on_host w = {api, "/survivor", "host-a", 3};
	cr_assert(mh_wait(60000, all_on, &w));
	mh_agent(master, "host-b", NULL, RES, 2);
	mh_kill(a);
	w.host = "host-b";
	cr_assert(mh_wait(60000, all_on, &w), "the tasks did not move to host-b");
}

/* The app's task ids, sorted, as one string. */
static char *task_ids(int api, const char *id)
{
	json_t *app = mh_app(api, id), *t;
	size_t i;
	char *out = calloc(1, 4096);
	json_t *ids = json_array();
	json_array_foreach(json_object_get(app, "tasks"), i, t)
	    json_array_append(ids, json_object_get(t, "id"));
	/* Insertion sort: a handful of ids. */
	for (size_t a = 1; a < json_array_size(ids); a++)
		for (size_t b = a; b > 0 && strcmp(json_string_value(json_array_get(ids, b - 1)),
		                                   json_string_value(json_array_get(ids, b))) > 0;
		     b--) {
			json_t *x = json_incref(json_array_get(ids, b));
			json_array_set(ids, b, json_array_get(ids, b - 1));
			json_array_set_new(ids, b - 1, x);
		}
	json_array_foreach(ids, i, t)
	{
		strncat(out, json_string_value(t), 4000 - strlen(out));
		strncat(out, " ", 4000 - strlen(out));
	}
	json_decref(ids);
	json_decref(app);
	return out;
}

Test(failover, a_restarted_scheduler_keeps_its_tasks)
{
	char state[512];
	snprintf(state, sizeof(state), "%s/marathon.json", mh_dir());
	mh_agent(master, "host-a", NULL, RES, 1);
	pid_t sched;
	int api = mh_marathon(master, state, &sched), status;
	json_t *info = mh_json("GET", api, "/v2/info", NULL, NULL);
	char framework[128];
	snprintf(framework, sizeof(framework), "%s",
	         json_string_value(json_object_get(info, "frameworkId")));
	json_decref(info);

	json_decref(mh_json("POST", api, "/v2/apps",
	                    "{\"id\": \"steady\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1,"
	                    " \"mem\": 16, \"instances\": 3}",
	                    &status));
	cr_assert_eq(status, 201);
	cr_assert(mh_wait_count(api, "/steady", "tasksRunning", 3, 60000));
	cr_assert(mh_wait_deployed(api, "/steady", 5000));
	char *before = task_ids(api, "/steady");

	/* The scheduler dies without a word; another one takes its state file. */
	mh_kill(sched);
	int api2 = mh_marathon(master, state, NULL);
	info = mh_json("GET", api2, "/v2/info", NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(info, "frameworkId")), framework,
	                 "a new framework instead of a failover");
	json_decref(info);
	/* Reconciliation has answered once the tasks are RUNNING again (their state came
	 * back from the master); nothing is launched twice. */
	cr_assert(mh_wait_count(api2, "/steady", "tasksRunning", 3, 60000));
	usleep(1000 * 1000);
	char *after = task_ids(api2, "/steady");
	cr_assert_str_eq(after, before, "tasks were replaced: %s -> %s", before, after);
	cr_assert_eq(mh_app_count(api2, "/steady", "tasksRunning"), 3);
	json_t *st = mh_json("GET", master, "/master/state", NULL, NULL);
	cr_assert_eq(json_array_size(json_object_get(st, "frameworks")), 1);
	json_t *fw = json_array_get(json_object_get(st, "frameworks"), 0);
	cr_assert_eq(json_array_size(json_object_get(fw, "tasks")), 3);
	json_decref(st);
	free(before);
	free(after);

	/* And it goes on working: scale up. */
	json_decref(mh_json("PUT", api2, "/v2/apps/steady", "{\"instances\": 4}", &status));
	cr_assert_eq(status, 200);
	cr_assert(mh_wait_count(api2, "/steady", "tasksRunning", 4, 60000));
}
