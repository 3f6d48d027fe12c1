/* offers.c — offers: made from what the allocator hands out, rescinded on timeout or
 * when their agent or framework goes away, declined with filters, accepted with
 * operations (LAUNCH; RESERVE, UNRESERVE, CREATE, DESTROY), plus revive and suppress.
 *
 * The master keeps every resource set in unallocated form and marks offers with their
 * role (Resource.allocation_info) only when it sends them. */
#include <stdlib.h>
#include <string.h>

#include "master/allocator_link.h"
#include "master/master_internal.h"

#define DEFAULT_REFUSE_SECONDS 5.0 /* Filters.refuse_seconds's default */

struct mst_offer *mst_offer_find(struct master *m, const char *id)
{
	return mst_idmap_get(&m->offer_index, id);
}

static void offer_free(struct mst_offer *o)
{
	free(o->id);
	free(o->framework_id);
	free(o->agent_id);
	free(o->role);
	px_resources_free(o->resources);
	free(o);
}

static void offer_timeout(actor_t *self, void *arg)
{
	char *id = arg;

	if (self != NULL) {
		struct master *m = actor_state(self);
		struct mst_offer *o = mst_offer_find(m, id);
		if (o != NULL) {
			o->timer = 0;
			actor_info("master: offer %s timed out", o->id);
			actor_counter_inc(m->metrics.offers_rescinded);
			mst_offer_remove(self, m, o, true, true);
			mst_master_update_offer_gauges(m);
		}
	}
	free(id);
}

/* One offer as it goes on the wire; everything it points to lives until the message
 * holding it is sent. */
struct wire_offer {
	Plexus__Offer offer;
	Plexus__OfferID oid;
	Plexus__AgentID aid;
	Plexus__FrameworkID fid;
	Plexus__Resource__AllocationInfo alloc;
	px_resources *marked;
	Plexus__Resource **res;
	size_t n_res;
	char pid[ACTOR_PID_TEXT_MAX];
};

static bool wire_offer_init(struct wire_offer *w, struct mst_framework *fw, struct mst_agent *ag,
                            const struct mst_offer *o)
{
	if (px_resources_allocate(o->resources, o->role, &w->marked) != PX_OK ||
	    px_resources_to_pb(w->marked, PX_PB_REFINED, &w->res, &w->n_res) != PX_OK)
		return false;
	plexus__offer__init(&w->offer);
	plexus__offer_id__init(&w->oid);
	plexus__agent_id__init(&w->aid);
	plexus__resource__allocation_info__init(&w->alloc);
	w->oid.value = o->id;
	w->aid.value = ag->id;
	mst_id_init(&w->fid, fw->id);
	w->alloc.role = o->role;
	w->offer.id = &w->oid;
	w->offer.framework_id = &w->fid;
	w->offer.agent_id = &w->aid;
	w->offer.hostname = ag->info->hostname;
	w->offer.resources = w->res;
	w->offer.n_resources = w->n_res;
	w->offer.attributes = ag->info->attributes;
	w->offer.n_attributes = ag->info->n_attributes;
	w->offer.allocation_info = &w->alloc;
	actor_pid_format(ag->pid, w->pid, sizeof(w->pid));
	return true;
}

void mst_offers_send(struct master *m, struct mst_framework *fw, struct mst_offer *const *os,
                     size_t n)
{
	struct wire_offer *w = calloc(n ? n : 1, sizeof(*w));
	Plexus__Offer **offers = calloc(n ? n : 1, sizeof(*offers));
	char **pids = calloc(n ? n : 1, sizeof(*pids));
	size_t k = 0;

	if (w == NULL || offers == NULL || pids == NULL) {
		actor_error("master: out of memory sending offers to framework %s", fw->id);
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct mst_agent *ag = mst_agent_find(m, os[i]->agent_id);
		if (ag == NULL || !wire_offer_init(&w[i], fw, ag, os[i])) {
			actor_error("master: cannot send offer %s", os[i]->id);
			continue;
		}
		offers[k] = &w[i].offer;
		pids[k++] = w[i].pid;
	}
	if (k > 0) {
		Plexus__Internal__ResourceOffersMessage msg =
		    PLEXUS__INTERNAL__RESOURCE_OFFERS_MESSAGE__INIT;
		msg.offers = offers;
		msg.n_offers = k;
		msg.pids = pids;
		msg.n_pids = k;
		actor_send_pb(actor_current(), fw->pid, &msg.base);
	}
	for (size_t i = 0; w != NULL && i < n; i++) {
		px_pb_resources_free(w[i].res, w[i].n_res);
		px_resources_free(w[i].marked);
	}
	free(w);
	free(offers);
	free(pids);
}

struct mst_offer *mst_offer_create(struct master *m, const char *framework_id, const char *agent_id,
                                   const char *role, px_resources *resources)
{
	struct mst_framework *fw = mst_framework_find(m, framework_id);
	struct mst_agent *ag = mst_agent_find(m, agent_id);
	struct mst_offer *o = NULL;

	if (fw == NULL || ag == NULL || !fw->active || !ag->active ||
	    (o = calloc(1, sizeof(*o))) == NULL) {
		mst_alloc_recover_offered(m->alloc, framework_id, role, agent_id, resources, 0);
		px_resources_free(resources);
		return NULL;
	}
	char id[64];
	snprintf(id, sizeof(id), "%s-O%llu", m->id, (unsigned long long)m->next_offer++);
	o->id = strdup(id);
	o->framework_id = strdup(framework_id);
	o->agent_id = strdup(agent_id);
	o->role = strdup(role);
	o->resources = resources;
	if (o->id == NULL || o->framework_id == NULL || o->agent_id == NULL || o->role == NULL ||
	    mst_idmap_put(&m->offer_index, o->id, o) != 0) {
		mst_alloc_recover_offered(m->alloc, framework_id, role, agent_id, resources, 0);
		offer_free(o);
		return NULL;
	}
	px_resources_add(fw->offered, resources);
	px_resources_add(ag->offered, resources);
	o->next = m->offers;
	o->pprev = &m->offers;
	if (m->offers != NULL)
		m->offers->pprev = &o->next;
	m->offers = o;
	m->n_offers++;
	if (m->flags.offer_timeout_ms > 0) {
		char *arg = strdup(o->id);
		if (arg != NULL)
			o->timer = actor_delay(actor_current(), m->flags.offer_timeout_ms,
			                       offer_timeout, arg);
	}
	return o;
}

void mst_offer_remove(actor_t *self, struct master *m, struct mst_offer *o, bool rescind,
                      bool recover)
{
	/* O(1): with 10,000s of outstanding offers, walking the list for each accept or
	 * decline made a round of offers quadratic. */
	if (o->pprev == NULL)
		return;
	*o->pprev = o->next;
	if (o->next != NULL)
		o->next->pprev = o->pprev;
	o->pprev = NULL;
	mst_idmap_del(&m->offer_index, o->id);
	m->n_offers--;
	if (o->timer)
		actor_cancel(self, o->timer);
	struct mst_framework *fw = mst_framework_find(m, o->framework_id);
	struct mst_agent *ag = mst_agent_find(m, o->agent_id);
	if (fw != NULL)
		px_resources_subtract(fw->offered, o->resources);
	if (ag != NULL)
		px_resources_subtract(ag->offered, o->resources);
	if (rescind && fw != NULL && fw->connected) {
		Plexus__Internal__RescindResourceOfferMessage r =
		    PLEXUS__INTERNAL__RESCIND_RESOURCE_OFFER_MESSAGE__INIT;
		Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
		oid.value = o->id;
		r.offer_id = &oid;
		actor_send_pb(self, fw->pid, &r.base);
	}
	if (recover)
		mst_alloc_recover_offered(m->alloc, o->framework_id, o->role, o->agent_id,
		                          o->resources, 0);
	offer_free(o);
}

void mst_offers_rescind(actor_t *self, struct master *m, const char *framework_id,
                        const char *agent_id)
{
	struct mst_offer *o = m->offers;

	while (o != NULL) {
		struct mst_offer *next = o->next;
		if ((framework_id && strcmp(o->framework_id, framework_id) == 0) ||
		    (agent_id && strcmp(o->agent_id, agent_id) == 0)) {
			actor_counter_inc(m->metrics.offers_rescinded);
			mst_offer_remove(self, m, o, true, true);
		}
		o = next;
	}
	mst_master_update_gauges(m);
}

void mst_allocation_tick(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct master *m = actor_state(self);
	/* The allocator actor runs its own passes every interval; the master only keeps its
	 * figures under /metrics/snapshot fresh on the same beat. */
	mst_alloc_refresh_metrics(m->alloc);
	m->allocation_timer =
	    actor_delay(self, m->flags.allocation_interval_ms, mst_allocation_tick, NULL);
}

static double refuse_seconds(const Plexus__Filters *f)
{
	if (f == NULL || !f->has_refuse_seconds)
		return DEFAULT_REFUSE_SECONDS;
	return f->refuse_seconds == f->refuse_seconds ? f->refuse_seconds : DEFAULT_REFUSE_SECONDS;
}

static void decline(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__DeclineOffersMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "decline");

	if (fw == NULL)
		return;
	for (size_t i = 0; i < r->n_offer_ids; i++) {
		struct mst_offer *o = mst_offer_find(m, r->offer_ids[i]->value);
		if (o == NULL || strcmp(o->framework_id, fw->id) != 0) {
			actor_debug("master: decline of unknown offer %s", r->offer_ids[i]->value);
			continue;
		}
		px_resources *res = px_resources_copy(o->resources);
		char *agent = strdup(o->agent_id), *role = strdup(o->role);
		mst_offer_remove(self, m, o, false, false);
		if (res != NULL && agent != NULL && role != NULL)
			mst_alloc_recover_offered(m->alloc, fw->id, role, agent, res,
			                          refuse_seconds(r->filters));
		free(role);
		actor_counter_inc(m->metrics.offers_declined);
		px_resources_free(res);
		free(agent);
	}
	mst_master_update_offer_gauges(m);
}

static void fail_tasks(actor_t *self, struct master *m, struct mst_framework *fw,
                       Plexus__Offer__Operation *const *ops, size_t n_ops, Plexus__TaskState state,
                       Plexus__TaskStatus__Reason reason, const char *why)
{
	for (size_t i = 0; i < n_ops; i++) {
		const Plexus__Offer__Operation *op = ops[i];
		Plexus__TaskInfo **tasks = NULL;
		size_t n = 0;
		if (op->type == PLEXUS__OFFER__OPERATION__TYPE__LAUNCH && op->launch) {
			tasks = op->launch->task_infos;
			n = op->launch->n_task_infos;
		} else if (op->type == PLEXUS__OFFER__OPERATION__TYPE__LAUNCH_GROUP &&
		           op->launch_group && op->launch_group->task_group) {
			tasks = op->launch_group->task_group->tasks;
			n = op->launch_group->task_group->n_tasks;
		}
		for (size_t j = 0; j < n; j++) {
			mst_status_update_send(self, m, fw, tasks[j]->task_id->value,
			                       tasks[j]->agent_id ? tasks[j]->agent_id->value
			                                          : NULL,
			                       NULL, state, reason, why);
			if (state == PLEXUS__TASK_STATE__TASK_ERROR)
				actor_counter_inc(m->metrics.tasks_error);
			else if (state == PLEXUS__TASK_STATE__TASK_DROPPED)
				actor_counter_inc(m->metrics.tasks_dropped);
			else
				actor_counter_inc(m->metrics.tasks_lost);
		}
	}
}

static void run_task(actor_t *self, struct mst_framework *fw, struct mst_agent *ag,
                     Plexus__TaskInfo *task)
{
	Plexus__Internal__RunTaskMessage run = PLEXUS__INTERNAL__RUN_TASK_MESSAGE__INIT;
	Plexus__FrameworkID fid;
	char pid[ACTOR_PID_TEXT_MAX];

	mst_id_init(&fid, fw->id);
	actor_pid_format(fw->pid, pid, sizeof(pid));
	run.framework_id = &fid;
	run.framework = fw->info;
	run.framework_pid = pid;
	run.task = task;
	actor_send_pb(self, ag->pid, &run.base);
}

static void launch(actor_t *self, struct master *m, struct mst_framework *fw, struct mst_agent *ag,
                   const Plexus__Offer__Operation__Launch *l, px_resources *left)
{
	char **ids = calloc(l->n_task_infos + 1, sizeof(*ids));
	size_t n_ids = 0;
	char buf[1024];

	for (size_t i = 0; i < l->n_task_infos; i++) {
		Plexus__TaskInfo *t = l->task_infos[i];
		px_resources *use = NULL;
		const char *bad =
		    mst_validate_task(m, fw, ag, t, left, ids, n_ids, &use, buf, sizeof(buf));
		if (bad != NULL) {
			actor_warn("master: task %s of framework %s is invalid: %s",
			           t->task_id->value, fw->id, bad);
			actor_counter_inc(m->metrics.tasks_invalid);
			actor_counter_inc(m->metrics.tasks_error);
			mst_status_update_send(self, m, fw, t->task_id->value, ag->id, NULL,
			                       PLEXUS__TASK_STATE__TASK_ERROR,
			                       PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID,
			                       bad);
			continue;
		}
		px_resources_subtract(left, use);
		if (mst_task_add(m, fw, ag, t, use, PLEXUS__TASK_STATE__TASK_STAGING) == NULL) {
			actor_error("master: out of memory adding task %s", t->task_id->value);
			continue;
		}
		if (ids != NULL)
			ids[n_ids++] = t->task_id->value;
		actor_info("master: launching task %s of framework %s on agent %s",
		           t->task_id->value, fw->id, ag->id);
		run_task(self, fw, ag, t);
	}
	free(ids);
}

/* The agent's dynamic reservations and persistent volumes, which it must checkpoint. */
static bool checkpointed(const struct px_resource *r, void *arg)
{
	return px_resource_is_dynamic(r) || px_resource_persistence_id(r) != NULL;
}

static void send_checkpoint(actor_t *self, struct mst_agent *ag)
{
	px_resources *ck = NULL;
	Plexus__Resource **res = NULL;
	size_t n = 0;

	if (px_resources_filter(ag->total, checkpointed, NULL, &ck) != PX_OK)
		return;
	if (px_resources_to_pb(ck, PX_PB_REFINED, &res, &n) == PX_OK) {
		Plexus__Internal__CheckpointResourcesMessage msg =
		    PLEXUS__INTERNAL__CHECKPOINT_RESOURCES_MESSAGE__INIT;
		msg.resources = res;
		msg.n_resources = n;
		actor_send_pb(self, ag->pid, &msg.base);
		px_pb_resources_free(res, n);
	}
	px_resources_free(ck);
}

/* Strips allocation marks from the resources of a RESERVE/UNRESERVE/CREATE/DESTROY
 * operation (the master's books are unallocated). Returns a new operation. */
static Plexus__Offer__Operation *op_unallocated(const Plexus__Offer__Operation *op)
{
	Plexus__Offer__Operation *copy = (void *)px_message_copy(&op->base);
	Plexus__Resource ***slot = NULL;
	size_t *n = NULL;

	if (copy == NULL)
		return NULL;
	if (copy->reserve) {
		slot = &copy->reserve->resources;
		n = &copy->reserve->n_resources;
	} else if (copy->unreserve) {
		slot = &copy->unreserve->resources;
		n = &copy->unreserve->n_resources;
	} else if (copy->create) {
		slot = &copy->create->volumes;
		n = &copy->create->n_volumes;
	} else if (copy->destroy) {
		slot = &copy->destroy->volumes;
		n = &copy->destroy->n_volumes;
	}
	if (slot == NULL)
		return copy;
	for (size_t i = 0; i < *n; i++) {
		if ((*slot)[i]->allocation_info != NULL) {
			mst_pb_free((*slot)[i]->allocation_info);
			(*slot)[i]->allocation_info = NULL;
		}
	}
	return copy;
}

static void apply_operation(actor_t *self, struct master *m, struct mst_framework *fw,
                            struct mst_agent *ag, const Plexus__Offer__Operation *op,
                            px_resources *left)
{
	char err[512] = "";
	Plexus__Offer__Operation *plain = op_unallocated(op);
	px_resources *next = px_resources_copy(left), *total = px_resources_copy(ag->total);

	/* Checked against what is left of the offers, then by the allocator (which also
	 * holds reservations to the offer's role), and only then applied to the books. */
	if (plain == NULL || next == NULL || total == NULL) {
		actor_error("master: out of memory applying an operation");
	} else if (px_resources_apply(next, plain, err, sizeof(err)) != PX_OK ||
	           px_resources_apply(total, plain, err, sizeof(err)) != PX_OK ||
	           mst_alloc_offer_apply(m->alloc, fw->id, fw->role, ag->id, plain, err,
	                                 sizeof(err)) != 0) {
		actor_warn("master: dropping operation of framework %s: %s", fw->id,
		           err[0] ? err : "refused by the allocator");
	} else {
		px_resources_clear(left);
		px_resources_add(left, next);
		px_resources_free(ag->total);
		ag->total = total;
		total = NULL;
		send_checkpoint(self, ag);
		actor_info("master: applied operation %d of framework %s on agent %s",
		           (int)op->type, fw->id, ag->id);
	}
	mst_pb_free(plain);
	px_resources_free(next);
	px_resources_free(total);
}

static void accept(actor_t *self, struct master *m, struct mst_framework *fw,
                   Plexus__OfferID *const *ids, size_t n_ids, Plexus__Offer__Operation *const *ops,
                   size_t n_ops, const Plexus__Filters *filters)
{
	char buf[1024];
	struct mst_agent *ag = NULL;
	const char *bad = mst_validate_offers(m, fw, ids, n_ids, &ag, buf, sizeof(buf));

	if (bad != NULL) {
		actor_warn("master: accept of framework %s refused: %s", fw->id, bad);
		fail_tasks(self, m, fw, ops, n_ops,
		           fw->partition_aware ? PLEXUS__TASK_STATE__TASK_DROPPED
		                               : PLEXUS__TASK_STATE__TASK_LOST,
		           PLEXUS__TASK_STATUS__REASON__REASON_INVALID_OFFERS, bad);
		/* The framework's valid offers among them go back to the allocator. */
		for (size_t i = 0; i < n_ids; i++) {
			struct mst_offer *o = mst_offer_find(m, ids[i]->value);
			if (o != NULL && strcmp(o->framework_id, fw->id) == 0)
				mst_offer_remove(self, m, o, false, true);
		}
		mst_master_update_offer_gauges(m);
		return;
	}
	px_resources *left = px_resources_new();
	if (left == NULL)
		return;
	for (size_t i = 0; i < n_ids; i++) {
		struct mst_offer *o = mst_offer_find(m, ids[i]->value);
		px_resources_add(left, o->resources);
		mst_offer_remove(self, m, o, false, false);
	}
	actor_counter_inc(m->metrics.offers_accepted);
	for (size_t i = 0; i < n_ops; i++) {
		const Plexus__Offer__Operation *op = ops[i];
		switch (op->type) {
		case PLEXUS__OFFER__OPERATION__TYPE__LAUNCH:
			if (op->launch != NULL)
				launch(self, m, fw, ag, op->launch, left);
			break;
		case PLEXUS__OFFER__OPERATION__TYPE__RESERVE:
		case PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE:
		case PLEXUS__OFFER__OPERATION__TYPE__CREATE:
		case PLEXUS__OFFER__OPERATION__TYPE__DESTROY:
			apply_operation(self, m, fw, ag, op, left);
			break;
		case PLEXUS__OFFER__OPERATION__TYPE__LAUNCH_GROUP:
			fail_tasks(self, m, fw, &ops[i], 1, PLEXUS__TASK_STATE__TASK_ERROR,
			           PLEXUS__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID,
			           "LAUNCH_GROUP is not supported by this master yet");
			break;
		default:
			actor_warn("master: dropping unsupported operation %d of framework %s",
			           (int)op->type, fw->id);
			break;
		}
	}
	/* What is left counts as declined, with the accept's filters. */
	if (!px_resources_is_empty(left))
		mst_alloc_recover_offered(m->alloc, fw->id, fw->role, ag->id, left,
		                          refuse_seconds(filters));
	px_resources_free(left);
	mst_master_update_offer_gauges(m);
}

static void accept_offers(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__AcceptOffersMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "accept");

	if (fw != NULL)
		accept(self, m, fw, r->offer_ids, r->n_offer_ids, r->operations, r->n_operations,
		       r->filters);
}

static void launch_tasks(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__LaunchTasksMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "launch");
	Plexus__Offer__Operation op = PLEXUS__OFFER__OPERATION__INIT;
	Plexus__Offer__Operation__Launch l = PLEXUS__OFFER__OPERATION__LAUNCH__INIT;
	Plexus__Offer__Operation *ops[1] = {&op};

	if (fw == NULL)
		return;
	l.task_infos = r->tasks;
	l.n_task_infos = r->n_tasks;
	op.has_type = true;
	op.type = PLEXUS__OFFER__OPERATION__TYPE__LAUNCH;
	op.launch = &l;
	accept(self, m, fw, r->offer_ids, r->n_offer_ids, ops, 1, r->filters);
}

static void revive(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ReviveOffersMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "revive");

	if (fw == NULL)
		return;
	mst_alloc_framework_revive(m->alloc, fw->id);
	mst_alloc_run(m->alloc);
}

static void suppress(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__SuppressOffersMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "suppress");

	if (fw != NULL)
		mst_alloc_framework_suppress(m->alloc, fw->id);
}

void mst_offers_install(actor_t *self)
{
	actor_install_pb(self, &plexus__internal__decline_offers_message__descriptor, decline,
	                 NULL);
	actor_install_pb(self, &plexus__internal__accept_offers_message__descriptor, accept_offers,
	                 NULL);
	actor_install_pb(self, &plexus__internal__launch_tasks_message__descriptor, launch_tasks,
	                 NULL);
	actor_install_pb(self, &plexus__internal__revive_offers_message__descriptor, revive, NULL);
	actor_install_pb(self, &plexus__internal__suppress_offers_message__descriptor, suppress,
	                 NULL);
}
