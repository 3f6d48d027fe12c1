/* mal_internal.h — what the allocator glue's files (mal_*.c, http_operator.c) share.
 * Nothing here is for the rest of the master: it goes through mal.h. */
#ifndef PLEXUS_MASTER_MAL_INTERNAL_H
#define PLEXUS_MASTER_MAL_INTERNAL_H

#include <stdbool.h>

#include "actor/libactor.h"
#include "master/allocator/allocator.h"

struct master;
struct agent;

/* ---- mal_metrics.c: the allocator's figures, updated from inside the allocator ---- */

/* Registers the fixed metrics (allocator/mesos/allocation_runs ...). */
void mal_metrics_init(void);
/* Records the duration of one pass mal asked for. */
void mal_metrics_pass(double ms);
/* Sets the counters and every role's figures from the core. */
void mal_metrics_refresh(const alloc_core *core);
/* Resets the quota figures of a role whose quota is being removed (before: its stats
 * with the quota still set). */
void mal_metrics_quota_removed(const alloc_role_stats *before);

/* ---- http_operator.c ---- */

/* Spawns the actors serving /weights, /quota, /machine and /maintenance (one each per
 * runtime). */
void operator_spawn(void);
/* Installs /master/reserve, /master/unreserve and /master/roles on the master. */
int operator_install(actor_t *self);
/* Tells the endpoints what the registry holds once the master runs. */
void operator_master_started(struct master *m);
/* Whether the agent's machine (hostname or IP) is marked down for maintenance. */
bool mal_machine_is_down(struct master *m, const struct agent *ag);

#endif
