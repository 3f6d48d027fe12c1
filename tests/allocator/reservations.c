/* Reservations: static and dynamic ones are offered only to their role and its
 * children; unreserving returns them to the pool; operations on offers. */
#include "helpers.h"

/* True when every reserved entry of rs is for role or one of its ancestors. */
static bool reserved_within(const px_resources *rs, const char *role)
{
	for (size_t i = 0; i < px_resources_size(rs); i++) {
		const struct px_resource *e = px_resources_at(rs, i);
		if (!px_resource_is_reserved(e))
			continue;
		const char *r = px_resource_role(e);
		size_t n = strlen(r);
		if (strncmp(role, r, n) != 0 || (role[n] != '\0' && role[n] != '/'))
			return false;
	}
	return true;
}

static int64_t reserved_in(const px_resources *rs, const char *name)
{
	px_resources *only = NULL;
	cr_assert_eq(px_resources_reserved(rs, NULL, &only), PX_OK);
	int64_t v = S(only, name);
	px_resources_free(only);
	return v;
}

Test(reservations, static_reservations_go_only_to_their_subtree)
{
	alloc_core *a = alloc_core_new(NULL);
	for (int i = 0; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof(id), "s%d", i);
		agent(a, id, "cpus(eng):2; mem(eng):2048; cpus:2; mem:2048");
	}
	cr_assert_eq(alloc_role_set_weight(a, "ops", 10), ALLOC_OK);
	fw1(a, "ops", "ops");
	fw1(a, "web", "eng/web");
	fw1(a, "eng", "eng");
	fw1(a, "other", "engineering");
	int64_t reserved_offered = 0;
	for (int step = 0; step < 20; step++) {
		alloc_offers *b = run(a, step);
		for (size_t i = 0; i < alloc_offers_count(b); i++) {
			const alloc_offer *o = alloc_offers_at(b, i);
			cr_assert(reserved_within(o->resources, o->role),
			          "%s in role %s got reserved resources", o->framework_id, o->role);
			reserved_offered += reserved_in(o->resources, "cpus");
		}
		decline_all(a, b, 0, step);
	}
	/* The reservations were offered, to eng and eng/web. */
	cr_assert_gt(reserved_offered, 0);
	alloc_core_free(a);
}

Test(reservations, reserved_resources_are_offered_first_to_their_role)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus(eng):2; mem(eng):1024; cpus:6; mem:6144");
	cr_assert_eq(alloc_role_set_weight(a, "ops", 1000), ALLOC_OK);
	fw1(a, "ops", "ops");
	fw1(a, "web", "eng/web");
	alloc_offers *b = run(a, 0);
	const alloc_offer *w = offer_to(b, "web", "s1");
	cr_assert_not_null(w, "eng/web gets eng's reservation");
	cr_assert_eq(reserved_in(w->resources, "cpus"), 2000);
	const alloc_offer *o = offer_to(b, "ops", "s1");
	cr_assert_not_null(o);
	cr_assert_eq(reserved_in(o->resources, "cpus"), 0);
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(reservations, dynamic_reserve_and_unreserve)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "ops", "ops");
	fw1(a, "eng", "eng");
	px_resources *dyn = DYN("eng", "cpus", 3);
	cr_assert_eq(alloc_agent_reserve(a, "s1", dyn), ALLOC_OK);
	cr_assert_eq(reserved_in(alloc_agent_total(a, "s1"), "cpus"), 3000);
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "eng", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].reserved, 3000);

	/* With eng suppressed, ops gets the unreserved cpu only. */
	cr_assert_eq(alloc_suppress(a, "eng", NULL), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	const alloc_offer *o = offer_to(b, "ops", "s1");
	cr_assert_not_null(o);
	cr_assert_eq(S(o->resources, "cpus"), 1000);
	cr_assert_eq(reserved_in(o->resources, "cpus"), 0);
	decline_all(a, b, 0, 0);

	/* Reserving what is not free fails and changes nothing. */
	px_resources *too_much = DYN("eng", "cpus", 2);
	cr_assert_eq(alloc_agent_reserve(a, "s1", too_much), ALLOC_ENOTAVAIL);
	cr_assert_eq(reserved_in(alloc_agent_total(a, "s1"), "cpus"), 3000);

	/* Unreserving returns them to the pool: ops now gets all 4. */
	cr_assert_eq(alloc_agent_unreserve(a, "s1", dyn), ALLOC_OK);
	cr_assert_eq(reserved_in(alloc_agent_total(a, "s1"), "cpus"), 0);
	b = run(a, 1);
	o = offer_to(b, "ops", "s1");
	cr_assert_not_null(o);
	cr_assert_eq(S(o->resources, "cpus"), 4000);
	alloc_offers_free(b);
	cr_assert_eq(alloc_role_stats_get(a, "eng", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].reserved, 0);
	px_resources_free(dyn);
	px_resources_free(too_much);
	alloc_core_free(a);
}

Test(reservations, framework_reserves_from_its_offer)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "eng", "eng");
	fw1(a, "ops", "ops");
	cr_assert_eq(alloc_suppress(a, "ops", NULL), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	const alloc_offer *o = offer_to(b, "eng", "s1");
	cr_assert_not_null(o);

	/* A reservation for another role than the offer's is refused. */
	px_resources *other = DYN("ops", "cpus", 1);
	Plexus__Offer__Operation *bad = reserve_op(other, false);
	cr_assert_eq(alloc_offer_apply(a, "eng", "eng", "s1", bad, NULL, 0), ALLOC_EINVAL);
	op_free(bad);

	px_resources *dyn = DYN("eng", "cpus", 2);
	Plexus__Offer__Operation *op = reserve_op(dyn, false);
	char err[256];
	cr_assert_eq(alloc_offer_apply(a, "eng", "eng", "s1", op, err, sizeof(err)), ALLOC_OK, "%s",
	             err);
	op_free(op);
	const px_resources *held = alloc_offered(a, "eng", "eng", "s1");
	cr_assert_eq(reserved_in(held, "cpus"), 2000);
	cr_assert_eq(reserved_in(alloc_agent_total(a, "s1"), "cpus"), 2000);
	/* The whole offer comes back, now partly reserved. */
	px_resources *back = px_resources_copy(held);
	cr_assert_eq(alloc_recover_offered(a, "eng", "eng", "s1", back, 0, 0), ALLOC_OK);
	px_resources_free(back);
	alloc_offers_free(b);

	/* eng suppressed: ops may have only the unreserved part. */
	cr_assert_eq(alloc_suppress(a, "eng", NULL), ALLOC_OK);
	cr_assert_eq(alloc_revive(a, "ops", NULL), ALLOC_OK);
	b = run(a, 1);
	o = offer_to(b, "ops", "s1");
	cr_assert_not_null(o);
	cr_assert_eq(S(o->resources, "cpus"), 2000);
	cr_assert_eq(reserved_in(o->resources, "cpus"), 0);
	decline_all(a, b, 0, 1);

	/* eng unreserves from an offer; the cpus return to the pool. */
	cr_assert_eq(alloc_suppress(a, "ops", NULL), ALLOC_OK);
	cr_assert_eq(alloc_revive(a, "eng", NULL), ALLOC_OK);
	b = run(a, 2);
	cr_assert_not_null(offer_to(b, "eng", "s1"));
	op = reserve_op(dyn, true);
	cr_assert_eq(alloc_offer_apply(a, "eng", "eng", "s1", op, err, sizeof(err)), ALLOC_OK, "%s",
	             err);
	op_free(op);
	cr_assert_eq(reserved_in(alloc_agent_total(a, "s1"), "cpus"), 0);
	back = px_resources_copy(alloc_offered(a, "eng", "eng", "s1"));
	cr_assert_eq(reserved_in(back, "cpus"), 0);
	cr_assert_eq(S(back, "cpus"), 4000);
	cr_assert_eq(alloc_recover_offered(a, "eng", "eng", "s1", back, 0, 2), ALLOC_OK);
	px_resources_free(back);
	alloc_offers_free(b);
	px_resources_free(dyn);
	px_resources_free(other);
	alloc_core_free(a);
}

Test(reservations, reserving_past_a_quota_limit_is_refused)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:8; mem:4096");
	px_resources *l = R("cpus:2");
	cr_assert_eq(alloc_role_set_quota(a, "eng", NULL, l), ALLOC_OK);
	px_resources *two = DYN("eng", "cpus", 2), *one = DYN("eng", "cpus", 1);
	cr_assert_eq(alloc_agent_reserve(a, "s1", two), ALLOC_OK);
	cr_assert_eq(alloc_agent_reserve(a, "s1", one), ALLOC_EQUOTA);
	cr_assert_eq(reserved_in(alloc_agent_total(a, "s1"), "cpus"), 2000);
	/* The reservation counts toward the limit: nothing unreserved for eng now. */
	fw1(a, "eng", "eng");
	alloc_offers *b = run(a, 0);
	const alloc_offer *o = offer_to(b, "eng", "s1");
	cr_assert_not_null(o);
	cr_assert_eq(S(o->resources, "cpus"), 2000);
	alloc_offers_free(b);
	px_resources_free(l);
	px_resources_free(two);
	px_resources_free(one);
	alloc_core_free(a);
}
