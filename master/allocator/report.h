/* report.h — the allocator's figures as operators read them: its metrics under
 * /metrics/snapshot (allocator/mesos/..., Mesos's names; metrics.c) and the role
 * objects of Mesos's /master/roles (roles_json.c).
 *
 * Everything here reads the core, so it runs inside the allocator actor (or wherever the
 * core is used alone); metrics are atomic, so the figures may be read from any thread. */
#ifndef PLEXUS_ALLOCATOR_REPORT_H
#define PLEXUS_ALLOCATOR_REPORT_H

#include <jansson.h>

#include "allocator.h"

/* Registers the fixed metrics (allocator/mesos/allocation_runs, .../allocation_run_ms),
 * so that they read 0 before the first pass. */
void alloc_metrics_init(void);
/* Records the duration of one pass (the allocation_run_ms timer). */
void alloc_metrics_pass(double ms);
/* Sets the counters and every role's figures from the core. */
void alloc_metrics_refresh(const alloc_core *core);
/* Resets the quota figures of a role whose quota is being removed (before: its stats
 * with the quota still set, borrowed from the core). */
void alloc_metrics_quota_removed(const alloc_role_stats *before);

/* A new JSON array with one object per known role, parents first: "name", "weight",
 * "share", "resources" (offered or used), "allocated" (used), "offered", "reserved" and,
 * when the role has a quota, "quota" ({"role", "guarantee", "limit"}). Scalars are in
 * the resource's unit. The caller adds "frameworks" (the allocator knows clients, not
 * FrameworkInfos) and owns the array. NULL when out of memory. */
json_t *alloc_roles_json(const alloc_core *core);

#endif
