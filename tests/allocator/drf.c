/* Dominant Resource Fairness: the DRF paper's example, weights, hierarchical roles,
 * frameworks in several roles. */
#include "helpers.h"

/* Ghodsi et al., "Dominant Resource Fairness" (NSDI 2011), section 4: 9 CPUs and
 * 18 GB; A runs tasks of <1 CPU, 4 GB>, B of <3 CPUs, 1 GB>. Each framework takes one
 * task-sized piece of every offer and declines the rest; DRF ends with A running 3
 * tasks and B 2 (both at a dominant share of 2/3). */
Test(drf, paper_example)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "s1", "cpus:9; mem:18432");
	fw1(a, "A", "*");
	fw1(a, "B", "*");
	px_resources *task_a = R("cpus:1; mem:4096"), *task_b = R("cpus:3; mem:1024");
	int tasks_a = 0, tasks_b = 0, passes = 0;
	int64_t now = 0;
	for (;;) {
		alloc_offers *b = run(a, now);
		if (alloc_offers_count(b) == 0) {
			alloc_offers_free(b);
			break;
		}
		/* One agent, frameworks wanting everything: one offer per pass. */
		cr_assert_eq(alloc_offers_count(b), 1);
		const alloc_offer *o = alloc_offers_at(b, 0);
		bool is_a = strcmp(o->framework_id, "A") == 0;
		if (take_task(a, o, is_a ? task_a : task_b, 5000, now))
			*(is_a ? &tasks_a : &tasks_b) += 1;
		alloc_offers_free(b);
		cr_assert_lt(++passes, 50, "allocation does not settle");
		now += 10;
	}
	cr_assert_eq(tasks_a, 3, "A runs %d tasks", tasks_a);
	cr_assert_eq(tasks_b, 2, "B runs %d tasks", tasks_b);
	/* Dominant shares are equal: A 12/18 GB, B 6/9 CPUs. */
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "*", &st), ALLOC_OK);
	cr_assert_eq(S(alloc_used(a, "A", "*", "s1"), "mem"), 12288 * 1000);
	cr_assert_eq(S(alloc_used(a, "B", "*", "s1"), "cpus"), 6000);
	px_resources_free(task_a);
	px_resources_free(task_b);
	alloc_core_free(a);
}

/* Counts the agents offered to each framework in one pass over n equal agents. */
static void count_offers(alloc_offers *b, const char *const *fws, int *counts, size_t n)
{
	for (size_t i = 0; i < alloc_offers_count(b); i++) {
		const alloc_offer *o = alloc_offers_at(b, i);
		for (size_t j = 0; j < n; j++)
			if (strcmp(o->framework_id, fws[j]) == 0)
				counts[j]++;
	}
}

static void add_agents(alloc_core *a, int n)
{
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "agent-%d", i);
		agent(a, id, "cpus:4; mem:8192; ports:[31000-31099]");
	}
}

Test(drf, weighted_roles_converge_to_weighted_shares)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 100);
	cr_assert_eq(alloc_role_set_weight(a, "gold", 3), ALLOC_OK);
	fw1(a, "g", "gold");
	fw1(a, "s", "silver");
	const char *fws[] = {"g", "s"};
	int counts[2] = {0};
	alloc_offers *b = run(a, 0);
	count_offers(b, fws, counts, 2);
	alloc_offers_free(b);
	cr_assert_eq(counts[0] + counts[1], 100);
	cr_assert(counts[0] >= 74 && counts[0] <= 76, "gold got %d of 100 agents", counts[0]);

	/* Changing the weight re-sorts: give everything back and run again at 1:1. */
	alloc_core_free(a);
	a = alloc_core_new(NULL);
	add_agents(a, 100);
	fw1(a, "g", "gold");
	fw1(a, "s", "silver");
	cr_assert_eq(alloc_role_set_weight(a, "silver", 4), ALLOC_OK);
	counts[0] = counts[1] = 0;
	b = run(a, 0);
	count_offers(b, fws, counts, 2);
	alloc_offers_free(b);
	cr_assert(counts[1] >= 79 && counts[1] <= 81, "silver got %d of 100 agents", counts[1]);
	alloc_core_free(a);
}

Test(drf, frameworks_inside_a_role_share_equally)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 90);
	fw1(a, "f1", "web");
	fw1(a, "f2", "web");
	fw1(a, "f3", "web");
	const char *fws[] = {"f1", "f2", "f3"};
	int counts[3] = {0};
	alloc_offers *b = run(a, 0);
	count_offers(b, fws, counts, 3);
	alloc_offers_free(b);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(counts[i], 30, "%s got %d", fws[i], counts[i]);
	alloc_core_free(a);
}

/* eng (with its own framework and two children) against ops: the tree is fair at
 * each level. */
Test(drf, hierarchical_roles_are_fair_at_each_level)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 120);
	fw1(a, "web", "eng/web");
	fw1(a, "db", "eng/db");
	fw1(a, "eng", "eng");
	fw1(a, "ops", "ops");
	const char *fws[] = {"web", "db", "eng", "ops"};
	int counts[4] = {0};
	alloc_offers *b = run(a, 0);
	count_offers(b, fws, counts, 4);
	alloc_offers_free(b);
	cr_assert_eq(counts[3], 60, "ops got %d", counts[3]);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(counts[i], 20, "%s got %d", fws[i], counts[i]);
	alloc_role_stats st;
	cr_assert_eq(alloc_role_stats_get(a, "eng", &st), ALLOC_OK);
	cr_assert_float_eq(st.share, 0.5, 1e-9);
	cr_assert_eq(alloc_role_stats_get(a, "eng/web", &st), ALLOC_OK);
	cr_assert_float_eq(st.share, 20.0 / 120, 1e-9);
	alloc_core_free(a);

	/* Weight 2 on eng: eng 80, ops 40; inside eng, 80 shared by three. */
	a = alloc_core_new(NULL);
	add_agents(a, 120);
	cr_assert_eq(alloc_role_set_weight(a, "eng", 2), ALLOC_OK);
	fw1(a, "web", "eng/web");
	fw1(a, "db", "eng/db");
	fw1(a, "ops", "ops");
	int c2[4] = {0};
	b = run(a, 0);
	count_offers(b, fws, c2, 4);
	alloc_offers_free(b);
	cr_assert_eq(c2[3], 40, "ops got %d", c2[3]);
	cr_assert_eq(c2[0], 40);
	cr_assert_eq(c2[1], 40);
	alloc_core_free(a);
}

Test(drf, framework_in_two_roles_gets_offers_in_each)
{
	alloc_core *a = alloc_core_new(NULL);
	add_agents(a, 40);
	const char *roles[] = {"x", "y"};
	cr_assert_eq(alloc_framework_add(a, "m", roles, 2), ALLOC_OK);
	fw1(a, "other", "x");
	int in_x = 0, in_y = 0, other = 0;
	alloc_offers *b = run(a, 0);
	for (size_t i = 0; i < alloc_offers_count(b); i++) {
		const alloc_offer *o = alloc_offers_at(b, i);
		if (strcmp(o->framework_id, "other") == 0)
			other++;
		else if (strcmp(o->role, "x") == 0)
			in_x++;
		else
			in_y++;
		cr_assert(alloc_offered(a, o->framework_id, o->role, o->agent_id) != NULL);
	}
	alloc_offers_free(b);
	/* x and y split 20/20; inside x, m and other split 10/10. */
	cr_assert_eq(in_y, 20);
	cr_assert_eq(in_x, 10);
	cr_assert_eq(other, 10);
	alloc_core_free(a);
}

/* A pass is deterministic: the same calls give the same offers. */
Test(drf, passes_are_deterministic)
{
	char *first = NULL;
	for (int round = 0; round < 2; round++) {
		alloc_core *a = alloc_core_new(NULL);
		add_agents(a, 30);
		fw1(a, "a", "r1");
		fw1(a, "b", "r2/x");
		fw1(a, "c", "r2/y");
		alloc_offers *b = run(a, 0);
		size_t len = 0;
		char *text = calloc(1, 30 * 64);
		for (size_t i = 0; i < alloc_offers_count(b); i++) {
			const alloc_offer *o = alloc_offers_at(b, i);
			len += (size_t)sprintf(text + len, "%s>%s;", o->agent_id, o->framework_id);
		}
		alloc_offers_free(b);
		alloc_core_free(a);
		if (round == 0)
			first = text;
		else {
			cr_assert_str_eq(first, text);
			free(text);
		}
	}
	free(first);
}

/* Frameworks taking one small task per offer and declining the rest, pass after
 * pass: the roles' task counts converge to the weights (2:1). */
Test(drf, weighted_roles_converge_under_churn)
{
	alloc_core *a = alloc_core_new(NULL);
	agent(a, "big", "cpus:30; mem:30720");
	cr_assert_eq(alloc_role_set_weight(a, "gold", 2), ALLOC_OK);
	fw1(a, "g", "gold");
	fw1(a, "s", "silver");
	px_resources *task = R("cpus:1; mem:1024");
	int g = 0, s = 0;
	for (int pass = 0; pass < 100; pass++) {
		alloc_offers *b = run(a, pass);
		if (alloc_offers_count(b) == 0) {
			alloc_offers_free(b);
			break;
		}
		const alloc_offer *o = alloc_offers_at(b, 0);
		if (take_task(a, o, task, 1000000, pass))
			*(strcmp(o->framework_id, "g") == 0 ? &g : &s) += 1;
		alloc_offers_free(b);
	}
	cr_assert_eq(g + s, 30);
	cr_assert(g >= 19 && g <= 21, "gold runs %d tasks, silver %d", g, s);
	px_resources_free(task);
	alloc_core_free(a);
}
