/* tasks.c — tasks and what flows about them: status updates (agent -> master ->
 * framework) and their acknowledgements (framework -> master -> agent), kills,
 * explicit and implicit reconciliation, and framework messages, which go through the
 * master both ways as in Mesos (scheduler -> master -> agent -> executor and back).
 *
 * A task stays in its framework's list until the update that made it terminal is
 * acknowledged; its resources are free as soon as the master hears it is terminal. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator_link.h"
#include "master/master_internal.h"

struct mst_task *mst_task_find(struct mst_framework *fw, const char *id)
{
	return mst_idmap_get(&fw->task_index, id);
}

void mst_task_free(struct mst_task *t)
{
	if (t == NULL)
		return;
	free(t->id);
	free(t->name);
	free(t->framework_id);
	free(t->agent_id);
	free(t->executor_id);
	px_resources_free(t->resources);
	mst_pb_free(t->status);
	free(t->uuid);
	free(t->times);
	free(t->states);
	free(t);
}

static void record_state(struct mst_task *t, Plexus__TaskState s)
{
	double *times = realloc(t->times, (t->n_states + 1) * sizeof(*times));
	if (times == NULL)
		return;
	t->times = times;
	Plexus__TaskState *states = realloc(t->states, (t->n_states + 1) * sizeof(*states));
	if (states == NULL)
		return;
	t->states = states;
	t->times[t->n_states] = mst_master_wall_time();
	t->states[t->n_states++] = s;
}

static void count_in(struct master *m, Plexus__TaskState s)
{
	if (!px_task_state_is_terminal(s) && s >= 0 && s < 16)
		m->task_counts[s]++;
}

static struct mst_task *task_new(struct master *m, struct mst_framework *fw, struct mst_agent *ag,
                                 const char *id, const char *name, const char *executor_id,
                                 px_resources *res, Plexus__TaskState state)
{
	struct mst_task *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		px_resources_free(res);
		return NULL;
	}
	t->id = strdup(id);
	t->name = strdup(name ? name : "");
	t->framework_id = strdup(fw->id);
	t->agent_id = strdup(ag->id);
	t->executor_id = executor_id ? strdup(executor_id) : NULL;
	t->resources = res;
	t->state = state;
	t->staged_time = mst_master_wall_time();
	if (t->id == NULL || t->name == NULL || t->framework_id == NULL || t->agent_id == NULL ||
	    res == NULL || (executor_id && t->executor_id == NULL) ||
	    mst_idmap_put(&fw->task_index, t->id, t) != 0) {
		mst_task_free(t);
		return NULL;
	}
	record_state(t, state);
	px_resources_add(fw->used, res);
	px_resources_add(ag->used, res);
	if (state == PLEXUS__TASK_STATE__TASK_STAGING)
		mst_alloc_offer_use(m->alloc, fw->id, fw->role, ag->id,
		                    res); /* launched from an offer */
	else
		mst_alloc_used_add(m->alloc, fw->id, fw->role, ag->id,
		                   res); /* reported by its agent */
	count_in(m, state);
	t->next = fw->tasks;
	t->pprev = &fw->tasks;
	if (fw->tasks != NULL)
		fw->tasks->pprev = &t->next;
	fw->tasks = t;
	mst_api_operator_task_added(m, t);
	return t;
}

struct mst_task *mst_task_add(struct master *m, struct mst_framework *fw, struct mst_agent *ag,
                              const Plexus__TaskInfo *info, px_resources *res,
                              Plexus__TaskState state)
{
	const char *exec = info->executor ? info->executor->executor_id->value : NULL;

	return task_new(m, fw, ag, info->task_id->value, info->name, exec, res, state);
}

struct mst_task *mst_task_add_reported(struct master *m, struct mst_framework *fw,
                                       struct mst_agent *ag, const Plexus__Task *t)
{
	px_resources *res = NULL, *plain = NULL;

	if (px_resources_from_pb(t->resources, t->n_resources, &res, NULL, 0) != PX_OK)
		res = px_resources_new();
	if (res != NULL && px_resources_allocate(res, NULL, &plain) == PX_OK) {
		px_resources_free(res);
		res = plain;
	}
	struct mst_task *mt =
	    task_new(m, fw, ag, t->task_id->value, t->name,
	             t->executor_id ? t->executor_id->value : NULL, res, t->state);
	if (mt != NULL && t->n_statuses > 0)
		mt->status = (void *)px_message_copy(&t->statuses[t->n_statuses - 1]->base);
	return mt;
}

static void count_terminal(struct master *m, Plexus__TaskState s)
{
	struct mst_metrics *x = &m->metrics;

	switch (s) {
	case PLEXUS__TASK_STATE__TASK_FINISHED:
		actor_counter_inc(x->tasks_finished);
		break;
	case PLEXUS__TASK_STATE__TASK_FAILED:
		actor_counter_inc(x->tasks_failed);
		break;
	case PLEXUS__TASK_STATE__TASK_KILLED:
		actor_counter_inc(x->tasks_killed);
		break;
	case PLEXUS__TASK_STATE__TASK_ERROR:
		actor_counter_inc(x->tasks_error);
		break;
	case PLEXUS__TASK_STATE__TASK_LOST:
		actor_counter_inc(x->tasks_lost);
		break;
	case PLEXUS__TASK_STATE__TASK_DROPPED:
		actor_counter_inc(x->tasks_dropped);
		break;
	case PLEXUS__TASK_STATE__TASK_UNREACHABLE:
		actor_counter_inc(x->tasks_unreachable);
		break;
	case PLEXUS__TASK_STATE__TASK_GONE:
	case PLEXUS__TASK_STATE__TASK_GONE_BY_OPERATOR:
		actor_counter_inc(x->tasks_gone);
		break;
	default:
		break;
	}
}

void mst_task_set_state(struct master *m, struct mst_task *t, Plexus__TaskState state)
{
	Plexus__TaskState old = t->state;

	if (old == state)
		return;
	if (px_task_state_is_terminal(old))
		return; /* a terminal task stays so (a late update changes nothing) */
	if (old >= 0 && old < 16)
		m->task_counts[old]--;
	t->state = state;
	record_state(t, state);
	count_in(m, state);
	/* Unreachable tasks hold nothing the master can offer again either. */
	if (px_task_state_is_terminal(state) || state == PLEXUS__TASK_STATE__TASK_UNREACHABLE) {
		count_terminal(m, state);
		struct mst_framework *fw = mst_framework_find(m, t->framework_id);
		struct mst_agent *ag = mst_agent_find(m, t->agent_id);
		if (ag != NULL)
			px_resources_subtract(ag->used, t->resources);
		if (fw != NULL) {
			px_resources_subtract(fw->used, t->resources);
			mst_alloc_recover_used(m->alloc, fw->id, fw->role, t->agent_id,
			                       t->resources);
		}
	}
	mst_master_update_task_gauges(m);
	mst_api_operator_task_updated(m, t);
}

void mst_task_complete(struct master *m, struct mst_framework *fw, struct mst_task *t)
{
	/* Unlinked in O(1): a framework may hold 100,000s of tasks, and walking its list
	 * for each one that ends made launching quadratic. */
	if (t->pprev == NULL || t->completed)
		return;
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	mst_idmap_del(&fw->task_index, t->id);
	if (!px_task_state_is_terminal(t->state) &&
	    t->state != PLEXUS__TASK_STATE__TASK_UNREACHABLE)
		mst_task_set_state(m, t, PLEXUS__TASK_STATE__TASK_LOST);
	t->completed = true;
	t->next = fw->completed;
	t->pprev = &fw->completed;
	if (fw->completed != NULL)
		fw->completed->pprev = &t->next;
	else
		fw->completed_tail = t;
	fw->completed = t;
	if (++fw->n_completed > (size_t)m->flags.max_completed_tasks_per_framework) {
		struct mst_task *old = fw->completed_tail;
		*old->pprev = NULL;
		/* next is the first member: the pointer to old is the next of the one before. */
		fw->completed_tail =
		    old->pprev == &fw->completed
		        ? NULL
		        : (struct mst_task *)((char *)old->pprev - offsetof(struct mst_task, next));
		mst_task_free(old);
		fw->n_completed--;
	}
}

static void forward_update(actor_t *self, struct mst_framework *fw,
                           const Plexus__Internal__StatusUpdate *u, const char *pid)
{
	Plexus__Internal__StatusUpdateMessage msg = PLEXUS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;

	if (!fw->connected)
		return; /* the agent retries; the framework gets it after failing over */
	msg.update = (Plexus__Internal__StatusUpdate *)u;
	msg.pid = (char *)pid;
	actor_send_pb(self, fw->pid, &msg.base);
}

static void send_status(actor_t *self, struct master *m, struct mst_framework *fw,
                        const char *task_id, const char *agent_id, const char *executor_id,
                        Plexus__TaskState state, Plexus__TaskStatus__Reason reason,
                        const char *message, const Plexus__TaskStatus *like)
{
	Plexus__Internal__StatusUpdate u = PLEXUS__INTERNAL__STATUS_UPDATE__INIT;
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	Plexus__FrameworkID fid;

	if (like != NULL)
		st = *like; /* reconciliation repeats the latest status */
	mst_id_init(&fid, fw->id);
	tid.value = (char *)task_id;
	st.task_id = &tid;
	st.state = state;
	st.has_source = true;
	st.source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_MASTER;
	st.has_reason = true;
	st.reason = reason;
	if (message != NULL)
		st.message = (char *)message;
	st.has_timestamp = true;
	st.timestamp = mst_master_wall_time();
	if (agent_id != NULL) {
		aid.value = (char *)agent_id;
		st.agent_id = &aid;
		u.agent_id = &aid;
	}
	if (executor_id != NULL) {
		eid.value = (char *)executor_id;
		st.executor_id = &eid;
		u.executor_id = &eid;
	}
	st.has_uuid = false;
	u.framework_id = &fid;
	u.status = &st;
	u.has_timestamp = true;
	u.timestamp = st.timestamp;
	forward_update(self, fw, &u, "");
}

void mst_status_update_send(actor_t *self, struct master *m, struct mst_framework *fw,
                            const char *task_id, const char *agent_id, const char *executor_id,
                            Plexus__TaskState state, Plexus__TaskStatus__Reason reason,
                            const char *message)
{
	send_status(self, m, fw, task_id, agent_id, executor_id, state, reason, message, NULL);
}

static void status_update(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__StatusUpdateMessage *r = (const void *)msg;
	const Plexus__Internal__StatusUpdate *u = r->update;
	struct mst_agent *ag = mst_agent_find_pid(m, from);
	const char *bad = NULL;

	if (ag == NULL || !ag->connected)
		bad = "not from a registered agent";
	else if (u == NULL || u->status == NULL || u->framework_id == NULL)
		bad = "incomplete update";
	struct mst_framework *fw = bad ? NULL : mst_framework_find(m, u->framework_id->value);
	if (bad == NULL && fw == NULL)
		bad = "unknown framework";
	if (bad != NULL) {
		actor_warn("master: dropping status update from %s: %s", actor_pid_str(from), bad);
		actor_counter_inc(m->metrics.invalid_status_updates);
		return;
	}
	struct mst_task *t = mst_task_find(fw, u->status->task_id->value);
	if (t != NULL && strcmp(t->agent_id, ag->id) == 0) {
		Plexus__TaskState s = u->has_latest_state ? u->latest_state : u->status->state;
		mst_task_set_state(m, t, s);
		Plexus__TaskStatus *copy = (void *)px_message_copy(&u->status->base);
		if (copy != NULL) {
			mst_pb_free(t->status);
			t->status = copy;
		}
		free(t->uuid);
		t->uuid = NULL;
		t->uuid_len = 0;
		if (u->has_uuid && (t->uuid = malloc(u->uuid.len ? u->uuid.len : 1)) != NULL) {
			memcpy(t->uuid, u->uuid.data, u->uuid.len);
			t->uuid_len = u->uuid.len;
		}
		t->uuid_terminal = px_task_state_is_terminal(u->status->state);
	}
	actor_counter_inc(m->metrics.valid_status_updates);
	char pid[ACTOR_PID_TEXT_MAX];
	actor_pid_format(from, pid, sizeof(pid));
	/* The framework acknowledges to the agent named in the update: name it. */
	Plexus__Internal__StatusUpdate named = *u;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	if (named.agent_id == NULL) {
		aid.value = ag->id;
		named.agent_id = &aid;
	}
	forward_update(self, fw, &named, pid);
}

static void status_update_ack(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__StatusUpdateAcknowledgementMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "acknowledgement");
	struct mst_task *t = fw && r->task_id ? mst_task_find(fw, r->task_id->value) : NULL;
	/* The agent is the one named, or else the task's (a driver may leave it out). */
	const char *agent_id = r->agent_id ? r->agent_id->value : t ? t->agent_id : NULL;
	struct mst_agent *ag = fw && r->task_id ? mst_agent_find(m, agent_id) : NULL;

	if (ag == NULL || !ag->connected) {
		if (fw != NULL)
			actor_warn("master: dropping acknowledgement for agent %s: not connected",
			           agent_id ? agent_id : "(none)");
		actor_counter_inc(m->metrics.invalid_status_update_acknowledgements);
		return;
	}
	if (t != NULL && t->uuid_terminal && r->has_uuid && t->uuid_len == r->uuid.len &&
	    memcmp(t->uuid, r->uuid.data, r->uuid.len) == 0)
		mst_task_complete(m, fw, t);
	actor_counter_inc(m->metrics.valid_status_update_acknowledgements);
	actor_send_pb(self, ag->pid, msg);
}

/* The answer to "what is task id of fw on agent_id?" when the master holds no such
 * task, as Mesos's reconciliation gives it. */
static Plexus__TaskState unknown_task_state(struct master *m, struct mst_framework *fw,
                                            const char *agent_id)
{
	if (!fw->partition_aware)
		return PLEXUS__TASK_STATE__TASK_LOST;
	if (agent_id != NULL && mst_agent_is_unreachable(m, agent_id))
		return PLEXUS__TASK_STATE__TASK_UNREACHABLE;
	if (agent_id != NULL && mst_agent_find(m, agent_id) != NULL)
		return PLEXUS__TASK_STATE__TASK_GONE;
	return PLEXUS__TASK_STATE__TASK_UNKNOWN;
}

static void reconcile_one(actor_t *self, struct master *m, struct mst_framework *fw,
                          struct mst_task *t)
{
	send_status(self, m, fw, t->id, t->agent_id, t->executor_id, t->state,
	            PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION,
	            "Reconciliation: latest task state", t->status);
}

static void reconcile(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ReconcileTasksMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "reconciliation");

	if (fw == NULL)
		return;
	if (r->n_statuses == 0) {
		for (struct mst_task *t = fw->tasks; t; t = t->next)
			reconcile_one(self, m, fw, t);
		return;
	}
	for (size_t i = 0; i < r->n_statuses; i++) {
		const Plexus__TaskStatus *s = r->statuses[i];
		struct mst_task *t = mst_task_find(fw, s->task_id->value);
		if (t != NULL) {
			reconcile_one(self, m, fw, t);
			continue;
		}
		const char *agent = s->agent_id ? s->agent_id->value : NULL;
		send_status(self, m, fw, s->task_id->value, agent, NULL,
		            unknown_task_state(m, fw, agent),
		            PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION,
		            "Reconciliation: task is unknown", NULL);
	}
}

static void kill_task(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__KillTaskMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "kill");

	if (fw == NULL || r->task_id == NULL)
		return;
	struct mst_task *t = mst_task_find(fw, r->task_id->value);
	if (t == NULL) {
		/* Mesos answers a kill of an unknown task by reconciling it. */
		send_status(self, m, fw, r->task_id->value, NULL, NULL,
		            unknown_task_state(m, fw, NULL),
		            PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION,
		            "Cannot kill an unknown task", NULL);
		return;
	}
	struct mst_agent *ag = mst_agent_find(m, t->agent_id);
	if (ag == NULL || !ag->connected) {
		actor_warn("master: cannot kill task %s now: agent %s is not connected", t->id,
		           t->agent_id);
		return;
	}
	actor_send_pb(self, ag->pid, msg);
}

static void framework_to_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                  void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__FrameworkToExecutorMessage *r = (const void *)msg;
	struct mst_framework *fw =
	    mst_framework_from(m, from, r->framework_id, "framework message");
	struct mst_agent *ag = fw && r->agent_id ? mst_agent_find(m, r->agent_id->value) : NULL;

	if (ag == NULL || !ag->connected) {
		actor_counter_inc(m->metrics.invalid_framework_to_executor_messages);
		return;
	}
	actor_counter_inc(m->metrics.valid_framework_to_executor_messages);
	actor_send_pb(self, ag->pid, msg);
}

static void executor_to_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                  void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ExecutorToFrameworkMessage *r = (const void *)msg;
	struct mst_agent *ag = mst_agent_find_pid(m, from);
	struct mst_framework *fw =
	    r->framework_id ? mst_framework_find(m, r->framework_id->value) : NULL;

	if (ag == NULL || fw == NULL || !fw->connected) {
		actor_warn("master: dropping executor message from %s", actor_pid_str(from));
		actor_counter_inc(m->metrics.invalid_executor_to_framework_messages);
		return;
	}
	actor_counter_inc(m->metrics.valid_executor_to_framework_messages);
	actor_send_pb(self, fw->pid, msg);
}

static void exited_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ExitedExecutorMessage *r = (const void *)msg;
	struct mst_framework *fw =
	    r->framework_id ? mst_framework_find(m, r->framework_id->value) : NULL;

	if (mst_agent_find_pid(m, from) == NULL || fw == NULL) {
		actor_counter_inc(m->metrics.dropped_messages);
		return;
	}
	if (fw->connected)
		actor_send_pb(self, fw->pid, msg);
}

void mst_tasks_install(actor_t *self)
{
	actor_install_pb(self, &plexus__internal__status_update_message__descriptor, status_update,
	                 NULL);
	actor_install_pb(self, &plexus__internal__status_update_acknowledgement_message__descriptor,
	                 status_update_ack, NULL);
	actor_install_pb(self, &plexus__internal__reconcile_tasks_message__descriptor, reconcile,
	                 NULL);
	actor_install_pb(self, &plexus__internal__kill_task_message__descriptor, kill_task, NULL);
	actor_install_pb(self, &plexus__internal__framework_to_executor_message__descriptor,
	                 framework_to_executor, NULL);
	actor_install_pb(self, &plexus__internal__executor_to_framework_message__descriptor,
	                 executor_to_framework, NULL);
	actor_install_pb(self, &plexus__internal__exited_executor_message__descriptor,
	                 exited_executor, NULL);
}
