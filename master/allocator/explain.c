/* explain.c — figures per role for metrics and the master's state, and the answer
 * to "why does this framework get nothing?". */
#include <stdio.h>
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
	struct framework *f = framework_id ? strmap_get(&a->frameworks, framework_id) : NULL;
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
				struct agent *g = a->agent_v[j];
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
