/* spk_kvmap.c — see spk_kvmap.h. Open addressing with linear probing; the table holds
 * pointers so that growing moves no entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spk_kvmap.h"
#include "spk_registry.h"

void spk_kvmap_init(spk_kvmap *m)
{
	memset(m, 0, sizeof(*m));
}

void spk_kvmap_fini(spk_kvmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i] != NULL) {
			spk_buf_fini(&m->slots[i]->list[0]);
			spk_buf_fini(&m->slots[i]->list[1]);
		}
	free(m->slots);
	spk_buf_fini(&m->scratch);
	spk_arena_fini(&m->arena);
	memset(m, 0, sizeof(*m));
}

static int grow(spk_kvmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	spk_kv **slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		spk_kv *e = m->slots[i];
		if (e == NULL)
			continue;
		size_t j = e->hash & (cap - 1);
		while (slots[j] != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = e;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

spk_kv *spk_kvmap_get(spk_kvmap *m, spk_bytes key)
{
	if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
		return NULL;
	uint64_t h = spk_hash(key.data, key.len);
	size_t j = h & (m->cap - 1);
	for (spk_kv *e; (e = m->slots[j]) != NULL; j = (j + 1) & (m->cap - 1))
		if (e->hash == h && e->key.len == key.len &&
		    (key.len == 0 || memcmp(e->key.data, key.data, key.len) == 0))
			return e;
	spk_kv *e = (spk_kv *)spk_arena_copy(&m->arena, NULL, sizeof(spk_kv) + 8);
	char *k = spk_arena_copy(&m->arena, key.data, key.len);
	if (e == NULL || k == NULL)
		return NULL;
	/* The arena's copies are byte aligned; an entry needs its own alignment. */
	e = (spk_kv *)(((uintptr_t)e + 7) & ~(uintptr_t)7);
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->key = (spk_bytes){k, key.len};
	m->slots[j] = e;
	m->n++;
	m->bytes += key.len + sizeof(*e) + 16;
	return e;
}

int spk_kvmap_set_value(spk_kvmap *m, spk_kv *e, spk_bytes v)
{
	char *p;
	if (e->has_value && v.len <= e->value.len) {
		/* Reuse the old bytes: a running sum seldom grows. */
		p = (char *)e->value.data;
		memcpy(p, v.data, v.len);
	} else {
		p = spk_arena_copy(&m->arena, v.data, v.len);
		if (p == NULL)
			return -1;
		m->bytes += v.len;
	}
	e->value = (spk_bytes){p, v.len};
	e->has_value = true;
	return 0;
}

/* A decimal integer (optional '-', up to 18 digits); false for anything else. */
static bool parse_i64(spk_bytes v, int64_t *out)
{
	size_t i = 0;
	bool neg = v.len > 0 && v.data[0] == '-';
	i = neg ? 1 : 0;
	if (v.len <= i || v.len - i > 18)
		return false;
	int64_t x = 0;
	for (; i < v.len; i++) {
		if (v.data[i] < '0' || v.data[i] > '9')
			return false;
		x = x * 10 + (v.data[i] - '0');
	}
	*out = neg ? -x : x;
	return true;
}

int spk_kvmap_reduce(spk_kvmap *m, spk_bytes key, spk_bytes v, spk_reduce_fn fn, const char *arg)
{
	spk_kv *e = spk_kvmap_get(m, key);
	if (e == NULL)
		return spk_fail("out of memory in reduce");
	/* "sum" keeps an integer: no text per value on the hot path of a count. */
	int64_t x;
	if (fn == spk_builtin_sum && (!e->has_value || e->summed) && parse_i64(v, &x)) {
		e->acc = e->has_value ? e->acc + x : x;
		e->has_value = e->summed = true;
		return 0;
	}
	if (e->summed) {
		/* A value "sum" cannot read: back to text, and let the function say why. */
		char t[32];
		int n = snprintf(t, sizeof(t), "%lld", (long long)e->acc);
		e->summed = false;
		e->has_value = false;
		if (spk_kvmap_set_value(m, e, (spk_bytes){t, (size_t)n}) != 0)
			return -1;
	}
	if (!e->has_value)
		return spk_kvmap_set_value(m, e, v);
	/* One buffer for every call: no allocation per value on the hot path. */
	m->scratch.len = 0;
	int rc = fn(e->value, v, arg, &m->scratch);
	if (rc == 0)
		rc = spk_kvmap_set_value(
		    m, e, (spk_bytes){m->scratch.data ? m->scratch.data : "", m->scratch.len});
	else if (spk_failure()[0] == '\0')
		spk_failure_set("reduce function failed");
	return rc;
}

static int kv_cmp(const void *a, const void *b)
{
	const spk_kv *x = *(spk_kv *const *)a, *y = *(spk_kv *const *)b;
	return spk_bytes_cmp(x->key, y->key);
}

spk_kv **spk_kvmap_entries(spk_kvmap *m, bool sorted, size_t *n)
{
	*n = 0;
	if (m->n == 0)
		return NULL;
	spk_kv **out = malloc(m->n * sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < m->cap; i++) {
		spk_kv *e = m->slots[i];
		if (e == NULL)
			continue;
		if (e->summed) {
			char t[32];
			int len = snprintf(t, sizeof(t), "%lld", (long long)e->acc);
			char *p = spk_arena_copy(&m->arena, t, (size_t)len);
			if (p == NULL) {
				free(out);
				*n = 0;
				return NULL;
			}
			e->value = (spk_bytes){p, (size_t)len};
			e->summed = false;
		}
		out[(*n)++] = e;
	}
	if (sorted)
		qsort(out, *n, sizeof(*out), kv_cmp);
	return out;
}
