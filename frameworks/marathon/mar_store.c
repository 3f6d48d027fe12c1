/* mar_store.c — the state file: apps (with their versions), tasks and deployments as
 * one JSON document, written atomically after every change, so that a restarted
 * scheduler takes over the same framework and its running tasks (see mar_state.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/log.h"
#include "plexus/message.h"

#include "mar_state.h"

static json_t *task_json(const struct mar_task *t)
{
	json_t *ports = json_array();
	for (size_t i = 0; i < t->nports; i++)
		json_array_append_new(ports, json_integer(t->ports[i]));
	return json_pack("{s:s, s:s, s:s, s:O, s:o, s:s, s:s, s:s, s:s, s:b}", "id", t->id,
	                 "agentId", t->agent_id, "host", t->host, "attributes", t->attrs, "ports",
	                 ports, "version", t->config_version, "state", px_task_state_name(t->state),
	                 "stagedAt", t->staged_at, "startedAt", t->started_at, "killing",
	                 t->killing);
}

void mar_store_save(struct mar_state *st)
{
	if (!st->dirty || st->opts.state_file == NULL)
		return;
	json_t *apps = json_array(), *deps = json_array();
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next) {
		json_t *tasks = json_array();
		for (struct mar_task *t = e->tasks; t != NULL; t = t->next)
			json_array_append_new(tasks, task_json(t));
		json_array_append_new(
		    apps, json_pack("{s:o, s:o, s:b, s:f}", "app", mar_app_to_json(e->app), "tasks",
		                    tasks, "deleting", e->deleting, "delay", e->delay_s));
	}
	for (struct mar_deployment *d = st->deployments; d != NULL; d = d->next)
		json_array_append_new(deps,
		                      json_pack("{s:s, s:s, s:s, s:i, s:O?}", "id", d->id,
		                                "version", d->version, "appId", d->app_id, "kind",
		                                (int)d->kind, "previous", d->previous));
	json_t *doc = json_pack("{s:i, s:s, s:o, s:o}", "format", 1, "frameworkId",
	                        st->framework_id, "apps", apps, "deployments", deps);
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->opts.state_file);
	if (doc == NULL || json_dump_file(doc, tmp, JSON_COMPACT | JSON_REAL_PRECISION(17)) != 0 ||
	    rename(tmp, st->opts.state_file) != 0) {
		actor_error("marathon: cannot write the state file %s: %s", st->opts.state_file,
		            strerror(errno));
		unlink(tmp);
	} else {
		st->dirty = false;
	}
	json_decref(doc);
}

static int load_task(struct mar_entry *e, const json_t *j)
{
	struct mar_task *t = calloc(1, sizeof(*t));
	json_t *ports = json_object_get(j, "ports"), *p;
	size_t i;
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *agent = json_string_value(json_object_get(j, "agentId"));
	const char *host = json_string_value(json_object_get(j, "host"));
	const char *version = json_string_value(json_object_get(j, "version"));
	const char *state = json_string_value(json_object_get(j, "state"));
	if (t == NULL || id == NULL || agent == NULL || host == NULL || version == NULL ||
	    state == NULL || !px_task_state_parse(state, &t->state)) {
		free(t);
		return -1;
	}
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->agent_id, sizeof(t->agent_id), "%s", agent);
	snprintf(t->host, sizeof(t->host), "%s", host);
	snprintf(t->config_version, sizeof(t->config_version), "%s", version);
	const char *staged = json_string_value(json_object_get(j, "stagedAt"));
	const char *started = json_string_value(json_object_get(j, "startedAt"));
	snprintf(t->staged_at, sizeof(t->staged_at), "%s", staged ? staged : "");
	snprintf(t->started_at, sizeof(t->started_at), "%s", started ? started : "");
	t->killing = json_is_true(json_object_get(j, "killing"));
	json_t *attrs = json_object_get(j, "attributes");
	t->attrs = json_is_object(attrs) ? json_deep_copy(attrs) : json_object();
	json_array_foreach(ports, i, p)
	{
		if (i < MAR_MAX_PORTS)
			t->ports[t->nports++] = (int)json_integer_value(p);
	}
	/* Health starts over: the checks run again after the takeover. */
	struct mar_task **at = &e->tasks;
	while (*at != NULL)
		at = &(*at)->next;
	*at = t;
	e->ntasks++;
	return 0;
}

int mar_store_load(struct mar_state *st, char *why, size_t whylen)
{
	json_error_t err;
	if (st->opts.state_file == NULL || access(st->opts.state_file, F_OK) != 0)
		return 0;
	json_t *doc = json_load_file(st->opts.state_file, 0, &err);
	if (doc == NULL || json_integer_value(json_object_get(doc, "format")) != 1) {
		snprintf(why, whylen, "%s is not a state file: %s", st->opts.state_file,
		         doc ? "unknown format" : err.text);
		json_decref(doc);
		return -1;
	}
	const char *fid = json_string_value(json_object_get(doc, "frameworkId"));
	snprintf(st->framework_id, sizeof(st->framework_id), "%s", fid ? fid : "");
	json_t *apps = json_object_get(doc, "apps"), *a;
	size_t i;
	json_array_foreach(apps, i, a)
	{
		json_t *errors = NULL, *def = json_object_get(a, "app");
		struct mar_app *app = mar_app_parse(def, NULL, &errors);
		json_decref(errors);
		json_t *vi = json_object_get(def, "versionInfo");
		const char *v = json_string_value(json_object_get(def, "version"));
		const char *cv = json_string_value(json_object_get(vi, "lastConfigChangeAt"));
		if (app == NULL || v == NULL || cv == NULL) {
			mar_app_free(app);
			snprintf(why, whylen, "app %zu of %s cannot be read", i,
			         st->opts.state_file);
			json_decref(doc);
			return -1;
		}
		snprintf(app->version, sizeof(app->version), "%s", v);
		snprintf(app->config_version, sizeof(app->config_version), "%s", cv);
		struct mar_entry *e = mar_entry_add(st, app);
		if (e == NULL) {
			mar_app_free(app);
			json_decref(doc);
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		e->deleting = json_is_true(json_object_get(a, "deleting"));
		if (json_is_number(json_object_get(a, "delay")))
			e->delay_s = json_number_value(json_object_get(a, "delay"));
		json_t *tasks = json_object_get(a, "tasks"), *t;
		size_t k;
		json_array_foreach(tasks, k, t)
		{
			if (load_task(e, t) != 0)
				actor_warn("marathon: skipping unreadable task %zu of %s", k,
				           app->id);
		}
	}
	json_t *deps = json_object_get(doc, "deployments"), *d;
	json_array_foreach(deps, i, d)
	{
		struct mar_deployment *dep = calloc(1, sizeof(*dep));
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *app = json_string_value(json_object_get(d, "appId"));
		const char *ver = json_string_value(json_object_get(d, "version"));
		if (dep == NULL || id == NULL || app == NULL || ver == NULL) {
			free(dep);
			continue;
		}
		snprintf(dep->id, sizeof(dep->id), "%s", id);
		snprintf(dep->app_id, sizeof(dep->app_id), "%s", app);
		snprintf(dep->version, sizeof(dep->version), "%s", ver);
		int kind = (int)json_integer_value(json_object_get(d, "kind"));
		dep->kind = kind >= 0 && kind <= MAR_DEPLOY_STOP ? (enum mar_deploy_kind)kind
		                                                 : MAR_DEPLOY_SCALE;
		json_t *prev = json_object_get(d, "previous");
		dep->previous = json_is_object(prev) ? json_incref(prev) : NULL;
		struct mar_deployment **at = &st->deployments;
		while (*at != NULL)
			at = &(*at)->next;
		*at = dep;
	}
	json_decref(doc);
	st->dirty = false;
	return 0;
}
