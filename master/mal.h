/* mal.h — the narrow interface through which the master uses its allocator.
 *
 * The master tells the allocator what exists (frameworks, agents, their resources)
 * and what happens to what it offered (declined, rescinded, used by tasks, freed by
 * tasks that ended); the allocator decides who is offered what and calls back
 * offer_create()/offers_send() (master_internal.h). Every call runs inside the master
 * actor.
 * mal_core.c implements it on the allocator core of master/allocator/ (hierarchical
 * DRF, quota, reservations, filters); another allocator is one file away.
 *
 * Resources passed in are borrowed and unallocated (no allocation_info); `role` is
 * the role the resources were offered to (the framework's role). */
#ifndef PLEXUS_MASTER_MAL_H
#define PLEXUS_MASTER_MAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/resources.h"
#include "proto/plexus.pb-c.h"

struct master;
struct mal;

struct mal *mal_new(struct master *m);
void mal_free(struct mal *a);

int mal_framework_add(struct mal *a, const char *id, const char *role, bool active);
void mal_framework_remove(struct mal *a, const char *id);
void mal_framework_activate(struct mal *a, const char *id, bool active);
/* Suppress stops offers to the framework until a revive, which also clears filters. */
void mal_framework_suppress(struct mal *a, const char *id);
void mal_framework_revive(struct mal *a, const char *id);

int mal_agent_add(struct mal *a, const char *id, const px_resources *total);
void mal_agent_remove(struct mal *a, const char *id);
void mal_agent_activate(struct mal *a, const char *id, bool active);

/* Offered resources come back (declined, rescinded, left over by an accept). With
 * refuse_seconds > 0 they are not offered to that framework on that agent again for
 * that long (a decline's filter). */
void mal_recover_offered(struct mal *a, const char *framework_id, const char *role,
                         const char *agent_id, const px_resources *res, double refuse_seconds);
/* Offered resources are now used by a task (an accepted launch). */
void mal_offer_use(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                   const px_resources *res);
/* Resources of a task that ended are free again. */
void mal_recover_used(struct mal *a, const char *framework_id, const char *role,
                      const char *agent_id, const px_resources *res);
/* Resources a re-registering agent reports in use by a task. */
void mal_used_add(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                  const px_resources *res);
/* An accepted RESERVE, UNRESERVE, CREATE or DESTROY on offered resources (op carries
 * unallocated resources). Returns 0, or non-zero with a reason in err: the master then
 * drops the operation. */
int mal_offer_apply(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                    const Plexus__Offer__Operation *op, char *err, size_t errlen);

/* Allocates now: makes the pass's offers and sends each framework its offers in one
 * ResourceOffersMessage. */
void mal_run(struct mal *a);

#endif
