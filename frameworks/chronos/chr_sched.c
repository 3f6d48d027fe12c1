/* chr_sched.c — the jobs' runs: the schedule timer on the runtime's clock, runs
 * started by schedules, parents and the REST API, retries, and the operations behind
 * the REST API. Runs here inside the scheduler's actor (see chr_service.c); what the
 * cluster says about tasks comes in through chr_framework.c.
 *
 * Order of writes, so that a crash at any point neither loses nor repeats a run: a run
 * is written to the state file with its task id, and with its job's schedule already
 * moved past it, before its task is launched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/clock.h>
#include <actor/log.h>
#include <plexus/scheduler.h>

#include "chr_graph.h"
#include "chr_sched.h"
#include "chr_store.h"

/* Retry delays double from failure_retry_ms per attempt, up to this. */
#define CHR_RETRY_MAX_MS (3600 * 1000)

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
void chr_sched_save(struct chr_sched *s)
{
	chr_sched_persist(s, NULL, 0);
}

/* ---- runs ------------------------------------------------------------------------ */

chr_run *chr_sched_run_by_task(struct chr_sched *s, const char *task_id)
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

void chr_sched_run_unlink(struct chr_sched *s, chr_run *run)
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
void chr_run_new_task_id(struct chr_sched *s, chr_run *r)
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

void chr_sched_want_offers(struct chr_sched *s)
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
	chr_run_new_task_id(s, r);
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
	chr_sched_want_offers(s);
	return r;
}

/* The dependent jobs of parent that are now due: every parent has succeeded since the
 * child's last run. */
void chr_sched_trigger_children(struct chr_sched *s, const chr_job *parent)
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
				actor_warn(
				    "chronos: job '%s' missed its run at %s by more than its "
				    "epsilon: skipped",
				    j->name, chr_time_format(due, t, sizeof(t)));
			} else if (!j->concurrent && job_active(s, j->name)) {
				actor_warn(
				    "chronos: job '%s' is still running: its run at %s is skipped",
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
			chr_run_new_task_id(s, r);
			actor_info("chronos: job '%s' retries (attempt %d), task %s", r->job,
			           r->attempt, r->task_id);
			chr_sched_want_offers(s);
			changed = true;
		}
	if (changed)
		chr_sched_save(s);
	chr_sched_rearm(self, s);
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
void chr_sched_rearm(actor_t *self, struct chr_sched *s)
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

int64_t chr_sched_retry_delay(const struct chr_sched *s, int attempt)
{
	int64_t d = s->failure_retry_ms;
	for (int i = 1; i < attempt && d < CHR_RETRY_MAX_MS; i++)
		d *= 2;
	return d < CHR_RETRY_MAX_MS ? d : CHR_RETRY_MAX_MS;
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
	chr_sched_rearm(actor_current(), s);
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
void chr_sched_record_error(struct chr_sched *s, chr_job *j, const char *why)
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
	chr_sched_save(s);
	chr_sched_rearm(actor_current(), s);
	return true;
}

bool chr_sched_run_now(struct chr_sched *s, const char *name)
{
	chr_job *j = chr_graph_find(s->jobs, name);
	if (j == NULL)
		return false;
	if (start_run(s, j, chr_sched_now(s)) != NULL)
		chr_sched_save(s);
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
			chr_sched_record_error(s, j, "killed before it started");
			*p = r->next;
			chr_run_free(r);
			continue;
		}
		p = &r->next;
	}
	actor_info("chronos: killing the tasks of job '%s'", name);
	chr_sched_save(s);
	chr_sched_rearm(actor_current(), s);
	return true;
}
