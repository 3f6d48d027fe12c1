/* cas_memtable.h — the in-memory, sorted table of the newest writes (a skip list keyed
 * by storage key), until it is flushed to an immutable sorted table. One actor uses
 * it: no locking. */
#ifndef CAS_MEMTABLE_H
#define CAS_MEMTABLE_H

#include <stddef.h>

#include "cas_cell.h"

typedef struct cas_memtable cas_memtable;

cas_memtable *cas_memtable_alloc(void); /* NULL on out of memory */
void cas_memtable_free(cas_memtable *m); /* frees its cells; NULL is a no-op */

/* Takes c. A cell for a key already present replaces it only if it supersedes it
 * (else c is freed). -1 on out of memory (c is freed). */
int cas_memtable_put(cas_memtable *m, cas_cell *c);

/* Calls fn for each cell whose key starts with prefix, in key order (all cells when
 * plen is 0). Cells are borrowed. */
void cas_memtable_scan(const cas_memtable *m, const void *prefix, size_t plen,
                       void (*fn)(const cas_cell *c, void *arg), void *arg);

size_t cas_memtable_bytes(const cas_memtable *m); /* approximate memory held */
size_t cas_memtable_count(const cas_memtable *m);

#endif
