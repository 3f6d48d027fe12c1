/* cgroups_mem.c — the cgroups/mem isolator: a hard memory limit at the container's mem
 * (the kernel's OOM killer ends a process of the container past it), usage from
 * memory.stat, and the limitation read back from the OOM counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "actor/log.h"
#include "agent/containerizer/isolator.h"

/* Mesos's floor for a container's memory: below it even the executor cannot run. */
#define MIN_MEMORY (32ULL << 20)

static int apply(struct ctr *c, const struct ctr_resources *r)
{
	const struct cg_system *cg = &c->cfg->cg;
	char v[32];

	if (r->mem_bytes == 0)
		return 0; /* no mem given: not limited */
	uint64_t limit = r->mem_bytes < MIN_MEMORY ? MIN_MEMORY : r->mem_bytes;
	snprintf(v, sizeof(v), "%" PRIu64, limit);
	if (cg->layout == CG_V2) {
		int rc = cg_write(cg, "memory", c->cgroup, "memory.max", v);
		/* Without swap the limit is the limit (missing without swap support). */
		(void)cg_write(cg, "memory", c->cgroup, "memory.swap.max", "0");
		return rc;
	}
	return cg_write(cg, "memory", c->cgroup, "memory.limit_in_bytes", v);
}

static int mem_prepare(struct ctr *c, char *err, size_t errlen)
{
	int rc = cg_create(&c->cfg->cg, "memory", c->cgroup);
	if (rc == 0)
		c->cgroups_made = true;
	if (rc == 0)
		rc = apply(c, &c->res);
	if (rc != 0)
		snprintf(err, errlen, "cgroups/mem: cannot set up cgroup %s: %s", c->cgroup,
		         strerror(rc));
	return rc;
}

static int mem_isolate(struct ctr *c, pid_t pid, char *err, size_t errlen)
{
	int rc = cg_attach(&c->cfg->cg, "memory", c->cgroup, pid);
	if (rc != 0)
		snprintf(err, errlen, "cgroups/mem: cannot move pid %d into %s: %s", (int)pid,
		         c->cgroup, strerror(rc));
	return rc;
}

static int mem_update(struct ctr *c, const struct ctr_resources *r)
{
	int rc = apply(c, r);
	if (rc != 0)
		actor_warn("cgroups/mem: cannot set the limit of %s to %" PRIu64 " bytes: %s",
		           c->cgroup, r->mem_bytes, strerror(rc));
	return rc;
}

static uint64_t limit_of(const struct ctr *c)
{
	uint64_t v = 0;
	const char *file = c->cfg->cg.layout == CG_V2 ? "memory.max" : "memory.limit_in_bytes";
	if (cg_read_u64(&c->cfg->cg, "memory", c->cgroup, file, &v) != 0)
		return 0;
	return v;
}

static void mem_usage(const struct ctr *c, Plexus__ResourceStatistics *st)
{
	const struct cg_system *cg = &c->cfg->cg;
	uint64_t v;
	bool v2 = cg->layout == CG_V2;

	if (cg_read_u64(cg, "memory", c->cgroup, v2 ? "memory.current" : "memory.usage_in_bytes",
	                &v) == 0) {
		st->has_mem_total_bytes = true;
		st->mem_total_bytes = v;
	}
	if (cg_read_key(cg, "memory", c->cgroup, "memory.stat", v2 ? "anon" : "total_rss", &v) ==
	    0) {
		st->has_mem_rss_bytes = st->has_mem_anon_bytes = true;
		st->mem_rss_bytes = st->mem_anon_bytes = v;
	}
	if (cg_read_key(cg, "memory", c->cgroup, "memory.stat", v2 ? "file" : "total_cache", &v) ==
	    0) {
		st->has_mem_file_bytes = true;
		st->mem_file_bytes = v;
	}
	if (cg_read_key(cg, "memory", c->cgroup, "memory.stat",
	                v2 ? "file_mapped" : "total_mapped_file", &v) == 0) {
		st->has_mem_mapped_file_bytes = true;
		st->mem_mapped_file_bytes = v;
	}
	v = limit_of(c);
	if (v != 0 && v != UINT64_MAX && c->res.mem_bytes > 0) {
		st->has_mem_limit_bytes = true;
		st->mem_limit_bytes = v;
	}
}

static bool mem_limitation(struct ctr *c, struct ctr_limitation *out)
{
	const struct cg_system *cg = &c->cfg->cg;
	uint64_t kills = 0, peak = 0, limit = limit_of(c);
	bool v2 = cg->layout == CG_V2;

	if (c->res.mem_bytes == 0)
		return false;
	if (v2) {
		if (cg_read_key(cg, "memory", c->cgroup, "memory.events", "oom_kill", &kills) != 0)
			return false;
		(void)cg_read_u64(cg, "memory", c->cgroup, "memory.peak", &peak);
	} else {
		/* Kernels since 4.13 count OOM kills; older ones only say how often the
		 * limit was hit, which with the OOM killer on means the same here. */
		if (cg_read_key(cg, "memory", c->cgroup, "memory.oom_control", "oom_kill",
		                &kills) != 0) {
			uint64_t fail = 0, under = 0;
			(void)cg_read_u64(cg, "memory", c->cgroup, "memory.failcnt", &fail);
			(void)cg_read_key(cg, "memory", c->cgroup, "memory.oom_control",
			                  "under_oom", &under);
			kills = under > 0 || fail > 0 ? 1 : 0;
		}
		(void)cg_read_u64(cg, "memory", c->cgroup, "memory.max_usage_in_bytes", &peak);
	}
	if (kills == 0)
		return false;
	out->reason = PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY;
	snprintf(out->message, sizeof(out->message),
	         "container memory limit: %" PRIu64 " bytes reached (peak usage %" PRIu64
	         " bytes, %" PRIu64 " process(es) killed by the OOM killer)",
	         limit, peak, kills);
	return true;
}

static void mem_cleanup(struct ctr *c)
{
	int rc = cg_remove(&c->cfg->cg, "memory", c->cgroup);
	if (rc != 0)
		actor_warn("cgroups/mem: cannot remove cgroup %s: %s", c->cgroup, strerror(rc));
}

const struct isolator_ops isolator_cgroups_mem = {
    .name = "cgroups/mem",
    .prepare = mem_prepare,
    .isolate = mem_isolate,
    .update = mem_update,
    .usage = mem_usage,
    .limitation = mem_limitation,
    .cleanup = mem_cleanup,
};
