/* chr_sched.h — the scheduler's state and what its parts share: the runs and their
 * timer (chr_sched.c), the framework on the driver (chr_framework.c), the REST
 * handlers (chr_rest.c), the state file (chr_store.c) and the service (chr_service.c).
 * Everything here runs inside the scheduler's actor. */
#ifndef CHR_SCHED_H
#define CHR_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <actor/actor.h>
#include <plexus/scheduler.h>

#include "chr_job.h"
#include "chr_service.h"

typedef enum chr_run_state {
	CHR_RUN_QUEUED,      /* waiting for an offer */
	CHR_RUN_LAUNCHED,    /* handed to the master */
	CHR_RUN_RETRY_WAIT,  /* failed; the next attempt waits until retry_at_ms */
	CHR_RUN_RECONCILING, /* from the state file: asking the master what became of it */
} chr_run_state;

/* One run of a job: one task at a time (a retry is a new task of the same run). */
typedef struct chr_run {
	char *job;
	char *task_id;
	char *agent_id; /* NULL until launched */
	int attempt;    /* 1 for the first try */
	int64_t scheduled_ms;
	int64_t retry_at_ms;
	chr_run_state state;
	bool killed; /* by DELETE /v1/scheduler/task/kill: no retry */
	struct chr_run *next;
} chr_run;

struct chr_sched {
	/* Configuration, copied. */
	char *master, *state_file, *framework_name, *user, *role;
	int64_t wall_offset_ms, failure_retry_ms, failover_timeout_ms;
	chr_job_defaults defaults;
	char *default_epsilon;

	chr_job *jobs; /* in the order they were added */
	chr_run *runs;
	char *framework_id; /* NULL until first registered */
	uint64_t seq;       /* success events so far (see chr_job.success_seq) */
	uint64_t run_seq;   /* task ids made so far: keeps them unique */

	px_scheduler_driver *driver;
	actor_pid pid;
	uint64_t timer;
	int64_t timer_due; /* wall ms the timer is set for */
	uint64_t reconcile_timer;
	bool tick_queued; /* a tick for what is already due waits in the mailbox */
	bool registered, suppressed;
	bool crashed; /* chr_service_crash: write nothing more */
};

/* Wall-clock now, on the runtime's clock. */
int64_t chr_sched_now(const struct chr_sched *s);

/* Writes the state file (see chr_store.h); false with err (and a log line) on failure. */
bool chr_sched_persist(struct chr_sched *s, char *err, size_t errlen);

/* Adds or replaces a job (already validated on its own); checks it against the graph.
 * Takes j on success; false with err (the caller still owns j) otherwise. */
bool chr_sched_put_job(struct chr_sched *s, chr_job *j, char *err, size_t errlen);

/* Deletes a job and ends its runs. false with err when it does not exist (*missing set)
 * or is a parent of another job. */
bool chr_sched_delete_job(struct chr_sched *s, const char *name, bool *missing, char *err,
                          size_t errlen);

/* Starts a run of the job now, outside its schedule. false when it does not exist. */
bool chr_sched_run_now(struct chr_sched *s, const char *name);

/* Kills every run of the job (no retries). false when it does not exist. */
bool chr_sched_kill_runs(struct chr_sched *s, const char *name);

/* Writes the state file, logging a failure: for changes that come from the cluster,
 * which cannot be refused. */
void chr_sched_save(struct chr_sched *s);

/* Sets the timer for the earliest of: a job's next run, a run's next retry (or queues
 * a tick at once for what is already due). */
void chr_sched_rearm(actor_t *self, struct chr_sched *s);

/* The run whose current task is task_id, or NULL. */
chr_run *chr_sched_run_by_task(struct chr_sched *s, const char *task_id);

/* Takes r out of s's runs (the caller frees it). */
void chr_sched_run_unlink(struct chr_sched *s, chr_run *r);

/* Gives r a fresh task id for its current attempt and forgets its agent. */
void chr_run_new_task_id(struct chr_sched *s, chr_run *r);

/* Revives offers if they were suppressed and the framework is registered. */
void chr_sched_want_offers(struct chr_sched *s);

/* Starts the dependent jobs of parent that are now due: every parent has succeeded
 * since the child's last run. The caller persists. */
void chr_sched_trigger_children(struct chr_sched *s, const chr_job *parent);

/* Records a run that ended without success (its retries used up, or killed). */
void chr_sched_record_error(struct chr_sched *s, chr_job *j, const char *why);

/* How long the retry after failed attempt `attempt` (1 for the first) waits. */
int64_t chr_sched_retry_delay(const struct chr_sched *s, int attempt);

/* The driver callbacks of the framework (chr_framework.c); arg is the chr_sched. */
void chr_framework_callbacks(px_scheduler_callbacks *cb);

/* Installs the REST routes (chr_rest.c) in the scheduler's actor. */
int chr_rest_install(actor_t *self, struct chr_sched *s);

void chr_run_free(chr_run *r);

#endif
