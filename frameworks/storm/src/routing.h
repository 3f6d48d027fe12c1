/* routing.h — where every task of the topology runs now: the assignment the nimbus
 * sent (an epoch, the workers' addresses), turned into one PID per task.
 *
 * A table is immutable once built and reference-counted: the worker builds a new one
 * for every assignment and hands a reference to each of its executors, which may run
 * on any thread. */
#ifndef STM_ROUTING_H
#define STM_ROUTING_H

#include <stdbool.h>
#include <stdint.h>

#include <actor/pid.h>

#include "topology.h"

#define STM_MAX_WORKERS 64

struct stm_routing {
	int refs;
	uint64_t epoch;
	int nworkers;
	int self; /* this worker's index */
	int ntasks;
	bool active;     /* spouts emit only once every worker runs its tasks */
	actor_pid *pids; /* per task; actor_pid_none when its worker is not up */
};

/* Builds the table of an assignment: addresses[i] is "ip:port" of worker i or "" when
 * it is not up. NULL on out of memory. The caller holds the one reference. */
struct stm_routing *stm_routing_alloc(const struct stm_topology *topo, uint64_t epoch, int nworkers,
                                      const char *const *addresses, int self, bool active);
struct stm_routing *stm_routing_ref(struct stm_routing *r);
/* Drops a reference; NULL is a no-op. */
void stm_routing_unref(struct stm_routing *r);

/* The id of the actor that runs task in its worker ("stm-t12"). */
void stm_task_actor_id(int task, char *out, size_t size);

static inline bool stm_routing_local(const struct stm_routing *r, int task)
{
	return stm_task_worker(task, r->nworkers) == r->self;
}

#endif
