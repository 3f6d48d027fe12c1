/* master_internal.h — the master's state and the functions its files share.
 *
 * Everything here runs inside the master actor (one thread at a time), so nothing is
 * locked. Objects live in lists (for walks) and in idmap indexes (for the *_find
 * lookups); whoever links or unlinks an object updates both. */
#ifndef PLEXUS_MASTER_INTERNAL_H
#define PLEXUS_MASTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/libactor.h"
#include "actor/pb.h"
#include "common/resources.h"
#include "master/idmap.h"
#include "master/master.h"
#include "plexus/message.h"
#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

#define MASTER_VERSION "0.1.0"

struct mst_alloc;
struct mst_registrar;
struct mst_sched_api;
struct mst_op_api;

struct mst_task {
	struct mst_task *next;   /* first member: *pprev of the node after the list head */
	struct mst_task **pprev; /* the pointer that points at this task (unlink in O(1)) */
	bool completed;          /* on the framework's completed list */
	char *id;
	char *name;
	char *framework_id;
	char *agent_id;
	char *executor_id;          /* NULL for command tasks */
	Plexus__TaskState state;    /* latest state the master knows */
	px_resources *resources;    /* unallocated form */
	Plexus__TaskStatus *status; /* latest status (owned copy), NULL before the first */
	uint8_t *uuid;              /* uuid of the latest update forwarded, for the ack */
	size_t uuid_len;
	bool uuid_terminal; /* that update was terminal: its ack removes the task */
	double staged_time;
	double *times; /* timestamps of states seen, paired with states[] */
	Plexus__TaskState *states;
	size_t n_states;
};

struct mst_framework {
	struct mst_framework *next;
	char *id;
	Plexus__FrameworkInfo *info; /* owned copy, id set */
	char *role;
	actor_pid pid;
	bool connected; /* the scheduler's PID is linked and alive */
	bool active;    /* offers go to it */
	bool recovered; /* known only from agents that re-registered after a restart */
	bool partition_aware;
	uint64_t failover_timer;
	uint64_t generation; /* bumped on every (re)connect; stale failover timers see it */
	struct mst_task *tasks;
	struct mst_idmap task_index;     /* tasks by id */
	struct mst_task *completed;      /* newest first, bounded */
	struct mst_task *completed_tail; /* the oldest completed task, dropped first */
	size_t n_completed;
	px_resources *used;    /* by its tasks */
	px_resources *offered; /* in its outstanding offers */
	double registered_time, reregistered_time, unregistered_time;
};

struct mst_agent {
	struct mst_agent *next;
	char *id;
	Plexus__AgentInfo *info; /* owned copy, id set */
	actor_pid pid;
	char pid_key[ACTOR_PID_TEXT_MAX]; /* pid as text, its key in agents_by_pid */
	char *version;
	bool connected;
	bool active;
	/* Its machine is down (the registry's down_machines): the allocator offers nothing
	 * on it and offers already made are refused. The one record of it in the master. */
	bool maintenance;
	px_resources *total; /* what it advertises, with its checkpointed reservations */
	px_resources *used;  /* by tasks (and their executors) */
	px_resources *offered;
	int ping_misses;
	bool awaiting_pong;
	uint64_t ping_timer;
	double registered_time, reregistered_time;
};

struct mst_offer {
	struct mst_offer *next;   /* first member */
	struct mst_offer **pprev; /* the pointer that points at this offer (unlink in O(1)) */
	char *id;
	char *framework_id;
	char *agent_id;
	char *role;
	px_resources *resources; /* unallocated form */
	uint64_t timer;
};

struct mst_metrics {
	actor_gauge *frameworks_active, *frameworks_inactive, *frameworks_connected,
	    *frameworks_disconnected, *slaves_active, *slaves_inactive, *slaves_connected,
	    *slaves_disconnected, *outstanding_offers, *tasks_staging, *tasks_starting,
	    *tasks_running, *tasks_killing, *elected, *uptime_secs, *slaves_unreachable;
	actor_counter *tasks_finished, *tasks_failed, *tasks_killed, *tasks_lost, *tasks_error,
	    *tasks_dropped, *tasks_unreachable, *tasks_gone;
	actor_counter *slave_registrations, *slave_reregistrations, *slave_removals,
	    *slave_shutdowns_scheduled, *frameworks_removed, *valid_status_updates,
	    *invalid_status_updates, *valid_status_update_acknowledgements,
	    *invalid_status_update_acknowledgements, *valid_framework_to_executor_messages,
	    *invalid_framework_to_executor_messages, *valid_executor_to_framework_messages,
	    *invalid_executor_to_framework_messages, *dropped_messages, *offers_rescinded,
	    *offers_declined, *offers_accepted, *tasks_invalid, *http_bad_requests;
};

struct master {
	master_flags flags;
	char id[40];
	actor_pid self;
	char hostname[256];
	double start_time;   /* seconds, wall clock, for state JSON */
	int64_t start_clock; /* runtime clock at start, for uptime */
	struct mst_framework *frameworks;
	struct mst_idmap framework_index; /* frameworks (not completed ones) by id */
	struct mst_framework *completed_frameworks;
	size_t n_completed_frameworks;
	struct mst_agent *agents;
	struct mst_idmap agent_index;   /* by id */
	struct mst_idmap agents_by_pid; /* by pid_key */
	char **unreachable;             /* ids of agents lost by health checks */
	size_t n_unreachable;
	struct mst_offer *offers;
	struct mst_idmap offer_index;
	size_t n_offers;
	uint64_t next_framework, next_agent, next_offer, next_agent_pid;
	struct mst_alloc *alloc;
	struct mst_registrar *registrar;
	uint64_t allocation_timer;
	uint64_t reregister_timer;
	int64_t task_counts[16]; /* by TaskState, for the gauges */
	struct mst_metrics metrics;
	struct mst_sched_api *sched_api; /* api_scheduler.c: the SUBSCRIBE streams */
	struct mst_op_api *op_api;       /* api_operator.c: the operators' SUBSCRIBE streams */
};

/* ---- master.c: core ---- */
double mst_master_wall_time(void);
Plexus__MasterInfo *mst_master_info_new(struct master *m); /* free with mst_pb_free */
void mst_master_update_gauges(struct master *m);
/* Only the task gauges (cheap: from the counts by state). */
void mst_master_update_task_gauges(struct master *m);
/* Only what offer events change (outstanding offers, tasks by state): O(1), where
 * mst_master_update_gauges walks every agent and framework. */
void mst_master_update_offer_gauges(struct master *m);
/* Copies a protobuf message (pack + unpack); NULL on failure. */
void mst_pb_free(void *msg);
/* A FrameworkID holding value (borrowed), for messages built on the stack. */
void mst_id_init(Plexus__FrameworkID *id, const char *value);

/* ---- frameworks.c ---- */
void mst_frameworks_install(actor_t *self);
struct mst_framework *mst_framework_find(struct master *m, const char *id);
struct mst_framework *mst_framework_find_pid(struct master *m, actor_pid pid);
/* A removed framework still listed among the completed ones, or NULL. */
struct mst_framework *mst_framework_completed_find(struct master *m, const char *id);
/* The framework named by id if the message comes from its scheduler; otherwise logs,
 * counts and returns NULL (the one check every scheduler call goes through). */
struct mst_framework *mst_framework_from(struct master *m, actor_pid from,
                                         const Plexus__FrameworkID *id, const char *what);
/* A framework the master learns of from a re-registering agent. */
struct mst_framework *mst_framework_recover(struct master *m, const Plexus__FrameworkInfo *info);
void mst_framework_remove(actor_t *self, struct master *m, struct mst_framework *fw,
                          const char *why);
bool mst_framework_exited(actor_t *self, struct master *m, actor_pid pid);
void mst_framework_free(struct mst_framework *fw);

/* ---- agents.c ---- */
void mst_agents_install(actor_t *self);
struct mst_agent *mst_agent_find(struct master *m, const char *id);
struct mst_agent *mst_agent_find_pid(struct master *m, actor_pid pid);
bool mst_agent_exited(actor_t *self, struct master *m, actor_pid pid);
void mst_agent_free(struct mst_agent *a);
bool mst_agent_is_unreachable(struct master *m, const char *id);
/* Removes admitted agents that did not re-register after a master restart. */
void mst_agents_reregister_timeout(actor_t *self, void *arg);

/* ---- offers.c ---- */
void mst_offers_install(actor_t *self);
/* Makes an offer of resources (taken over) from an allocation pass; NULL when the
 * framework or agent cannot take it now (the resources went back to the allocator).
 * mst_offers_send() then sends a framework its offers of the pass in one message. */
struct mst_offer *mst_offer_create(struct master *m, const char *framework_id, const char *agent_id,
                                   const char *role, px_resources *resources);
void mst_offers_send(struct master *m, struct mst_framework *fw, struct mst_offer *const *os,
                     size_t n);
struct mst_offer *mst_offer_find(struct master *m, const char *id);
/* Removes an offer; when rescind, tells the framework. Resources go back to the
 * allocator when recover. */
void mst_offer_remove(actor_t *self, struct master *m, struct mst_offer *o, bool rescind,
                      bool recover);
/* Rescinds every offer of a framework or agent (either may be NULL). */
void mst_offers_rescind(actor_t *self, struct master *m, const char *framework_id,
                        const char *agent_id);
void mst_allocation_tick(actor_t *self, void *arg);

/* ---- explain.c ---- */
/* Installs the handler of ExplainOffersMessage (why a request finds no offer). */
void mst_explain_install(actor_t *self);

/* ---- validation.c ---- */
/* Checks one task against the framework, the agent and the resources still left in
 * the offers; on success *use holds what it will use (task + new executor). On
 * failure returns a message (static or in buf) and leaves *use NULL. */
const char *mst_validate_task(struct master *m, struct mst_framework *fw, struct mst_agent *ag,
                              const Plexus__TaskInfo *t, const px_resources *left,
                              char *const *accepted_ids, size_t n_accepted, px_resources **use,
                              char *buf, size_t buflen);
/* Checks the offer ids of an accept: known, of this framework, one agent, no repeats.
 * Returns NULL and the agent in *ag, or a message. */
const char *mst_validate_offers(struct master *m, struct mst_framework *fw,
                                Plexus__OfferID *const *ids, size_t n, struct mst_agent **ag,
                                char *buf, size_t buflen);

/* ---- tasks.c ---- */
void mst_tasks_install(actor_t *self);
struct mst_task *mst_task_find(struct mst_framework *fw, const char *id);
/* Adds a task launched (or re-registered) on agent ag; takes over res. */
struct mst_task *mst_task_add(struct master *m, struct mst_framework *fw, struct mst_agent *ag,
                              const Plexus__TaskInfo *info, px_resources *res,
                              Plexus__TaskState state);
/* Adds a task an agent reports at re-registration. */
struct mst_task *mst_task_add_reported(struct master *m, struct mst_framework *fw,
                                       struct mst_agent *ag, const Plexus__Task *t);
/* Records a new state; frees resources in agent and allocator when it is terminal. */
void mst_task_set_state(struct master *m, struct mst_task *t, Plexus__TaskState state);
/* Moves a task to the framework's completed list. */
void mst_task_complete(struct master *m, struct mst_framework *fw, struct mst_task *t);
void mst_task_free(struct mst_task *t);
/* Sends a status update that the master itself generates (no agent to ack). */
void mst_status_update_send(actor_t *self, struct master *m, struct mst_framework *fw,
                            const char *task_id, const char *agent_id, const char *executor_id,
                            Plexus__TaskState state, Plexus__TaskStatus__Reason reason,
                            const char *message);

/* ---- http.c ---- */
int mst_http_install(actor_t *self);

/* ---- http_operator.c ---- */
/* Routes /weights, /quota (and /quota/<role>), /machine/down and /up, /maintenance/status
 * and the operator's endpoints under /master (reserve, unreserve, volumes, roles). */
int mst_operator_install(actor_t *self);
/* Whether the agent's machine (hostname or IP) is marked down for maintenance in the
 * registry; the agent's `maintenance` flag keeps the answer. */
bool mst_machine_is_down(struct master *m, const struct mst_agent *ag);

/* ---- api_scheduler.c: the v1 Scheduler HTTP API ---- */
/* Routes POST /api/v1/scheduler. */
int mst_api_scheduler_install(actor_t *self);
/* Frees the books of the streams (master fini; the proxies end with the master). */
void mst_api_scheduler_fini(struct master *m);

/* ---- api_operator.c: the v1 Operator HTTP API ---- */
/* Routes POST /api/v1. */
int mst_api_operator_install(actor_t *self);
void mst_api_operator_fini(struct master *m);
/* Events for the operators' SUBSCRIBE streams; each does nothing without subscribers. */
void mst_api_operator_task_added(struct master *m, const struct mst_task *t);
void mst_api_operator_task_updated(struct master *m, const struct mst_task *t);
void mst_api_operator_agent_added(struct master *m, const struct mst_agent *a);
void mst_api_operator_agent_removed(struct master *m, const char *id);
/* updated: a framework that re-registered (FRAMEWORK_UPDATED), else FRAMEWORK_ADDED. */
void mst_api_operator_framework_added(struct master *m, const struct mst_framework *fw,
                                      bool updated);
void mst_api_operator_framework_removed(struct master *m, const struct mst_framework *fw);

/* ---- webui_http.c ---- */
/* Serves the web UI at / (the route of last resort). */
int mst_webui_install(actor_t *self);

/* ---- flags.c ---- */
int mst_master_flags_copy(master_flags *dst, const master_flags *src);

#endif
