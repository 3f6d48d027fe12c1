/* cas_ring.h — the token ring and SimpleStrategy: which nodes hold a token.
 *
 * Each node owns several tokens (virtual nodes). A key with token t belongs to the
 * node of the first token >= t (wrapping around); SimpleStrategy places the other
 * replicas on the next distinct nodes clockwise. */
#ifndef CAS_RING_H
#define CAS_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct cas_ring_entry {
	int64_t token;
	int node; /* the caller's index of the node owning it */
} cas_ring_entry;

typedef struct cas_ring {
	cas_ring_entry *v; /* sorted by token */
	size_t n;
} cas_ring;

/* Adds a node's tokens (not yet sorted). -1 on out of memory. */
int cas_ring_add(cas_ring *r, int node, const int64_t *tokens, size_t n);
/* Sorts the ring after adds. */
void cas_ring_sort(cas_ring *r);
void cas_ring_fini(cas_ring *r);

/* Writes up to rf distinct nodes holding token t into out, primary first; returns how
 * many (fewer than rf when the ring has fewer nodes). */
size_t cas_ring_replicas(const cas_ring *r, int64_t t, size_t rf, int *out);

/* Picks n random tokens (for a node's first start). */
void cas_ring_random_tokens(int64_t *out, size_t n);

#endif
