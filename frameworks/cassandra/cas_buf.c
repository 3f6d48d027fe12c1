/* cas_buf.c — see cas_buf.h. */
#include "cas_buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void cas_wbuf_fini(cas_wbuf *w)
{
	free(w->data);
	*w = (cas_wbuf){0};
}

static bool reserve(cas_wbuf *w, size_t n)
{
	if (w->oom)
		return false;
	if (w->len + n <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 64;
	while (cap < w->len + n)
		cap *= 2;
	uint8_t *d = realloc(w->data, cap);
	if (d == NULL) {
		w->oom = true;
		return false;
	}
	w->data = d;
	w->cap = cap;
	return true;
}

void cas_put_raw(cas_wbuf *w, const void *p, size_t n)
{
	if (n == 0 || !reserve(w, n))
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

void cas_be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void cas_be64_store(uint8_t *p, uint64_t v)
{
	cas_be32_store(p, (uint32_t)(v >> 32));
	cas_be32_store(p + 4, (uint32_t)v);
}

uint32_t cas_be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t cas_be64_load(const uint8_t *p)
{
	return (uint64_t)cas_be32_load(p) << 32 | cas_be32_load(p + 4);
}

void cas_put_u8(cas_wbuf *w, uint8_t v)
{
	cas_put_raw(w, &v, 1);
}

void cas_put_u16(cas_wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	cas_put_raw(w, b, 2);
}

void cas_put_u32(cas_wbuf *w, uint32_t v)
{
	uint8_t b[4];
	cas_be32_store(b, v);
	cas_put_raw(w, b, 4);
}

void cas_put_u64(cas_wbuf *w, uint64_t v)
{
	uint8_t b[8];
	cas_be64_store(b, v);
	cas_put_raw(w, b, 8);
}

void cas_put_bytes(cas_wbuf *w, const void *p, size_t n)
{
	cas_put_u32(w, (uint32_t)n);
	cas_put_raw(w, p, n);
}

void cas_put_str(cas_wbuf *w, const char *s)
{
	cas_put_bytes(w, s, s ? strlen(s) : 0);
}

cas_rbuf cas_rbuf_of(const void *p, size_t n)
{
	return (cas_rbuf){.p = p, .left = n, .bad = false};
}

const uint8_t *cas_get_raw(cas_rbuf *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t cas_get_u8(cas_rbuf *r)
{
	const uint8_t *p = cas_get_raw(r, 1);
	return p ? p[0] : 0;
}

uint16_t cas_get_u16(cas_rbuf *r)
{
	const uint8_t *p = cas_get_raw(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t cas_get_u32(cas_rbuf *r)
{
	const uint8_t *p = cas_get_raw(r, 4);
	return p ? cas_be32_load(p) : 0;
}

uint64_t cas_get_u64(cas_rbuf *r)
{
	const uint8_t *p = cas_get_raw(r, 8);
	return p ? cas_be64_load(p) : 0;
}

const uint8_t *cas_get_bytes(cas_rbuf *r, size_t *n)
{
	uint32_t len = cas_get_u32(r);
	const uint8_t *p = cas_get_raw(r, len);
	*n = p ? len : 0;
	return p;
}

char *cas_get_str(cas_rbuf *r)
{
	size_t n;
	const uint8_t *p = cas_get_bytes(r, &n);
	if (p == NULL && r->bad)
		return NULL;
	char *s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t cas_crc32(const void *data, size_t n)
{
	pthread_once(&crc_once, crc_init);
	const uint8_t *p = data;
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}
