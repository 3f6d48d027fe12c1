/* monitor.h — the process-wide "monitor" actor: /monitor/statistics (Mesos's shape: an
 * array of {"executor_id", "framework_id", "source", "statistics"} with Mesos's
 * ResourceStatistics names) over every container of every agent in the process, and
 * the periodic check of their limits (disk walk, posix memory) on the runtime clock. */
#ifndef PLEXUS_AGENT_CONTAINERIZER_MONITOR_H
#define PLEXUS_AGENT_CONTAINERIZER_MONITOR_H

#include <stdint.h>

struct container;

/* Spawns the actor on first use; tick_ms is how often the checks run (the smallest
 * interval any user asked for wins). Returns 0 or a libactor error code. */
int monitor_ref(int64_t tick_ms);
void monitor_unref(void);

/* Registers / forgets a container. Any thread. After monitor_remove returns the
 * monitor no longer touches k. */
void monitor_add(struct container *k);
void monitor_remove(struct container *k);

/* Runs fn under the monitor's lock (to read or change a registered container while
 * the monitor cannot). */
void monitor_locked(void (*fn)(void *arg), void *arg);

#endif
