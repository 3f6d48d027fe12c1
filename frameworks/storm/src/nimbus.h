/* nimbus.h — the topology's scheduler, as Storm's nimbus on Mesos: a framework on the
 * scheduler driver that runs each worker as a long-running task (the topology program
 * itself, in worker mode, as its own executor), spread over agents; assigns the tasks
 * of the topology to the workers; relaunches a worker whose task ends or whose agent
 * is lost and gives it back its tasks; and serves its state and metrics over HTTP.
 *
 * Its state (framework id, assignment, workers' tasks and addresses) is kept in
 * <state-dir>/<name>/nimbus.json, so that a nimbus started again with the same name
 * fails over to the same framework and keeps the workers that still run. */
#ifndef STM_NIMBUS_H
#define STM_NIMBUS_H

#include "storm/storm.h"

/* Runs the nimbus with the program's argv (after the mode flag); the exit status. */
int stm_nimbus_main(int argc, char **argv, stm_build_fn build, void *arg);

#endif
