/* spk_wire.c — see spk_wire.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spk_wire.h"

int spk_buf_append(spk_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int spk_buf_printf(spk_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return spk_buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = spk_buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

void spk_buf_fini(spk_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int spk_put_u8(spk_buf *b, uint8_t v)
{
	return spk_buf_append(b, &v, 1);
}

int spk_put_varint(spk_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	return spk_buf_append(b, tmp, n);
}

int spk_put_i64(spk_buf *b, int64_t v)
{
	/* Zigzag, so that small negative numbers stay short. */
	return spk_put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

int spk_put_bytes(spk_buf *b, const void *data, size_t len)
{
	if (spk_put_varint(b, len) != 0)
		return -1;
	return spk_buf_append(b, data, len);
}

int spk_put_str(spk_buf *b, const char *s)
{
	if (s == NULL)
		return spk_put_u8(b, 0);
	if (spk_put_u8(b, 1) != 0)
		return -1;
	return spk_put_bytes(b, s, strlen(s));
}

void spk_rd_init(spk_rd *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->bad = data == NULL && len > 0;
}

uint8_t spk_get_u8(spk_rd *r)
{
	if (r->bad || r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

uint64_t spk_get_varint(spk_rd *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->bad || r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		uint8_t c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return v;
	}
	r->bad = true;
	return 0;
}

int64_t spk_get_i64(spk_rd *r)
{
	uint64_t z = spk_get_varint(r);
	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

spk_bytes spk_get_bytes(spk_rd *r)
{
	spk_bytes out = {"", 0};
	uint64_t len = spk_get_varint(r);
	if (r->bad || len > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return out;
	}
	out.data = (const char *)r->p;
	out.len = (size_t)len;
	r->p += len;
	return out;
}

char *spk_get_str(spk_rd *r)
{
	if (spk_get_u8(r) == 0)
		return NULL;
	spk_bytes b = spk_get_bytes(r);
	if (r->bad)
		return NULL;
	char *s = malloc(b.len + 1);
	if (s == NULL) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	return s;
}

bool spk_rd_done(const spk_rd *r)
{
	return !r->bad && r->p == r->end;
}

int spk_put_row(spk_buf *b, const spk_row *row)
{
	if (spk_put_u8(b, row->keyed ? 1 : 0) != 0)
		return -1;
	if (row->keyed && spk_put_bytes(b, row->key.data, row->key.len) != 0)
		return -1;
	return spk_put_bytes(b, row->value.data, row->value.len);
}

bool spk_get_row(spk_rd *r, spk_row *row)
{
	if (r->bad || r->p >= r->end)
		return false;
	uint8_t flags = spk_get_u8(r);
	row->keyed = (flags & 1) != 0;
	if (row->keyed)
		row->key = spk_get_bytes(r);
	else
		row->key = (spk_bytes){"", 0};
	row->value = spk_get_bytes(r);
	return !r->bad && flags <= 1;
}

bool spk_list_next(spk_bytes list, size_t *pos, spk_bytes *out)
{
	if (*pos >= list.len)
		return false;
	spk_rd r;
	spk_rd_init(&r, list.data + *pos, list.len - *pos);
	*out = spk_get_bytes(&r);
	if (r.bad)
		return false;
	*pos = (size_t)((const char *)r.p - list.data);
	return true;
}

struct spk_arena_chunk {
	spk_arena_chunk *next;
	size_t used, size;
	char data[];
};

#define SPK_ARENA_CHUNK (1u << 20)

char *spk_arena_copy(spk_arena *a, const void *data, size_t len)
{
	spk_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < len + 1) {
		size_t size = len + 1 > SPK_ARENA_CHUNK / 4 ? len + 1 : SPK_ARENA_CHUNK;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->size = size;
		/* A big copy gets a chunk of its own behind the head, so the head's free
		 * space stays usable for small ones. */
		if (a->head != NULL && size != SPK_ARENA_CHUNK) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	char *p = c->data + c->used;
	if (len > 0 && data != NULL)
		memcpy(p, data, len);
	p[len] = '\0';
	c->used += len + 1;
	a->used_total += len + 1;
	return p;
}

void spk_arena_fini(spk_arena *a)
{
	while (a->head != NULL) {
		spk_arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
	a->used_total = 0;
}

uint64_t spk_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

int spk_bytes_cmp(spk_bytes a, spk_bytes b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.data, b.data, n) : 0;
	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}
