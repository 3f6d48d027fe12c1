/* mal.h — the master's one seam to its allocator.
 *
 * The allocator is an actor of its own (master/allocator/allocator_actor.h), spawned by
 * mal_new() next to the master. Every mal_* call runs inside the master actor and only
 * queues the change in the allocator's mailbox (dispatch), in the order the master
 * makes them; nothing waits for the allocator. Offers come back the other way: each
 * pass's batch is handed to the master's mailbox, where mal turns it into offers with
 * offer_create()/offers_send() (master_internal.h), a framework's offers of one pass in
 * one ResourceOffersMessage. Because the two actors see each other's changes late, a
 * batch may name an agent or framework that the master has since removed, deactivated
 * or put under maintenance: those offers go straight back to the allocator.
 *
 * mal_actor.c implements it; calls the allocator refuses are logged by the allocator and
 * change nothing.
 *
 * Resources passed in are borrowed and unallocated (no allocation_info); `role` is
 * the role the resources were offered to (the framework's role). */
#ifndef PLEXUS_MASTER_MAL_H
#define PLEXUS_MASTER_MAL_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/libactor.h"
#include "common/resources.h"
#include "proto/plexus.pb-c.h"

struct master;
struct mal;

/* Spawns the allocator actor (interval: m->flags.allocation_interval_ms) and restores
 * the weights and quota the registry holds. NULL on failure. */
struct mal *mal_new(struct master *m);
/* Ends the allocator actor (asynchronously) and frees a. NULL is a no-op. */
void mal_free(struct mal *a);
/* The allocator actor's PID. */
actor_pid mal_pid(const struct mal *a);

int mal_framework_add(struct mal *a, const char *id, const char *role, bool active);
void mal_framework_remove(struct mal *a, const char *id);
void mal_framework_activate(struct mal *a, const char *id, bool active);
/* Suppress stops offers to the framework until a revive, which also clears filters. */
void mal_framework_suppress(struct mal *a, const char *id);
void mal_framework_revive(struct mal *a, const char *id);

int mal_agent_add(struct mal *a, const char *id, const px_resources *total);
void mal_agent_remove(struct mal *a, const char *id);
void mal_agent_activate(struct mal *a, const char *id, bool active);
/* An agent under maintenance gets no offers; the caller rescinds outstanding ones.
 * Batches already on their way to the master are refused for it too. */
void mal_agent_maintenance(struct mal *a, const char *id, bool maintenance);
bool mal_agent_in_maintenance(const struct mal *a, const char *id);

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
 * unallocated resources, already checked against the offers by the master). Checks
 * here what the allocator would refuse (reservations made or removed for another role
 * than the offer's) and returns non-zero with a reason in err, the master then drops the
 * operation; otherwise queues it and returns 0. */
int mal_offer_apply(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                    const Plexus__Offer__Operation *op, char *err, size_t errlen);

/* The outcome of an operator operation: rc is 0 or an alloc_err, err a reason (empty on
 * success). Runs inside the master actor, or with self == NULL if the master has ended
 * (then only to release arg). */
typedef void (*mal_done_fn)(actor_t *self, int rc, const char *err, void *arg);
/* An operator RESERVE/UNRESERVE/CREATE/DESTROY (op borrowed, unallocated resources) on
 * the agent's free resources; done runs once with the allocator's answer. */
void mal_agent_apply(struct mal *a, const char *agent_id, const Plexus__Offer__Operation *op,
                     mal_done_fn done, void *arg);

/* Role weight and quota (guarantee and limit: scalar quantities, NULL for none; both
 * NULL removes the quota). The caller has validated them (alloc_role_valid, > 0, each
 * guarantee within its limit). */
void mal_set_weight(struct mal *a, const char *role, double weight);
void mal_set_quota(struct mal *a, const char *role, const px_resources *guarantee,
                   const px_resources *limit);

/* Allocates now: a pass whose offers come back to the master as every pass's do. */
void mal_run(struct mal *a);
/* Refreshes the allocator's figures under /metrics/snapshot (allocator/mesos/...). */
void mal_refresh_metrics(struct mal *a);

/* Mesos's /master/roles document ({"roles": [...]}) built inside the allocator: a
 * future (new reference) whose value is an actor_http_response *. */
actor_future *mal_roles_response(struct mal *a);

#endif
