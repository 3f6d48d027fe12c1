/* chr_test.h — what the chronos tests share: a real `plexus local` cluster in its own
 * process (real time), the Chronos scheduler embedded in the test process (whose
 * runtime clock is paused, so schedules fire when the test advances it), HTTP through
 * nng's client, and waits with real-time deadlines.
 *
 * chr_test_fini() stops the scheduler and the runtime, SIGTERMs the cluster (SIGKILL
 * if it lingers), reaps it and removes the scratch directory; every test's fini calls
 * it, also after a failed assertion. */
#ifndef CHR_TEST_H
#define CHR_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "chr_service.h"

/* 2026-01-01T00:00:00Z in ms since the epoch. */
#define CHR_T2026 1767225600000LL
#define CHR_HOUR  (3600 * 1000LL)

/* A scratch directory, the child subreaper, and `plexus local` with nagents agents of
 * cpus:2;mem:2048;disk:4096, waited for until every agent is active. */
void chr_test_init(int nagents);
void chr_test_fini(void);
const char *chr_test_dir(void);
/* The master's "127.0.0.1:PORT". */
const char *chr_test_master(void);

/* Starts the runtime (listening, HTTP on an ephemeral port) with its clock paused and
 * the wall clock reading wall_ms now. */
void chr_test_runtime(int64_t wall_ms);
/* Starts the scheduler on the runtime (state in <scratch>/state.json, first retry
 * after retry_ms) and waits until it has registered. */
chr_service *chr_test_scheduler(int64_t retry_ms);
/* The wall time the scheduler reads now. */
int64_t chr_test_now(void);

/* An HTTP request to this process's REST API (path from /v1/...): the status, or 0
 * when unreachable; the body in *out (malloc'ed) if out is not NULL. */
int chr_http(const char *method, const char *path, const char *body, char **out);
/* The same against another port (the `plexus chronos` program). */
int chr_http_port(int port, const char *method, const char *path, const char *body, char **out);

/* The job called name from GET /v1/scheduler/jobs (a new reference), or NULL. */
json_t *chr_job_get(int port, const char *name);
/* An integer field of that job; -1 when there is no such job. */
int64_t chr_job_int(int port, const char *name, const char *field);
/* Waits (real time) until the job's integer field is at least want. */
bool chr_wait_count(int port, const char *name, const char *field, int64_t want, int timeout_ms);

/* The lines of a file written by tasks (each line one run), sorted or in the order
 * written; *n of them (0 and NULL when there is no file). */
char **chr_lines(const char *path, bool sorted, size_t *n);
void chr_lines_free(char **lines, size_t n);

/* The state the master holds for the task of job `job` (its live tasks and completed
 * ones, the latest first), as "TASK_FINISHED"; "" when it has none. In buf. */
const char *chr_master_task_state(const char *job, char *buf, size_t size);

/* A port nothing listens on now. */
int chr_free_port(void);
/* Starts the plexus program with args (NULL-terminated, argv[0] added) logging to
 * <scratch>/<name>.log; killed by chr_test_fini. */
int chr_spawn(const char *name, const char *const *args);
/* Stops (or, crash true, crashes: see chr_service_crash) the scheduler started by
 * chr_test_scheduler. */
void chr_test_scheduler_end(bool crash);

#endif
