/* mal.h — the narrow interface through which the master uses an allocator.
 *
 * The master tells the allocator what exists (frameworks, agents, their resources)
 * and what comes back (declined offers, finished tasks); the allocator decides who is
 * offered what and calls back master offer_make(). Every call runs inside the master
 * actor. mal_local.c implements it in-process; swapping in another allocator means
 * replacing that one file.
 *
 * Resources passed in are borrowed and unallocated (no allocation_info). */
#ifndef PLEXUS_MASTER_MAL_H
#define PLEXUS_MASTER_MAL_H

#include <stdbool.h>

#include "actor/actor.h"
#include "common/resources.h"

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

/* used: resources already in use by tasks on the agent (a re-registration). */
int mal_agent_add(struct mal *a, const char *id, const px_resources *total,
		    const px_resources *used);
void mal_agent_remove(struct mal *a, const char *id);
void mal_agent_activate(struct mal *a, const char *id, bool active);
/* The agent's total changed (RESERVE, UNRESERVE, CREATE, DESTROY). */
void mal_agent_update_total(struct mal *a, const char *id, const px_resources *total);

/* Resources allocated to a framework on an agent are free again. refuse_seconds > 0
 * keeps the same resources from being offered to that framework on that agent for that
 * long (a decline's filter); 0 or less means no filter. */
void mal_recover(struct mal *a, const char *framework_id, const char *agent_id,
		   const px_resources *res, double refuse_seconds);

/* An accepted operation (RESERVE, UNRESERVE, CREATE, DESTROY) turned resources
 * allocated to the framework on that agent from `before` into `after`, and the agent's
 * total is now `total`. */
void mal_transform(struct mal *a, const char *framework_id, const char *agent_id,
		     const px_resources *before, const px_resources *after,
		     const px_resources *total);

/* Allocates now: calls offer_make() for each (framework, agent) that gets resources. */
void mal_run(struct mal *a);

#endif
