/* spk_tasks.c — the task scheduler and the executors.
 *
 * Tasks wait in a FIFO and go to registered executors with a free core, preferring
 * the executor that holds a persisted partition they read, and avoiding the executor
 * where their last attempt failed when another one can take them. A failed task is
 * retried up to task_max_failures times; a task that could not fetch a map output
 * gives its slot back and the output is marked missing (the DAG scheduler recomputes
 * it first). An executor is a Mesos task of ours: one per agent, launched on offers
 * while tasks wait, declined with a long filter otherwise; offers are suppressed when
 * nothing waits and revived when a job needs more executors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <actor/log.h>
#include <plexus/message.h>
#include <plexus/task.h>

#include "spk_driver.h"

int64_t spk_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int push(struct spk_task ***v, size_t *n, size_t *cap, struct spk_task *t)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct spk_task **grown = realloc(*v, c * sizeof(**v));
		if (grown == NULL)
			return -1;
		*v = grown;
		*cap = c;
	}
	(*v)[(*n)++] = t;
	return 0;
}

void spk_tasks_submit(spk_context *sc, spk_shuffle *sh, spk_job *job, int index, int partition,
                      int avoid)
{
	struct spk_task *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return;
	t->id = ++sc->next_task;
	t->shuffle = sh;
	t->job = sh ? NULL : job;
	t->index = index;
	t->partition = partition;
	t->exec = -1;
	t->avoid = avoid;
	t->submitted_ms = spk_now_ms();
	if (sc->npending == sc->cap_pending && sc->pending_head > 0) {
		/* Compact: drop the holes and what the head passed. */
		size_t kept = 0;
		for (size_t i = sc->pending_head; i < sc->npending; i++)
			if (sc->pending[i] != NULL)
				sc->pending[kept++] = sc->pending[i];
		sc->npending = kept;
		sc->pending_head = 0;
	}
	if (push(&sc->pending, &sc->npending, &sc->cap_pending, t) != 0) {
		free(t);
		return;
	}
	sc->pending_live++;
	if (sh != NULL) {
		sh->active[partition] = true;
		t->attempt = sh->attempts[partition]++;
	} else {
		job->active[index] = true;
		job->nactive++;
		t->attempt = 0;
	}
}

/* Tasks an executor is given per core: one running and one queued behind it, so that
 * a core never waits for the driver's round trip between two short tasks. */
#define SPK_TASKS_PER_CORE 2

static bool usable(const struct spk_exec_ref *e)
{
	return e->registered && e->alive && e->busy < e->cores * SPK_TASKS_PER_CORE;
}

static int pick_exec(spk_context *sc, const struct spk_task *t)
{
	int pref = spk_task_preferred_exec(sc, t);
	if (pref >= 0 && pref < sc->nexecs && usable(&sc->execs[pref]))
		return pref;
	/* Delay scheduling: a task whose partition is in a live executor's memory waits
	 * for a core there, for up to locality_wait_ms, before it runs elsewhere. */
	if (pref >= 0 && pref < sc->nexecs && sc->execs[pref].alive &&
	    spk_now_ms() - t->submitted_ms < sc->conf.locality_wait_ms)
		return -1;
	int best = -1, fallback = -1;
	for (int i = 0; i < sc->nexecs; i++) {
		if (!usable(&sc->execs[i]))
			continue;
		if (i == t->avoid) {
			fallback = i;
			continue;
		}
		/* The least loaded, so that tasks spread over executors. */
		if (best < 0 || sc->execs[i].busy < sc->execs[best].busy)
			best = i;
	}
	if (best >= 0)
		return best;
	/* Only the executor it failed on is free: use it if it is the only one left. */
	int alive = 0;
	for (int i = 0; i < sc->nexecs; i++)
		alive += sc->execs[i].registered && sc->execs[i].alive;
	return alive <= 1 ? fallback : -1;
}

void spk_tasks_schedule(spk_context *sc)
{
	/* Free slots first: with none (the usual case while a big stage runs) nothing below
	 * needs to look at the queue at all. */
	int free_slots = 0;
	for (int i = 0; i < sc->nexecs; i++)
		if (usable(&sc->execs[i]))
			free_slots += sc->execs[i].cores * SPK_TASKS_PER_CORE - sc->execs[i].busy;
	spk_buf msg = {0};
	for (size_t i = sc->pending_head; i < sc->npending && free_slots > 0; i++) {
		struct spk_task *t = sc->pending[i];
		if (t == NULL)
			continue;
		int e = pick_exec(sc, t);
		if (e < 0 || push(&sc->running, &sc->nrunning, &sc->cap_running, t) != 0)
			continue;
		sc->pending[i] = NULL;
		sc->pending_live--;
		free_slots--;
		t->exec = e;
		t->launched_ms = spk_now_ms();
		sc->execs[e].busy++;
		sc->tasks_launched++;
		msg.len = 0;
		if (spk_task_encode(sc, t, &msg) == 0)
			actor_send(actor_current(), sc->execs[e].pid, SPK_MSG_LAUNCH, msg.data,
			           msg.len);
		else
			actor_error("spark: cannot encode task %" PRIu64, t->id);
	}
	while (sc->pending_head < sc->npending && sc->pending[sc->pending_head] == NULL)
		sc->pending_head++;
	if (sc->pending_head == sc->npending)
		sc->npending = sc->pending_head = 0;
	spk_buf_fini(&msg);
}

static struct spk_task *take_running(spk_context *sc, uint64_t id)
{
	for (size_t i = 0; i < sc->nrunning; i++)
		if (sc->running[i]->id == id) {
			struct spk_task *t = sc->running[i];
			sc->running[i] = sc->running[--sc->nrunning];
			return t;
		}
	return NULL;
}

static void release_slot(struct spk_task *t)
{
	if (t->shuffle != NULL) {
		t->shuffle->active[t->partition] = false;
	} else if (t->job->active[t->index]) {
		t->job->active[t->index] = false;
		t->job->nactive--;
	}
}

static const char *stage_op(const struct spk_task *t)
{
	if (t->shuffle != NULL)
		return t->shuffle->parent->op;
	return t->job->rdd->op;
}

static void task_failed(spk_context *sc, struct spk_task *t, const char *why)
{
	int *failures =
	    t->shuffle ? &t->shuffle->failures[t->partition] : &t->job->failures[t->index];
	int stage = t->shuffle ? t->shuffle->stage : t->job->stage;
	(*failures)++;
	actor_warn("spark: task %d.%d of stage %d failed (attempt %d): %s", t->partition,
	           t->attempt, stage, *failures, why);
	release_slot(t);
	if (*failures >= sc->conf.task_max_failures) {
		spk_dag_fail(sc, "stage %d (%s) failed: task %d failed %d times, last failure: %s",
		             stage, stage_op(t), t->partition, *failures, why);
		return;
	}
	if (t->shuffle != NULL)
		spk_tasks_submit(sc, t->shuffle, NULL, 0, t->partition, t->exec);
	else
		spk_tasks_submit(sc, NULL, t->job, t->index, t->partition, t->exec);
}

static spk_shuffle *find_shuffle(spk_context *sc, int id)
{
	for (spk_shuffle *s = sc->shuffles; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

void spk_tasks_status(spk_context *sc, const spk_task_status *st)
{
	struct spk_task *t = take_running(sc, st->task_id);
	if (t == NULL)
		return; /* a task of an ended job, or of an executor declared lost */
	struct spk_exec_ref *e = &sc->execs[t->exec];
	e->busy--;
	e->tasks_done++;
	if (e->busy == 0)
		e->idle_since_ms = spk_now_ms();
	sc->tasks_finished++;
	if (st->result == SPK_TASK_OK) {
		spk_rdd *root = t->shuffle ? t->shuffle->parent : t->job->rdd;
		for (size_t i = 0; i < st->ncached; i++)
			for (spk_rdd *r = sc->rdds; r != NULL; r = r->next)
				if (r->id == st->cached[i] && r->nparts == root->nparts)
					r->cached_at[t->partition] = t->exec;
		if (t->shuffle != NULL) {
			spk_shuffle *s = t->shuffle;
			if (st->nsizes != (size_t)s->nreduce) {
				task_failed(sc, t, "map output with a wrong number of blocks");
				free(t);
				return;
			}
			uint64_t *sizes = malloc(st->nsizes * sizeof(uint64_t));
			if (sizes != NULL)
				memcpy(sizes, st->sizes, st->nsizes * sizeof(uint64_t));
			free(s->maps[t->partition].sizes);
			s->maps[t->partition].sizes = sizes;
			s->maps[t->partition].exec = sizes ? t->exec : -1;
			s->active[t->partition] = false;
		} else {
			spk_job *j = t->job;
			release_slot(t);
			if (!j->done[t->index]) {
				j->done[t->index] = true;
				j->ndone++;
				spk_buf_append(&j->results[t->index], st->value.data,
				               st->value.len);
			}
		}
	} else if (st->result == SPK_TASK_FETCH_FAILED) {
		spk_shuffle *s = find_shuffle(sc, st->fetch_sid);
		actor_warn("spark: task %d of stage %d: %s", t->partition,
		           t->shuffle ? t->shuffle->stage : t->job->stage,
		           st->message ? st->message : "fetch failed");
		/* Missing only if it is still where the reducer looked: it may have been
		 * recomputed elsewhere since (its executor's loss was seen first). */
		if (s != NULL && st->fetch_map >= 0 && st->fetch_map < s->nmaps) {
			int at = s->maps[st->fetch_map].exec;
			if (at >= 0 &&
			    (st->fetch_pid == NULL ||
			     strcmp(actor_pid_str(sc->execs[at].pid), st->fetch_pid) == 0))
				s->maps[st->fetch_map].exec = -1;
		}
		release_slot(t);
	} else {
		task_failed(sc, t, st->message ? st->message : "task failed");
	}
	free(t);
	spk_dag_advance(sc);
	spk_tasks_schedule(sc);
}

void spk_tasks_clear(spk_context *sc)
{
	for (size_t i = sc->pending_head; i < sc->npending; i++) {
		if (sc->pending[i] == NULL)
			continue;
		release_slot(sc->pending[i]);
		free(sc->pending[i]);
	}
	sc->npending = sc->pending_head = sc->pending_live = 0;
	/* Running tasks finish on their executors; their statuses are then ignored. */
	for (size_t i = 0; i < sc->nrunning; i++) {
		struct spk_task *t = sc->running[i];
		sc->execs[t->exec].busy--;
		release_slot(t);
		free(t);
	}
	sc->nrunning = 0;
}

void spk_tasks_exec_lost(spk_context *sc, int exec, const char *why)
{
	struct spk_exec_ref *e = &sc->execs[exec];
	if (!e->alive)
		return;
	e->alive = false;
	actor_warn("spark: executor %s lost: %s", e->id, why);
	/* If it still runs (its agent was lost, not its process), it must end: its work is
	 * forgotten here. */
	if (e->registered)
		actor_send(actor_current(), e->pid, SPK_MSG_STOP, NULL, 0);
	for (spk_shuffle *s = sc->shuffles; s != NULL; s = s->next)
		for (int m = 0; m < s->nmaps; m++)
			if (s->maps[m].exec == exec)
				s->maps[m].exec = -1;
	for (spk_rdd *r = sc->rdds; r != NULL; r = r->next)
		for (int p = 0; p < r->nparts; p++)
			if (r->cached_at[p] == exec)
				r->cached_at[p] = -1;
	size_t kept = 0;
	for (size_t i = 0; i < sc->nrunning; i++) {
		struct spk_task *t = sc->running[i];
		if (t->exec != exec) {
			sc->running[kept++] = t;
			continue;
		}
		/* Lost with its executor: not the task's fault, so not counted. */
		release_slot(t);
		free(t);
	}
	sc->nrunning = kept;
	e->busy = 0;
	if (sc->job != NULL && !sc->job->finished)
		spk_tasks_revive(sc);
	spk_dag_advance(sc);
	spk_tasks_schedule(sc);
}

void spk_tasks_suppress(spk_context *sc)
{
	if (sc->suppressed || sc->driver == NULL)
		return;
	px_scheduler_driver_suppress(sc->driver, NULL, 0);
	sc->suppressed = true;
	sc->suppress_calls++;
}

void spk_tasks_revive(spk_context *sc)
{
	if (sc->driver == NULL)
		return;
	/* Also when not suppressed: reviving clears the long filters of declined offers. */
	px_scheduler_driver_revive(sc->driver, NULL, 0);
	sc->suppressed = false;
	sc->revive_calls++;
}

static int live_executors(spk_context *sc)
{
	int n = 0;
	for (int i = 0; i < sc->nexecs; i++)
		n += sc->execs[i].alive;
	return n;
}

bool spk_tasks_want_executors(spk_context *sc)
{
	if (sc->job == NULL || sc->job->finished || sc->pending_live == 0)
		return false;
	if (sc->conf.max_cores > 0 &&
	    (live_executors(sc) + 1) * sc->conf.executor_cores > sc->conf.max_cores)
		return false;
	return true;
}

static bool agent_has_executor(spk_context *sc, const char *agent)
{
	for (int i = 0; i < sc->nexecs; i++)
		if (sc->execs[i].alive && strcmp(sc->execs[i].agent, agent) == 0)
			return true;
	return false;
}

/* Launches an executor on the offer. */
static bool launch_executor(spk_context *sc, const Plexus__Offer *o)
{
	char res[128], err[256], name[128], args[512];
	snprintf(res, sizeof(res), "cpus:%d;mem:%d", sc->conf.executor_cores,
	         sc->conf.executor_mem_mb);
	if (!px_offer_fits_text(o, res))
		return false;
	struct spk_exec_ref *grown = realloc(sc->execs, (size_t)(sc->nexecs + 1) * sizeof(*grown));
	if (grown == NULL)
		return false;
	sc->execs = grown;
	int idx = sc->nexecs;
	snprintf(name, sizeof(name), "spark-executor-%d", idx);
	Plexus__TaskInfo *t = px_task_command(name, o->agent_id, "true", res, err, sizeof(err));
	if (t == NULL) {
		actor_error("spark: cannot build an executor task: %s", err);
		return false;
	}
	Plexus__ExecutorInfo *ei = calloc(1, sizeof(*ei));
	Plexus__ExecutorID *eid = calloc(1, sizeof(*eid));
	if (ei == NULL || eid == NULL) {
		free(ei);
		free(eid);
		PX_FREE(t);
		return false;
	}
	plexus__executor_info__init(ei);
	plexus__executor_id__init(eid);
	eid->value = strdup(t->task_id->value);
	ei->executor_id = eid;
	ei->name = strdup("spark executor");
	ei->has_type = true;
	ei->type = PLEXUS__EXECUTOR_INFO__TYPE__CUSTOM;
	ei->command = t->command;
	t->command = NULL;
	t->executor = ei;
	/* Quoted: the command runs through the shell, and a PID may hold parentheses. */
	snprintf(args, sizeof(args), "%s '--driver=%s' --cores=%d", SPK_EXECUTOR_FLAG,
	         sc->self_text, sc->conf.executor_cores);
	if (px_command_add_self(ei->command, args) != 0) {
		actor_error("spark: cannot name this program for its executors");
		PX_FREE(t);
		return false;
	}
	struct spk_exec_ref *e = &sc->execs[idx];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", t->task_id->value);
	snprintf(e->agent, sizeof(e->agent), "%s", o->agent_id->value);
	e->alive = true;
	e->cores = sc->conf.executor_cores;
	sc->nexecs++;
	const Plexus__OfferID *ids[1] = {o->id};
	const Plexus__TaskInfo *tasks[1] = {t};
	Plexus__Filters f = PLEXUS__FILTERS__INIT;
	f.has_refuse_seconds = true;
	f.refuse_seconds = (double)sc->conf.decline_seconds;
	px_scheduler_driver_launch(sc->driver, ids, 1, tasks, 1, &f);
	actor_info("spark: launching executor %s on agent %s", e->id, e->agent);
	PX_FREE(t);
	return true;
}

void spk_tasks_offers(spk_context *sc, Plexus__Offer *const *offers, size_t n)
{
	Plexus__Filters f = PLEXUS__FILTERS__INIT;
	f.has_refuse_seconds = true;
	f.refuse_seconds = (double)sc->conf.decline_seconds;
	for (size_t i = 0; i < n; i++) {
		const Plexus__Offer *o = offers[i];
		sc->offers_received++;
		if (spk_tasks_want_executors(sc) && !agent_has_executor(sc, o->agent_id->value) &&
		    launch_executor(sc, o))
			continue;
		sc->offers_declined++;
		px_scheduler_driver_decline(sc->driver, o->id, &f);
	}
	if (!spk_tasks_want_executors(sc))
		spk_tasks_suppress(sc);
}

void spk_tasks_exec_update(spk_context *sc, const Plexus__TaskStatus *st)
{
	if (st->task_id == NULL || !px_task_state_is_terminal(st->state))
		return;
	for (int i = 0; i < sc->nexecs; i++) {
		struct spk_exec_ref *e = &sc->execs[i];
		if (strcmp(e->id, st->task_id->value) != 0 || !e->alive)
			continue;
		if (!e->registered) {
			sc->exec_launch_failures++;
			snprintf(sc->exec_failure, sizeof(sc->exec_failure), "%s: %s",
			         px_task_state_name(st->state), st->message ? st->message : "");
		}
		char why[600];
		snprintf(why, sizeof(why), "%s %s", px_task_state_name(st->state),
		         st->message ? st->message : "");
		spk_tasks_exec_lost(sc, i, why);
		if (sc->exec_launch_failures >= 8)
			spk_dag_fail(sc, "executors cannot start: last one ended %s",
			             sc->exec_failure);
	}
}
