/* idmap.c — see idmap.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/idmap.h"

static const char tomb_key[1];
#define TOMB (&tomb_key[0])

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void mst_idmap_fini(struct mst_idmap *m)
{
	free(m->slots);
	*m = (struct mst_idmap){0};
}

static struct mst_idmap_slot *lookup(const struct mst_idmap *m, const char *key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct mst_idmap_slot *s = &m->slots[i];
		if (s->key == NULL)
			return NULL;
		if (s->key != TOMB && strcmp(s->key, key) == 0)
			return s;
	}
}

static int rebuild(struct mst_idmap *m, size_t cap)
{
	struct mst_idmap_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		const char *key = m->slots[i].key;
		if (key == NULL || key == TOMB)
			continue;
		size_t j = hash(key) & (cap - 1);
		while (slots[j].key != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->used = m->n;
	return 0;
}

int mst_idmap_put(struct mst_idmap *m, const char *key, void *val)
{
	struct mst_idmap_slot *s = lookup(m, key);

	if (s != NULL) {
		s->key = key;
		s->val = val;
		return 0;
	}
	/* Keep the table at most half full, counting deleted slots. */
	if ((m->used + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap : 16;
		while ((m->n + 1) * 4 > cap)
			cap *= 2; /* live entries at most a quarter: room before the next rebuild */
		if (rebuild(m, cap) != 0)
			return ENOMEM;
	}
	size_t i = hash(key) & (m->cap - 1);
	while (m->slots[i].key != NULL && m->slots[i].key != TOMB)
		i = (i + 1) & (m->cap - 1);
	if (m->slots[i].key == NULL)
		m->used++;
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

void *mst_idmap_get(const struct mst_idmap *m, const char *key)
{
	struct mst_idmap_slot *s = key ? lookup(m, key) : NULL;

	return s ? s->val : NULL;
}

void mst_idmap_del(struct mst_idmap *m, const char *key)
{
	struct mst_idmap_slot *s = key ? lookup(m, key) : NULL;

	if (s == NULL)
		return;
	s->key = TOMB;
	s->val = NULL;
	m->n--;
}
