/* explain.c — alloc_explain_request: why a framework's request finds no offer, one
 * reason per case (too large, allocated to another framework, suppressed, filtered by
 * its declines, a quota limit, agents in maintenance) and a mix of them. */
#include "helpers.h"

static alloc_core *a;

static void setup(void)
{
	a = alloc_core_new(NULL);
	cr_assert_not_null(a);
}

static void teardown(void)
{
	alloc_core_free(a);
}

TestSuite(explain, .init = setup, .fini = teardown, .timeout = 30);

/* The explanation of request for fw in role (NULL: its first), asserted to succeed;
 * *offerable gets the count returned. */
static const char *why(const char *fw, const char *role, const char *request, int *offerable)
{
	static char buf[1024];
	px_resources *req = R(request);
	int rc = alloc_explain_request(a, fw, role, req, 0, buf, sizeof(buf));
	px_resources_free(req);
	cr_assert_geq(rc, 0, "explain failed: %d", rc);
	if (offerable != NULL)
		*offerable = rc;
	return buf;
}

Test(explain, no_agent_is_that_large)
{
	agent(a, "s1", "cpus:2;mem:1024");
	agent(a, "s2", "cpus:1;mem:4096");
	fw1(a, "f", "*");
	cr_assert_str_eq(why("f", NULL, "cpus:4;mem:64", NULL),
	                 "no agent has cpus:4; the largest has cpus:2");
	cr_assert_str_eq(why("f", "*", "cpus:4;mem:8192", NULL),
	                 "no agent has cpus:4; mem:8192; the largest has cpus:2; mem:4096");
	/* Each alone exists, never together. */
	cr_assert_str_eq(why("f", NULL, "cpus:2;mem:2048", NULL),
	                 "no agent has all of cpus:2; mem:2048 at once");
	/* What is reserved for another role does not count. */
	agent(a, "s3", "cpus(eng):8;mem(eng):64");
	cr_assert_str_eq(why("f", NULL, "cpus:4;mem:64", NULL),
	                 "no agent has cpus:4; the largest has cpus:2");
}

Test(explain, all_capable_agents_are_allocated_to_another_framework)
{
	agent(a, "s1", "cpus:4;mem:1024");
	agent(a, "s2", "cpus:4;mem:1024");
	agent(a, "small", "cpus:1;mem:1024");
	fw1(a, "hog", "*");
	alloc_offers *b = run(a, 0);
	cr_assert_eq(alloc_offers_count(b), 3, "the hog holds every agent");
	fw1(a, "late", "*");
	int n = -1;
	cr_assert_str_eq(why("late", NULL, "cpus:2;mem:64", &n),
	                 "all 2 agents with cpus:2; mem:64 are allocated to other frameworks: hog");
	cr_assert_eq(n, 0);
	/* The hog gives one back: it could be offered now. */
	const alloc_offer *o = offer_to(b, "hog", "s1");
	cr_assert_eq(alloc_recover_offered(a, "hog", o->role, "s1", o->resources, 0, 0), ALLOC_OK);
	cr_assert_str_eq(why("late", NULL, "cpus:2;mem:64", &n),
	                 "of the 2 agents with cpus:2; mem:64: 1 can offer it now, 1 allocated to "
	                 "other frameworks (hog)");
	cr_assert_eq(n, 1);
	alloc_offers_free(b);
}

Test(explain, a_suppressed_framework_is_told_so)
{
	agent(a, "s1", "cpus:4;mem:1024");
	fw1(a, "f", "web");
	cr_assert_eq(alloc_suppress(a, "f", NULL), ALLOC_OK);
	cr_assert_str_eq(why("f", NULL, "cpus:1;mem:64", NULL),
	                 "the framework is suppressed in role web: it gets no offers until it "
	                 "revives (1 agent could hold cpus:1; mem:64)");
	cr_assert_eq(alloc_revive(a, "f", NULL), ALLOC_OK);
	int n = -1;
	cr_assert_str_eq(why("f", NULL, "cpus:1;mem:64", &n),
	                 "1 agent with cpus:1; mem:64 can offer it now: the next pass offers it");
	cr_assert_eq(n, 1);
}

Test(explain, filters_from_declines_until_they_expire)
{
	agent(a, "s1", "cpus:4;mem:1024");
	fw1(a, "f", "*");
	decline_all(a, run(a, 0), 5000, 0);
	px_resources *req = R("cpus:1;mem:64");
	char buf[512];
	cr_assert_eq(alloc_explain_request(a, "f", NULL, req, 4999, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "filters from the framework's declines are still active on the only "
	                      "agent with cpus:1; mem:64 (revive to clear them)");
	/* At the filter's end the agent is offerable again. */
	cr_assert_eq(alloc_explain_request(a, "f", NULL, req, 5000, buf, sizeof(buf)), 1);
	cr_assert_str_eq(buf,
	                 "1 agent with cpus:1; mem:64 can offer it now: the next pass offers it");
	px_resources_free(req);
}

Test(explain, quota_limits_and_maintenance)
{
	agent(a, "s1", "cpus:4;mem:1024");
	agent(a, "s2", "cpus:4;mem:1024");
	fw1(a, "f", "eng/web");
	px_resources *limit = R("cpus:1");
	cr_assert_eq(alloc_role_set_quota(a, "eng", NULL, limit), ALLOC_OK);
	px_resources_free(limit);
	cr_assert_str_eq(why("f", NULL, "cpus:2;mem:64", NULL),
	                 "the quota limit of role eng is cpus:1, less than the request cpus:2; "
	                 "mem:64");
	cr_assert_eq(alloc_role_set_quota(a, "eng", NULL, NULL), ALLOC_OK);

	cr_assert_eq(alloc_agent_set_maintenance(a, "s1", true), ALLOC_OK);
	cr_assert_eq(alloc_agent_set_maintenance(a, "s2", true), ALLOC_OK);
	cr_assert_str_eq(why("f", NULL, "cpus:2;mem:64", NULL),
	                 "all 2 agents with cpus:2; mem:64 are in maintenance or inactive: s1, s2");
	cr_assert_eq(alloc_agent_set_maintenance(a, "s2", false), ALLOC_OK);
	cr_assert_str_eq(why("f", NULL, "cpus:2;mem:64", NULL),
	                 "of the 2 agents with cpus:2; mem:64: 1 can offer it now, 1 in "
	                 "maintenance or inactive");
}

Test(explain, its_own_tasks_and_an_inactive_framework)
{
	agent(a, "s1", "cpus:2;mem:1024");
	fw1(a, "f", "*");
	alloc_offers *b = run(a, 0);
	px_resources *task = R("cpus:2;mem:512");
	cr_assert(take_task(a, offer_to(b, "f", "s1"), task, 0, 0));
	alloc_offers_free(b);
	px_resources_free(task);
	cr_assert_str_eq(why("f", NULL, "cpus:1", NULL),
	                 "the only agent with cpus:1 is held by the framework's own offers and "
	                 "tasks");
	cr_assert_eq(alloc_framework_set_active(a, "f", false), ALLOC_OK);
	cr_assert_str_eq(why("f", NULL, "cpus:1", NULL),
	                 "the framework is inactive (disconnected or failing over): it gets no "
	                 "offers until its scheduler is back");
}

Test(explain, bad_calls_are_refused)
{
	agent(a, "s1", "cpus:2;mem:1024");
	fw1(a, "f", "*");
	px_resources *req = R("cpus:1"), *empty = px_resources_new();
	char buf[64] = "x";
	cr_assert_eq(alloc_explain_request(a, "nobody", NULL, req, 0, buf, sizeof(buf)),
	             -ALLOC_ENOENT);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(alloc_explain_request(a, "f", "other", req, 0, buf, sizeof(buf)),
	             -ALLOC_ENOENT);
	cr_assert_eq(alloc_explain_request(a, "f", NULL, empty, 0, buf, sizeof(buf)),
	             -ALLOC_EINVAL);
	cr_assert_eq(alloc_explain_request(a, "f", NULL, NULL, 0, buf, sizeof(buf)), -ALLOC_EINVAL);
	/* A short buffer cuts the text, never overruns it. */
	char tiny[8];
	cr_assert_eq(alloc_explain_request(a, "f", NULL, req, 0, tiny, sizeof(tiny)), 1);
	cr_assert_eq(strlen(tiny), sizeof(tiny) - 1);
	px_resources_free(req);
	px_resources_free(empty);
}
