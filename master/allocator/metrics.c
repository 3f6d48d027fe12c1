/* metrics.c — the allocator's figures under /metrics/snapshot, with Mesos's names:
 *
 *   allocator/mesos/allocation_runs                       passes made (all of them)
 *   allocator/mesos/allocation_run_ms                     duration of every pass (a timer:
 *                                                         _count, _mean_ms ...)
 *   allocator/mesos/offers, .../events                    offers made, events counted
 *   allocator/mesos/agents, .../frameworks, .../roles     sizes of the books
 *   allocator/mesos/roles/<role>/shares/dominant          weighted dominant share
 *   allocator/mesos/roles/<role>/weight
 *   allocator/mesos/roles/<role>/frameworks
 *   allocator/mesos/roles/<role>/resources/<name>/offered, /allocated, /reserved
 *   allocator/mesos/quota/roles/<role>/resources/<name>/guarantee, /limit,
 *                                                      /offered_or_allocated
 *
 * Values are in the resource's unit (cpus, MB). A limit of -1 means none: metrics
 * cannot be unregistered, so a removed quota reads guarantee 0 and limit -1.
 *
 * The allocator actor times every pass it runs; the rest is set from the core when the
 * owner of the actor asks for a refresh (the master does after each pass it requests,
 * after weight and quota changes, and every allocation interval), so that a pass does
 * not pay for a walk of every role's gauges. */
#include <stdio.h>

#include "actor/metrics.h"
#include "report.h"

void alloc_metrics_init(void)
{
	actor_timer_get("allocator/mesos/allocation_run_ms");
	actor_gauge_get("allocator/mesos/allocation_runs");
}

/* Looked up by name each time rather than kept in a static: a restarted master would
 * write the static while the old allocator may still read it. */
void alloc_metrics_pass(double ms)
{
	actor_timer_record(actor_timer_get("allocator/mesos/allocation_run_ms"), ms);
}

static void set(double v, const char *fmt, const char *role, const char *name)
{
	char key[128];
	int n = snprintf(key, sizeof(key), fmt, role, name);

	/* A name too long for the registry is left out rather than cut. */
	if (n > 0 && (size_t)n < sizeof(key))
		actor_gauge_set(actor_gauge_get(key), v);
}

static void role_figures(const alloc_role_stats *s, void *arg)
{
	(void)arg;
	set(s->share, "allocator/mesos/roles/%s/shares/dominant%s", s->role, "");
	set(s->weight, "allocator/mesos/roles/%s/weight%s", s->role, "");
	set((double)s->frameworks, "allocator/mesos/roles/%s/frameworks%s", s->role, "");
	for (size_t i = 0; i < s->n && i < sizeof(s->res) / sizeof(s->res[0]); i++) {
		const char *name = s->res[i].name;
		set((double)s->res[i].offered / 1000.0,
		    "allocator/mesos/roles/%s/resources/%s/offered", s->role, name);
		set((double)s->res[i].used / 1000.0,
		    "allocator/mesos/roles/%s/resources/%s/allocated", s->role, name);
		set((double)s->res[i].reserved / 1000.0,
		    "allocator/mesos/roles/%s/resources/%s/reserved", s->role, name);
		if (s->res[i].guarantee < 0 && s->res[i].limit < 0)
			continue;
		set(s->res[i].guarantee < 0 ? 0 : (double)s->res[i].guarantee / 1000.0,
		    "allocator/mesos/quota/roles/%s/resources/%s/guarantee", s->role, name);
		set(s->res[i].limit < 0 ? -1 : (double)s->res[i].limit / 1000.0,
		    "allocator/mesos/quota/roles/%s/resources/%s/limit", s->role, name);
		/* Consumption as quota counts it: what is held unreserved plus what is
		 * reserved (allocated reserved resources are counted once). */
		set((double)(s->res[i].offered + s->res[i].used + s->res[i].reserved) / 1000.0,
		    "allocator/mesos/quota/roles/%s/resources/%s/offered_or_allocated", s->role,
		    name);
	}
}

void alloc_metrics_refresh(const alloc_core *core)
{
	alloc_counters c;

	alloc_counters_get(core, &c);
	actor_gauge_set(actor_gauge_get("allocator/mesos/allocation_runs"), (double)c.passes);
	actor_gauge_set(actor_gauge_get("allocator/mesos/offers"), (double)c.offers);
	actor_gauge_set(actor_gauge_get("allocator/mesos/events"), (double)c.events);
	actor_gauge_set(actor_gauge_get("allocator/mesos/agents"), (double)c.agents);
	actor_gauge_set(actor_gauge_get("allocator/mesos/frameworks"), (double)c.frameworks);
	actor_gauge_set(actor_gauge_get("allocator/mesos/roles"), (double)c.roles);
	alloc_roles_foreach(core, role_figures, NULL);
}

void alloc_metrics_quota_removed(const alloc_role_stats *before)
{
	for (size_t i = 0; i < before->n && i < sizeof(before->res) / sizeof(before->res[0]); i++) {
		if (before->res[i].guarantee < 0 && before->res[i].limit < 0)
			continue;
		set(0, "allocator/mesos/quota/roles/%s/resources/%s/guarantee", before->role,
		    before->res[i].name);
		set(-1, "allocator/mesos/quota/roles/%s/resources/%s/limit", before->role,
		    before->res[i].name);
	}
}
