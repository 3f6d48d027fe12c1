/* cas_hints.c — hinted handoff. A mutation for a replica that is down (or did not
 * answer in time) is kept by the coordinator as a hint in its own storage, in the
 * local-only table system.hints (partition: the target's address; one row per hint;
 * value: the partition and its cells), so hints survive a restart like any write.
 * Every gossip round, the hints of targets that are up again are sent to them; each
 * acknowledged hint is deleted. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <actor/log.h>

#include "cas_key.h"
#include "cas_node_internal.h"
#include "cas_value.h"

#define REPLAY_BATCH 256

static void hints_partition(cas_wbuf *w, const char *addr)
{
	static const char table[] = "system.hints";
	cas_put_u8(w, sizeof(table) - 1);
	cas_put_raw(w, table, sizeof(table) - 1);
	cas_value a = cas_value_text(addr);
	cas_value_put_key(w, &a);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cas_hints_store(struct cas_node *n, int m, const uint8_t *part, size_t plen,
                     const cas_cells *cells)
{
	cas_wbuf hp = {0}, key = {0}, val = {0};
	hints_partition(&hp, n->g.v[m].addr);
	cas_put_u16(&key, (uint16_t)hp.len);
	cas_put_raw(&key, hp.data, hp.len);
	/* Hints replay in the order they were written: a rising sequence number. */
	int64_t seq = now_us();
	if ((uint64_t)seq <= n->hint_seq)
		seq = (int64_t)n->hint_seq + 1;
	n->hint_seq = (uint64_t)seq;
	cas_value s = {.type = CAS_BIGINT, .i = seq};
	cas_put_u8(&key, CAS_KIND_CLUSTERING);
	cas_value_put_key(&key, &s);
	cas_put_u8(&key, CAS_KIND_COLUMN);
	cas_put_u8(&key, 'm');
	cas_put_bytes(&val, part, plen);
	cas_cells_encode(&val, cells);
	cas_cells hint = {0};
	if (!hp.oom && !key.oom && !val.oom &&
	    cas_cells_push(&hint, cas_cell_alloc(key.data, (uint32_t)key.len, seq, 0, 0, val.data,
	                                         (uint32_t)val.len)) == 0 &&
	    cas_store_apply(n->store, &hint) == 0)
		actor_debug("cassandra: stored a hint for %s", n->g.v[m].addr);
	else
		actor_error("cassandra: cannot store a hint for %s", n->g.v[m].addr);
	cas_cells_fini(&hint);
	cas_wbuf_fini(&hp);
	cas_wbuf_fini(&key);
	cas_wbuf_fini(&val);
}

static int *inflight(struct cas_node *n, int m)
{
	if ((size_t)m >= n->nhints_inflight) {
		int *v = realloc(n->hints_inflight, n->g.n * sizeof(*v));
		if (v == NULL)
			return NULL;
		for (size_t i = n->nhints_inflight; i < n->g.n; i++)
			v[i] = 0;
		n->hints_inflight = v;
		n->nhints_inflight = n->g.n;
	}
	return &n->hints_inflight[m];
}

static void replay_to(struct cas_node *n, int m)
{
	int *busy = inflight(n, m);
	if (busy == NULL || *busy > 0)
		return;
	cas_wbuf hp = {0};
	cas_cells hints = {0};
	hints_partition(&hp, n->g.v[m].addr);
	uint32_t now = (uint32_t)time(NULL);
	if (hp.oom || cas_store_read(n->store, hp.data, hp.len, &hints) != 0)
		goto out;
	for (size_t i = 0; i < hints.n && *busy < REPLAY_BATCH; i++) {
		const cas_cell *h = hints.v[i];
		if (cas_cell_dead(h, now))
			continue;
		cas_rbuf r = cas_rbuf_of(CAS_CELL_VAL(h), h->vlen);
		size_t plen;
		const uint8_t *part = cas_get_bytes(&r, &plen);
		struct cas_pending *p = r.bad ? NULL : cas_pending_new(n, CAS_P_HINT);
		if (p == NULL)
			continue;
		p->hint_key = malloc(h->klen);
		if (p->hint_key == NULL) {
			cas_pending_free(n, p);
			continue;
		}
		memcpy(p->hint_key, CAS_CELL_KEY(h), h->klen);
		p->hint_klen = h->klen;
		p->replicas[0] = m;
		p->nrep = 1;
		/* The hint's value is exactly a mutation body after the id. */
		cas_wbuf w = {0};
		cas_put_u64(&w, p->id);
		cas_put_bytes(&w, part, plen);
		cas_put_raw(&w, r.p, r.left);
		cas_node_send(n, m, CAS_MSG_MUTATE, &w);
		cas_wbuf_fini(&w);
		cas_coord_arm(n, p);
		(*busy)++;
	}
	if (*busy > 0)
		actor_info("cassandra: replaying %d hints to %s", *busy, n->g.v[m].addr);
out:
	cas_cells_fini(&hints);
	cas_wbuf_fini(&hp);
}

void cas_hints_replay(struct cas_node *n)
{
	for (size_t m = 1; m < n->g.n; m++)
		if (n->g.v[m].up && n->g.v[m].ntokens > 0)
			replay_to(n, (int)m);
}

void cas_hints_delivered(struct cas_node *n, struct cas_pending *p, bool ok)
{
	int *busy = inflight(n, p->replicas[0]);
	if (busy && *busy > 0)
		(*busy)--;
	if (ok) {
		cas_cells del = {0};
		int64_t ts = now_us();
		if (cas_cells_push(&del, cas_cell_alloc(p->hint_key, (uint32_t)p->hint_klen, ts,
		                                        CAS_CELL_TOMBSTONE, (uint32_t)(ts / 1000000),
		                                        NULL, 0)) == 0)
			cas_store_apply(n->store, &del);
		cas_cells_fini(&del);
	}
	cas_pending_free(n, p);
}
