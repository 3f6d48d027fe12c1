/* mar_deploy.c — deployments: one per app at a time, each remembering the app as it was
 * before, so that DELETE /v2/deployments/{id} can roll it back (see mar_state.h). What
 * a deployment does is mar_converge's work; this file says when it is done and how it
 * looks in the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plexus/util.h"

#include "mar_state.h"

static const char *action_name(enum mar_deploy_kind kind)
{
	switch (kind) {
	case MAR_DEPLOY_START:
		return "StartApplication";
	case MAR_DEPLOY_SCALE:
		return "ScaleApplication";
	case MAR_DEPLOY_RESTART:
		return "RestartApplication";
	case MAR_DEPLOY_STOP:
		return "StopApplication";
	}
	return "ScaleApplication";
}

struct mar_deployment *mar_deploy_start(struct mar_state *st, const char *app_id,
                                        enum mar_deploy_kind kind, json_t *previous)
{
	struct mar_deployment *d = calloc(1, sizeof(*d));
	uint8_t uuid[16];

	if (d == NULL) {
		json_decref(previous);
		return NULL;
	}
	px_uuid_random(uuid);
	px_uuid_format(uuid, d->id);
	mar_timestamp(d->version);
	snprintf(d->app_id, sizeof(d->app_id), "%s", app_id);
	d->kind = kind;
	d->previous = previous;
	struct mar_deployment **at = &st->deployments;
	while (*at != NULL)
		at = &(*at)->next;
	*at = d;
	st->dirty = true;
	mar_event(st, "deployment_info", json_pack("{s:o}", "plan", mar_deploy_to_json(st, d)));
	return d;
}

struct mar_deployment *mar_deploy_find(struct mar_state *st, const char *id)
{
	for (struct mar_deployment *d = st->deployments; d != NULL; d = d->next)
		if (strcmp(d->id, id) == 0)
			return d;
	return NULL;
}

struct mar_deployment *mar_deploy_for_app(struct mar_state *st, const char *app_id)
{
	for (struct mar_deployment *d = st->deployments; d != NULL; d = d->next)
		if (strcmp(d->app_id, app_id) == 0)
			return d;
	return NULL;
}

void mar_deploy_finish(struct mar_state *st, struct mar_deployment *d, bool success)
{
	for (struct mar_deployment **at = &st->deployments; *at != NULL; at = &(*at)->next)
		if (*at == d) {
			*at = d->next;
			break;
		}
	mar_event(st, success ? "deployment_success" : "deployment_failed",
	          json_pack("{s:s, s:o}", "id", d->id, "plan", mar_deploy_to_json(st, d)));
	json_decref(d->previous);
	free(d);
	st->dirty = true;
}

bool mar_deploy_done(struct mar_state *st, const struct mar_entry *e)
{
	if (e->deleting)
		return false;
	int n = 0;
	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->killing || strcmp(t->config_version, e->app->config_version) != 0 ||
		    !mar_task_healthy(e, t))
			return false;
		n++;
	}
	return n == e->app->instances;
}

json_t *mar_deploy_to_json(struct mar_state *st, const struct mar_deployment *d)
{
	const char *action = action_name(d->kind);
	return json_pack("{s:s, s:s, s:[s], s:[], s:[{s:[{s:s, s:s}]}], s:[{s:s, s:s, s:[]}], "
	                 "s:i, s:i}",
	                 "id", d->id, "version", d->version, "affectedApps", d->app_id,
	                 "affectedPods", "steps", "actions", "action", action, "app", d->app_id,
	                 "currentActions", "action", action, "app", d->app_id,
	                 "readinessCheckResults", "currentStep", 1, "totalSteps", 1);
}
