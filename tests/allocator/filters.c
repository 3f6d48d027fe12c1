/* Filters, revive and suppress. */
#include "helpers.h"

Test(filters, decline_keeps_resources_away_until_expiry)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	agent(a, "s2", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 2);
	/* Decline s1 for 5 s, s2 with no filter. */
	const alloc_offer *o1 = offer_to(b, "f", "s1"), *o2 = offer_to(b, "f", "s2");
	cr_assert_eq(alloc_recover_offered(a, "f", "r", "s1", o1->resources, 5000, 0), ALLOC_OK);
	cr_assert_eq(alloc_recover_offered(a, "f", "r", "s2", o2->resources, 0, 0), ALLOC_OK);
	alloc_offers_free(b);

	b = run(a, 1000);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_not_null(offer_to(b, "f", "s2"));
	char why[256];
	cr_assert_eq(alloc_explain(a, "f", 1000, why, sizeof(why)), 0);
	cr_assert(strstr(why, "1 filtered") != NULL, "%s", why);
	cr_assert(strstr(why, "1 nothing free") != NULL, "%s", why);
	decline_all(a, b, 0, 1000);
	b = run(a, 4999);
	cr_assert_null(offer_to(b, "f", "s1"));
	decline_all(a, b, 0, 4999);
	b = run(a, 5000);
	cr_assert_not_null(offer_to(b, "f", "s1"), "filter outlived refuse_seconds");
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(filters, filtered_resources_go_to_others)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	fw1(a, "g", "r");
	alloc_offers *b = run(a, 0);
	cr_assert_not_null(offer_to(b, "f", "s1"));
	decline_all(a, b, 10000, 0);
	b = run(a, 1);
	cr_assert_not_null(offer_to(b, "g", "s1"));
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(filters, more_free_than_declined_is_offered_again)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	alloc_offers *b = run(a, 0);
	px_resources *task = R("cpus:2; mem:1024");
	/* Uses half, declines the rest for 10 s. */
	cr_assert(take_task(a, alloc_offers_at(b, 0), task, 0, 0));
	cr_assert_null(alloc_offered(a, "f", "r", "s1"));
	alloc_offers_free(b);
	b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 1);
	decline_all(a, b, 10000, 0);
	b = run(a, 1);
	cr_assert_eq(alloc_offers_count(b), 0);
	alloc_offers_free(b);
	/* The task ends: more is free than was declined, so it is offered. */
	cr_assert_eq(alloc_recover_used(a, "f", "r", "s1", task), ALLOC_OK);
	b = run(a, 2);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_eq(S(alloc_offers_at(b, 0)->resources, "cpus"), 4000);
	alloc_offers_free(b);
	px_resources_free(task);
	alloc_core_free(a);
}

Test(filters, revive_clears_filters)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	decline_all(a, run(a, 0), 60000, 0);
	alloc_offers *b = run(a, 1);
	cr_assert_eq(alloc_offers_count(b), 0);
	alloc_offers_free(b);
	cr_assert_eq(alloc_revive(a, "f", NULL), ALLOC_OK);
	b = run(a, 2);
	cr_assert_eq(alloc_offers_count(b), 1);
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(filters, revive_of_one_role_clears_only_its_filters)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	agent(a, "s2", "cpus:4; mem:4096");
	const char *roles[] = {"x", "y"};
	cr_assert_eq(alloc_framework_add(a, "f", roles, 2), ALLOC_OK);
	/* Filters are per role and agent: decline until each role has refused each
	 * agent. */
	alloc_offers *b = run(a, 0);
	int passes = 0;
	while (alloc_offers_count(b) > 0) {
		decline_all(a, b, 60000, passes);
		b = run(a, ++passes);
	}
	alloc_offers_free(b);
	cr_assert_eq(passes, 2);
	cr_assert_eq(alloc_revive(a, "f", "x"), ALLOC_OK);
	b = run(a, 2);
	cr_assert_eq(alloc_offers_count(b), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(alloc_offers_at(b, i)->role, "x");
	alloc_offers_free(b);
	cr_assert_eq(alloc_revive(a, "f", "nope"), ALLOC_EINVAL);
	alloc_core_free(a);
}

Test(filters, suppress_stops_offers_until_revive)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	const char *roles[] = {"x", "y"};
	cr_assert_eq(alloc_framework_add(a, "f", roles, 2), ALLOC_OK);
	fw1(a, "g", "z");
	cr_assert_eq(alloc_suppress(a, "f", NULL), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_not_null(offer_to(b, "g", NULL));
	char why[256];
	cr_assert_eq(alloc_explain(a, "f", 0, why, sizeof(why)), 0);
	cr_assert(strstr(why, "suppressed") != NULL, "%s", why);
	decline_all(a, b, 0, 0);
	cr_assert_eq(alloc_suppress(a, "g", NULL), ALLOC_OK);
	b = run(a, 1);
	cr_assert_eq(alloc_offers_count(b), 0);
	alloc_offers_free(b);
	/* Revive one role: offers come in that role only. */
	cr_assert_eq(alloc_revive(a, "f", "y"), ALLOC_OK);
	b = run(a, 2);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_str_eq(alloc_offers_at(b, 0)->role, "y");
	decline_all(a, b, 0, 2);
	/* Suppress one role of it. */
	cr_assert_eq(alloc_revive(a, "f", NULL), ALLOC_OK);
	cr_assert_eq(alloc_suppress(a, "f", "y"), ALLOC_OK);
	b = run(a, 3);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_str_eq(alloc_offers_at(b, 0)->role, "x");
	alloc_offers_free(b);
	alloc_core_free(a);
}
