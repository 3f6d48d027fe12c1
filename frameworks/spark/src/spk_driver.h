/* spk_driver.h — the driver's state: the lineage (datasets and the shuffles between
 * them), the executors, the jobs and their tasks. One mutex (spk_context.mu) guards it
 * all: the user's thread (actions), the driver's actor (executors' messages) and the
 * scheduler driver's callbacks (offers, status updates) take it in turn. */
#ifndef SPK_DRIVER_H
#define SPK_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <actor/actor.h>
#include <plexus/scheduler.h>

#include "spark/spark.h"
#include "spk_proto.h"

struct spk_split {
	char *path;
	uint64_t off, len;
};

typedef struct spk_shuffle spk_shuffle;

struct spk_rdd {
	spk_context *sc;
	int id;
	enum spk_node_kind kind;
	const char *op; /* what made it, for stage names: "map", "reduce_by_key" ... */
	int nparts;
	bool persist;
	int64_t start, end, step; /* range */
	char **items;             /* parallelize: rows encoded with spk_put_row */
	size_t *item_lens;
	size_t nitems;
	struct spk_split *splits; /* text_file: one per partition */
	char *fn, *arg;
	spk_rdd *parents[2]; /* narrow: 1; union: 2; coalesce: 1 */
	int nparents;
	int *groups;      /* coalesce: partition p = parent's [groups[p], groups[p+1]) */
	enum spk_agg agg; /* SHUFFLED */
	spk_shuffle *shuffles[2];
	int nshuffles;
	int *cached_at; /* persist: executor index per partition, -1 none */
	spk_rdd *next;  /* the context's list */
};

struct spk_map_status {
	int exec; /* -1: missing */
	uint64_t *sizes;
};

struct spk_shuffle {
	int id, stage;
	spk_rdd *parent;
	int nmaps; /* parent->nparts */
	int nreduce;
	char **bounds; /* range partitioning: nreduce - 1 bounds */
	size_t *bound_lens;
	size_t nbounds;
	char *combine, *combine_arg;
	char *partitioner, *partitioner_arg;
	struct spk_map_status *maps; /* parent->nparts */
	bool *active;                /* a task of that map partition is pending or running */
	int *attempts;
	int *failures;
	spk_shuffle *next;
};

struct spk_exec_ref {
	char id[128]; /* the Mesos task that is the executor */
	char agent[128];
	actor_pid pid;
	bool registered, alive;
	int cores, busy;
	int64_t idle_since_ms;
	uint64_t tasks_done;
};

typedef struct spk_job spk_job;

struct spk_task {
	uint64_t id;
	spk_shuffle *shuffle; /* a map task; NULL: a result task of job */
	spk_job *job;
	int index; /* result tasks: index into job->parts */
	int partition, attempt;
	int exec, avoid;
	int64_t submitted_ms, launched_ms;
};

struct spk_job {
	int id, stage;
	spk_rdd *rdd;
	spk_out_spec out; /* kind, take, fn, arg, dir */
	int *parts;
	int nparts;
	bool *done, *active;
	int *failures;
	spk_buf *results;
	int ndone, nactive;
	bool finished, failed;
	char error[1024];
	int64_t started_ms, ended_ms;
};

struct spk_context {
	pthread_mutex_t mu;
	pthread_cond_t changed; /* a job ended, an executor registered */
	spk_conf conf;
	char master[256], app[128], role[64];
	px_scheduler_driver *driver;
	actor_pid self;
	char self_text[ACTOR_PID_TEXT_MAX];
	bool runtime_owned, suppressed, registered_fw, stopping;
	char framework_id[128];
	int http_port;

	spk_rdd *rdds;
	int next_rdd;
	spk_shuffle *shuffles;
	int next_shuffle, next_stage;

	struct spk_exec_ref *execs;
	int nexecs;
	int exec_launch_failures;
	char exec_failure[512];

	/* pending[pending_head, npending) in FIFO order, NULL where a task has left out of
	 * order; pending_live of them are tasks. */
	struct spk_task **pending, **running;
	size_t npending, nrunning, cap_pending, cap_running, pending_head, pending_live;
	uint64_t next_task;
	uint64_t tasks_launched, tasks_finished;
	uint64_t offers_received, offers_declined, suppress_calls, revive_calls;

	spk_job *job; /* the job running now (actions block, so one at a time) */
	spk_job **history;
	int njobs;
	char error[1024];
	uint64_t idle_timer;
};

/* ---- spk_lineage.c ---- */
/* Appends the task description of t (its lineage for its partition and its output). */
int spk_task_encode(spk_context *sc, const struct spk_task *t, spk_buf *out);
/* A dataset sorted by key over nparts range partitions cut at bounds (nparts - 1 of
 * them, or none when nparts is 1 or r is empty). bounds are copied. */
spk_rdd *spk_lineage_sorted(spk_rdd *r, int nparts, const spk_bytes *bounds, size_t nbounds);
/* A shuffled dataset with every option: the reduce-side aggregation, its function, and
 * a registered partitioner (NULL: hash). NULL on a bad function. */
spk_rdd *spk_lineage_shuffle(spk_rdd *p, const char *op, enum spk_agg agg, const char *fn,
                             const char *arg, int nparts, const char *partitioner,
                             const char *parg);
/* A dataset of rows (keyed or not), copied, in nslices partitions. */
spk_rdd *spk_parallelize_rows(spk_context *sc, const spk_row *rows, size_t n, int nslices);
/* Frees every dataset and shuffle of the context. */
void spk_lineage_free(spk_context *sc);
/* The executor that holds partition p of a persisted dataset in t's lineage, or -1. */
int spk_task_preferred_exec(spk_context *sc, const struct spk_task *t);

/* ---- spk_dag.c ---- */
/* Creates the tasks that can run now for the current job: missing map outputs whose
 * parents are all available, then the job's own partitions; ends the job when all are
 * done. Under mu. */
void spk_dag_advance(spk_context *sc);
/* Fails the current job with a message. Under mu. */
void spk_dag_fail(spk_context *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- spk_tasks.c ---- */
/* Queues a task (it takes the slot `active`). Under mu. */
void spk_tasks_submit(spk_context *sc, spk_shuffle *sh, spk_job *job, int index, int partition,
                      int avoid);
/* Places pending tasks on executors with free cores. Under mu. */
void spk_tasks_schedule(spk_context *sc);
/* A task's status from an executor. Under mu. */
void spk_tasks_status(spk_context *sc, const spk_task_status *st);
/* An executor is gone: its running tasks and map outputs and cached partitions too. */
void spk_tasks_exec_lost(spk_context *sc, int exec, const char *why);
/* Drops every pending and running task (the job ended). Under mu. */
void spk_tasks_clear(spk_context *sc);
/* Whether more executors would help now. Under mu. */
bool spk_tasks_want_executors(spk_context *sc);
/* Offers: launches executors where they help, declines the rest. */
void spk_tasks_offers(spk_context *sc, Plexus__Offer *const *offers, size_t n);
/* Mesos status of an executor's task. */
void spk_tasks_exec_update(spk_context *sc, const Plexus__TaskStatus *st);

/* Stops offers (once) / asks for them again, clearing decline filters. Under mu. */
void spk_tasks_suppress(spk_context *sc);
void spk_tasks_revive(spk_context *sc);

int64_t spk_now_ms(void);

#endif
