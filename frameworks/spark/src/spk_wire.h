/* spk_wire.h — the byte formats of the engine: varints, length-prefixed bytes, a reader
 * that never reads past its end (every decoder of network or disk input uses it), and
 * an arena for rows that live as long as one task. */
#ifndef SPK_WIRE_H
#define SPK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spark/spark.h"

/* Writers append to an spk_buf; they return 0 or -1 on out of memory. */
int spk_put_u8(spk_buf *b, uint8_t v);
int spk_put_varint(spk_buf *b, uint64_t v);
int spk_put_i64(spk_buf *b, int64_t v);
int spk_put_bytes(spk_buf *b, const void *data, size_t len);
int spk_put_str(spk_buf *b, const char *s); /* NULL is written as absent */

/* A reader over borrowed bytes. After any short or malformed read `bad` is set and
 * every later read returns zeros, so a decoder checks once at its end. */
typedef struct spk_rd {
	const uint8_t *p, *end;
	bool bad;
} spk_rd;

void spk_rd_init(spk_rd *r, const void *data, size_t len);
uint8_t spk_get_u8(spk_rd *r);
uint64_t spk_get_varint(spk_rd *r);
int64_t spk_get_i64(spk_rd *r);
/* Borrowed bytes of the reader's buffer. */
spk_bytes spk_get_bytes(spk_rd *r);
/* A malloc'ed NUL-terminated copy, NULL when absent (or bad). */
char *spk_get_str(spk_rd *r);
bool spk_rd_done(const spk_rd *r); /* true when not bad and at the end */

/* A shuffle record on disk and on the wire: flags (1 = keyed), key, value. */
int spk_put_row(spk_buf *b, const spk_row *row);
/* Reads one row (bytes borrowed from the reader); false at end or on bad input. */
bool spk_get_row(spk_rd *r, spk_row *row);

/* An arena: bytes freed all at once. */
typedef struct spk_arena_chunk spk_arena_chunk;
typedef struct spk_arena {
	spk_arena_chunk *head;
	size_t used_total;
} spk_arena;

/* A copy of len bytes (with a NUL after them) that lives until spk_arena_fini; NULL
 * on out of memory. data NULL: len bytes left uninitialised. */
char *spk_arena_copy(spk_arena *a, const void *data, size_t len);
void spk_arena_fini(spk_arena *a);

/* FNV-1a of bytes. */
uint64_t spk_hash(const void *data, size_t len);
/* Bytewise order of keys (shorter first on a common prefix). */
int spk_bytes_cmp(spk_bytes a, spk_bytes b);

#endif
