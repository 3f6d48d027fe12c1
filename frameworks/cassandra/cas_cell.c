/* cas_cell.c — see cas_cell.h. */
#include "cas_cell.h"

#include <stdlib.h>
#include <string.h>

cas_cell *cas_cell_alloc(const void *key, uint32_t klen, int64_t ts, uint8_t flags, uint32_t ldt,
                         const void *val, uint32_t vlen)
{
	cas_cell *c = malloc(sizeof(*c) + klen + vlen);
	if (c == NULL)
		return NULL;
	c->ts = ts;
	c->ldt = ldt;
	c->flags = flags;
	c->klen = klen;
	c->vlen = vlen;
	if (klen)
		memcpy(c->data, key, klen);
	if (vlen)
		memcpy(c->data + klen, val, vlen);
	return c;
}

cas_cell *cas_cell_dup(const cas_cell *c)
{
	return cas_cell_alloc(CAS_CELL_KEY(c), c->klen, c->ts, c->flags, c->ldt, CAS_CELL_VAL(c),
	                      c->vlen);
}

int cas_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int r = n ? memcmp(a, b, n) : 0;
	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

bool cas_cell_supersedes(const cas_cell *a, const cas_cell *b)
{
	if (a->ts != b->ts)
		return a->ts > b->ts;
	bool at = a->flags & CAS_CELL_TOMBSTONE, bt = b->flags & CAS_CELL_TOMBSTONE;
	if (at != bt)
		return at;
	return cas_key_cmp(CAS_CELL_VAL(a), a->vlen, CAS_CELL_VAL(b), b->vlen) > 0;
}

bool cas_cell_dead(const cas_cell *c, uint32_t now_s)
{
	if (c->flags & CAS_CELL_TOMBSTONE)
		return true;
	return (c->flags & CAS_CELL_EXPIRING) && c->ldt <= now_s;
}

void cas_cell_encode(cas_wbuf *w, const cas_cell *c)
{
	cas_put_bytes(w, CAS_CELL_KEY(c), c->klen);
	cas_put_u64(w, (uint64_t)c->ts);
	cas_put_u8(w, c->flags);
	cas_put_u32(w, c->ldt);
	cas_put_bytes(w, CAS_CELL_VAL(c), c->vlen);
}

cas_cell *cas_cell_decode(cas_rbuf *r)
{
	size_t klen, vlen;
	const uint8_t *k = cas_get_bytes(r, &klen);
	int64_t ts = (int64_t)cas_get_u64(r);
	uint8_t flags = cas_get_u8(r);
	uint32_t ldt = cas_get_u32(r);
	const uint8_t *v = cas_get_bytes(r, &vlen);
	const uint8_t *part;
	size_t plen;
	if (r->bad || !cas_key_partition(k, klen, &part, &plen) ||
	    (flags & ~(CAS_CELL_TOMBSTONE | CAS_CELL_EXPIRING)) != 0) {
		r->bad = true;
		return NULL;
	}
	return cas_cell_alloc(k, (uint32_t)klen, ts, flags, ldt, v, (uint32_t)vlen);
}

bool cas_key_partition(const uint8_t *key, size_t klen, const uint8_t **part, size_t *plen)
{
	if (klen < 2)
		return false;
	size_t n = (size_t)key[0] << 8 | key[1];
	if (n == 0 || n > klen - 2 || n > CAS_PARTITION_MAX)
		return false;
	*part = key + 2;
	*plen = n;
	return true;
}

int cas_cells_push(cas_cells *a, cas_cell *c)
{
	if (c == NULL)
		return -1;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		cas_cell **v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL) {
			free(c);
			return -1;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = c;
	return 0;
}

void cas_cells_fini(cas_cells *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = (cas_cells){0};
}

void cas_cells_encode(cas_wbuf *w, const cas_cells *a)
{
	cas_put_u32(w, (uint32_t)a->n);
	for (size_t i = 0; i < a->n; i++)
		cas_cell_encode(w, a->v[i]);
}

int cas_cells_decode(cas_rbuf *r, cas_cells *a)
{
	uint32_t n = cas_get_u32(r);
	if (r->bad || n > r->left / 21) /* 21: the smallest encoded cell */
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		cas_cell *c = cas_cell_decode(r);
		if (c == NULL || cas_cells_push(a, c) != 0)
			return -1;
	}
	return 0;
}

static int by_key(const void *x, const void *y)
{
	const cas_cell *a = *(cas_cell *const *)x, *b = *(cas_cell *const *)y;
	return cas_key_cmp(CAS_CELL_KEY(a), a->klen, CAS_CELL_KEY(b), b->klen);
}

void cas_cells_reconcile(cas_cells *a)
{
	if (a->n < 2)
		return;
	qsort(a->v, a->n, sizeof(*a->v), by_key);
	size_t out = 0;
	for (size_t i = 0; i < a->n; i++) {
		cas_cell *c = a->v[i];
		if (out > 0 && by_key(&a->v[out - 1], &c) == 0) {
			if (cas_cell_supersedes(c, a->v[out - 1])) {
				free(a->v[out - 1]);
				a->v[out - 1] = c;
			} else {
				free(c);
			}
			continue;
		}
		a->v[out++] = c;
	}
	a->n = out;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t cas_cells_digest(const cas_cells *a)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < a->n; i++) {
		const cas_cell *c = a->v[i];
		h = fnv(h, CAS_CELL_KEY(c), c->klen);
		h = fnv(h, &c->ts, sizeof(c->ts));
		h = fnv(h, &c->flags, 1);
		h = fnv(h, CAS_CELL_VAL(c), c->vlen);
	}
	return h;
}
