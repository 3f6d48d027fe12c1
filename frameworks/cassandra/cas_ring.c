/* cas_ring.c — see cas_ring.h. */
#include "cas_ring.h"

#include <plexus/util.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int cas_ring_add(cas_ring *r, int node, const int64_t *tokens, size_t n)
{
	cas_ring_entry *v = realloc(r->v, (r->n + n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	r->v = v;
	for (size_t i = 0; i < n; i++)
		r->v[r->n++] = (cas_ring_entry){tokens[i], node};
	return 0;
}

static int by_token(const void *a, const void *b)
{
	const cas_ring_entry *x = a, *y = b;
	if (x->token != y->token)
		return x->token < y->token ? -1 : 1;
	return x->node - y->node;
}

void cas_ring_sort(cas_ring *r)
{
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), by_token);
}

void cas_ring_fini(cas_ring *r)
{
	free(r->v);
	*r = (cas_ring){0};
}

size_t cas_ring_replicas(const cas_ring *r, int64_t t, size_t rf, int *out)
{
	if (r->n == 0)
		return 0;
	size_t lo = 0, hi = r->n; /* first entry with token >= t */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->v[mid].token < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t got = 0;
	for (size_t k = 0; k < r->n && got < rf; k++) {
		int node = r->v[(lo + k) % r->n].node;
		bool seen = false;
		for (size_t j = 0; j < got; j++)
			seen |= out[j] == node;
		if (!seen)
			out[got++] = node;
	}
	return got;
}

void cas_ring_random_tokens(int64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t u[16];
		px_uuid_random(u);
		int64_t t;
		memcpy(&t, u, 8);
		out[i] = t == INT64_MIN ? INT64_MAX : t;
	}
}
