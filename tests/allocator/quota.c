/* Quota: guarantees met before fair sharing, headroom kept for them, limits never
 * exceeded. */
#include "helpers.h"

static void add_agents(alloc_core *a, int n)
{
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "agent-%d", i);
		agent(a, id, "cpus:4; mem:4096");
	}
}

static int64_t offered_sum(const alloc_offers *b, const char *role, const char *name)
{
	int64_t sum = 0;
	for (size_t i = 0; i < alloc_offers_count(b); i++) {
		const alloc_offer *o = alloc_offers_at(b, i);
		if (strcmp(o->role, role) == 0)
			sum += S(o->resources, name);
	}
	return sum;
}

Test(quota, guarantee_is_met_before_fair_share)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 10);
	px_resources *g = R("cpus:12");
	cr_assert_eq(alloc_role_set_quota(a, "q", g, NULL), ALLOC_OK);
	/* Without quota a weight of 100 would take nearly everything. */
	cr_assert_eq(alloc_role_set_weight(a, "big", 100), ALLOC_OK);
	fw1(a, "big", "big");
	fw1(a, "small", "q");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(offered_sum(b, "q", "cpus"), 12000);
	cr_assert_eq(offered_sum(b, "big", "cpus"), 28000);
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "q", &st), ALLOC_OK);
	cr_assert_eq(st.res[0].offered, 12000);
	cr_assert_eq(st.res[0].guarantee, 12000);
	cr_assert_eq(st.res[0].limit, -1);
	alloc_offers_free(b);
	px_resources_free(g);
	alloc_core_free(a);
}

Test(quota, headroom_is_not_offered_to_other_roles)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 10);
	px_resources *g = R("cpus:8");
	cr_assert_eq(alloc_role_set_quota(a, "q", g, NULL), ALLOC_OK);
	fw1(a, "big", "big");
	fw1(a, "small", "q");
	cr_assert_eq(alloc_framework_set_active(a, "small", false), ALLOC_OK);
	alloc_offers *b = run(a, 0);
	/* q cannot use its guarantee now, but 8 cpus stay free for it. */
	cr_assert_eq(offered_sum(b, "big", "cpus"), 32000);
	alloc_offers_free(b);
	char why[512];
	cr_assert_eq(alloc_framework_add(a, "late", (const char *[]){"other"}, 1), ALLOC_OK);
	cr_assert_eq(alloc_explain(a, "late", 0, why, sizeof(why)), 0);
	cr_assert(strstr(why, "headroom") != NULL, "%s", why);
	cr_assert_eq(alloc_framework_set_active(a, "small", true), ALLOC_OK);
	b = run(a, 1);
	cr_assert_eq(offered_sum(b, "q", "cpus"), 8000);
	alloc_offers_free(b);
	px_resources_free(g);
	alloc_core_free(a);
}

Test(quota, limits_are_never_exceeded_under_churn)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 8);
	px_resources *l = R("cpus:6; mem:5000");
	cr_assert_eq(alloc_role_set_quota(a, "l", NULL, l), ALLOC_OK);
	cr_assert_eq(alloc_role_set_weight(a, "l", 50), ALLOC_OK);
	fw1(a, "lim", "l/child");
	fw1(a, "lim2", "l");
	fw1(a, "free", "other");
	unsigned seed = 7;
	for (int step = 0; step < 300; step++) {
		alloc_offers *b = run(a, step);
		alloc_role_stats st;
		cr_assert_eq(alloc_role_stats_get(a, "l", &st), ALLOC_OK);
		cr_assert_leq(st.res[0].offered + st.res[0].used, 6000, "step %d: %ld cpus", step,
		              (long)(st.res[0].offered + st.res[0].used));
		cr_assert_leq(st.res[1].offered + st.res[1].used, 5000 * 1000);
		/* Each offer: use some, decline the rest; sometimes finish used tasks. */
		for (size_t i = 0; i < alloc_offers_count(b); i++) {
			const alloc_offer *o = alloc_offers_at(b, i);
			if (rand_r(&seed) % 2) {
				px_resources *t = R("cpus:1; mem:100");
				if (px_resources_contains(o->resources, t))
					take_task(a, o, t, 0, step);
				else
					cr_assert_eq(alloc_recover_offered(a, o->framework_id,
					                                   o->role, o->agent_id,
					                                   o->resources, 0, step),
					             ALLOC_OK);
				px_resources_free(t);
			} else {
				cr_assert_eq(alloc_recover_offered(a, o->framework_id, o->role,
				                                   o->agent_id, o->resources, 0,
				                                   step),
				             ALLOC_OK);
			}
		}
		alloc_offers_free(b);
		if (rand_r(&seed) % 3 == 0) {
			/* A task of some framework on some agent ends. */
			const char *fws[] = {"lim", "lim2", "free"};
			const char *roles[] = {"l/child", "l", "other"};
			int k = rand_r(&seed) % 3;
			char id[32];
			snprintf(id, sizeof(id), "agent-%d", rand_r(&seed) % 8);
			const px_resources *u = alloc_used(a, fws[k], roles[k], id);
			if (u) {
				px_resources *t = R("cpus:1; mem:100");
				cr_assert_eq(alloc_recover_used(a, fws[k], roles[k], id, t),
				             ALLOC_OK);
				px_resources_free(t);
			}
		}
	}
	/* And the limit was reached, not merely respected by offering nothing. */
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "l", &st), ALLOC_OK);
	cr_assert_gt(st.res[0].used, 0);
	px_resources_free(l);
	alloc_core_free(a);
}

Test(quota, limit_shrinks_an_offer_exactly)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 4);
	px_resources *l = R("cpus:6");
	cr_assert_eq(alloc_role_set_quota(a, "l", NULL, l), ALLOC_OK);
	fw1(a, "f", "l");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(offered_sum(b, "l", "cpus"), 6000);
	/* mem has no limit: agents shrunk to 2 or 0 cpus still bring all their memory
	 * (as in Mesos, names without a limit are not held back). */
	cr_assert_eq(offered_sum(b, "l", "mem"), 4 * 4096 * 1000);
	for (size_t i = 0; i < alloc_offers_count(b); i++)
		cr_assert_leq(S(alloc_offers_at(b, i)->resources, "cpus"), 4000);
	alloc_offers_free(b);
	char why[512];
	cr_assert_eq(alloc_explain(a, "f", 0, why, sizeof(why)), 0);
	cr_assert(strstr(why, "quota limit") != NULL, "%s", why);
	px_resources_free(l);
	alloc_core_free(a);
}

Test(quota, bad_quota_is_refused)
{
	alloc_core *a = alloc_core_new(NULL);
	px_resources *g = R("cpus:8"), *l = R("cpus:4");
	cr_assert_eq(alloc_role_set_quota(a, "q", g, l), ALLOC_EINVAL);
	cr_assert_eq(alloc_role_set_quota(a, "*", g, NULL), ALLOC_EINVAL);
	cr_assert_eq(alloc_role_set_quota(a, "a//b", g, NULL), ALLOC_EINVAL);
	cr_assert_eq(alloc_role_set_weight(a, "q", 0), ALLOC_EINVAL);
	cr_assert_eq(alloc_role_set_weight(a, "q", -1), ALLOC_EINVAL);
	px_resources_free(g);
	px_resources_free(l);
	alloc_core_free(a);
}

/* The quota stage gives what the guarantee needs, the fair stage the rest of the
 * agent: the framework gets one offer with both. */
Test(quota, quota_and_fair_offers_on_one_agent_are_merged)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:4; mem:4096");
	px_resources *g = R("cpus:2");
	cr_assert_eq(alloc_role_set_quota(a, "q", g, NULL), ALLOC_OK);
	fw1(a, "f", "q");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 1);
	cr_assert_eq(S(alloc_offers_at(b, 0)->resources, "cpus"), 4000);
	cr_assert(
	    px_resources_equal(alloc_offers_at(b, 0)->resources, alloc_offered(a, "f", "q", "s1")));
	decline_all(a, b, 0, 0);
	cr_assert(px_resources_equal(alloc_agent_free(a, "s1"), alloc_agent_total(a, "s1")));
	px_resources_free(g);
	alloc_core_free(a);
}

/* Guarantees larger than the cluster: the guaranteed roles share it by DRF rather
 * than the first taking all or each holding the other's headroom back. */
Test(quota, competing_guarantees_share_by_drf)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 10);
	px_resources *g = R("cpus:40");
	cr_assert_eq(alloc_role_set_quota(a, "q1", g, NULL), ALLOC_OK);
	cr_assert_eq(alloc_role_set_quota(a, "q2", g, NULL), ALLOC_OK);
	fw1(a, "other", "other");
	fw1(a, "f1", "q1");
	fw1(a, "f2", "q2");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(offered_sum(b, "q1", "cpus"), 20000);
	cr_assert_eq(offered_sum(b, "q2", "cpus"), 20000);
	/* Both guarantees are still unmet: nothing goes to a role without one. */
	cr_assert_eq(offered_sum(b, "other", "cpus"), 0);
	alloc_offers_free(b);
	px_resources_free(g);
	alloc_core_free(a);
}
