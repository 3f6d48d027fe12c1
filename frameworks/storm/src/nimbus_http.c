/* nimbus_http.c — the nimbus's HTTP endpoints (see nimbus_int.h) and its JSON view:
 * per worker, per task and per component the metrics the workers report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/actor.h>
#include <actor/http.h>
#include <actor/log.h>

#include "metrics.h"
#include "nimbus_int.h"

static const char *const slot_names[] = {"pending", "launched", "running", "retired"};

json_t *nimbus_state_json(struct nimbus *n)
{
	json_t *workers = json_array(), *tasks = json_array(), *components = json_object();
	for (int i = 0; i < n->nslots; i++) {
		const struct slot *s = &n->slots[i];
		json_t *w = json_pack("{sisssisssssssIsI}", "index", i, "state",
		                      slot_names[s->state], "gen", s->gen, "task_id", s->task_id,
		                      "agent_id", s->agent_id, "address", s->address, "pid",
		                      (json_int_t)s->pid, "epoch", (json_int_t)s->epoch);
		json_t *ids = json_array();
		size_t k;
		json_t *t;
		json_array_foreach(s->tasks, k, t)
		{
			json_array_append_new(ids, json_incref(json_object_get(t, "task")));
			json_t *copy = json_deep_copy(t);
			json_object_set_new(copy, "worker", json_integer(i));
			json_array_append_new(tasks, copy);
			const char *comp = json_string_value(json_object_get(t, "component"));
			if (comp == NULL)
				continue;
			json_t *sum = json_object_get(components, comp);
			if (sum == NULL) {
				sum = json_object();
				json_object_set_new(sum, "tasks", json_integer(0));
				json_object_set(sum, "kind", json_object_get(t, "kind"));
				json_object_set_new(components, comp, sum);
			}
			json_object_set_new(
			    sum, "tasks",
			    json_integer(json_integer_value(json_object_get(sum, "tasks")) + 1));
			stm_metrics_add_json(sum, t);
		}
		json_object_set_new(w, "tasks", ids);
		json_array_append_new(workers, w);
	}
	const char *key;
	json_t *sum;
	json_object_foreach(components, key, sum)
	{
		stm_metrics_finish_json(sum);
		json_object_del(sum, "complete_hist");
	}
	return json_pack("{sssssisIsbsbsbsIsisbsIsososo}", "name", n->name, "framework_id",
	                 n->framework_id, "workers", n->nworkers, "epoch", (json_int_t)n->epoch,
	                 "started", n->started, "active", n->active, "killing", n->killing,
	                 "relaunches", (json_int_t)n->relaunches, "tasks_total", n->topo->ntasks,
	                 "acking", n->topo->acking, "max_spout_pending",
	                 (json_int_t)n->topo->max_spout_pending, "worker_list", workers,
	                 "task_list", tasks, "components", components);
}

static actor_future *reply_json(int status, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory\n", 14);
	actor_future *f = actor_http_reply(status, "application/json", text, strlen(text));
	free(text);
	return f;
}

static actor_future *error_reply(int status, const char *why)
{
	actor_warn("storm: HTTP %d: %s", status, why);
	return reply_json(status, json_pack("{ss}", "error", why));
}

static actor_future *get_state(actor_t *self, const actor_http_request *req, void *arg)
{
	struct nimbus *n = arg;
	if (strcmp(req->method, "GET") != 0)
		return error_reply(405, "use GET");
	pthread_mutex_lock(&n->lock);
	json_t *o = nimbus_state_json(n);
	pthread_mutex_unlock(&n->lock);
	return reply_json(200, o);
}

static actor_future *post_kill(actor_t *self, const actor_http_request *req, void *arg)
{
	struct nimbus *n = arg;
	if (strcmp(req->method, "POST") != 0)
		return error_reply(405, "use POST");
	pthread_mutex_lock(&n->lock);
	nimbus_kill(n);
	pthread_mutex_unlock(&n->lock);
	return reply_json(200, json_pack("{ss}", "killing", n->name));
}

static actor_future *post_rebalance(actor_t *self, const actor_http_request *req, void *arg)
{
	struct nimbus *n = arg;
	if (strcmp(req->method, "POST") != 0)
		return error_reply(405, "use POST");
	const char *q = strstr(req->query, "workers=");
	char *end = NULL;
	long w = q != NULL ? strtol(q + 8, &end, 10) : 0;
	if (q == NULL || end == q + 8 || (*end != '\0' && *end != '&') || w < 1 ||
	    w > STM_MAX_WORKERS) {
		char why[96];
		snprintf(why, sizeof(why), "rebalance needs ?workers=N with N in 1..%d",
		         STM_MAX_WORKERS);
		return error_reply(400, why);
	}
	pthread_mutex_lock(&n->lock);
	int rc = nimbus_rebalance(n, (int)w);
	pthread_mutex_unlock(&n->lock);
	if (rc != 0)
		return error_reply(409, "the topology is being killed");
	return reply_json(200, json_pack("{si}", "workers", (int)w));
}

static int http_init(actor_t *self)
{
	struct nimbus *n = actor_state(self);
	if (actor_http_route(self, "/state", get_state, n) != 0 ||
	    actor_http_route(self, "/kill", post_kill, n) != 0 ||
	    actor_http_route(self, "/rebalance", post_rebalance, n) != 0)
		return -1;
	return 0;
}

static const actor_def http_def = {.name = "storm", .init = http_init};

int nimbus_http_start(struct nimbus *n)
{
	return actor_spawn(&http_def, n, NULL);
}
