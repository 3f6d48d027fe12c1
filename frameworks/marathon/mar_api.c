/* mar_api.c — Marathon's REST API (v2) on the scheduler's state: apps, tasks,
 * deployments, the launch queue, info and ping. Paths, status codes and bodies follow
 * Marathon's, so that its curl commands and clients keep working. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "plexus/version.h"

#include "mar_api.h"
#include "mar_http.h"
#include "mar_state.h"

static bool query_true(const struct mar_request *r, const char *name)
{
	char v[16];
	return mar_query_get(r->query, name, v, sizeof(v)) != NULL &&
	       (strcmp(v, "true") == 0 || v[0] == '\0' || strcmp(v, "1") == 0);
}

/* The body as JSON; NULL after answering 400 when it is not JSON. */
static json_t *body_json(struct mar_request *r)
{
	json_error_t err;
	json_t *j = json_loadb(r->body, r->body_len, 0, &err);
	if (j == NULL) {
		char text[300];
		snprintf(text, sizeof(text), "Invalid JSON: %s (line %d, column %d)", err.text,
		         err.line, err.column);
		mar_http_error(r, 400, "Invalid JSON",
		               json_pack("[{s:s, s:[s]}]", "path", "/", "errors", text));
	}
	return j;
}

/* 409 when app_id has a deployment under way and the request is not forced; with
 * force=true the deployment is cancelled. true when the caller may go on. */
static bool unlocked(struct mar_state *st, struct mar_request *r, const char *app_id)
{
	struct mar_deployment *d = mar_deploy_for_app(st, app_id);
	if (d == NULL)
		return true;
	if (query_true(r, "force")) {
		mar_deploy_finish(st, d, false);
		return true;
	}
	json_t *body = json_pack("{s:s, s:[{s:s}]}", "message",
	                         "App is locked by one or more deployments. Override with the "
	                         "option '?force=true'. View details at "
	                         "'/v2/deployments/<DEPLOYMENT_ID>'.",
	                         "deployments", "id", d->id);
	actor_info("marathon: %s %s -> 409 locked by %s", r->method, r->path, d->id);
	mar_http_reply(r, 409, body, NULL, NULL);
	return false;
}

static void reply_deployment(struct mar_request *r, int status, struct mar_deployment *d,
                             const char *version)
{
	mar_http_reply(r, status,
	               json_pack("{s:s, s:s}", "version", version, "deploymentId", d ? d->id : ""),
	               NULL, NULL);
}

static void not_found(struct mar_request *r, const char *app_id)
{
	char text[MAR_ID_MAX + 40];
	snprintf(text, sizeof(text), "App '%s' does not exist", app_id);
	mar_http_error(r, 404, text, NULL);
}

/* A new definition of an app: parsed, or answered 422. */
static struct mar_app *parse_or_422(struct mar_request *r, const json_t *in, const char *id)
{
	json_t *errors = NULL;
	struct mar_app *app = mar_app_parse(in, id, &errors);
	if (app == NULL)
		mar_http_error(r, 422, "Object is not valid", errors);
	return app;
}

/* POST /v2/apps */
static void apps_create(struct mar_state *st, struct mar_request *r)
{
	json_t *in = body_json(r);
	if (in == NULL)
		return;
	struct mar_app *app = parse_or_422(r, in, NULL);
	json_decref(in);
	if (app == NULL)
		return;
	if (mar_entry_find(st, app->id) != NULL) {
		char text[MAR_ID_MAX + 64];
		snprintf(text, sizeof(text), "An app with id [%s] already exists.", app->id);
		mar_app_free(app);
		mar_http_error(r, 409, text, NULL);
		return;
	}
	mar_timestamp(app->version);
	memcpy(app->config_version, app->version, sizeof(app->version));
	struct mar_entry *e = mar_entry_add(st, app);
	if (e == NULL) {
		mar_app_free(app);
		mar_http_error(r, 500, "out of memory", NULL);
		return;
	}
	struct mar_deployment *d = mar_deploy_start(st, app->id, MAR_DEPLOY_START, NULL);
	mar_event(st, "api_post_event",
	          json_pack("{s:s, s:O}", "uri", "/v2/apps", "appDefinition", app->json));
	json_t *body = mar_entry_to_json(st, e, false);
	char location[MAR_ID_MAX + 16];
	snprintf(location, sizeof(location), "/v2/apps%s", app->id);
	mar_converge(st, e);
	(void)d;
	mar_http_reply(r, 201, body, "Location", location);
}

/* Installs next as e's definition; a change of anything but instances is a restart. */
static struct mar_deployment *redefine(struct mar_state *st, struct mar_entry *e,
                                       struct mar_app *next, bool restart)
{
	json_t *previous = mar_app_to_json(e->app);
	bool same = !restart && mar_app_same_config(e->app, next);
	mar_timestamp(next->version);
	if (same)
		memcpy(next->config_version, e->app->config_version, sizeof(next->config_version));
	else
		memcpy(next->config_version, next->version, sizeof(next->version));
	if (!same) {
		/* A new config starts with a clean backoff, as in Marathon. */
		e->delay_s = next->backoff_s;
		e->launch_after_ms = 0;
	}
	mar_app_free(e->app);
	e->app = next;
	e->deleting = false;
	st->dirty = true;
	return mar_deploy_start(st, next->id, same ? MAR_DEPLOY_SCALE : MAR_DEPLOY_RESTART,
	                        previous);
}

/* PUT /v2/apps/{id}: a full or partial definition, applied over the current one. */
static void app_update(struct mar_state *st, struct mar_request *r, const char *id)
{
	json_t *in = body_json(r);
	if (in == NULL)
		return;
	if (!json_is_object(in)) {
		json_decref(in);
		mar_http_error(r, 422, "Object is not valid",
		               json_pack("[{s:s, s:[s]}]", "path", "/", "errors",
		                         "an app definition must be a JSON object"));
		return;
	}
	struct mar_entry *e = mar_entry_find(st, id);
	json_t *merged = e ? json_deep_copy(e->app->json) : json_object();
	json_object_update(merged, in);
	json_decref(in);
	struct mar_app *next = parse_or_422(r, merged, id);
	json_decref(merged);
	if (next == NULL)
		return;
	if (e == NULL) {
		mar_timestamp(next->version);
		memcpy(next->config_version, next->version, sizeof(next->version));
		e = mar_entry_add(st, next);
		if (e == NULL) {
			mar_app_free(next);
			mar_http_error(r, 500, "out of memory", NULL);
			return;
		}
		struct mar_deployment *d = mar_deploy_start(st, next->id, MAR_DEPLOY_START, NULL);
		char version[MAR_VERSION_MAX];
		memcpy(version, next->version, sizeof(version));
		reply_deployment(r, 201, d, version);
		mar_converge(st, e);
		return;
	}
	if (!unlocked(st, r, e->app->id)) {
		mar_app_free(next);
		return;
	}
	struct mar_deployment *d = redefine(st, e, next, false);
	reply_deployment(r, 200, d, e->app->version);
	mar_converge(st, e);
}

/* DELETE /v2/apps/{id} */
static void app_delete(struct mar_state *st, struct mar_request *r, struct mar_entry *e)
{
	if (!unlocked(st, r, e->app->id))
		return;
	char version[MAR_VERSION_MAX];
	mar_timestamp(version);
	e->deleting = true;
	struct mar_deployment *d =
	    mar_deploy_start(st, e->app->id, MAR_DEPLOY_STOP, mar_app_to_json(e->app));
	reply_deployment(r, 200, d, version);
	mar_converge(st, e);
}

/* POST /v2/apps/{id}/restart */
static void app_restart(struct mar_state *st, struct mar_request *r, struct mar_entry *e)
{
	if (!unlocked(st, r, e->app->id))
		return;
	struct mar_app *next = mar_app_copy(e->app);
	if (next == NULL) {
		mar_http_error(r, 500, "out of memory", NULL);
		return;
	}
	struct mar_deployment *d = redefine(st, e, next, true);
	reply_deployment(r, 200, d, e->app->version);
	mar_converge(st, e);
}

static json_t *tasks_json(const struct mar_entry *e)
{
	json_t *list = json_array();
	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next)
		json_array_append_new(list, mar_task_to_json(e, t));
	return list;
}

/* DELETE /v2/apps/{id}/tasks/{taskId}[?scale=true] */
static void task_delete(struct mar_state *st, struct mar_request *r, struct mar_entry *e,
                        const char *task_id)
{
	struct mar_task *t = NULL;
	for (t = e->tasks; t != NULL && strcmp(t->id, task_id) != 0; t = t->next)
		;
	if (t == NULL) {
		char text[512];
		snprintf(text, sizeof(text), "Task '%s' does not exist", task_id);
		mar_http_error(r, 404, text, NULL);
		return;
	}
	json_t *body = json_pack("{s:o}", "task", mar_task_to_json(e, t));
	mar_task_kill(st, e, t);
	if (query_true(r, "scale") && e->app->instances > 0) {
		struct mar_app *next = mar_app_copy(e->app);
		if (next != NULL) {
			next->instances--;
			json_object_set_new(next->json, "instances", json_integer(next->instances));
			if (mar_deploy_for_app(st, e->app->id) == NULL)
				redefine(st, e, next, false);
			else
				mar_app_free(next);
		}
	}
	mar_http_reply(r, 200, body, NULL, NULL);
	mar_converge(st, e);
}

/* /v2/apps/{id}[/tasks[/{taskId}] | /restart] */
static void apps_one(struct mar_state *st, struct mar_request *r, const char *rest)
{
	char raw[MAR_ID_MAX * 2], id[MAR_ID_MAX], why[512];
	const char *sub = "", *task_id = NULL;

	snprintf(raw, sizeof(raw), "%s", rest);
	char *tasks = strstr(raw, "/tasks");
	if (tasks != NULL && (tasks[6] == '\0' || tasks[6] == '/')) {
		task_id = tasks[6] == '/' ? tasks + 7 : NULL;
		*tasks = '\0';
		sub = "tasks";
	} else {
		size_t n = strlen(raw);
		if (n >= 8 && strcmp(raw + n - 8, "/restart") == 0) {
			raw[n - 8] = '\0';
			sub = "restart";
		}
	}
	if (!mar_app_id_normalise(raw, id, sizeof(id), why, sizeof(why))) {
		mar_http_error(r, 422, "Object is not valid",
		               json_pack("[{s:s, s:[s]}]", "path", "/id", "errors", why));
		return;
	}
	struct mar_entry *e = mar_entry_find(st, id);
	bool get = strcmp(r->method, "GET") == 0;
	if (strcmp(sub, "") == 0 && strcmp(r->method, "PUT") == 0) {
		app_update(st, r, id);
		return;
	}
	if (e == NULL || e->deleting) {
		not_found(r, id);
		return;
	}
	if (strcmp(sub, "restart") == 0 && strcmp(r->method, "POST") == 0)
		app_restart(st, r, e);
	else if (strcmp(sub, "tasks") == 0 && task_id == NULL && get)
		mar_http_reply(r, 200, json_pack("{s:o}", "tasks", tasks_json(e)), NULL, NULL);
	else if (strcmp(sub, "tasks") == 0 && task_id != NULL && strcmp(r->method, "DELETE") == 0)
		task_delete(st, r, e, task_id);
	else if (strcmp(sub, "") == 0 && get)
		mar_http_reply(r, 200, json_pack("{s:o}", "app", mar_entry_to_json(st, e, true)),
		               NULL, NULL);
	else if (strcmp(sub, "") == 0 && strcmp(r->method, "DELETE") == 0)
		app_delete(st, r, e);
	else
		mar_http_error(r, 405, "Method Not Allowed", NULL);
}

/* DELETE /v2/deployments/{id}: roll back (the app as it was before), or with
 * force=true only stop the deployment where it is. */
static void deployment_delete(struct mar_state *st, struct mar_request *r, const char *id)
{
	struct mar_deployment *d = mar_deploy_find(st, id);
	if (d == NULL) {
		char text[128];
		snprintf(text, sizeof(text), "DeploymentPlan %s does not exist", id);
		mar_http_error(r, 404, text, NULL);
		return;
	}
	struct mar_entry *e = mar_entry_find(st, d->app_id);
	if (query_true(r, "force") || e == NULL) {
		mar_deploy_finish(st, d, false);
		mar_http_reply(r, 202, NULL, NULL, NULL);
		return;
	}
	json_t *previous = d->previous ? json_incref(d->previous) : NULL;
	mar_deploy_finish(st, d, false);
	struct mar_deployment *back;
	if (previous == NULL) {
		/* The app did not exist before: rolling back removes it. */
		e->deleting = true;
		back = mar_deploy_start(st, e->app->id, MAR_DEPLOY_STOP, mar_app_to_json(e->app));
	} else {
		json_t *errors = NULL;
		struct mar_app *old = mar_app_parse(previous, NULL, &errors);
		json_decref(errors);
		if (old == NULL) {
			json_decref(previous);
			mar_http_error(r, 500, "the previous definition cannot be restored", NULL);
			return;
		}
		const char *cv = json_string_value(json_object_get(
		    json_object_get(previous, "versionInfo"), "lastConfigChangeAt"));
		bool same = mar_app_same_config(e->app, old);
		mar_timestamp(old->version);
		snprintf(old->config_version, sizeof(old->config_version), "%s",
		         same ? e->app->config_version : (cv ? cv : old->version));
		mar_app_free(e->app);
		e->app = old;
		e->deleting = false;
		e->delay_s = old->backoff_s;
		e->launch_after_ms = 0;
		back = mar_deploy_start(st, old->id, same ? MAR_DEPLOY_SCALE : MAR_DEPLOY_RESTART,
		                        json_incref(previous));
	}
	json_decref(previous);
	char version[MAR_VERSION_MAX];
	mar_timestamp(version);
	reply_deployment(r, 200, back, version);
	mar_converge(st, e);
}

static json_t *queue_json(struct mar_state *st)
{
	json_t *list = json_array();
	int64_t now = actor_clock_now();
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next) {
		int fresh = 0;
		for (struct mar_task *t = e->tasks; t != NULL; t = t->next)
			fresh +=
			    !t->killing && strcmp(t->config_version, e->app->config_version) == 0;
		int count = e->deleting ? 0 : e->app->instances - fresh;
		if (count <= 0)
			continue;
		double left =
		    e->launch_after_ms > now ? (double)(e->launch_after_ms - now) / 1000 : 0;
		json_array_append_new(list,
		                      json_pack("{s:o, s:i, s:{s:f, s:b}}", "app",
		                                mar_app_to_json(e->app), "count", count, "delay",
		                                "timeLeftSeconds", left, "overdue", left == 0));
	}
	return json_pack("{s:o}", "queue", list);
}

static json_t *info_json(struct mar_state *st)
{
	char leader[300];
	snprintf(leader, sizeof(leader), "%s:%d", st->opts.hostname, st->opts.http_port);
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:{s:i}, s:{s:s, s:s, s:f}, s:{s:s}}", "name",
	                 "marathon", "version", PLEXUS_VERSION, "frameworkId", st->framework_id,
	                 "elected", true, "leader", leader, "http_config", "http_port",
	                 st->opts.http_port, "marathon_config", "master", st->opts.master,
	                 "framework_name", st->opts.name, "failover_timeout",
	                 st->opts.failover_timeout_s, "event_subscriber", "type", "sse");
}

void mar_api_handle(void *state, struct mar_request *r)
{
	struct mar_state *st = state;
	const char *p = r->path;
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

	/* Trailing slashes do not matter ("/v2/apps/" is "/v2/apps"). */
	for (size_t n = strlen(r->path); n > 1 && r->path[n - 1] == '/'; n--)
		r->path[n - 1] = '\0';
	if (strcmp(p, "/ping") == 0 && get) {
		mar_http_reply_text(r, 200, "pong");
	} else if (strcmp(p, "/v2/info") == 0 && get) {
		mar_http_reply(r, 200, info_json(st), NULL, NULL);
	} else if (strcmp(p, "/v2/apps") == 0 && get) {
		char embed[64];
		bool tasks = mar_query_get(r->query, "embed", embed, sizeof(embed)) != NULL &&
		             strcmp(embed, "apps.tasks") == 0;
		json_t *list = json_array();
		for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
			if (!e->deleting)
				json_array_append_new(list, mar_entry_to_json(st, e, tasks));
		mar_http_reply(r, 200, json_pack("{s:o}", "apps", list), NULL, NULL);
	} else if (strcmp(p, "/v2/apps") == 0 && strcmp(r->method, "POST") == 0) {
		apps_create(st, r);
	} else if (strncmp(p, "/v2/apps/", 9) == 0) {
		apps_one(st, r, p + 8);
	} else if (strcmp(p, "/v2/tasks") == 0 && get) {
		json_t *list = json_array();
		for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
			json_array_extend(list, tasks_json(e));
		mar_http_reply(r, 200, json_pack("{s:o}", "tasks", list), NULL, NULL);
	} else if (strcmp(p, "/v2/deployments") == 0 && get) {
		json_t *list = json_array();
		for (struct mar_deployment *d = st->deployments; d != NULL; d = d->next)
			json_array_append_new(list, mar_deploy_to_json(st, d));
		mar_http_reply(r, 200, list, NULL, NULL);
	} else if (strncmp(p, "/v2/deployments/", 16) == 0 && strcmp(r->method, "DELETE") == 0) {
		deployment_delete(st, r, p + 16);
	} else if (strcmp(p, "/v2/queue") == 0 && get) {
		mar_http_reply(r, 200, queue_json(st), NULL, NULL);
	} else if (strncmp(p, "/v2/queue/", 10) == 0 && strcmp(r->method, "DELETE") == 0) {
		/* DELETE /v2/queue/{appId}/delay: launch now. */
		char id[MAR_ID_MAX], why[256], raw[MAR_ID_MAX];
		snprintf(raw, sizeof(raw), "%s", p + 9);
		size_t n = strlen(raw);
		if (n > 6 && strcmp(raw + n - 6, "/delay") == 0)
			raw[n - 6] = '\0';
		struct mar_entry *e = mar_app_id_normalise(raw, id, sizeof(id), why, sizeof(why))
		                          ? mar_entry_find(st, id)
		                          : NULL;
		if (e == NULL) {
			not_found(r, raw);
		} else {
			e->launch_after_ms = 0;
			e->delay_s = e->app->backoff_s;
			mar_http_reply(r, 204, NULL, NULL, NULL);
			mar_converge(st, e);
		}
	} else if (strncmp(p, "/v2/", 4) == 0 || strcmp(p, "/ping") == 0) {
		mar_http_error(r, strncmp(p, "/v2/apps", 8) == 0 ? 405 : 404, "Not Found", NULL);
	} else {
		mar_http_error(r, 404, "Not Found", NULL);
	}
	mar_store_save(st);
}
