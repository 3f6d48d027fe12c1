/* mar_health.c — Marathon's own health checks (HTTP and TCP), run by the scheduler
 * against each running task's host and port, every intervalSeconds, each bounded by
 * timeoutSeconds (see mar_state.h).
 *
 * A check runs on nng's threads; its callback only hands the result to the actor, which
 * frees the check (an aio cannot be freed from its own callback). Failures in the first
 * gracePeriodSeconds after start do not count until the task has once been healthy;
 * maxConsecutiveFailures in a row get the task killed, and mar_converge replaces it.
 * COMMAND checks are rejected when an app is defined (mar_app.c): the command executor
 * does not run them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "actor/clock.h"
#include "actor/log.h"

#include "mar_state.h"

struct check {
	actor_pid to;
	char task_id[MAR_ID_MAX + 40];
	char app_id[MAR_ID_MAX];
	enum mar_check_protocol protocol;
	nng_aio *aio;
	nng_url *url;
	nng_http_client *client;
	nng_http_req *req;
	nng_http_res *res;
	nng_stream_dialer *dialer;
	bool ignore_1xx;
};

static void check_free(struct check *c)
{
	nng_aio_free(c->aio);
	if (c->res != NULL)
		nng_http_res_free(c->res);
	if (c->req != NULL)
		nng_http_req_free(c->req);
	if (c->client != NULL)
		nng_http_client_free(c->client);
	if (c->dialer != NULL)
		nng_stream_dialer_free(c->dialer);
	nng_url_free(c->url);
	free(c);
}

/* The outcome of a check, inside the actor. */
static void check_done(actor_t *self, void *arg)
{
	struct check *c = arg;
	int rv = nng_aio_result(c->aio);
	bool ok = rv == 0;
	char detail[128];

	if (ok && c->protocol == MAR_CHECK_HTTP) {
		int status = nng_http_res_get_status(c->res);
		ok = (status >= 200 && status < 400) ||
		     (c->ignore_1xx && status >= 100 && status < 200);
		snprintf(detail, sizeof(detail), "HTTP %d", status);
	} else if (ok) {
		nng_stream *s = nng_aio_get_output(c->aio, 0);
		nng_stream_free(s);
		snprintf(detail, sizeof(detail), "connected");
	} else {
		snprintf(detail, sizeof(detail), "%s", nng_strerror(rv));
	}
	if (self == NULL) {
		check_free(c);
		return;
	}
	struct mar_state *st = actor_state(self);
	struct mar_task *t;
	struct mar_entry *e = mar_task_find(st, c->task_id, &t);
	check_free(c);
	if (e == NULL || t->killing)
		return;
	t->inflight--;
	t->checked = true;
	bool was = t->alive;
	if (ok) {
		t->alive = true;
		t->ever_healthy = true;
		t->failures = 0;
		mar_timestamp(t->last_success);
	} else {
		const struct mar_health_check *hc = &e->app->checks[0];
		bool in_grace = !t->ever_healthy &&
		                actor_clock_now() - t->started_ms < (int64_t)hc->grace_s * 1000;
		t->alive = false;
		mar_timestamp(t->last_failure);
		if (!in_grace) {
			t->failures++;
			mar_event(st, "failed_health_check_event",
			          json_pack("{s:s, s:s, s:s}", "appId", e->app->id, "taskId", t->id,
			                    "message", detail));
		}
		if (!in_grace && hc->max_failures > 0 && t->failures >= hc->max_failures) {
			actor_info(
			    "marathon: task %s of %s failed %d health checks (%s): replacing",
			    t->id, e->app->id, t->failures, detail);
			mar_event(st, "unhealthy_instance_kill_event",
			          json_pack("{s:s, s:s, s:s}", "appId", e->app->id, "taskId", t->id,
			                    "reason", detail));
			mar_task_kill(st, e, t);
		}
	}
	if (was != t->alive)
		mar_event(st, "health_status_changed_event",
		          json_pack("{s:s, s:s, s:b, s:s}", "appId", e->app->id, "taskId", t->id,
		                    "alive", t->alive, "version", t->config_version));
	st->dirty = true;
	mar_converge(st, e);
	mar_store_save(st);
}

static void check_cb(void *arg)
{
	struct check *c = arg;
	if (actor_call(c->to, check_done, c) != 0)
		actor_warn("marathon: a health check result found no scheduler");
}

/* Starts one check of t; false when it could not start (counted as a failure later). */
static bool check_start(struct mar_state *st, const struct mar_entry *e, struct mar_task *t,
                        const struct mar_health_check *hc)
{
	char addr[1024];
	int port = hc->port ? hc->port
	                    : ((size_t)hc->port_index < t->nports ? t->ports[hc->port_index] : 0);
	struct check *c = calloc(1, sizeof(*c));
	if (c == NULL || port == 0) {
		free(c);
		return false;
	}
	c->to = st->self;
	c->protocol = hc->protocol;
	c->ignore_1xx = hc->ignore_1xx;
	snprintf(c->task_id, sizeof(c->task_id), "%s", t->id);
	snprintf(c->app_id, sizeof(c->app_id), "%s", e->app->id);
	if (nng_aio_alloc(&c->aio, check_cb, c) != 0) {
		free(c);
		return false;
	}
	nng_aio_set_timeout(c->aio, hc->timeout_s * 1000);
	int rv;
	if (hc->protocol == MAR_CHECK_HTTP) {
		snprintf(addr, sizeof(addr), "http://%s:%d%s", t->host, port, hc->path);
		if ((rv = nng_url_parse(&c->url, addr)) != 0 ||
		    (rv = nng_http_client_alloc(&c->client, c->url)) != 0 ||
		    (rv = nng_http_req_alloc(&c->req, c->url)) != 0 ||
		    (rv = nng_http_res_alloc(&c->res)) != 0) {
			check_free(c);
			return false;
		}
		t->inflight++;
		nng_http_client_transact(c->client, c->req, c->res, c->aio);
	} else {
		snprintf(addr, sizeof(addr), "tcp://%s:%d", t->host, port);
		if ((rv = nng_stream_dialer_alloc(&c->dialer, addr)) != 0) {
			check_free(c);
			return false;
		}
		t->inflight++;
		nng_stream_dialer_dial(c->dialer, c->aio);
	}
	return true;
}

static void tick(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct mar_state *st = actor_state(self);
	int64_t now = actor_clock_now();
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next) {
		if (e->app->nchecks == 0)
			continue;
		for (struct mar_task *t = e->tasks; t != NULL; t = t->next) {
			if (t->state != PLEXUS__TASK_STATE__TASK_RUNNING || t->killing ||
			    t->inflight > 0 || now < t->next_check_ms)
				continue;
			t->next_check_ms = now + (int64_t)e->app->checks[0].interval_s * 1000;
			for (size_t i = 0; i < e->app->nchecks; i++)
				if (e->app->checks[i].protocol != MAR_CHECK_COMMAND)
					check_start(st, e, t, &e->app->checks[i]);
		}
	}
	st->health_timer = actor_delay(self, st->opts.health_tick_ms, tick, NULL);
}

void mar_health_start(struct mar_state *st)
{
	actor_t *self = actor_current();
	if (self != NULL)
		st->health_timer = actor_delay(self, st->opts.health_tick_ms, tick, NULL);
}

void mar_health_stop(struct mar_state *st)
{
	actor_t *self = actor_current();
	if (self != NULL && st->health_timer != 0)
		actor_cancel(self, st->health_timer);
	st->health_timer = 0;
}
