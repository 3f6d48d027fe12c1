/* helpers.h — shared by the allocator tests: building resources, running passes and
 * acting as simple frameworks on the offers. */
#ifndef TESTS_ALLOCATOR_HELPERS_H
#define TESTS_ALLOCATOR_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "master/allocator/allocator.h"

/* Parses resource text (static reservations as "cpus(eng):2"); fails the test on
 * error. Caller frees. */
static inline px_resources *R(const char *text)
{
	px_resources *rs = NULL;
	char err[256] = "";
	cr_assert_eq(px_resources_parse(text, NULL, &rs, err, sizeof(err)), PX_OK, "parse '%s': %s",
	             text, err);
	return rs;
}

/* A scalar dynamically reserved for role. Caller frees. */
static inline px_resources *DYN(const char *role, const char *name, double value)
{
	char json[512];
	snprintf(json, sizeof(json),
	         "[{\"name\":\"%s\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g},"
	         "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"%s\"}]}]",
	         name, value, role);
	return R(json);
}

/* Thousandths of name in rs (every identity): S(rs, "mem") is 1024000 for 1 GiB. */
static inline int64_t S(const px_resources *rs, const char *name)
{
	return rs ? px_resources_scalar(rs, name) : 0;
}

static inline alloc_offers *run(alloc_core *a, int64_t now)
{
	alloc_offers *b = NULL;
	cr_assert_eq(alloc_run(a, now, &b), ALLOC_OK);
	cr_assert_not_null(b);
	return b;
}

/* The offer in b for framework fw (on agent, when agent is not NULL), or NULL. */
static inline const alloc_offer *offer_to(const alloc_offers *b, const char *fw, const char *agent)
{
	for (size_t i = 0; i < alloc_offers_count(b); i++) {
		const alloc_offer *o = alloc_offers_at(b, i);
		if (strcmp(o->framework_id, fw) == 0 &&
		    (agent == NULL || strcmp(o->agent_id, agent) == 0))
			return o;
	}
	return NULL;
}

/* Declines every offer of b with refuse_ms, then frees b. */
static inline void decline_all(alloc_core *a, alloc_offers *b, int64_t refuse_ms, int64_t now)
{
	for (size_t i = 0; i < alloc_offers_count(b); i++) {
		const alloc_offer *o = alloc_offers_at(b, i);
		cr_assert_eq(alloc_recover_offered(a, o->framework_id, o->role, o->agent_id,
		                                   o->resources, refuse_ms, now),
		             ALLOC_OK);
	}
	alloc_offers_free(b);
}

/* Adds a framework with one role. */
static inline void fw1(alloc_core *a, const char *id, const char *role)
{
	const char *roles[] = {role};
	cr_assert_eq(alloc_framework_add(a, id, roles, 1), ALLOC_OK);
}

static inline void agent(alloc_core *a, const char *id, const char *text)
{
	px_resources *rs = R(text);
	cr_assert_eq(alloc_agent_add(a, id, rs), ALLOC_OK);
	px_resources_free(rs);
}

/* Takes one task-sized piece of offer o (if it fits) as used, declines the rest with
 * refuse_ms. Returns whether the task fitted. */
static inline bool take_task(alloc_core *a, const alloc_offer *o, const px_resources *task,
                             int64_t refuse_ms, int64_t now)
{
	bool fits = px_resources_contains(o->resources, task);
	px_resources *rest = px_resources_copy(o->resources);
	if (fits) {
		cr_assert_eq(alloc_offer_use(a, o->framework_id, o->role, o->agent_id, task),
		             ALLOC_OK);
		px_resources_subtract(rest, task);
	}
	if (!px_resources_is_empty(rest))
		cr_assert_eq(alloc_recover_offered(a, o->framework_id, o->role, o->agent_id, rest,
		                                   fits ? 0 : refuse_ms, now),
		             ALLOC_OK);
	px_resources_free(rest);
	return fits;
}

/* A RESERVE (or UNRESERVE) operation of rs; free with op_free(). */
static inline Plexus__Offer__Operation *reserve_op(const px_resources *rs, bool unreserve)
{
	Plexus__Offer__Operation *op = calloc(1, sizeof(*op));
	plexus__offer__operation__init(op);
	Plexus__Resource **pb;
	size_t n;
	cr_assert_eq(px_resources_to_pb(rs, PX_PB_REFINED, &pb, &n), PX_OK);
	op->has_type = 1;
	if (unreserve) {
		op->type = PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE;
		op->unreserve = calloc(1, sizeof(*op->unreserve));
		plexus__offer__operation__unreserve__init(op->unreserve);
		op->unreserve->resources = pb;
		op->unreserve->n_resources = n;
	} else {
		op->type = PLEXUS__OFFER__OPERATION__TYPE__RESERVE;
		op->reserve = calloc(1, sizeof(*op->reserve));
		plexus__offer__operation__reserve__init(op->reserve);
		op->reserve->resources = pb;
		op->reserve->n_resources = n;
	}
	return op;
}

static inline void op_free(Plexus__Offer__Operation *op)
{
	if (op->reserve) {
		px_pb_resources_free(op->reserve->resources, op->reserve->n_resources);
		free(op->reserve);
	}
	if (op->unreserve) {
		px_pb_resources_free(op->unreserve->resources, op->unreserve->n_resources);
		free(op->unreserve);
	}
	free(op);
}

#endif
