/* cas_buf.h — the byte codec every cassandra message, commit log record and table file
 * uses: a growable output buffer and a bounds-checked reader.
 *
 * Writers never fail half-way silently: an allocation failure sets `oom` and later
 * appends do nothing, so a caller checks once at the end. Readers never read past the
 * end: a short or malformed input sets `bad`, and every later get returns zero values,
 * so a caller checks `bad` once after decoding. Integers are big-endian. */
#ifndef CAS_BUF_H
#define CAS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cas_wbuf {
	uint8_t *data;
	size_t len, cap;
	bool oom;
} cas_wbuf;

typedef struct cas_rbuf {
	const uint8_t *p;
	size_t left;
	bool bad;
} cas_rbuf;

/* Frees the buffer's bytes and resets it to empty. */
void cas_wbuf_fini(cas_wbuf *w);
void cas_put_raw(cas_wbuf *w, const void *p, size_t n);
void cas_put_u8(cas_wbuf *w, uint8_t v);
void cas_put_u16(cas_wbuf *w, uint16_t v);
void cas_put_u32(cas_wbuf *w, uint32_t v);
void cas_put_u64(cas_wbuf *w, uint64_t v);
/* A u32 length, then the bytes. */
void cas_put_bytes(cas_wbuf *w, const void *p, size_t n);
void cas_put_str(cas_wbuf *w, const char *s);

cas_rbuf cas_rbuf_of(const void *p, size_t n);
uint8_t cas_get_u8(cas_rbuf *r);
uint16_t cas_get_u16(cas_rbuf *r);
uint32_t cas_get_u32(cas_rbuf *r);
uint64_t cas_get_u64(cas_rbuf *r);
/* A pointer into the input (borrowed) to n bytes; NULL (and bad) when short. */
const uint8_t *cas_get_raw(cas_rbuf *r, size_t n);
/* Reads what cas_put_bytes wrote: *n bytes at the returned pointer (borrowed). */
const uint8_t *cas_get_bytes(cas_rbuf *r, size_t *n);
/* Reads what cas_put_str wrote into a new NUL-terminated string (caller frees); NULL
 * when bad or out of memory. */
char *cas_get_str(cas_rbuf *r);

/* Writes v big-endian at p (for fixed headers patched after the fact). */
void cas_be32_store(uint8_t *p, uint32_t v);
uint32_t cas_be32_load(const uint8_t *p);
uint64_t cas_be64_load(const uint8_t *p);
void cas_be64_store(uint8_t *p, uint64_t v);

/* CRC-32 (IEEE) of n bytes, for records on disk. */
uint32_t cas_crc32(const void *p, size_t n);

#endif
