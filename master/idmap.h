/* idmap.h — a string-keyed hash map for the master's lookups by id (frameworks, agents,
 * offers, tasks). Keys are borrowed: each key must stay valid and unchanged while its
 * entry is in the map (they are the ids of the objects the map points to). Open
 * addressing with linear probing; deleted slots are reused and the table is rebuilt
 * when they pile up. */
#ifndef PLEXUS_MASTER_IDMAP_H
#define PLEXUS_MASTER_IDMAP_H

#include <stddef.h>

struct mst_idmap_slot {
	const char *key; /* NULL: empty; mst_idmap_tomb: deleted */
	void *val;
};

struct mst_idmap {
	struct mst_idmap_slot *slots;
	size_t cap;  /* 0 or a power of two */
	size_t n;    /* live entries */
	size_t used; /* live plus deleted slots */
};

/* A zeroed struct mst_idmap is an empty map. */
void mst_idmap_fini(struct mst_idmap *m);
/* Sets key -> val (replacing an entry of the same key). 0, or ENOMEM. */
int mst_idmap_put(struct mst_idmap *m, const char *key, void *val);
/* The value of key, or NULL. */
void *mst_idmap_get(const struct mst_idmap *m, const char *key);
/* Removes key if present. */
void mst_idmap_del(struct mst_idmap *m, const char *key);

#endif
