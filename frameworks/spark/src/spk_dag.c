/* spk_dag.c — the DAG scheduler. A job's dataset depends, through narrow steps, on the
 * shuffles it reads; each shuffle is a stage whose tasks write its map outputs, and it
 * depends in turn on the shuffles its parent reads. Rather than keeping a queue of
 * stages, every event (a job, a task's end, a lost executor) walks this graph again
 * from the job down: a stage whose map outputs are all there is done; one whose
 * parents are all done gets a task for each missing output not already queued; the
 * job's own tasks come when all its shuffles are there. A lost map output is thereby
 * recomputed, alone, as soon as it is found missing: lineage recovery. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <actor/log.h>

#include "spk_driver.h"

static bool shuffle_ready(spk_context *sc, spk_shuffle *s);

/* Whether every shuffle r reads (through narrow steps) is complete; submits what can
 * run toward those that are not. */
static bool parents_ready(spk_context *sc, spk_rdd *r)
{
	if (r->persist) {
		bool all = true;
		for (int p = 0; p < r->nparts && all; p++)
			all = r->cached_at[p] >= 0;
		if (all)
			return true; /* every partition is in an executor's memory */
	}
	switch (r->kind) {
	case SPK_N_RANGE:
	case SPK_N_ARRAY:
	case SPK_N_TEXT:
		return true;
	case SPK_N_SHUFFLED: {
		bool ready = true;
		for (int i = 0; i < r->nshuffles; i++)
			ready &= shuffle_ready(sc, r->shuffles[i]);
		return ready;
	}
	default: {
		bool ready = true;
		for (int i = 0; i < r->nparents; i++)
			ready &= parents_ready(sc, r->parents[i]);
		return ready;
	}
	}
}

static bool shuffle_ready(spk_context *sc, spk_shuffle *s)
{
	bool complete = true;
	for (int m = 0; m < s->nmaps && complete; m++)
		complete = s->maps[m].exec >= 0;
	if (complete)
		return true;
	if (!parents_ready(sc, s->parent))
		return false;
	for (int m = 0; m < s->nmaps; m++)
		if (s->maps[m].exec < 0 && !s->active[m])
			spk_tasks_submit(sc, s, NULL, 0, m, -1);
	return false;
}

void spk_dag_advance(spk_context *sc)
{
	spk_job *j = sc->job;
	if (j == NULL || j->finished)
		return;
	if (j->ndone == j->nparts) {
		j->finished = true;
		j->ended_ms = spk_now_ms();
		spk_tasks_clear(sc);
		pthread_cond_broadcast(&sc->changed);
		return;
	}
	if (!parents_ready(sc, j->rdd))
		return;
	/* Every partition done or queued: nothing to look for (the common case, and the
	 * one that matters for jobs of many tasks). */
	if (j->ndone + j->nactive >= j->nparts)
		return;
	for (int i = 0; i < j->nparts; i++)
		if (!j->done[i] && !j->active[i])
			spk_tasks_submit(sc, NULL, j, i, j->parts[i], -1);
}

void spk_dag_fail(spk_context *sc, const char *fmt, ...)
{
	spk_job *j = sc->job;
	if (j == NULL || j->finished)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->error, sizeof(j->error), fmt, ap);
	va_end(ap);
	actor_error("spark: job %d failed: %s", j->id, j->error);
	j->failed = true;
	j->finished = true;
	j->ended_ms = spk_now_ms();
	spk_tasks_clear(sc);
	pthread_cond_broadcast(&sc->changed);
}
