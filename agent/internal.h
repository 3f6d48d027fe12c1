/* internal.h — the agent actor's state, shared by the files that handle one concern
 * each (agent.c core, registration.c, executors.c, http.c, ...). Everything here runs
 * inside the agent actor, so nothing is locked. */
#ifndef PLEXUS_AGENT_INTERNAL_H
#define PLEXUS_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actor/libactor.h"
#include "actor/pb.h"
#include "agent/agent.h"
#include "agent/launcher.h"
#include "agent/status_updates.h"
#include "common/resources.h"
#include "plexus/message.h"
#include "plexus/util.h"
#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

enum agent_conn {
	AGENT_DISCONNECTED, /* no master known, or it went away */
	AGENT_REGISTERING,  /* (re-)registration sent, waiting for the answer */
	AGENT_REGISTERED,
};

enum executor_phase {
	EXECUTOR_LAUNCHING,   /* process started, not registered yet */
	EXECUTOR_RUNNING,     /* registered: tasks go straight to it */
	EXECUTOR_TERMINATING, /* asked to shut down; killed when the grace period ends */
	EXECUTOR_TERMINATED,  /* the process is gone */
};

struct agent_task {
	Plexus__TaskInfo *info;  /* owned copy */
	Plexus__TaskState state; /* the latest state the agent knows */
	double *timestamps;      /* one per state change, for /state "statuses" */
	Plexus__TaskState *states;
	size_t nstatus;
	struct agent_task *next;
};

struct agent_executor {
	struct agent_framework *fw;
	Plexus__ExecutorInfo *info; /* owned; generated for command tasks */
	bool command;               /* generated for a task without an executor */
	char *id;
	char run_uuid[37];
	char *directory; /* the run's sandbox */
	enum executor_phase phase;
	struct agent_container container;
	actor_pid driver; /* the executor driver's PID once registered */
	bool linked;
	uint64_t registration_timer;
	uint64_t shutdown_timer;
	int64_t grace_ms;    /* shutdown grace period */
	int wait_status;     /* once TERMINATED */
	uint64_t serial;     /* names the executor in timer callbacks */
	bool has_end_reason; /* why the agent ended it, for its tasks' updates */
	Plexus__TaskStatus__Reason end_reason;
	char *end_message;           /* owned */
	struct agent_task *queued;   /* waiting for the executor to register */
	struct agent_task *launched; /* sent to the executor */
	struct agent_task *completed;
	/* Recovery (recovery.c): the process's start time tells it from a later process
	 * reusing its pid; a recovered executor must re-register within a timeout. */
	uint64_t start_ticks;
	bool recovered;
	actor_future *fetch; /* while its URIs are fetched (agent/fetcher.h) */
	struct agent_executor *next;
};

struct agent_framework {
	char *id;
	Plexus__FrameworkInfo *info; /* owned */
	char *pid;                   /* the scheduler's PID, as the master sent it */
	struct agent_executor *executors;
	struct agent_executor *completed;
	bool removing; /* ShutdownFrameworkMessage: forget it once empty */
	struct agent_framework *next;
};

struct agent_metrics {
	actor_gauge *registered;
	actor_gauge *tasks[16];      /* by TaskState, for the non-terminal states */
	actor_counter *terminal[16]; /* by TaskState, for the terminal ones */
	actor_gauge *executors_running;
	actor_counter *executors_terminated;
	actor_counter *valid_status_updates;
	actor_counter *invalid_status_updates;
	actor_counter *invalid_messages;
	actor_gauge *frameworks_active;
};

struct agent {
	actor_def def; /* lives as long as the actor: freed in its fini, its last use */
	char name[32];
	actor_t *self;
	actor_pid pid;
	/* Configuration (owned copies). */
	char *master_text;
	char *hostname;
	char *work_dir;
	char *executor_path;
	int http_port;
	px_resources *resources;
	Plexus__Internal__CheckpointResourcesMessage *checkpointed; /* in memory only, yet */
	Plexus__Attribute **attributes;
	size_t nattributes;
	int64_t shutdown_grace_ms;
	int64_t registration_timeout_ms;
	int64_t backoff_ms;
	double start_time;
	/* Master. */
	enum agent_conn conn;
	actor_pid master;
	bool master_known;
	bool linked;
	char *agent_id; /* NULL until the first registration */
	Plexus__MasterInfo *master_info;
	int64_t backoff_cur;
	uint64_t register_timer;
	uint64_t ping_timer;
	int64_t ping_timeout_ms;
	/* Work. */
	struct agent_framework *frameworks;
	struct agent_framework *completed_frameworks;
	size_t ncompleted_frameworks;
	struct status_update_manager sum;
	struct agent_metrics m;
	struct agent_fetcher *fetcher; /* agent/fetcher.h: URIs and the cache */
	const struct agent_launcher_ops *launcher;
	void *launcher_ctx; /* the containerizer (agent/containerizer/), the launcher's own */
	uint64_t next_serial;
	bool stopping;
	/* Checkpointing and recovery (checkpoint.c, recovery.c), sandbox gc (gc.c). */
	bool checkpoint;
	bool recover_cleanup;          /* --recover=cleanup */
	int64_t recovery_timeout_ms;   /* PLEXUS_RECOVERY_TIMEOUT of executors */
	int64_t reregister_timeout_ms; /* --executor-reregistration-timeout */
	int64_t gc_delay_ms;
	double gc_headroom;
	int64_t disk_watch_ms;
	uint64_t reregister_timer;
	struct agent_gc_state *gc;
};

/* ---- agent.c: core ---------------------------------------------------------------- */

struct agent_framework *agent_framework_find(struct agent *a, const char *id);
struct agent_executor *agent_executor_find(struct agent_framework *fw, const char *id);
/* The executor that runs (or will run) task_id, and the task itself. */
struct agent_task *agent_task_find(struct agent_framework *fw, const char *task_id,
                                   struct agent_executor **ex);
/* Records a new state of a task (metrics, /state) without sending anything. */
void agent_task_transition(struct agent *a, struct agent_task *t, Plexus__TaskState state);
/* A status update from an executor's driver (from): checked, recorded, kept by the
 * status update manager and acknowledged to the driver. */
void agent_executor_update(struct agent *a, actor_pid from, const Plexus__Internal__StatusUpdate *u);
/* Builds a status update the agent itself generates (source AGENT) and hands it to the
 * status update manager. */
void agent_send_update(struct agent *a, struct agent_framework *fw, struct agent_executor *ex,
                       const char *task_id, Plexus__TaskState state,
                       Plexus__TaskStatus__Reason reason, const char *message);
/* Moves finished executors and frameworks to the completed lists. */
void agent_gc(struct agent *a, struct agent_framework *fw);
void agent_fill_info(struct agent *a, Plexus__AgentInfo *info, Plexus__Resource ***res,
                     size_t *nres);

/* ---- registration.c: the master -------------------------------------------------- */

void agent_registration_install(struct agent *a);
void agent_registration_start(struct agent *a);
void agent_registration_exited(struct agent *a, actor_pid who);
void agent_registration_stop(struct agent *a);
/* True when msg came from the master we are registered with (logs and counts if not). */
bool agent_from_master(struct agent *a, actor_pid from, const char *what);

/* ---- executors.c: launching, registration and ending of executors --------------- */

void agent_executors_install(struct agent *a);
void agent_run_task(struct agent *a, const Plexus__Internal__RunTaskMessage *m);
void agent_kill_task(struct agent *a, const Plexus__Internal__KillTaskMessage *m);
void agent_shutdown_executor(struct agent *a, struct agent_executor *ex, const char *why);
void agent_shutdown_framework(struct agent *a, struct agent_framework *fw);
/* An executor's driver ended or its connection broke. */
bool agent_executors_exited(struct agent *a, actor_pid who);
/* Kills every executor at once and waits for them (agent shutdown). */
void agent_executors_destroy_all(struct agent *a);
void agent_executor_free(struct agent_executor *ex);
/* The executor's process ended (status as waitpid gives it, or ACTOR_REAP_UNKNOWN):
 * its container is destroyed, its live tasks end, the master hears of it. */
void agent_executor_ended(struct agent *a, struct agent_executor *ex, int status);
/* Tells an executor driver at `from` that registers when it should not to shut down,
 * and counts the message as invalid (the caller has logged why). */
void agent_executor_refuse(actor_t *self, struct agent *a, actor_pid from,
                           Plexus__FrameworkID *framework_id, Plexus__ExecutorID *executor_id);
bool agent_executor_has_live_tasks(const struct agent_executor *ex);

/* ---- recovery.c: after an agent restart ----------------------------------------- */

/* Reads the checkpoint of a previous run of this agent (work dir) and rebuilds its
 * frameworks, executors, tasks and pending updates; reconnects to live executors, ends
 * the tasks of dead ones. Called in the actor's init, before registration. */
void agent_recover(struct agent *a);
void agent_recovery_install(struct agent *a);

/* ---- gc.c: old sandboxes ---------------------------------------------------------- */

/* Starts the collector (schedules what a previous run left on disk). */
void agent_gc_start(struct agent *a);
void agent_gc_stop(struct agent *a);
/* Schedules removal of dir after --gc-delay (less age_ms, the time it is already done). */
void agent_gc_schedule(struct agent *a, const char *dir, int64_t age_ms);
/* Takes dir off the schedule (it is in use again). */
void agent_gc_unschedule(struct agent *a, const char *dir);

/* ---- http.c ----------------------------------------------------------------------- */

int agent_http_install(struct agent *a);

/* ---- pb.c: protobuf helpers ------------------------------------------------------- */

/* Frees a message made by px_message_copy or unpacking; NULL is a no-op. */
void agent_pb_free(void *msg);
/* Wall-clock seconds, as Mesos's timestamps are. */
double agent_wall_now(void);

#endif
