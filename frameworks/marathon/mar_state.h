/* mar_state.h — what the scheduler knows: apps, their tasks, deployments, and the
 * functions of the modules that change it.
 *
 * All of it belongs to one actor ("marathon"): driver callbacks, HTTP requests, health
 * check results and timers are all brought into that actor before they touch the state,
 * so nothing here takes a lock. */
#ifndef MAR_STATE_H
#define MAR_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "actor/actor.h"
#include "plexus/scheduler.h"

#include "mar_app.h"

/* One instance of an app: a Mesos task. */
struct mar_task {
	char id[MAR_ID_MAX + 40];
	char agent_id[128];
	char host[256];
	json_t *attrs; /* the agent's attributes when launched: {"rack": "r1"} */
	int ports[MAR_MAX_PORTS];
	size_t nports;
	char config_version[MAR_VERSION_MAX]; /* the app config it runs */
	Plexus__TaskState state;
	char staged_at[MAR_VERSION_MAX], started_at[MAR_VERSION_MAX];
	int64_t started_ms; /* runtime clock, when RUNNING came (0: not yet) */
	bool killing;       /* we asked for it to be killed: it no longer counts */
	/* Health, one result for all of the app's checks (the worst). */
	bool alive;   /* the last check passed */
	bool checked; /* some check has answered */
	bool ever_healthy;
	int failures; /* consecutive */
	int64_t next_check_ms;
	int inflight; /* checks under way */
	char last_success[MAR_VERSION_MAX], last_failure[MAR_VERSION_MAX];
	struct mar_task *next;
};

/* An app as the scheduler runs it. */
struct mar_entry {
	struct mar_app *app; /* the current definition */
	struct mar_task *tasks;
	size_t ntasks;
	double delay_s;          /* the next launch delay after a failure */
	int64_t launch_after_ms; /* no launch before this (runtime clock) */
	bool deleting;           /* DELETE: kill everything, then forget the app */
	struct mar_entry *next;
};

enum mar_deploy_kind { MAR_DEPLOY_START, MAR_DEPLOY_SCALE, MAR_DEPLOY_RESTART, MAR_DEPLOY_STOP };

struct mar_deployment {
	char id[37];
	char version[MAR_VERSION_MAX];
	char app_id[MAR_ID_MAX];
	enum mar_deploy_kind kind;
	json_t *previous; /* the app before (mar_app_to_json), NULL when it did not exist */
	struct mar_deployment *next;
};

struct mar_subscriber;

struct mar_options {
	const char *master;
	int http_port;
	const char *state_file; /* NULL: nothing is persisted */
	const char *name;       /* framework name */
	double failover_timeout_s;
	const char *hostname;   /* for /v2/info */
	int64_t health_tick_ms; /* how often health checks are looked at */
	int max_staging;        /* launched tasks not yet RUNNING, at most */
};

struct mar_state {
	struct mar_options opts;
	actor_pid self;
	px_scheduler_driver *driver;
	char framework_id[128];
	bool registered;
	bool suppressed;
	uint64_t revive_timer;
	int64_t revive_at_ms;
	struct mar_entry *apps;
	struct mar_deployment *deployments;
	struct mar_subscriber *subscribers;
	uint64_t health_timer;
	/* Agents seen in offers and not lost: id -> {"hostname": ..., "attributes": {...}},
	 * so GROUP_BY knows every group, also those without a task yet. */
	json_t *agents;
	bool dirty; /* the state file is behind */
};

/* ---- apps and tasks (mar_sched.c) ---------------------------------------------------- */

struct mar_entry *mar_entry_find(struct mar_state *st, const char *app_id);
/* Adds an entry for app (taking it over); NULL on out of memory. */
struct mar_entry *mar_entry_add(struct mar_state *st, struct mar_app *app);
/* Forgets an app and its tasks (which must have ended or been killed). */
void mar_entry_remove(struct mar_state *st, struct mar_entry *e);
/* The entry of the app that owns task_id (its task in *task), or NULL. */
struct mar_entry *mar_task_find(struct mar_state *st, const char *task_id, struct mar_task **task);

/* Whether a task counts as healthy: RUNNING and, when the app has health checks,
 * passing them. */
bool mar_task_healthy(const struct mar_entry *e, const struct mar_task *t);

/* Brings e towards what its definition and deployment ask: kills what must go, works
 * out what must start (revives offers if anything must) and completes the app's
 * deployment when it is done. Called after every change to e. */
void mar_converge(struct mar_state *st, struct mar_entry *e);
/* mar_converge for every app. */
void mar_converge_all(struct mar_state *st);

/* Asks the driver to kill t (it no longer counts for its app). */
void mar_task_kill(struct mar_state *st, struct mar_entry *e, struct mar_task *t);

/* How many tasks of e may be launched now (backoff and upgrade strategy obeyed). */
int mar_launch_budget(struct mar_state *st, const struct mar_entry *e);

/* Driver events, inside the actor (arguments borrowed). */
void mar_on_offers(struct mar_state *st, Plexus__Offer *const *offers, size_t n);
void mar_on_status(struct mar_state *st, const Plexus__TaskStatus *status);
void mar_on_registered(struct mar_state *st, const char *framework_id);
void mar_on_agent_lost(struct mar_state *st, const char *agent_id);

/* The task's JSON as /v2/apps/{id}/tasks shows it. */
json_t *mar_task_to_json(const struct mar_entry *e, const struct mar_task *t);
/* The app's JSON with tasksRunning, tasksStaged, tasksHealthy, tasksUnhealthy and its
 * deployments; with_tasks adds "tasks". */
json_t *mar_entry_to_json(struct mar_state *st, const struct mar_entry *e, bool with_tasks);

/* ---- constraints (mar_constraint.c) ------------------------------------------------- */

/* The value of field on an agent: its hostname for "hostname", else the attribute's
 * text ("r1", "2", "[1-5]"), or NULL when the agent has no such attribute. */
const char *mar_offer_field(const char *hostname, const json_t *attrs, const char *field);
/* The attributes of an offer as {"name": "text"} (new reference). */
json_t *mar_offer_attributes(const Plexus__Offer *offer);
/* Whether one more task of e may go on an agent of this hostname and attributes, given
 * the tasks e has (killing ones excluded) and the agents known (st->agents; may be
 * NULL). */
bool mar_constraints_accept(const struct mar_entry *e, const char *hostname, const json_t *attrs,
                            const json_t *agents);
/* Records an agent seen in an offer into st->agents. */
void mar_agent_seen(struct mar_state *st, const char *agent_id, const char *hostname,
                    const json_t *attrs);

/* ---- deployments (mar_deploy.c) ----------------------------------------------------- */

/* Starts a deployment of kind for app_id; previous is the app before (new reference
 * taken; NULL when it is new). Returns it, or NULL on out of memory. */
struct mar_deployment *mar_deploy_start(struct mar_state *st, const char *app_id,
                                        enum mar_deploy_kind kind, json_t *previous);
struct mar_deployment *mar_deploy_find(struct mar_state *st, const char *id);
/* The deployment of app_id under way, or NULL. */
struct mar_deployment *mar_deploy_for_app(struct mar_state *st, const char *app_id);
/* Ends a deployment: success (event deployment_success) or cancelled; frees it. */
void mar_deploy_finish(struct mar_state *st, struct mar_deployment *d, bool success);
/* Whether e has reached what its deployment asks (all tasks of the current config,
 * healthy, as many as asked; none at all for a stop). */
bool mar_deploy_done(struct mar_state *st, const struct mar_entry *e);
json_t *mar_deploy_to_json(struct mar_state *st, const struct mar_deployment *d);

/* ---- health checks (mar_health.c) --------------------------------------------------- */

/* Starts the periodic look at every running task's checks. */
void mar_health_start(struct mar_state *st);
void mar_health_stop(struct mar_state *st);

/* ---- events (mar_events.c) --------------------------------------------------------- */

/* Sends an event to every /v2/events subscriber: eventType is set on data and a
 * timestamp added; data is taken over. */
void mar_event(struct mar_state *st, const char *type, json_t *data);

/* ---- persistence (mar_store.c) ----------------------------------------------------- */

/* Writes apps, tasks, deployments and the framework id to the state file (atomically:
 * a temporary file renamed over it), if st->dirty. Logs and keeps going on failure. */
void mar_store_save(struct mar_state *st);
/* Loads the state file into st (which is empty). 0 when it was loaded or does not
 * exist; -1 (and why) when it cannot be read or is not a state file. */
int mar_store_load(struct mar_state *st, char *why, size_t whylen);

#endif
