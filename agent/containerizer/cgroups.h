/* cgroups.h — access to Linux control groups, in both layouts.
 *
 * cgroups v1 mounts one hierarchy per controller (or a few together) under a base
 * directory, normally /sys/fs/cgroup/<controller>; cgroups v2 mounts one unified
 * hierarchy (at /sys/fs/cgroup, or /sys/fs/cgroup/unified in the hybrid layout) whose
 * controllers are listed in cgroup.controllers. cg_detect picks the layout: v2 only
 * when its cpu and memory controllers are available there, else v1 when its cpu,
 * cpuacct and memory hierarchies are mounted, else none.
 *
 * A cgroup is named relative to the hierarchy root ("plexus/<container>"); each call
 * takes a controller name ("cpu", "cpuacct", "memory", "freezer") that selects the v1
 * hierarchy and is ignored under v2. Errors are errno codes. Every call is safe from
 * any thread; none keeps state besides the struct cg_system it is given. */
#ifndef PLEXUS_AGENT_CONTAINERIZER_CGROUPS_H
#define PLEXUS_AGENT_CONTAINERIZER_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cg_layout {
	CG_NONE,
	CG_V1,
	CG_V2,
};

struct cg_system {
	enum cg_layout layout;
	char base[512];    /* v1: directory holding one mount per controller */
	char unified[512]; /* v2: the unified mount */
	bool freezer;      /* v1: a freezer hierarchy is mounted */
};

/* Looks at base (normally "/sys/fs/cgroup") and fills sys. Returns 0 with sys->layout
 * CG_NONE when no usable layout is mounted (why says what is missing). */
int cg_detect(const char *base, struct cg_system *sys, char *why, size_t whylen);

/* The layout's name: "v1", "v2" or "none". */
const char *cg_layout_name(enum cg_layout layout);

/* The directory of cgroup in controller's hierarchy. Returns 0 or ENAMETOOLONG. */
int cg_path(const struct cg_system *sys, const char *controller, const char *cgroup, char *out,
            size_t outlen);

/* Creates cgroup (and missing parents) in controller's hierarchy; an existing one is
 * fine. Under v2 it also enables the cpu, memory and pids controllers for the children
 * of every parent it walks through. */
int cg_create(const struct cg_system *sys, const char *controller, const char *cgroup);

/* Removes cgroup (an empty one; children are not removed). Missing is fine. EBUSY
 * while processes remain. */
int cg_remove(const struct cg_system *sys, const char *controller, const char *cgroup);

/* Writes value to the control file of cgroup. */
int cg_write(const struct cg_system *sys, const char *controller, const char *cgroup,
             const char *file, const char *value);

/* Reads a control file into buf (NUL-terminated, truncated to buflen - 1). */
int cg_read(const struct cg_system *sys, const char *controller, const char *cgroup,
            const char *file, char *buf, size_t buflen);

/* Reads a file holding one number ("max" reads as UINT64_MAX). */
int cg_read_u64(const struct cg_system *sys, const char *controller, const char *cgroup,
                const char *file, uint64_t *out);

/* Reads the value of key from a flat keyed file ("key value" lines: memory.stat,
 * cpu.stat, memory.events, memory.oom_control). ENOENT when the key is missing. */
int cg_read_key(const struct cg_system *sys, const char *controller, const char *cgroup,
                const char *file, const char *key, uint64_t *out);

/* Moves process pid into cgroup. */
int cg_attach(const struct cg_system *sys, const char *controller, const char *cgroup, pid_t pid);

/* The number of processes in cgroup (from cgroup.procs); -1 on error. */
int cg_count(const struct cg_system *sys, const char *controller, const char *cgroup);

/* SIGKILLs every process of cgroup and waits (bounded by timeout_ms, real time) until
 * none is left. v2 writes cgroup.kill when the kernel has it; v1 freezes the freezer
 * cgroup of the same name (when mounted and created) so that nothing forks while the
 * pids are killed, then thaws it. Returns 0 once empty, ETIMEDOUT otherwise. */
int cg_kill_all(const struct cg_system *sys, const char *controller, const char *cgroup,
                int timeout_ms);

/* Removes the empty child cgroups of root older than min_age_s seconds: what agents
 * that died without cleaning up (SIGKILL) left behind. Young empty ones may belong to
 * a launch under way of another agent sharing root, so they stay. Returns how many
 * went. */
int cg_sweep_empty(const struct cg_system *sys, const char *controller, const char *root,
                   int min_age_s);

/* Whether a cgroup can be created and removed under root in controller's hierarchy
 * (the agent is root, the file system is writable). */
bool cg_writable(const struct cg_system *sys, const char *controller, const char *root);

#endif
