/* cas_node.h — a database node: one actor ("cas") that is a replica (storage, commit
 * log, group commit), a coordinator for any client request (replication to the
 * SimpleStrategy replicas at the requested consistency, read repair, hints), and a
 * gossip member. It runs in an OS process whose libactor runtime listens on the node's
 * address. */
#ifndef CAS_NODE_H
#define CAS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_store.h"

typedef struct cas_node_opts {
	const char *data_dir;   /* the node's volume: commit log, tables, tokens, hints */
	const char *seeds;      /* "ip:port,ip:port" of other nodes (may be NULL or empty) */
	int num_tokens;         /* virtual nodes on first start; 0 = 16 */
	double phi_threshold;   /* failure detector conviction level; 0 = 8 */
	int64_t gossip_ms;      /* gossip interval; 0 = 200 */
	bool periodic_sync;     /* commitlog_sync: periodic instead of batch (the default) */
	int64_t sync_period_ms; /* under periodic; 0 = 10000 */
	int64_t timeout_ms;     /* replica request timeout; 0 = 2000 */
	cas_store_opts store;
} cas_node_opts;

void cas_node_opts_default(cas_node_opts *o);

typedef struct cas_node cas_node;

/* Opens the node's storage (replaying its commit log), loads or chooses its tokens and
 * spawns its actor. The runtime must be listening: the node's address is the
 * runtime's ip:port. NULL with err on failure. */
cas_node *cas_node_start(const cas_node_opts *opts, char *err, size_t errlen);
/* Ends the actor, syncs and closes the storage. NULL is a no-op. */
void cas_node_stop(cas_node *n);

#endif
