/* maps.h — two small open-addressing hash maps for the allocator core: strings to
 * pointers (agents, frameworks, roles by id) and 64-bit keys to pointers (filters by
 * agent serial). Linear probing with backward-shift deletion, so there are no
 * tombstones and lookups stay short after churn. Values are borrowed pointers. */
#ifndef PLEXUS_ALLOCATOR_MAPS_H
#define PLEXUS_ALLOCATOR_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	char *key; /* owned copy; NULL when empty */
	uint64_t hash;
	void *value;
};

struct strmap {
	struct strmap_slot *v;
	size_t n, cap; /* cap is 0 or a power of two */
};

/* The value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; copies key. 0 or -1 when out of memory. */
int strmap_put(struct strmap *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *strmap_del(struct strmap *m, const char *key);
void strmap_fini(struct strmap *m);
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->v[i].key) ... */

struct u64map_slot {
	uint64_t key; /* 0 means empty: keys must be non-zero */
	void *value;
};

struct u64map {
	struct u64map_slot *v;
	size_t n, cap;
};

void *u64map_get(const struct u64map *m, uint64_t key);
int u64map_put(struct u64map *m, uint64_t key, void *value);
void *u64map_del(struct u64map *m, uint64_t key);
void u64map_fini(struct u64map *m);

#endif
