/* Agents and frameworks coming and going, and invalid calls. */
#include "helpers.h"

Test(lifecycle, maintenance_and_inactive_agents_are_not_offered)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	agent(a, "s2", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	cr_assert_eq(alloc_agent_set_maintenance(a, "s1", true), ALLOC_OK);
	cr_assert_eq(alloc_agent_set_active(a, "s2", false), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 0);
	alloc_offers_free(b);
	char why[256];
	cr_assert_eq(alloc_explain(a, "f", 0, why, sizeof(why)), 0);
	cr_assert(strstr(why, "2 agent inactive or in maintenance") != NULL, "%s", why);
	cr_assert_eq(alloc_agent_set_maintenance(a, "s1", false), ALLOC_OK);
	b = run(a, 1);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_not_null(offer_to(b, "f", "s1"));
	alloc_offers_free(b);
	cr_assert_eq(alloc_agent_set_active(a, "s2", true), ALLOC_OK);
	b = run(a, 2);
	cr_assert_not_null(offer_to(b, "f", "s2"));
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(lifecycle, removing_an_agent_forgets_its_allocations)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	alloc_offers_free(run(a, 0));
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "r", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].offered, 4000);
	cr_assert_eq(alloc_agent_remove(a, "s1"), ALLOC_OK);
	cr_assert_eq(alloc_role_stats_get(a, "r", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].offered, 0);
	cr_assert_null(alloc_agent_total(a, "s1"));
	/* The same id may come back as a new agent. */
	agent(a, "s1", "cpus:2; mem:1024");
	alloc_offers *b = run(a, 1);
	cr_assert_eq(S(offer_to(b, "f", "s1")->resources, "cpus"), 2000);
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(lifecycle, removing_a_framework_returns_everything)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	agent(a, "s2", "cpus:4; mem:4096");
	const char *roles[] = {"x", "y"};
	cr_assert_eq(alloc_framework_add(a, "f", roles, 2), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	px_resources *task = R("cpus:1; mem:128");
	cr_assert(take_task(a, alloc_offers_at(b, 0), task, 0, 0));
	alloc_offers_free(b);
	cr_assert_eq(alloc_framework_remove(a, "f"), ALLOC_OK);
	cr_assert(px_resources_equal(alloc_agent_free(a, "s1"), alloc_agent_total(a, "s1")));
	cr_assert(px_resources_equal(alloc_agent_free(a, "s2"), alloc_agent_total(a, "s2")));
	alloc_counters n;
	alloc_counters_get(a, &n);
	cr_assert_eq(n.frameworks, 0);
	fw1(a, "g", "x");
	b = run(a, 1);
	cr_assert_eq(alloc_offers_count(b), 2);
	alloc_offers_free(b);
	px_resources_free(task);
	alloc_core_free(a);
}

Test(lifecycle, inactive_framework_keeps_allocations_gets_no_offers)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	cr_assert_eq(alloc_framework_set_active(a, "f", false), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 0);
	alloc_offers_free(b);
	char why[256];
	cr_assert_eq(alloc_explain(a, "f", 0, why, sizeof(why)), 0);
	cr_assert(strstr(why, "inactive") != NULL, "%s", why);
	cr_assert_eq(alloc_framework_set_active(a, "f", true), ALLOC_OK);
	b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 1);
	alloc_offers_free(b);
	cr_assert_eq(alloc_framework_set_active(a, "f", false), ALLOC_OK);
	cr_assert_not_null(alloc_offered(a, "f", "r", "s1"));
	alloc_core_free(a);
}

Test(lifecycle, leaving_a_role_keeps_its_allocation_until_recovered)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	agent(a, "s2", "cpus:4; mem:4096");
	fw1(a, "f", "old");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 2);
	const char *roles[] = {"new"};
	cr_assert_eq(alloc_framework_update_roles(a, "f", roles, 1), ALLOC_OK);
	cr_assert_not_null(alloc_offered(a, "f", "old", "s1"));
	decline_all(a, b, 0, 0);
	cr_assert_null(alloc_offered(a, "f", "old", "s1"));
	b = run(a, 1);
	cr_assert_eq(alloc_offers_count(b), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(alloc_offers_at(b, i)->role, "new");
	alloc_offers_free(b);
	alloc_core_free(a);
}

Test(lifecycle, update_total)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	alloc_offers *b = run(a, 0);
	px_resources *task = R("cpus:3; mem:1024"), *small = R("cpus:2; mem:4096"),
	             *big = R("cpus:8; mem:8192");
	cr_assert(take_task(a, alloc_offers_at(b, 0), task, 0, 0));
	alloc_offers_free(b);
	cr_assert_eq(alloc_agent_update_total(a, "s1", small), ALLOC_ENOTAVAIL);
	cr_assert_eq(alloc_agent_update_total(a, "s1", big), ALLOC_OK);
	b = run(a, 1);
	cr_assert_eq(S(alloc_offers_at(b, 0)->resources, "cpus"), 5000);
	alloc_offers_free(b);
	px_resources_free(task);
	px_resources_free(small);
	px_resources_free(big);
	alloc_core_free(a);
}

Test(lifecycle, invalid_calls_are_rejected_and_change_nothing)
{
	alloc_core *a = alloc_core_new(NULL);
	px_resources *rs = R("cpus:1; mem:32");
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	cr_assert_eq(alloc_agent_add(a, "s1", rs), ALLOC_EEXIST);
	cr_assert_eq(alloc_agent_add(a, NULL, rs), ALLOC_EINVAL);
	cr_assert_eq(alloc_agent_remove(a, "nope"), ALLOC_ENOENT);
	cr_assert_eq(alloc_agent_set_active(a, "nope", true), ALLOC_ENOENT);
	cr_assert_eq(alloc_framework_add(a, "f", (const char *[]){"r"}, 1), ALLOC_EEXIST);
	cr_assert_eq(alloc_framework_add(a, "g", (const char *[]){"bad role"}, 1), ALLOC_EINVAL);
	cr_assert_eq(alloc_framework_add(a, "g", (const char *[]){"-x"}, 1), ALLOC_EINVAL);
	cr_assert_eq(alloc_framework_add(a, "g", (const char *[]){"a/../b"}, 1), ALLOC_EINVAL);
	cr_assert_eq(alloc_framework_add(a, "g", (const char *[]){NULL}, 1), ALLOC_EINVAL);
	cr_assert_eq(alloc_framework_remove(a, "g"), ALLOC_ENOENT);
	cr_assert_eq(alloc_suppress(a, "g", NULL), ALLOC_ENOENT);
	cr_assert_eq(alloc_recover_offered(a, "f", "r", "s1", rs, 0, 0), ALLOC_ENOENT);
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_recover_offered(a, "f", "other", "s1", rs, 0, 0), ALLOC_ENOENT);
	cr_assert_eq(alloc_recover_offered(a, "f", "r", "nope", rs, 0, 0), ALLOC_ENOENT);
	px_resources *more = R("cpus:5");
	cr_assert_eq(alloc_recover_offered(a, "f", "r", "s1", more, 0, 0), ALLOC_ENOTAVAIL);
	cr_assert_eq(alloc_offer_use(a, "f", "r", "s1", more), ALLOC_ENOTAVAIL);
	cr_assert_eq(alloc_recover_used(a, "f", "r", "s1", rs), ALLOC_ENOTAVAIL);
	cr_assert_eq(alloc_recover_offered(a, "f", "r", "s1", NULL, 0, 0), ALLOC_ENOTAVAIL);
	/* Nothing moved. */
	cr_assert(px_resources_equal(alloc_offered(a, "f", "r", "s1"), alloc_agent_total(a, "s1")));
	cr_assert_eq(alloc_explain(a, "nope", 0, NULL, 0), -ALLOC_ENOENT);
	cr_assert_str_eq(alloc_strerror(ALLOC_EQUOTA), "quota limit exceeded");
	cr_assert_str_neq(alloc_strerror(99), "");
	alloc_offers_free(b);
	px_resources_free(rs);
	px_resources_free(more);
	alloc_core_free(a);
}

static void collect(const alloc_role_stats *s, void *arg)
{
	char *out = arg;
	strcat(out, s->role);
	strcat(out, ";");
}

Test(lifecycle, role_figures)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	agent(a, "s2", "cpus(eng/web):2; mem:4096");
	fw1(a, "web", "eng/web");
	alloc_offers *b = run(a, 0);
	px_resources *task = R("cpus:1; mem:1024");
	const alloc_offer *o = offer_to(b, "web", "s1");
	cr_assert(take_task(a, o, task, 0, 0));
	/* offer_to s1 got everything; 1 cpu is now used, 3 came back: offer again. */
	alloc_offers_free(b);
	b = run(a, 0);
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "eng", &st), ALLOC_OK);
	cr_assert_str_eq(st.res[0].name, "cpus");
	cr_assert_eq(st.res[0].used, 1000);
	cr_assert_eq(st.res[0].offered, 5000);
	cr_assert_eq(st.res[0].reserved, 2000);
	cr_assert_eq(st.frameworks, 0);
	cr_assert_eq(alloc_role_stats_get(a, "eng/web", &st), ALLOC_OK);
	cr_assert_eq(st.frameworks, 1);
	cr_assert_float_eq(st.share, 1.0, 1e-9);
	cr_assert_eq(alloc_role_stats_get(a, "none", &st), ALLOC_ENOENT);
	char names[64] = "";
	alloc_roles_foreach(a, collect, names);
	cr_assert_str_eq(names, "eng;eng/web;");
	alloc_offers_free(b);
	px_resources_free(task);
	alloc_core_free(a);
}

Test(lifecycle, used_resources_of_a_reregistering_agent)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	fw1(a, "f", "r");
	px_resources *t = R("cpus:3; mem:1024"), *more = R("cpus:2");
	cr_assert_eq(alloc_used_add(a, "f", "r", "s1", t), ALLOC_OK);
	cr_assert_eq(alloc_used_add(a, "f", "old", "s1", more), ALLOC_ENOTAVAIL);
	cr_assert_eq(alloc_used_add(a, "nope", "r", "s1", t), ALLOC_ENOENT);
	cr_assert(px_resources_equal(alloc_used(a, "f", "r", "s1"), t));
	alloc_offers *b = run(a, 0);
	cr_assert_eq(S(offer_to(b, "f", "s1")->resources, "cpus"), 1000);
	decline_all(a, b, 0, 0);
	/* A role the framework is not subscribed to is tracked until recovered. */
	px_resources *one = R("cpus:1");
	cr_assert_eq(alloc_used_add(a, "f", "old", "s1", one), ALLOC_OK);
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "old", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].used, 1000);
	cr_assert_eq(alloc_recover_used(a, "f", "old", "s1", one), ALLOC_OK);
	cr_assert_eq(alloc_role_stats_get(a, "old", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].used, 0);
	px_resources_free(t);
	px_resources_free(more);
	px_resources_free(one);
	alloc_core_free(a);
}
