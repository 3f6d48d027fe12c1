/* master.c — the master actor: its state, its life cycle and the one block where every
 * message handler and route is installed (each concern's file installs its own
 * handlers through *_install()). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "master/allocator_link.h"
#include "master/master_internal.h"
#include "plexus/util.h"
#include "master/registrar.h"

double mst_master_wall_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mst_pb_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

void mst_id_init(Plexus__FrameworkID *id, const char *value)
{
	plexus__framework_id__init(id);
	id->value = (char *)value;
}

Plexus__MasterInfo *mst_master_info_new(struct master *m)
{
	Plexus__MasterInfo info = PLEXUS__MASTER_INFO__INIT;
	Plexus__Address addr = PLEXUS__ADDRESS__INIT;
	char pid[ACTOR_PID_TEXT_MAX];
	struct in_addr in = {.s_addr = htonl(m->self.ip)};
	char ip[INET_ADDRSTRLEN];

	actor_pid_format(m->self, pid, sizeof(pid));
	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	info.id = m->id;
	info.ip = htonl(m->self.ip); /* Mesos keeps MasterInfo.ip in network order */
	info.port = actor_runtime_http_port() ? actor_runtime_http_port() : (uint32_t)m->flags.port;
	info.pid = pid;
	info.hostname = m->hostname;
	info.version = MASTER_VERSION;
	addr.hostname = m->hostname;
	addr.ip = ip;
	addr.port = (int32_t)info.port;
	info.address = &addr;
	return (void *)px_message_copy(&info.base);
}

void mst_master_update_task_gauges(struct master *m)
{
	struct mst_metrics *x = &m->metrics;

	actor_gauge_set(x->tasks_staging, (double)m->task_counts[PLEXUS__TASK_STATE__TASK_STAGING]);
	actor_gauge_set(x->tasks_starting,
	                (double)m->task_counts[PLEXUS__TASK_STATE__TASK_STARTING]);
	actor_gauge_set(x->tasks_running, (double)m->task_counts[PLEXUS__TASK_STATE__TASK_RUNNING]);
	actor_gauge_set(x->tasks_killing, (double)m->task_counts[PLEXUS__TASK_STATE__TASK_KILLING]);
}

void mst_master_update_offer_gauges(struct master *m)
{
	actor_gauge_set(m->metrics.outstanding_offers, (double)m->n_offers);
	mst_master_update_task_gauges(m);
}

void mst_master_update_gauges(struct master *m)
{
	struct mst_metrics *x = &m->metrics;
	int fa = 0, fi = 0, fc = 0, fd = 0, sa = 0, si = 0, sc = 0, sd = 0;

	for (struct mst_framework *f = m->frameworks; f; f = f->next) {
		f->active ? fa++ : fi++;
		f->connected ? fc++ : fd++;
	}
	for (struct mst_agent *a = m->agents; a; a = a->next) {
		a->active ? sa++ : si++;
		a->connected ? sc++ : sd++;
	}
	actor_gauge_set(x->frameworks_active, fa);
	actor_gauge_set(x->frameworks_inactive, fi);
	actor_gauge_set(x->frameworks_connected, fc);
	actor_gauge_set(x->frameworks_disconnected, fd);
	actor_gauge_set(x->slaves_active, sa);
	actor_gauge_set(x->slaves_inactive, si);
	actor_gauge_set(x->slaves_connected, sc);
	actor_gauge_set(x->slaves_disconnected, sd);
	actor_gauge_set(x->slaves_unreachable, (double)m->n_unreachable);
	actor_gauge_set(x->outstanding_offers, (double)m->n_offers);
	actor_gauge_set(x->elected, 1);
	actor_gauge_set(x->uptime_secs, (double)(actor_clock_now() - m->start_clock) / 1000.0);
	mst_master_update_task_gauges(m);
}

static void metrics_init(struct mst_metrics *x)
{
#define G(f) x->f = actor_gauge_get("master/" #f)
#define C(f) x->f = actor_counter_get("master/" #f)
	G(frameworks_active);
	G(frameworks_inactive);
	G(frameworks_connected);
	G(frameworks_disconnected);
	G(slaves_active);
	G(slaves_inactive);
	G(slaves_connected);
	G(slaves_disconnected);
	G(slaves_unreachable);
	G(outstanding_offers);
	G(tasks_staging);
	G(tasks_starting);
	G(tasks_running);
	G(tasks_killing);
	G(elected);
	G(uptime_secs);
	C(tasks_finished);
	C(tasks_failed);
	C(tasks_killed);
	C(tasks_lost);
	C(tasks_error);
	C(tasks_dropped);
	C(tasks_unreachable);
	C(tasks_gone);
	C(slave_registrations);
	C(slave_reregistrations);
	C(slave_removals);
	C(slave_shutdowns_scheduled);
	C(frameworks_removed);
	C(valid_status_updates);
	C(invalid_status_updates);
	C(valid_status_update_acknowledgements);
	C(invalid_status_update_acknowledgements);
	C(valid_framework_to_executor_messages);
	C(invalid_framework_to_executor_messages);
	C(valid_executor_to_framework_messages);
	C(invalid_executor_to_framework_messages);
	C(dropped_messages);
	C(offers_rescinded);
	C(offers_declined);
	C(offers_accepted);
	C(tasks_invalid);
	C(http_bad_requests);
#undef G
#undef C
}

static void new_master_id(char *out, size_t len)
{
	uint8_t b[16];
	char text[37];

	px_uuid_random(b);
	px_uuid_format(b, text);
	snprintf(out, len, "%s", text);
}

static void unhandled(actor_t *self, const actor_msg *msg)
{
	struct master *m = actor_state(self);

	actor_warn("master: dropping unknown message '%s' from %s", msg->name,
	           actor_pid_str(msg->from));
	actor_counter_inc(m->metrics.dropped_messages);
}

static void exited(actor_t *self, actor_pid who)
{
	struct master *m = actor_state(self);

	if (!mst_framework_exited(self, m, who) && !mst_agent_exited(self, m, who))
		actor_debug("master: exited %s (not a framework or agent)", actor_pid_str(who));
	mst_master_update_gauges(m);
}

static int master_init(actor_t *self)
{
	struct master *m = actor_state(self);

	m->self = actor_self(self);
	/* A second master in one runtime would get "master(1)": refuse it. */
	if (strcmp(m->self.id, "master") != 0)
		return ACTOR_ESTATE;
	m->alloc = mst_alloc_new(m, m->self);
	if (m->alloc == NULL)
		return ACTOR_ENOMEM;
	m->start_clock = actor_clock_now();
	m->start_time = mst_master_wall_time();
	metrics_init(&m->metrics);

	mst_frameworks_install(self);
	mst_agents_install(self);
	mst_offers_install(self);
	mst_tasks_install(self);
	mst_explain_install(self);
	if (mst_http_install(self) != 0)
		actor_warn("master: HTTP routes not installed");
	if (mst_api_scheduler_install(self) != 0)
		actor_warn("master: /api/v1/scheduler not installed");
	if (mst_api_operator_install(self) != 0)
		actor_warn("master: /api/v1 not installed");
	if (mst_webui_install(self) != 0)
		actor_warn("master: the web UI is not served");

	m->allocation_timer =
	    actor_delay(self, m->flags.allocation_interval_ms, mst_allocation_tick, NULL);
	if (mst_registrar_count(m->registrar) > 0) {
		actor_info("master: %zu agents admitted before; waiting %lld ms for them to "
		           "re-register",
		           mst_registrar_count(m->registrar),
		           (long long)m->flags.agent_reregister_timeout_ms);
		m->reregister_timer = actor_delay(self, m->flags.agent_reregister_timeout_ms,
		                                  mst_agents_reregister_timeout, NULL);
	}
	mst_master_update_gauges(m);
	actor_info("master %s started at %s (HTTP port %u)", m->id, actor_pid_str(m->self),
	           (unsigned)actor_runtime_http_port());
	return 0;
}

static void master_free(struct master *m)
{
	while (m->frameworks) {
		struct mst_framework *f = m->frameworks;
		m->frameworks = f->next;
		mst_framework_free(f);
	}
	while (m->completed_frameworks) {
		struct mst_framework *f = m->completed_frameworks;
		m->completed_frameworks = f->next;
		mst_framework_free(f);
	}
	while (m->agents) {
		struct mst_agent *a = m->agents;
		m->agents = a->next;
		mst_agent_free(a);
	}
	while (m->offers) {
		struct mst_offer *o = m->offers;
		m->offers = o->next;
		free(o->id);
		free(o->framework_id);
		free(o->agent_id);
		free(o->role);
		px_resources_free(o->resources);
		free(o);
	}
	mst_idmap_fini(&m->framework_index);
	mst_idmap_fini(&m->agent_index);
	mst_idmap_fini(&m->agents_by_pid);
	mst_idmap_fini(&m->offer_index);
	for (size_t i = 0; i < m->n_unreachable; i++)
		free(m->unreachable[i]);
	free(m->unreachable);
	mst_api_scheduler_fini(m);
	mst_api_operator_fini(m);
	mst_alloc_free(m->alloc);
	mst_registrar_close(m->registrar);
	master_flags_fini(&m->flags);
	free(m);
}

static void master_fini(actor_t *self)
{
	struct master *m = actor_state(self);

	actor_info("master %s stopped", m->id);
	master_free(m);
}

static const actor_def master_def = {
    .name = "master",
    .init = master_init,
    .fini = master_fini,
    .exited = exited,
    .unhandled = unhandled,
};

int master_start(const master_flags *f, actor_pid *out)
{
	struct master *m = calloc(1, sizeof(*m));
	char why[512] = "";
	int err = 0;

	if (m == NULL || mst_master_flags_copy(&m->flags, f) != 0) {
		free(m);
		return ACTOR_ENOMEM;
	}
	m->registrar = mst_registrar_open(m->flags.work_dir, &err, why, sizeof(why));
	if (m->registrar == NULL) {
		actor_error("master: cannot open the registry: %s", why[0] ? why : strerror(err));
		master_flags_fini(&m->flags);
		free(m);
		return ACTOR_EFAILED;
	}
	new_master_id(m->id, sizeof(m->id));
	if (m->flags.hostname != NULL)
		snprintf(m->hostname, sizeof(m->hostname), "%s", m->flags.hostname);
	else if (gethostname(m->hostname, sizeof(m->hostname)) != 0)
		snprintf(m->hostname, sizeof(m->hostname), "localhost");
	/* actor_wait() on a previous master returns before its id "master" is free again
	 * (libactor wakes waiters just before removing the id), so a restart right after
	 * master_stop() may find the id taken for a moment: retry briefly. */
	int rv = actor_spawn(&master_def, m, out);
	for (int i = 0; rv == ACTOR_ESTATE && i < 1000; i++) {
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		rv = actor_spawn(&master_def, m, out);
	}
	if (rv != 0)
		master_free(m);
	return rv;
}

void master_stop(actor_pid pid)
{
	actor_terminate(pid);
	actor_wait(pid, -1);
}
