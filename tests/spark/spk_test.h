/* spk_test.h — what the spark tests share: a real `plexus local` cluster on 127.0.0.1
 * with free ports (started per test, killed with everything it left at the end), a
 * small HTTP GET, and the executors of this test's driver as OS processes.
 *
 * A test binary is a job binary: its functions are registered and spk_main is called
 * from a constructor (SPK_TEST_BOOT), so that the binary, started by an agent as an
 * executor, becomes one before Criterion's main runs. */
#ifndef TESTS_SPARK_SPK_TEST_H
#define TESTS_SPARK_SPK_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <spark/spark.h>

/* Runs register_fns() and spk_main before main (glibc passes argc/argv to ELF
 * constructors). */
#define SPK_TEST_BOOT(register_fns)                                                                \
	__attribute__((constructor)) static void spk_test_boot(int argc, char **argv)              \
	{                                                                                          \
		register_fns();                                                                    \
		spk_main(argc, argv);                                                              \
	}

struct spk_cluster {
	pid_t local; /* plexus local, or the master of a cluster of separate processes */
	pid_t agents[4];
	int nagents; /* separate agent processes */
	int port;
	char master[64];
	char dir[256];
};

/* Starts `plexus local` with nagents agents of resources each and waits until the
 * master lists them all (asserts on failure). */
void spk_cluster_start(struct spk_cluster *c, int nagents, const char *resources);
/* A master and nagents agents as separate processes (so that one agent can be killed),
 * agents lost after 6 missed pings 500 ms apart. */
void spk_cluster_start_separate(struct spk_cluster *c, int nagents, const char *resources);
/* Kills the cluster and every process it left (executors), removes its directory. */
void spk_cluster_stop(struct spk_cluster *c);

/* A context on the cluster with test-friendly settings (2 cores per executor, quick
 * release of idle executors when idle_ms > 0). Asserts it starts. */
spk_context *spk_test_context(struct spk_cluster *c, int64_t idle_ms);

/* GET http://127.0.0.1:port/path: the status (0 unreachable), body malloc'ed. */
int spk_http_get(int port, const char *path, char **body);

/* The OS pid of the executor whose Mesos task id is exec_id, or -1. */
pid_t spk_executor_pid_of(const char *exec_id);

/* Polls pred every 10 ms for up to timeout_ms. */
bool spk_wait(int timeout_ms, bool (*pred)(void *arg), void *arg);

#endif
