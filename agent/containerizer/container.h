/* container.h — a launched container as the containerizer and the monitor share it
 * (private to agent/containerizer/). */
#ifndef PLEXUS_AGENT_CONTAINERIZER_CONTAINER_H
#define PLEXUS_AGENT_CONTAINERIZER_CONTAINER_H

#include "agent/containerizer/containerizer.h"
#include "agent/containerizer/isolator.h"

#define MAX_ISOLATORS 8

struct containerizer {
	struct ctr_config cfg;
	const struct isolator_ops *iso[MAX_ISOLATORS];
	size_t niso;
	bool pid_namespace;
	bool cgroups;          /* some isolator uses cgroups */
	const char *kill_hier; /* a hierarchy holding every process: "cpu" or "memory" */
	char isolation[256];
	char kind[32];
};

struct container {
	struct ctr c;
	struct containerizer *z;
	char *framework_id, *executor_id, *source;
	bool limited; /* a limit was reached: the container was killed for it */
	struct ctr_limitation limit;
	int64_t next_check;     /* runtime clock, for the monitor's periodic walk */
	struct container *next; /* the monitor's list */
};

/* Checks the container's limits now (with walk, walking its sandbox first when it has
 * disk/du); when one is reached, records it and kills the container, as Mesos destroys
 * a container on a limitation. Called by the monitor with its lock held. Returns true
 * when the container was killed. */
bool container_check(struct container *k, bool walk);

/* Fills st with the container's usage and the time (NULL k: only the time). */
void container_usage(const struct container *k, Plexus__ResourceStatistics *st);

/* SIGKILLs every process of the container (its cgroup, its session). */
void container_kill(struct container *k);

#endif
