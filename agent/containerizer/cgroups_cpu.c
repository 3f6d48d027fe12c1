/* cgroups_cpu.c — the cgroups/cpu isolator: cpu shares in proportion to the container's
 * cpus (1024 per cpu, as Mesos), an optional hard cap (CFS quota), and cpu time from
 * cpuacct (v1) or cpu.stat (v2). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actor/log.h"
#include "agent/containerizer/isolator.h"

#define CPU_SHARES_PER_CPU 1024
#define MIN_CPU_SHARES     2 /* the kernel's minimum */
#define CFS_PERIOD_US      100000
#define MIN_CFS_QUOTA_US   1000

static uint64_t shares_of(double cpus)
{
	if (cpus <= 0)
		return CPU_SHARES_PER_CPU; /* no cpus given: the kernel's default */
	uint64_t s = (uint64_t)(cpus * CPU_SHARES_PER_CPU);
	return s < MIN_CPU_SHARES ? MIN_CPU_SHARES : s;
}

/* v2 has weights 1..10000 (default 100) where v1 has shares 2..262144 (default 1024):
 * the same linear map systemd uses, so that 1024 shares are weight 100 only roughly,
 * but ratios between containers hold. */
static uint64_t weight_of(uint64_t shares)
{
	uint64_t w = 1 + ((shares - MIN_CPU_SHARES) * 9999) / 262142;
	return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

static int apply(struct ctr *c, const struct ctr_resources *r)
{
	const struct cg_system *cg = &c->cfg->cg;
	char v[64];
	uint64_t shares = shares_of(r->cpus);
	int rc;

	if (cg->layout == CG_V2) {
		snprintf(v, sizeof(v), "%" PRIu64, weight_of(shares));
		rc = cg_write(cg, "cpu", c->cgroup, "cpu.weight", v);
	} else {
		snprintf(v, sizeof(v), "%" PRIu64, shares);
		rc = cg_write(cg, "cpu", c->cgroup, "cpu.shares", v);
	}
	if (rc != 0 || !c->cfg->enable_cfs)
		return rc;
	if (r->cpus > 0) {
		uint64_t quota = (uint64_t)(r->cpus * CFS_PERIOD_US);
		if (quota < MIN_CFS_QUOTA_US)
			quota = MIN_CFS_QUOTA_US;
		if (cg->layout == CG_V2) {
			snprintf(v, sizeof(v), "%" PRIu64 " %d", quota, CFS_PERIOD_US);
			return cg_write(cg, "cpu", c->cgroup, "cpu.max", v);
		}
		snprintf(v, sizeof(v), "%d", CFS_PERIOD_US);
		if ((rc = cg_write(cg, "cpu", c->cgroup, "cpu.cfs_period_us", v)) != 0)
			return rc;
		snprintf(v, sizeof(v), "%" PRIu64, quota);
		return cg_write(cg, "cpu", c->cgroup, "cpu.cfs_quota_us", v);
	}
	return 0;
}

static int cpu_prepare(struct ctr *c, char *err, size_t errlen)
{
	const struct cg_system *cg = &c->cfg->cg;
	int rc = cg_create(cg, "cpu", c->cgroup);
	if (rc == 0 && cg->layout == CG_V1)
		rc = cg_create(cg, "cpuacct", c->cgroup);
	if (rc == 0)
		c->cgroups_made = true;
	if (rc == 0)
		rc = apply(c, &c->res);
	if (rc != 0)
		snprintf(err, errlen, "cgroups/cpu: cannot set up cgroup %s: %s", c->cgroup,
		         strerror(rc));
	return rc;
}

static int cpu_isolate(struct ctr *c, pid_t pid, char *err, size_t errlen)
{
	const struct cg_system *cg = &c->cfg->cg;
	int rc = cg_attach(cg, "cpu", c->cgroup, pid);
	if (rc == 0 && cg->layout == CG_V1)
		rc = cg_attach(cg, "cpuacct", c->cgroup, pid);
	if (rc != 0)
		snprintf(err, errlen, "cgroups/cpu: cannot move pid %d into %s: %s", (int)pid,
		         c->cgroup, strerror(rc));
	return rc;
}

static int cpu_update(struct ctr *c, const struct ctr_resources *r)
{
	int rc = apply(c, r);
	if (rc != 0)
		actor_warn("cgroups/cpu: cannot update %s to %.2f cpus: %s", c->cgroup, r->cpus,
		           strerror(rc));
	return rc;
}

static void cpu_usage(const struct ctr *c, Plexus__ResourceStatistics *st)
{
	const struct cg_system *cg = &c->cfg->cg;
	uint64_t user = 0, sys = 0, v;

	if (cg->layout == CG_V2) {
		if (cg_read_key(cg, "cpu", c->cgroup, "cpu.stat", "user_usec", &user) == 0 &&
		    cg_read_key(cg, "cpu", c->cgroup, "cpu.stat", "system_usec", &sys) == 0) {
			st->has_cpus_user_time_secs = st->has_cpus_system_time_secs = true;
			st->cpus_user_time_secs = (double)user / 1e6;
			st->cpus_system_time_secs = (double)sys / 1e6;
		}
		if (cg_read_key(cg, "cpu", c->cgroup, "cpu.stat", "throttled_usec", &v) == 0) {
			st->has_cpus_throttled_time_secs = true;
			st->cpus_throttled_time_secs = (double)v / 1e6;
		}
	} else {
		double hz = (double)sysconf(_SC_CLK_TCK);
		if (cg_read_key(cg, "cpuacct", c->cgroup, "cpuacct.stat", "user", &user) == 0 &&
		    cg_read_key(cg, "cpuacct", c->cgroup, "cpuacct.stat", "system", &sys) == 0) {
			st->has_cpus_user_time_secs = st->has_cpus_system_time_secs = true;
			st->cpus_user_time_secs = (double)user / hz;
			st->cpus_system_time_secs = (double)sys / hz;
		}
		if (cg_read_key(cg, "cpu", c->cgroup, "cpu.stat", "throttled_time", &v) == 0) {
			st->has_cpus_throttled_time_secs = true;
			st->cpus_throttled_time_secs = (double)v / 1e9;
		}
	}
	if (cg_read_key(cg, "cpu", c->cgroup, "cpu.stat", "nr_periods", &v) == 0) {
		st->has_cpus_nr_periods = true;
		st->cpus_nr_periods = (uint32_t)v;
	}
	if (cg_read_key(cg, "cpu", c->cgroup, "cpu.stat", "nr_throttled", &v) == 0) {
		st->has_cpus_nr_throttled = true;
		st->cpus_nr_throttled = (uint32_t)v;
	}
	if (c->res.cpus > 0) {
		st->has_cpus_limit = true;
		st->cpus_limit = c->res.cpus;
	}
}

static void cpu_cleanup(struct ctr *c)
{
	const struct cg_system *cg = &c->cfg->cg;
	int rc = cg_remove(cg, "cpu", c->cgroup);
	if (cg->layout == CG_V1) {
		int rc2 = cg_remove(cg, "cpuacct", c->cgroup);
		rc = rc ? rc : rc2;
	}
	if (rc != 0)
		actor_warn("cgroups/cpu: cannot remove cgroup %s: %s", c->cgroup, strerror(rc));
}

const struct isolator_ops isolator_cgroups_cpu = {
    .name = "cgroups/cpu",
    .prepare = cpu_prepare,
    .isolate = cpu_isolate,
    .update = cpu_update,
    .usage = cpu_usage,
    .cleanup = cpu_cleanup,
};
