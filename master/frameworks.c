/* frameworks.c — frameworks: register, re-register (driver or master failover),
 * unregister, deactivate, disconnection and the failover timeout, removal.
 *
 * A framework is connected while its scheduler's PID is linked and alive. When libactor
 * reports that PID exited, the framework is deactivated (no offers, outstanding ones
 * rescinded) but its tasks keep running for FrameworkInfo.failover_timeout seconds; a
 * re-registration with the same framework id within that time takes it over again,
 * otherwise it is removed: its tasks are killed and agents told to shut it down. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/allocator/allocator.h"
#include "master/allocator_link.h"
#include "master/master_internal.h"

struct mst_framework *mst_framework_find(struct master *m, const char *id)
{
	return mst_idmap_get(&m->framework_index, id);
}

struct mst_framework *mst_framework_find_pid(struct master *m, actor_pid pid)
{
	for (struct mst_framework *f = m->frameworks; f; f = f->next)
		if (f->connected && actor_pid_equal(f->pid, pid))
			return f;
	return NULL;
}

struct mst_framework *mst_framework_completed_find(struct master *m, const char *id)
{
	for (struct mst_framework *f = m->completed_frameworks; f; f = f->next)
		if (strcmp(f->id, id) == 0)
			return f;
	return NULL;
}

struct mst_framework *mst_framework_from(struct master *m, actor_pid from,
                                         const Plexus__FrameworkID *id, const char *what)
{
	struct mst_framework *f = id ? mst_framework_find(m, id->value) : NULL;

	if (f == NULL) {
		actor_warn("master: ignoring %s of unknown framework %s from %s", what,
		           id && id->value ? id->value : "(none)", actor_pid_str(from));
	} else if (!f->connected || !actor_pid_equal(f->pid, from)) {
		actor_warn("master: ignoring %s of framework %s from %s: not its scheduler", what,
		           f->id, actor_pid_str(from));
		f = NULL;
	}
	if (f == NULL)
		actor_counter_inc(m->metrics.dropped_messages);
	return f;
}

void mst_framework_free(struct mst_framework *fw)
{
	if (fw == NULL)
		return;
	while (fw->tasks) {
		struct mst_task *t = fw->tasks;
		fw->tasks = t->next;
		mst_task_free(t);
	}
	while (fw->completed) {
		struct mst_task *t = fw->completed;
		fw->completed = t->next;
		mst_task_free(t);
	}
	mst_idmap_fini(&fw->task_index);
	mst_pb_free(fw->info);
	free(fw->id);
	free(fw->role);
	px_resources_free(fw->used);
	px_resources_free(fw->offered);
	free(fw);
}

/* Takes a copy of info; the id is set to id. */
static int framework_set_info(struct mst_framework *fw, const Plexus__FrameworkInfo *info)
{
	Plexus__FrameworkInfo *copy = (void *)px_message_copy(&info->base);
	Plexus__FrameworkID fid;

	if (copy == NULL)
		return ACTOR_ENOMEM;
	/* Set the id by packing a version that carries it. */
	mst_id_init(&fid, fw->id);
	Plexus__FrameworkID *old = copy->id;
	copy->id = &fid;
	Plexus__FrameworkInfo *with_id = (void *)px_message_copy(&copy->base);
	copy->id = old;
	mst_pb_free(copy);
	if (with_id == NULL)
		return ACTOR_ENOMEM;
	const char *role = with_id->n_roles > 0 ? with_id->roles[0]
	                   : with_id->role      ? with_id->role
	                                        : "*";
	char *r = strdup(role);
	if (r == NULL) {
		mst_pb_free(with_id);
		return ACTOR_ENOMEM;
	}
	mst_pb_free(fw->info);
	free(fw->role);
	fw->info = with_id;
	fw->role = r;
	fw->partition_aware = false;
	for (size_t i = 0; i < with_id->n_capabilities; i++)
		if (with_id->capabilities[i]->has_type &&
		    with_id->capabilities[i]->type ==
		        PLEXUS__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE)
			fw->partition_aware = true;
	return 0;
}

static struct mst_framework *framework_new(struct master *m, const char *id,
                                           const Plexus__FrameworkInfo *info)
{
	struct mst_framework *fw = calloc(1, sizeof(*fw));

	if (fw == NULL)
		return NULL;
	fw->id = strdup(id);
	fw->used = px_resources_new();
	fw->offered = px_resources_new();
	fw->pid = actor_pid_none;
	if (fw->id == NULL || fw->used == NULL || fw->offered == NULL ||
	    framework_set_info(fw, info) != 0 ||
	    mst_alloc_framework_add(m->alloc, fw->id, fw->role, false) != 0) {
		mst_framework_free(fw);
		return NULL;
	}
	if (mst_idmap_put(&m->framework_index, fw->id, fw) != 0) {
		mst_alloc_framework_remove(m->alloc, fw->id);
		mst_framework_free(fw);
		return NULL;
	}
	fw->registered_time = mst_master_wall_time();
	fw->next = m->frameworks;
	m->frameworks = fw;
	return fw;
}

static void send_error(actor_t *self, actor_pid to, const char *message)
{
	Plexus__Internal__FrameworkErrorMessage err =
	    PLEXUS__INTERNAL__FRAMEWORK_ERROR_MESSAGE__INIT;

	err.message = (char *)message;
	actor_send_pb(self, to, &err.base);
}

/* What Mesos checks of a FrameworkInfo beyond what the decoder does; NULL when fine. */
static const char *validate_info(const Plexus__FrameworkInfo *info)
{
	if (info->user[0] == '\0')
		return "FrameworkInfo.user is empty";
	if (info->name[0] == '\0')
		return "FrameworkInfo.name is empty";
	if (info->has_failover_timeout &&
	    (!isfinite(info->failover_timeout) || info->failover_timeout < 0))
		return "FrameworkInfo.failover_timeout must be a finite, non-negative number";
	for (size_t i = 0; i < info->n_roles; i++)
		if (!alloc_role_valid(info->roles[i], true))
			return "FrameworkInfo.roles holds an invalid role";
	if (info->n_roles == 0 && info->role != NULL && !alloc_role_valid(info->role, true))
		return "FrameworkInfo.role is not a valid role";
	return NULL;
}

static void connect(actor_t *self, struct master *m, struct mst_framework *fw, actor_pid pid)
{
	if (fw->connected && !actor_pid_equal(fw->pid, pid)) {
		/* A new scheduler replaces the old one, which is told so (Mesos does). */
		actor_unlink(self, fw->pid);
		send_error(self, fw->pid, "Framework failed over");
	}
	if (fw->failover_timer) {
		actor_cancel(self, fw->failover_timer);
		fw->failover_timer = 0;
	}
	fw->pid = pid;
	fw->connected = true;
	fw->active = true;
	fw->recovered = false;
	fw->generation++;
	actor_link(self, pid);
	mst_alloc_framework_activate(m->alloc, fw->id, true);
}

static void send_registered(actor_t *self, struct master *m, struct mst_framework *fw, bool again)
{
	Plexus__MasterInfo *info = mst_master_info_new(m);
	Plexus__FrameworkID fid;

	mst_id_init(&fid, fw->id);
	if (again) {
		Plexus__Internal__FrameworkReregisteredMessage r =
		    PLEXUS__INTERNAL__FRAMEWORK_REREGISTERED_MESSAGE__INIT;
		r.framework_id = &fid;
		r.master_info = info;
		actor_send_pb(self, fw->pid, &r.base);
	} else {
		Plexus__Internal__FrameworkRegisteredMessage r =
		    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
		r.framework_id = &fid;
		r.master_info = info;
		actor_send_pb(self, fw->pid, &r.base);
	}
	mst_pb_free(info);
}

static void register_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                               void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__RegisterFrameworkMessage *r = (const void *)msg;
	const char *bad = r->framework ? validate_info(r->framework) : "no FrameworkInfo";

	if (bad == NULL && r->framework->id != NULL)
		bad = "a new framework must not carry an id; re-register to keep one";
	if (bad != NULL) {
		actor_warn("master: refusing framework registration from %s: %s",
		           actor_pid_str(from), bad);
		send_error(self, from, bad);
		return;
	}
	/* A driver that did not hear back retries: answer it again. */
	struct mst_framework *fw = mst_framework_find_pid(m, from);
	if (fw != NULL) {
		send_registered(self, m, fw, false);
		return;
	}
	char id[64];
	snprintf(id, sizeof(id), "%s-%04llu", m->id, (unsigned long long)m->next_framework++);
	fw = framework_new(m, id, r->framework);
	if (fw == NULL) {
		actor_error("master: out of memory registering a framework");
		return;
	}
	connect(self, m, fw, from);
	actor_info("master: registered framework %s (%s) at %s", fw->id, fw->info->name,
	           actor_pid_str(from));
	send_registered(self, m, fw, false);
	mst_api_operator_framework_added(m, fw, false);
	mst_master_update_gauges(m);
	mst_alloc_run(m->alloc);
}

static void reregister_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                 void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ReregisterFrameworkMessage *r = (const void *)msg;
	const char *bad = r->framework ? validate_info(r->framework) : "no FrameworkInfo";

	if (bad == NULL && (r->framework->id == NULL || r->framework->id->value == NULL ||
	                    r->framework->id->value[0] == '\0'))
		bad = "re-registration without a framework id";
	if (bad == NULL && mst_framework_completed_find(m, r->framework->id->value) != NULL)
		bad = "Framework has been removed";
	if (bad != NULL) {
		actor_warn("master: refusing framework re-registration from %s: %s",
		           actor_pid_str(from), bad);
		send_error(self, from, bad);
		return;
	}
	const char *id = r->framework->id->value;
	struct mst_framework *fw = mst_framework_find(m, id);
	if (fw == NULL) {
		/* Unknown id: this master restarted and the framework comes back to it. */
		fw = framework_new(m, id, r->framework);
		if (fw == NULL) {
			actor_error("master: out of memory re-registering a framework");
			return;
		}
	} else if (framework_set_info(fw, r->framework) != 0) {
		actor_error("master: out of memory re-registering a framework");
		return;
	}
	fw->reregistered_time = mst_master_wall_time();
	connect(self, m, fw, from);
	actor_info("master: re-registered framework %s at %s%s", fw->id, actor_pid_str(from),
	           r->failover ? " (failover)" : "");
	/* As Mesos: a scheduler that failed over is a new instance and hears "registered";
	 * one that only reconnects (e.g. to a new master) hears "reregistered". */
	send_registered(self, m, fw, !r->failover);
	mst_api_operator_framework_added(m, fw, true);
	mst_master_update_gauges(m);
	mst_alloc_run(m->alloc);
}

static void unregister_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                 void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__UnregisterFrameworkMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "unregistration");

	if (fw != NULL)
		mst_framework_remove(self, m, fw, "unregistered by its scheduler");
}

static void deactivate(actor_t *self, struct master *m, struct mst_framework *fw)
{
	fw->active = false;
	mst_alloc_framework_activate(m->alloc, fw->id, false);
	mst_offers_rescind(self, m, fw->id, NULL);
}

static void deactivate_framework(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                 void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__DeactivateFrameworkMessage *r = (const void *)msg;
	struct mst_framework *fw = mst_framework_from(m, from, r->framework_id, "deactivation");

	if (fw == NULL)
		return;
	deactivate(self, m, fw);
	mst_master_update_gauges(m);
}

struct failover_arg {
	uint64_t generation;
	char id[];
};

static void failover_timeout(actor_t *self, void *arg)
{
	struct failover_arg *a = arg;

	if (self != NULL) {
		struct master *m = actor_state(self);
		struct mst_framework *fw = mst_framework_find(m, a->id);
		if (fw != NULL && !fw->connected && fw->generation == a->generation) {
			fw->failover_timer = 0;
			mst_framework_remove(self, m, fw, "failover timeout");
		}
	}
	free(a);
}

bool mst_framework_exited(actor_t *self, struct master *m, actor_pid pid)
{
	struct mst_framework *fw = mst_framework_find_pid(m, pid);

	if (fw == NULL)
		return false;
	double timeout = fw->info->has_failover_timeout ? fw->info->failover_timeout : 0;
	actor_info("master: framework %s disconnected; failover timeout %.3f s", fw->id, timeout);
	fw->connected = false;
	deactivate(self, m, fw);
	if (timeout <= 0) {
		mst_framework_remove(self, m, fw, "disconnected with no failover timeout");
		return true;
	}
	struct failover_arg *a = malloc(sizeof(*a) + strlen(fw->id) + 1);
	if (a == NULL)
		return true;
	a->generation = fw->generation;
	strcpy(a->id, fw->id);
	/* Mesos caps nothing here; a year is as good as forever for a timer. */
	int64_t ms = timeout > 3.2e10 ? (int64_t)3.2e13 : (int64_t)(timeout * 1000.0);
	fw->failover_timer = actor_delay(self, ms, failover_timeout, a);
	return true;
}

struct mst_framework *mst_framework_recover(struct master *m, const Plexus__FrameworkInfo *info)
{
	if (info->id == NULL || info->id->value == NULL || info->id->value[0] == '\0')
		return NULL;
	struct mst_framework *fw = mst_framework_find(m, info->id->value);
	if (fw != NULL || mst_framework_completed_find(m, info->id->value) != NULL)
		return fw;
	fw = framework_new(m, info->id->value, info);
	if (fw != NULL)
		fw->recovered = true;
	return fw;
}

void mst_framework_remove(actor_t *self, struct master *m, struct mst_framework *fw,
                          const char *why)
{
	actor_info("master: removing framework %s: %s", fw->id, why);
	mst_api_operator_framework_removed(m, fw);
	mst_offers_rescind(self, m, fw->id, NULL);

	/* Every agent that runs something of it shuts it down. */
	Plexus__Internal__ShutdownFrameworkMessage sd =
	    PLEXUS__INTERNAL__SHUTDOWN_FRAMEWORK_MESSAGE__INIT;
	Plexus__FrameworkID fid;
	mst_id_init(&fid, fw->id);
	sd.framework_id = &fid;
	for (struct mst_agent *a = m->agents; a; a = a->next)
		if (a->connected)
			actor_send_pb(self, a->pid, &sd.base);

	while (fw->tasks) {
		struct mst_task *t = fw->tasks;
		mst_task_set_state(m, t, PLEXUS__TASK_STATE__TASK_KILLED);
		mst_task_complete(m, fw, t);
	}
	mst_alloc_framework_remove(m->alloc, fw->id);
	if (fw->connected) {
		actor_unlink(self, fw->pid);
		fw->connected = false;
	}
	if (fw->failover_timer) {
		actor_cancel(self, fw->failover_timer);
		fw->failover_timer = 0;
	}
	fw->active = false;
	fw->unregistered_time = mst_master_wall_time();

	struct mst_framework **pp = &m->frameworks;
	while (*pp != fw)
		pp = &(*pp)->next;
	*pp = fw->next;
	mst_idmap_del(&m->framework_index, fw->id);
	fw->next = m->completed_frameworks;
	m->completed_frameworks = fw;
	if (++m->n_completed_frameworks > (size_t)m->flags.max_completed_frameworks) {
		/* Drop the oldest (the tail). */
		struct mst_framework **tail = &m->completed_frameworks;
		while ((*tail)->next)
			tail = &(*tail)->next;
		mst_framework_free(*tail);
		*tail = NULL;
		m->n_completed_frameworks--;
	}
	actor_counter_inc(m->metrics.frameworks_removed);
	mst_master_update_gauges(m);
}

void mst_frameworks_install(actor_t *self)
{
	actor_install_pb(self, &plexus__internal__register_framework_message__descriptor,
	                 register_framework, NULL);
	actor_install_pb(self, &plexus__internal__reregister_framework_message__descriptor,
	                 reregister_framework, NULL);
	actor_install_pb(self, &plexus__internal__unregister_framework_message__descriptor,
	                 unregister_framework, NULL);
	actor_install_pb(self, &plexus__internal__deactivate_framework_message__descriptor,
	                 deactivate_framework, NULL);
}
