/* cas_harness.h — what the cassandra tests share: a scratch directory, free ports,
 * child processes (nodes, `plexus local`, the scheduler) that are always killed at the
 * end, a client runtime in the test process, and waiting with deadlines. */
#ifndef CAS_HARNESS_H
#define CAS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cas_client.h"

/* Scratch directory and bookkeeping; call from each test's init. */
void ch_init(void);
/* Kills every process started (SIGKILL), removes the scratch directory, stops the
 * runtime if ch_runtime_start ran. */
void ch_fini(void);
const char *ch_dir(void);
/* A free TCP port on 127.0.0.1 (and, when span > 1, the span ports after it). */
int ch_free_port(int span);

/* Starts argv (NULL-terminated) with stdout+stderr in <scratch>/<name>.log. */
pid_t ch_spawn(const char *name, const char *const *argv);
/* Sends sig and, for SIGKILL, reaps. */
void ch_kill(pid_t pid, int sig);
/* Waits up to ms for pid to exit; false on timeout. */
bool ch_wait_exit(pid_t pid, int ms, int *status);
/* Runs argv to completion (bounded by ms) with stdin from the text in input (may be
 * NULL); stdout into *out (malloc'ed) and the exit status returned (-1 on timeout). */
int ch_run(const char *const *argv, const char *input, char **out, int ms);

/* The test process's runtime, listening (nodes answer clients by message). */
void ch_runtime_start(void);

/* Starts node i of a standalone ring on port with its data in <scratch>/node<i>,
 * seeds given ("ip:port,..."), fast gossip and failure detection for tests. */
pid_t ch_node_start(int i, int port, const char *seeds);

/* Polls pred(arg) every 50 ms until true or ms passed. */
bool ch_wait(int ms, bool (*pred)(void *arg), void *arg);

/* Waits until the client's view of the ring (asked of node) has n nodes up. */
bool ch_wait_ring(cas_client *c, const char *node, size_t n, int ms);
/* Waits until node reports the node addr down (true) or up (false). */
bool ch_wait_node_state(cas_client *c, const char *node, const char *addr, bool up, int ms);

/* Runs one CQL statement at QUORUM through a fresh session, asserting success. */
void ch_cql(cas_client *c, const char *cql);

#endif
