/* chr_job.h — a Chronos job: its definition in Chronos's JSON, validated, and its
 * history (successCount, errorCount, lastSuccess, lastError).
 *
 * A job either has a schedule (POST /v1/scheduler/iso8601) or parents (POST
 * /v1/scheduler/dependency), never both. The JSON written back is Chronos's, with the
 * schedule as it stands now (its start is the next run, its count what is left), plus
 * a few fields of Plexus's own that Chronos clients ignore (lastErrorMessage ...). */
#ifndef CHR_JOB_H
#define CHR_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chr_iso8601.h"

typedef struct chr_job {
	char *name;
	char *command;
	char *description, *owner, *owner_name; /* "" when not given */
	char *schedule_tz;                      /* scheduleTimeZone, "" for none */
	bool scheduled;                         /* schedule (true) or parents (false) */
	chr_schedule schedule;
	char **parents;
	size_t nparents;
	chr_period epsilon;
	int64_t epsilon_ms;
	double cpus, mem, disk;
	int retries;
	bool disabled, concurrent;

	/* History. Times are ms since the epoch, 0 for never. */
	int64_t success_count, error_count, errors_since_last_success;
	int64_t last_success_ms, last_error_ms;
	char *last_error_message; /* "" for none */
	/* Dependency bookkeeping: the number of the success event of this job's last
	 * success, and the event number when this (dependent) job last started a run. A
	 * dependent job is due once every parent's success_seq is above its trigger_seq. */
	uint64_t success_seq, trigger_seq;

	struct chr_job *next;
} chr_job;

/* Defaults from the scheduler's flags for fields a job leaves out. */
typedef struct chr_job_defaults {
	double cpus, mem, disk;
	int retries;
	const char *epsilon; /* ISO 8601 duration */
} chr_job_defaults;

/* Reads a job from JSON text. `dependency` says which endpoint it came to: true wants
 * parents and no schedule, false a schedule and no parents. now_ms stands for an empty
 * schedule start. The history fields are ignored (a posted job starts afresh). NULL,
 * with err saying what is wrong, for anything invalid: not an object, a missing or
 * mistyped field, a bad name, schedule, time zone or epsilon. */
chr_job *chr_job_from_json(const char *text, size_t len, bool dependency, int64_t now_ms,
                           const chr_job_defaults *defaults, char *err, size_t errlen);

/* Reads a job as chr_job_to_json wrote it with `internal` (the state file): definition
 * and history, the schedule taken as it stands. NULL with err on anything invalid. */
chr_job *chr_job_restore(const json_t *o, const chr_job_defaults *defaults, char *err,
                         size_t errlen);

/* The job as Chronos's JSON (a new reference); internal adds the bookkeeping fields
 * that only the state file needs. NULL on out of memory. */
json_t *chr_job_to_json(const chr_job *j, bool internal);

/* Keeps old's history (counts, times, sequence numbers) in j, for an update of a job
 * that exists. */
void chr_job_keep_history(chr_job *j, const chr_job *old);

/* Whether name may be a job's name: Chronos's ([\w\s.#_-]+), at most 200 characters. */
bool chr_job_name_valid(const char *name);

/* Whether j lists parent among its parents. */
bool chr_job_has_parent(const chr_job *j, const char *parent);

/* NULL is a no-op. Frees j only, not j->next. */
void chr_job_free(chr_job *j);

#endif
