/* scheduler_driver.h — the scheduler driver: what a framework links to talk to the
 * master, as Mesos's MesosSchedulerDriver.
 *
 * The driver is an actor ("scheduler-<uuid>") of the process's libactor runtime. It
 * finds the master (a PID or the master's HTTP address, see common/master_discovery.h),
 * registers the framework, links to the master and, whenever the master is lost,
 * tells the scheduler (disconnected) and finds and registers again with backoff,
 * keeping its framework id.
 *
 * Callbacks run inside the driver's actor, one at a time, never concurrently. Every
 * pointer a callback receives is borrowed until it returns: copy what must outlive it.
 * Every call below is thread-safe: it may be made from a callback, from another actor
 * or from any thread, and it copies what it is given (the caller keeps ownership of
 * every argument). Calls return the driver's status: PX_DRIVER_RUNNING when the call
 * was taken. A call made while the driver is disconnected from the master is dropped
 * with a log line (as Mesos), except launches, whose tasks get TASK_DROPPED updates. */
#ifndef PX_SCHEDULER_DRIVER_H
#define PX_SCHEDULER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plexus/driver_status.h"
#include "plexus/plexus.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct px_scheduler_driver px_scheduler_driver;

/* The scheduler's side. Any member may be NULL (the event is then only logged).
 * arg is the `arg` given to px_scheduler_driver_alloc. */
typedef struct px_scheduler_callbacks {
	/* First registration: the master assigned framework_id. master may be NULL (here
	 * and in reregistered) when the master does not describe itself. */
	void (*registered)(px_scheduler_driver *d, const Plexus__FrameworkID *framework_id,
	                   const Plexus__MasterInfo *master, void *arg);
	/* Registered again (after a master failover or a lost connection). */
	void (*reregistered)(px_scheduler_driver *d, const Plexus__MasterInfo *master, void *arg);
	/* The master was lost; the driver is finding it again. Offers held are void. */
	void (*disconnected)(px_scheduler_driver *d, void *arg);
	void (*resource_offers)(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n,
	                        void *arg);
	void (*offer_rescinded)(px_scheduler_driver *d, const Plexus__OfferID *offer_id, void *arg);
	/* A task's status. With explicit acknowledgements, hand status to
	 * px_scheduler_driver_acknowledge when status->uuid is set. */
	void (*status_update)(px_scheduler_driver *d, const Plexus__TaskStatus *status, void *arg);
	void (*framework_message)(px_scheduler_driver *d, const Plexus__ExecutorID *executor_id,
	                          const Plexus__AgentID *agent_id, const uint8_t *data, size_t len,
	                          void *arg);
	void (*agent_lost)(px_scheduler_driver *d, const Plexus__AgentID *agent_id, void *arg);
	/* status is the executor's wait status as the agent saw it. */
	void (*executor_lost)(px_scheduler_driver *d, const Plexus__ExecutorID *executor_id,
	                      const Plexus__AgentID *agent_id, int status, void *arg);
	/* An unrecoverable error (the master refused the framework ...). The driver has
	 * already aborted when this runs. */
	void (*error)(px_scheduler_driver *d, const char *message, void *arg);
} px_scheduler_callbacks;

typedef struct px_scheduler_options {
	/* true (the default, as Mesos): the driver acknowledges each status update after
	 * status_update returns. false: the scheduler calls px_scheduler_driver_acknowledge. */
	bool implicit_acknowledgements;
	/* Registration retry: the first retry comes after a random delay in
	 * [0, backoff_factor_ms], each later one doubles the bound, up to backoff_max_ms.
	 * 0 = defaults (2000 and 60000, as Mesos). Runtime clock. */
	int64_t backoff_factor_ms;
	int64_t backoff_max_ms;
	/* Timeout of one HTTP discovery request (real time); 0 = 5000. */
	int64_t discovery_timeout_ms;
} px_scheduler_options;

/* Fills opts with the defaults above. */
void px_scheduler_options_default(px_scheduler_options *opts);

/* Allocates a driver (not started). callbacks and framework are copied; arg is the
 * caller's. framework->id set means "fail over to this framework". master is a PID
 * ("master@10.0.0.5:41234") or the master's HTTP address ("10.0.0.5:5050", then
 * GET /master/info). opts may be NULL for defaults. The libactor runtime must be running
 * (listening, if the master is in another OS process) and outlive the driver.
 * Returns NULL on out of memory or when master is empty. */
px_scheduler_driver *px_scheduler_driver_alloc(const px_scheduler_callbacks *callbacks, void *arg,
                                               const Plexus__FrameworkInfo *framework,
                                               const char *master,
                                               const px_scheduler_options *opts);

/* Stops the driver if it runs and waits until its actor has ended, then frees it.
 * Must not be called from one of its own callbacks. NULL is a no-op. */
void px_scheduler_driver_free(px_scheduler_driver *d);

/* Spawns the driver's actor and starts finding and registering with the master.
 * PX_DRIVER_RUNNING on success; the current status if it is not NOT_STARTED. */
enum px_driver_status px_scheduler_driver_start(px_scheduler_driver *d);

/* Stops the driver and ends its actor. failover false: the framework is done (the
 * master is told to remove it, its tasks are killed; also after an abort). failover
 * true: the master keeps the framework for its failover_timeout so that another
 * scheduler can take over its id. Wakes join. From a plain thread it returns once the
 * master has been told. Returns PX_DRIVER_STOPPED (PX_DRIVER_ABORTED if the driver
 * had been aborted, as Mesos), or the status if it was neither running nor aborted. */
enum px_driver_status px_scheduler_driver_stop(px_scheduler_driver *d, bool failover);

/* Aborts: the driver ignores everything afterwards and the master deactivates the
 * framework (it may fail over later). Wakes join. Returns PX_DRIVER_ABORTED, or the
 * status if the driver was not running. */
enum px_driver_status px_scheduler_driver_abort(px_scheduler_driver *d);

/* Blocks the calling thread (not an actor) until the driver is stopped or aborted;
 * returns that status (the status at once if it is not running). Inside an actor it
 * does not wait: it logs an error and returns the current status. */
enum px_driver_status px_scheduler_driver_join(px_scheduler_driver *d);

/* start, then join. */
enum px_driver_status px_scheduler_driver_run(px_scheduler_driver *d);

/* The current status (thread-safe snapshot). */
enum px_driver_status px_scheduler_driver_status(px_scheduler_driver *d);

/* The driver's PID (valid once started). */
int px_scheduler_driver_pid(px_scheduler_driver *d, char *buf, size_t size);

/* Accepts offers (all from one agent) with operations applied in order; what is not
 * used is declined with filters (NULL: Mesos's default 5 seconds). Like every call
 * that carries public types, a message missing one of their required fields (a
 * TaskInfo without name, task_id or agent_id ...) cannot be encoded: the call is
 * dropped with an error log line. */
enum px_driver_status px_scheduler_driver_accept(px_scheduler_driver *d,
                                                 const Plexus__OfferID *const *offer_ids, size_t n,
                                                 const Plexus__Offer__Operation *const *ops,
                                                 size_t nops, const Plexus__Filters *filters);

/* Launches tasks on offers: accept with one LAUNCH operation (no tasks: decline). */
enum px_driver_status px_scheduler_driver_launch(px_scheduler_driver *d,
                                                 const Plexus__OfferID *const *offer_ids, size_t n,
                                                 const Plexus__TaskInfo *const *tasks,
                                                 size_t ntasks, const Plexus__Filters *filters);

enum px_driver_status px_scheduler_driver_decline(px_scheduler_driver *d,
                                                  const Plexus__OfferID *offer_id,
                                                  const Plexus__Filters *filters);

enum px_driver_status px_scheduler_driver_kill(px_scheduler_driver *d,
                                               const Plexus__TaskID *task_id);

/* Reconciliation: explicit for the given statuses (task_id and agent_id are what
 * matter), implicit (all the framework's tasks) when n is 0. */
enum px_driver_status px_scheduler_driver_reconcile(px_scheduler_driver *d,
                                                    const Plexus__TaskStatus *const *statuses,
                                                    size_t n);

/* Clears filters and asks for offers again (roles NULL/0: all the framework's roles). */
enum px_driver_status px_scheduler_driver_revive(px_scheduler_driver *d, const char *const *roles,
                                                 size_t nroles);

/* Stops offers (roles NULL/0: all roles) until a revive. */
enum px_driver_status px_scheduler_driver_suppress(px_scheduler_driver *d, const char *const *roles,
                                                   size_t nroles);

/* Sends data to an executor: straight to its agent when an offer told the driver the
 * agent's PID, through the master otherwise. */
enum px_driver_status px_scheduler_driver_send_message(px_scheduler_driver *d,
                                                       const Plexus__ExecutorID *executor_id,
                                                       const Plexus__AgentID *agent_id,
                                                       const uint8_t *data, size_t len);

/* Explicit acknowledgement of a status update received by status_update (only with
 * implicit_acknowledgements false; needs status->uuid, task_id and agent_id). */
enum px_driver_status px_scheduler_driver_acknowledge(px_scheduler_driver *d,
                                                      const Plexus__TaskStatus *status);

#ifdef __cplusplus
}
#endif

#endif
