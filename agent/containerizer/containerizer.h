/* containerizer.h — the agent's containerizer: a launcher plus isolators, chosen with
 * --isolation, behind the agent's launcher seam (agent/launcher.h), as Mesos's
 * MesosContainerizer composes a launcher and isolators.
 *
 *   cgroups/cpu     cpu shares (1024 per cpu), optional CFS quota; cpu time
 *   cgroups/mem     a hard memory limit; OOM kills reported as a memory limitation
 *   namespaces/pid  the executor is pid 1 of a new pid namespace
 *   disk/du         the sandbox's usage, walked periodically; enforced on request
 *   posix/cpu, posix/mem  accounting from /proc for the executor's session
 *
 * The default is cgroups/cpu,cgroups/mem,disk/du when the agent is root
 * and can create cgroups under --cgroups-root, else posix/cpu,posix/mem,disk/du. Asked
 * for cgroups it cannot use, the containerizer falls back to posix with a warning.
 * Every container is also registered with the process-wide "monitor" actor
 * (monitor.h), which serves /monitor/statistics and runs the periodic checks. */
#ifndef PLEXUS_AGENT_CONTAINERIZER_CONTAINERIZER_H
#define PLEXUS_AGENT_CONTAINERIZER_CONTAINERIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/launcher.h"
#include "proto/plexus.pb-c.h"

struct containerizer_flags {
	const char *isolation;    /* --isolation; NULL: the default above */
	const char *cgroups_root; /* --cgroups-root; NULL: "plexus" */
	bool enable_cfs;          /* --cgroups-enable-cfs */
	bool enforce_disk;        /* --enforce-container-disk-quota */
	int64_t disk_watch_ms;    /* --container-disk-watch-interval; <= 0: 15 s */
	const char *cgroups_base; /* where the hierarchies are mounted; NULL: /sys/fs/cgroup */
};

struct containerizer;

/* Checks --isolation (every name known, no posix and cgroups of the same kind at once)
 * without touching the system. Returns 0, or non-zero with err saying why. */
int containerizer_flags_check(const struct containerizer_flags *f, char *err, size_t errlen);

/* Creates an agent's containerizer: parses the isolation, detects cgroups, falls back
 * to posix where they cannot be used (logged). On success *out is owned by the caller
 * (containerizer_free) and is what struct agent_launch.ctx must carry. */
int containerizer_create(const struct containerizer_flags *f, struct containerizer **out, char *err,
                         size_t errlen);

/* Frees z; every container launched through it must have been cleaned up. NULL: no-op. */
void containerizer_free(struct containerizer *z);

/* The isolation in effect, e.g. "cgroups/cpu,cgroups/mem,namespaces/pid,disk/du". */
const char *containerizer_isolation(const struct containerizer *z);
/* "cgroups v1", "cgroups v2" or "posix". */
const char *containerizer_kind(const struct containerizer *z);

/* The launcher ops of every containerizer (launch takes the containerizer from
 * struct agent_launch.ctx). */
extern const struct agent_launcher_ops containerizer_launcher;

/* A snapshot of a launched container's usage (Mesos's ResourceStatistics); fills st
 * (initialised by the caller). Any thread. */
void containerizer_usage(const struct agent_container *c, Plexus__ResourceStatistics *st);

/* Adds the scalar cpus, mem (MB) and disk (MB) of res to the three sums. */
void containerizer_sum_resources(Plexus__Resource *const *res, size_t n, double *cpus,
                                 double *mem_mb, double *disk_mb);

#endif
