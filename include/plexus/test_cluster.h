/* test_cluster.h — a whole cluster inside a test's process, as Mesos's tests start
 * theirs: one call brings up a master and N agents, so a framework's distributed
 * integration test is a few lines.
 *
 *     px_test_cluster *c = px_test_cluster_start(NULL, err, sizeof(err));
 *     px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, NULL, &fw,
 *                                                        px_test_cluster_master(c), NULL);
 *     ... run the framework, assert what it saw ...
 *     px_test_cluster_stop(c);
 *
 * The master and agents are real (the same actors as `plexus master` and `plexus
 * agent`); tasks run as real child processes through the command executor. The
 * runtime's clock drives every timer of theirs, so a test may pause it (after start)
 * and advance it: offers, pings, timeouts and retries then move only when the test says.
 * Call these from the test's thread, never from inside an actor. */
#ifndef PLEXUS_TEST_CLUSTER_H
#define PLEXUS_TEST_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct px_test_cluster px_test_cluster;

typedef struct px_test_cluster_options {
	int agents;             /* how many (1 to 64); 0 = 1 */
	const char *resources;  /* each agent's; NULL = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]" */
	const char *attributes; /* each agent's, e.g. "rack:a"; NULL = none */
	const char *work_dir;   /* NULL = a new directory under $TMPDIR (or /tmp), removed by stop */
	const char *isolation;  /* NULL = "posix/cpu,posix/mem" (no cgroups needed), or the
	                           agent's --isolation, e.g. "cgroups/cpu,cgroups/mem" */
	int64_t allocation_interval_ms; /* 0 = 100 (Mesos's tests use short intervals too) */
	int64_t wait_ms;        /* how long start waits for every agent to register; 0 = 30000 */
	const char *executor_path; /* the command executor; NULL = $PLEXUS_EXECUTOR_PATH, else the
	                              plexus-executor of this build or of the installation */
} px_test_cluster_options;

/* Fills o with the defaults above. */
void px_test_cluster_options_default(px_test_cluster_options *o);

/* Starts a master and the agents in this process and waits until every agent has
 * registered. The libactor runtime is started (listening) if it is not running; one
 * that runs must listen, since executors are other processes. opts NULL = defaults.
 * Returns NULL with err (errlen bytes, may be NULL) saying why on failure; nothing is
 * left running then. */
px_test_cluster *px_test_cluster_start(const px_test_cluster_options *opts, char *err,
                                       size_t errlen);

/* The master's PID as text ("master@127.0.0.1:41234"): the `master` argument of
 * px_scheduler_driver_alloc. Valid until stop. */
const char *px_test_cluster_master(const px_test_cluster *c);

/* The agents' count, and agent i's PID as text ("slave(1)@127.0.0.1:41234"). */
int px_test_cluster_agents(const px_test_cluster *c);
const char *px_test_cluster_agent(const px_test_cluster *c, int i);

/* Stops agent i as an agent that shuts down does: its executors are killed and the
 * master sees the agent go (its tasks become LOST once the master notices). 0, or -1 if
 * i is not a running agent. */
int px_test_cluster_stop_agent(px_test_cluster *c, int i);

/* Stops the agents, then the master, removes the work directory it made, and ends the
 * runtime if start began it. NULL is a no-op. */
void px_test_cluster_stop(px_test_cluster *c);

#ifdef __cplusplus
}
#endif

#endif
