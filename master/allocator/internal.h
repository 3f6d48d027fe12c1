/* internal.h — the allocator core's data structures, shared by the files of
 * master/allocator/ and by nothing else. */
#ifndef PLEXUS_ALLOCATOR_INTERNAL_H
#define PLEXUS_ALLOCATOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator.h"
#include "maps.h"
#include "sorter.h"

/* Scalar names the core tracks in compact vectors (cpus, mem, disk, gpus, ...). Names
 * beyond this many are still offered exactly, but take no part in shares and quota. */
#define ALLOC_NAMES 8
#define ALLOC_UNSET INT64_MIN

/* A compact vector of scalar totals, indexed by interned name, in thousandths. */
typedef struct avec {
	int64_t v[ALLOC_NAMES];
} avec;

struct role {
	char *name; /* "" for the root */
	size_t name_len;
	struct role *parent; /* NULL for the root */
	struct role *first_kid, *next_sibling;
	size_t depth; /* 0 for the root */
	double weight;
	bool has_guarantee, has_limit;
	avec guarantee, limit; /* ALLOC_UNSET where not set */
	/* Aggregates over the subtree (sub_) or this role's own clients (own_). */
	avec own_alloc, sub_alloc; /* offered + used, every identity */
	avec sub_unres;            /* offered + used, unreserved only (quota) */
	avec sub_offered, sub_used;
	avec sub_reserved;  /* reserved for roles of the subtree on all agents */
	struct slot slot;   /* in parent->kids while sub_active > 0 */
	struct slot self;   /* in kids while own_active > 0: this role's own clients */
	struct sorter kids; /* child roles and self, by weighted share */
	struct sorter fws;  /* active clients of this role, by share */
	size_t own_active, sub_active, nclients;
	uint64_t stamp, self_stamp; /* exhausted for the current agent and phase */
};

struct filter {
	int64_t expires_ms;
	avec declined; /* scalars declined (all identities); an offer within is refused */
};

struct alloc_framework;

struct client {
	struct alloc_framework *fw;
	struct role *role;
	struct slot slot; /* in role->fws while active */
	avec alloc;       /* offered + used across agents */
	bool subscribed, suppressed, active;
	bool bump;             /* the next accounting is an offer: count it for ties */
	size_t nrecords;       /* agents with something offered or used */
	struct u64map filters; /* agent serial -> struct filter * */
	uint64_t stamp;
};

struct alloc_framework {
	char *id;
	size_t id_len;
	bool active;
	struct client **clients;
	size_t nclients;
};

/* A resource set shared by a record and an offer batch (which another actor may
 * hold and free on another thread). Nobody changes it while refs > 1: the record
 * copies it first (copy on write); whoever drops the last reference frees it. */
struct rsref {
	atomic_uint refs;
	px_resources *rs;
};

/* What one client holds on one agent. */
struct record {
	struct client *c;
	px_resources *offered, *used; /* NULL until something is put there */
	struct rsref *lent;           /* non-NULL while offered is shared with a batch */
	avec all, unres, off, use;    /* scalar sums of the above */
};

struct resrole {
	struct role *role;
	avec v; /* scalars of the agent's total reserved for exactly this role */
};

struct alloc_agent {
	char *id;
	size_t id_len;
	uint64_t serial; /* never reused: keys filters */
	size_t idx;      /* in alloc_core.agents */
	px_resources *total, *free;
	avec total_v, free_unres;
	bool active, maintenance;
	struct record *recs;
	size_t nrecs, caprecs;
	struct resrole *rr;
	size_t nrr;
	/* This pass's quota-stage offers on this agent: [q_first, q_end) of the batch
	 * when q_pass is the current pass, so the fair stage can merge into them. */
	size_t q_first, q_end;
	uint64_t q_pass;
};

struct offer_entry {
	size_t fw_off, role_off, agent_off; /* into the batch's string arena */
	struct client *c;                   /* while building; NULL afterwards */
	struct rsref *ref;                  /* the offer's resources */
};

struct alloc_offers {
	alloc_offer *pub;
	struct offer_entry *v;
	size_t n, cap;
	char *arena;
	size_t arena_len, arena_cap;
};

/* State of the pass in progress (or of an explain query). */
struct pass {
	int64_t now_ms;
	avec cluster_free; /* unreserved free on offerable agents */
	avec required;     /* headroom still owed to unsatisfied guarantees */
	bool any_required;
	struct alloc_offers *out;
	size_t agent_first; /* first offer of the current agent in out */
	struct alloc_agent *agent;
	int phase;               /* PHASE_* */
	struct role *quota_role; /* PHASE_QUOTA: the role being satisfied */
	struct role *res_role;   /* PHASE_RESERVED: the reservation role */
	uint64_t pass_id;        /* a->passes of this pass (0 for explain) */
	int err;
};

enum { PHASE_RESERVED, PHASE_QUOTA, PHASE_FAIR };

/* Why a client gets nothing on an agent (explain). */
enum why {
	WHY_OFFERED = 0,
	WHY_NOTHING_FREE,
	WHY_FILTERED,
	WHY_QUOTA_LIMIT,
	WHY_HEADROOM,
	WHY_AGENT_DOWN,
	WHY_MAX
};

struct alloc_core {
	alloc_config cfg;
	char *names[ALLOC_NAMES];
	size_t nnames;
	avec total;  /* every agent's total, for shares */
	bool resort; /* totals or weights changed: recompute every key */
	struct role root;
	struct strmap roles;     /* name -> struct role * */
	struct role **role_list; /* in creation order (parents first) */
	size_t nroles, caproles;
	struct strmap agents; /* id -> struct alloc_agent * */
	struct alloc_agent **agent_v;
	size_t nagents, capagents;
	uint64_t next_serial;
	struct strmap frameworks; /* id -> struct alloc_framework * */
	size_t nframeworks;
	uint64_t stamp, seq;
	uint64_t passes, offers, events, candidates;
	struct pass p;
};

/* ---- vectors and names (core.c) ---- */
int alloc__name_index(alloc_core *a, const char *name);
int alloc__name_find(const alloc_core *a, const char *name);
/* Scalar sums of rs (NULL: empty): all identities into *all, unreserved into *unres
 * (either NULL). */
void alloc__vec_of(alloc_core *a, const px_resources *rs, avec *all, avec *unres);
void alloc__vec_add(avec *x, const avec *y, int sign);
double alloc__dominant(const alloc_core *a, const avec *v);

/* ---- roles (roles.c) ---- */
void alloc__roles_init(alloc_core *a);
void alloc__roles_fini(alloc_core *a);
struct role *alloc__role_get(alloc_core *a, const char *name, bool create);
/* Adds delta to a client's allocation and every aggregate above it, keeping every
 * sorter in order. */
void alloc__account(alloc_core *a, struct client *c, const avec *d_all, const avec *d_unres,
                    const avec *d_off, const avec *d_used);
void alloc__account_reserved(alloc_core *a, struct role *r, const avec *d, int sign);
/* Activates or deactivates a client in its role's sorter (and counts up the tree). */
void alloc__client_set_active(alloc_core *a, struct client *c, bool active);
/* Recomputes every key and re-sorts (after totals or weights changed). */
void alloc__resort(alloc_core *a);
/* Consumption of role r for quota: sub_unres + sub_reserved. */
void alloc__consumed(const struct role *r, avec *out);
/* The nearest role at or above r that has a guarantee and no guaranteed ancestor. */
struct role *alloc__guarantee_top(struct role *r);

/* ---- filters (filters.c) ---- */
void alloc__filter_add(struct client *c, uint64_t agent_serial, int64_t expires_ms,
                       const avec *declined);
bool alloc__filtered(struct client *c, uint64_t agent_serial, int64_t now_ms, const avec *offer);
void alloc__filters_clear(struct client *c);
void alloc__filters_fini(struct client *c);

/* ---- offers and pass (pass.c) ---- */
void alloc__pass_prepare(alloc_core *a, struct pass *p, int64_t now_ms);
/* What client c would be offered on agent g in phase p->phase, with its scalar sums
 * in *all and *unres; NULL with *why set when nothing (or on out of memory, p->err
 * set). When *whole, the offer is g->free itself (borrowed), else a new set. */
px_resources *alloc__offer_for(alloc_core *a, struct pass *p, struct client *c,
                               struct alloc_agent *g, enum why *why, bool *whole, avec *all,
                               avec *unres);
bool alloc__agent_offerable(const struct alloc_agent *g);

static inline bool alloc__rs_empty(const px_resources *rs)
{
	return rs == NULL || px_resources_is_empty(rs);
}

/* ---- records (core.c) ---- */
/* Drops one reference to w, freeing it (and its set) with the last. Any thread. */
void alloc__rsref_release(struct rsref *w);
/* Makes r->offered the record's own before a change: taken back when the batch has
 * let go of it, else copied. ALLOC_OK or ALLOC_ENOMEM. */
int alloc__record_own_offered(struct record *r);
struct record *alloc__record(struct alloc_agent *g, struct client *c, bool create);
void alloc__record_refresh(alloc_core *a, struct alloc_agent *g, struct record *r);
void alloc__agent_refresh_free(alloc_core *a, struct alloc_agent *g);

#define ALLOC_WARN(call, err, ...) alloc__warn(call, err, __VA_ARGS__)
int alloc__warn(const char *call, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
