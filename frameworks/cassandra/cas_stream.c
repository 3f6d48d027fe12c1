/* cas_stream.c — bootstrap streaming. A node that starts for the first time (its tokens
 * just chosen) and has seeds asks every node it has heard of, once gossip has shown it
 * the ring, to stream it the data it now replicates (CAS_MSG_STREAM_REQ, body: its
 * tokens). Each asked node walks its storage and, for every partition of which the new
 * node is now a replica (by the ring including the new node's tokens, at the
 * keyspace's replication factor), sends the cells as ordinary mutations. Local-only
 * data (hints) is never streamed. The new node serves while it streams (there is no
 * JOINING state): a QUORUM read in that window still meets a replica that has the data
 * and read repair fills the new one in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/log.h>

#include "cas_node_internal.h"

struct streamer {
	struct cas_node *n;
	cas_ring ring;  /* this node's ring plus the newcomer */
	int target;     /* member index of the newcomer */
	cas_wbuf batch; /* the cells of the current partition */
	uint8_t *part;
	size_t plen;
	uint32_t count;
	bool wanted;
	size_t sent, partitions;
};

static void flush_batch(struct streamer *s)
{
	if (s->part && s->count > 0 && s->wanted) {
		cas_wbuf w = {0};
		cas_put_u64(&w, 0); /* an id nobody waits for: the acknowledgement is dropped */
		cas_put_bytes(&w, s->part, s->plen);
		cas_put_u32(&w, s->count);
		cas_put_raw(&w, s->batch.data, s->batch.len);
		cas_node_send(s->n, s->target, CAS_MSG_MUTATE, &w);
		cas_wbuf_fini(&w);
		s->sent += s->count;
		s->partitions++;
	}
	cas_wbuf_fini(&s->batch);
	s->count = 0;
}

/* Whether the newcomer replicates this partition. */
static bool wanted(struct streamer *s, const uint8_t *part, size_t plen)
{
	const char *table;
	size_t tlen, klen;
	const uint8_t *key;
	if (!cas_partition_split(part, plen, &table, &tlen, &key, &klen) ||
	    (tlen == 12 && memcmp(table, "system.hints", 12) == 0))
		return false;
	int rf = cas_node_rf(s->n, part, plen);
	if (rf <= 0)
		return false;
	int reps[CAS_MAX_RF + 64];
	size_t want = (size_t)(rf > CAS_MAX_RF + 63 ? CAS_MAX_RF + 63 : rf);
	size_t k = cas_ring_replicas(&s->ring, cas_partition_token(part, plen), want, reps);
	for (size_t i = 0; i < k; i++)
		if (reps[i] == s->target)
			return true;
	return false;
}

static void each_cell(const cas_cell *c, void *arg)
{
	struct streamer *s = arg;
	const uint8_t *part;
	size_t plen;
	if (!cas_key_partition(CAS_CELL_KEY(c), c->klen, &part, &plen))
		return;
	if (s->part == NULL || s->plen != plen || memcmp(s->part, part, plen) != 0 ||
	    s->count >= 512) {
		flush_batch(s);
		free(s->part);
		s->part = malloc(plen);
		if (s->part == NULL)
			return;
		memcpy(s->part, part, plen);
		s->plen = plen;
		s->wanted = wanted(s, part, plen);
	}
	if (s->wanted) {
		cas_cell_encode(&s->batch, c);
		s->count++;
	}
}

static void on_stream_req(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	char addr[64];
	uint32_t ip = msg->from.ip;
	snprintf(addr, sizeof(addr), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
	         ip & 255, msg->from.port);
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint32_t nt = cas_get_u32(&r);
	if (r.bad || nt == 0 || nt > 4096 || (size_t)nt * 8 != r.left) {
		actor_warn("cassandra: malformed stream request from %s dropped", addr);
		return;
	}
	int target = cas_gossip_find(&n->g, addr);
	if (target < 0 && cas_gossip_add_seed(&n->g, addr) == 0)
		target = cas_gossip_find(&n->g, addr);
	if (target <= 0)
		return;
	struct streamer s = {.n = n, .target = target};
	int64_t *tokens = malloc(nt * sizeof(*tokens));
	if (tokens == NULL)
		return;
	for (uint32_t i = 0; i < nt; i++)
		tokens[i] = (int64_t)cas_get_u64(&r);
	for (size_t i = 0; i < n->g.n; i++)
		if ((int)i != target)
			cas_ring_add(&s.ring, (int)i, n->g.v[i].tokens, n->g.v[i].ntokens);
	cas_ring_add(&s.ring, target, tokens, nt);
	cas_ring_sort(&s.ring);
	free(tokens);
	cas_store_each(n->store, each_cell, &s);
	flush_batch(&s);
	free(s.part);
	cas_ring_fini(&s.ring);
	actor_info("cassandra: streamed %zu cells of %zu partitions to the new node %s", s.sent,
	           s.partitions, addr);
}

void cas_stream_install(struct cas_node *n)
{
	actor_install(n->self, CAS_MSG_STREAM_REQ, on_stream_req, n);
}

void cas_stream_request(struct cas_node *n)
{
	cas_wbuf w = {0};
	const cas_member *me = &n->g.v[0];
	cas_put_u32(&w, (uint32_t)me->ntokens);
	for (size_t i = 0; i < me->ntokens; i++)
		cas_put_u64(&w, (uint64_t)me->tokens[i]);
	size_t asked = 0;
	for (size_t i = 1; i < n->g.n; i++) {
		if (n->g.v[i].ntokens == 0)
			continue;
		cas_node_send(n, (int)i, CAS_MSG_STREAM_REQ, &w);
		asked++;
	}
	cas_wbuf_fini(&w);
	actor_info("cassandra: bootstrapping: asked %zu nodes to stream our ranges", asked);
}
