/* cas_sstable.h — an immutable sorted table on disk ("sst-<generation>.db").
 *
 * Layout: the data section (cells in key order, as cas_cell_encode writes them); the
 * partition index (for each partition: [u16 length][partition][u64 offset][u32 size]
 * of its cells in the data section); the Bloom filter over partitions; a 64-byte
 * footer (magic, section offsets, counts, the newest local deletion time). A reader
 * maps the file and keeps a summary of every 64th index entry in memory, so a lookup
 * is one binary search in memory and a short scan of the mapped index. A table is
 * written to a temporary name, synced and renamed, so a crash never leaves half a
 * table under a real name. */
#ifndef CAS_SSTABLE_H
#define CAS_SSTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_cell.h"

typedef struct cas_sstable cas_sstable;

/* A writer fed cells in strictly increasing key order. */
typedef struct cas_sstable_writer cas_sstable_writer;
cas_sstable_writer *cas_sstable_writer_alloc(const char *dir, uint64_t generation,
                                             size_t expected_partitions);
/* 0, or -1 (out of memory or I/O; the writer is then only good for abort). */
int cas_sstable_writer_add(cas_sstable_writer *w, const cas_cell *c);
/* Finishes, syncs and renames the table into place and opens it. NULL on error (the
 * temporary file is removed). Frees the writer either way. */
cas_sstable *cas_sstable_writer_finish(cas_sstable_writer *w, char *err, size_t errlen);
void cas_sstable_writer_abort(cas_sstable_writer *w);

/* Opens a table file. NULL with err when it cannot be read or is malformed. */
cas_sstable *cas_sstable_open(const char *path, uint64_t generation, char *err, size_t errlen);
void cas_sstable_close(cas_sstable *t); /* NULL is a no-op */
/* Closes the table and removes its file (after compaction replaced it). */
void cas_sstable_delete(cas_sstable *t);

uint64_t cas_sstable_generation(const cas_sstable *t);
uint64_t cas_sstable_size(const cas_sstable *t);
uint64_t cas_sstable_partitions(const cas_sstable *t);
bool cas_sstable_may_contain(const cas_sstable *t, const void *part, size_t plen);

/* Appends copies of the partition's cells to out. 0, or -1 (out of memory / corrupt). */
int cas_sstable_read_partition(const cas_sstable *t, const void *part, size_t plen,
                               cas_cells *out);

/* A cursor over all cells in key order (for compaction). next returns a borrowed cell
 * valid until the next call, or NULL at the end. */
typedef struct cas_sstable_cursor cas_sstable_cursor;
cas_sstable_cursor *cas_sstable_cursor_alloc(const cas_sstable *t);
const cas_cell *cas_sstable_cursor_next(cas_sstable_cursor *c);
void cas_sstable_cursor_free(cas_sstable_cursor *c);

/* The file name of a generation, for listing a directory. */
void cas_sstable_path(const char *dir, uint64_t generation, char *out, size_t n);

#endif
