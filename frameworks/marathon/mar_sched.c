/* mar_sched.c — apps and their tasks: how many must run, what to start on an offer, what
 * to kill, and what a status update changes (see mar_state.h).
 *
 * One rule drives everything: mar_converge looks at an app's tasks and its definition
 * and acts; every event (an offer, an update, a health result, an API call) ends by
 * calling it. A restart is the same rule with two kinds of tasks: those of the current
 * config and older ones, bounded by the upgrade strategy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "plexus/message.h"
#include "plexus/task.h"

#include "mar_state.h"

struct mar_entry *mar_entry_find(struct mar_state *st, const char *app_id)
{
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
		if (strcmp(e->app->id, app_id) == 0)
			return e;
	return NULL;
}

struct mar_entry *mar_entry_add(struct mar_state *st, struct mar_app *app)
{
	struct mar_entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->app = app;
	e->delay_s = app->backoff_s;
	struct mar_entry **at = &st->apps;
	while (*at != NULL)
		at = &(*at)->next;
	*at = e;
	st->dirty = true;
	return e;
}

static void task_free(struct mar_task *t)
{
	if (t == NULL)
		return;
	json_decref(t->attrs);
	free(t);
}

void mar_entry_remove(struct mar_state *st, struct mar_entry *e)
{
	for (struct mar_entry **at = &st->apps; *at != NULL; at = &(*at)->next)
		if (*at == e) {
			*at = e->next;
			break;
		}
	while (e->tasks != NULL) {
		struct mar_task *t = e->tasks;
		e->tasks = t->next;
		task_free(t);
	}
	mar_app_free(e->app);
	free(e);
	st->dirty = true;
}

struct mar_entry *mar_task_find(struct mar_state *st, const char *task_id, struct mar_task **task)
{
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
		for (struct mar_task *t = e->tasks; t != NULL; t = t->next)
			if (strcmp(t->id, task_id) == 0) {
				*task = t;
				return e;
			}
	*task = NULL;
	return NULL;
}

static void task_remove(struct mar_state *st, struct mar_entry *e, struct mar_task *t)
{
	for (struct mar_task **at = &e->tasks; *at != NULL; at = &(*at)->next)
		if (*at == t) {
			*at = t->next;
			e->ntasks--;
			break;
		}
	task_free(t);
	st->dirty = true;
}

bool mar_task_healthy(const struct mar_entry *e, const struct mar_task *t)
{
	if (t->state != PLEXUS__TASK_STATE__TASK_RUNNING || t->killing)
		return false;
	for (size_t i = 0; i < e->app->nchecks; i++)
		if (e->app->checks[i].protocol != MAR_CHECK_COMMAND)
			return t->alive;
	return true;
}

static bool is_current(const struct mar_entry *e, const struct mar_task *t)
{
	return strcmp(t->config_version, e->app->config_version) == 0;
}

/* Counts of the tasks that count (not being killed). */
struct mar_counts {
	int old, fresh; /* of an older config, of the current one */
	int old_healthy, fresh_healthy;
	int killing;
};

static struct mar_counts counts(const struct mar_entry *e)
{
	struct mar_counts c = {0};
	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->killing) {
			c.killing++;
			continue;
		}
		bool healthy = mar_task_healthy(e, t);
		if (is_current(e, t)) {
			c.fresh++;
			c.fresh_healthy += healthy;
		} else {
			c.old++;
			c.old_healthy += healthy;
		}
	}
	return c;
}

/* The upgrade strategy's bounds for a target of n instances, as Marathon computes them:
 * at least ceil(n * minimumHealthCapacity) healthy, at most
 * n + floor(n * maximumOverCapacity) tasks. */
static int min_healthy(const struct mar_app *app)
{
	return (int)ceil(app->instances * app->min_health_capacity - 1e-9);
}

static int max_total(const struct mar_app *app)
{
	return app->instances + (int)floor(app->instances * app->max_over_capacity + 1e-9);
}

int mar_launch_budget(struct mar_state *st, const struct mar_entry *e)
{
	if (e->deleting || actor_clock_now() < e->launch_after_ms)
		return 0;
	struct mar_counts c = counts(e);
	int want = e->app->instances - c.fresh;
	if (c.old > 0) {
		/* Tasks still dying count too: maximumOverCapacity bounds what runs. */
		int room = max_total(e->app) - (c.old + c.fresh + c.killing);
		want = want < room ? want : room;
	}
	return want > 0 ? want : 0;
}

void mar_task_kill(struct mar_state *st, struct mar_entry *e, struct mar_task *t)
{
	Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
	if (t->killing)
		return;
	t->killing = true;
	id.value = t->id;
	actor_info("marathon: killing task %s of %s", t->id, e->app->id);
	px_scheduler_driver_kill(st->driver, &id);
	st->dirty = true;
}

/* The task of e to kill first among those (current or old, per current) that count:
 * one not healthy if there is one, else the newest. */
static struct mar_task *victim(const struct mar_entry *e, bool current, bool healthy_ok)
{
	struct mar_task *pick = NULL;
	for (struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->killing || is_current(e, t) != current)
			continue;
		if (!mar_task_healthy(e, t))
			return t;
		if (healthy_ok)
			pick = t; /* tasks are in launch order: the last is the newest */
	}
	return pick;
}

static void revive_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct mar_state *st = actor_state(self);
	st->revive_timer = 0;
	st->revive_at_ms = 0;
	mar_converge_all(st);
	mar_store_save(st);
}

/* Offers are wanted again: revive if suppressed. */
static void want_offers(struct mar_state *st)
{
	if (st->suppressed && st->registered) {
		px_scheduler_driver_revive(st->driver, NULL, 0);
		st->suppressed = false;
	}
}

/* A launch held back by backoff: come back when it may go. */
static void wake_at(struct mar_state *st, int64_t at_ms)
{
	actor_t *self = actor_current();
	if (self == NULL || (st->revive_timer != 0 && st->revive_at_ms <= at_ms))
		return;
	if (st->revive_timer != 0)
		actor_cancel(self, st->revive_timer);
	int64_t ms = at_ms - actor_clock_now();
	st->revive_at_ms = at_ms;
	st->revive_timer = actor_delay(self, ms > 0 ? ms : 0, revive_cb, NULL);
}

void mar_converge(struct mar_state *st, struct mar_entry *e)
{
	struct mar_deployment *d = mar_deploy_for_app(st, e->app->id);

	if (e->deleting) {
		for (struct mar_task *t = e->tasks; t != NULL; t = t->next)
			mar_task_kill(st, e, t);
		if (e->ntasks == 0) {
			char id[MAR_ID_MAX];
			snprintf(id, sizeof(id), "%s", e->app->id);
			mar_entry_remove(st, e);
			if (d != NULL)
				mar_deploy_finish(st, d, true);
			mar_event(st, "app_terminated_event", json_pack("{s:s}", "appId", id));
		}
		return;
	}

	struct mar_counts c = counts(e);
	if (c.old == 0) {
		/* Scale down: the unhealthy first, then the newest. */
		for (int extra = c.fresh - e->app->instances; extra > 0; extra--)
			mar_task_kill(st, e, victim(e, true, true));
	} else {
		/* Restart: old tasks go while the healthy stay at the minimum or above. */
		int floor_healthy = min_healthy(e->app);
		int healthy = c.old_healthy + c.fresh_healthy;
		bool killed = false;
		for (struct mar_task *t; (t = victim(e, false, false)) != NULL;) {
			mar_task_kill(st, e, t); /* an old task not healthy: no loss */
			killed = true;
		}
		c = counts(e);
		while (c.old > 0 && healthy - 1 >= floor_healthy) {
			mar_task_kill(st, e, victim(e, false, true));
			healthy--;
			c.old--;
			killed = true;
		}
		/* minimumHealthCapacity 1 with maximumOverCapacity 0 leaves no room for
		 * anything: as Marathon, one old task goes first to make room. */
		if (!killed && c.old > 0 && c.killing == 0 && mar_launch_budget(st, e) == 0 &&
		    c.fresh == c.fresh_healthy && c.old + c.fresh >= max_total(e->app) &&
		    actor_clock_now() >= e->launch_after_ms)
			mar_task_kill(st, e, victim(e, false, true));
	}

	if (mar_launch_budget(st, e) > 0)
		want_offers(st);
	else if (actor_clock_now() < e->launch_after_ms && e->app->instances > counts(e).fresh)
		wake_at(st, e->launch_after_ms);

	if (d != NULL && mar_deploy_done(st, e))
		mar_deploy_finish(st, d, true);
}

void mar_converge_all(struct mar_state *st)
{
	for (struct mar_entry *e = st->apps, *next; e != NULL; e = next) {
		next = e->next; /* converge may remove e */
		mar_converge(st, e);
	}
}

/* ---- offers ------------------------------------------------------------------------ */

/* What is left of an offer as tasks are placed on it. */
struct mar_room {
	double cpus, mem, disk;
	px_offer_range ranges[64];
	size_t nranges;
};

/* Takes n ports from the room's ranges into out; false (room unchanged) if too few. */
static bool take_ports(struct mar_room *r, size_t n, int *out)
{
	size_t have = 0;
	for (size_t i = 0; i < r->nranges; i++)
		have += (size_t)(r->ranges[i].end - r->ranges[i].begin + 1);
	if (have < n)
		return false;
	for (size_t k = 0, i = 0; k < n; k++) {
		while (r->ranges[i].begin > r->ranges[i].end)
			i++;
		out[k] = (int)r->ranges[i].begin++;
	}
	return true;
}

/* The shell text of an args app: each argument single-quoted. */
static char *args_text(const struct mar_app *app)
{
	size_t len = 1;
	for (size_t i = 0; i < app->nargs; i++)
		len += strlen(app->args[i]) * 4 + 3;
	char *out = malloc(len), *p = out;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < app->nargs; i++) {
		if (i > 0)
			*p++ = ' ';
		*p++ = '\'';
		for (const char *s = app->args[i]; *s != '\0'; s++) {
			if (*s == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *s;
			}
		}
		*p++ = '\'';
	}
	*p = '\0';
	return out;
}

/* Marathon's task environment: the app's env, then what it adds (ports, host, ids). */
static void task_env(Plexus__CommandInfo *cmd, const struct mar_entry *e, const struct mar_task *t)
{
	const char *k;
	json_t *v;
	char name[96], value[1024];

	json_object_foreach(e->app->env, k, v) px_command_add_env(cmd, k, json_string_value(v));
	value[0] = '\0';
	for (size_t i = 0, n = 0; i < t->nports; i++) {
		char port[16];
		snprintf(name, sizeof(name), "PORT%zu", i);
		snprintf(port, sizeof(port), "%d", t->ports[i]);
		px_command_add_env(cmd, name, port);
		if (e->app->ports[i].name[0] != '\0') {
			snprintf(name, sizeof(name), "PORT_%s", e->app->ports[i].name);
			px_command_add_env(cmd, name, port);
		}
		n += (size_t)snprintf(value + n, sizeof(value) - n, "%s%s", i ? "," : "", port);
		if (i == 0)
			px_command_add_env(cmd, "PORT", port);
	}
	if (t->nports > 0)
		px_command_add_env(cmd, "PORTS", value);
	px_command_add_env(cmd, "HOST", t->host);
	px_command_add_env(cmd, "MARATHON_APP_ID", e->app->id);
	px_command_add_env(cmd, "MARATHON_APP_VERSION", e->app->version);
	px_command_add_env(cmd, "MESOS_TASK_ID", t->id);
	json_object_foreach(e->app->labels, k, v)
	{
		snprintf(name, sizeof(name), "MARATHON_APP_LABEL_%s", k);
		for (char *p = name; *p != '\0'; p++)
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
				*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : '_';
		px_command_add_env(cmd, name, json_string_value(v));
	}
}

/* Builds the TaskInfo of t (NULL on failure, logged). */
static Plexus__TaskInfo *task_info(const struct mar_entry *e, const struct mar_task *t,
                                   const Plexus__AgentID *agent_id)
{
	char res[1024], err[256];
	const struct mar_app *app = e->app;
	size_t n = (size_t)snprintf(res, sizeof(res), "cpus:%g;mem:%g", app->cpus, app->mem);
	if (app->disk > 0)
		n += (size_t)snprintf(res + n, sizeof(res) - n, ";disk:%g", app->disk);
	for (size_t i = 0; i < t->nports && n < sizeof(res); i++)
		n += (size_t)snprintf(res + n, sizeof(res) - n, "%s%d-%d", i ? "," : ";ports:[",
		                      t->ports[i], t->ports[i]);
	if (t->nports > 0 && n < sizeof(res))
		snprintf(res + n, sizeof(res) - n, "]");
	char *text = app->cmd ? strdup(app->cmd) : args_text(app);
	Plexus__TaskInfo *ti =
	    text ? px_task_command(app->id + 1, agent_id, text, res, err, sizeof(err)) : NULL;
	free(text);
	if (ti == NULL) {
		actor_error("marathon: cannot build a task of %s: %s", app->id, err);
		return NULL;
	}
	free(ti->task_id->value);
	ti->task_id->value = strdup(t->id);
	if (app->args != NULL) {
		/* Exec'ed without a shell, as Marathon runs args. */
		Plexus__CommandInfo *cmd = ti->command;
		free(cmd->value);
		cmd->value = strdup(app->args[0]);
		cmd->has_shell = true;
		cmd->shell = false;
		cmd->arguments = calloc(app->nargs, sizeof(char *));
		for (size_t i = 0; cmd->arguments != NULL && i < app->nargs; i++)
			cmd->arguments[cmd->n_arguments++] = strdup(app->args[i]);
	}
	task_env(ti->command, e, t);
	return ti;
}

/* An offer as tasks are placed on it. */
struct mar_offer_work {
	const Plexus__Offer *offer;
	struct mar_room room;
	json_t *attrs;
	Plexus__TaskInfo **tasks;
	size_t n, cap;
};

/* Places one task of e on the offer if it fits and e wants one; true if it did. */
static bool place_one(struct mar_state *st, struct mar_entry *e, struct mar_offer_work *w)
{
	const struct mar_app *app = e->app;
	struct mar_room *room = &w->room;
	if (mar_launch_budget(st, e) <= 0)
		return false;
	if (room->cpus + 1e-9 < app->cpus || room->mem + 1e-9 < app->mem ||
	    room->disk + 1e-9 < app->disk)
		return false;
	if (!mar_constraints_accept(e, w->offer->hostname, w->attrs, st->agents))
		return false;
	struct mar_task *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return false;
	struct mar_room before = *room;
	if (!take_ports(room, app->nports, t->ports)) {
		free(t);
		return false;
	}
	t->nports = app->nports;
	mar_task_id_make(app->id, t->id, sizeof(t->id));
	snprintf(t->agent_id, sizeof(t->agent_id), "%s", w->offer->agent_id->value);
	snprintf(t->host, sizeof(t->host), "%s", w->offer->hostname);
	t->attrs = json_deep_copy(w->attrs);
	memcpy(t->config_version, app->config_version, sizeof(t->config_version));
	t->state = PLEXUS__TASK_STATE__TASK_STAGING;
	mar_timestamp(t->staged_at);
	Plexus__TaskInfo *ti = task_info(e, t, w->offer->agent_id);
	if (ti == NULL) {
		*room = before;
		task_free(t);
		return false;
	}
	if (w->n == w->cap) {
		size_t grow = w->cap ? w->cap * 2 : 16;
		Plexus__TaskInfo **grown = realloc(w->tasks, grow * sizeof(*grown));
		if (grown == NULL) {
			*room = before;
			PX_FREE(ti);
			task_free(t);
			return false;
		}
		w->tasks = grown;
		w->cap = grow;
	}
	w->tasks[w->n++] = ti;
	room->cpus -= app->cpus;
	room->mem -= app->mem;
	room->disk -= app->disk;
	/* Launch order is kept: new tasks at the end. */
	struct mar_task **at = &e->tasks;
	while (*at != NULL)
		at = &(*at)->next;
	*at = t;
	e->ntasks++;
	st->dirty = true;
	return true;
}

void mar_on_offers(struct mar_state *st, Plexus__Offer *const *offers, size_t n)
{
	struct mar_offer_work *work = calloc(n ? n : 1, sizeof(*work));
	if (work == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct mar_offer_work *w = &work[i];
		w->offer = offers[i];
		w->room.cpus = px_offer_scalar(w->offer, "cpus");
		w->room.mem = px_offer_scalar(w->offer, "mem");
		w->room.disk = px_offer_scalar(w->offer, "disk");
		w->room.nranges = px_offer_ranges(w->offer, "ports", w->room.ranges, 64);
		if (w->room.nranges > 64)
			w->room.nranges = 64;
		w->attrs = mar_offer_attributes(w->offer);
		mar_agent_seen(st, w->offer->agent_id->value, w->offer->hostname, w->attrs);
	}
	/* Launches are paced, as Marathon's launch tokens pace them: no more than
	 * max_staging tasks between launch and TASK_RUNNING at a time, so that a large
	 * deployment does not bury the agents in executors starting all at once. */
	int staging = 0;
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
		for (struct mar_task *t = e->tasks; t != NULL; t = t->next)
			staging += !t->killing && t->state != PLEXUS__TASK_STATE__TASK_RUNNING &&
			           !px_task_state_is_terminal(t->state);
	/* One task per offer and app per round, so that a large app spreads over the
	 * agents offered together (and their launches proceed in parallel) instead of
	 * filling the first offer. */
	for (bool placed = true; placed && staging < st->opts.max_staging;) {
		placed = false;
		for (size_t i = 0; i < n && staging < st->opts.max_staging; i++)
			for (struct mar_entry *e = st->apps;
			     e != NULL && staging < st->opts.max_staging; e = e->next)
				if (place_one(st, e, &work[i])) {
					placed = true;
					staging++;
				}
	}
	bool need = false;
	for (struct mar_entry *e = st->apps; e != NULL && !need; e = e->next)
		need = mar_launch_budget(st, e) > 0;
	for (size_t i = 0; i < n; i++) {
		struct mar_offer_work *w = &work[i];
		const Plexus__OfferID *ids[1] = {w->offer->id};
		Plexus__Filters filters = PLEXUS__FILTERS__INIT;
		filters.has_refuse_seconds = true;
		/* Still wanting tasks (held back by the pacing): the offer soon again. */
		filters.refuse_seconds = need ? 0.1 : 1;
		if (w->n > 0)
			px_scheduler_driver_launch(st->driver, ids, 1,
			                           (const Plexus__TaskInfo *const *)w->tasks, w->n,
			                           &filters);
		else
			px_scheduler_driver_decline(st->driver, w->offer->id, &filters);
		for (size_t k = 0; k < w->n; k++)
			PX_FREE(w->tasks[k]);
		free(w->tasks);
		json_decref(w->attrs);
	}
	free(work);
	if (!need && !st->suppressed) {
		px_scheduler_driver_suppress(st->driver, NULL, 0);
		st->suppressed = true;
	}
}

/* ---- status updates ---------------------------------------------------------------- */

static json_t *ports_array(const struct mar_task *t)
{
	json_t *a = json_array();
	for (size_t i = 0; i < t->nports; i++)
		json_array_append_new(a, json_integer(t->ports[i]));
	return a;
}

static bool is_failure(Plexus__TaskState s)
{
	return s == PLEXUS__TASK_STATE__TASK_FAILED || s == PLEXUS__TASK_STATE__TASK_ERROR ||
	       s == PLEXUS__TASK_STATE__TASK_LOST || s == PLEXUS__TASK_STATE__TASK_FINISHED ||
	       s == PLEXUS__TASK_STATE__TASK_DROPPED || s == PLEXUS__TASK_STATE__TASK_GONE ||
	       s == PLEXUS__TASK_STATE__TASK_KILLED;
}

void mar_on_status(struct mar_state *st, const Plexus__TaskStatus *s)
{
	struct mar_task *t;
	struct mar_entry *e = mar_task_find(st, s->task_id->value, &t);

	if (e == NULL) {
		/* A task this scheduler does not know (reconciliation tells of it): it runs
		 * nothing anyone asked for, so it goes, as in Marathon. */
		if (!px_task_state_is_terminal(s->state)) {
			actor_warn("marathon: killing unknown task %s", s->task_id->value);
			px_scheduler_driver_kill(st->driver, s->task_id);
		}
		return;
	}
	Plexus__TaskState before = t->state;
	t->state = s->state;
	if (s->state == PLEXUS__TASK_STATE__TASK_RUNNING && t->started_ms == 0) {
		t->started_ms = actor_clock_now();
		mar_timestamp(t->started_at);
		t->next_check_ms = t->started_ms;
	}
	if (before != s->state) {
		mar_event(st, "status_update_event",
		          json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "slaveId",
		                    t->agent_id, "taskId", t->id, "taskStatus",
		                    px_task_state_name(s->state), "message",
		                    s->message ? s->message : "", "appId", e->app->id, "ports",
		                    ports_array(t), "host", t->host, "version", t->config_version));
		st->dirty = true;
	}
	if (px_task_state_is_terminal(s->state)) {
		if (!t->killing && is_failure(s->state)) {
			/* Backoff: the next launch waits delay_s, which then grows by the factor
			 * up to maxLaunchDelaySeconds. */
			e->launch_after_ms = actor_clock_now() + (int64_t)(e->delay_s * 1000);
			double next = e->delay_s * e->app->backoff_factor;
			e->delay_s =
			    next < e->app->max_launch_delay_s ? next : e->app->max_launch_delay_s;
			actor_info("marathon: task %s of %s ended %s; next launch in %.1fs", t->id,
			           e->app->id, px_task_state_name(s->state),
			           (double)(e->launch_after_ms - actor_clock_now()) / 1000.0);
		}
		task_remove(st, e, t);
	}
	mar_converge(st, e);
}

void mar_on_registered(struct mar_state *st, const char *framework_id)
{
	size_t n = 0, i = 0;
	if (strcmp(st->framework_id, framework_id) != 0) {
		snprintf(st->framework_id, sizeof(st->framework_id), "%s", framework_id);
		st->dirty = true;
	}
	st->registered = true;
	/* The master may still hold a suppression from a scheduler before this one: ask
	 * for offers again, and suppress once they show nothing is needed. */
	px_scheduler_driver_revive(st->driver, NULL, 0);
	st->suppressed = false;
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
		n += e->ntasks;
	/* Explicit reconciliation of every task known, then implicit, so that tasks the
	 * master has lost come back TASK_LOST and unknown ones show up. */
	Plexus__TaskStatus *all = calloc(n ? n : 1, sizeof(*all));
	Plexus__TaskID *ids = calloc(n ? n : 1, sizeof(*ids));
	Plexus__AgentID *agents = calloc(n ? n : 1, sizeof(*agents));
	const Plexus__TaskStatus **list = calloc(n ? n : 1, sizeof(*list));
	if (all != NULL && ids != NULL && agents != NULL && list != NULL) {
		for (struct mar_entry *e = st->apps; e != NULL; e = e->next)
			for (struct mar_task *t = e->tasks; t != NULL; t = t->next, i++) {
				plexus__task_status__init(&all[i]);
				plexus__task_id__init(&ids[i]);
				plexus__agent_id__init(&agents[i]);
				ids[i].value = t->id;
				agents[i].value = t->agent_id;
				all[i].task_id = &ids[i];
				all[i].agent_id = &agents[i];
				all[i].state = t->state;
				list[i] = &all[i];
			}
		if (n > 0)
			px_scheduler_driver_reconcile(st->driver,
			                              (const Plexus__TaskStatus *const *)list, n);
		px_scheduler_driver_reconcile(st->driver, NULL, 0);
	}
	free(all);
	free(ids);
	free(agents);
	free(list);
	mar_converge_all(st);
}

void mar_on_agent_lost(struct mar_state *st, const char *agent_id)
{
	json_object_del(st->agents, agent_id);
	for (struct mar_entry *e = st->apps; e != NULL; e = e->next) {
		for (struct mar_task *t = e->tasks, *next; t != NULL; t = next) {
			next = t->next;
			if (strcmp(t->agent_id, agent_id) != 0)
				continue;
			Plexus__TaskStatus s = PLEXUS__TASK_STATUS__INIT;
			Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
			id.value = t->id;
			s.task_id = &id;
			s.state = PLEXUS__TASK_STATE__TASK_LOST;
			s.message = "agent lost";
			mar_on_status(st, &s);
		}
	}
}

/* ---- JSON -------------------------------------------------------------------------- */

json_t *mar_task_to_json(const struct mar_entry *e, const struct mar_task *t)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "id", t->id, "appId",
	                      e->app->id, "host", t->host, "slaveId", t->agent_id, "ports",
	                      ports_array(t), "stagedAt", t->staged_at, "version",
	                      t->config_version, "state", px_task_state_name(t->state));
	json_object_set_new(j, "startedAt",
	                    t->started_at[0] ? json_string(t->started_at) : json_null());
	json_t *results = json_array();
	if (e->app->nchecks > 0 && t->checked)
		json_array_append_new(
		    results, json_pack("{s:s, s:b, s:i, s:s?, s:s?}", "taskId", t->id, "alive",
		                       t->alive, "consecutiveFailures", t->failures, "lastSuccess",
		                       t->last_success[0] ? t->last_success : NULL, "lastFailure",
		                       t->last_failure[0] ? t->last_failure : NULL));
	json_object_set_new(j, "healthCheckResults", results);
	return j;
}

json_t *mar_entry_to_json(struct mar_state *st, const struct mar_entry *e, bool with_tasks)
{
	json_t *j = mar_app_to_json(e->app), *tasks = json_array(), *deps = json_array();
	int staged = 0, running = 0, healthy = 0, unhealthy = 0;
	bool checks = e->app->nchecks > 0;

	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->state == PLEXUS__TASK_STATE__TASK_RUNNING) {
			running++;
			if (checks && t->checked && t->alive)
				healthy++;
			else if (checks && t->checked)
				unhealthy++;
		} else if (!px_task_state_is_terminal(t->state)) {
			staged++;
		}
		if (with_tasks)
			json_array_append_new(tasks, mar_task_to_json(e, t));
	}
	json_object_set_new(j, "tasksStaged", json_integer(staged));
	json_object_set_new(j, "tasksRunning", json_integer(running));
	json_object_set_new(j, "tasksHealthy", json_integer(healthy));
	json_object_set_new(j, "tasksUnhealthy", json_integer(unhealthy));
	struct mar_deployment *d = mar_deploy_for_app(st, e->app->id);
	if (d != NULL)
		json_array_append_new(deps, json_pack("{s:s}", "id", d->id));
	json_object_set_new(j, "deployments", deps);
	if (with_tasks)
		json_object_set_new(j, "tasks", tasks);
	else
		json_decref(tasks);
	return j;
}
