/* chr_framework.c — the scheduler's side of the scheduler driver: offers turned into
 * command tasks, status updates recorded into runs and history, reconciliation after
 * a (re)registration. The driver's callbacks run in its own actor: each copies what it
 * is given and hands it to the scheduler's actor, where everything else runs.
 *
 * A status update is recorded and written before it is acknowledged (explicit
 * acknowledgements), so the master keeps an unacknowledged terminal task for
 * reconciliation. After a restart every run that was queued or launched is reconciled
 * by its task id: a task the master knows goes on, one it does not know is launched
 * again as the same attempt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/log.h>
#include <plexus/message.h>
#include <plexus/scheduler.h>
#include <plexus/task.h>

#include "chr_graph.h"
#include "chr_sched.h"

/* How long an offer we cannot use is refused. */
#define CHR_DECLINE_SECONDS 30.0
/* How long reconciliation waits for answers before it asks again. */
#define CHR_RECONCILE_RETRY_MS 30000

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
	chr_sched_save(s);
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

static void handle_status(actor_t *self, struct chr_sched *s, const Plexus__TaskStatus *st)
{
	const char *task = st->task_id->value;
	chr_run *r = chr_sched_run_by_task(s, task);
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
			chr_sched_save(s);
		}
		return;
	}
	if (st->state == PLEXUS__TASK_STATE__TASK_FINISHED) {
		j->success_count++;
		j->errors_since_last_success = 0;
		j->last_success_ms = chr_sched_now(s);
		j->success_seq = ++s->seq;
		actor_info("chronos: job '%s' succeeded (task %s)", j->name, task);
		chr_sched_run_unlink(s, r);
		chr_run_free(r);
		chr_sched_trigger_children(s, j);
		chr_sched_save(s);
		chr_sched_rearm(self, s);
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
		chr_run_new_task_id(s, r);
		chr_sched_want_offers(s);
		chr_sched_save(s);
		return;
	}
	char why[512];
	snprintf(why, sizeof(why), "%s%s%s", state, st->message ? ": " : "",
	         st->message ? st->message : "");
	if (!r->killed && r->attempt <= j->retries) {
		r->state = CHR_RUN_RETRY_WAIT;
		r->retry_at_ms = chr_sched_now(s) + chr_sched_retry_delay(s, r->attempt);
		free(j->last_error_message);
		j->last_error_message = strdup(why);
		actor_warn("chronos: job '%s' failed (attempt %d of %d, %s): retrying in %lld ms",
		           j->name, r->attempt, j->retries + 1, why,
		           (long long)(r->retry_at_ms - chr_sched_now(s)));
	} else {
		actor_warn("chronos: job '%s' failed (attempt %d, %s)%s", j->name, r->attempt, why,
		           r->killed ? ": it was killed" : ": no retries left");
		chr_sched_record_error(s, j, why);
		chr_sched_run_unlink(s, r);
		chr_run_free(r);
	}
	chr_sched_save(s);
	chr_sched_rearm(self, s);
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
			chr_sched_save(s);
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

void chr_framework_callbacks(px_scheduler_callbacks *cb)
{
	*cb = (px_scheduler_callbacks){
	    .registered = on_registered,
	    .reregistered = on_reregistered,
	    .disconnected = on_disconnected,
	    .resource_offers = on_offers,
	    .status_update = on_status,
	    .error = on_error,
	};
}
