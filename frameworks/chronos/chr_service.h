/* chr_service.h — the Chronos scheduler as a service of one OS process: its REST API
 * on the process's HTTP server (/v1/scheduler/...), its framework on the scheduler
 * driver, its state in a file. `plexus chronos` runs one; tests embed one, so that the
 * process's paused runtime clock drives the schedules while the cluster runs in real
 * time in its own process.
 *
 * The libactor runtime must be running, listening and serving HTTP before start, and
 * outlive the service. One service per process at a time: it holds the prefix /v1. */
#ifndef CHR_SERVICE_H
#define CHR_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chr_job.h"

typedef struct chr_config {
	const char *master;         /* the master: "HOST:PORT" (its HTTP address) or a PID */
	const char *state_file;     /* where jobs, runs and the framework id are kept */
	const char *framework_name; /* NULL: "chronos" */
	const char *user;           /* FrameworkInfo.user; NULL: $USER or "root" */
	const char *role;           /* NULL: "*" */
	/* Wall-clock time (ms since the epoch) = wall_offset_ms + actor_clock_now().
	 * wall_offset_set false: taken from the system clock at start. A test with a paused
	 * clock sets it, so that schedules in 2026 fire when it advances the clock. */
	bool wall_offset_set;
	int64_t wall_offset_ms;
	int64_t failure_retry_ms;    /* first retry delay after a failed run; 0: 60 s */
	int64_t failover_timeout_ms; /* how long the master keeps our tasks; 0: one week */
	chr_job_defaults defaults;   /* zeros: cpus 0.1, mem 128, disk 256, retries 2, PT5M */
} chr_config;

typedef struct chr_sched chr_service;

/* Loads the state file (a missing file is an empty state), serves the REST API and
 * starts the framework (failing over to the framework id in the state file, if any).
 * cfg is copied. NULL with err when the state file cannot be read or the actor or
 * driver cannot start. */
chr_service *chr_service_start(const chr_config *cfg, char *err, size_t errlen);

/* Whether the framework is registered with the master now (thread-safe: asks the
 * scheduler's actor). */
bool chr_service_registered(chr_service *svc);

/* Stops: the driver stops with failover (the master keeps the framework and its tasks
 * for failover_timeout, so a new scheduler takes them over), the REST API goes away,
 * everything is freed. Call from a plain thread. NULL is a no-op. */
void chr_service_stop(chr_service *svc);

/* Ends the service as a killed process would end: the driver aborts without a word
 * more to the master and nothing more is written to the state file. For tests of
 * restarts. NULL is a no-op. */
void chr_service_crash(chr_service *svc);

#endif
