/* cas_cell.h — the unit of storage and replication: one versioned cell.
 *
 * A cell's key is the storage key [u16 length][partition][suffix]: the partition
 * ("<keyspace>.<table>" length-prefixed, then the partition key's bytes) groups the
 * cells that live and are read together; the suffix (clustering, then kind, then
 * column, see cas_key.h) orders them inside it. Every cell carries its write timestamp
 * (microseconds); the newer one wins (last write wins), a tombstone wins a tie. */
#ifndef CAS_CELL_H
#define CAS_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_buf.h"

enum {
	CAS_CELL_TOMBSTONE = 1, /* a deletion; ldt = when it was written (seconds) */
	CAS_CELL_EXPIRING = 2,  /* a value with a TTL; ldt = when it expires (seconds) */
};

typedef struct cas_cell {
	int64_t ts;     /* write timestamp, microseconds */
	uint32_t ldt;   /* local deletion time, seconds since the epoch (see flags) */
	uint8_t flags;
	uint32_t klen, vlen;
	uint8_t data[]; /* key (klen bytes), then value (vlen bytes) */
} cas_cell;

/* The longest partition (table name plus partition key) accepted anywhere. */
#define CAS_PARTITION_MAX 4096

#define CAS_CELL_KEY(c) ((c)->data)
#define CAS_CELL_VAL(c) ((c)->data + (c)->klen)

/* A new cell copying key and value; NULL on out of memory. Free with free(). */
cas_cell *cas_cell_alloc(const void *key, uint32_t klen, int64_t ts, uint8_t flags, uint32_t ldt,
                         const void *val, uint32_t vlen);
cas_cell *cas_cell_dup(const cas_cell *c);

/* memcmp order of keys, shorter first on a common prefix. */
int cas_key_cmp(const void *a, size_t alen, const void *b, size_t blen);

/* Whether a should replace b (same key): newer timestamp; on a tie a tombstone, then
 * the larger value (Cassandra's reconciliation). */
bool cas_cell_supersedes(const cas_cell *a, const cas_cell *b);

/* Whether the cell counts as deleted at now_s (a tombstone, or an expired TTL). */
bool cas_cell_dead(const cas_cell *c, uint32_t now_s);

/* Encoding on the wire and on disk. decode returns NULL (bad set) on malformed input. */
void cas_cell_encode(cas_wbuf *w, const cas_cell *c);
cas_cell *cas_cell_decode(cas_rbuf *r);

/* A growable array of owned cells. */
typedef struct cas_cells {
	cas_cell **v;
	size_t n, cap;
} cas_cells;

/* Appends c (taking it); -1 on out of memory (c is freed). */
int cas_cells_push(cas_cells *a, cas_cell *c);
void cas_cells_fini(cas_cells *a);
void cas_cells_encode(cas_wbuf *w, const cas_cells *a);
/* Decodes into a (appending); -1 on malformed input. */
int cas_cells_decode(cas_rbuf *r, cas_cells *a);
/* Sorts by key and keeps, for each key, the winning cell. */
void cas_cells_reconcile(cas_cells *a);
/* A 64-bit digest of a reconciled, sorted array (for digest reads). */
uint64_t cas_cells_digest(const cas_cells *a);

/* The partition part of a storage key: its bytes (after the u16 length) and length.
 * false when the key is malformed. */
bool cas_key_partition(const uint8_t *key, size_t klen, const uint8_t **part, size_t *plen);

#endif
