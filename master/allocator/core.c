/* core.c — the allocator core's bookkeeping: names and vectors, agents, frameworks
 * and their clients, what each client holds on each agent, and the calls through
 * which allocations come back (decline, rescind, accept, task end, operations).
 * The pass itself is in pass.c, figures and explanations in explain.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "internal.h"

static const char *const err_text[] = {
    [ALLOC_OK] = "ok",
    [ALLOC_ENOMEM] = "out of memory",
    [ALLOC_EINVAL] = "invalid argument",
    [ALLOC_ENOENT] = "unknown agent, framework or allocation",
    [ALLOC_EEXIST] = "already exists",
    [ALLOC_ENOTAVAIL] = "resources not available",
    [ALLOC_EQUOTA] = "quota limit exceeded",
};

const char *alloc_strerror(int err)
{
	if (err < 0)
		err = -err;
	if ((size_t)err < sizeof(err_text) / sizeof(err_text[0]) && err_text[err])
		return err_text[err];
	return "unknown error";
}

int alloc__warn(const char *call, int err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	actor_warn("allocator: %s: %s (%s)", call, buf, alloc_strerror(err));
	return err;
}

void alloc_config_default(alloc_config *cfg)
{
	cfg->min_cpus_milli = 10;
	cfg->min_mem_milli = 32000;
}

/* ---- names and vectors ------------------------------------------------------------ */

int alloc__name_find(const alloc_core *a, const char *name)
{
	for (size_t i = 0; i < a->nnames; i++)
		if (strcmp(a->names[i], name) == 0)
			return (int)i;
	return -1;
}

int alloc__name_index(alloc_core *a, const char *name)
{
	int k = alloc__name_find(a, name);
	if (k >= 0 || a->nnames == ALLOC_NAMES)
		return k;
	char *copy = strdup(name);
	if (copy == NULL)
		return -1;
	a->names[a->nnames] = copy;
	return (int)a->nnames++;
}

void alloc__vec_of(alloc_core *a, const px_resources *rs, avec *all, avec *unres)
{
	if (all)
		memset(all, 0, sizeof(*all));
	if (unres)
		memset(unres, 0, sizeof(*unres));
	size_t n = rs ? px_resources_size(rs) : 0;
	for (size_t i = 0; i < n; i++) {
		const struct px_resource *e = px_resources_at(rs, i);
		if (px_resource_type(e) != PX_SCALAR)
			continue;
		int k = alloc__name_index(a, px_resource_name(e));
		if (k < 0)
			continue;
		int64_t v = px_resource_scalar(e);
		if (all)
			all->v[k] += v;
		if (unres && !px_resource_is_reserved(e))
			unres->v[k] += v;
	}
}

void alloc__vec_add(avec *x, const avec *y, int sign)
{
	if (y == NULL)
		return;
	for (size_t i = 0; i < ALLOC_NAMES; i++)
		x->v[i] += sign * y->v[i];
}

double alloc__dominant(const alloc_core *a, const avec *v)
{
	double best = 0;
	for (size_t i = 0; i < a->nnames; i++) {
		if (a->total.v[i] <= 0)
			continue;
		double s = (double)v->v[i] / (double)a->total.v[i];
		if (s > best)
			best = s;
	}
	return best;
}

/* ---- life cycle ------------------------------------------------------------------- */

alloc_core *alloc_core_new(const alloc_config *cfg)
{
	alloc_core *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	if (cfg)
		a->cfg = *cfg;
	else
		alloc_config_default(&a->cfg);
	alloc__roles_init(a);
	a->next_serial = 1;
	return a;
}

void alloc__rsref_release(struct rsref *w)
{
	if (w != NULL && atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1) {
		px_resources_free(w->rs);
		free(w);
	}
}

int alloc__record_own_offered(struct record *r)
{
	struct rsref *w = r->lent;
	if (w == NULL)
		return ALLOC_OK;
	if (atomic_load_explicit(&w->refs, memory_order_acquire) == 1) {
		/* The batch is gone: the set is ours alone again. */
		free(w);
		r->lent = NULL;
		return ALLOC_OK;
	}
	px_resources *copy = px_resources_copy(r->offered);
	if (copy == NULL)
		return ALLOC_ENOMEM;
	r->offered = copy;
	r->lent = NULL;
	alloc__rsref_release(w);
	return ALLOC_OK;
}

/* Forgets what is offered (its set freed, or the shared one released). */
static void record_drop_offered(struct record *r)
{
	if (r->lent != NULL)
		alloc__rsref_release(r->lent);
	else
		px_resources_free(r->offered);
	r->lent = NULL;
	r->offered = NULL;
}

static void record_free(struct record *r)
{
	record_drop_offered(r);
	px_resources_free(r->used);
}

static void client_free(struct client *c)
{
	alloc__filters_fini(c);
	free(c);
}

void alloc_core_free(alloc_core *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nagents; i++) {
		struct alloc_agent *g = a->agent_v[i];
		for (size_t j = 0; j < g->nrecs; j++)
			record_free(&g->recs[j]);
		free(g->recs);
		free(g->rr);
		px_resources_free(g->total);
		px_resources_free(g->free);
		free(g->id);
		free(g);
	}
	free(a->agent_v);
	strmap_fini(&a->agents);
	for (size_t i = 0; i < a->frameworks.cap; i++) {
		struct alloc_framework *f = a->frameworks.v[i].value;
		if (a->frameworks.v[i].key == NULL)
			continue;
		for (size_t j = 0; j < f->nclients; j++)
			client_free(f->clients[j]);
		free(f->clients);
		free(f->id);
		free(f);
	}
	strmap_fini(&a->frameworks);
	alloc__roles_fini(a);
	for (size_t i = 0; i < a->nnames; i++)
		free(a->names[i]);
	free(a);
}

/* ---- records ---------------------------------------------------------------------- */

struct record *alloc__record(struct alloc_agent *g, struct client *c, bool create)
{
	for (size_t i = 0; i < g->nrecs; i++)
		if (g->recs[i].c == c)
			return &g->recs[i];
	if (!create)
		return NULL;
	if (g->nrecs == g->caprecs) {
		size_t cap = g->caprecs ? g->caprecs * 2 : 2;
		struct record *v = realloc(g->recs, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		g->recs = v;
		g->caprecs = cap;
	}
	/* The sets are created when something is put in them: a pass hands the agent's
	 * free set over as the offered one without allocating. */
	struct record *r = &g->recs[g->nrecs++];
	memset(r, 0, sizeof(*r));
	r->c = c;
	c->nrecords++;
	return r;
}

static void client_maybe_free(struct client *c);

/* Brings the record's vectors, its client and every role aggregate in line with its
 * sets; drops the record when it holds nothing. r is invalid afterwards. */
void alloc__record_refresh(alloc_core *a, struct alloc_agent *g, struct record *r)
{
	avec all, unres, off, use, d_all, d_unres, d_off, d_use;

	avec u2;
	alloc__vec_of(a, r->offered, &off, &unres);
	alloc__vec_of(a, r->used, &use, &u2);
	all = off;
	alloc__vec_add(&all, &use, 1);
	alloc__vec_add(&unres, &u2, 1);
	d_all = all, d_unres = unres, d_off = off, d_use = use;
	alloc__vec_add(&d_all, &r->all, -1);
	alloc__vec_add(&d_unres, &r->unres, -1);
	alloc__vec_add(&d_off, &r->off, -1);
	alloc__vec_add(&d_use, &r->use, -1);
	r->all = all, r->unres = unres, r->off = off, r->use = use;
	struct client *c = r->c;
	alloc__account(a, c, &d_all, &d_unres, &d_off, &d_use);
	if (alloc__rs_empty(r->offered) && alloc__rs_empty(r->used)) {
		record_free(r);
		*r = g->recs[--g->nrecs];
		c->nrecords--;
		client_maybe_free(c);
	}
}

void alloc__agent_refresh_free(alloc_core *a, struct alloc_agent *g)
{
	alloc__vec_of(a, g->free, NULL, &g->free_unres);
}

bool alloc__agent_offerable(const struct alloc_agent *g)
{
	return g->active && !g->maintenance;
}

/* ---- agents ----------------------------------------------------------------------- */

static struct alloc_agent *agent_find(const alloc_core *a, const char *call, const char *id)
{
	struct alloc_agent *g = id ? strmap_get(&a->agents, id) : NULL;
	if (g == NULL)
		alloc__warn(call, ALLOC_ENOENT, "unknown agent '%s'", id ? id : "(null)");
	return g;
}

/* Recomputes the per-role reserved vectors of g from its total and adds them to (sign
 * +1) or removes them from (sign -1) the role aggregates. */
static int rr_account(alloc_core *a, struct alloc_agent *g, int sign)
{
	if (sign < 0) {
		for (size_t i = 0; i < g->nrr; i++)
			alloc__account_reserved(a, g->rr[i].role, &g->rr[i].v, -1);
		g->nrr = 0;
		return ALLOC_OK;
	}
	size_t n = px_resources_size(g->total);
	free(g->rr);
	g->rr = NULL;
	g->nrr = 0;
	for (size_t i = 0; i < n; i++) {
		const struct px_resource *e = px_resources_at(g->total, i);
		if (!px_resource_is_reserved(e))
			continue;
		struct role *role = alloc__role_get(a, px_resource_role(e), true);
		if (role == NULL)
			return ALLOC_ENOMEM;
		size_t j = 0;
		while (j < g->nrr && g->rr[j].role != role)
			j++;
		if (j == g->nrr) {
			struct resrole *v = realloc(g->rr, (g->nrr + 1) * sizeof(*v));
			if (v == NULL)
				return ALLOC_ENOMEM;
			g->rr = v;
			memset(&g->rr[j], 0, sizeof(g->rr[j]));
			g->rr[j].role = role;
			g->nrr++;
		}
		if (px_resource_type(e) == PX_SCALAR) {
			int k = alloc__name_index(a, px_resource_name(e));
			if (k >= 0)
				g->rr[j].v.v[k] += px_resource_scalar(e);
		}
	}
	for (size_t i = 0; i < g->nrr; i++)
		alloc__account_reserved(a, g->rr[i].role, &g->rr[i].v, 1);
	return ALLOC_OK;
}

static void agent_set_total_vec(alloc_core *a, struct alloc_agent *g, int sign)
{
	if (sign > 0)
		alloc__vec_of(a, g->total, &g->total_v, NULL);
	alloc__vec_add(&a->total, &g->total_v, sign);
	a->resort = true;
}

static bool reserved_roles_valid(const px_resources *rs)
{
	for (size_t i = 0; i < px_resources_size(rs); i++) {
		const struct px_resource *e = px_resources_at(rs, i);
		if (px_resource_is_reserved(e) && !alloc_role_valid(px_resource_role(e), false))
			return false;
	}
	return true;
}

int alloc_agent_add(alloc_core *a, const char *agent_id, const px_resources *total)
{
	if (agent_id == NULL || agent_id[0] == '\0' || total == NULL)
		return alloc__warn("agent_add", ALLOC_EINVAL, "no agent id or total");
	if (strmap_get(&a->agents, agent_id) != NULL)
		return alloc__warn("agent_add", ALLOC_EEXIST, "agent '%s'", agent_id);
	if (!reserved_roles_valid(total))
		return alloc__warn("agent_add", ALLOC_EINVAL, "agent '%s': bad reservation role",
		                   agent_id);
	if (a->nagents == a->capagents) {
		size_t cap = a->capagents ? a->capagents * 2 : 64;
		struct alloc_agent **v = realloc(a->agent_v, cap * sizeof(*v));
		if (v == NULL)
			return ALLOC_ENOMEM;
		a->agent_v = v;
		a->capagents = cap;
	}
	struct alloc_agent *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return ALLOC_ENOMEM;
	g->id = strdup(agent_id);
	g->total = px_resources_copy(total);
	g->free = px_resources_copy(total);
	if (g->id == NULL || g->total == NULL || g->free == NULL ||
	    strmap_put(&a->agents, agent_id, g) != 0) {
		free(g->id);
		px_resources_free(g->total);
		px_resources_free(g->free);
		free(g);
		return ALLOC_ENOMEM;
	}
	g->id_len = strlen(agent_id);
	g->serial = a->next_serial++;
	g->active = true;
	g->idx = a->nagents;
	a->agent_v[a->nagents++] = g;
	rr_account(a, g, 1);
	agent_set_total_vec(a, g, 1);
	alloc__agent_refresh_free(a, g);
	a->events++;
	return ALLOC_OK;
}

static void forget_filters_of(alloc_core *a, uint64_t serial)
{
	for (size_t i = 0; i < a->frameworks.cap; i++) {
		struct alloc_framework *f = a->frameworks.v[i].value;
		if (a->frameworks.v[i].key == NULL)
			continue;
		for (size_t j = 0; j < f->nclients; j++)
			free(u64map_del(&f->clients[j]->filters, serial));
	}
}

int alloc_agent_remove(alloc_core *a, const char *agent_id)
{
	struct alloc_agent *g = agent_find(a, "agent_remove", agent_id);
	if (g == NULL)
		return ALLOC_ENOENT;
	while (g->nrecs > 0) {
		struct record *r = &g->recs[g->nrecs - 1];
		record_drop_offered(r);
		px_resources_free(r->used);
		r->used = NULL;
		alloc__record_refresh(a, g, r);
	}
	rr_account(a, g, -1);
	agent_set_total_vec(a, g, -1);
	forget_filters_of(a, g->serial);
	strmap_del(&a->agents, agent_id);
	a->agent_v[g->idx] = a->agent_v[--a->nagents];
	a->agent_v[g->idx]->idx = g->idx;
	free(g->recs);
	free(g->rr);
	px_resources_free(g->total);
	px_resources_free(g->free);
	free(g->id);
	free(g);
	return ALLOC_OK;
}

/* The sum of everything held on g, or NULL when out of memory. */
static px_resources *agent_allocated(const struct alloc_agent *g)
{
	px_resources *sum = px_resources_new();
	for (size_t i = 0; sum && i < g->nrecs; i++) {
		if ((g->recs[i].offered && px_resources_add(sum, g->recs[i].offered) != PX_OK) ||
		    (g->recs[i].used && px_resources_add(sum, g->recs[i].used) != PX_OK)) {
			px_resources_free(sum);
			return NULL;
		}
	}
	return sum;
}

/* Replaces g's total by total (taken over) and recomputes free from it. */
static int agent_replace_total(alloc_core *a, struct alloc_agent *g, px_resources *total)
{
	px_resources *held = agent_allocated(g);
	px_resources *free_ = held ? px_resources_copy(total) : NULL;
	if (free_ == NULL || px_resources_subtract(free_, held) != PX_OK) {
		px_resources_free(held);
		px_resources_free(free_);
		px_resources_free(total);
		return ALLOC_ENOMEM;
	}
	px_resources_free(held);
	rr_account(a, g, -1);
	agent_set_total_vec(a, g, -1);
	px_resources_free(g->total);
	px_resources_free(g->free);
	g->total = total;
	g->free = free_;
	rr_account(a, g, 1);
	agent_set_total_vec(a, g, 1);
	alloc__agent_refresh_free(a, g);
	a->events++;
	return ALLOC_OK;
}

int alloc_agent_update_total(alloc_core *a, const char *agent_id, const px_resources *total)
{
	struct alloc_agent *g = agent_find(a, "agent_update_total", agent_id);
	if (g == NULL)
		return ALLOC_ENOENT;
	if (total == NULL || !reserved_roles_valid(total))
		return alloc__warn("agent_update_total", ALLOC_EINVAL, "agent '%s': bad total",
		                   agent_id);
	px_resources *held = agent_allocated(g);
	if (held == NULL)
		return ALLOC_ENOMEM;
	bool fits = px_resources_contains(total, held);
	px_resources_free(held);
	if (!fits)
		return alloc__warn("agent_update_total", ALLOC_ENOTAVAIL,
		                   "agent '%s': new total does not hold what is allocated",
		                   agent_id);
	px_resources *copy = px_resources_copy(total);
	if (copy == NULL)
		return ALLOC_ENOMEM;
	return agent_replace_total(a, g, copy);
}

int alloc_agent_set_active(alloc_core *a, const char *agent_id, bool active)
{
	struct alloc_agent *g = agent_find(a, "agent_set_active", agent_id);
	if (g == NULL)
		return ALLOC_ENOENT;
	g->active = active;
	a->events += active;
	return ALLOC_OK;
}

int alloc_agent_set_maintenance(alloc_core *a, const char *agent_id, bool maintenance)
{
	struct alloc_agent *g = agent_find(a, "agent_set_maintenance", agent_id);
	if (g == NULL)
		return ALLOC_ENOENT;
	g->maintenance = maintenance;
	a->events += !maintenance;
	return ALLOC_OK;
}

static bool op_supported(const Plexus__Offer__Operation *op)
{
	return op != NULL && (op->type == PLEXUS__OFFER__OPERATION__TYPE__RESERVE ||
	                      op->type == PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE ||
	                      op->type == PLEXUS__OFFER__OPERATION__TYPE__CREATE ||
	                      op->type == PLEXUS__OFFER__OPERATION__TYPE__DESTROY);
}

/* Limited roles whose consumption grew past their limit between before[] and now. */
static bool limits_broken(alloc_core *a, const avec *before)
{
	for (size_t i = 0; i < a->nroles; i++) {
		struct role *r = a->role_list[i];
		if (!r->has_limit)
			continue;
		avec now;
		alloc__consumed(r, &now);
		for (size_t k = 0; k < ALLOC_NAMES; k++)
			if (r->limit.v[k] != ALLOC_UNSET && now.v[k] > r->limit.v[k] &&
			    now.v[k] > before[i].v[k])
				return true;
	}
	return false;
}

int alloc_agent_apply(alloc_core *a, const char *agent_id, const Plexus__Offer__Operation *op,
                      char *err, size_t errlen)
{
	struct alloc_agent *g = agent_find(a, "agent_apply", agent_id);
	if (g == NULL)
		return ALLOC_ENOENT;
	if (!op_supported(op))
		return alloc__warn("agent_apply", ALLOC_EINVAL, "unsupported operation");
	/* Applying to a copy of the free set checks that what is replaced is free. */
	px_resources *free_ = px_resources_copy(g->free);
	px_resources *total = px_resources_copy(g->total);
	if (free_ == NULL || total == NULL) {
		px_resources_free(free_);
		px_resources_free(total);
		return ALLOC_ENOMEM;
	}
	int rc = px_resources_apply(free_, op, err, errlen);
	if (rc == PX_OK)
		rc = px_resources_apply(total, op, err, errlen);
	px_resources_free(free_);
	if (rc != PX_OK) {
		px_resources_free(total);
		return alloc__warn("agent_apply", rc == PX_ENOMEM ? ALLOC_ENOMEM : ALLOC_ENOTAVAIL,
		                   "agent '%s': %s", agent_id, err ? err : "operation failed");
	}
	if (!reserved_roles_valid(total)) {
		px_resources_free(total);
		return alloc__warn("agent_apply", ALLOC_EINVAL, "agent '%s': bad reservation role",
		                   agent_id);
	}
	avec *before = calloc(a->nroles + 1, sizeof(*before));
	if (before == NULL) {
		px_resources_free(total);
		return ALLOC_ENOMEM;
	}
	for (size_t i = 0; i < a->nroles; i++)
		alloc__consumed(a->role_list[i], &before[i]);
	px_resources *old = px_resources_copy(g->total);
	if (old == NULL) {
		free(before);
		px_resources_free(total);
		return ALLOC_ENOMEM;
	}
	rc = agent_replace_total(a, g, total);
	/* Reservations made here may create roles: before[] covers the older ones, and a
	 * new role's consumption is all new. */
	if (rc == ALLOC_OK && limits_broken(a, before)) {
		agent_replace_total(a, g, old);
		free(before);
		return alloc__warn("agent_apply", ALLOC_EQUOTA,
		                   "agent '%s': reservation exceeds a quota limit", agent_id);
	}
	px_resources_free(old);
	free(before);
	return rc;
}

/* An operation of type t carrying rs (borrowed messages built from it). */
static int with_op(alloc_core *a, const char *agent_id, int type, const px_resources *rs)
{
	Plexus__Resource **pb = NULL;
	size_t n = 0;
	if (rs == NULL)
		return ALLOC_EINVAL;
	if (px_resources_to_pb(rs, PX_PB_REFINED, &pb, &n) != PX_OK)
		return ALLOC_ENOMEM;
	Plexus__Offer__Operation op = PLEXUS__OFFER__OPERATION__INIT;
	Plexus__Offer__Operation__Reserve rv = PLEXUS__OFFER__OPERATION__RESERVE__INIT;
	Plexus__Offer__Operation__Unreserve ur = PLEXUS__OFFER__OPERATION__UNRESERVE__INIT;
	op.has_type = 1;
	op.type = type;
	if (type == PLEXUS__OFFER__OPERATION__TYPE__RESERVE) {
		rv.resources = pb;
		rv.n_resources = n;
		op.reserve = &rv;
	} else {
		ur.resources = pb;
		ur.n_resources = n;
		op.unreserve = &ur;
	}
	char err[256] = "";
	int rc = alloc_agent_apply(a, agent_id, &op, err, sizeof(err));
	px_pb_resources_free(pb, n);
	return rc;
}

int alloc_agent_reserve(alloc_core *a, const char *agent_id, const px_resources *reserved)
{
	return with_op(a, agent_id, PLEXUS__OFFER__OPERATION__TYPE__RESERVE, reserved);
}

int alloc_agent_unreserve(alloc_core *a, const char *agent_id, const px_resources *reserved)
{
	return with_op(a, agent_id, PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE, reserved);
}

/* ---- frameworks ------------------------------------------------------------------- */

static struct alloc_framework *fw_find(const alloc_core *a, const char *call, const char *id)
{
	struct alloc_framework *f = id ? strmap_get(&a->frameworks, id) : NULL;
	if (f == NULL)
		alloc__warn(call, ALLOC_ENOENT, "unknown framework '%s'", id ? id : "(null)");
	return f;
}

static struct client *client_of(const struct alloc_framework *f, const char *role)
{
	for (size_t i = 0; i < f->nclients; i++)
		if (strcmp(f->clients[i]->role->name, role) == 0)
			return f->clients[i];
	return NULL;
}

static void client_update_active(alloc_core *a, struct client *c)
{
	alloc__client_set_active(a, c, c->fw->active && c->subscribed && !c->suppressed);
}

/* Frees a client that is neither subscribed nor holding anything. */
static void client_maybe_free(struct client *c)
{
	if (c->subscribed || c->nrecords > 0)
		return;
	struct alloc_framework *f = c->fw;
	for (size_t i = 0; i < f->nclients; i++) {
		if (f->clients[i] == c) {
			f->clients[i] = f->clients[--f->nclients];
			break;
		}
	}
	c->role->nclients--;
	client_free(c);
}

static struct client *client_new(alloc_core *a, struct alloc_framework *f, const char *role)
{
	struct role *r = alloc__role_get(a, role, true);
	if (r == NULL)
		return NULL;
	struct client **v = realloc(f->clients, (f->nclients + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	f->clients = v;
	struct client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fw = f;
	c->role = r;
	c->slot = (struct slot){.owner = c, .kind = SLOT_CLIENT, .seq = ++a->seq};
	f->clients[f->nclients++] = c;
	r->nclients++;
	return c;
}

static int check_roles(const char *call, const char *const *roles, size_t n)
{
	if (n > 0 && roles == NULL)
		return alloc__warn(call, ALLOC_EINVAL, "no roles");
	for (size_t i = 0; i < n; i++)
		if (!alloc_role_valid(roles[i], true))
			return alloc__warn(call, ALLOC_EINVAL, "invalid role '%s'",
			                   roles[i] ? roles[i] : "(null)");
	return ALLOC_OK;
}

/* Subscribes f to exactly roles: new clients, resubscribed ones, left ones. */
static int set_roles(alloc_core *a, struct alloc_framework *f, const char *const *roles, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct client *c = client_of(f, roles[i]);
		if (c == NULL && (c = client_new(a, f, roles[i])) == NULL)
			return ALLOC_ENOMEM;
	}
	/* Walk backwards: client_maybe_free may move the last client into slot i. */
	for (size_t i = f->nclients; i-- > 0;) {
		struct client *c = f->clients[i];
		bool keep = false;
		for (size_t j = 0; j < n && !keep; j++)
			keep = strcmp(roles[j], c->role->name) == 0;
		c->subscribed = keep;
		client_update_active(a, c);
		client_maybe_free(c);
	}
	a->events++;
	return ALLOC_OK;
}

int alloc_framework_add(alloc_core *a, const char *framework_id, const char *const *roles, size_t n)
{
	if (framework_id == NULL || framework_id[0] == '\0')
		return alloc__warn("framework_add", ALLOC_EINVAL, "no framework id");
	int rc = check_roles("framework_add", roles, n);
	if (rc != ALLOC_OK)
		return rc;
	if (strmap_get(&a->frameworks, framework_id) != NULL)
		return alloc__warn("framework_add", ALLOC_EEXIST, "framework '%s'", framework_id);
	struct alloc_framework *f = calloc(1, sizeof(*f));
	if (f == NULL || (f->id = strdup(framework_id)) == NULL ||
	    strmap_put(&a->frameworks, framework_id, f) != 0) {
		if (f)
			free(f->id);
		free(f);
		return ALLOC_ENOMEM;
	}
	f->id_len = strlen(framework_id);
	f->active = true;
	a->nframeworks++;
	return set_roles(a, f, roles, n);
}

int alloc_framework_remove(alloc_core *a, const char *framework_id)
{
	struct alloc_framework *f = fw_find(a, "framework_remove", framework_id);
	if (f == NULL)
		return ALLOC_ENOENT;
	for (size_t i = 0; i < f->nclients; i++) {
		f->clients[i]->subscribed = false;
		alloc__client_set_active(a, f->clients[i], false);
	}
	/* Everything it holds returns to the pool; each client is freed with its last
	 * record. The walk stops once no record is left. */
	size_t left = 0;
	for (size_t i = 0; i < f->nclients; i++)
		left += f->clients[i]->nrecords;
	for (size_t i = 0; i < a->nagents && left > 0; i++) {
		struct alloc_agent *g = a->agent_v[i];
		for (size_t j = g->nrecs; j-- > 0;) {
			struct record *r = &g->recs[j];
			if (r->c->fw != f)
				continue;
			left--;
			if (r->offered)
				px_resources_add(g->free, r->offered);
			if (r->used)
				px_resources_add(g->free, r->used);
			record_drop_offered(r);
			px_resources_free(r->used);
			r->used = NULL;
			alloc__record_refresh(a, g, r);
			alloc__agent_refresh_free(a, g);
		}
	}
	while (f->nclients > 0)
		client_maybe_free(f->clients[f->nclients - 1]);
	strmap_del(&a->frameworks, framework_id);
	a->nframeworks--;
	free(f->clients);
	free(f->id);
	free(f);
	a->events++;
	return ALLOC_OK;
}

int alloc_framework_set_active(alloc_core *a, const char *framework_id, bool active)
{
	struct alloc_framework *f = fw_find(a, "framework_set_active", framework_id);
	if (f == NULL)
		return ALLOC_ENOENT;
	f->active = active;
	a->events += active;
	for (size_t i = 0; i < f->nclients; i++)
		client_update_active(a, f->clients[i]);
	return ALLOC_OK;
}

int alloc_framework_update_roles(alloc_core *a, const char *framework_id, const char *const *roles,
                                 size_t n)
{
	struct alloc_framework *f = fw_find(a, "framework_update_roles", framework_id);
	if (f == NULL)
		return ALLOC_ENOENT;
	int rc = check_roles("framework_update_roles", roles, n);
	return rc != ALLOC_OK ? rc : set_roles(a, f, roles, n);
}

static int suppress_revive(alloc_core *a, const char *call, const char *framework_id,
                           const char *role, bool suppress)
{
	struct alloc_framework *f = fw_find(a, call, framework_id);
	if (f == NULL)
		return ALLOC_ENOENT;
	bool any = false;
	for (size_t i = 0; i < f->nclients; i++) {
		struct client *c = f->clients[i];
		if (!c->subscribed || (role != NULL && strcmp(role, c->role->name) != 0))
			continue;
		any = true;
		c->suppressed = suppress;
		if (!suppress)
			alloc__filters_clear(c);
		client_update_active(a, c);
	}
	if (role != NULL && !any)
		return alloc__warn(call, ALLOC_EINVAL, "framework '%s' is not subscribed to '%s'",
		                   framework_id, role);
	a->events += !suppress;
	return ALLOC_OK;
}

int alloc_suppress(alloc_core *a, const char *framework_id, const char *role)
{
	return suppress_revive(a, "suppress", framework_id, role, true);
}

int alloc_revive(alloc_core *a, const char *framework_id, const char *role)
{
	return suppress_revive(a, "revive", framework_id, role, false);
}

/* ---- allocations coming back ------------------------------------------------------ */

/* The record of (framework, role) on agent, or NULL after a warning. */
static struct record *find_record(alloc_core *a, const char *call, const char *framework_id,
                                  const char *role, const char *agent_id, struct alloc_agent **gout)
{
	struct alloc_framework *f = fw_find(a, call, framework_id);
	struct alloc_agent *g = agent_find(a, call, agent_id);
	if (f == NULL || g == NULL)
		return NULL;
	struct client *c = role ? client_of(f, role) : NULL;
	struct record *r = c ? alloc__record(g, c, false) : NULL;
	if (r == NULL)
		alloc__warn(call, ALLOC_ENOENT, "framework '%s' holds nothing in role '%s' on '%s'",
		            framework_id, role ? role : "(null)", agent_id);
	*gout = g;
	return r;
}

int alloc_recover_offered(alloc_core *a, const char *framework_id, const char *role,
                          const char *agent_id, const px_resources *resources, int64_t refuse_ms,
                          int64_t now_ms)
{
	struct alloc_agent *g;
	struct record *r = find_record(a, "recover_offered", framework_id, role, agent_id, &g);
	if (r == NULL)
		return ALLOC_ENOENT;
	if (resources == NULL || r->offered == NULL ||
	    !px_resources_contains(r->offered, resources))
		return alloc__warn("recover_offered", ALLOC_ENOTAVAIL,
		                   "'%s' was not offered those resources on '%s'", framework_id,
		                   agent_id);
	/* Declining a whole offer (the usual case) just lets go of the set; a part
	 * needs the set as the record's own first. */
	bool whole = px_resources_equal(r->offered, resources);
	if (!whole && alloc__record_own_offered(r) != ALLOC_OK)
		return ALLOC_ENOMEM;
	if (px_resources_add(g->free, resources) != PX_OK)
		return ALLOC_ENOMEM;
	if (whole)
		record_drop_offered(r);
	else
		px_resources_subtract(r->offered, resources);
	struct client *c = r->c;
	uint64_t serial = g->serial;
	if (refuse_ms > 0) {
		avec declined;
		alloc__vec_of(a, resources, &declined, NULL);
		alloc__filter_add(c, serial, now_ms + refuse_ms, &declined);
	}
	alloc__record_refresh(a, g, r);
	alloc__agent_refresh_free(a, g);
	a->events++;
	return ALLOC_OK;
}

int alloc_offer_use(alloc_core *a, const char *framework_id, const char *role, const char *agent_id,
                    const px_resources *resources)
{
	struct alloc_agent *g;
	struct record *r = find_record(a, "offer_use", framework_id, role, agent_id, &g);
	if (r == NULL)
		return ALLOC_ENOENT;
	if (resources == NULL || r->offered == NULL ||
	    !px_resources_contains(r->offered, resources))
		return alloc__warn("offer_use", ALLOC_ENOTAVAIL,
		                   "'%s' was not offered those resources on '%s'", framework_id,
		                   agent_id);
	if (r->used == NULL && (r->used = px_resources_new()) == NULL)
		return ALLOC_ENOMEM;
	if (alloc__record_own_offered(r) != ALLOC_OK ||
	    px_resources_add(r->used, resources) != PX_OK)
		return ALLOC_ENOMEM;
	px_resources_subtract(r->offered, resources);
	alloc__record_refresh(a, g, r);
	return ALLOC_OK;
}

int alloc_recover_used(alloc_core *a, const char *framework_id, const char *role,
                       const char *agent_id, const px_resources *resources)
{
	struct alloc_agent *g;
	struct record *r = find_record(a, "recover_used", framework_id, role, agent_id, &g);
	if (r == NULL)
		return ALLOC_ENOENT;
	if (resources == NULL || r->used == NULL || !px_resources_contains(r->used, resources))
		return alloc__warn("recover_used", ALLOC_ENOTAVAIL,
		                   "'%s' does not use those resources on '%s'", framework_id,
		                   agent_id);
	if (px_resources_add(g->free, resources) != PX_OK)
		return ALLOC_ENOMEM;
	px_resources_subtract(r->used, resources);
	alloc__record_refresh(a, g, r);
	alloc__agent_refresh_free(a, g);
	a->events++;
	return ALLOC_OK;
}

int alloc_used_add(alloc_core *a, const char *framework_id, const char *role, const char *agent_id,
                   const px_resources *resources)
{
	struct alloc_framework *f = fw_find(a, "used_add", framework_id);
	struct alloc_agent *g = agent_find(a, "used_add", agent_id);
	if (f == NULL || g == NULL)
		return ALLOC_ENOENT;
	if (!alloc_role_valid(role, true))
		return alloc__warn("used_add", ALLOC_EINVAL, "invalid role '%s'", role ? role : "");
	if (resources == NULL || !px_resources_contains(g->free, resources))
		return alloc__warn("used_add", ALLOC_ENOTAVAIL, "resources are not free on '%s'",
		                   agent_id);
	struct client *c = client_of(f, role);
	if (c == NULL && (c = client_new(a, f, role)) == NULL)
		return ALLOC_ENOMEM;
	struct record *r = alloc__record(g, c, true);
	if (r == NULL || (r->used == NULL && (r->used = px_resources_new()) == NULL) ||
	    px_resources_add(r->used, resources) != PX_OK) {
		if (r != NULL)
			alloc__record_refresh(a, g, r);
		else
			client_maybe_free(c);
		return ALLOC_ENOMEM;
	}
	px_resources_subtract(g->free, resources);
	alloc__record_refresh(a, g, r);
	alloc__agent_refresh_free(a, g);
	return ALLOC_OK;
}

/* Reservations made or removed must be for exactly the offer's role, so that reserved
 * resources never sit in an allocation outside their role. */
bool alloc_op_roles_match(const Plexus__Offer__Operation *op, const char *role, char *err,
                          size_t errlen)
{
	Plexus__Resource **res = NULL;
	size_t n = 0;
	if (op->type == PLEXUS__OFFER__OPERATION__TYPE__RESERVE && op->reserve) {
		res = op->reserve->resources;
		n = op->reserve->n_resources;
	} else if (op->type == PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE && op->unreserve) {
		res = op->unreserve->resources;
		n = op->unreserve->n_resources;
	} else {
		return true;
	}
	px_resources *rs = NULL;
	if (px_resources_from_pb(res, n, &rs, err, errlen) != PX_OK)
		return false;
	bool ok = true;
	for (size_t i = 0; i < px_resources_size(rs) && ok; i++) {
		const char *r = px_resource_role(px_resources_at(rs, i));
		if (r == NULL || role == NULL || strcmp(r, role) != 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
				         "a reservation for role '%s' on an offer made to '%s'",
				         r ? r : "*", role ? role : "*");
			ok = false;
		}
	}
	px_resources_free(rs);
	return ok;
}

int alloc_offer_apply(alloc_core *a, const char *framework_id, const char *role,
                      const char *agent_id, const Plexus__Offer__Operation *op, char *err,
                      size_t errlen)
{
	struct alloc_agent *g;
	struct record *r = find_record(a, "offer_apply", framework_id, role, agent_id, &g);
	if (r == NULL)
		return ALLOC_ENOENT;
	if (!op_supported(op) || !alloc_op_roles_match(op, role, NULL, 0))
		return alloc__warn("offer_apply", ALLOC_EINVAL,
		                   "unsupported operation or reservation role other than '%s'",
		                   role);
	if (r->offered == NULL)
		return alloc__warn("offer_apply", ALLOC_ENOTAVAIL,
		                   "nothing offered to '%s' on '%s'", framework_id, agent_id);
	px_resources *offered = px_resources_copy(r->offered);
	px_resources *total = px_resources_copy(g->total);
	int rc = offered && total ? PX_OK : PX_ENOMEM;
	if (rc == PX_OK)
		rc = px_resources_apply(offered, op, err, errlen);
	if (rc == PX_OK)
		rc = px_resources_apply(total, op, err, errlen);
	if (rc != PX_OK) {
		px_resources_free(offered);
		px_resources_free(total);
		return alloc__warn("offer_apply", rc == PX_ENOMEM ? ALLOC_ENOMEM : ALLOC_ENOTAVAIL,
		                   "'%s' on '%s': %s", framework_id, agent_id,
		                   err ? err : "operation failed");
	}
	/* The operation converts offered resources in place: the agent's free part does
	 * not change, its total and the offer change alike. */
	record_drop_offered(r);
	r->offered = offered;
	rr_account(a, g, -1);
	agent_set_total_vec(a, g, -1);
	px_resources_free(g->total);
	g->total = total;
	rr_account(a, g, 1);
	agent_set_total_vec(a, g, 1);
	alloc__record_refresh(a, g, r);
	return ALLOC_OK;
}

/* ---- reading ---------------------------------------------------------------------- */

const px_resources *alloc_agent_total(const alloc_core *a, const char *agent_id)
{
	struct alloc_agent *g = agent_id ? strmap_get(&a->agents, agent_id) : NULL;
	return g ? g->total : NULL;
}

const px_resources *alloc_agent_free(const alloc_core *a, const char *agent_id)
{
	struct alloc_agent *g = agent_id ? strmap_get(&a->agents, agent_id) : NULL;
	return g ? g->free : NULL;
}

static const struct record *record_of(const alloc_core *a, const char *framework_id,
                                      const char *role, const char *agent_id)
{
	struct alloc_framework *f = framework_id ? strmap_get(&a->frameworks, framework_id) : NULL;
	struct alloc_agent *g = agent_id ? strmap_get(&a->agents, agent_id) : NULL;
	struct client *c = f && role ? client_of(f, role) : NULL;
	return c && g ? alloc__record(g, c, false) : NULL;
}

const px_resources *alloc_offered(const alloc_core *a, const char *framework_id, const char *role,
                                  const char *agent_id)
{
	const struct record *r = record_of(a, framework_id, role, agent_id);
	return r && !alloc__rs_empty(r->offered) ? r->offered : NULL;
}

const px_resources *alloc_used(const alloc_core *a, const char *framework_id, const char *role,
                               const char *agent_id)
{
	const struct record *r = record_of(a, framework_id, role, agent_id);
	return r && !alloc__rs_empty(r->used) ? r->used : NULL;
}

void alloc_counters_get(const alloc_core *a, alloc_counters *out)
{
	out->passes = a->passes;
	out->offers = a->offers;
	out->events = a->events;
	out->candidates = a->candidates;
	out->agents = a->nagents;
	out->frameworks = a->nframeworks;
	out->roles = a->nroles;
}
