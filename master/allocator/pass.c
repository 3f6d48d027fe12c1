/* pass.c — one allocation pass, and the offer batch it fills.
 *
 * Order of work, as Mesos's HierarchicalAllocator does it:
 *  1. quota stage: on every offerable agent, roles whose guarantee is not met yet are
 *     offered unreserved resources, up to what the guarantee still needs;
 *  2. fair stage: on every offerable agent, first each role with free reservations
 *     there is offered them (only its subtree may have them), then the unreserved
 *     resources go to clients in hierarchical DRF order.
 * Every offer respects quota limits (of the role and all its ancestors) and leaves the
 * headroom that unmet guarantees of other roles still need.
 *
 * Cost. Mesos sorts every role's clients once per agent (MESOS-4694). Here the
 * sorters stay ordered: finding the next candidate is walking the skip lists from the
 * front, and an offer moves only the client and its ancestors, each O(log n). An agent
 * whose unreserved resources are gone is skipped at once, so a pass is about
 * A x (depth x log n + cost of building one offer) when clients take what they get. */
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "internal.h"

/* ---- the batch -------------------------------------------------------------------- */

size_t alloc_offers_count(const alloc_offers *b)
{
	return b ? b->n : 0;
}

const alloc_offer *alloc_offers_at(const alloc_offers *b, size_t i)
{
	return b && i < b->n ? &b->pub[i] : NULL;
}

void alloc_offers_free(alloc_offers *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		alloc__rsref_release(b->v[i].ref);
	free(b->v);
	free(b->pub);
	free(b->arena);
	free(b);
}

static int arena_put(struct alloc_offers *b, const char *s, size_t len, size_t *off)
{
	size_t n = len + 1;
	if (b->arena_len + n > b->arena_cap) {
		size_t cap = b->arena_cap ? b->arena_cap * 2 : 4096;
		while (cap < b->arena_len + n)
			cap *= 2;
		char *v = realloc(b->arena, cap);
		if (v == NULL)
			return -1;
		b->arena = v;
		b->arena_cap = cap;
	}
	memcpy(b->arena + b->arena_len, s, n);
	*off = b->arena_len;
	b->arena_len += n;
	return 0;
}

/* Adds the offer w (one reference taken over) for c on the current agent, merged
 * with an earlier offer to c on that agent in this stage. */
static int batch_add(struct pass *p, struct client *c, struct rsref *w)
{
	struct alloc_offers *b = p->out;
	struct alloc_agent *g = p->agent;
	bool quota_offers = p->phase != PHASE_QUOTA && g->q_pass == p->pass_id;
	size_t from = quota_offers ? g->q_first : p->agent_first;
	for (size_t i = from; i < b->n; i++) {
		if (quota_offers && i == g->q_end && i < p->agent_first)
			i = p->agent_first; /* skip other agents' offers in between */
		if (i >= b->n)
			break;
		struct offer_entry *e = &b->v[i];
		if (e->c != c)
			continue;
		/* The earlier offer's set may still be the record's: merge into a copy. */
		if (atomic_load_explicit(&e->ref->refs, memory_order_acquire) > 1) {
			struct rsref *own = malloc(sizeof(*own));
			px_resources *copy = own ? px_resources_copy(e->ref->rs) : NULL;
			if (copy == NULL) {
				free(own);
				alloc__rsref_release(w);
				return -1;
			}
			atomic_init(&own->refs, 1);
			own->rs = copy;
			alloc__rsref_release(e->ref);
			e->ref = own;
		}
		int rc = px_resources_add(e->ref->rs, w->rs);
		alloc__rsref_release(w);
		return rc == PX_OK ? 0 : -1;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct offer_entry *v = realloc(b->v, cap * sizeof(*v));
		if (v == NULL) {
			alloc__rsref_release(w);
			return -1;
		}
		b->v = v;
		b->cap = cap;
	}
	struct offer_entry *e = &b->v[b->n];
	if (arena_put(b, c->fw->id, c->fw->id_len, &e->fw_off) != 0 ||
	    arena_put(b, c->role->name, c->role->name_len, &e->role_off) != 0 ||
	    arena_put(b, p->agent->id, p->agent->id_len, &e->agent_off) != 0) {
		alloc__rsref_release(w);
		return -1;
	}
	e->c = c;
	e->ref = w;
	b->n++;
	return 0;
}

static int batch_finish(struct alloc_offers *b)
{
	b->pub = calloc(b->n ? b->n : 1, sizeof(*b->pub));
	if (b->pub == NULL)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		struct offer_entry *e = &b->v[i];
		b->pub[i] = (alloc_offer){
		    .framework_id = b->arena + e->fw_off,
		    .role = b->arena + e->role_off,
		    .agent_id = b->arena + e->agent_off,
		    .resources = e->ref->rs,
		};
		e->c = NULL; /* clients may go away once the batch is handed out */
	}
	return 0;
}

/* ---- headroom --------------------------------------------------------------------- */

/* What role g (a top guaranteed role) still misses of its guarantee. */
static void unsatisfied(const struct role *g, avec *out)
{
	avec used;
	alloc__consumed(g, &used);
	for (size_t k = 0; k < ALLOC_NAMES; k++) {
		int64_t want = g->guarantee.v[k];
		out->v[k] = want == ALLOC_UNSET || used.v[k] >= want ? 0 : want - used.v[k];
	}
}

static void compute_required(alloc_core *a, struct pass *p)
{
	memset(&p->required, 0, sizeof(p->required));
	p->any_required = false;
	for (size_t i = 0; i < a->nroles; i++) {
		struct role *r = a->role_list[i];
		if (!r->has_guarantee || alloc__guarantee_top(r) != r)
			continue;
		avec u;
		unsatisfied(r, &u);
		for (size_t k = 0; k < ALLOC_NAMES; k++) {
			p->required.v[k] += u.v[k];
			p->any_required |= u.v[k] > 0;
		}
	}
}

void alloc__pass_prepare(alloc_core *a, struct pass *p, int64_t now_ms)
{
	memset(p, 0, sizeof(*p));
	p->now_ms = now_ms;
	if (a->resort)
		alloc__resort(a);
	compute_required(a, p);
	/* What is free cluster-wide matters only for headroom: skip the walk over every
	 * agent when no guarantee is unmet. */
	if (p->any_required)
		for (size_t i = 0; i < a->nagents; i++)
			if (alloc__agent_offerable(a->agent_v[i]))
				alloc__vec_add(&p->cluster_free, &a->agent_v[i]->free_unres, 1);
}

/* ---- what one client may get on one agent ----------------------------------------- */

static bool role_within(const char *role, const char *ancestor)
{
	size_t n = strlen(ancestor);
	return strncmp(role, ancestor, n) == 0 && (role[n] == '\0' || role[n] == '/');
}

static bool reserved_within(const struct px_resource *e, void *arg)
{
	return px_resource_is_reserved(e) && role_within(arg, px_resource_role(e));
}

struct drop_arg {
	alloc_core *a;
	const bool *drop;
};

static bool keep_entry(const struct px_resource *e, void *arg)
{
	struct drop_arg *d = arg;
	if (px_resource_is_reserved(e) || px_resource_type(e) != PX_SCALAR)
		return true;
	int k = alloc__name_find(d->a, px_resource_name(e));
	return k < 0 || !d->drop[k];
}

static bool min_allocatable(const alloc_core *a, const avec *v)
{
	int cpus = alloc__name_find(a, "cpus"), mem = alloc__name_find(a, "mem");
	return (cpus >= 0 && v->v[cpus] >= a->cfg.min_cpus_milli) ||
	       (mem >= 0 && v->v[mem] >= a->cfg.min_mem_milli);
}

/* Caps the unreserved scalars of offer at cap (per name). On return offer may have
 * been replaced. */
static int shrink(alloc_core *a, struct alloc_agent *g, px_resources **offer, const avec *cap,
                  bool *shrunk)
{
	px_resources *excess = NULL;
	*shrunk = false;
	for (size_t k = 0; k < a->nnames; k++) {
		int64_t room = cap->v[k] < 0 ? 0 : cap->v[k];
		if (g->free_unres.v[k] <= room)
			continue;
		if (excess == NULL && (excess = px_resources_new()) == NULL)
			return ALLOC_ENOMEM;
		if (px_resources_add_scalar(excess, a->names[k], NULL, g->free_unres.v[k] - room) !=
		    PX_OK) {
			px_resources_free(excess);
			return ALLOC_ENOMEM;
		}
	}
	if (excess == NULL)
		return ALLOC_OK;
	*shrunk = true;
	px_resources_subtract(*offer, excess);
	px_resources_free(excess);
	/* Subtracting a plain scalar leaves unreserved entries of other identities
	 * (revocable, disks with a source) alone; if those still pass the cap, drop
	 * every unreserved entry of that name rather than offer past it. */
	avec unres;
	bool drop[ALLOC_NAMES] = {false}, any = false;
	alloc__vec_of(a, *offer, NULL, &unres);
	for (size_t k = 0; k < a->nnames; k++) {
		drop[k] = unres.v[k] > (cap->v[k] < 0 ? 0 : cap->v[k]);
		any |= drop[k];
	}
	if (!any)
		return ALLOC_OK;
	px_resources *kept = NULL;
	struct drop_arg d = {a, drop};
	if (px_resources_filter(*offer, keep_entry, &d, &kept) != PX_OK)
		return ALLOC_ENOMEM;
	px_resources_free(*offer);
	*offer = kept;
	return ALLOC_OK;
}

/* Per-name caps on the unreserved scalars c may get now (limits of c's role and its
 * ancestors, headroom owed to other roles' guarantees, and in the quota stage what
 * the guarantee still needs). Returns whether any cap binds on g's free resources,
 * with *capped saying which kind binds first. */
static bool caps_for(alloc_core *a, struct pass *p, struct client *c, struct alloc_agent *g,
                     avec *cap, enum why *capped)
{
	struct role *r = c->role;
	bool binds = false;
	avec used;

	*capped = WHY_NOTHING_FREE;
	for (size_t k = 0; k < ALLOC_NAMES; k++)
		cap->v[k] = INT64_MAX;
	for (struct role *x = r; x != &a->root; x = x->parent) {
		if (!x->has_limit)
			continue;
		alloc__consumed(x, &used);
		for (size_t k = 0; k < a->nnames; k++) {
			if (x->limit.v[k] == ALLOC_UNSET)
				continue;
			int64_t room = x->limit.v[k] - used.v[k];
			if (room < cap->v[k]) {
				cap->v[k] = room;
				if (room < g->free_unres.v[k]) {
					binds = true;
					*capped = WHY_QUOTA_LIMIT;
				}
			}
		}
	}
	/* Headroom holds resources back from roles beyond their guarantee; in the quota
	 * stage guaranteed roles share what there is among themselves by DRF (as in
	 * Mesos, where only allocations past guarantees are checked against it). */
	if (p->any_required && p->phase != PHASE_QUOTA) {
		struct role *top = alloc__guarantee_top(r);
		avec mine = {{0}};
		if (top != NULL)
			unsatisfied(top, &mine);
		for (size_t k = 0; k < a->nnames; k++) {
			int64_t room = p->cluster_free.v[k] - (p->required.v[k] - mine.v[k]);
			if (room < cap->v[k]) {
				cap->v[k] = room;
				if (room < g->free_unres.v[k]) {
					binds = true;
					if (*capped == WHY_NOTHING_FREE)
						*capped = WHY_HEADROOM;
				}
			}
		}
	}
	if (p->phase == PHASE_QUOTA) {
		avec need;
		unsatisfied(p->quota_role, &need);
		for (size_t k = 0; k < a->nnames; k++) {
			if (p->quota_role->guarantee.v[k] != ALLOC_UNSET && need.v[k] < cap->v[k]) {
				cap->v[k] = need.v[k];
				binds |= need.v[k] < g->free_unres.v[k];
			}
		}
	}
	return binds;
}

px_resources *alloc__offer_for(alloc_core *a, struct pass *p, struct client *c,
                               struct alloc_agent *g, enum why *why, bool *whole, avec *all,
                               avec *unres)
{
	struct role *r = c->role;
	px_resources *offer = NULL;
	enum why capped = WHY_NOTHING_FREE;
	bool shrunk = false;
	avec cap;
	int rc = PX_OK;

	*why = WHY_NOTHING_FREE;
	*whole = false;
	if (p->phase == PHASE_RESERVED) {
		rc = px_resources_filter(g->free, reserved_within, r->name, &offer);
	} else {
		bool binds = caps_for(a, p, c, g, &cap, &capped);
		if (g->nrr == 0 && !binds) {
			/* The common case: an agent without reservations, nothing held back.
			 * The offer is the agent's whole free set, whose scalars are all
			 * unreserved and already summed: no copy, no scan. */
			offer = g->free;
			*whole = true;
			*all = *unres = g->free_unres;
		} else {
			if (g->nrr == 0) {
				offer = px_resources_copy(g->free);
				rc = offer ? PX_OK : PX_ENOMEM;
			} else {
				rc = px_resources_allocatable_to(g->free, r->name, &offer);
			}
			if (rc == PX_OK && binds && shrink(a, g, &offer, &cap, &shrunk) != ALLOC_OK)
				rc = PX_ENOMEM;
		}
	}
	if (rc != PX_OK) {
		px_resources_free(offer);
		p->err = ALLOC_ENOMEM;
		return NULL;
	}
	if (!*whole)
		alloc__vec_of(a, offer, all, unres);
	bool ok = !px_resources_is_empty(offer) && min_allocatable(a, all);
	if (!ok)
		*why = shrunk ? capped : WHY_NOTHING_FREE;
	if (ok && p->phase == PHASE_QUOTA) {
		/* The quota stage offers only what counts toward an unmet guarantee. */
		avec need;
		bool helps = false;
		unsatisfied(p->quota_role, &need);
		for (size_t k = 0; k < a->nnames; k++)
			helps |= need.v[k] > 0 && unres->v[k] > 0;
		ok = helps;
	}
	if (ok && alloc__filtered(c, g->serial, p->now_ms, all)) {
		*why = WHY_FILTERED;
		ok = false;
	}
	if (!ok) {
		if (!*whole)
			px_resources_free(offer);
		*whole = false;
		return NULL;
	}
	*why = WHY_OFFERED;
	return offer;
}

/* ---- the pass --------------------------------------------------------------------- */

enum { VISIT_NONE, VISIT_ALLOCATED, VISIT_ERROR };

static bool try_client(alloc_core *a, struct pass *p, struct client *c)
{
	struct alloc_agent *g = p->agent;
	enum why why;
	bool whole;
	a->candidates++;
	avec all, unres;
	px_resources *offer = alloc__offer_for(a, p, c, g, &why, &whole, &all, &unres);
	if (offer == NULL)
		return false;
	struct record *rec = alloc__record(g, c, true);
	struct rsref *w = malloc(sizeof(*w));
	if (rec == NULL || w == NULL) {
		free(w);
		goto oom;
	}
	if (whole) {
		/* The agent's free set itself becomes the offer; the agent gets a new
		 * empty one. */
		px_resources *fresh = px_resources_new();
		if (fresh == NULL)
			goto oom;
		g->free = fresh;
		memset(&g->free_unres, 0, sizeof(g->free_unres));
	} else {
		px_resources_subtract(g->free, offer);
		alloc__agent_refresh_free(a, g);
	}
	/* The record and the batch share the offer's set rather than copying it: most
	 * offers come back whole (declined) or not at all before the next pass, so the
	 * copy is made only if the record must change while the batch still holds it. */
	w->rs = offer;
	if (rec->offered == NULL) {
		atomic_init(&w->refs, 2);
		rec->offered = offer;
		rec->lent = w;
	} else {
		atomic_init(&w->refs, 1);
		if (alloc__record_own_offered(rec) != ALLOC_OK ||
		    px_resources_add(rec->offered, offer) != PX_OK)
			p->err = ALLOC_ENOMEM;
	}
	alloc__vec_add(&rec->all, &all, 1);
	alloc__vec_add(&rec->unres, &unres, 1);
	alloc__vec_add(&rec->off, &all, 1);
	c->bump = true;
	alloc__account(a, c, &all, &unres, &all, NULL);
	alloc__vec_add(&p->cluster_free, &unres, -1);
	if (p->any_required)
		compute_required(a, p);
	a->offers++;
	if (batch_add(p, c, w) != 0)
		p->err = ALLOC_ENOMEM;
	return true;
oom:
	if (!whole)
		px_resources_free(offer);
	p->err = ALLOC_ENOMEM;
	return false;
}

static int visit(alloc_core *a, struct pass *p, struct role *node, uint64_t stamp)
{
	for (struct slot *s = sorter_first(&node->kids); s != NULL; s = s->next[0]) {
		if (s->kind == SLOT_SELF) {
			if (node->self_stamp == stamp)
				continue;
			for (struct slot *cs = sorter_first(&node->fws); cs; cs = cs->next[0]) {
				struct client *c = cs->owner;
				if (c->stamp == stamp)
					continue;
				c->stamp = stamp;
				if (try_client(a, p, c))
					return p->err ? VISIT_ERROR : VISIT_ALLOCATED;
				if (p->err)
					return VISIT_ERROR;
			}
			node->self_stamp = stamp;
		} else {
			struct role *k = s->owner;
			if (k->stamp == stamp)
				continue;
			int rc = visit(a, p, k, stamp);
			if (rc != VISIT_NONE)
				return rc;
			k->stamp = stamp;
		}
	}
	return VISIT_NONE;
}

static bool has_free_reserved(const struct alloc_agent *g, const char *role)
{
	size_t n = px_resources_size(g->free);
	for (size_t i = 0; i < n; i++) {
		const struct px_resource *e = px_resources_at(g->free, i);
		if (px_resource_is_reserved(e) && strcmp(px_resource_role(e), role) == 0)
			return true;
	}
	return false;
}

static bool unreserved_left(const alloc_core *a, const struct alloc_agent *g)
{
	return min_allocatable(a, &g->free_unres);
}

static bool phase_done(alloc_core *a, struct pass *p)
{
	switch (p->phase) {
	case PHASE_RESERVED:
		return !has_free_reserved(p->agent, p->res_role->name);
	case PHASE_QUOTA: {
		avec need;
		bool any = false;
		unsatisfied(p->quota_role, &need);
		for (size_t k = 0; k < ALLOC_NAMES; k++)
			any |= need.v[k] > 0;
		return !any || !unreserved_left(a, p->agent);
	}
	default:
		return !unreserved_left(a, p->agent);
	}
}

/* Offers the current agent to start's subtree in order until the phase is done or
 * no client there can take anything. After each offer the order has changed, so the
 * walk starts again from start; the stamp remembers who was already tried. */
static void run_from(alloc_core *a, struct pass *p, struct role *start)
{
	uint64_t stamp = ++a->stamp;
	while (!phase_done(a, p) && visit(a, p, start, stamp) == VISIT_ALLOCATED)
		;
}

/* Insertion sort of a few roles by weighted dominant share (stable: ties keep their
 * order, which starts as creation order). */
static void sort_by_share(const alloc_core *a, struct role **qs, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct role *x = qs[i];
		double sx = alloc__dominant(a, &x->sub_alloc) / x->weight;
		size_t j = i;
		while (j > 0 &&
		       alloc__dominant(a, &qs[j - 1]->sub_alloc) / qs[j - 1]->weight > sx) {
			qs[j] = qs[j - 1];
			j--;
		}
		qs[j] = x;
	}
}

int alloc_run(alloc_core *a, int64_t now_ms, alloc_offers **out)
{
	struct pass *p = &a->p;
	struct alloc_offers *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return ALLOC_ENOMEM;
	alloc__pass_prepare(a, p, now_ms);
	p->out = b;
	/* Room for about one offer per agent up front: growing multi-megabyte arrays
	 * by realloc in the middle of a pass costs more than the pass itself. */
	if (a->nagents > 0) {
		b->v = malloc(a->nagents * sizeof(*b->v));
		b->arena = malloc(a->nagents * 48);
		if (b->v && b->arena) {
			b->cap = a->nagents;
			b->arena_cap = a->nagents * 48;
		} else {
			free(b->v);
			free(b->arena);
			b->v = NULL;
			b->arena = NULL;
		}
	}
	a->passes++;
	p->pass_id = a->passes;

	if (p->any_required) {
		/* The roles whose guarantees are to be met, taken on each agent in order of
		 * their weighted share (Mesos's quota role sorter). */
		struct role **qs = malloc(a->nroles * sizeof(*qs));
		size_t nq = 0;
		for (size_t j = 0; qs != NULL && j < a->nroles; j++) {
			struct role *q = a->role_list[j];
			if (q->has_guarantee && q->sub_active > 0 && alloc__guarantee_top(q) == q)
				qs[nq++] = q;
		}
		if (qs == NULL)
			p->err = ALLOC_ENOMEM;
		for (size_t i = 0; i < a->nagents && nq > 0 && !p->err; i++) {
			struct alloc_agent *g = a->agent_v[i];
			if (!alloc__agent_offerable(g) || !unreserved_left(a, g))
				continue;
			p->agent = g;
			p->agent_first = b->n;
			g->q_first = b->n;
			g->q_pass = p->pass_id;
			sort_by_share(a, qs, nq);
			for (size_t j = 0; j < nq && p->any_required && !p->err; j++) {
				p->phase = PHASE_QUOTA;
				p->quota_role = qs[j];
				run_from(a, p, qs[j]);
			}
			g->q_end = b->n;
		}
		free(qs);
	}
	for (size_t i = 0; i < a->nagents && !p->err; i++) {
		struct alloc_agent *g = a->agent_v[i];
		if (!alloc__agent_offerable(g))
			continue;
		p->agent = g;
		p->agent_first = b->n;
		for (size_t j = 0; j < g->nrr && !p->err; j++) {
			struct role *rr = g->rr[j].role;
			if (rr->sub_active == 0)
				continue;
			p->phase = PHASE_RESERVED;
			p->res_role = rr;
			run_from(a, p, rr);
		}
		if (p->err || !unreserved_left(a, g) || a->root.kids.n == 0)
			continue;
		p->phase = PHASE_FAIR;
		run_from(a, p, &a->root);
	}
	int err = p->err;
	if (batch_finish(b) != 0)
		err = ALLOC_ENOMEM;
	p->out = NULL;
	p->agent = NULL;
	if (err) {
		/* What was allocated stays allocated and is in the batch: hand it out
		 * anyway, so nothing is lost; the caller sees the error. */
		actor_error("allocator: pass ran out of memory after %zu offers", b->n);
	}
	*out = b;
	return err;
}
