/* cas_node_internal.h — the node actor's state, shared by its files: cas_node.c (the
 * actor, the replica side, group commit, gossip), cas_coord.c (coordinating client
 * requests) and cas_hints.c (hinted handoff). Only the node's own actor touches it. */
#ifndef CAS_NODE_INTERNAL_H
#define CAS_NODE_INTERNAL_H

#include <actor/actor.h>

#include "cas_cell.h"
#include "cas_gossip.h"
#include "cas_node.h"
#include "cas_proto.h"
#include "cas_store.h"

#define CAS_MAX_RF 16
#define CAS_PENDING_SLOTS 4096

struct cas_ack {
	actor_pid to;
	uint64_t id;
	bool ok;
};

enum cas_pending_kind { CAS_P_WRITE, CAS_P_READ, CAS_P_HINT };

/* One request in flight at the coordinator. */
struct cas_pending {
	uint64_t id;
	enum cas_pending_kind kind;
	actor_pid client;
	uint64_t client_id;
	cas_consistency cl;
	int blockfor;
	int replicas[CAS_MAX_RF]; /* member indexes */
	bool contacted[CAS_MAX_RF], answered[CAS_MAX_RF], repairing[CAS_MAX_RF];
	cas_cells got[CAS_MAX_RF]; /* read: each replica's answer */
	size_t nrep;
	int acks, repairs;
	bool responded;
	uint8_t *part;
	size_t plen;
	cas_cells cells; /* write: the mutation; read: the merged answer */
	uint8_t *hint_key; /* hint replay: the hint cell to delete once acknowledged */
	size_t hint_klen;
	uint64_t timer;
	struct cas_pending *next;
};

struct cas_node {
	cas_node_opts opts;
	char *data_dir;
	char addr[48];
	actor_pid pid;
	actor_t *self;
	cas_store *store;
	cas_gossip g;
	char **seeds;
	size_t nseeds;
	uint64_t next_id;
	struct cas_pending *slots[CAS_PENDING_SLOTS];
	struct cas_ack *acks; /* acknowledgements waiting for the next commit log sync */
	size_t nacks, capacks;
	bool sync_armed;
	uint64_t hint_seq;
	bool bootstrap;     /* first start with seeds: stream once the ring is known */
	int bootstrap_wait; /* gossip rounds since the first other node was heard of */
	int *hints_inflight; /* per member index: hints sent and not yet acknowledged */
	size_t nhints_inflight;
	struct {
		char ks[64];
		int rf;
	} rf_cache[16];
	size_t nrf_cache;
};

/* cas_node.c */
int64_t cas_node_now_ms(void);
/* Sends a message to member index m (local or remote alike). */
void cas_node_send(struct cas_node *n, int m, const char *name, const cas_wbuf *w);
/* Applies a mutation locally and queues (to, id) for acknowledgement after the next
 * sync (batch) or at once (periodic). */
void cas_node_apply(struct cas_node *n, const uint8_t *part, size_t plen, const cas_cells *cells,
                    actor_pid to, uint64_t id);
/* The replication factor of the keyspace of a partition (all nodes for "system"),
 * 0 when unknown. */
int cas_node_rf(struct cas_node *n, const uint8_t *part, size_t plen);
void cas_node_forget_schema(struct cas_node *n);

/* cas_coord.c */
void cas_coord_install(struct cas_node *n);
struct cas_pending *cas_pending_new(struct cas_node *n, enum cas_pending_kind kind);
struct cas_pending *cas_pending_find(struct cas_node *n, uint64_t id);
void cas_pending_free(struct cas_node *n, struct cas_pending *p);
/* Arms the request timeout of p (its expiry ends p like a missing answer). */
void cas_coord_arm(struct cas_node *n, struct cas_pending *p);

/* cas_stream.c */
void cas_stream_install(struct cas_node *n);
/* Asks every node known with tokens to stream this node the data it now replicates. */
void cas_stream_request(struct cas_node *n);

/* cas_hints.c */
/* Stores a hint: the mutation for member m, replayed when it is up again. */
void cas_hints_store(struct cas_node *n, int m, const uint8_t *part, size_t plen,
                     const cas_cells *cells);
/* Replays stored hints to members that are up (called every gossip round). */
void cas_hints_replay(struct cas_node *n);
/* A replayed hint was acknowledged: delete it. */
void cas_hints_delivered(struct cas_node *n, struct cas_pending *p, bool ok);

#endif
