/* chr_rest.c — Chronos's REST API under /v1/scheduler (one prefix route, /v1):
 *
 *   POST   /v1/scheduler/iso8601            add or replace a scheduled job    204
 *   POST   /v1/scheduler/dependency         add or replace a dependent job    204
 *   GET    /v1/scheduler/jobs               every job, as a JSON list         200
 *   DELETE /v1/scheduler/job/{name}         delete a job                      204
 *   PUT    /v1/scheduler/job/{name}         run it now                        204
 *   DELETE /v1/scheduler/task/kill/{name}   kill its tasks                    204
 *   GET    /v1/scheduler/graph/dot          the dependency graph              200
 *
 * The job list adds two fields of Plexus's own to Chronos's: activeRuns (runs queued,
 * running or waiting for a retry) and nextRetry (when the next retry is due, or "").
 *
 * Errors are {"message": "..."} with 400 (bad JSON, field, schedule or graph), 404 (no
 * such job), 405 (method) or 500 (the state file could not be written: the change is
 * not taken), and a log line. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/http.h>
#include <actor/log.h>
#include <jansson.h>

#include "chr_graph.h"
#include "chr_sched.h"

static actor_future *reply_error(const actor_http_request *req, int status, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	actor_warn("chronos: %s %s: %d %s", req->method, req->path, status, msg);
	json_t *o = json_pack("{s:s}", "message", msg);
	char *text = o ? json_dumps(o, 0) : NULL;
	json_decref(o);
	actor_future *f = text ? actor_http_reply(status, "application/json", text, strlen(text))
	                       : actor_http_reply(status, "text/plain", msg, strlen(msg));
	free(text);
	return f;
}

static actor_future *no_content(void)
{
	return actor_http_reply(204, NULL, NULL, 0);
}

static bool method_is(const actor_http_request *req, const char *m)
{
	return strcmp(req->method, m) == 0;
}

/* The job name at the end of a path, percent-decoded into out. false when it is empty,
 * badly encoded or holds a '/'. */
static bool name_from_path(const char *path, const char *prefix, char *out, size_t size)
{
	size_t plen = strlen(prefix), n = 0;
	if (strncmp(path, prefix, plen) != 0)
		return false;
	for (const char *p = path + plen; *p; p++) {
		char c = *p;
		if (c == '%') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return false;
			char hex[3] = {p[1], p[2], 0};
			c = (char)strtol(hex, NULL, 16);
			p += 2;
		}
		if (c == '/' || c == '\0' || n + 1 >= size)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n > 0;
}

static actor_future *post_job(actor_t *self, const actor_http_request *req, bool dependency)
{
	struct chr_sched *s = actor_state(self);
	char err[512];
	if (!method_is(req, "POST"))
		return reply_error(req, 405, "use POST with a job as JSON");
	chr_job *j = chr_job_from_json((const char *)req->body, req->body_len, dependency,
	                               chr_sched_now(s), &s->defaults, err, sizeof(err));
	if (j == NULL)
		return reply_error(req, 400, "%s", err);
	chr_job *old = chr_graph_find(s->jobs, j->name);
	if (old != NULL && old->scheduled != j->scheduled) {
		/* Turning a job from scheduled into dependent (or back) is allowed, as in
		 * Chronos: the definition posted last wins. */
		actor_info("chronos: job '%s' becomes %s", j->name,
		           j->scheduled ? "scheduled" : "dependent");
	}
	if (!chr_sched_put_job(s, j, err, sizeof(err))) {
		bool io = strncmp(err, "cannot", 6) == 0 || strcmp(err, "out of memory") == 0;
		chr_job_free(j);
		return reply_error(req, io ? 500 : 400, "%s", err);
	}
	return no_content();
}

static actor_future *jobs_route(actor_t *self, const actor_http_request *req, void *arg)
{
	struct chr_sched *s = actor_state(self);
	(void)arg;
	if (!method_is(req, "GET"))
		return reply_error(req, 405, "use GET");
	json_t *list = json_array();
	for (const chr_job *j = s->jobs; j != NULL && list != NULL; j = j->next) {
		json_t *o = chr_job_to_json(j, false);
		if (o == NULL)
			continue;
		/* Plexus's own: what runs now, and when the next retry is due. */
		int64_t active = 0, retry = 0;
		for (const chr_run *r = s->runs; r != NULL; r = r->next) {
			if (strcmp(r->job, j->name) != 0)
				continue;
			active++;
			if (r->state == CHR_RUN_RETRY_WAIT &&
			    (retry == 0 || r->retry_at_ms < retry))
				retry = r->retry_at_ms;
		}
		char when[40] = "";
		if (retry != 0)
			chr_time_format(retry, when, sizeof(when));
		json_object_set_new(o, "activeRuns", json_integer(active));
		json_object_set_new(o, "nextRetry", json_string(when));
		json_array_append_new(list, o);
	}
	char *text = list ? json_dumps(list, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
	json_decref(list);
	if (text == NULL)
		return reply_error(req, 500, "out of memory");
	actor_future *f = actor_http_reply(200, "application/json", text, strlen(text));
	free(text);
	return f;
}

static actor_future *job_route(actor_t *self, const actor_http_request *req, void *arg)
{
	struct chr_sched *s = actor_state(self);
	char name[256], err[512];
	bool missing;
	(void)arg;
	if (!name_from_path(req->path, "/scheduler/job/", name, sizeof(name)))
		return reply_error(req, 400, "expected /v1/scheduler/job/<job name>");
	if (method_is(req, "DELETE")) {
		if (!chr_sched_delete_job(s, name, &missing, err, sizeof(err)))
			return reply_error(req, missing ? 404 : 400, "%s", err);
		return no_content();
	}
	if (method_is(req, "PUT")) {
		if (!chr_sched_run_now(s, name))
			return reply_error(req, 404, "no job named '%s'", name);
		return no_content();
	}
	return reply_error(req, 405, "use PUT to run a job now or DELETE to delete it");
}

static actor_future *kill_route(actor_t *self, const actor_http_request *req, void *arg)
{
	struct chr_sched *s = actor_state(self);
	char name[256];
	(void)arg;
	if (!name_from_path(req->path, "/scheduler/task/kill/", name, sizeof(name)))
		return reply_error(req, 400, "expected /v1/scheduler/task/kill/<job name>");
	if (!method_is(req, "DELETE"))
		return reply_error(req, 405, "use DELETE");
	if (!chr_sched_kill_runs(s, name))
		return reply_error(req, 404, "no job named '%s'", name);
	return no_content();
}

static actor_future *dot_route(actor_t *self, const actor_http_request *req, void *arg)
{
	struct chr_sched *s = actor_state(self);
	(void)arg;
	if (!method_is(req, "GET"))
		return reply_error(req, 405, "use GET");
	char *dot = chr_graph_dot(s->jobs);
	if (dot == NULL)
		return reply_error(req, 500, "out of memory");
	actor_future *f = actor_http_reply(200, "text/vnd.graphviz", dot, strlen(dot));
	free(dot);
	return f;
}

/* One prefix route for /v1: the paths below it are few and fixed, and two of them end
 * with a job's name. */
static actor_future *v1_route(actor_t *self, const actor_http_request *req, void *arg)
{
	const char *p = req->path;
	if (strcmp(p, "/scheduler/iso8601") == 0)
		return post_job(self, req, false);
	if (strcmp(p, "/scheduler/dependency") == 0)
		return post_job(self, req, true);
	if (strcmp(p, "/scheduler/jobs") == 0)
		return jobs_route(self, req, arg);
	if (strcmp(p, "/scheduler/graph/dot") == 0)
		return dot_route(self, req, arg);
	if (strncmp(p, "/scheduler/job/", 15) == 0)
		return job_route(self, req, arg);
	if (strncmp(p, "/scheduler/task/kill/", 21) == 0)
		return kill_route(self, req, arg);
	return reply_error(req, 404, "no such endpoint: /v1%s", p);
}

int chr_rest_install(actor_t *self, struct chr_sched *s)
{
	(void)s;
	return actor_http_route_prefix(self, "/v1", v1_route, NULL);
}
