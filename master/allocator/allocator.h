/* allocator.h — the allocator core: hierarchical Dominant Resource Fairness over roles
 * and frameworks, with role weights, quota (guarantees and limits), static and dynamic
 * reservations, offer filters and suppress/revive, as Apache Mesos's hierarchical
 * allocator does it.
 *
 * Prefix: every public name starts with alloc_ (ALLOC_ for constants).
 *
 * The core is pure and single-threaded: no network, no threads, no clock of its own.
 * Every call that depends on time takes `now_ms` from the caller (the runtime's clock
 * in production, anything in tests), so a run is a deterministic function of its
 * calls. allocator_actor.h wraps it in a libactor actor for the master.
 *
 * Model. Agents have a total (a px_resources, possibly with static and dynamic
 * reservations). Frameworks subscribe to one or more roles; a (framework, role) pair
 * is a "client". alloc_run() makes offers: each offer is a (framework, role, agent,
 * resources) tuple, and the resources stay allocated to that client until the caller
 * gives them back (alloc_recover_offered / alloc_recover_used) or they are consumed by
 * tasks (alloc_offer_use). For every agent and client the core keeps two sets,
 * "offered" and "used"; the agent's free resources are its total minus all of them.
 *
 * Ownership: `const px_resources *` arguments are borrowed (copied when kept); string
 * arguments are copied. Pointers returned by query functions are borrowed until the
 * next call that modifies the core.
 *
 * Errors: every fallible call returns 0 (ALLOC_OK) or an alloc_err; invalid calls
 * (unknown ids, resources that are not there, bad role names) change nothing and log
 * one warning line naming the call and the reason. */
#ifndef PLEXUS_ALLOCATOR_H
#define PLEXUS_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/resources.h"

enum alloc_err {
	ALLOC_OK = 0,
	ALLOC_ENOMEM = 1,    /* out of memory */
	ALLOC_EINVAL = 2,    /* bad argument: role name, weight, resources, operation */
	ALLOC_ENOENT = 3,    /* unknown agent or framework, or no allocation to recover */
	ALLOC_EEXIST = 4,    /* agent or framework already added */
	ALLOC_ENOTAVAIL = 5, /* resources are not there (not free, not offered, not used) */
	ALLOC_EQUOTA = 6,    /* the change would exceed a role's quota limit */
};

/* The name of an error code as a static string; never NULL. */
const char *alloc_strerror(int err);

typedef struct alloc_core alloc_core;

typedef struct alloc_config {
	/* An offer must hold at least this much cpus or this much mem (Mesos's
	 * min_allocatable_resources "cpus:0.01|mem:32"); thousandths. */
	int64_t min_cpus_milli; /* 10 */
	int64_t min_mem_milli;  /* 32 MiB = 32000 */
} alloc_config;

/* Fills cfg with the defaults above. */
void alloc_config_default(alloc_config *cfg);

/* A new empty core. cfg may be NULL for defaults. NULL when out of memory. */
alloc_core *alloc_core_new(const alloc_config *cfg);
/* Frees the core and everything it tracks. NULL is a no-op. */
void alloc_core_free(alloc_core *a);

/* ---- Roles ------------------------------------------------------------------------ */

/* Role names are '/'-separated paths ("eng/web"); components are non-empty, not "."
 * or "..", do not start with '-', and hold no blank, control character or '\'.
 * Frameworks may also use "*", the default role (which nothing can be reserved for). */
bool alloc_role_valid(const char *role, bool allow_star);

/* Sets the weight of role (> 0; default 1). A role's share is divided by its weight
 * when roles are compared, at every level of the tree. */
int alloc_role_set_weight(alloc_core *a, const char *role, double weight);

/* Sets the quota of role: guarantee and limit are scalar quantities (only the scalar
 * entries are read; reservations are ignored). NULL or empty means none. Each named
 * guarantee must not exceed the limit of the same name (ALLOC_EINVAL).
 * Guarantees are met before any fair-share allocation, and resources still needed to
 * meet them (headroom) are not offered to other roles; limits are never exceeded by
 * what the allocator offers. A role's consumption is what is allocated to its subtree
 * unreserved plus everything reserved for its subtree (as Mesos counts it). */
int alloc_role_set_quota(alloc_core *a, const char *role, const px_resources *guarantee,
                         const px_resources *limit);

/* ---- Agents ----------------------------------------------------------------------- */

/* Adds an agent with its total resources (copied). Active and out of maintenance. */
int alloc_agent_add(alloc_core *a, const char *agent_id, const px_resources *total);
/* Removes an agent; everything allocated on it is forgotten (as lost). */
int alloc_agent_remove(alloc_core *a, const char *agent_id);
/* Replaces an agent's total. ALLOC_ENOTAVAIL when the new total does not hold what is
 * allocated on the agent. */
int alloc_agent_update_total(alloc_core *a, const char *agent_id, const px_resources *total);
/* An inactive agent, or one under maintenance, is never offered (from the next pass;
 * the master rescinds outstanding offers). */
int alloc_agent_set_active(alloc_core *a, const char *agent_id, bool active);
int alloc_agent_set_maintenance(alloc_core *a, const char *agent_id, bool maintenance);

/* Operator RESERVE / UNRESERVE (and CREATE / DESTROY) on an agent's free resources:
 * op is applied as px_resources_apply() does to the agent's total. The resources it
 * replaces must be free (ALLOC_ENOTAVAIL). A RESERVE that would take a role past its
 * quota limit is refused (ALLOC_EQUOTA). err (may be NULL) gets a reason. */
int alloc_agent_apply(alloc_core *a, const char *agent_id, const Plexus__Offer__Operation *op,
                      char *err, size_t errlen);
/* Shorthands building the operation: reserved holds dynamically reserved resources. */
int alloc_agent_reserve(alloc_core *a, const char *agent_id, const px_resources *reserved);
int alloc_agent_unreserve(alloc_core *a, const char *agent_id, const px_resources *reserved);

/* ---- Frameworks ------------------------------------------------------------------- */

/* Adds a framework subscribed to n roles (copied; duplicates ignored), active. */
int alloc_framework_add(alloc_core *a, const char *framework_id, const char *const *roles,
                        size_t n);
/* Removes a framework; everything allocated to it returns to the pool. */
int alloc_framework_remove(alloc_core *a, const char *framework_id);
/* An inactive framework gets no offers; its allocations stay. */
int alloc_framework_set_active(alloc_core *a, const char *framework_id, bool active);
/* Replaces the framework's roles. A role it leaves gets no more offers; what is
 * allocated in it stays tracked (and recoverable) until recovered. */
int alloc_framework_update_roles(alloc_core *a, const char *framework_id, const char *const *roles,
                                 size_t n);
/* Suppress stops offers to the framework in role (every role when role is NULL) until
 * revive. Revive clears the framework's filters in role (every role when NULL) and
 * ends suppression there. */
int alloc_suppress(alloc_core *a, const char *framework_id, const char *role);
int alloc_revive(alloc_core *a, const char *framework_id, const char *role);

/* ---- Offers and their outcome ----------------------------------------------------- */

typedef struct alloc_offer {
	const char *framework_id;
	const char *role; /* the offer's allocation role */
	const char *agent_id;
	const px_resources *resources; /* owned by the batch, read-only (it may be shared
	                                  with the allocator's books); without
	                                  allocation_info marks:
	                                  px_resources_allocate(resources, role) adds them */
} alloc_offer;

typedef struct alloc_offers alloc_offers;

/* Number of offers in the batch, and offer i (borrowed from the batch). */
size_t alloc_offers_count(const alloc_offers *b);
const alloc_offer *alloc_offers_at(const alloc_offers *b, size_t i);
/* Frees a batch and its resources. NULL is a no-op. A batch may be read and freed
 * on another thread than the core's (it shares sets with the core through atomic
 * reference counts). */
void alloc_offers_free(alloc_offers *b);

/* One allocation pass over every agent at time now_ms: quota guarantees first, then
 * hierarchical DRF; each client is offered, on each agent, everything it may get
 * there. On success *out is a new batch (possibly empty) the caller frees. */
int alloc_run(alloc_core *a, int64_t now_ms, alloc_offers **out);

/* Offered resources come back (declined with refuse_ms > 0, declined, rescinded).
 * With refuse_ms > 0 the client is not offered those resources (or less) on that agent
 * again before now_ms + refuse_ms, unless revived. ALLOC_ENOTAVAIL unless resources
 * are all offered to that client on that agent. */
int alloc_recover_offered(alloc_core *a, const char *framework_id, const char *role,
                          const char *agent_id, const px_resources *resources, int64_t refuse_ms,
                          int64_t now_ms);
/* Offered resources are now used by tasks (accepted). */
int alloc_offer_use(alloc_core *a, const char *framework_id, const char *role, const char *agent_id,
                    const px_resources *resources);
/* Used resources come back (task finished, killed, lost). */
int alloc_recover_used(alloc_core *a, const char *framework_id, const char *role,
                       const char *agent_id, const px_resources *resources);
/* Resources already used by the framework's tasks in role on the agent when the
 * master learns of them (an agent re-registering, a master failing over): taken from
 * the agent's free resources into "used". The framework needs not be subscribed to
 * role any more. ALLOC_ENOTAVAIL unless they are free. */
int alloc_used_add(alloc_core *a, const char *framework_id, const char *role, const char *agent_id,
                   const px_resources *resources);
/* An accepted RESERVE / UNRESERVE / CREATE / DESTROY on resources offered to the
 * client: applied to the offered set and the agent's total. Reservations made or
 * removed must be for the offer's role exactly (ALLOC_EINVAL otherwise). */
int alloc_offer_apply(alloc_core *a, const char *framework_id, const char *role,
                      const char *agent_id, const Plexus__Offer__Operation *op, char *err,
                      size_t errlen);

/* Whether every reservation op makes or removes (RESERVE, UNRESERVE; other types: true)
 * is for exactly role, as alloc_offer_apply requires. When not, err (may be NULL) gets
 * the reason. op is borrowed. The master checks this before it queues an operation
 * (its answer must not wait for the allocator's). */
bool alloc_op_roles_match(const Plexus__Offer__Operation *op, const char *role, char *err,
                          size_t errlen);

/* ---- Reading ---------------------------------------------------------------------- */

/* Borrowed views (NULL when unknown). */
const px_resources *alloc_agent_total(const alloc_core *a, const char *agent_id);
const px_resources *alloc_agent_free(const alloc_core *a, const char *agent_id);
/* What is offered to / used by a client on an agent; NULL when nothing is. */
const px_resources *alloc_offered(const alloc_core *a, const char *framework_id, const char *role,
                                  const char *agent_id);
const px_resources *alloc_used(const alloc_core *a, const char *framework_id, const char *role,
                               const char *agent_id);

/* Figures of one role (its whole subtree), in thousandths of the named scalar. */
typedef struct alloc_role_stats {
	const char *role;
	double weight;
	double share;      /* weighted dominant share among its siblings */
	size_t frameworks; /* clients subscribed to exactly this role */
	size_t n;          /* names below */
	struct {
		const char *name;
		int64_t offered, used, reserved;
		int64_t guarantee; /* -1: none */
		int64_t limit;     /* -1: none */
	} res[8];
} alloc_role_stats;

/* Calls fn once per known role, parents before children. */
void alloc_roles_foreach(const alloc_core *a, void (*fn)(const alloc_role_stats *s, void *arg),
                         void *arg);
/* The stats of one role; ALLOC_ENOENT when it is unknown. */
int alloc_role_stats_get(const alloc_core *a, const char *role, alloc_role_stats *out);

/* Counters of the core. */
typedef struct alloc_counters {
	uint64_t passes;
	uint64_t offers;
	uint64_t events;     /* calls that may let a pass offer more (free, add, revive ...) */
	uint64_t candidates; /* clients considered for an agent by passes (their work) */
	size_t agents, frameworks, roles;
} alloc_counters;
void alloc_counters_get(const alloc_core *a, alloc_counters *out);

/* Why would the framework get nothing if a pass ran now? Writes one line per
 * subscribed role into buf (e.g. "fw1 role eng: offerable on 0 of 4 agents: 2
 * filtered, 1 nothing free, 1 quota limit") and logs it at debug level. Returns the
 * number of agents on which some role of it could be offered something, or a negative
 * alloc_err (ALLOC_ENOENT for an unknown framework). */
int alloc_explain(alloc_core *a, const char *framework_id, int64_t now_ms, char *buf, size_t len);

/* Why would the framework, in role (NULL: its first), get no offer holding `request`
 * (borrowed; unreserved scalars, ranges, sets) if a pass ran now? Compares the request
 * with what the role may use of each agent's total and free resources and writes one
 * line into buf (cut to len), the first reason that applies:
 *   "the framework is inactive ..."                 its scheduler is gone
 *   "no agent has cpus:4; the largest has cpus:2"   no agent that large
 *   "the quota limit of role r is cpus:2, ..."      a limit below the request
 *   "the framework is suppressed in role r ..."
 * otherwise how the agents large enough stand: all allocated to other frameworks (named),
 * held by its own offers and tasks, filtered by its declines, beyond a quota limit, kept
 * for quota guarantees, in maintenance or inactive (named), or a count of each. Returns
 * the number of agents that a pass would offer it on now (>= 0), or a negative alloc_err
 * (ALLOC_ENOENT: unknown framework or role; ALLOC_EINVAL: empty request). Logs the line at
 * debug level. */
int alloc_explain_request(alloc_core *a, const char *framework_id, const char *role,
                          const px_resources *request, int64_t now_ms, char *buf, size_t len);

#endif
