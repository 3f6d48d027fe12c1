/* explain.c — figures per role for metrics and the master's state, and the answers
 * to "why does this framework get nothing?" and "why does this request find no offer?". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "internal.h"

static void fill_stats(const alloc_core *a, const struct role *r, alloc_role_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->role = r->name;
	out->weight = r->weight;
	out->share = alloc__dominant(a, &r->sub_alloc) / r->weight;
	out->frameworks = r->nclients;
	size_t n = a->nnames < 8 ? a->nnames : 8;
	out->n = n;
	for (size_t k = 0; k < n; k++) {
		out->res[k].name = a->names[k];
		out->res[k].offered = r->sub_offered.v[k];
		out->res[k].used = r->sub_used.v[k];
		out->res[k].reserved = r->sub_reserved.v[k];
		out->res[k].guarantee = r->guarantee.v[k] == ALLOC_UNSET ? -1 : r->guarantee.v[k];
		out->res[k].limit = r->limit.v[k] == ALLOC_UNSET ? -1 : r->limit.v[k];
	}
}

void alloc_roles_foreach(const alloc_core *a, void (*fn)(const alloc_role_stats *s, void *arg),
                         void *arg)
{
	alloc_role_stats s;
	/* role_list is in creation order, and a parent is always created first. */
	for (size_t i = 0; i < a->nroles; i++) {
		fill_stats(a, a->role_list[i], &s);
		fn(&s, arg);
	}
}

int alloc_role_stats_get(const alloc_core *a, const char *role, alloc_role_stats *out)
{
	const struct role *r = role ? strmap_get(&a->roles, role) : NULL;
	if (r == NULL)
		return ALLOC_ENOENT;
	fill_stats(a, r, out);
	return ALLOC_OK;
}

static const char *const why_text[WHY_MAX] = {
    [WHY_OFFERED] = "offerable",
    [WHY_NOTHING_FREE] = "nothing free",
    [WHY_FILTERED] = "filtered",
    [WHY_QUOTA_LIMIT] = "quota limit",
    [WHY_HEADROOM] = "headroom kept for quota",
    [WHY_AGENT_DOWN] = "agent inactive or in maintenance",
};

int alloc_explain(alloc_core *a, const char *framework_id, int64_t now_ms, char *buf, size_t len)
{
	struct alloc_framework *f = framework_id ? strmap_get(&a->frameworks, framework_id) : NULL;
	if (f == NULL)
		return -alloc__warn("explain", ALLOC_ENOENT, "unknown framework '%s'",
		                    framework_id ? framework_id : "(null)");
	struct pass *p = &a->p;
	alloc__pass_prepare(a, p, now_ms);
	size_t used = 0;
	int offerable = 0;
	if (buf && len)
		buf[0] = '\0';
	for (size_t i = 0; i < f->nclients; i++) {
		struct client *c = f->clients[i];
		char line[512];
		int n;
		if (!c->subscribed)
			continue;
		if (!f->active || c->suppressed) {
			n = snprintf(line, sizeof(line), "%s role %s: %s\n", f->id, c->role->name,
			             !f->active ? "framework inactive" : "suppressed");
		} else {
			size_t count[WHY_MAX] = {0};
			for (size_t j = 0; j < a->nagents && !p->err; j++) {
				struct alloc_agent *g = a->agent_v[j];
				enum why why = WHY_AGENT_DOWN;
				if (alloc__agent_offerable(g)) {
					p->agent = g;
					p->phase = PHASE_FAIR;
					bool whole;
					avec all, unres;
					px_resources *o = alloc__offer_for(a, p, c, g, &why, &whole,
					                                   &all, &unres);
					if (!whole)
						px_resources_free(o);
				}
				count[why]++;
			}
			offerable += (int)count[WHY_OFFERED];
			n = snprintf(line, sizeof(line),
			             "%s role %s: offerable on %zu of %zu agents", f->id,
			             c->role->name, count[WHY_OFFERED], a->nagents);
			const char *sep = ":";
			for (int w = 1; w < WHY_MAX && n > 0 && (size_t)n < sizeof(line); w++) {
				if (count[w] == 0)
					continue;
				n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %zu %s", sep,
				              count[w], why_text[w]);
				sep = ",";
			}
			if (n > 0 && (size_t)n < sizeof(line) - 1) {
				line[n++] = '\n';
				line[n] = '\0';
			}
		}
		actor_debug("allocator: %.*s", n > 0 ? n - 1 : 0, line);
		if (buf && n > 0 && used + (size_t)n < len) {
			memcpy(buf + used, line, (size_t)n + 1);
			used += (size_t)n;
		}
	}
	p->agent = NULL;
	return p->err ? -p->err : offerable;
}

/* ---- why a request finds no offer ------------------------------------------------------ */

/* What an agent holds for a request, as explain_request sorts them. */
enum fit {
	FIT_OFFERABLE, /* a pass would offer it now */
	FIT_OTHERS,    /* what is free is too little: other frameworks hold the rest */
	FIT_OWN,       /* what is free is too little: the framework's own offers and tasks */
	FIT_FILTERED,  /* a decline's filter */
	FIT_QUOTA,     /* the role's (or an ancestor's) quota limit */
	FIT_HEADROOM,  /* held back for other roles' quota guarantees */
	FIT_DOWN,      /* in maintenance or inactive */
	FIT_MAX
};

static const char *const fit_text[FIT_MAX] = {
    [FIT_OFFERABLE] = "can offer it now",           [FIT_OTHERS] = "allocated to other frameworks",
    [FIT_OWN] = "held by its own offers and tasks", [FIT_FILTERED] = "filtered by its declines",
    [FIT_QUOTA] = "beyond the quota limit",         [FIT_HEADROOM] = "kept for quota guarantees",
    [FIT_DOWN] = "in maintenance or inactive",
};

/* A bounded text being written: appends stop quietly at the end (the text is cut). */
struct text {
	char *buf;
	size_t len, used;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	if (t->buf == NULL || t->used + 1 >= t->len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->len ? t->used + (size_t)n : t->len - 1;
}

/* The request as text, "cpus:4; mem:64" (its own formatting, without reservations). */
static void put_resources(struct text *t, const px_resources *rs)
{
	char *s = px_resources_format(rs);
	put(t, "%s", s ? s : "?");
	free(s);
}

/* What role may use of rs, without reservations, so that it compares with an
 * unreserved request. NULL when out of memory. */
static px_resources *usable_by(const px_resources *rs, const char *role)
{
	px_resources *mine = NULL, *flat = NULL;
	if (px_resources_allocatable_to(rs, role, &mine) == PX_OK)
		px_resources_flatten(mine, &flat);
	px_resources_free(mine);
	return flat;
}

/* Names of up to `max` distinct frameworks, other than f, holding something on g. */
static size_t holders(const struct alloc_agent *g, const struct alloc_framework *f,
                      const char **names, size_t n, size_t max)
{
	for (size_t i = 0; i < g->nrecs; i++) {
		const struct record *r = &g->recs[i];
		const struct alloc_framework *o = r->c->fw;
		if (o == f || (alloc__rs_empty(r->offered) && alloc__rs_empty(r->used)))
			continue;
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(names[k], o->id) == 0;
		if (!seen && n < max)
			names[n++] = o->id;
	}
	return n;
}

static bool holds_own(const struct alloc_agent *g, const struct alloc_framework *f)
{
	for (size_t i = 0; i < g->nrecs; i++)
		if (g->recs[i].c->fw == f &&
		    (!alloc__rs_empty(g->recs[i].offered) || !alloc__rs_empty(g->recs[i].used)))
			return true;
	return false;
}

/* Sorts agent g for client c of framework f and request req (usable totals already
 * known to hold it); adds the frameworks holding what is missing to names. */
static enum fit fit_of(alloc_core *a, struct pass *p, struct client *c, struct alloc_agent *g,
                       const px_resources *req, const char **names, size_t *nnames, size_t max)
{
	if (!alloc__agent_offerable(g))
		return FIT_DOWN;
	px_resources *free_now = usable_by(g->free, c->role->name);
	bool fits = free_now != NULL && px_resources_contains(free_now, req);
	px_resources_free(free_now);
	if (!fits) {
		size_t before = *nnames;
		*nnames = holders(g, c->fw, names, *nnames, max);
		return *nnames > before || !holds_own(g, c->fw) ? FIT_OTHERS : FIT_OWN;
	}
	enum why why;
	bool whole;
	avec all, unres;
	p->agent = g;
	p->phase = PHASE_FAIR;
	px_resources *o = alloc__offer_for(a, p, c, g, &why, &whole, &all, &unres);
	px_resources *plain = NULL;
	bool enough = o != NULL && px_resources_flatten(o, &plain) == PX_OK &&
	              px_resources_contains(plain, req);
	px_resources_free(plain);
	if (o != NULL && !whole)
		px_resources_free(o);
	if (enough)
		return FIT_OFFERABLE;
	if (why == WHY_FILTERED)
		return FIT_FILTERED;
	if (why == WHY_HEADROOM)
		return FIT_HEADROOM;
	/* An offer shrunk below the request, or none at all with room free: a limit. */
	return FIT_QUOTA;
}

/* The role (c's or an ancestor's) whose quota limit is below the request, if any. */
static const struct role *limit_below(alloc_core *a, const struct client *c,
                                      const px_resources *req, size_t *name)
{
	for (const struct role *x = c->role; x != &a->root; x = x->parent) {
		if (!x->has_limit)
			continue;
		for (size_t k = 0; k < a->nnames; k++)
			if (x->limit.v[k] != ALLOC_UNSET &&
			    x->limit.v[k] < px_resources_scalar(req, a->names[k])) {
				*name = k;
				return x;
			}
	}
	return NULL;
}

/* "no agent has cpus:4; the largest has cpus:2": the request's scalars that no agent
 * has, each with the largest an agent has (totals the role may use). */
static void put_too_large(alloc_core *a, struct text *t, const px_resources *req, const char *role)
{
	size_t n = px_resources_size(req), missing = 0;
	int64_t *best = calloc(n ? n : 1, sizeof(*best));
	bool *none = calloc(n ? n : 1, sizeof(*none));

	for (size_t j = 0; best && none && j < a->nagents; j++) {
		px_resources *mine = usable_by(a->agent_v[j]->total, role);
		for (size_t i = 0; i < n; i++) {
			const struct px_resource *e = px_resources_at(req, i);
			if (px_resource_type(e) != PX_SCALAR)
				continue;
			int64_t v = px_resources_scalar(mine, px_resource_name(e));
			if (v > best[i])
				best[i] = v;
		}
		px_resources_free(mine);
	}
	char x[32], y[32];
	for (size_t i = 0; best && none && i < n; i++) {
		const struct px_resource *e = px_resources_at(req, i);
		none[i] = px_resource_type(e) == PX_SCALAR && best[i] < px_resource_scalar(e);
		missing += none[i];
	}
	if (missing == 0) {
		/* Each alone exists somewhere, not all of it on one agent (or a range or set
		 * that no agent has). */
		put(t, "no agent has all of ");
		put_resources(t, req);
		put(t, " at once");
	} else {
		const char *sep = "";
		put(t, "no agent has ");
		for (size_t i = 0; i < n; i++)
			if (none[i]) {
				const struct px_resource *e = px_resources_at(req, i);
				put(t, "%s%s:%s", sep, px_resource_name(e),
				    px_scalar_format(px_resource_scalar(e), x, sizeof(x)));
				sep = "; ";
			}
		put(t, "; the largest has ");
		sep = "";
		for (size_t i = 0; i < n; i++)
			if (none[i]) {
				put(t, "%s%s:%s", sep, px_resource_name(px_resources_at(req, i)),
				    px_scalar_format(best[i], y, sizeof(y)));
				sep = "; ";
			}
	}
	free(best);
	free(none);
}

int alloc_explain_request(alloc_core *a, const char *framework_id, const char *role,
                          const px_resources *request, int64_t now_ms, char *buf, size_t len)
{
	struct alloc_framework *f = framework_id ? strmap_get(&a->frameworks, framework_id) : NULL;
	struct text t = {.buf = buf, .len = len};

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	if (f == NULL)
		return -alloc__warn("explain_request", ALLOC_ENOENT, "unknown framework '%s'",
		                    framework_id ? framework_id : "(null)");
	if (request == NULL || px_resources_is_empty(request))
		return -alloc__warn("explain_request", ALLOC_EINVAL, "an empty request");
	struct client *c = NULL;
	for (size_t i = 0; i < f->nclients && c == NULL; i++)
		if (f->clients[i]->subscribed &&
		    (role == NULL || strcmp(f->clients[i]->role->name, role) == 0))
			c = f->clients[i];
	if (c == NULL)
		return -alloc__warn("explain_request", ALLOC_ENOENT,
		                    "framework '%s' is not subscribed to role '%s'", f->id,
		                    role ? role : "(any)");
	const char *rname = c->role->name;

	size_t capable = 0, count[FIT_MAX] = {0};
	const char *names[8], *down[4];
	size_t nnames = 0, ndown = 0;
	struct pass *p = &a->p;
	alloc__pass_prepare(a, p, now_ms);
	for (size_t j = 0; j < a->nagents && !p->err; j++) {
		struct alloc_agent *g = a->agent_v[j];
		px_resources *mine = usable_by(g->total, rname);
		bool fits = mine != NULL && px_resources_contains(mine, request);
		px_resources_free(mine);
		if (!fits)
			continue;
		capable++;
		enum fit why = fit_of(a, p, c, g, request, names, &nnames, 8);
		count[why]++;
		if (why == FIT_DOWN && ndown < 4)
			down[ndown++] = g->id;
	}
	p->agent = NULL;
	if (p->err)
		return -p->err;

	size_t limit_name = 0;
	const struct role *limit = limit_below(a, c, request, &limit_name);
	char x[32];
	if (!f->active) {
		put(&t, "the framework is inactive (disconnected or failing over): it gets no "
		        "offers until its scheduler is back");
	} else if (a->nagents == 0) {
		put(&t, "there are no agents");
	} else if (capable == 0) {
		put_too_large(a, &t, request, rname);
	} else if (limit != NULL) {
		put(&t, "the quota limit of role %s is %s:%s, less than the request ", limit->name,
		    a->names[limit_name],
		    px_scalar_format(limit->limit.v[limit_name], x, sizeof(x)));
		put_resources(&t, request);
	} else if (c->suppressed) {
		put(&t,
		    "the framework is suppressed in role %s: it gets no offers until it "
		    "revives (%zu agent%s could hold ",
		    rname, capable, capable == 1 ? "" : "s");
		put_resources(&t, request);
		put(&t, ")");
	} else {
		enum fit only = FIT_MAX;
		for (int w = 0; w < FIT_MAX; w++)
			if (count[w] == capable)
				only = (enum fit)w;
		const char *all = capable == 1 ? "the only agent" : "all";
		switch (only) {
		case FIT_OFFERABLE:
			put(&t, "%zu agent%s with ", capable, capable == 1 ? "" : "s");
			put_resources(&t, request);
			put(&t, " can offer it now: the next pass offers it");
			break;
		case FIT_OTHERS:
			put(&t, "%s %zu agent%s with ", all, capable, capable == 1 ? "" : "s");
			put_resources(&t, request);
			put(&t, " %s allocated to other frameworks:", capable == 1 ? "is" : "are");
			for (size_t i = 0; i < nnames; i++)
				put(&t, "%s %s", i ? "," : "", names[i]);
			break;
		case FIT_OWN:
			put(&t, "%s %zu agent%s with ", all, capable, capable == 1 ? "" : "s");
			put_resources(&t, request);
			put(&t, " %s held by the framework's own offers and tasks",
			    capable == 1 ? "is" : "are");
			break;
		case FIT_FILTERED:
			put(&t,
			    "filters from the framework's declines are still active on %s %zu "
			    "agent%s with ",
			    all, capable, capable == 1 ? "" : "s");
			put_resources(&t, request);
			put(&t, " (revive to clear them)");
			break;
		case FIT_QUOTA:
			put(&t, "the quota limit of role %s leaves less than ", rname);
			put_resources(&t, request);
			break;
		case FIT_HEADROOM:
			put(&t, "%s %zu agent%s with ", all, capable, capable == 1 ? "" : "s");
			put_resources(&t, request);
			put(&t, " %s kept for other roles' quota guarantees",
			    capable == 1 ? "is" : "are");
			break;
		case FIT_DOWN:
			put(&t, "%s %zu agent%s with ", all, capable, capable == 1 ? "" : "s");
			put_resources(&t, request);
			put(&t, " %s in maintenance or inactive:", capable == 1 ? "is" : "are");
			for (size_t i = 0; i < ndown; i++)
				put(&t, "%s %s", i ? "," : "", down[i]);
			break;
		case FIT_MAX: {
			const char *sep = ": ";
			put(&t, "of the %zu agents with ", capable);
			put_resources(&t, request);
			for (int w = 0; w < FIT_MAX; w++) {
				if (count[w] == 0)
					continue;
				put(&t, "%s%zu %s", sep, count[w], fit_text[w]);
				if (w == FIT_OTHERS)
					for (size_t i = 0; i < nnames; i++)
						put(&t, "%s%s", i ? ", " : " (", names[i]);
				if (w == FIT_OTHERS && nnames > 0)
					put(&t, ")");
				sep = ", ";
			}
			break;
		}
		}
	}
	actor_debug("allocator: %s role %s: %s", f->id, rname, buf ? buf : "");
	return (int)count[FIT_OFFERABLE];
}
