/* cas_gossip.h — membership: what every node knows of every node, spread by gossip,
 * and the phi-accrual failure detector (Hayashibara et al., as Cassandra uses it).
 *
 * Each node's state has a generation (its start time: a restart supersedes everything
 * older) and a heartbeat version it bumps every round; a state with a higher
 * (generation, version) replaces an older one. Every gossip round a node sends all
 * states it knows to one random live peer, sometimes to a dead one, and to a seed.
 * Arrivals of a newer heartbeat feed the detector: phi = (time since the last one /
 * mean interval) * log10(e); a node whose phi passes the threshold is down until a
 * newer heartbeat arrives. */
#ifndef CAS_GOSSIP_H
#define CAS_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <actor/pid.h>

#include "cas_buf.h"
#include "cas_ring.h"

#define CAS_FD_WINDOW 100

typedef struct cas_member {
	char addr[48]; /* "ip:port": the node's name */
	actor_pid pid; /* cas@ip:port */
	uint64_t generation, version, load;
	int64_t *tokens;
	size_t ntokens;
	/* local failure detection */
	int64_t last_ms;
	double intervals[CAS_FD_WINDOW];
	int nint, next;
	bool up;
} cas_member;

typedef struct cas_gossip {
	cas_member *v; /* v[0] is this node */
	size_t n;
	double phi_threshold;
	int64_t interval_ms;
	cas_ring ring; /* rebuilt whenever tokens change */
} cas_gossip;

/* Sets up membership with this node's own state. -1 on bad addr or out of memory. */
int cas_gossip_init(cas_gossip *g, const char *addr, uint64_t generation, const int64_t *tokens,
                    size_t ntokens, double phi_threshold, int64_t interval_ms);
void cas_gossip_fini(cas_gossip *g);

/* Adds a seed (address only, no state yet). */
int cas_gossip_add_seed(cas_gossip *g, const char *addr);

/* Encodes every known state (with tokens) for a gossip message. */
void cas_gossip_encode(const cas_gossip *g, cas_wbuf *w);
/* Merges a received gossip message at now_ms. Returns 1 when the ring changed, 0 when
 * not, -1 for a malformed message (nothing merged). */
int cas_gossip_merge(cas_gossip *g, cas_rbuf *r, int64_t now_ms);

/* Marks nodes down whose phi passed the threshold; returns how many changed state. */
int cas_gossip_check(cas_gossip *g, int64_t now_ms);
double cas_gossip_phi(const cas_member *m, int64_t now_ms);

/* Index of a member by address, -1 if unknown. */
int cas_gossip_find(const cas_gossip *g, const char *addr);

/* One round's targets: up to 3 member indexes (never 0, this node). */
size_t cas_gossip_targets(const cas_gossip *g, const char *const *seeds, size_t nseeds, int *out);

#endif
