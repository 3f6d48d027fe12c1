/* allocator_link.c — allocator_link.h on the allocator actor of master/allocator/
 * (allocator_actor.h).
 *
 * Each call becomes one `struct link_call` (its own copies of ids and resources) run
 * inside the allocator by alloc_actor_dispatch(); calls from the master arrive in the
 * order it made them, which is what keeps the two sets of books in step: a rescinded
 * offer's resources are back before the RESERVE that needs them, a task's resources are
 * used before they are recovered. The call is freed by a continuation on its future, so
 * it is released also when the allocator has ended with calls still queued. Calls that
 * answer (an operator operation, /master/roles, an explanation) carry a continuation
 * that runs back inside the master.
 *
 * Offers come back through the allocator's callback, which runs inside the allocator: it
 * hands the batch to the mailbox of the PID given to mst_alloc_new() (actor_call), and
 * deliver() turns it into offers there. The callback holds that PID only (the allocator
 * actor owns it and frees it when it ends), no pointer into the master's state, which may
 * be gone by then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_pb.h"
#include "master/allocator/allocator.h"
#include "master/allocator/allocator_actor.h"
#include "master/allocator/report.h"
#include "master/allocator_link.h"
#include "master/master_internal.h"
#include "master/registrar.h"

struct mst_alloc {
	struct master *m;
	actor_pid pid;
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
	C_METRICS,
	C_ROLES,
	C_EXPLAIN,
};

struct link_call {
	enum call_kind kind;
	char *framework_id, *role, *agent_id;
	px_resources *res, *res2; /* resources; total; guarantee and limit */
	Plexus__Offer__Operation *op;
	int64_t refuse_ms;
	double weight;
	bool flag;
	/* C_AGENT_APPLY, C_ROLES, C_EXPLAIN: what runs back in the master (answered). */
	void (*answered)(actor_t *self, int rc, struct link_call *c);
	mst_alloc_done_fn done;
	mst_alloc_explain_fn explain_done;
	actor_promise *promise; /* C_ROLES */
	void *done_arg;
	json_t *json; /* C_ROLES: the role objects, made inside the allocator */
	char *text;   /* C_EXPLAIN: the explanation, made inside the allocator */
	char err[512];
};

static void call_free(struct link_call *c)
{
	free(c->framework_id);
	free(c->role);
	free(c->agent_id);
	px_resources_free(c->res);
	px_resources_free(c->res2);
	if (c->op != NULL)
		protobuf_c_message_free_unpacked(&c->op->base, NULL);
	json_decref(c->json);
	free(c->text);
	actor_promise_free(c->promise);
	free(c);
}

/* ---- inside the allocator ------------------------------------------------------------ */

static int run_call(alloc_core *core, int64_t now, void *arg)
{
	struct link_call *c = arg;
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
			alloc_metrics_quota_removed(&before);
		return alloc_role_set_quota(core, c->role, c->res, c->res2);
	}
	case C_METRICS:
		alloc_metrics_refresh(core);
		return ALLOC_OK;
	case C_ROLES:
		c->json = alloc_roles_json(core);
		return c->json != NULL ? ALLOC_OK : ALLOC_ENOMEM;
	case C_EXPLAIN: {
		size_t len = 2048;
		if ((c->text = malloc(len)) == NULL)
			return ALLOC_ENOMEM;
		int rc = alloc_explain_request(core, c->framework_id, c->role, c->res, now, c->text,
		                               len);
		if (rc < 0)
			snprintf(c->err, sizeof(c->err), "%s", alloc_strerror(-rc));
		return rc < 0 ? -rc : ALLOC_OK;
	}
	}
	return ALLOC_EINVAL;
}

/* ---- back in the master ------------------------------------------------------------- */

static int by_framework(const void *x, const void *y)
{
	const struct mst_offer *a = *(struct mst_offer *const *)x,
	                       *b = *(struct mst_offer *const *)y;

	return strcmp(a->framework_id, b->framework_id);
}

/* Turns a batch into offers, inside the master. An offer for an agent under
 * maintenance goes straight back; mst_offer_create() sends back those for agents and
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
	struct mst_offer **made = calloc(n ? n : 1, sizeof(*made));
	for (size_t i = 0; i < n; i++) {
		const alloc_offer *o = alloc_offers_at(batch, i);
		px_resources *res = NULL;
		struct mst_agent *ag = mst_agent_find(m, o->agent_id);
		if (made == NULL || (ag != NULL && ag->maintenance) ||
		    (res = px_resources_copy(o->resources)) == NULL) {
			mst_alloc_recover_offered(m->alloc, o->framework_id, o->role, o->agent_id,
			                          o->resources, 0);
			continue;
		}
		struct mst_offer *of =
		    mst_offer_create(m, o->framework_id, o->agent_id, o->role, res);
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
		struct mst_framework *fw = mst_framework_find(m, made[i]->framework_id);
		if (fw != NULL)
			mst_offers_send(m, fw, made + i, j - i);
		i = j;
	}
	free(made);
	if (k > 0)
		mst_master_update_gauges(m);
}

/* The allocator's offer callback: runs inside the allocator, hands the batch to the
 * actor whose PID (owned by the allocator actor) is arg. */
static void offers_to_owner(alloc_offers *batch, void *arg)
{
	const actor_pid *to = arg;

	if (actor_call(*to, deliver, batch) != 0)
		alloc_offers_free(batch);
}

/* ---- queuing calls ------------------------------------------------------------------ */

static void call_done(actor_t *in, actor_future *f, void *arg)
{
	struct link_call *c = arg;

	if (c->answered != NULL) {
		int rc = actor_future_state(f) == ACTOR_FUTURE_READY ? 0 : actor_future_error(f);
		if (rc != 0 && c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "the allocator is not running");
		c->answered(in, rc, c);
	}
	call_free(c);
}

/* Queues c in the allocator; c is freed once it has run (or cannot). When c->answered
 * is set it runs inside the master, otherwise the call ends wherever its future
 * completes. */
static void queue(struct mst_alloc *a, struct link_call *c)
{
	actor_future *f = alloc_actor_dispatch(a->pid, run_call, c);

	actor_future_on_any(f, c->answered ? actor_current() : NULL, call_done, c);
	actor_future_unref(f);
}

static struct link_call *call_new(enum call_kind kind, const char *framework_id, const char *role,
                                  const char *agent_id, const px_resources *res)
{
	struct link_call *c = calloc(1, sizeof(*c));

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

static void send_call(struct mst_alloc *a, enum call_kind kind, const char *framework_id,
                      const char *role, const char *agent_id, const px_resources *res)
{
	struct link_call *c = call_new(kind, framework_id, role, agent_id, res);

	if (c != NULL)
		queue(a, c);
}

static void send_flag(struct mst_alloc *a, enum call_kind kind, const char *framework_id,
                      const char *agent_id, bool flag)
{
	struct link_call *c = call_new(kind, framework_id, NULL, agent_id, NULL);

	if (c != NULL) {
		c->flag = flag;
		queue(a, c);
	}
}

/* ---- life cycle --------------------------------------------------------------------- */

/* Gives the allocator the weights and quota the registry holds (set by operators
 * before a restart). */
static void restore(struct mst_alloc *a)
{
	const json_t *weights = mst_registrar_get(a->m->registrar, "weights");
	const json_t *quotas = mst_registrar_get(a->m->registrar, "quotas");
	const char *role;
	json_t *v;

	json_object_foreach((json_t *)weights, role, v)
	{
		mst_alloc_set_weight(a, role, json_number_value(v));
	}
	json_object_foreach((json_t *)quotas, role, v)
	{
		px_resources *g = NULL, *l = NULL;
		char err[256];
		json_t *gj = json_object_get(v, "guarantee"), *lj = json_object_get(v, "limit");
		/* The registrar checked these when it read the file. */
		if ((gj == NULL || px_resources_from_json(gj, &g, err, sizeof(err)) == PX_OK) &&
		    (lj == NULL || px_resources_from_json(lj, &l, err, sizeof(err)) == PX_OK))
			mst_alloc_set_quota(a, role, g, l);
		px_resources_free(g);
		px_resources_free(l);
	}
	if (json_object_size(weights) + json_object_size(quotas) > 0)
		actor_info("master: restored %zu role weights and %zu quotas from the registry",
		           json_object_size(weights), json_object_size(quotas));
}

struct mst_alloc *mst_alloc_new(struct master *m, actor_pid offers_to)
{
	struct mst_alloc *a = calloc(1, sizeof(*a));
	actor_pid *to = malloc(sizeof(*to));
	alloc_actor_config cfg;

	if (a == NULL || to == NULL) {
		free(a);
		free(to);
		return NULL;
	}
	*to = offers_to;
	a->m = m;
	alloc_actor_config_default(&cfg);
	cfg.allocation_interval_ms = m->flags.allocation_interval_ms;
	cfg.offer_cb = offers_to_owner;
	cfg.offer_arg = to;
	cfg.offer_arg_free = free;
	if (alloc_actor_spawn(&cfg, &a->pid) != 0) {
		actor_error("master: cannot start the allocator");
		free(to);
		free(a);
		return NULL;
	}
	actor_info("master: allocator running as %s, offers to %s", actor_pid_str(a->pid),
	           actor_pid_str(offers_to));
	restore(a);
	return a;
}

void mst_alloc_free(struct mst_alloc *a)
{
	if (a == NULL)
		return;
	actor_terminate(a->pid);
	free(a);
}

actor_pid mst_alloc_pid(const struct mst_alloc *a)
{
	return a->pid;
}

void mst_alloc_agent_maintenance(struct mst_alloc *a, const char *id, bool maintenance)
{
	send_flag(a, C_AGENT_MAINT, NULL, id, maintenance);
}

/* ---- frameworks --------------------------------------------------------------------- */

int mst_alloc_framework_add(struct mst_alloc *a, const char *id, const char *role, bool active)
{
	struct link_call *c = call_new(C_FW_ADD, id, role, NULL, NULL);

	if (c == NULL)
		return -1;
	c->flag = active;
	queue(a, c);
	return 0;
}

void mst_alloc_framework_remove(struct mst_alloc *a, const char *id)
{
	send_call(a, C_FW_REMOVE, id, NULL, NULL, NULL);
}

void mst_alloc_framework_activate(struct mst_alloc *a, const char *id, bool active)
{
	send_flag(a, C_FW_ACTIVE, id, NULL, active);
}

void mst_alloc_framework_suppress(struct mst_alloc *a, const char *id)
{
	send_call(a, C_SUPPRESS, id, NULL, NULL, NULL);
}

void mst_alloc_framework_revive(struct mst_alloc *a, const char *id)
{
	send_call(a, C_REVIVE, id, NULL, NULL, NULL);
}

/* ---- agents ------------------------------------------------------------------------- */

int mst_alloc_agent_add(struct mst_alloc *a, const char *id, const px_resources *total,
                        bool maintenance)
{
	struct link_call *c = call_new(C_AGENT_ADD, NULL, NULL, id, total);

	if (c == NULL)
		return -1;
	c->flag = maintenance;
	queue(a, c);
	return 0;
}

void mst_alloc_agent_remove(struct mst_alloc *a, const char *id)
{
	send_call(a, C_AGENT_REMOVE, NULL, NULL, id, NULL);
}

void mst_alloc_agent_activate(struct mst_alloc *a, const char *id, bool active)
{
	send_flag(a, C_AGENT_ACTIVE, NULL, id, active);
}

/* ---- offers and tasks --------------------------------------------------------------- */

void mst_alloc_recover_offered(struct mst_alloc *a, const char *framework_id, const char *role,
                               const char *agent_id, const px_resources *res, double refuse_seconds)
{
	if (px_resources_is_empty(res))
		return;
	struct link_call *c = call_new(C_RECOVER_OFFERED, framework_id, role, agent_id, res);
	if (c == NULL)
		return;
	if (refuse_seconds > 0)
		/* Mesos caps a filter at a year; longer is the same in practice. */
		c->refuse_ms = refuse_seconds > 31536000.0 ? 31536000000LL
		                                           : (int64_t)(refuse_seconds * 1000.0);
	queue(a, c);
}

void mst_alloc_offer_use(struct mst_alloc *a, const char *framework_id, const char *role,
                         const char *agent_id, const px_resources *res)
{
	if (!px_resources_is_empty(res))
		send_call(a, C_OFFER_USE, framework_id, role, agent_id, res);
}

void mst_alloc_recover_used(struct mst_alloc *a, const char *framework_id, const char *role,
                            const char *agent_id, const px_resources *res)
{
	if (!px_resources_is_empty(res))
		send_call(a, C_RECOVER_USED, framework_id, role, agent_id, res);
}

void mst_alloc_used_add(struct mst_alloc *a, const char *framework_id, const char *role,
                        const char *agent_id, const px_resources *res)
{
	if (!px_resources_is_empty(res))
		send_call(a, C_USED_ADD, framework_id, role, agent_id, res);
}

int mst_alloc_offer_apply(struct mst_alloc *a, const char *framework_id, const char *role,
                          const char *agent_id, const Plexus__Offer__Operation *op, char *err,
                          size_t errlen)
{
	if (!alloc_op_roles_match(op, role, err, errlen))
		return ALLOC_EINVAL;
	struct link_call *c = call_new(C_OFFER_APPLY, framework_id, role, agent_id, NULL);
	if (c == NULL || (c->op = (void *)px_message_copy(&op->base)) == NULL) {
		if (c != NULL)
			call_free(c);
		snprintf(err, errlen, "out of memory");
		return ALLOC_ENOMEM;
	}
	queue(a, c);
	return 0;
}

static void agent_applied(actor_t *self, int rc, struct link_call *c)
{
	c->done(self, rc, c->err, c->done_arg);
}

void mst_alloc_agent_apply(struct mst_alloc *a, const char *agent_id,
                           const Plexus__Offer__Operation *op, mst_alloc_done_fn done, void *arg)
{
	struct link_call *c = call_new(C_AGENT_APPLY, NULL, NULL, agent_id, NULL);

	if (c == NULL || (c->op = (void *)px_message_copy(&op->base)) == NULL) {
		if (c != NULL)
			call_free(c);
		done(actor_current(), ALLOC_ENOMEM, "out of memory", arg);
		return;
	}
	c->answered = agent_applied;
	c->done = done;
	c->done_arg = arg;
	queue(a, c);
}

/* ---- roles -------------------------------------------------------------------------- */

void mst_alloc_set_weight(struct mst_alloc *a, const char *role, double weight)
{
	struct link_call *c = call_new(C_WEIGHT, NULL, role, NULL, NULL);

	if (c != NULL) {
		c->weight = weight;
		queue(a, c);
	}
	mst_alloc_refresh_metrics(a);
}

void mst_alloc_set_quota(struct mst_alloc *a, const char *role, const px_resources *guarantee,
                         const px_resources *limit)
{
	struct link_call *c = call_new(C_QUOTA, NULL, role, NULL, guarantee);

	if (c == NULL)
		return;
	if (limit != NULL && (c->res2 = px_resources_copy(limit)) == NULL) {
		call_free(c);
		return;
	}
	queue(a, c);
	mst_alloc_refresh_metrics(a);
}

/* ---- passes and figures ------------------------------------------------------------- */

void mst_alloc_run(struct mst_alloc *a)
{
	actor_future_unref(alloc_actor_run_now(a->pid));
	/* Queued after the pass, so the figures include it. */
	mst_alloc_refresh_metrics(a);
}

void mst_alloc_refresh_metrics(struct mst_alloc *a)
{
	send_call(a, C_METRICS, NULL, NULL, NULL, NULL);
}

/* ---- answers: /master/roles and explanations ----------------------------------------- */

/* Back in the master: the role objects get their frameworks (the master's books), and
 * the document answers the request. */
static void roles_collected(actor_t *in, int rc, struct link_call *c)
{
	if (in == NULL || rc != 0 || c->json == NULL) {
		actor_promise_fail(c->promise, ACTOR_EFAILED, "the allocator did not answer");
		return;
	}
	struct master *m = actor_state(in);
	size_t i;
	json_t *role;
	json_array_foreach(c->json, i, role)
	{
		json_t *ids = json_array();
		const char *name = json_string_value(json_object_get(role, "name"));
		for (struct mst_framework *fw = m->frameworks; fw; fw = fw->next)
			if (name != NULL && strcmp(fw->role, name) == 0)
				json_array_append_new(ids, json_string(fw->id));
		json_object_set_new(role, "frameworks", ids);
	}
	json_t *o = json_object();
	json_object_set(o, "roles", c->json);
	char *text = json_dumps(o, PX_JSON_DUMP_FLAGS);
	json_decref(o);
	actor_http_response *res =
	    text ? actor_http_response_alloc(200, "application/json", text, strlen(text)) : NULL;
	free(text);
	if (res != NULL)
		actor_promise_set(c->promise, res, actor_http_response_free_cb);
	else
		actor_promise_fail(c->promise, ACTOR_ENOMEM, "out of memory");
}

actor_future *mst_alloc_roles_response(struct mst_alloc *a)
{
	struct link_call *c = call_new(C_ROLES, NULL, NULL, NULL, NULL);

	if (c == NULL || (c->promise = actor_promise_alloc()) == NULL) {
		if (c != NULL)
			call_free(c);
		return actor_future_failed(ACTOR_ENOMEM, "out of memory");
	}
	actor_future *res = actor_promise_future(c->promise);
	c->answered = roles_collected;
	queue(a, c);
	return res;
}

static void explained(actor_t *in, int rc, struct link_call *c)
{
	c->explain_done(in, rc, rc == 0 && c->text ? c->text : c->err, c->done_arg);
}

void mst_alloc_explain(struct mst_alloc *a, const char *framework_id, const char *role,
                       const px_resources *request, mst_alloc_explain_fn done, void *arg)
{
	struct link_call *c = call_new(C_EXPLAIN, framework_id, role, NULL, request);

	if (c == NULL) {
		done(actor_current(), ALLOC_ENOMEM, "out of memory", arg);
		return;
	}
	c->answered = explained;
	c->explain_done = done;
	c->done_arg = arg;
	queue(a, c);
}
