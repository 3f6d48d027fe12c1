/* maps.c — string and 64-bit keyed hash maps (see maps.h). */
#include "maps.h"

#include <stdlib.h>
#include <string.h>

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static size_t str_find(const struct strmap *m, const char *key, uint64_t h, bool *found)
{
	size_t mask = m->cap - 1, i = h & mask;
	while (m->v[i].key != NULL) {
		if (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

static int str_grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap_slot *v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -1;
	struct strmap old = *m;
	m->v = v;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.v[i].key == NULL)
			continue;
		bool found;
		size_t j = str_find(m, old.v[i].key, old.v[i].hash, &found);
		m->v[j] = old.v[i];
	}
	free(old.v);
	return 0;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	bool found;
	size_t i = str_find(m, key, str_hash(key), &found);
	return found ? m->v[i].value : NULL;
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
	if ((m->n + 1) * 4 > m->cap * 3 && str_grow(m) != 0)
		return -1;
	uint64_t h = str_hash(key);
	bool found;
	size_t i = str_find(m, key, h, &found);
	if (found) {
		m->v[i].value = value;
		return 0;
	}
	char *k = strdup(key);
	if (k == NULL)
		return -1;
	m->v[i] = (struct strmap_slot){k, h, value};
	m->n++;
	return 0;
}

void *strmap_del(struct strmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	bool found;
	size_t i = str_find(m, key, str_hash(key), &found);
	if (!found)
		return NULL;
	void *value = m->v[i].value;
	free(m->v[i].key);
	m->v[i].key = NULL;
	m->n--;
	/* Backward shift: move later members of the cluster into the hole when their
	 * home slot does not lie cyclically between the hole and themselves. */
	size_t mask = m->cap - 1, hole = i, j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (m->v[j].key == NULL)
			break;
		size_t home = m->v[j].hash & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			m->v[hole] = m->v[j];
			m->v[j].key = NULL;
			hole = j;
		}
	}
	return value;
}

void strmap_fini(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
	*m = (struct strmap){0};
}

static size_t u64_find(const struct u64map *m, uint64_t key, bool *found)
{
	size_t mask = m->cap - 1, i = mix64(key) & mask;
	while (m->v[i].key != 0) {
		if (m->v[i].key == key) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

static int u64_grow(struct u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 8;
	struct u64map_slot *v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -1;
	struct u64map old = *m;
	m->v = v;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.v[i].key == 0)
			continue;
		bool found;
		m->v[u64_find(m, old.v[i].key, &found)] = old.v[i];
	}
	free(old.v);
	return 0;
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	if (m->n == 0)
		return NULL;
	bool found;
	size_t i = u64_find(m, key, &found);
	return found ? m->v[i].value : NULL;
}

int u64map_put(struct u64map *m, uint64_t key, void *value)
{
	if ((m->n + 1) * 4 > m->cap * 3 && u64_grow(m) != 0)
		return -1;
	bool found;
	size_t i = u64_find(m, key, &found);
	if (!found)
		m->n++;
	m->v[i] = (struct u64map_slot){key, value};
	return 0;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
	if (m->n == 0)
		return NULL;
	bool found;
	size_t i = u64_find(m, key, &found);
	if (!found)
		return NULL;
	void *value = m->v[i].value;
	m->v[i].key = 0;
	m->n--;
	size_t mask = m->cap - 1, hole = i, j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (m->v[j].key == 0)
			break;
		size_t home = mix64(m->v[j].key) & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			m->v[hole] = m->v[j];
			m->v[j].key = 0;
			hole = j;
		}
	}
	return value;
}

void u64map_fini(struct u64map *m)
{
	free(m->v);
	*m = (struct u64map){0};
}
