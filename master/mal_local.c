/* mal_local.c — a small in-process allocator behind mal.h.
 *
 * It keeps, per agent, the total and what is allocated (offered or used by tasks), and
 * per framework what it holds. Each run walks the active agents and gives what is free
 * on an agent to the active, unsuppressed framework with the lowest dominant share
 * (DRF over cpus, mem and disk) that may use it, unless a decline filter of that
 * framework still covers those resources. This is the behaviour the master's offer
 * path needs until the hierarchical allocator of master/allocator/ replaces this file. */
#include <stdlib.h>
#include <string.h>

#include "master/mal.h"
#include "master/master_internal.h"

struct afw {
	char *id;
	char *role;
	bool active;
	bool suppressed;
	px_resources *allocated;
};

struct aagent {
	char *id;
	bool active;
	px_resources *total;
	px_resources *allocated;
};

struct afilter {
	char *framework_id;
	char *agent_id;
	px_resources *refused;
	int64_t expires; /* runtime clock, ms */
};

struct mal {
	struct master *m;
	struct afw *fws;
	size_t n_fws;
	struct aagent *agents;
	size_t n_agents;
	struct afilter *filters;
	size_t n_filters;
};

struct mal *mal_new(struct master *m)
{
	struct mal *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->m = m;
	return a;
}

static void filter_fini(struct afilter *f)
{
	free(f->framework_id);
	free(f->agent_id);
	px_resources_free(f->refused);
}

void mal_free(struct mal *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_fws; i++) {
		free(a->fws[i].id);
		free(a->fws[i].role);
		px_resources_free(a->fws[i].allocated);
	}
	for (size_t i = 0; i < a->n_agents; i++) {
		free(a->agents[i].id);
		px_resources_free(a->agents[i].total);
		px_resources_free(a->agents[i].allocated);
	}
	for (size_t i = 0; i < a->n_filters; i++)
		filter_fini(&a->filters[i]);
	free(a->fws);
	free(a->agents);
	free(a->filters);
	free(a);
}

static struct afw *fw_get(struct mal *a, const char *id)
{
	for (size_t i = 0; i < a->n_fws; i++)
		if (strcmp(a->fws[i].id, id) == 0)
			return &a->fws[i];
	return NULL;
}

static struct aagent *agent_get(struct mal *a, const char *id)
{
	for (size_t i = 0; i < a->n_agents; i++)
		if (strcmp(a->agents[i].id, id) == 0)
			return &a->agents[i];
	return NULL;
}

int mal_framework_add(struct mal *a, const char *id, const char *role, bool active)
{
	if (fw_get(a, id) != NULL)
		return 0;
	struct afw *fws = realloc(a->fws, (a->n_fws + 1) * sizeof(*fws));
	if (fws == NULL)
		return ACTOR_ENOMEM;
	a->fws = fws;
	struct afw *f = &a->fws[a->n_fws];
	*f = (struct afw){.id = strdup(id), .role = strdup(role), .active = active,
			  .allocated = px_resources_new()};
	if (f->id == NULL || f->role == NULL || f->allocated == NULL) {
		free(f->id);
		free(f->role);
		px_resources_free(f->allocated);
		return ACTOR_ENOMEM;
	}
	a->n_fws++;
	return 0;
}

static void filters_drop(struct mal *a, const char *framework_id, const char *agent_id)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n_filters; i++) {
		struct afilter *f = &a->filters[i];
		bool drop = (framework_id && strcmp(f->framework_id, framework_id) == 0) ||
			    (agent_id && strcmp(f->agent_id, agent_id) == 0) ||
			    f->expires <= actor_clock_now();
		if (drop)
			filter_fini(f);
		else
			a->filters[j++] = *f;
	}
	a->n_filters = j;
}

void mal_framework_remove(struct mal *a, const char *id)
{
	struct afw *f = fw_get(a, id);

	if (f == NULL)
		return;
	/* What it held is free again on each agent. */
	for (size_t i = 0; i < a->n_agents; i++)
		px_resources_subtract(a->agents[i].allocated, f->allocated);
	free(f->id);
	free(f->role);
	px_resources_free(f->allocated);
	*f = a->fws[--a->n_fws];
	filters_drop(a, id, NULL);
}

void mal_framework_activate(struct mal *a, const char *id, bool active)
{
	struct afw *f = fw_get(a, id);

	if (f != NULL)
		f->active = active;
}

void mal_framework_suppress(struct mal *a, const char *id)
{
	struct afw *f = fw_get(a, id);

	if (f != NULL)
		f->suppressed = true;
}

void mal_framework_revive(struct mal *a, const char *id)
{
	struct afw *f = fw_get(a, id);

	if (f == NULL)
		return;
	f->suppressed = false;
	filters_drop(a, id, NULL);
}

int mal_agent_add(struct mal *a, const char *id, const px_resources *total,
		    const px_resources *used)
{
	if (agent_get(a, id) != NULL)
		mal_agent_remove(a, id);
	struct aagent *ags = realloc(a->agents, (a->n_agents + 1) * sizeof(*ags));
	if (ags == NULL)
		return ACTOR_ENOMEM;
	a->agents = ags;
	struct aagent *g = &a->agents[a->n_agents];
	*g = (struct aagent){.id = strdup(id), .active = true, .total = px_resources_copy(total),
			     .allocated = used ? px_resources_copy(used) : px_resources_new()};
	if (g->id == NULL || g->total == NULL || g->allocated == NULL) {
		free(g->id);
		px_resources_free(g->total);
		px_resources_free(g->allocated);
		return ACTOR_ENOMEM;
	}
	a->n_agents++;
	return 0;
}

void mal_agent_remove(struct mal *a, const char *id)
{
	struct aagent *g = agent_get(a, id);

	if (g == NULL)
		return;
	free(g->id);
	px_resources_free(g->total);
	px_resources_free(g->allocated);
	*g = a->agents[--a->n_agents];
	filters_drop(a, NULL, id);
}

void mal_agent_activate(struct mal *a, const char *id, bool active)
{
	struct aagent *g = agent_get(a, id);

	if (g != NULL)
		g->active = active;
}

void mal_agent_update_total(struct mal *a, const char *id, const px_resources *total)
{
	struct aagent *g = agent_get(a, id);
	px_resources *copy = px_resources_copy(total);

	if (g == NULL || copy == NULL) {
		px_resources_free(copy);
		return;
	}
	px_resources_free(g->total);
	g->total = copy;
}

void mal_recover(struct mal *a, const char *framework_id, const char *agent_id,
		   const px_resources *res, double refuse_seconds)
{
	struct aagent *g = agent_get(a, agent_id);
	struct afw *f = fw_get(a, framework_id);

	if (g != NULL)
		px_resources_subtract(g->allocated, res);
	if (f != NULL)
		px_resources_subtract(f->allocated, res);
	if (f == NULL || g == NULL || refuse_seconds <= 0 || px_resources_is_empty(res))
		return;
	/* Mesos caps a filter at a year; anything longer is the same in practice. */
	if (refuse_seconds > 365.0 * 86400)
		refuse_seconds = 365.0 * 86400;
	struct afilter *fs = realloc(a->filters, (a->n_filters + 1) * sizeof(*fs));
	if (fs == NULL)
		return;
	a->filters = fs;
	struct afilter *flt = &a->filters[a->n_filters];
	*flt = (struct afilter){.framework_id = strdup(framework_id), .agent_id = strdup(agent_id),
				.refused = px_resources_copy(res),
				.expires = actor_clock_now() + (int64_t)(refuse_seconds * 1000)};
	if (flt->framework_id == NULL || flt->agent_id == NULL || flt->refused == NULL) {
		filter_fini(flt);
		return;
	}
	a->n_filters++;
}

void mal_transform(struct mal *a, const char *framework_id, const char *agent_id,
		     const px_resources *before, const px_resources *after,
		     const px_resources *total)
{
	struct aagent *g = agent_get(a, agent_id);
	struct afw *f = fw_get(a, framework_id);

	if (g != NULL) {
		px_resources_subtract(g->allocated, before);
		px_resources_add(g->allocated, after);
		mal_agent_update_total(a, agent_id, total);
	}
	if (f != NULL) {
		px_resources_subtract(f->allocated, before);
		px_resources_add(f->allocated, after);
	}
}

static bool filtered(struct mal *a, const char *fw, const char *agent, const px_resources *res)
{
	int64_t now = actor_clock_now();

	for (size_t i = 0; i < a->n_filters; i++) {
		struct afilter *f = &a->filters[i];
		if (f->expires > now && strcmp(f->framework_id, fw) == 0 &&
		    strcmp(f->agent_id, agent) == 0 && px_resources_contains(f->refused, res))
			return true;
	}
	return false;
}

/* Dominant share of a framework over cpus, mem and disk of the whole cluster. */
static double dominant_share(const px_resources *held, const int64_t *totals)
{
	static const char *const names[] = {"cpus", "mem", "disk"};
	double share = 0;

	for (size_t i = 0; i < 3; i++) {
		if (totals[i] <= 0)
			continue;
		double s = (double)px_resources_scalar(held, names[i]) / (double)totals[i];
		if (s > share)
			share = s;
	}
	return share;
}

/* The active framework with the lowest share that may take res on agent, or NULL. */
static struct afw *pick(struct mal *a, struct aagent *g, const px_resources *avail,
			const int64_t *totals, px_resources **give)
{
	struct afw *best = NULL;
	double best_share = 0;
	px_resources *best_give = NULL;

	for (size_t i = 0; i < a->n_fws; i++) {
		struct afw *f = &a->fws[i];
		px_resources *r = NULL;
		if (!f->active || f->suppressed)
			continue;
		if (px_resources_allocatable_to(avail, f->role, &r) != PX_OK)
			continue;
		if (px_resources_is_empty(r) || filtered(a, f->id, g->id, r)) {
			px_resources_free(r);
			continue;
		}
		double share = dominant_share(f->allocated, totals);
		if (best == NULL || share < best_share) {
			px_resources_free(best_give);
			best = f;
			best_share = share;
			best_give = r;
		} else {
			px_resources_free(r);
		}
	}
	*give = best_give;
	return best;
}

void mal_run(struct mal *a)
{
	int64_t totals[3] = {0, 0, 0};

	filters_drop(a, NULL, NULL); /* only expired ones */
	for (size_t i = 0; i < a->n_agents; i++) {
		totals[0] += px_resources_scalar(a->agents[i].total, "cpus");
		totals[1] += px_resources_scalar(a->agents[i].total, "mem");
		totals[2] += px_resources_scalar(a->agents[i].total, "disk");
	}
	for (size_t i = 0; i < a->n_agents; i++) {
		struct aagent *g = &a->agents[i];
		if (!g->active)
			continue;
		px_resources *avail = px_resources_copy(g->total);
		if (avail == NULL)
			return;
		px_resources_subtract(avail, g->allocated);
		for (;;) {
			px_resources *give = NULL;
			struct afw *f = pick(a, g, avail, totals, &give);
			if (f == NULL)
				break;
			px_resources_add(g->allocated, give);
			px_resources_add(f->allocated, give);
			px_resources_subtract(avail, give);
			/* The callback may not touch the allocator, so the arrays stay put. */
			offer_make(a->m, f->id, g->id, f->role, give);
		}
		px_resources_free(avail);
	}
}
