/* chr_sched.c — the scheduler: one actor ("chronos", serving /v1/scheduler/...)
 * that owns the jobs and their runs, fires schedules on the runtime's clock, turns
 * offers into command tasks, and records what their status updates say.
 *
 * Order of writes, so that a crash at any point neither loses nor repeats a run: a run
 * is written to the state file (with its task id, and with its job's schedule already
 * moved past it) before its task is launched; a status update is recorded and written
 * before it is acknowledged, so the master keeps an unacknowledged terminal task for
 * reconciliation. After a restart every run that was queued or launched is reconciled
 * by its task id: a task the master knows goes on, one it does not know is launched. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actor/clock.h>
#include <actor/future.h>
#include <actor/log.h>
#include <plexus/message.h>
#include <plexus/task.h>

#include "chr_graph.h"
#include "chr_sched.h"
#include "chr_store.h"

/* Retry delays double from failure_retry_ms per attempt, up to this. */
#define CHR_RETRY_MAX_MS (3600 * 1000)
/* How long an offer we cannot use is refused. */
#define CHR_DECLINE_SECONDS 30.0
/* How long reconciliation waits for answers before it asks again. */
#define CHR_RECONCILE_RETRY_MS 30000

static void rearm(actor_t *self, struct chr_sched *s);

int64_t chr_sched_now(const struct chr_sched *s)
{
	return s->wall_offset_ms + actor_clock_now();
}

void chr_run_free(chr_run *r)
{
	if (r == NULL)
		return;
	free(r->job);
	free(r->task_id);
	free(r->agent_id);
	free(r);
}

bool chr_sched_persist(struct chr_sched *s, char *err, size_t errlen)
{
	char why[512];
	if (s->crashed)
		return true;
	if (chr_store_save(s, why, sizeof(why)))
		return true;
	actor_error("chronos: %s", why);
	if (err != NULL)
		snprintf(err, errlen, "%s", why);
	return false;
}

/* Persists, logging a failure: for changes that come from the cluster, which cannot
 * be refused. */
static void persist(struct chr_sched *s)
{
	chr_sched_persist(s, NULL, 0);
}

/* ---- runs ------------------------------------------------------------------------ */

static chr_run *run_by_task(struct chr_sched *s, const char *task_id)
{
	for (chr_run *r = s->runs; r != NULL; r = r->next)
		if (strcmp(r->task_id, task_id) == 0)
			return r;
	return NULL;
}

static bool job_active(struct chr_sched *s, const char *name)
{
	for (chr_run *r = s->runs; r != NULL; r = r->next)
		if (strcmp(r->job, name) == 0)
			return true;
	return false;
}

static void run_unlink(struct chr_sched *s, chr_run *run)
{
	for (chr_run **p = &s->runs; *p != NULL; p = &(*p)->next)
		if (*p == run) {
			*p = run->next;
			return;
		}
}

/* A fresh task id for the run's current attempt, in Chronos's shape
 * "ct:<scheduled ms>:<attempt>:<job>:<n>" (whitespace in the name becomes '_': task
 * ids hold none). */
static void new_task_id(struct chr_sched *s, chr_run *r)
{
	char name[256], id[400];
	size_t n = 0;
	for (const char *p = r->job; *p && n + 1 < sizeof(name); p++)
		name[n++] = (*p == ' ' || (*p >= '\t' && *p <= '\r')) ? '_' : *p;
	name[n] = '\0';
	snprintf(id, sizeof(id), "ct:%lld:%d:%s:%llu", (long long)r->scheduled_ms, r->attempt, name,
	         (unsigned long long)++s->run_seq);
	free(r->task_id);
	r->task_id = strdup(id);
	free(r->agent_id);
	r->agent_id = NULL;
}

static void want_offers(struct chr_sched *s)
{
	if (s->suppressed && s->registered) {
		px_scheduler_driver_revive(s->driver, NULL, 0);
		s->suppressed = false;
	}
}

/* Starts a run of j scheduled at `when` (queued for an offer). The caller persists. */
static chr_run *start_run(struct chr_sched *s, chr_job *j, int64_t when)
{
	chr_run *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->job = strdup(j->name)) == NULL) {
		free(r);
		actor_error("chronos: out of memory starting a run of '%s'", j->name);
		return NULL;
	}
	r->attempt = 1;
	r->scheduled_ms = when;
	r->state = CHR_RUN_QUEUED;
	new_task_id(s, r);
	if (r->task_id == NULL) {
		chr_run_free(r);
		return NULL;
	}
	chr_run **tail = &s->runs;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = r;
	if (j->nparents > 0)
		j->trigger_seq = s->seq;
	char t[40];
	actor_info("chronos: job '%s' runs (scheduled %s), task %s", j->name,
	           chr_time_format(when, t, sizeof(t)), r->task_id);
	want_offers(s);
	return r;
}

/* The dependent jobs of parent that are now due: every parent has succeeded since the
 * child's last run. */
static void trigger_children(struct chr_sched *s, const chr_job *parent)
{
	for (chr_job *c = s->jobs; c != NULL; c = c->next) {
		if (c->disabled || !chr_job_has_parent(c, parent->name))
			continue;
		bool ready = true;
		for (size_t i = 0; i < c->nparents && ready; i++) {
			const chr_job *p = chr_graph_find(s->jobs, c->parents[i]);
			ready = p != NULL && p->success_seq > c->trigger_seq;
		}
		if (ready)
			start_run(s, c, chr_sched_now(s));
	}
}

/* ---- the schedule timer ------------------------------------------------------------ */

/* Runs what is due: scheduled runs (or their skips) and retries. */
static void tick(actor_t *self, struct chr_sched *s)
{
	int64_t now = chr_sched_now(s);
	bool changed = false;
	char t[40];

	for (chr_job *j = s->jobs; j != NULL; j = j->next) {
		while (j->scheduled && j->schedule.repeat != 0 && j->schedule.start_ms <= now) {
			int64_t due = j->schedule.start_ms;
			if (j->disabled) {
				actor_debug("chronos: job '%s' is disabled: not run", j->name);
			} else if (now - due > j->epsilon_ms) {
				actor_warn("chronos: job '%s' missed its run at %s by more than its "
				           "epsilon: skipped", j->name, chr_time_format(due, t, sizeof(t)));
			} else if (!j->concurrent && job_active(s, j->name)) {
				actor_warn("chronos: job '%s' is still running: its run at %s is skipped",
				           j->name, chr_time_format(due, t, sizeof(t)));
			} else {
				start_run(s, j, due);
			}
			chr_schedule_step(&j->schedule, j->schedule_tz);
			changed = true;
		}
	}
	for (chr_run *r = s->runs; r != NULL; r = r->next)
		if (r->state == CHR_RUN_RETRY_WAIT && r->retry_at_ms <= now) {
			r->attempt++;
			r->state = CHR_RUN_QUEUED;
			new_task_id(s, r);
			actor_info("chronos: job '%s' retries (attempt %d), task %s", r->job,
			           r->attempt, r->task_id);
			want_offers(s);
			changed = true;
		}
	if (changed)
		persist(s);
	rearm(self, s);
}

static void timer_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct chr_sched *s = actor_state(self);
	s->timer = 0;
	tick(self, s);
}

static void queued_tick_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct chr_sched *s = actor_state(self);
	s->tick_queued = false;
	tick(self, s);
}

/* Sets the timer for the earliest of: a job's next run, a run's next retry. */
static void rearm(actor_t *self, struct chr_sched *s)
{
	int64_t due = INT64_MAX;
	for (const chr_job *j = s->jobs; j != NULL; j = j->next)
		if (j->scheduled && j->schedule.repeat != 0 && j->schedule.start_ms < due)
			due = j->schedule.start_ms;
	for (const chr_run *r = s->runs; r != NULL; r = r->next)
		if (r->state == CHR_RUN_RETRY_WAIT && r->retry_at_ms < due)
			due = r->retry_at_ms;
	if (s->timer != 0 && s->timer_due == due)
		return;
	if (s->timer != 0) {
		actor_cancel(self, s->timer);
		s->timer = 0;
	}
	if (due == INT64_MAX)
		return;
	int64_t delay = due - chr_sched_now(s);
	if (delay <= 0) {
		/* Due already (a restart after a missed run): through the mailbox, not a
		 * timer, which a paused clock would hold until it next moves. */
		if (!s->tick_queued && actor_call(actor_self(self), queued_tick_cb, NULL) == 0)
			s->tick_queued = true;
		return;
	}
	s->timer = actor_delay(self, delay, timer_cb, NULL);
	s->timer_due = due;
}

/* ---- the REST API's operations ----------------------------------------------------- */

bool chr_sched_put_job(struct chr_sched *s, chr_job *j, char *err, size_t errlen)
{
	if (!chr_graph_check(s->jobs, j, err, errlen))
		return false;
	chr_job **at = &s->jobs;
	while (*at != NULL && strcmp((*at)->name, j->name) != 0)
		at = &(*at)->next;
	chr_job *old = *at;
	if (old != NULL) {
		chr_job_keep_history(j, old);
		j->next = old->next;
	} else if (j->nparents > 0) {
		/* A new dependent job waits for its parents' next successes, not past ones. */
		j->trigger_seq = s->seq;
	}
	*at = j;
	if (!chr_sched_persist(s, err, errlen)) {
		/* Put the old definition back: what was not written is not accepted. */
		*at = old != NULL ? old : j->next;
		if (old == NULL)
			j->next = NULL;
		return false;
	}
	actor_info("chronos: job '%s' %s", j->name, old != NULL ? "updated" : "added");
	chr_job_free(old);
	rearm(actor_current(), s);
	return true;
}

static void kill_run(struct chr_sched *s, chr_run *r)
{
	r->killed = true;
	if (r->state == CHR_RUN_LAUNCHED || r->state == CHR_RUN_RECONCILING) {
		Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
		id.value = r->task_id;
		px_scheduler_driver_kill(s->driver, &id);
	}
}

/* Records a run that ended without success (its retries used up, or killed). */
static void record_error(struct chr_sched *s, chr_job *j, const char *why)
{
	(void)s;
	j->error_count++;
	j->errors_since_last_success++;
	j->last_error_ms = chr_sched_now(s);
	free(j->last_error_message);
	j->last_error_message = strdup(why);
}

bool chr_sched_delete_job(struct chr_sched *s, const char *name, bool *missing, char *err,
                          size_t errlen)
{
	chr_job **at = &s->jobs;
	while (*at != NULL && strcmp((*at)->name, name) != 0)
		at = &(*at)->next;
	*missing = *at == NULL;
	if (*at == NULL) {
		snprintf(err, errlen, "no job named '%s'", name);
		return false;
	}
	const chr_job *child = chr_graph_first_child(s->jobs, name);
	if (child != NULL) {
		snprintf(err, errlen, "job '%s' is a parent of '%s': delete or change '%s' first",
		         name, child->name, child->name);
		return false;
	}
	chr_job *j = *at;
	*at = j->next;
	for (chr_run **p = &s->runs; *p != NULL;) {
		chr_run *r = *p;
		if (strcmp(r->job, name) != 0) {
			p = &r->next;
			continue;
		}
		kill_run(s, r);
		*p = r->next;
		chr_run_free(r);
	}
	chr_job_free(j);
	actor_info("chronos: job '%s' deleted", name);
	persist(s);
	rearm(actor_current(), s);
	return true;
}

bool chr_sched_run_now(struct chr_sched *s, const char *name)
{
	chr_job *j = chr_graph_find(s->jobs, name);
	if (j == NULL)
		return false;
	if (start_run(s, j, chr_sched_now(s)) != NULL)
		persist(s);
	return true;
}

bool chr_sched_kill_runs(struct chr_sched *s, const char *name)
{
	chr_job *j = chr_graph_find(s->jobs, name);
	if (j == NULL)
		return false;
	for (chr_run **p = &s->runs; *p != NULL;) {
		chr_run *r = *p;
		if (strcmp(r->job, name) != 0) {
			p = &r->next;
			continue;
		}
		kill_run(s, r);
		if (r->state == CHR_RUN_QUEUED || r->state == CHR_RUN_RETRY_WAIT) {
			/* Never handed to the master: it ends here. */
			record_error(s, j, "killed before it started");
			*p = r->next;
			chr_run_free(r);
			continue;
		}
		p = &r->next;
	}
	actor_info("chronos: killing the tasks of job '%s'", name);
	persist(s);
	rearm(actor_current(), s);
	return true;
}

/* ---- offers ------------------------------------------------------------------------ */

static Plexus__TaskInfo *build_task(struct chr_sched *s, const chr_job *j, const chr_run *r,
                                    const Plexus__AgentID *agent)
{
	char res[128], err[256], when[40], attempt[16];
	if (j->disk > 0)
		snprintf(res, sizeof(res), "cpus:%g;mem:%g;disk:%g", j->cpus, j->mem, j->disk);
	else
		snprintf(res, sizeof(res), "cpus:%g;mem:%g", j->cpus, j->mem);
	char name[280];
	snprintf(name, sizeof(name), "ChronosTask:%s", j->name);
	Plexus__TaskInfo *t = px_task_command(name, agent, j->command, res, err, sizeof(err));
	if (t == NULL) {
		actor_error("chronos: cannot build the task of job '%s': %s", j->name, err);
		return NULL;
	}
	char *id = strdup(r->task_id);
	if (id == NULL) {
		PX_FREE(t);
		return NULL;
	}
	free(t->task_id->value);
	t->task_id->value = id;
	snprintf(attempt, sizeof(attempt), "%d", r->attempt);
	/* The environment Chronos gives its tasks, plus the run's scheduled time. */
	if (px_command_add_env(t->command, "mesos_task_id", r->task_id) != 0 ||
	    px_command_add_env(t->command, "CHRONOS_JOB_NAME", j->name) != 0 ||
	    px_command_add_env(t->command, "CHRONOS_JOB_OWNER", j->owner) != 0 ||
	    px_command_add_env(t->command, "CHRONOS_RESOURCE_CPU", res) != 0 ||
	    px_command_add_env(t->command, "CHRONOS_SCHEDULED_TIME",
	                       chr_time_format(r->scheduled_ms, when, sizeof(when))) != 0 ||
	    px_command_add_env(t->command, "CHRONOS_ATTEMPT", attempt) != 0) {
		PX_FREE(t);
		return NULL;
	}
	(void)s;
	return t;
}

/* Packs queued runs into one offer, oldest first, while they fit. */
static void use_offer(struct chr_sched *s, const Plexus__Offer *offer)
{
	double cpus = px_offer_scalar(offer, "cpus"), mem = px_offer_scalar(offer, "mem");
	double disk = px_offer_scalar(offer, "disk");
	Plexus__TaskInfo *tasks[64];
	chr_run *runs[64];
	size_t n = 0;

	for (chr_run *r = s->runs; r != NULL && n < 64; r = r->next) {
		if (r->state != CHR_RUN_QUEUED)
			continue;
		const chr_job *j = chr_graph_find(s->jobs, r->job);
		if (j == NULL || j->cpus > cpus + 1e-9 || j->mem > mem + 1e-9 ||
		    j->disk > disk + 1e-9)
			continue;
		Plexus__TaskInfo *t = build_task(s, j, r, offer->agent_id);
		if (t == NULL)
			continue;
		cpus -= j->cpus, mem -= j->mem, disk -= j->disk;
		tasks[n] = t;
		runs[n++] = r;
	}
	const Plexus__OfferID *ids[1] = {offer->id};
	Plexus__Filters filters = PLEXUS__FILTERS__INIT;
	if (n == 0) {
		filters.has_refuse_seconds = true;
		filters.refuse_seconds = CHR_DECLINE_SECONDS;
		px_scheduler_driver_decline(s->driver, offer->id, &filters);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		runs[i]->state = CHR_RUN_LAUNCHED;
		runs[i]->agent_id = strdup(offer->agent_id->value);
	}
	/* Written before the launch: a crash now reconciles these task ids. */
	persist(s);
	px_scheduler_driver_launch(s->driver, ids, 1, (const Plexus__TaskInfo *const *)tasks, n,
	                           &filters);
	for (size_t i = 0; i < n; i++) {
		actor_info("chronos: launched task %s on agent %s", runs[i]->task_id,
		           offer->agent_id->value);
		PX_FREE(tasks[i]);
	}
}

static bool any_queued(struct chr_sched *s)
{
	for (chr_run *r = s->runs; r != NULL; r = r->next)
		if (r->state == CHR_RUN_QUEUED)
			return true;
	return false;
}

/* ---- status updates ---------------------------------------------------------------- */

static int64_t retry_delay(const struct chr_sched *s, int attempt)
{
	int64_t d = s->failure_retry_ms;
	for (int i = 1; i < attempt && d < CHR_RETRY_MAX_MS; i++)
		d *= 2;
	return d < CHR_RETRY_MAX_MS ? d : CHR_RETRY_MAX_MS;
}

static void handle_status(actor_t *self, struct chr_sched *s, const Plexus__TaskStatus *st)
{
	const char *task = st->task_id->value;
	chr_run *r = run_by_task(s, task);
	const char *state = px_task_state_name(st->state);
	bool terminal = px_task_state_is_terminal(st->state);

	if (r == NULL) {
		/* Not a run of ours any more (deleted, killed, or from before a lost write):
		 * it must not go on using the cluster. */
		if (!terminal) {
			actor_warn("chronos: killing task %s, which belongs to no run", task);
			px_scheduler_driver_kill(s->driver, st->task_id);
		}
		return;
	}
	chr_job *j = chr_graph_find(s->jobs, r->job);
	if (!terminal) {
		if (r->state == CHR_RUN_RECONCILING || r->state == CHR_RUN_QUEUED) {
			r->state = CHR_RUN_LAUNCHED;
			if (r->agent_id == NULL && st->agent_id != NULL)
				r->agent_id = strdup(st->agent_id->value);
			persist(s);
		}
		return;
	}
	if (st->state == PLEXUS__TASK_STATE__TASK_FINISHED) {
		j->success_count++;
		j->errors_since_last_success = 0;
		j->last_success_ms = chr_sched_now(s);
		j->success_seq = ++s->seq;
		actor_info("chronos: job '%s' succeeded (task %s)", j->name, task);
		run_unlink(s, r);
		chr_run_free(r);
		trigger_children(s, j);
		persist(s);
		rearm(self, s);
		return;
	}
	bool unknown = st->has_reason &&
	               st->reason == PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION &&
	               (r->state == CHR_RUN_RECONCILING || r->state == CHR_RUN_LAUNCHED);
	if (unknown && !r->killed) {
		/* The master never had it (the launch was lost with the old scheduler):
		 * nothing ran, so the same attempt goes out again. */
		actor_info("chronos: task %s is unknown to the master: launching it again", task);
		r->state = CHR_RUN_QUEUED;
		new_task_id(s, r);
		want_offers(s);
		persist(s);
		return;
	}
	char why[512];
	snprintf(why, sizeof(why), "%s%s%s", state, st->message ? ": " : "",
	         st->message ? st->message : "");
	if (!r->killed && r->attempt <= j->retries) {
		r->state = CHR_RUN_RETRY_WAIT;
		r->retry_at_ms = chr_sched_now(s) + retry_delay(s, r->attempt);
		free(j->last_error_message);
		j->last_error_message = strdup(why);
		actor_warn("chronos: job '%s' failed (attempt %d of %d, %s): retrying in %lld ms",
		           j->name, r->attempt, j->retries + 1, why,
		           (long long)(r->retry_at_ms - chr_sched_now(s)));
	} else {
		actor_warn("chronos: job '%s' failed (attempt %d, %s)%s", j->name, r->attempt, why,
		           r->killed ? ": it was killed" : ": no retries left");
		record_error(s, j, why);
		run_unlink(s, r);
		chr_run_free(r);
	}
	persist(s);
	rearm(self, s);
}

/* ---- driver callbacks, forwarded into the scheduler's actor ----------------------- */

struct offers_msg {
	Plexus__Offer **offers;
	size_t n;
};

static void offers_cb(actor_t *self, void *arg)
{
	struct offers_msg *m = arg;
	if (self != NULL) {
		struct chr_sched *s = actor_state(self);
		for (size_t i = 0; i < m->n; i++)
			if (m->offers[i] != NULL)
				use_offer(s, m->offers[i]);
		if (!any_queued(s) && !s->suppressed) {
			px_scheduler_driver_suppress(s->driver, NULL, 0);
			s->suppressed = true;
		}
	}
	for (size_t i = 0; i < m->n; i++)
		PX_FREE(m->offers[i]);
	free(m->offers);
	free(m);
}

static void on_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	struct chr_sched *s = arg;
	struct offers_msg *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->offers = calloc(n, sizeof(*m->offers))) == NULL) {
		free(m);
		return;
	}
	m->n = n;
	for (size_t i = 0; i < n; i++)
		m->offers[i] = PX_COPY(Plexus__Offer, offers[i]);
	(void)d;
	actor_call(s->pid, offers_cb, m);
}

static void status_cb(actor_t *self, void *arg)
{
	Plexus__TaskStatus *st = arg;
	if (self != NULL) {
		struct chr_sched *s = actor_state(self);
		handle_status(self, s, st);
		/* Recorded and written: now the agent may forget it. */
		if (st->has_uuid && !s->crashed)
			px_scheduler_driver_acknowledge(s->driver, st);
	}
	PX_FREE(st);
}

static void on_status(px_scheduler_driver *d, const Plexus__TaskStatus *status, void *arg)
{
	struct chr_sched *s = arg;
	Plexus__TaskStatus *copy = PX_COPY(Plexus__TaskStatus, status);
	(void)d;
	if (copy != NULL)
		actor_call(s->pid, status_cb, copy);
}

/* Asks the master about every run read back from the state file. */
static void reconcile(struct chr_sched *s)
{
	size_t n = 0;
	for (chr_run *r = s->runs; r != NULL; r = r->next)
		n += r->state == CHR_RUN_RECONCILING || r->state == CHR_RUN_LAUNCHED;
	if (n == 0)
		return;
	Plexus__TaskStatus *sts = calloc(n, sizeof(*sts));
	Plexus__TaskID *ids = calloc(n, sizeof(*ids));
	Plexus__AgentID *agents = calloc(n, sizeof(*agents));
	const Plexus__TaskStatus **ptrs = calloc(n, sizeof(*ptrs));
	if (sts != NULL && ids != NULL && agents != NULL && ptrs != NULL) {
		size_t i = 0;
		for (chr_run *r = s->runs; r != NULL; r = r->next) {
			if (r->state != CHR_RUN_RECONCILING && r->state != CHR_RUN_LAUNCHED)
				continue;
			plexus__task_status__init(&sts[i]);
			plexus__task_id__init(&ids[i]);
			ids[i].value = r->task_id;
			sts[i].task_id = &ids[i];
			sts[i].state = PLEXUS__TASK_STATE__TASK_STAGING;
			if (r->agent_id != NULL) {
				plexus__agent_id__init(&agents[i]);
				agents[i].value = r->agent_id;
				sts[i].agent_id = &agents[i];
			}
			ptrs[i] = &sts[i];
			i++;
		}
		actor_info("chronos: reconciling %zu task(s) with the master", n);
		px_scheduler_driver_reconcile(s->driver, ptrs, n);
	}
	free(sts), free(ids), free(agents), free(ptrs);
}

static bool any_reconciling(const struct chr_sched *s)
{
	for (const chr_run *r = s->runs; r != NULL; r = r->next)
		if (r->state == CHR_RUN_RECONCILING)
			return true;
	return false;
}

/* Reconciliation answers can be lost with a connection: ask again, as Mesos advises,
 * until every run read back from the state file has an answer. */
static void reconcile_again_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct chr_sched *s = actor_state(self);
	s->reconcile_timer = 0;
	if (!any_reconciling(s))
		return;
	if (s->registered)
		reconcile(s);
	s->reconcile_timer = actor_delay(self, CHR_RECONCILE_RETRY_MS, reconcile_again_cb, NULL);
}

static void registered_cb(actor_t *self, void *arg)
{
	char *fid = arg;
	if (self != NULL) {
		struct chr_sched *s = actor_state(self);
		s->registered = true;
		if (fid != NULL && (s->framework_id == NULL || strcmp(s->framework_id, fid) != 0)) {
			free(s->framework_id);
			s->framework_id = strdup(fid);
			persist(s);
		}
		reconcile(s);
		if (s->reconcile_timer == 0 && any_reconciling(s))
			s->reconcile_timer =
			    actor_delay(self, CHR_RECONCILE_RETRY_MS, reconcile_again_cb, NULL);
		/* The master offers to a (re)registered framework: suppress only once an
		 * offer shows there is nothing to launch. */
		s->suppressed = false;
		px_scheduler_driver_revive(s->driver, NULL, 0);
	}
	free(fid);
}

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *master, void *arg)
{
	struct chr_sched *s = arg;
	(void)d, (void)master;
	actor_call(s->pid, registered_cb, id && id->value ? strdup(id->value) : NULL);
}

static void on_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *master, void *arg)
{
	struct chr_sched *s = arg;
	(void)d, (void)master;
	actor_call(s->pid, registered_cb, NULL);
}

static void disconnected_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self != NULL)
		((struct chr_sched *)actor_state(self))->registered = false;
}

static void on_disconnected(px_scheduler_driver *d, void *arg)
{
	struct chr_sched *s = arg;
	(void)d;
	actor_call(s->pid, disconnected_cb, NULL);
}

static void on_error(px_scheduler_driver *d, const char *message, void *arg)
{
	(void)d, (void)arg;
	actor_error("chronos: the framework was refused: %s", message);
}

/* ---- the actor and the service --------------------------------------------------- */

static int sched_init(actor_t *self)
{
	struct chr_sched *s = actor_state(self);
	if (chr_rest_install(self, s) != 0)
		return -1;
	rearm(self, s);
	return 0;
}

static void sched_fini(actor_t *self)
{
	struct chr_sched *s = actor_state(self);
	s->timer = 0;
	s->reconcile_timer = 0;
}

static const actor_def sched_def = {.name = "chronos", .init = sched_init, .fini = sched_fini};

static void sched_free(struct chr_sched *s)
{
	if (s == NULL)
		return;
	while (s->jobs != NULL) {
		chr_job *n = s->jobs->next;
		chr_job_free(s->jobs);
		s->jobs = n;
	}
	while (s->runs != NULL) {
		chr_run *n = s->runs->next;
		chr_run_free(s->runs);
		s->runs = n;
	}
	free(s->master), free(s->state_file), free(s->framework_name), free(s->user);
	free(s->role), free(s->default_epsilon), free(s->framework_id);
	free(s);
}

static char *dup_or(const char *v, const char *dflt)
{
	return strdup(v != NULL && *v != '\0' ? v : dflt);
}

static const char *current_user(void)
{
	const char *u = getenv("USER");
	if (u != NULL && *u != '\0')
		return u;
	struct passwd *pw = getpwuid(geteuid());
	return pw != NULL ? pw->pw_name : "root";
}

chr_service *chr_service_start(const chr_config *cfg, char *err, size_t errlen)
{
	struct chr_sched *s = calloc(1, sizeof(*s));
	if (s == NULL || cfg->master == NULL || cfg->state_file == NULL) {
		snprintf(err, errlen, s == NULL ? "out of memory" : "a master and a state file "
		                                                    "are needed");
		free(s);
		return NULL;
	}
	s->master = strdup(cfg->master);
	s->state_file = strdup(cfg->state_file);
	s->framework_name = dup_or(cfg->framework_name, "chronos");
	s->user = dup_or(cfg->user, current_user());
	s->role = dup_or(cfg->role, "*");
	s->default_epsilon = dup_or(cfg->defaults.epsilon, "PT5M");
	if (!s->master || !s->state_file || !s->framework_name || !s->user || !s->role ||
	    !s->default_epsilon) {
		snprintf(err, errlen, "out of memory");
		sched_free(s);
		return NULL;
	}
	s->defaults = cfg->defaults;
	s->defaults.epsilon = s->default_epsilon;
	if (s->defaults.cpus <= 0)
		s->defaults.cpus = 0.1;
	if (s->defaults.mem <= 0)
		s->defaults.mem = 128;
	if (s->defaults.disk <= 0)
		s->defaults.disk = 256;
	if (cfg->defaults.retries == 0 && cfg->defaults.cpus == 0 && cfg->defaults.mem == 0)
		s->defaults.retries = 2; /* an all-zero defaults block means Chronos's defaults */
	s->failure_retry_ms = cfg->failure_retry_ms > 0 ? cfg->failure_retry_ms : 60000;
	s->failover_timeout_ms =
	    cfg->failover_timeout_ms > 0 ? cfg->failover_timeout_ms : 7 * 24 * 3600 * 1000LL;
	if (cfg->wall_offset_set) {
		s->wall_offset_ms = cfg->wall_offset_ms;
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s->wall_offset_ms =
		    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - actor_clock_now();
	}
	if (!chr_store_load(s, err, errlen)) {
		sched_free(s);
		return NULL;
	}

	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fw.user = s->user;
	fw.name = s->framework_name;
	fw.role = s->role;
	fw.has_failover_timeout = true;
	fw.failover_timeout = (double)s->failover_timeout_ms / 1000.0;
	fw.has_checkpoint = true;
	fw.checkpoint = true;
	if (s->framework_id != NULL) {
		fid.value = s->framework_id;
		fw.id = &fid;
	}
	px_scheduler_callbacks cb = {
	    .registered = on_registered,
	    .reregistered = on_reregistered,
	    .disconnected = on_disconnected,
	    .resource_offers = on_offers,
	    .status_update = on_status,
	    .error = on_error,
	};
	px_scheduler_options opts;
	px_scheduler_options_default(&opts);
	opts.implicit_acknowledgements = false;
	s->driver = px_scheduler_driver_alloc(&cb, s, &fw, s->master, &opts);
	if (s->driver == NULL) {
		snprintf(err, errlen, "cannot create the scheduler driver");
		sched_free(s);
		return NULL;
	}
	int rv = actor_spawn(&sched_def, s, &s->pid);
	if (rv != 0) {
		snprintf(err, errlen, "cannot start the scheduler: %s", actor_strerror(rv));
		px_scheduler_driver_free(s->driver);
		sched_free(s);
		return NULL;
	}
	if (px_scheduler_driver_start(s->driver) != PX_DRIVER_RUNNING) {
		snprintf(err, errlen, "cannot start the scheduler driver");
		chr_service_stop(s);
		return NULL;
	}
	size_t njobs = 0;
	for (const chr_job *j = s->jobs; j != NULL; j = j->next)
		njobs++;
	actor_info("chronos: %zu job(s) loaded from %s; registering with %s", njobs,
	           s->state_file, s->master);
	return s;
}

static void *registered_fn(actor_t *self, void *arg, int *err)
{
	(void)arg, (void)err;
	return self != NULL && ((struct chr_sched *)actor_state(self))->registered ? (void *)1
	                                                                            : NULL;
}

bool chr_service_registered(chr_service *svc)
{
	actor_future *f = actor_dispatch(svc->pid, registered_fn, NULL, NULL);
	bool yes = actor_future_await(f, 10000) == 0 &&
	           actor_future_state(f) == ACTOR_FUTURE_READY && actor_future_value(f) != NULL;
	actor_future_unref(f);
	return yes;
}

static void *mark_crashed(actor_t *self, void *arg, int *err)
{
	(void)arg, (void)err;
	if (self != NULL)
		((struct chr_sched *)actor_state(self))->crashed = true;
	return NULL;
}

static void end(chr_service *svc)
{
	px_scheduler_driver_free(svc->driver);
	actor_terminate(svc->pid);
	actor_wait(svc->pid, -1);
	sched_free(svc);
}

void chr_service_stop(chr_service *svc)
{
	if (svc == NULL)
		return;
	px_scheduler_driver_stop(svc->driver, true);
	end(svc);
}

void chr_service_crash(chr_service *svc)
{
	if (svc == NULL)
		return;
	/* Inside the actor and awaited, so that nothing it does after this is written. */
	actor_future *f = actor_dispatch(svc->pid, mark_crashed, NULL, NULL);
	actor_future_await(f, -1);
	actor_future_unref(f);
	px_scheduler_driver_abort(svc->driver);
	end(svc);
}
