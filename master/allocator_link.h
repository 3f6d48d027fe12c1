/* allocator_link.h — the master's one link to its allocator.
 *
 * The allocator is an actor of its own (master/allocator/allocator_actor.h), spawned by
 * mst_alloc_new() next to the master. Every mst_alloc_* call runs inside the master actor
 * and only queues the change in the allocator's mailbox (dispatch), in the order the
 * master makes them; nothing waits for the allocator. Offers come back the other way:
 * each pass's batch is handed to the mailbox of the PID given to mst_alloc_new(), where
 * the link turns it into offers with mst_offer_create()/mst_offers_send()
 * (master_internal.h), a framework's offers of one pass in one ResourceOffersMessage.
 * Because the two actors see each other's changes late, a batch may name an agent or
 * framework that the master has since removed, deactivated or put under maintenance:
 * those offers go straight back to the allocator.
 *
 * allocator_link.c implements it; calls the allocator refuses are logged by the
 * allocator and change nothing. The link keeps no books of its own: whether an agent is
 * under maintenance is the master's agent's `maintenance` flag, which the caller keeps
 * and passes on here.
 *
 * Resources passed in are borrowed and unallocated (no allocation_info); `role` is
 * the role the resources were offered to (the framework's role). */
#ifndef PLEXUS_MASTER_ALLOCATOR_LINK_H
#define PLEXUS_MASTER_ALLOCATOR_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "actor/libactor.h"
#include "common/resources.h"
#include "proto/plexus.pb-c.h"

struct master;
struct mst_alloc;

/* Spawns the allocator actor (interval: m->flags.allocation_interval_ms), whose offers
 * go to the master actor `offers_to` (deliver runs there with its state), and restores
 * the weights and quota the registry holds. NULL on failure. */
struct mst_alloc *mst_alloc_new(struct master *m, actor_pid offers_to);
/* Ends the allocator actor (asynchronously) and frees a. NULL is a no-op. */
void mst_alloc_free(struct mst_alloc *a);
/* The allocator actor's PID. */
actor_pid mst_alloc_pid(const struct mst_alloc *a);

int mst_alloc_framework_add(struct mst_alloc *a, const char *id, const char *role, bool active);
void mst_alloc_framework_remove(struct mst_alloc *a, const char *id);
void mst_alloc_framework_activate(struct mst_alloc *a, const char *id, bool active);
/* Suppress stops offers to the framework until a revive, which also clears filters. */
void mst_alloc_framework_suppress(struct mst_alloc *a, const char *id);
void mst_alloc_framework_revive(struct mst_alloc *a, const char *id);

/* Adds (or re-adds, afresh) an agent; under maintenance from the start when its machine
 * is down. */
int mst_alloc_agent_add(struct mst_alloc *a, const char *id, const px_resources *total,
                        bool maintenance);
void mst_alloc_agent_remove(struct mst_alloc *a, const char *id);
void mst_alloc_agent_activate(struct mst_alloc *a, const char *id, bool active);
/* An agent under maintenance gets no offers; the caller has set the agent's flag (which
 * also refuses batches already on their way) and rescinds outstanding offers. */
void mst_alloc_agent_maintenance(struct mst_alloc *a, const char *id, bool maintenance);

/* Offered resources come back (declined, rescinded, left over by an accept). With
 * refuse_seconds > 0 they are not offered to that framework on that agent again for
 * that long (a decline's filter). */
void mst_alloc_recover_offered(struct mst_alloc *a, const char *framework_id, const char *role,
                               const char *agent_id, const px_resources *res,
                               double refuse_seconds);
/* Offered resources are now used by a task (an accepted launch). */
void mst_alloc_offer_use(struct mst_alloc *a, const char *framework_id, const char *role,
                         const char *agent_id, const px_resources *res);
/* Resources of a task that ended are free again. */
void mst_alloc_recover_used(struct mst_alloc *a, const char *framework_id, const char *role,
                            const char *agent_id, const px_resources *res);
/* Resources a re-registering agent reports in use by a task. */
void mst_alloc_used_add(struct mst_alloc *a, const char *framework_id, const char *role,
                        const char *agent_id, const px_resources *res);
/* An accepted RESERVE, UNRESERVE, CREATE or DESTROY on offered resources (op carries
 * unallocated resources, already checked against the offers by the master). Checks
 * here what the allocator would refuse (alloc_op_roles_match: reservations made or
 * removed for another role than the offer's) and returns non-zero with a reason in err,
 * the master then drops the operation; otherwise queues it and returns 0. */
int mst_alloc_offer_apply(struct mst_alloc *a, const char *framework_id, const char *role,
                          const char *agent_id, const Plexus__Offer__Operation *op, char *err,
                          size_t errlen);

/* The outcome of an operator operation: rc is 0 or an alloc_err, err a reason (empty on
 * success). Runs inside the master actor, or with self == NULL if the master has ended
 * (then only to release arg). */
typedef void (*mst_alloc_done_fn)(actor_t *self, int rc, const char *err, void *arg);
/* An operator RESERVE/UNRESERVE/CREATE/DESTROY (op borrowed, unallocated resources) on
 * the agent's free resources; done runs once with the allocator's answer. */
void mst_alloc_agent_apply(struct mst_alloc *a, const char *agent_id,
                           const Plexus__Offer__Operation *op, mst_alloc_done_fn done, void *arg);

/* Role weight and quota (guarantee and limit: scalar quantities, NULL for none; both
 * NULL removes the quota). The caller has validated them (alloc_role_valid, > 0, each
 * guarantee within its limit). */
void mst_alloc_set_weight(struct mst_alloc *a, const char *role, double weight);
void mst_alloc_set_quota(struct mst_alloc *a, const char *role, const px_resources *guarantee,
                         const px_resources *limit);

/* Allocates now: a pass whose offers come back to the master as every pass's do. */
void mst_alloc_run(struct mst_alloc *a);
/* Refreshes the allocator's figures under /metrics/snapshot (allocator/mesos/...). */
void mst_alloc_refresh_metrics(struct mst_alloc *a);

/* Mesos's /master/roles document ({"roles": [...]}) built inside the allocator, with the
 * frameworks of each role added in the master: a future (new reference) whose value is
 * an actor_http_response *. */
actor_future *mst_alloc_roles_response(struct mst_alloc *a);

/* Why the framework gets no offer holding `request` (borrowed, unallocated scalars and
 * ranges), as alloc_explain_request() says it inside the allocator. done runs once inside
 * the master with rc 0 and the text, or rc != 0 and the reason the allocator could not
 * answer (self == NULL: the master has ended; only release arg). */
typedef void (*mst_alloc_explain_fn)(actor_t *self, int rc, const char *text, void *arg);
void mst_alloc_explain(struct mst_alloc *a, const char *framework_id, const char *role,
                       const px_resources *request, mst_alloc_explain_fn done, void *arg);

#endif
