/* cas_commitlog.h — the commit log: every mutation is appended here before it enters
 * the memtable, so a node that dies loses nothing it acknowledged.
 *
 * The log is a series of segment files "commitlog-<seq>.log" in the data directory.
 * A record is [u32 length][u32 crc32][payload]; replay stops at the first record that
 * is short or fails its checksum (a write torn by the crash, never acknowledged).
 * Durability is the caller's policy: under "batch" it calls cas_commitlog_sync before
 * acknowledging (grouping what arrived meanwhile, as Cassandra's batch mode); under
 * "periodic" it syncs on a timer. */
#ifndef CAS_COMMITLOG_H
#define CAS_COMMITLOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct cas_commitlog cas_commitlog;

/* Replays every segment found in dir, oldest first, calling fn for each intact record
 * (payload borrowed), then opens a new segment for appends. NULL with err on failure. */
cas_commitlog *cas_commitlog_open(const char *dir, void (*fn)(const uint8_t *p, size_t n, void *arg),
                                  void *arg, char *err, size_t errlen);
void cas_commitlog_close(cas_commitlog *l); /* syncs first; NULL is a no-op */

/* Appends one record (not yet durable). 0, or -1 on an I/O error (logged). */
int cas_commitlog_append(cas_commitlog *l, const void *p, size_t n);
/* Makes every appended record durable (fdatasync). 0 or -1. */
int cas_commitlog_sync(cas_commitlog *l);
/* Whether records were appended since the last sync. */
int cas_commitlog_dirty(const cas_commitlog *l);

/* Starts a new segment and returns the sequence number of the last closed one: once
 * what those segments hold is in a table on disk, cas_commitlog_discard(l, seq)
 * deletes them. -1 on error. */
int64_t cas_commitlog_roll(cas_commitlog *l);
void cas_commitlog_discard(cas_commitlog *l, int64_t upto);

#endif
