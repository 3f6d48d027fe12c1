/* ledger.c — the hash table of ledger.h: linear probing with backward-shift deletion,
 * so no tombstones build up under a constant churn of roots. */
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

static inline size_t slot_of(const struct stm_ledger *l, uint64_t root)
{
	/* Roots are random already; mix anyway so that sequential test ids spread. */
	uint64_t h = root * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 32) & (l->cap - 1);
}

void stm_ledger_fini(struct stm_ledger *l)
{
	free(l->slots);
	memset(l, 0, sizeof(*l));
}

struct stm_entry *stm_ledger_find(struct stm_ledger *l, uint64_t root)
{
	if (l->cap == 0 || root == 0)
		return NULL;
	for (size_t i = slot_of(l, root);; i = (i + 1) & (l->cap - 1)) {
		if (l->slots[i].root == root)
			return &l->slots[i];
		if (l->slots[i].root == 0)
			return NULL;
	}
}

static int grow(struct stm_ledger *l)
{
	size_t cap = l->cap ? l->cap * 2 : 1024;
	struct stm_entry *old = l->slots;
	size_t oldcap = l->cap;
	struct stm_entry *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -1;
	l->slots = slots;
	l->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].root == 0)
			continue;
		size_t j = slot_of(l, old[i].root);
		while (slots[j].root != 0)
			j = (j + 1) & (cap - 1);
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

struct stm_entry *stm_ledger_add(struct stm_ledger *l, uint64_t root, bool *added)
{
	struct stm_entry *e = stm_ledger_find(l, root);
	if (added != NULL)
		*added = false;
	if (e != NULL || root == 0)
		return e;
	if ((l->count + 1) * 2 > l->cap && grow(l) != 0)
		return NULL;
	size_t i = slot_of(l, root);
	while (l->slots[i].root != 0)
		i = (i + 1) & (l->cap - 1);
	e = &l->slots[i];
	memset(e, 0, sizeof(*e));
	e->root = root;
	e->task = -1;
	l->count++;
	if (added != NULL)
		*added = true;
	return e;
}

void stm_ledger_remove(struct stm_ledger *l, struct stm_entry *e)
{
	size_t mask = l->cap - 1;
	size_t hole = (size_t)(e - l->slots);
	l->slots[hole].root = 0;
	l->count--;
	/* Shift back the entries of the probe run after the hole that may move into it. */
	for (size_t i = (hole + 1) & mask; l->slots[i].root != 0; i = (i + 1) & mask) {
		size_t home = slot_of(l, l->slots[i].root);
		bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
		if (movable) {
			l->slots[hole] = l->slots[i];
			l->slots[i].root = 0;
			hole = i;
		}
	}
}

size_t stm_ledger_expire(struct stm_ledger *l, int64_t cutoff_ms,
                         void (*fn)(const struct stm_entry *e, void *arg), void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < l->cap;) {
		struct stm_entry *e = &l->slots[i];
		if (e->root != 0 && e->since_ms < cutoff_ms) {
			struct stm_entry copy = *e;
			stm_ledger_remove(l, e);
			if (fn != NULL)
				fn(&copy, arg);
			n++;
			continue; /* the slot may hold a shifted entry now */
		}
		i++;
	}
	return n;
}
