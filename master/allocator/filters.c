/* filters.c — offer filters: a decline with refuse_seconds keeps the declined
 * resources (or less) on that agent away from the client until it expires.
 *
 * One hash per client keyed by the agent's serial, so checking a candidate during a
 * pass is one lookup, and a client without filters costs nothing. Like Mesos's
 * RefusedOfferFilter, a filter only refuses offers that fit within what was declined:
 * if more becomes free on the agent, it is offered again. Expiry is checked against
 * the caller's clock on lookup; expired filters are dropped then. */
#include <stdlib.h>

#include "internal.h"

void alloc__filter_add(struct client *c, uint64_t agent_serial, int64_t expires_ms,
                       const avec *declined)
{
	struct filter *f = u64map_get(&c->filters, agent_serial);
	if (f == NULL) {
		f = malloc(sizeof(*f));
		if (f == NULL)
			return; /* out of memory: the filter is an optimisation, skip it */
		if (u64map_put(&c->filters, agent_serial, f) != 0) {
			free(f);
			return;
		}
	}
	/* A newer decline replaces the older filter, as in Mesos. */
	f->expires_ms = expires_ms;
	f->declined = *declined;
}

bool alloc__filtered(struct client *c, uint64_t agent_serial, int64_t now_ms, const avec *offer)
{
	if (c->filters.n == 0)
		return false;
	struct filter *f = u64map_get(&c->filters, agent_serial);
	if (f == NULL)
		return false;
	if (now_ms >= f->expires_ms) {
		free(u64map_del(&c->filters, agent_serial));
		return false;
	}
	for (size_t i = 0; i < ALLOC_NAMES; i++)
		if (offer->v[i] > f->declined.v[i])
			return false;
	return true;
}

void alloc__filters_clear(struct client *c)
{
	for (size_t i = 0; i < c->filters.cap; i++)
		if (c->filters.v[i].key != 0)
			free(c->filters.v[i].value);
	u64map_fini(&c->filters);
}

void alloc__filters_fini(struct client *c)
{
	alloc__filters_clear(c);
}
