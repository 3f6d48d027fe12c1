/* roles.c — the role tree: hierarchical names, weights, quota, the aggregates each
 * role keeps over its subtree, and the sorters that keep siblings (and the clients of
 * one role) in DRF order.
 *
 * Every role node orders its children by weighted dominant share, plus one "self"
 * slot standing for the frameworks subscribed to the role itself (Mesos's virtual
 * leaf), so "eng"'s own frameworks compete with "eng/web" as one sibling. When one
 * client's allocation changes, only the nodes on its path to the root move, each by
 * O(log n) in its parent's sorter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "internal.h"

bool alloc_role_valid(const char *role, bool allow_star)
{
	if (role == NULL || role[0] == '\0')
		return false;
	if (strcmp(role, "*") == 0)
		return allow_star;
	const char *p = role;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || p[0] == '-')
			return false;
		if ((n == 1 && (p[0] == '.' || p[0] == '*')) ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= 0x20 || c == 0x7f || c == '\\')
				return false;
		}
		if (end == NULL)
			return true;
		p = end + 1;
	}
}

static void role_setup(alloc_core *a, struct role *r)
{
	r->weight = 1.0;
	for (size_t i = 0; i < ALLOC_NAMES; i++)
		r->guarantee.v[i] = r->limit.v[i] = ALLOC_UNSET;
	r->slot = (struct slot){.owner = r, .kind = SLOT_ROLE, .seq = ++a->seq};
	r->self = (struct slot){.owner = r, .kind = SLOT_SELF, .seq = ++a->seq};
	sorter_init(&r->kids, a->seq);
	sorter_init(&r->fws, a->seq + 7);
}

void alloc__roles_init(alloc_core *a)
{
	memset(&a->root, 0, sizeof(a->root));
	role_setup(a, &a->root);
	a->root.name = (char *)"";
}

void alloc__roles_fini(alloc_core *a)
{
	for (size_t i = 0; i < a->nroles; i++) {
		free(a->role_list[i]->name);
		free(a->role_list[i]);
	}
	free(a->role_list);
	strmap_fini(&a->roles);
}

struct role *alloc__role_get(alloc_core *a, const char *name, bool create)
{
	struct role *r = strmap_get(&a->roles, name);
	if (r != NULL || !create)
		return r;
	/* Parents first, so every node has its path to the root. */
	struct role *parent = &a->root;
	const char *slash = strrchr(name, '/');
	if (slash != NULL) {
		char *pname = strndup(name, (size_t)(slash - name));
		if (pname == NULL)
			return NULL;
		parent = alloc__role_get(a, pname, true);
		free(pname);
		if (parent == NULL)
			return NULL;
	}
	if (a->nroles == a->caproles) {
		size_t cap = a->caproles ? a->caproles * 2 : 16;
		struct role **v = realloc(a->role_list, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		a->role_list = v;
		a->caproles = cap;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->name = strdup(name)) == NULL) {
		free(r);
		return NULL;
	}
	role_setup(a, r);
	if (strmap_put(&a->roles, name, r) != 0) {
		free(r->name);
		free(r);
		return NULL;
	}
	r->name_len = strlen(name);
	r->parent = parent;
	r->depth = parent->depth + 1;
	r->next_sibling = parent->first_kid;
	parent->first_kid = r;
	a->role_list[a->nroles++] = r;
	return r;
}

static void slot_key(const alloc_core *a, struct slot *s)
{
	if (s->kind == SLOT_CLIENT) {
		const struct client *c = s->owner;
		s->share = alloc__dominant(a, &c->alloc);
	} else {
		const struct role *r = s->owner;
		const avec *v = s->kind == SLOT_ROLE ? &r->sub_alloc : &r->own_alloc;
		s->share = alloc__dominant(a, v) / r->weight;
	}
}

/* Re-keys s, moving it within sorter if it is in it; bump counts one more offer
 * (the tie-breaker, so equal shares take turns). */
static void reposition(const alloc_core *a, struct sorter *sorter, struct slot *s, bool bump)
{
	if (!s->in) {
		slot_key(a, s);
		s->allocs += bump;
		return;
	}
	sorter_remove(sorter, s);
	slot_key(a, s);
	s->allocs += bump;
	sorter_insert(sorter, s);
}

void alloc__account(alloc_core *a, struct client *c, const avec *d_all, const avec *d_unres,
                    const avec *d_off, const avec *d_used)
{
	struct role *r = c->role;

	bool bump = c->bump;
	c->bump = false;
	alloc__vec_add(&c->alloc, d_all, 1);
	reposition(a, &r->fws, &c->slot, bump);
	alloc__vec_add(&r->own_alloc, d_all, 1);
	reposition(a, &r->kids, &r->self, bump);
	for (struct role *x = r; x != &a->root; x = x->parent) {
		alloc__vec_add(&x->sub_alloc, d_all, 1);
		alloc__vec_add(&x->sub_unres, d_unres, 1);
		alloc__vec_add(&x->sub_offered, d_off, 1);
		alloc__vec_add(&x->sub_used, d_used, 1);
		reposition(a, &x->parent->kids, &x->slot, bump);
	}
}

void alloc__account_reserved(alloc_core *a, struct role *r, const avec *d, int sign)
{
	for (struct role *x = r; x != NULL && x != &a->root; x = x->parent)
		alloc__vec_add(&x->sub_reserved, d, sign);
}

void alloc__client_set_active(alloc_core *a, struct client *c, bool active)
{
	struct role *r = c->role;

	if (c->active == active)
		return;
	c->active = active;
	if (active) {
		slot_key(a, &c->slot);
		sorter_insert(&r->fws, &c->slot);
		if (r->own_active++ == 0) {
			slot_key(a, &r->self);
			sorter_insert(&r->kids, &r->self);
		}
		for (struct role *x = r; x != &a->root; x = x->parent) {
			if (x->sub_active++ == 0) {
				slot_key(a, &x->slot);
				sorter_insert(&x->parent->kids, &x->slot);
			}
		}
	} else {
		sorter_remove(&r->fws, &c->slot);
		if (--r->own_active == 0)
			sorter_remove(&r->kids, &r->self);
		for (struct role *x = r; x != &a->root; x = x->parent) {
			if (--x->sub_active == 0)
				sorter_remove(&x->parent->kids, &x->slot);
		}
	}
}

/* Empties a sorter and inserts its members again with fresh keys. */
static int rebuild(alloc_core *a, struct sorter *s, struct slot ***buf, size_t *cap)
{
	if (s->n > *cap) {
		struct slot **v = realloc(*buf, s->n * sizeof(*v));
		if (v == NULL)
			return -1;
		*buf = v;
		*cap = s->n;
	}
	size_t n = 0;
	for (struct slot *x = sorter_first(s); x != NULL; x = x->next[0])
		(*buf)[n++] = x;
	uint64_t rng = s->rng;
	memset(s, 0, sizeof(*s));
	s->level = 1;
	s->rng = rng;
	for (size_t i = 0; i < n; i++) {
		struct slot *x = (*buf)[i];
		x->in = false;
		memset(x->next, 0, sizeof(x->next));
		slot_key(a, x);
		sorter_insert(s, x);
	}
	return 0;
}

void alloc__resort(alloc_core *a)
{
	struct slot **buf = NULL;
	size_t cap = 0;
	int rc = rebuild(a, &a->root.kids, &buf, &cap);
	for (size_t i = 0; i < a->nroles && rc == 0; i++) {
		rc = rebuild(a, &a->role_list[i]->kids, &buf, &cap);
		if (rc == 0)
			rc = rebuild(a, &a->role_list[i]->fws, &buf, &cap);
	}
	free(buf);
	/* On out of memory the order stays as it was (valid, only stale): try again
	 * next pass. */
	a->resort = rc != 0;
}

void alloc__consumed(const struct role *r, avec *out)
{
	*out = r->sub_unres;
	alloc__vec_add(out, &r->sub_reserved, 1);
}

struct role *alloc__guarantee_top(struct role *r)
{
	struct role *top = NULL;
	for (; r != NULL && r->parent != NULL; r = r->parent)
		if (r->has_guarantee)
			top = r;
	return top;
}

int alloc_role_set_weight(alloc_core *a, const char *role, double weight)
{
	if (!alloc_role_valid(role, true))
		return ALLOC_WARN("set_weight", ALLOC_EINVAL, "invalid role '%s'",
		                  role ? role : "");
	if (!(weight > 0) || !isfinite(weight))
		return ALLOC_WARN("set_weight", ALLOC_EINVAL, "role '%s': weight %g must be > 0",
		                  role, weight);
	struct role *r = alloc__role_get(a, role, true);
	if (r == NULL)
		return ALLOC_ENOMEM;
	r->weight = weight;
	a->resort = true;
	a->events++;
	return ALLOC_OK;
}

/* Scalars of q into v (ALLOC_UNSET elsewhere); false when a name cannot be tracked. */
static bool quota_vec(alloc_core *a, const px_resources *q, avec *v, bool *any)
{
	for (size_t i = 0; i < ALLOC_NAMES; i++)
		v->v[i] = ALLOC_UNSET;
	*any = false;
	if (q == NULL)
		return true;
	for (size_t i = 0; i < px_resources_size(q); i++) {
		const struct px_resource *e = px_resources_at(q, i);
		if (px_resource_type(e) != PX_SCALAR)
			continue;
		int k = alloc__name_index(a, px_resource_name(e));
		if (k < 0)
			return false;
		if (v->v[k] == ALLOC_UNSET)
			v->v[k] = 0;
		v->v[k] += px_resource_scalar(e);
		*any = true;
	}
	return true;
}

int alloc_role_set_quota(alloc_core *a, const char *role, const px_resources *guarantee,
                         const px_resources *limit)
{
	avec g, l;
	bool any_g, any_l;

	if (!alloc_role_valid(role, false))
		return ALLOC_WARN("set_quota", ALLOC_EINVAL, "invalid role '%s'", role ? role : "");
	if (!quota_vec(a, guarantee, &g, &any_g) || !quota_vec(a, limit, &l, &any_l))
		return ALLOC_WARN("set_quota", ALLOC_EINVAL,
		                  "role '%s': more than %d resource names", role, ALLOC_NAMES);
	for (size_t i = 0; i < ALLOC_NAMES; i++) {
		if (g.v[i] != ALLOC_UNSET && l.v[i] != ALLOC_UNSET && g.v[i] > l.v[i])
			return ALLOC_WARN("set_quota", ALLOC_EINVAL,
			                  "role '%s': guarantee of %s exceeds its limit", role,
			                  a->names[i]);
	}
	struct role *r = alloc__role_get(a, role, true);
	if (r == NULL)
		return ALLOC_ENOMEM;
	r->guarantee = g;
	r->limit = l;
	r->has_guarantee = any_g;
	r->has_limit = any_l;
	a->events++;
	return ALLOC_OK;
}
