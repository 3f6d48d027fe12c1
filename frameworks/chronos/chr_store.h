/* chr_store.h — the scheduler's state in one JSON file: the framework id, every job
 * with its schedule as it stands and its history (parents' success state included),
 * and every run not yet ended. Written whole after each change, to a temporary file
 * that is synced and renamed over the old one, so a crash leaves either the old state
 * or the new, never a mix. */
#ifndef CHR_STORE_H
#define CHR_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "chr_sched.h"

/* Writes s's state to s->state_file. false with err on any I/O failure. */
bool chr_store_save(const struct chr_sched *s, char *err, size_t errlen);

/* Reads s->state_file into s (jobs, runs, framework id, counters). A missing file is
 * an empty state (true). false with err on a file that cannot be read or parsed; then
 * s holds nothing of it. Runs read back are all CHR_RUN_RECONCILING except those
 * waiting for a retry: what became of them is asked from the master. */
bool chr_store_load(struct chr_sched *s, char *err, size_t errlen);

#endif
