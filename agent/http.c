/* http.c — the agent's HTTP endpoints, under its actor id as Mesos serves them:
 *   GET /slave(N)/state   the agent, its frameworks, executors and tasks (Mesos's shape)
 *   GET /slave(N)/health  200 while the agent runs (also GET /health, see below)
 * Metrics are served by the runtime at /metrics/snapshot; sandbox files by the "files"
 * actor (files.c). */
#include <stdlib.h>
#include <string.h>

#include "agent/containerizer/containerizer.h"
#include "agent/internal.h"
#include "common/json_pb.h"

/* Resources as Mesos's state shows them: {"cpus": 2, "mem": 1024, "ports": "[31000-32000]"},
 * scalars summed over reservations, ranges and sets in their text form. */
static json_t *resources_model(const px_resources *rs)
{
	json_t *o = json_object();

	if (o == NULL || rs == NULL)
		return o;
	for (size_t i = 0; i < px_resources_size(rs); i++) {
		const struct px_resource *r = px_resources_at(rs, i);
		const char *name = px_resource_name(r);
		if (px_resource_type(r) == PX_SCALAR) {
			json_object_set_new(
			    o, name, json_real((double)px_resources_scalar(rs, name) / 1000.0));
			continue;
		}
		px_resources *one = px_resources_new();
		if (one == NULL)
			continue;
		px_resources_add_resource(one, r);
		char *text = px_resources_format(one);
		px_resources_free(one);
		/* "ports:[31000-32000]" -> "[31000-32000]" (a role in between is dropped). */
		const char *colon = text ? strchr(text, ':') : NULL;
		if (colon != NULL)
			json_object_set_new(o, name, json_string(colon + 1));
		free(text);
	}
	return o;
}

static json_t *resources_model_pb(Plexus__Resource *const *res, size_t n)
{
	px_resources *rs = NULL;
	char err[256];

	if (n > 0 && px_resources_from_pb(res, n, &rs, err, sizeof(err)) != PX_OK)
		rs = NULL;
	json_t *o = resources_model(rs);
	px_resources_free(rs);
	return o;
}

static json_t *attributes_model(Plexus__Attribute *const *attrs, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n && o != NULL; i++) {
		const Plexus__Attribute *at = attrs[i];
		json_t *v = NULL;
		if (at->scalar != NULL) {
			v = json_real(at->scalar->value);
		} else if (at->text != NULL) {
			v = json_string(at->text->value);
		} else {
			/* Ranges and sets in Mesos's text form, "[1-5, 7-9]" and "{a, b}". */
			char buf[1024] = "";
			size_t len = 0;
			if (at->ranges != NULL) {
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "[");
				for (size_t k = 0; k < at->ranges->n_range && len < sizeof(buf);
				     k++)
					len += (size_t)snprintf(
					    buf + len, sizeof(buf) - len, "%s%llu-%llu",
					    k ? ", " : "",
					    (unsigned long long)at->ranges->range[k]->begin,
					    (unsigned long long)at->ranges->range[k]->end);
				if (len < sizeof(buf))
					snprintf(buf + len, sizeof(buf) - len, "]");
			} else if (at->set != NULL) {
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "{");
				for (size_t k = 0; k < at->set->n_item && len < sizeof(buf); k++)
					len +=
					    (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					                     k ? ", " : "", at->set->item[k]);
				if (len < sizeof(buf))
					snprintf(buf + len, sizeof(buf) - len, "}");
			}
			v = json_string(buf);
		}
		json_object_set_new(o, at->name, v);
	}
	return o;
}

static const char *state_name(Plexus__TaskState s)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&plexus__task_state__descriptor, (int)s);
	return v ? v->name : "TASK_UNKNOWN";
}

static json_t *task_model(struct agent *a, struct agent_executor *ex, struct agent_task *t)
{
	json_t *statuses = json_array();
	for (size_t i = 0; i < t->nstatus; i++)
		json_array_append_new(statuses,
		                      json_pack("{s:s,s:f}", "state", state_name(t->states[i]),
		                                "timestamp", t->timestamps[i]));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "id", t->info->task_id->value, "name",
	                 t->info->name ? t->info->name : "", "framework_id", ex->fw->id,
	                 "executor_id", ex->command ? "" : ex->id, "slave_id",
	                 a->agent_id ? a->agent_id : "", "state", state_name(t->state), "resources",
	                 resources_model_pb(t->info->resources, t->info->n_resources), "statuses",
	                 statuses);
}

static json_t *executor_model(struct agent *a, struct agent_executor *ex)
{
	json_t *tasks = json_array(), *queued = json_array(), *completed = json_array();

	for (struct agent_task *t = ex->queued; t; t = t->next)
		json_array_append_new(px_task_state_is_terminal(t->state) ? completed : queued,
		                      task_model(a, ex, t));
	for (struct agent_task *t = ex->launched; t; t = t->next)
		json_array_append_new(px_task_state_is_terminal(t->state) ? completed : tasks,
		                      task_model(a, ex, t));
	for (struct agent_task *t = ex->completed; t; t = t->next)
		json_array_append_new(completed, task_model(a, ex, t));
	json_t *model = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "id", ex->id, "name",
	                 ex->info->name ? ex->info->name : "", "source",
	                 ex->info->source ? ex->info->source : "", "container", ex->run_uuid,
	                 "directory", ex->directory ? ex->directory : "", "resources",
	                 resources_model_pb(ex->info->resources, ex->info->n_resources), "tasks",
	                 tasks, "queued_tasks", queued, "completed_tasks", completed);
	/* A live container's usage, as /monitor/statistics has it. */
	if (model != NULL && ex->container.state != NULL) {
		Plexus__ResourceStatistics st = PLEXUS__RESOURCE_STATISTICS__INIT;
		containerizer_usage(&ex->container, &st);
		json_t *js = px_pb_to_json(&st.base);
		if (js != NULL)
			json_object_set_new(model, "statistics", js);
	}
	return model;
}

static json_t *framework_model(struct agent *a, struct agent_framework *fw)
{
	json_t *exs = json_array(), *done = json_array(), *roles = json_array();
	const Plexus__FrameworkInfo *fi = fw->info;

	for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
		json_array_append_new(exs, executor_model(a, ex));
	for (struct agent_executor *ex = fw->completed; ex; ex = ex->next)
		json_array_append_new(done, executor_model(a, ex));
	for (size_t i = 0; fi && i < fi->n_roles; i++)
		json_array_append_new(roles, json_string(fi->roles[i]));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:f,s:b,s:o,s:o}", "id", fw->id, "name",
	                 fi && fi->name ? fi->name : "", "user", fi && fi->user ? fi->user : "",
	                 "hostname", fi && fi->hostname ? fi->hostname : "", "role",
	                 fi && fi->role ? fi->role : "*", "roles", roles, "failover_timeout",
	                 fi ? fi->failover_timeout : 0.0, "checkpoint", fi ? fi->checkpoint : 0,
	                 "executors", exs, "completed_executors", done);
}

static actor_future *state(actor_t *self, const actor_http_request *req, void *arg)
{
	struct agent *a = arg;
	char pid[ACTOR_PID_TEXT_MAX];
	json_t *fws = json_array(), *done = json_array();

	actor_pid_format(a->pid, pid, sizeof(pid));
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		json_array_append_new(fws, framework_model(a, fw));
	for (struct agent_framework *fw = a->completed_frameworks; fw; fw = fw->next)
		json_array_append_new(done, framework_model(a, fw));
	json_t *flags =
	    json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "master", a->master_text, "work_dir",
	              a->work_dir, "executor_path", a->executor_path,
	              "executor_shutdown_grace_period_ms", (json_int_t)a->shutdown_grace_ms,
	              "isolation", containerizer_isolation(a->launcher_ctx), "containment",
	              containerizer_kind(a->launcher_ctx));
	json_t *j =
	    json_pack("{s:s,s:f,s:s,s:s,s:s,s:i,s:o,s:o,s:s,s:b,s:o,s:o,s:o}", "version", "0.1.0",
	              "start_time", a->start_time, "id", a->agent_id ? a->agent_id : "", "pid", pid,
	              "hostname", a->hostname, "port", a->http_port, "resources",
	              resources_model(a->resources), "attributes",
	              attributes_model(a->attributes, a->nattributes), "master_hostname",
	              a->master_info && a->master_info->hostname ? a->master_info->hostname : "",
	              "registered", a->conn == AGENT_REGISTERED, "frameworks", fws,
	              "completed_frameworks", done, "flags", flags);
	char *text = j ? json_dumps(j, PX_JSON_DUMP_FLAGS) : NULL;
	json_decref(j);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory\n", 14);
	actor_future *f = actor_http_reply(200, "application/json", text, strlen(text));
	free(text);
	return f;
}

/* /slave(N)/health, and /health when no other actor of this process serves it. */
static actor_future *health(actor_t *self, const actor_http_request *req, void *arg)
{
	if (strcmp(req->path, "/") != 0 && strcmp(req->path, "/health") != 0)
		return actor_http_reply(404, "text/plain", "use /health\n", 12);
	return actor_http_reply(200, "text/plain", NULL, 0);
}

int agent_http_install(struct agent *a)
{
	int rc = actor_http_route(a->self, "/state", state, a);
	if (rc == 0)
		rc = actor_http_route(a->self, "/state.json", state, a);
	if (rc == 0)
		rc = actor_http_route(a->self, "/health", health, a);
	/* GET /health as operations.md lists it; in `plexus local` the master (or the first
	 * agent) holds it already, and that one answers. */
	if (rc == 0) {
		int prc = actor_http_route_prefix(a->self, "/health", health, a);
		if (prc != 0 && prc != ACTOR_EEXIST)
			rc = prc;
	}
	return rc;
}
