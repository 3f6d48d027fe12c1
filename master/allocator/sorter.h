/* sorter.h — the DRF sorter: clients (roles or frameworks) kept in order of
 * (share, allocations, seq) in a skip list, so that one client's allocation change
 * costs O(log n) (remove, re-key, insert) instead of Mesos's re-sort of every client,
 * and the order is read by walking the bottom level.
 *
 * A slot is embedded in the object it orders (a role or a client). Its key fields may
 * change only while it is out of the sorter: call sorter_remove, change, sorter_insert. */
#ifndef PLEXUS_ALLOCATOR_SORTER_H
#define PLEXUS_ALLOCATOR_SORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SORTER_LEVELS 12

enum slot_kind { SLOT_ROLE, SLOT_SELF, SLOT_CLIENT };

struct slot {
	double share;    /* weighted dominant share: the sort key */
	uint64_t allocs; /* offers made to it: ties go to the one offered less */
	uint64_t seq;    /* unique: makes the order total */
	void *owner;     /* struct role * (ROLE, SELF) or struct client * */
	uint8_t kind;    /* enum slot_kind */
	uint8_t level;
	bool in; /* in a sorter now */
	struct slot *next[SORTER_LEVELS];
};

struct sorter {
	struct slot head;
	int level;
	uint64_t rng;
	size_t n;
};

void sorter_init(struct sorter *s, uint64_t seed);
void sorter_insert(struct sorter *s, struct slot *x);
void sorter_remove(struct sorter *s, struct slot *x);
/* The first slot in order, or NULL; then x->next[0]. */
static inline struct slot *sorter_first(const struct sorter *s)
{
	return s->head.next[0];
}

#endif
