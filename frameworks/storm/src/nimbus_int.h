/* nimbus_int.h — the nimbus's state, shared by its files: scheduling (nimbus.c),
 * persistence (nimbus_state.c) and HTTP (nimbus_http.c).
 *
 * Driver callbacks run in the driver's actor, HTTP handlers in the nimbus's own actor:
 * both take the nimbus's lock. */
#ifndef STM_NIMBUS_INT_H
#define STM_NIMBUS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <plexus/scheduler.h>

#include "routing.h"
#include "topology.h"

enum slot_state {
	SLOT_PENDING,  /* to be launched on the next fitting offer */
	SLOT_LAUNCHED, /* launched, not running yet */
	SLOT_RUNNING,
	SLOT_RETIRED, /* beyond the workers of a rebalance or killed: not relaunched */
};

/* One worker of the topology: the task that runs it now (generation gen). */
struct slot {
	enum slot_state state;
	int gen;
	char task_id[128];
	char agent_id[128];
	char address[64]; /* "ip:port" of its libactor runtime, "" until it reported */
	int64_t pid;      /* its OS pid, as it reported */
	uint64_t epoch;   /* the assignment epoch it reported */
	int64_t last_heartbeat_ms;
	json_t *tasks; /* its latest metrics (owned) */
};

struct nimbus {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool done;
	char name[64];
	char master[256];
	char dir[512];       /* <state-dir>/<name> */
	char resources[256]; /* of each worker task */
	double failover_timeout;
	struct stm_topology *topo;
	const char **conf_keys, **conf_values; /* as submitted, for workers */
	int nconf;
	px_scheduler_driver *driver;
	char framework_id[128];
	bool registered;
	bool suppressed;
	int nworkers;
	int nslots; /* >= nworkers: retired slots stay until their task ends */
	struct slot slots[STM_MAX_WORKERS];
	uint64_t epoch;
	bool started; /* every worker reported once: assignments are sent */
	bool active;  /* every worker ran the first assignment: spouts emit */
	bool killing;
	int64_t relaunches;
	char http[64]; /* "ip:port" of this nimbus's HTTP server */
};

/* ---- nimbus.c ---- */
/* Sends the current assignment to every running worker (lock held). */
void nimbus_broadcast(struct nimbus *n);
/* Starts killing the topology: every worker task is killed, then the nimbus ends
 * (lock held). */
void nimbus_kill(struct nimbus *n);
/* Changes the number of workers (lock held). 0, or -1 when n is out of range. */
int nimbus_rebalance(struct nimbus *n, int workers);
/* Asks for offers again if a slot is pending (lock held). */
void nimbus_want_offers(struct nimbus *n);

/* ---- nimbus_state.c ---- */
/* Writes the state file (lock held). Errors are logged. */
void nimbus_state_save(struct nimbus *n);
/* Reads the state file if there is one: 1 when it was read, 0 when there is none, -1
 * when it is unreadable (err says why). */
int nimbus_state_load(struct nimbus *n, char *err, size_t errlen);
/* Removes the state file (the topology was killed). */
void nimbus_state_remove(struct nimbus *n);
/* Worker slot and generation of a task id of this topology; false when it is not one. */
bool nimbus_parse_task_id(const struct nimbus *n, const char *task_id, int *slot, int *gen);
void nimbus_task_id(const struct nimbus *n, int slot, int gen, char *out, size_t size);

/* ---- nimbus_http.c ---- */
/* The nimbus's view as JSON (lock held): topology, workers, per task and component
 * metrics. New reference. */
json_t *nimbus_state_json(struct nimbus *n);
/* Spawns the nimbus's HTTP actor ("storm"): GET /storm/state, POST /storm/kill,
 * POST /storm/rebalance?workers=N. 0 or an actor error. */
int nimbus_http_start(struct nimbus *n);

#endif
