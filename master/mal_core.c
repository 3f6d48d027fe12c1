/* mal_core.c — mal.h on the allocator core of master/allocator/ (allocator.h), used
 * synchronously inside the master actor: the core is pure and single-threaded, so the
 * master calls it directly, passes it the runtime's clock, and turns each pass's batch
 * into offers. (allocator_actor.h would run the same core as an actor of its own;
 * inside one actor the master keeps its books and the allocator's in step without
 * messages between them.) Calls the core refuses are logged by the core and change
 * nothing. */
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator.h"
#include "master/mal.h"
#include "master/master_internal.h"

struct mal {
	struct master *m;
	alloc_core *core;
};

struct mal *mal_new(struct master *m)
{
	struct mal *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->m = m;
	a->core = alloc_core_new(NULL);
	if (a->core == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void mal_free(struct mal *a)
{
	if (a == NULL)
		return;
	alloc_core_free(a->core);
	free(a);
}

int mal_framework_add(struct mal *a, const char *id, const char *role, bool active)
{
	const char *roles[1] = {role};
	int rv = alloc_framework_add(a->core, id, roles, 1);

	if (rv == ALLOC_EEXIST)
		rv = 0;
	if (rv == 0)
		alloc_framework_set_active(a->core, id, active);
	return rv;
}

void mal_framework_remove(struct mal *a, const char *id)
{
	alloc_framework_remove(a->core, id);
}

void mal_framework_activate(struct mal *a, const char *id, bool active)
{
	alloc_framework_set_active(a->core, id, active);
}

void mal_framework_suppress(struct mal *a, const char *id)
{
	alloc_suppress(a->core, id, NULL);
}

void mal_framework_revive(struct mal *a, const char *id)
{
	alloc_revive(a->core, id, NULL);
}

int mal_agent_add(struct mal *a, const char *id, const px_resources *total)
{
	int rv = alloc_agent_add(a->core, id, total);

	if (rv == ALLOC_EEXIST) {
		alloc_agent_remove(a->core, id);
		rv = alloc_agent_add(a->core, id, total);
	}
	return rv;
}

void mal_agent_remove(struct mal *a, const char *id)
{
	alloc_agent_remove(a->core, id);
}

void mal_agent_activate(struct mal *a, const char *id, bool active)
{
	alloc_agent_set_active(a->core, id, active);
}

void mal_recover_offered(struct mal *a, const char *framework_id, const char *role,
                         const char *agent_id, const px_resources *res, double refuse_seconds)
{
	int64_t refuse_ms = 0;

	if (px_resources_is_empty(res))
		return;
	if (refuse_seconds > 0)
		/* Mesos caps a filter at a year; longer is the same in practice. */
		refuse_ms = refuse_seconds > 31536000.0 ? 31536000000LL
		                                        : (int64_t)(refuse_seconds * 1000.0);
	alloc_recover_offered(a->core, framework_id, role, agent_id, res, refuse_ms,
	                      actor_clock_now());
}

void mal_offer_use(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                   const px_resources *res)
{
	alloc_offer_use(a->core, framework_id, role, agent_id, res);
}

void mal_recover_used(struct mal *a, const char *framework_id, const char *role,
                      const char *agent_id, const px_resources *res)
{
	if (!px_resources_is_empty(res))
		alloc_recover_used(a->core, framework_id, role, agent_id, res);
}

void mal_used_add(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                  const px_resources *res)
{
	if (!px_resources_is_empty(res))
		alloc_used_add(a->core, framework_id, role, agent_id, res);
}

int mal_offer_apply(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                    const Plexus__Offer__Operation *op, char *err, size_t errlen)
{
	return alloc_offer_apply(a->core, framework_id, role, agent_id, op, err, errlen);
}

static int by_framework(const void *x, const void *y)
{
	const struct offer *a = *(struct offer *const *)x, *b = *(struct offer *const *)y;

	return strcmp(a->framework_id, b->framework_id);
}

void mal_run(struct mal *a)
{
	alloc_offers *batch = NULL;

	if (alloc_run(a->core, actor_clock_now(), &batch) != ALLOC_OK)
		return;
	size_t n = alloc_offers_count(batch), k = 0;
	struct offer **made = calloc(n ? n : 1, sizeof(*made));
	for (size_t i = 0; i < n; i++) {
		const alloc_offer *o = alloc_offers_at(batch, i);
		px_resources *res = made ? px_resources_copy(o->resources) : NULL;
		if (res == NULL) {
			mal_recover_offered(a, o->framework_id, o->role, o->agent_id, o->resources,
			                    0);
			continue;
		}
		struct offer *of = offer_create(a->m, o->framework_id, o->agent_id, o->role, res);
		if (of != NULL)
			made[k++] = of;
	}
	alloc_offers_free(batch);
	/* One message per framework with all its offers of the pass, as Mesos sends them. */
	if (k > 1)
		qsort(made, k, sizeof(*made), by_framework);
	for (size_t i = 0; i < k;) {
		size_t j = i + 1;
		while (j < k && strcmp(made[j]->framework_id, made[i]->framework_id) == 0)
			j++;
		struct framework *fw = framework_find(a->m, made[i]->framework_id);
		if (fw != NULL)
			offers_send(a->m, fw, made + i, j - i);
		i = j;
	}
	free(made);
	if (k > 0)
		master_update_gauges(a->m);
}
