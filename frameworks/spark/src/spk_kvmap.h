/* spk_kvmap.h — a hash table from key bytes to a value, for map-side combine and the
 * reduce side of reduce_by_key, group_by_key and join. Keys and reduced values live in
 * the table's arena; lists (group, join) in growable buffers per entry. */
#ifndef SPK_KVMAP_H
#define SPK_KVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spark/spark.h"
#include "spk_wire.h"

typedef struct spk_kv {
	uint64_t hash;
	spk_bytes key;
	spk_bytes value; /* reduce: the value so far */
	bool has_value;
	bool summed; /* "sum": the value is acc, written out by spk_kvmap_entries */
	int64_t acc;
	spk_buf list[2]; /* group: list[0]; join: left and right */
} spk_kv;

typedef struct spk_kvmap {
	spk_kv **slots;
	size_t cap, n;
	spk_arena arena;
	size_t bytes;    /* an estimate of what the table holds */
	spk_buf scratch; /* a reduce function's output, reused from call to call */
} spk_kvmap;

void spk_kvmap_init(spk_kvmap *m);
void spk_kvmap_fini(spk_kvmap *m);
/* The entry of key, created (key copied, no value) when absent; NULL on out of memory. */
spk_kv *spk_kvmap_get(spk_kvmap *m, spk_bytes key);
/* Sets the entry's value to a copy of v. 0 or -1. */
int spk_kvmap_set_value(spk_kvmap *m, spk_kv *e, spk_bytes v);
/* Adds v to the values of key with a reduce function (fn(old, v)). 0, or -1 (the
 * function failed: spk_failure says why). */
int spk_kvmap_reduce(spk_kvmap *m, spk_bytes key, spk_bytes v, spk_reduce_fn fn, const char *arg);
/* Entries in slot order, or sorted by key. *n entries; the array is malloc'ed (NULL
 * when empty or out of memory). */
spk_kv **spk_kvmap_entries(spk_kvmap *m, bool sorted, size_t *n);

#endif
