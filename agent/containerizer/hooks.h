/* hooks.h — the containerizer's calls from the agent's own code (executors.c, agent.c),
 * kept here so that each call site there is one line. All run inside the agent actor. */
#ifndef PLEXUS_AGENT_CONTAINERIZER_HOOKS_H
#define PLEXUS_AGENT_CONTAINERIZER_HOOKS_H

#include <stdbool.h>

struct agent;
struct agent_executor;
struct agent_launch;

/* Fills the containment fields of l for ex (container id, names, the executor's own
 * resources). */
void agent_container_launch_info(struct agent *a, struct agent_executor *ex,
                                 struct agent_launch *l);

/* Tells the launcher the container's resources: the executor's plus its live tasks'
 * (and, for a command executor, Mesos's overhead of 0.1 cpus and 32 MB). */
void agent_container_update(struct agent *a, struct agent_executor *ex);

/* When the container reached a limit and the executor has no end reason yet, makes
 * the limit its end reason (REASON_CONTAINER_LIMITATION_*) and message. */
void agent_container_note_limitation(struct agent *a, struct agent_executor *ex);

/* After the executor was reaped: the launcher's cleanup, once. */
void agent_container_cleanup(struct agent *a, struct agent_executor *ex);

/* A terminal TASK_FAILED from an executor whose container reached a limit carries the
 * limit's reason and message instead of the executor's. Returns true when it did. */
bool agent_container_rewrite_failure(struct agent *a, struct agent_executor *ex, int state,
                                     int *reason, char **message);

#endif
