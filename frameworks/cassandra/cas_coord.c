/* cas_coord.c — coordinating client requests: any node takes a client's read or write,
 * sends it to the partition's replicas, answers once the consistency level is met,
 * repairs replicas whose answer differs (read repair) and leaves hints for replicas
 * that are down or did not answer (hinted handoff). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/log.h>

#include "cas_node_internal.h"

struct cas_pending *cas_pending_new(struct cas_node *n, enum cas_pending_kind kind)
{
	struct cas_pending *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->id = ++n->next_id;
	p->kind = kind;
	size_t slot = p->id % CAS_PENDING_SLOTS;
	p->next = n->slots[slot];
	n->slots[slot] = p;
	return p;
}

struct cas_pending *cas_pending_find(struct cas_node *n, uint64_t id)
{
	for (struct cas_pending *p = n->slots[id % CAS_PENDING_SLOTS]; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

void cas_pending_free(struct cas_node *n, struct cas_pending *p)
{
	struct cas_pending **pp = &n->slots[p->id % CAS_PENDING_SLOTS];
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (p->timer && n->self)
		actor_cancel(n->self, p->timer);
	for (size_t i = 0; i < CAS_MAX_RF; i++)
		cas_cells_fini(&p->got[i]);
	cas_cells_fini(&p->cells);
	free(p->part);
	free(p->hint_key);
	free(p);
}

/* ---- answering the client --------------------------------------------------------- */

static void respond(struct cas_node *n, actor_pid client, uint64_t id, int status,
                    const char *message, const cas_cells *cells)
{
	cas_wbuf w = {0};
	cas_put_u64(&w, id);
	cas_put_u8(&w, (uint8_t)status);
	cas_put_str(&w, message ? message : "");
	if (cells)
		cas_cells_encode(&w, cells);
	if (!w.oom)
		actor_send(n->self, client, CAS_MSG_RESULT, w.data, w.len);
	else
		actor_error("cassandra: out of memory answering %s", actor_pid_str(client));
	cas_wbuf_fini(&w);
}

static void respond_pending(struct cas_node *n, struct cas_pending *p, int status,
                            const char *message)
{
	if (p->responded)
		return;
	p->responded = true;
	respond(n, p->client, p->client_id, status, message,
	        p->kind == CAS_P_READ && status == CAS_OK ? &p->cells : NULL);
}

/* ---- replicas of a partition ------------------------------------------------------ */

/* Fills p->replicas; returns the replication factor (0: unknown keyspace) and sets
 * *live to how many replicas are up. */
static int place(struct cas_node *n, struct cas_pending *p, int *live)
{
	int rf = cas_node_rf(n, p->part, p->plen);
	if (rf <= 0)
		return 0;
	size_t want = rf > CAS_MAX_RF ? CAS_MAX_RF : (size_t)rf;
	int64_t token = cas_partition_token(p->part, p->plen);
	p->nrep = cas_ring_replicas(&n->g.ring, token, want, p->replicas);
	/* This node first when it is a replica: its answer costs no network. */
	for (size_t i = 1; i < p->nrep; i++) {
		if (p->replicas[i] == 0) {
			p->replicas[i] = p->replicas[0];
			p->replicas[0] = 0;
		}
	}
	*live = 0;
	for (size_t i = 0; i < p->nrep; i++)
		*live += n->g.v[p->replicas[i]].up;
	return rf;
}

static int replica_of(struct cas_node *n, struct cas_pending *p, actor_pid from)
{
	for (size_t i = 0; i < p->nrep; i++)
		if (actor_pid_equal(n->g.v[p->replicas[i]].pid, from))
			return (int)i;
	return -1;
}

static void send_mutate(struct cas_node *n, int member, uint64_t id, const uint8_t *part,
                        size_t plen, const cas_cells *cells)
{
	cas_wbuf w = {0};
	cas_put_u64(&w, id);
	cas_put_bytes(&w, part, plen);
	cas_cells_encode(&w, cells);
	cas_node_send(n, member, CAS_MSG_MUTATE, &w);
	cas_wbuf_fini(&w);
}

static void timeout_cb(actor_t *self, void *arg);

void cas_coord_arm(struct cas_node *n, struct cas_pending *p)
{
	p->timer = actor_delay(n->self, n->opts.timeout_ms, timeout_cb, p);
}

/* Decodes the common head of a client request: id, consistency, partition. */
static bool decode_request(cas_rbuf *r, uint64_t *id, cas_consistency *cl, const uint8_t **part,
                           size_t *plen)
{
	*id = cas_get_u64(r);
	uint8_t c = cas_get_u8(r);
	*part = cas_get_bytes(r, plen);
	*cl = (cas_consistency)c;
	return !r->bad;
}

static const char *check_request(cas_consistency cl, const uint8_t *part, size_t plen)
{
	const char *t;
	size_t tl, kl;
	const uint8_t *k;
	if (cl != CAS_ONE && cl != CAS_QUORUM && cl != CAS_ALL)
		return "unknown consistency level";
	if (plen == 0 || plen > CAS_PARTITION_MAX || !cas_partition_split(part, plen, &t, &tl, &k, &kl))
		return "malformed partition";
	return NULL;
}

/* ---- writes ------------------------------------------------------------------------- */

static void on_write(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id;
	cas_consistency cl;
	const uint8_t *part;
	size_t plen;
	if (!decode_request(&r, &id, &cl, &part, &plen)) {
		actor_warn("cassandra: malformed write from %s dropped", actor_pid_str(msg->from));
		return;
	}
	const char *bad = check_request(cl, part, plen);
	struct cas_pending *p = bad ? NULL : cas_pending_new(n, CAS_P_WRITE);
	if (bad == NULL && p == NULL)
		bad = "out of memory";
	if (bad == NULL && (cas_cells_decode(&r, &p->cells) != 0 || p->cells.n == 0))
		bad = "malformed cells";
	if (bad == NULL) {
		for (size_t i = 0; i < p->cells.n && bad == NULL; i++) {
			const uint8_t *cp;
			size_t cpl;
			const cas_cell *c = p->cells.v[i];
			if (!cas_key_partition(CAS_CELL_KEY(c), c->klen, &cp, &cpl) || cpl != plen ||
			    memcmp(cp, part, plen) != 0)
				bad = "a cell outside the request's partition";
		}
	}
	if (bad != NULL) {
		actor_warn("cassandra: write from %s refused: %s", actor_pid_str(msg->from), bad);
		respond(n, msg->from, id, CAS_INVALID, bad, NULL);
		if (p)
			cas_pending_free(n, p);
		return;
	}
	p->client = msg->from;
	p->client_id = id;
	p->cl = cl;
	p->part = malloc(plen);
	if (p->part == NULL) {
		respond(n, msg->from, id, CAS_ERROR, "out of memory", NULL);
		cas_pending_free(n, p);
		return;
	}
	memcpy(p->part, part, plen);
	p->plen = plen;
	int live, rf = place(n, p, &live);
	if (rf == 0) {
		respond(n, msg->from, id, CAS_NO_KEYSPACE, "unknown keyspace", NULL);
		cas_pending_free(n, p);
		return;
	}
	p->blockfor = cas_consistency_blockfor(cl, rf);
	if (live < p->blockfor) {
		char why[128];
		snprintf(why, sizeof(why), "Cannot achieve consistency level %s: %d of %d needed replicas are alive",
		         cas_consistency_name(cl), live, p->blockfor);
		respond(n, msg->from, id, CAS_UNAVAILABLE, why, NULL);
		cas_pending_free(n, p);
		return;
	}
	for (size_t i = 0; i < p->nrep; i++) {
		int m = p->replicas[i];
		if (n->g.v[m].up) {
			p->contacted[i] = true;
			send_mutate(n, m, p->id, p->part, p->plen, &p->cells);
		} else {
			cas_hints_store(n, m, p->part, p->plen, &p->cells);
		}
	}
	cas_coord_arm(n, p);
}

static bool all_answered(const struct cas_pending *p)
{
	for (size_t i = 0; i < p->nrep; i++)
		if (p->contacted[i] && !p->answered[i])
			return false;
	return true;
}

/* ---- reads -------------------------------------------------------------------------- */

static void send_fetch(struct cas_node *n, int member, struct cas_pending *p)
{
	cas_wbuf w = {0};
	cas_put_u64(&w, p->id);
	cas_put_bytes(&w, p->part, p->plen);
	cas_node_send(n, member, CAS_MSG_FETCH, &w);
	cas_wbuf_fini(&w);
}

static void on_read(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id;
	cas_consistency cl;
	const uint8_t *part;
	size_t plen;
	if (!decode_request(&r, &id, &cl, &part, &plen)) {
		actor_warn("cassandra: malformed read from %s dropped", actor_pid_str(msg->from));
		return;
	}
	const char *bad = check_request(cl, part, plen);
	struct cas_pending *p = bad ? NULL : cas_pending_new(n, CAS_P_READ);
	if (bad == NULL && (p == NULL || (p->part = malloc(plen)) == NULL))
		bad = "out of memory";
	if (bad != NULL) {
		respond(n, msg->from, id, CAS_INVALID, bad, NULL);
		if (p)
			cas_pending_free(n, p);
		return;
	}
	p->client = msg->from;
	p->client_id = id;
	p->cl = cl;
	memcpy(p->part, part, plen);
	p->plen = plen;
	int live, rf = place(n, p, &live);
	if (rf == 0) {
		respond(n, msg->from, id, CAS_NO_KEYSPACE, "unknown keyspace", NULL);
		cas_pending_free(n, p);
		return;
	}
	p->blockfor = cas_consistency_blockfor(cl, rf);
	if (live < p->blockfor) {
		char why[128];
		snprintf(why, sizeof(why), "Cannot achieve consistency level %s: %d of %d needed replicas are alive",
		         cas_consistency_name(cl), live, p->blockfor);
		respond(n, msg->from, id, CAS_UNAVAILABLE, why, NULL);
		cas_pending_free(n, p);
		return;
	}
	/* Every live replica is asked: the first blockfor answers decide, and a replica
	 * that failed unnoticed costs no timeout. Answers are compared by digest. */
	for (size_t i = 0; i < p->nrep; i++) {
		if (n->g.v[p->replicas[i]].up) {
			p->contacted[i] = true;
			send_fetch(n, p->replicas[i], p);
		}
	}
	cas_coord_arm(n, p);
}

/* The cells of merged that replica answer `have` lacks or holds older: its repair. */
static int diff(const cas_cells *merged, const cas_cells *have, cas_cells *out)
{
	size_t j = 0;
	for (size_t i = 0; i < merged->n; i++) {
		const cas_cell *m = merged->v[i];
		int c = 1;
		while (j < have->n &&
		       (c = cas_key_cmp(CAS_CELL_KEY(have->v[j]), have->v[j]->klen, CAS_CELL_KEY(m),
		                        m->klen)) < 0)
			j++;
		if (j >= have->n || c != 0 || cas_cell_supersedes(m, have->v[j]))
			if (cas_cells_push(out, cas_cell_dup(m)) != 0)
				return -1;
	}
	return 0;
}

/* Sends replica i what it misses, if anything; returns whether it did. */
static bool repair(struct cas_node *n, struct cas_pending *p, size_t i)
{
	if (cas_cells_digest(&p->got[i]) == cas_cells_digest(&p->cells))
		return false;
	cas_cells d = {0};
	bool sent = false;
	if (diff(&p->cells, &p->got[i], &d) == 0 && d.n > 0) {
		actor_debug("cassandra: read repair of %zu cells to %s", d.n,
		            n->g.v[p->replicas[i]].addr);
		send_mutate(n, p->replicas[i], p->id, p->part, p->plen, &d);
		p->repairing[i] = true;
		p->repairs++;
		sent = true;
	}
	cas_cells_fini(&d);
	return sent;
}

/* blockfor answers are in: merge them, repair the stale ones, answer when repaired. */
static void resolve(struct cas_node *n, struct cas_pending *p)
{
	for (size_t i = 0; i < p->nrep; i++) {
		if (!p->answered[i])
			continue;
		for (size_t k = 0; k < p->got[i].n; k++)
			if (cas_cells_push(&p->cells, cas_cell_dup(p->got[i].v[k])) != 0) {
				respond_pending(n, p, CAS_ERROR, "out of memory");
				return;
			}
	}
	cas_cells_reconcile(&p->cells);
	for (size_t i = 0; i < p->nrep; i++)
		if (p->answered[i])
			repair(n, p, i);
	if (p->repairs == 0)
		respond_pending(n, p, CAS_OK, NULL);
}

static void on_fetch_reply(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	bool ok = cas_get_u8(&r);
	struct cas_pending *p = r.bad ? NULL : cas_pending_find(n, id);
	if (p == NULL || p->kind != CAS_P_READ)
		return; /* late: the request is over */
	int i = replica_of(n, p, msg->from);
	if (i < 0 || p->answered[i])
		return;
	cas_cells got = {0};
	if (!ok || cas_cells_decode(&r, &got) != 0) {
		cas_cells_fini(&got);
		actor_warn("cassandra: replica %s failed a read", actor_pid_str(msg->from));
		return; /* counted as not answering */
	}
	p->answered[i] = true;
	p->got[i] = got;
	p->acks++;
	if (p->acks == p->blockfor)
		resolve(n, p);
	else if (p->acks > p->blockfor)
		repair(n, p, (size_t)i); /* a late replica: repaired in the background */
	if (p->responded && p->repairs == 0 && all_answered(p))
		cas_pending_free(n, p);
}

/* ---- acknowledgements and timeouts ---------------------------------------------------- */

static void on_mutate_ack(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	bool ok = cas_get_u8(&r);
	struct cas_pending *p = r.bad ? NULL : cas_pending_find(n, id);
	if (p == NULL)
		return;
	if (p->kind == CAS_P_HINT) {
		cas_hints_delivered(n, p, ok);
		return;
	}
	int i = replica_of(n, p, msg->from);
	if (i < 0)
		return;
	if (p->kind == CAS_P_READ) {
		if (p->repairing[i]) {
			p->repairing[i] = false;
			p->repairs--;
			if (p->repairs == 0 && p->acks >= p->blockfor)
				respond_pending(n, p, CAS_OK, NULL);
		}
		if (p->responded && p->repairs == 0 && all_answered(p))
			cas_pending_free(n, p);
		return;
	}
	if (p->answered[i])
		return;
	p->answered[i] = true;
	if (ok)
		p->acks++;
	else
		cas_hints_store(n, p->replicas[i], p->part, p->plen, &p->cells);
	if (p->acks >= p->blockfor)
		respond_pending(n, p, CAS_OK, NULL);
	if (all_answered(p)) {
		if (!p->responded)
			respond_pending(n, p, CAS_ERROR, "replicas failed the write");
		cas_pending_free(n, p);
	}
}

static void timeout_cb(actor_t *self, void *arg)
{
	struct cas_pending *p = arg;
	if (self == NULL)
		return; /* cancelled: p is gone */
	struct cas_node *n = actor_state(self);
	p->timer = 0;
	if (p->kind == CAS_P_WRITE) {
		/* Replicas that did not answer get the mutation later, as a hint. */
		for (size_t i = 0; i < p->nrep; i++)
			if (p->contacted[i] && !p->answered[i])
				cas_hints_store(n, p->replicas[i], p->part, p->plen, &p->cells);
		respond_pending(n, p, CAS_TIMEOUT, "Operation timed out: not enough replicas acknowledged the write");
	} else if (p->kind == CAS_P_READ) {
		if (p->acks >= p->blockfor)
			respond_pending(n, p, CAS_OK, NULL); /* repairs were slow; the data is merged */
		else
			respond_pending(n, p, CAS_TIMEOUT, "Operation timed out: not enough replicas answered the read");
	} else {
		cas_hints_delivered(n, p, false);
		return;
	}
	cas_pending_free(n, p);
}

/* ---- the ring, for clients that route by token ----------------------------------------- */

static void on_ring(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	if (r.bad)
		return;
	cas_wbuf w = {0};
	cas_put_u64(&w, id);
	cas_put_u8(&w, CAS_OK);
	cas_put_str(&w, "");
	uint32_t count = 0;
	for (size_t i = 0; i < n->g.n; i++)
		count += n->g.v[i].ntokens > 0;
	cas_put_u32(&w, count);
	for (size_t i = 0; i < n->g.n; i++) {
		const cas_member *m = &n->g.v[i];
		if (m->ntokens == 0)
			continue;
		cas_put_str(&w, m->addr);
		cas_put_u8(&w, m->up);
		cas_put_u64(&w, i == 0 ? cas_store_load(n->store) : m->load);
		cas_put_u32(&w, (uint32_t)m->ntokens);
		for (size_t t = 0; t < m->ntokens; t++)
			cas_put_u64(&w, (uint64_t)m->tokens[t]);
	}
	if (!w.oom)
		actor_send(n->self, msg->from, CAS_MSG_RESULT, w.data, w.len);
	cas_wbuf_fini(&w);
}

void cas_coord_install(struct cas_node *n)
{
	actor_install(n->self, CAS_MSG_WRITE, on_write, n);
	actor_install(n->self, CAS_MSG_READ, on_read, n);
	actor_install(n->self, CAS_MSG_RING, on_ring, n);
	actor_install(n->self, CAS_MSG_MUTATE_ACK, on_mutate_ack, n);
	actor_install(n->self, CAS_MSG_FETCH_REPLY, on_fetch_reply, n);
}
