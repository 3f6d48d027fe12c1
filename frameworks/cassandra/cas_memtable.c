/* cas_memtable.c — a skip list (p = 1/4, at most 16 levels). */
#include "cas_memtable.h"

#include <stdlib.h>
#include <string.h>

#define LEVELS 16

struct node {
	cas_cell *cell;
	struct node *next[]; /* as many as the node's height */
};

struct cas_memtable {
	struct node *head;
	int height;
	size_t bytes, count;
	uint64_t rng;
};

cas_memtable *cas_memtable_alloc(void)
{
	cas_memtable *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->head = calloc(1, sizeof(struct node) + LEVELS * sizeof(struct node *));
	if (m->head == NULL) {
		free(m);
		return NULL;
	}
	m->height = 1;
	m->rng = 0x9E3779B97F4A7C15ULL ^ (uintptr_t)m;
	return m;
}

void cas_memtable_free(cas_memtable *m)
{
	if (m == NULL)
		return;
	for (struct node *n = m->head->next[0], *next; n; n = next) {
		next = n->next[0];
		free(n->cell);
		free(n);
	}
	free(m->head);
	free(m);
}

static int random_height(cas_memtable *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	uint64_t r = m->rng;
	int h = 1;
	while (h < LEVELS && (r & 3) == 0) {
		h++;
		r >>= 2;
	}
	return h;
}

static int cmp(const cas_cell *c, const void *key, size_t klen)
{
	return cas_key_cmp(CAS_CELL_KEY(c), c->klen, key, klen);
}

int cas_memtable_put(cas_memtable *m, cas_cell *c)
{
	struct node *update[LEVELS];
	struct node *x = m->head;
	for (int i = m->height - 1; i >= 0; i--) {
		while (x->next[i] && cmp(x->next[i]->cell, CAS_CELL_KEY(c), c->klen) < 0)
			x = x->next[i];
		update[i] = x;
	}
	struct node *hit = x->next[0];
	if (hit && cmp(hit->cell, CAS_CELL_KEY(c), c->klen) == 0) {
		if (cas_cell_supersedes(c, hit->cell)) {
			m->bytes += c->vlen;
			m->bytes -= hit->cell->vlen;
			free(hit->cell);
			hit->cell = c;
		} else {
			free(c);
		}
		return 0;
	}
	int h = random_height(m);
	struct node *n = malloc(sizeof(*n) + (size_t)h * sizeof(struct node *));
	if (n == NULL) {
		free(c);
		return -1;
	}
	for (int i = m->height; i < h; i++)
		update[i] = m->head;
	if (h > m->height)
		m->height = h;
	n->cell = c;
	for (int i = 0; i < h; i++) {
		n->next[i] = update[i]->next[i];
		update[i]->next[i] = n;
	}
	m->bytes += sizeof(*n) + (size_t)h * sizeof(void *) + sizeof(*c) + c->klen + c->vlen;
	m->count++;
	return 0;
}

void cas_memtable_scan(const cas_memtable *m, const void *prefix, size_t plen,
                       void (*fn)(const cas_cell *c, void *arg), void *arg)
{
	struct node *x = m->head;
	for (int i = m->height - 1; i >= 0; i--)
		while (x->next[i] && cmp(x->next[i]->cell, prefix, plen) < 0)
			x = x->next[i];
	for (x = x->next[0]; x; x = x->next[0]) {
		const cas_cell *c = x->cell;
		if (c->klen < plen || (plen && memcmp(CAS_CELL_KEY(c), prefix, plen) != 0))
			break;
		fn(c, arg);
	}
}

size_t cas_memtable_bytes(const cas_memtable *m)
{
	return m->bytes;
}

size_t cas_memtable_count(const cas_memtable *m)
{
	return m->count;
}
