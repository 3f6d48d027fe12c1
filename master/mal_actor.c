/* mal_actor.c — mal.h on the allocator actor of master/allocator/ (allocator_actor.h).
 *
 * Each call becomes one `struct call` (its own copies of ids and resources) run inside
 * the allocator by alloc_actor_dispatch(); calls from the master arrive in the order it
 * made them, which is what keeps the two sets of books in step: a rescinded offer's
 * resources are back before the RESERVE that needs them, a task's resources are used
 * before they are recovered. The call is freed by a continuation on its future, so it is
 * released also when the allocator has ended with calls still queued.
 *
 * Offers come back through the allocator's callback, which runs inside the allocator:
 * it hands the batch to the master's mailbox (actor_call), and deliver() turns it into
 * offers there. The callback finds the master by its fixed id "master" in this OS
 * process, so it holds no pointer into the master's state, which may be gone by then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json_pb.h"
#include "master/allocator/allocator.h"
#include "master/allocator/allocator_actor.h"
#include "master/mal.h"
#include "master/mal_internal.h"
#include "master/master_internal.h"
#include "master/registrar.h"

struct mal {
	struct master *m;
	actor_pid pid;
	struct idmap maintenance; /* agent ids under maintenance; keys owned (val == key) */
};

enum call_kind {
	C_FW_ADD,
	C_FW_REMOVE,
	C_FW_ACTIVE,
	C_SUPPRESS,
	C_REVIVE,
	C_AGENT_ADD,
	C_AGENT_REMOVE,
	C_AGENT_ACTIVE,
	C_AGENT_MAINT,
	C_RECOVER_OFFERED,
	C_OFFER_USE,
	C_RECOVER_USED,
	C_USED_ADD,
	C_OFFER_APPLY,
	C_AGENT_APPLY,
	C_WEIGHT,
	C_QUOTA,
	C_PASS,
	C_METRICS,
};

struct call {
	enum call_kind kind;
	char *framework_id, *role, *agent_id;
	px_resources *res, *res2; /* resources; total; guarantee and limit */
	Plexus__Offer__Operation *op;
	int64_t refuse_ms;
	double weight;
	bool flag;
	/* C_AGENT_APPLY: the master's continuation. */
	mal_done_fn done;
	void *done_arg;
	char err[512];
};

static void call_free(struct call *c)
{
	free(c->framework_id);
	free(c->role);
	free(c->agent_id);
	px_resources_free(c->res);
	px_resources_free(c->res2);
	if (c->op != NULL)
		protobuf_c_message_free_unpacked(&c->op->base, NULL);
	free(c);
}

/* ---- inside the allocator ------------------------------------------------------------ */

static void offers_to_master(alloc_offers *batch, void *arg);

static int run_call(alloc_core *core, int64_t now, void *arg)
{
	struct call *c = arg;
	const char *roles[1] = {c->role};

	switch (c->kind) {
	case C_FW_ADD: {
		int rc = alloc_framework_add(core, c->framework_id, roles, 1);
		if (rc == ALLOC_EEXIST)
			rc = alloc_framework_update_roles(core, c->framework_id, roles, 1);
		return rc == ALLOC_OK ? alloc_framework_set_active(core, c->framework_id, c->flag)
		                      : rc;
	}
	case C_FW_REMOVE:
		return alloc_framework_remove(core, c->framework_id);
	case C_FW_ACTIVE:
		return alloc_framework_set_active(core, c->framework_id, c->flag);
	case C_SUPPRESS:
		return alloc_suppress(core, c->framework_id, NULL);
	case C_REVIVE:
		return alloc_revive(core, c->framework_id, NULL);
	case C_AGENT_ADD: {
		/* A re-registering agent may still be known: start it afresh. */
		int rc = alloc_agent_add(core, c->agent_id, c->res);
		if (rc == ALLOC_EEXIST) {
			alloc_agent_remove(core, c->agent_id);
			rc = alloc_agent_add(core, c->agent_id, c->res);
		}
		if (rc == ALLOC_OK && c->flag)
			rc = alloc_agent_set_maintenance(core, c->agent_id, true);
		return rc;
	}
	case C_AGENT_REMOVE:
		return alloc_agent_remove(core, c->agent_id);
	case C_AGENT_ACTIVE:
		return alloc_agent_set_active(core, c->agent_id, c->flag);
	case C_AGENT_MAINT:
		return alloc_agent_set_maintenance(core, c->agent_id, c->flag);
	case C_RECOVER_OFFERED:
		return alloc_recover_offered(core, c->framework_id, c->role, c->agent_id, c->res,
		                             c->refuse_ms, now);
	case C_OFFER_USE:
		return alloc_offer_use(core, c->framework_id, c->role, c->agent_id, c->res);
	case C_RECOVER_USED:
		return alloc_recover_used(core, c->framework_id, c->role, c->agent_id, c->res);
	case C_USED_ADD:
		return alloc_used_add(core, c->framework_id, c->role, c->agent_id, c->res);
	case C_OFFER_APPLY:
		return alloc_offer_apply(core, c->framework_id, c->role, c->agent_id, c->op, c->err,
		                         sizeof(c->err));
	case C_AGENT_APPLY: {
		int rc = alloc_agent_apply(core, c->agent_id, c->op, c->err, sizeof(c->err));
		if (rc != ALLOC_OK && c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "%s", alloc_strerror(rc));
		return rc;
	}
	case C_WEIGHT:
		return alloc_role_set_weight(core, c->role, c->weight);
	case C_QUOTA: {
		alloc_role_stats before;
		bool removing = c->res == NULL && c->res2 == NULL &&
		                alloc_role_stats_get(core, c->role, &before) == ALLOC_OK;
		/* Before the change: the stats borrow from the core. */
		if (removing)
			mal_metrics_quota_removed(&before);
		return alloc_role_set_quota(core, c->role, c->res, c->res2);
	}
	case C_PASS: {
		struct timespec t0, t1;
		alloc_offers *batch = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = alloc_run(core, now, &batch);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		mal_metrics_pass((double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		if (batch != NULL && alloc_offers_count(batch) > 0)
			offers_to_master(batch, NULL);
		else
			alloc_offers_free(batch);
		mal_metrics_refresh(core);
		return rc;
	}
	case C_METRICS:
		mal_metrics_refresh(core);
		return ALLOC_OK;
	}
	return ALLOC_EINVAL;
}

/* ---- back in the master ------------------------------------------------------------- */

static int by_framework(const void *x, const void *y)
{
	const struct offer *a = *(struct offer *const *)x, *b = *(struct offer *const *)y;

	return strcmp(a->framework_id, b->framework_id);
}

/* Turns a batch into offers, inside the master. An offer for an agent under
 * maintenance goes straight back; offer_create() sends back those for agents and
 * frameworks that are gone or inactive. */
static void deliver(actor_t *self, void *arg)
{
	alloc_offers *batch = arg;

	if (self == NULL) {
		alloc_offers_free(batch);
		return;
	}
	struct master *m = actor_state(self);
	size_t n = alloc_offers_count(batch), k = 0;
	struct offer **made = calloc(n ? n : 1, sizeof(*made));
	for (size_t i = 0; i < n; i++) {
		const alloc_offer *o = alloc_offers_at(batch, i);
		px_resources *res = NULL;
		struct agent *ag = agent_find(m, o->agent_id);
		/* An agent that registered on a machine already down was added to the
		 * allocator before the master could look at its hostname: caught here. */
		if (ag != NULL && !mal_agent_in_maintenance(m->alloc, ag->id) &&
		    mal_machine_is_down(m, ag))
			mal_agent_maintenance(m->alloc, ag->id, true);
		if (made == NULL || mal_agent_in_maintenance(m->alloc, o->agent_id) ||
		    (res = px_resources_copy(o->resources)) == NULL) {
			mal_recover_offered(m->alloc, o->framework_id, o->role, o->agent_id,
			                    o->resources, 0);
			continue;
		}
		struct offer *of = offer_create(m, o->framework_id, o->agent_id, o->role, res);
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
		struct framework *fw = framework_find(m, made[i]->framework_id);
		if (fw != NULL)
			offers_send(m, fw, made + i, j - i);
		i = j;
	}
	free(made);
	if (k > 0)
		master_update_gauges(m);
}

/* The allocator's offer callback (and the end of a pass mal asked for): runs inside the
 * allocator, hands the batch to the master of this OS process. */
static void offers_to_master(alloc_offers *batch, void *arg)
{
	actor_pid me = actor_self(actor_current()), master;

	(void)arg;
	if (actor_pid_make("master", me.ip, me.port, &master) != 0 ||
	    actor_call(master, deliver, batch) != 0)
		alloc_offers_free(batch);
}

/* ---- queuing calls ------------------------------------------------------------------ */

static void call_done(actor_t *in, actor_future *f, void *arg)
{
	struct call *c = arg;

	if (c->done != NULL) {
		int rc = actor_future_state(f) == ACTOR_FUTURE_READY ? 0 : actor_future_error(f);
		if (rc != 0 && c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "the allocator is not running");
		c->done(in, rc, c->err, c->done_arg);
	}
	call_free(c);
}

/* Queues c in the allocator; c is freed once it has run (or cannot). When c->done is
 * set the continuation runs inside the master, otherwise wherever the future completes. */
static void queue(struct mal *a, struct call *c)
{
	actor_future *f = alloc_actor_dispatch(a->pid, run_call, c);

	actor_future_on_any(f, c->done ? actor_current() : NULL, call_done, c);
	actor_future_unref(f);
}

static struct call *call_new(enum call_kind kind, const char *framework_id, const char *role,
                             const char *agent_id, const px_resources *res)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		goto oom;
	c->kind = kind;
	if ((framework_id && (c->framework_id = strdup(framework_id)) == NULL) ||
	    (role && (c->role = strdup(role)) == NULL) ||
	    (agent_id && (c->agent_id = strdup(agent_id)) == NULL) ||
	    (res && (c->res = px_resources_copy(res)) == NULL))
		goto oom;
	return c;
oom:
	if (c != NULL)
		call_free(c);
	actor_error("master: out of memory queuing an allocator call");
	return NULL;
}

static void send_call(struct mal *a, enum call_kind kind, const char *framework_id,
                      const char *role, const char *agent_id, const px_resources *res)
{
	struct call *c = call_new(kind, framework_id, role, agent_id, res);

	if (c != NULL)
		queue(a, c);
}

static void send_flag(struct mal *a, enum call_kind kind, const char *framework_id,
                      const char *agent_id, bool flag)
{
	struct call *c = call_new(kind, framework_id, NULL, agent_id, NULL);

	if (c != NULL) {
		c->flag = flag;
		queue(a, c);
	}
}

/* ---- life cycle --------------------------------------------------------------------- */

/* Gives the allocator the weights and quota the registry holds (set by operators
 * before a restart). */
static void restore(struct mal *a)
{
	const json_t *weights = registrar_get(a->m->registrar, "weights");
	const json_t *quotas = registrar_get(a->m->registrar, "quotas");
	const char *role;
	json_t *v;

	json_object_foreach((json_t *)weights, role, v)
	{
		mal_set_weight(a, role, json_number_value(v));
	}
	json_object_foreach((json_t *)quotas, role, v)
	{
		px_resources *g = NULL, *l = NULL;
		char err[256];
		json_t *gj = json_object_get(v, "guarantee"), *lj = json_object_get(v, "limit");
		/* The registrar checked these when it read the file. */
		if ((gj == NULL || px_resources_from_json(gj, &g, err, sizeof(err)) == PX_OK) &&
		    (lj == NULL || px_resources_from_json(lj, &l, err, sizeof(err)) == PX_OK))
			mal_set_quota(a, role, g, l);
		px_resources_free(g);
		px_resources_free(l);
	}
	if (json_object_size(weights) + json_object_size(quotas) > 0)
		actor_info("master: restored %zu role weights and %zu quotas from the registry",
		           json_object_size(weights), json_object_size(quotas));
}

struct mal *mal_new(struct master *m)
{
	struct mal *a = calloc(1, sizeof(*a));
	alloc_actor_config cfg;

	if (a == NULL)
		return NULL;
	a->m = m;
	alloc_actor_config_default(&cfg);
	cfg.allocation_interval_ms = m->flags.allocation_interval_ms;
	cfg.offer_cb = offers_to_master;
	mal_metrics_init();
	if (alloc_actor_spawn(&cfg, &a->pid) != 0) {
		actor_error("master: cannot start the allocator");
		free(a);
		return NULL;
	}
	actor_info("master: allocator running as %s", actor_pid_str(a->pid));
	restore(a);
	return a;
}

static void maintenance_clear(struct idmap *map)
{
	for (size_t i = 0; i < map->cap; i++) {
		const char *k = map->slots[i].key;
		if (k != NULL && map->slots[i].val == k)
			free(map->slots[i].val);
	}
	idmap_fini(map);
}

void mal_free(struct mal *a)
{
	if (a == NULL)
		return;
	actor_terminate(a->pid);
	maintenance_clear(&a->maintenance);
	free(a);
}

actor_pid mal_pid(const struct mal *a)
{
	return a->pid;
}

static void maintenance_mark(struct mal *a, const char *id, bool maintenance)
{
	char *key = idmap_get(&a->maintenance, id);

	if (maintenance && key == NULL) {
		key = strdup(id);
		if (key == NULL || idmap_put(&a->maintenance, key, key) != 0) {
			free(key);
			actor_error("master: out of memory marking agent %s", id);
		}
	} else if (!maintenance && key != NULL) {
		idmap_del(&a->maintenance, id);
		free(key);
	}
}

void mal_agent_maintenance(struct mal *a, const char *id, bool maintenance)
{
	maintenance_mark(a, id, maintenance);
	send_flag(a, C_AGENT_MAINT, NULL, id, maintenance);
}

/* ---- frameworks --------------------------------------------------------------------- */

int mal_framework_add(struct mal *a, const char *id, const char *role, bool active)
{
	struct call *c = call_new(C_FW_ADD, id, role, NULL, NULL);

	if (c == NULL)
		return -1;
	c->flag = active;
	queue(a, c);
	return 0;
}

void mal_framework_remove(struct mal *a, const char *id)
{
	send_call(a, C_FW_REMOVE, id, NULL, NULL, NULL);
}

void mal_framework_activate(struct mal *a, const char *id, bool active)
{
	send_flag(a, C_FW_ACTIVE, id, NULL, active);
}

void mal_framework_suppress(struct mal *a, const char *id)
{
	send_call(a, C_SUPPRESS, id, NULL, NULL, NULL);
}

void mal_framework_revive(struct mal *a, const char *id)
{
	send_call(a, C_REVIVE, id, NULL, NULL, NULL);
}

/* ---- agents ------------------------------------------------------------------------- */

int mal_agent_add(struct mal *a, const char *id, const px_resources *total)
{
	struct call *c = call_new(C_AGENT_ADD, NULL, NULL, id, total);

	if (c == NULL)
		return -1;
	/* An agent on a machine that is down comes (back) under maintenance. */
	struct agent *ag = agent_find(a->m, id);
	c->flag = ag != NULL && mal_machine_is_down(a->m, ag);
	maintenance_mark(a, id, c->flag);
	queue(a, c);
	return 0;
}

void mal_agent_remove(struct mal *a, const char *id)
{
	send_call(a, C_AGENT_REMOVE, NULL, NULL, id, NULL);
}

void mal_agent_activate(struct mal *a, const char *id, bool active)
{
	send_flag(a, C_AGENT_ACTIVE, NULL, id, active);
}

bool mal_agent_in_maintenance(const struct mal *a, const char *id)
{
	return idmap_get(&a->maintenance, id) != NULL;
}

/* ---- offers and tasks --------------------------------------------------------------- */

void mal_recover_offered(struct mal *a, const char *framework_id, const char *role,
                         const char *agent_id, const px_resources *res, double refuse_seconds)
{
	if (px_resources_is_empty(res))
		return;
	struct call *c = call_new(C_RECOVER_OFFERED, framework_id, role, agent_id, res);
	if (c == NULL)
		return;
	if (refuse_seconds > 0)
		/* Mesos caps a filter at a year; longer is the same in practice. */
		c->refuse_ms = refuse_seconds > 31536000.0 ? 31536000000LL
		                                           : (int64_t)(refuse_seconds * 1000.0);
	queue(a, c);
}

void mal_offer_use(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                   const px_resources *res)
{
	if (!px_resources_is_empty(res))
		send_call(a, C_OFFER_USE, framework_id, role, agent_id, res);
}

void mal_recover_used(struct mal *a, const char *framework_id, const char *role,
                      const char *agent_id, const px_resources *res)
{
	if (!px_resources_is_empty(res))
		send_call(a, C_RECOVER_USED, framework_id, role, agent_id, res);
}

void mal_used_add(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                  const px_resources *res)
{
	if (!px_resources_is_empty(res))
		send_call(a, C_USED_ADD, framework_id, role, agent_id, res);
}

/* The reservation roles an operation makes or removes are all `role`. */
static bool op_roles_are(const Plexus__Offer__Operation *op, const char *role, char *err,
                         size_t errlen)
{
	Plexus__Resource **res = NULL;
	size_t n = 0;

	if (op->type == PLEXUS__OFFER__OPERATION__TYPE__RESERVE && op->reserve) {
		res = op->reserve->resources;
		n = op->reserve->n_resources;
	} else if (op->type == PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE && op->unreserve) {
		res = op->unreserve->resources;
		n = op->unreserve->n_resources;
	} else {
		return true;
	}
	px_resources *rs = NULL;
	if (px_resources_from_pb(res, n, &rs, err, errlen) != PX_OK)
		return false;
	bool ok = true;
	for (size_t i = 0; i < px_resources_size(rs) && ok; i++) {
		const char *r = px_resource_role(px_resources_at(rs, i));
		if (r == NULL || strcmp(r, role) != 0) {
			snprintf(err, errlen,
			         "a reservation for role '%s' on an offer made to '%s'",
			         r ? r : "*", role);
			ok = false;
		}
	}
	px_resources_free(rs);
	return ok;
}

int mal_offer_apply(struct mal *a, const char *framework_id, const char *role, const char *agent_id,
                    const Plexus__Offer__Operation *op, char *err, size_t errlen)
{
	if (!op_roles_are(op, role, err, errlen))
		return ALLOC_EINVAL;
	struct call *c = call_new(C_OFFER_APPLY, framework_id, role, agent_id, NULL);
	if (c == NULL || (c->op = (void *)px_message_copy(&op->base)) == NULL) {
		if (c != NULL)
			call_free(c);
		snprintf(err, errlen, "out of memory");
		return ALLOC_ENOMEM;
	}
	queue(a, c);
	return 0;
}

void mal_agent_apply(struct mal *a, const char *agent_id, const Plexus__Offer__Operation *op,
                     mal_done_fn done, void *arg)
{
	struct call *c = call_new(C_AGENT_APPLY, NULL, NULL, agent_id, NULL);

	if (c == NULL || (c->op = (void *)px_message_copy(&op->base)) == NULL) {
		if (c != NULL)
			call_free(c);
		done(actor_current(), ALLOC_ENOMEM, "out of memory", arg);
		return;
	}
	c->done = done;
	c->done_arg = arg;
	queue(a, c);
}

/* ---- roles -------------------------------------------------------------------------- */

void mal_set_weight(struct mal *a, const char *role, double weight)
{
	struct call *c = call_new(C_WEIGHT, NULL, role, NULL, NULL);

	if (c != NULL) {
		c->weight = weight;
		queue(a, c);
	}
	mal_refresh_metrics(a);
}

void mal_set_quota(struct mal *a, const char *role, const px_resources *guarantee,
                   const px_resources *limit)
{
	struct call *c = call_new(C_QUOTA, NULL, role, NULL, guarantee);

	if (c == NULL)
		return;
	if (limit != NULL && (c->res2 = px_resources_copy(limit)) == NULL) {
		call_free(c);
		return;
	}
	queue(a, c);
	mal_refresh_metrics(a);
}

/* ---- passes and figures ------------------------------------------------------------- */

void mal_run(struct mal *a)
{
	send_call(a, C_PASS, NULL, NULL, NULL, NULL);
}

void mal_refresh_metrics(struct mal *a)
{
	send_call(a, C_METRICS, NULL, NULL, NULL, NULL);
}
