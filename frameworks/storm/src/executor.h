/* executor.h — one task of a component (a spout, a bolt, a window or an acker) as an
 * actor of its worker ("stm-t<task>").
 *
 * The executor runs the component's code, routes what it emits by the subscriptions'
 * groupings, keeps the ack bookkeeping (a spout's pending table, a bolt's xor of the
 * edges it anchored, an acker's ledger) and sends every record it produced in one
 * "stm.batch" message per destination task at the end of each turn: a batch to a task
 * of the same worker is a local actor message and never touches a socket. */
#ifndef STM_EXECUTOR_H
#define STM_EXECUTOR_H

#include <actor/pid.h>

#include "metrics.h"
#include "routing.h"
#include "topology.h"

/* Spawns the executor of task with the current routing (a reference is taken) and
 * its metrics block (borrowed: it must outlive the executor; the worker keeps them).
 * The executor opens or prepares its code inside its actor. 0 and *out, or an
 * actor error. */
int stm_executor_spawn(const struct stm_topology *topo, int task, struct stm_routing *routing,
                       struct stm_metrics *metrics, actor_pid *out);

/* Hands the executor a new routing table (a reference is taken). Asynchronous. */
void stm_executor_set_routing(actor_pid executor, struct stm_routing *routing);

#endif
