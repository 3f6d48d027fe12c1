/* cas_store.h — a node's local storage engine: commit log, memtable, sorted tables,
 * size-tiered compaction with tombstone purge.
 *
 * A write goes to the commit log, then the memtable; past a size the memtable is
 * flushed to a new sorted table and the commit log segments it covered are deleted.
 * A read merges the memtable and every table whose Bloom filter may hold the partition.
 * Used by one actor at a time (no locking). */
#ifndef CAS_STORE_H
#define CAS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_cell.h"

typedef struct cas_store cas_store;

typedef struct cas_store_opts {
	size_t memtable_bytes;   /* flush past this; 0 = 32 MiB */
	int64_t gc_grace_s;      /* tombstones older than this may be purged; default 864000 */
	int min_threshold;       /* tables of similar size compacted together; 0 = 4 */
} cas_store_opts;

void cas_store_opts_default(cas_store_opts *o);

/* Opens (creating) the store in dir, replaying its commit log. NULL with err. */
cas_store *cas_store_open(const char *dir, const cas_store_opts *opts, char *err, size_t errlen);
/* Flushes nothing: what is in the commit log is replayed next time. NULL is a no-op. */
void cas_store_close(cas_store *s);

/* Appends the cells to the commit log and applies them to the memtable (copies them).
 * Not durable until cas_store_sync. 0, or -1 on an I/O error or out of memory. */
int cas_store_apply(cas_store *s, const cas_cells *cells);
/* Makes everything applied so far durable. 0 or -1. */
int cas_store_sync(cas_store *s);
bool cas_store_dirty(const cas_store *s);

/* Appends to out the reconciled cells of a partition (its bytes, without the u16
 * length), tombstones included. 0 or -1. */
int cas_store_read(cas_store *s, const void *part, size_t plen, cas_cells *out);

/* Flushes the memtable to a table when it is past its size (or always, if force).
 * 0, or -1 on error (the data stays in the memtable and the commit log). */
int cas_store_maybe_flush(cas_store *s, bool force);

/* One round of size-tiered compaction: merges the first bucket of at least
 * min_threshold tables of similar size (all tables when major). Dead cells whose
 * deletion is older than gc_grace_s at now_s are purged when no other table and not
 * the memtable may hold their partition. Returns the number of tables merged (0 when
 * nothing was due), -1 on error (nothing changed). */
int cas_store_compact(cas_store *s, uint32_t now_s, bool major);

/* Calls fn for every live-or-dead cell in the store (memtable and tables, reconciled
 * per key only within each source), for streaming. */
void cas_store_each(cas_store *s, void (*fn)(const cas_cell *c, void *arg), void *arg);

uint64_t cas_store_load(const cas_store *s); /* bytes on disk plus memtable */
size_t cas_store_tables(const cas_store *s);

#endif
