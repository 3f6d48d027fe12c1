/* worker.h — a worker: the topology program run by the agent with --stm-worker, as a
 * long-running task of its own executor.
 *
 * The task's data (JSON: topology, worker index, configuration) says which worker it
 * is; the worker builds the topology from the program, reports to the nimbus with
 * heartbeats (framework messages: its address, its assignment epoch, its tasks'
 * metrics) and runs the executors of the tasks the nimbus's latest assignment gives
 * it. An agent that goes away ends the worker (the nimbus starts another). */
#ifndef STM_WORKER_H
#define STM_WORKER_H

#include "storm/storm.h"

/* Runs a worker until its task is killed or its agent is lost; the exit status. */
int stm_worker_main(stm_build_fn build, void *arg);

#endif
