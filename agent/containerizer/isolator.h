/* isolator.h — one kind of containment (cpu shares, a memory limit, disk accounting...)
 * behind a small ops table, as Mesos's MesosContainerizer composes isolators.
 *
 * For each container the containerizer calls, in order: prepare (before the child
 * exists), isolate (the child exists but waits before exec, so everything it will
 * fork is contained), update (resources changed: a task joined), usage (any time,
 * from any thread, for /monitor/statistics), limitation (has the container hit a
 * limit?) and cleanup (every process is gone). Isolators keep their state in the
 * container itself. Errors are errno codes with err saying why. */
#ifndef PLEXUS_AGENT_CONTAINERIZER_ISOLATOR_H
#define PLEXUS_AGENT_CONTAINERIZER_ISOLATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/containerizer/cgroups.h"
#include "proto/plexus.pb-c.h"

/* What a container may use: cpus (a fraction of cores), memory and disk in bytes.
 * Zero means "not limited". */
struct ctr_resources {
	double cpus;
	uint64_t mem_bytes;
	uint64_t disk_bytes;
};

/* Settings shared by every container of one agent. */
struct ctr_config {
	struct cg_system cg;
	char cgroups_root[128];
	bool enable_cfs;   /* --cgroups-enable-cfs: a hard cpu cap (CFS quota) */
	bool enforce_disk; /* --enforce-container-disk-quota */
	int64_t disk_watch_ms;
};

struct ctr {
	const struct ctr_config *cfg;
	char id[64];      /* unique per run */
	char cgroup[256]; /* "<root>/<id>" */
	char *directory;  /* the sandbox (owned) */
	pid_t pid;        /* the executor (as the agent sees it); 0 before isolate */
	struct ctr_resources res;
	uint64_t disk_used; /* the latest walk of the sandbox */
	bool disk_measured;
	bool cgroups_made; /* cgroups were created: cleanup removes them */
};

/* A limit the container reached. */
struct ctr_limitation {
	Plexus__TaskStatus__Reason reason;
	char message[256];
};

struct isolator_ops {
	const char *name; /* as --isolation spells it: "cgroups/mem" */
	int (*prepare)(struct ctr *c, char *err, size_t errlen);
	int (*isolate)(struct ctr *c, pid_t pid, char *err, size_t errlen);
	int (*update)(struct ctr *c, const struct ctr_resources *r);
	/* Fills the fields this isolator knows. */
	void (*usage)(const struct ctr *c, Plexus__ResourceStatistics *st);
	/* true when a limit was reached. */
	bool (*limitation)(struct ctr *c, struct ctr_limitation *out);
	void (*cleanup)(struct ctr *c);
};

extern const struct isolator_ops isolator_cgroups_cpu;
extern const struct isolator_ops isolator_cgroups_mem;
extern const struct isolator_ops isolator_posix_cpu;
extern const struct isolator_ops isolator_posix_mem;
extern const struct isolator_ops isolator_disk_du;

/* Helpers shared by the isolators. */

/* Every pid of the container in the posix sense: its process group and session (the
 * executor's pid), found in /proc. Calls fn for each; returns how many. */
int ctr_posix_each(pid_t leader, void (*fn)(pid_t pid, void *arg), void *arg);

/* The disk space used under dir (blocks actually allocated, hard links counted once),
 * in bytes. Does not follow symlinks nor cross file systems. */
uint64_t ctr_du(const char *dir);

#endif
