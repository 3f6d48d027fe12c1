/* A randomized property test with a fixed seed: thousands of random events (agents
 * added, removed, under maintenance; frameworks in random roles added, removed,
 * suppressed, revived; offers accepted in part, declined with filters; tasks ending;
 * reservations made and removed) while a model kept here, independently of the
 * allocator, checks after every step that:
 *  - nothing is offered twice (every offer fits in what the model says is free);
 *  - nothing beyond an agent's total is held, and the allocator's free + held equals
 *    the total the model computed itself;
 *  - nothing reserved is offered outside its role's subtree;
 *  - no quota limit is exceeded (also when frameworks reserve from their offers); nothing goes to
 * an agent under maintenance or to a suppressed, inactive or removed framework. */
#include "helpers.h"

#define NAGENTS 24
#define NFWS    10
#define STEPS   6000

static uint64_t rng = 0x5eed1234abcdULL;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const role_pool[] = {"a", "a/x", "a/y", "b", "b/z", "c", "*"};
static const char *const res_roles[] = {"a", "a/x", "b"};

struct m_agent {
	bool alive, maintenance;
	char id[16];
	px_resources *total; /* the model's own */
};

struct m_fw {
	bool alive, suppressed;
	char id[16];
	const char *roles[2];
	size_t nroles;
};

struct grant {
	int fw, ag;
	const char *role; /* from role_pool */
	px_resources *rs;
	bool used;
};

static struct m_agent ags[NAGENTS];
static struct m_fw fws[NFWS];
static struct grant *grants;
static size_t ngrants, capgrants;

static const char *pool_role(const char *role)
{
	for (size_t i = 0; i < sizeof(role_pool) / sizeof(role_pool[0]); i++)
		if (strcmp(role_pool[i], role) == 0)
			return role_pool[i];
	cr_assert_fail("offer in unknown role %s", role);
	return NULL;
}

static void grant_add(int fw, int ag, const char *role, px_resources *rs, bool used)
{
	if (ngrants == capgrants) {
		capgrants = capgrants ? capgrants * 2 : 64;
		grants = realloc(grants, capgrants * sizeof(*grants));
	}
	grants[ngrants++] = (struct grant){fw, ag, role, rs, used};
}

static void grant_drop(size_t i)
{
	px_resources_free(grants[i].rs);
	grants[i] = grants[--ngrants];
}

static px_resources *held_on(int ag)
{
	px_resources *h = px_resources_new();
	for (size_t i = 0; i < ngrants; i++)
		if (grants[i].ag == ag)
			cr_assert_eq(px_resources_add(h, grants[i].rs), PX_OK);
	return h;
}

static bool within(const char *role, const char *ancestor)
{
	size_t n = strlen(ancestor);
	return strncmp(role, ancestor, n) == 0 && (role[n] == '\0' || role[n] == '/');
}

static int find_fw(const char *id)
{
	for (int i = 0; i < NFWS; i++)
		if (fws[i].alive && strcmp(fws[i].id, id) == 0)
			return i;
	return -1;
}

static int find_agent(const char *id)
{
	for (int i = 0; i < NAGENTS; i++)
		if (ags[i].alive && strcmp(ags[i].id, id) == 0)
			return i;
	return -1;
}

/* Quota limits set below, checked by the model from its grants and totals. */
static const struct {
	const char *role;
	int64_t cpus;
} limits[] = {{"c", 10000}, {"b/z", 6000}, {"a/x", 9000}};

static void check_limits(void)
{
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		int64_t consumed = 0;
		for (size_t i = 0; i < ngrants; i++) {
			if (!within(grants[i].role, limits[l].role))
				continue;
			px_resources *u = NULL;
			cr_assert_eq(px_resources_unreserved(grants[i].rs, &u), PX_OK);
			consumed += S(u, "cpus");
			px_resources_free(u);
		}
		for (int g = 0; g < NAGENTS; g++) {
			if (!ags[g].alive)
				continue;
			for (size_t i = 0; i < px_resources_size(ags[g].total); i++) {
				const struct px_resource *e = px_resources_at(ags[g].total, i);
				if (px_resource_is_reserved(e) &&
				    within(px_resource_role(e), limits[l].role) &&
				    strcmp(px_resource_name(e), "cpus") == 0)
					consumed += px_resource_scalar(e);
			}
		}
		cr_assert_leq(consumed, limits[l].cpus, "role %s consumes %ld cpus", limits[l].role,
		              (long)consumed);
	}
}

static void check_agents(alloc_core *a)
{
	for (int g = 0; g < NAGENTS; g++) {
		if (!ags[g].alive) {
			cr_assert_null(alloc_agent_total(a, ags[g].id));
			continue;
		}
		cr_assert(px_resources_equal(alloc_agent_total(a, ags[g].id), ags[g].total),
		          "agent %s: totals differ", ags[g].id);
		px_resources *h = held_on(g);
		cr_assert(px_resources_contains(ags[g].total, h), "agent %s: more held than total",
		          ags[g].id);
		cr_assert_eq(px_resources_add(h, alloc_agent_free(a, ags[g].id)), PX_OK);
		cr_assert(px_resources_equal(h, ags[g].total), "agent %s: free + held != total",
		          ags[g].id);
		px_resources_free(h);
	}
}

static void do_pass(alloc_core *a, int64_t now)
{
	alloc_offers *b = run(a, now);
	for (size_t i = 0; i < alloc_offers_count(b); i++) {
		const alloc_offer *o = alloc_offers_at(b, i);
		int f = find_fw(o->framework_id), g = find_agent(o->agent_id);
		cr_assert(f >= 0 && g >= 0, "offer to a gone framework or agent");
		cr_assert(!fws[f].suppressed, "offer to suppressed %s", o->framework_id);
		cr_assert(!ags[g].maintenance, "offer on %s under maintenance", o->agent_id);
		bool subscribed = false;
		for (size_t r = 0; r < fws[f].nroles; r++)
			subscribed |= strcmp(fws[f].roles[r], o->role) == 0;
		cr_assert(subscribed, "%s not in role %s", o->framework_id, o->role);
		/* Never offered twice: it must fit in what nobody holds. */
		px_resources *free_ = px_resources_copy(ags[g].total), *h = held_on(g);
		px_resources_subtract(free_, h);
		cr_assert(px_resources_contains(free_, o->resources), "offer on %s is not free",
		          o->agent_id);
		px_resources_free(free_);
		px_resources_free(h);
		for (size_t k = 0; k < px_resources_size(o->resources); k++) {
			const struct px_resource *e = px_resources_at(o->resources, k);
			if (px_resource_is_reserved(e))
				cr_assert(within(o->role, px_resource_role(e)),
				          "reserved for %s offered to %s", px_resource_role(e),
				          o->role);
		}
		grant_add(f, g, pool_role(o->role), px_resources_copy(o->resources), false);
	}
	alloc_offers_free(b);
}

static void random_roles(struct m_fw *f)
{
	f->nroles = 1 + rnd(2);
	f->roles[0] = role_pool[rnd(7)];
	f->roles[1] = role_pool[rnd(7)];
	if (f->nroles == 2 && f->roles[0] == f->roles[1])
		f->nroles = 1;
}

static void forget_grants(int fw, int ag)
{
	for (size_t i = ngrants; i-- > 0;)
		if ((fw >= 0 && grants[i].fw == fw) || (ag >= 0 && grants[i].ag == ag))
			grant_drop(i);
}

Test(props, random_events_keep_every_invariant, .timeout = 240)
{
	alloc_core *a = alloc_core_new(NULL);
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		char text[32];
		snprintf(text, sizeof(text), "cpus:%ld", (long)(limits[l].cpus / 1000));
		px_resources *lim = R(text);
		cr_assert_eq(alloc_role_set_quota(a, limits[l].role, NULL, lim), ALLOC_OK);
		px_resources_free(lim);
	}
	px_resources *g8 = R("cpus:8; mem:4096");
	cr_assert_eq(alloc_role_set_quota(a, "a/y", g8, NULL), ALLOC_OK);
	px_resources_free(g8);
	cr_assert_eq(alloc_role_set_weight(a, "b", 2.5), ALLOC_OK);
	int serial = 0, passes = 0, offers_used = 0, reserves_from_offers = 0;
	int64_t now = 0;
	for (int step = 0; step < STEPS; step++) {
		now += rnd(200);
		uint32_t ev = rnd(100);
		if (ev < 8) { /* add an agent */
			int g = rnd(NAGENTS);
			if (!ags[g].alive) {
				snprintf(ags[g].id, sizeof(ags[g].id), "s%d", serial++);
				/* Static reservations only for roles without limits on their path.
				 */
				ags[g].total =
				    R(rnd(3) ? "cpus:8; mem:8192; ports:[31000-31100]"
				             : "cpus:6; mem:6144; cpus(b):2; mem(b):2048; "
				               "ports:[31000-31100]");
				cr_assert_eq(alloc_agent_add(a, ags[g].id, ags[g].total), ALLOC_OK);
				ags[g].alive = true;
				ags[g].maintenance = false;
			}
		} else if (ev < 11) { /* remove an agent */
			int g = rnd(NAGENTS);
			if (ags[g].alive) {
				cr_assert_eq(alloc_agent_remove(a, ags[g].id), ALLOC_OK);
				forget_grants(-1, g);
				px_resources_free(ags[g].total);
				ags[g].alive = false;
			}
		} else if (ev < 14) { /* maintenance on or off */
			int g = rnd(NAGENTS);
			if (ags[g].alive) {
				ags[g].maintenance = !ags[g].maintenance;
				cr_assert_eq(
				    alloc_agent_set_maintenance(a, ags[g].id, ags[g].maintenance),
				    ALLOC_OK);
			}
		} else if (ev < 20) { /* add or remove a framework */
			int f = rnd(NFWS);
			if (!fws[f].alive) {
				snprintf(fws[f].id, sizeof(fws[f].id), "f%d", serial++);
				random_roles(&fws[f]);
				cr_assert_eq(
				    alloc_framework_add(a, fws[f].id, fws[f].roles, fws[f].nroles),
				    ALLOC_OK);
				fws[f].alive = true;
				fws[f].suppressed = false;
			} else {
				cr_assert_eq(alloc_framework_remove(a, fws[f].id), ALLOC_OK);
				forget_grants(f, -1);
				fws[f].alive = false;
			}
		} else if (ev < 24) { /* suppress or revive */
			int f = rnd(NFWS);
			if (fws[f].alive) {
				fws[f].suppressed = !fws[f].suppressed;
				cr_assert_eq(fws[f].suppressed ? alloc_suppress(a, fws[f].id, NULL)
				                               : alloc_revive(a, fws[f].id, NULL),
				             ALLOC_OK);
			}
		} else if (ev < 45) { /* a pass */
			do_pass(a, now);
			passes++;
		} else if (ev < 70 && ngrants > 0) { /* an offer is declined */
			size_t i = rnd((uint32_t)ngrants);
			struct grant *gr = &grants[i];
			if (!gr->used) {
				cr_assert_eq(alloc_recover_offered(a, fws[gr->fw].id, gr->role,
				                                   ags[gr->ag].id, gr->rs,
				                                   rnd(2) ? 0 : rnd(3000), now),
				             ALLOC_OK);
				grant_drop(i);
			}
		} else if (ev < 85 && ngrants > 0) { /* an offer is accepted: one task */
			size_t i = rnd((uint32_t)ngrants);
			struct grant *gr = &grants[i];
			if (!gr->used) {
				px_resources *task = R("cpus:1; mem:512");
				px_resources *u = NULL;
				cr_assert_eq(px_resources_unreserved(gr->rs, &u), PX_OK);
				const char *fid = fws[gr->fw].id, *aid = ags[gr->ag].id;
				const char *role = gr->role;
				int f = gr->fw, g = gr->ag;
				px_resources *rest = px_resources_copy(gr->rs);
				bool fits = px_resources_contains(u, task);
				if (fits) {
					cr_assert_eq(alloc_offer_use(a, fid, role, aid, task),
					             ALLOC_OK);
					px_resources_subtract(rest, task);
					offers_used++;
				}
				grant_drop(i);
				if (!px_resources_is_empty(rest))
					cr_assert_eq(
					    alloc_recover_offered(a, fid, role, aid, rest, 0, now),
					    ALLOC_OK);
				px_resources_free(rest);
				px_resources_free(u);
				if (fits)
					grant_add(f, g, role, task, true);
				else
					px_resources_free(task);
			}
		} else if (ev < 88 && ngrants > 0) { /* an offer is accepted with a RESERVE */
			size_t i = rnd((uint32_t)ngrants);
			struct grant *gr = &grants[i];
			px_resources *u = NULL;
			cr_assert_eq(px_resources_unreserved(gr->rs, &u), PX_OK);
			if (!gr->used && strcmp(gr->role, "*") != 0 && S(u, "cpus") >= 1000) {
				px_resources *dyn = DYN(gr->role, "cpus", 1);
				Plexus__Offer__Operation *op = reserve_op(dyn, false);
				char err[256] = "";
				cr_assert_eq(alloc_offer_apply(a, fws[gr->fw].id, gr->role,
				                               ags[gr->ag].id, op, err,
				                               sizeof(err)),
				             ALLOC_OK, "%s", err);
				cr_assert_eq(px_resources_apply(gr->rs, op, NULL, 0), PX_OK);
				cr_assert_eq(px_resources_apply(ags[gr->ag].total, op, NULL, 0),
				             PX_OK);
				reserves_from_offers++;
				op_free(op);
				px_resources_free(dyn);
			}
			px_resources_free(u);
		} else if (ev < 92 && ngrants > 0) { /* a task ends */
			size_t i = rnd((uint32_t)ngrants);
			struct grant *gr = &grants[i];
			if (gr->used) {
				cr_assert_eq(alloc_recover_used(a, fws[gr->fw].id, gr->role,
				                                ags[gr->ag].id, gr->rs),
				             ALLOC_OK);
				grant_drop(i);
			}
		} else { /* operator reserve or unreserve of one cpu */
			int g = rnd(NAGENTS);
			if (!ags[g].alive)
				continue;
			px_resources *dyn = DYN(res_roles[rnd(3)], "cpus", 1);
			bool unreserve = rnd(2);
			Plexus__Offer__Operation *op = reserve_op(dyn, unreserve);
			int rc = unreserve ? alloc_agent_unreserve(a, ags[g].id, dyn)
			                   : alloc_agent_reserve(a, ags[g].id, dyn);
			if (rc == ALLOC_OK) {
				cr_assert_eq(px_resources_apply(ags[g].total, op, NULL, 0), PX_OK);
			} else {
				/* Refused only when not free (or past a limit on a/x). */
				cr_assert(rc == ALLOC_ENOTAVAIL || rc == ALLOC_EQUOTA, "rc %d", rc);
			}
			op_free(op);
			px_resources_free(dyn);
		}
		check_agents(a);
		check_limits();
	}
	fprintf(stderr, "props: %d passes, %d tasks, %d reserves from offers, %zu grants held\n",
	        passes, offers_used, reserves_from_offers, ngrants);
	cr_assert_gt(passes, 500);
	cr_assert_gt(offers_used, 100);
	cr_assert_gt(reserves_from_offers, 20);
	for (int i = 0; i < NAGENTS; i++)
		if (ags[i].alive)
			px_resources_free(ags[i].total);
	while (ngrants > 0)
		grant_drop(ngrants - 1);
	free(grants);
	alloc_core_free(a);
}
