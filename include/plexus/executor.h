/* executor_driver.h — the executor driver: what an executor links to talk to its
 * agent, as Mesos's MesosExecutorDriver.
 *
 * The agent starts the executor with its environment (names as Mesos's MESOS_*):
 *   PLEXUS_AGENT_PID        the agent's PID ("slave(1)@10.0.0.5:41234"); required
 *   PLEXUS_FRAMEWORK_ID     the framework's id; required
 *   PLEXUS_EXECUTOR_ID      this executor's id; required
 *   PLEXUS_AGENT_ID         the agent's id (optional; registration tells it too)
 *   PLEXUS_DIRECTORY        the sandbox directory (optional)
 *   PLEXUS_SANDBOX          same, as seen inside the container (optional)
 *   PLEXUS_CHECKPOINT       "1"/"true" (default) or "0"/"false": whether the agent can
 *                           recover this executor after an agent restart
 *   PLEXUS_RECOVERY_TIMEOUT how long to wait for a lost agent to come back: "15mins",
 *                           "30secs", "500ms" or a number of seconds; default 15mins
 *   PLEXUS_EXECUTOR_SHUTDOWN_GRACE_PERIOD  after a shutdown request, how long the
 *                           executor has before the driver aborts; default 5secs
 *
 * The driver is an actor ("executor(N)") of the process's libactor runtime. It
 * registers with the agent (RegisterExecutorMessage) and links to it. When the agent
 * goes away, a checkpointing executor gets `disconnected` and waits for the agent to
 * come back (ReconnectExecutorMessage) for the recovery timeout, then the driver calls
 * `shutdown` and aborts; without checkpointing it shuts down at once (as Mesos).
 *
 * Callbacks run inside the driver's actor, one at a time; pointers they receive are
 * borrowed until they return. Calls are thread-safe and copy their arguments. */
#ifndef PX_EXECUTOR_DRIVER_H
#define PX_EXECUTOR_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plexus/driver_status.h"
#include "plexus/plexus.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct px_executor_driver px_executor_driver;

/* The executor's side. Any member may be NULL. */
typedef struct px_executor_callbacks {
	void (*registered)(px_executor_driver *d, const Plexus__ExecutorInfo *executor,
	                   const Plexus__FrameworkInfo *framework, const Plexus__AgentInfo *agent,
	                   void *arg);
	void (*reregistered)(px_executor_driver *d, const Plexus__AgentInfo *agent, void *arg);
	void (*disconnected)(px_executor_driver *d, void *arg);
	void (*launch_task)(px_executor_driver *d, const Plexus__TaskInfo *task, void *arg);
	void (*kill_task)(px_executor_driver *d, const Plexus__TaskID *task_id, void *arg);
	void (*framework_message)(px_executor_driver *d, const uint8_t *data, size_t len,
	                          void *arg);
	/* The executor must kill its tasks, send their terminal updates and stop the driver
	 * within the shutdown grace period. */
	void (*shutdown)(px_executor_driver *d, void *arg);
	void (*error)(px_executor_driver *d, const char *message, void *arg);
} px_executor_callbacks;

/* Allocates a driver from the environment (see above). callbacks are copied. Returns
 * NULL on out of memory or when a required variable is missing or invalid; then, if
 * err is not NULL, writes why into err (errlen bytes). */
px_executor_driver *px_executor_driver_alloc(const px_executor_callbacks *callbacks, void *arg,
                                             char *err, size_t errlen);

/* Stops the driver if needed, waits for its actor to end and frees it. Not from one of
 * its own callbacks. NULL is a no-op. */
void px_executor_driver_free(px_executor_driver *d);

/* Spawns the actor and registers with the agent. The libactor runtime must be running
 * (listening when the agent is another OS process). */
enum px_driver_status px_executor_driver_start(px_executor_driver *d);

/* Ends the driver's actor after the calls queued before it (so status updates sent
 * earlier from the same thread or actor leave first) and wakes join. Returns
 * PX_DRIVER_STOPPED (PX_DRIVER_ABORTED if it had been aborted, as Mesos), or the status
 * if the driver was neither running nor aborted. */
enum px_driver_status px_executor_driver_stop(px_executor_driver *d);

/* The driver ignores everything from now on and wakes join; the actor lives until stop
 * or free. Returns PX_DRIVER_ABORTED, or the status if it was not running. */
enum px_driver_status px_executor_driver_abort(px_executor_driver *d);

/* Blocks a thread that is not an actor until the driver is stopped or aborted and
 * returns that status. Inside an actor it logs an error and returns at once. */
enum px_driver_status px_executor_driver_join(px_executor_driver *d);
/* start, then join. */
enum px_driver_status px_executor_driver_run(px_executor_driver *d);
/* The current status (thread-safe snapshot). */
enum px_driver_status px_executor_driver_status(px_executor_driver *d);

/* Sends a task's status to the agent. The driver fills uuid, timestamp, source
 * (SOURCE_EXECUTOR), executor_id and agent_id; the update is kept until the agent
 * acknowledges it and is sent again on re-registration. TASK_STAGING is refused
 * (error callback, as Mesos). */
enum px_driver_status px_executor_driver_send_status_update(px_executor_driver *d,
                                                            const Plexus__TaskStatus *status);

enum px_driver_status px_executor_driver_send_message(px_executor_driver *d, const uint8_t *data,
                                                      size_t len);

#ifdef __cplusplus
}
#endif

#endif
