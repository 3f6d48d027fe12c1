/* cas_value.h — CQL column types and their two byte forms: the value stored in a cell
 * (Cassandra's serialization: big-endian integers, IEEE doubles, raw text and blobs,
 * timestamps as milliseconds) and the order-preserving, prefix-free form that keys use
 * (so memcmp order is CQL order and components can be concatenated). */
#ifndef CAS_VALUE_H
#define CAS_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_buf.h"

typedef enum cas_type {
	CAS_TEXT,
	CAS_INT,
	CAS_BIGINT,
	CAS_DOUBLE,
	CAS_BLOB,
	CAS_TIMESTAMP,
} cas_type;

/* A typed value; text and blob point at bytes owned elsewhere (or by the value when
 * made by cas_value_parse: then free with cas_value_fini). */
typedef struct cas_value {
	cas_type type;
	bool null;
	int64_t i;   /* int, bigint, timestamp (ms) */
	double d;
	uint8_t *bytes; /* text, blob */
	size_t len;
} cas_value;

/* "text", "int", ... (and "varchar" for text); false for anything else. */
bool cas_type_parse(const char *name, cas_type *out);
const char *cas_type_name(cas_type t);

/* The cell form of v (not null). */
void cas_value_put_cell(cas_wbuf *w, const cas_value *v);
/* Reads a cell form; false when the bytes do not fit the type. v's bytes borrow p. */
bool cas_value_from_cell(cas_type t, const uint8_t *p, size_t n, cas_value *v);
/* The key form (order-preserving, prefix-free). */
void cas_value_put_key(cas_wbuf *w, const cas_value *v);
/* Reads one key-form value from r (v's text/blob bytes are allocated: cas_value_fini). */
bool cas_value_get_key(cas_rbuf *r, cas_type t, cas_value *v);

/* Orders two values of one type as CQL does. */
int cas_value_cmp(const cas_value *a, const cas_value *b);

/* Writes the value as cqlsh prints it into out (NUL-terminated, truncated to n). */
void cas_value_format(const cas_value *v, char *out, size_t n);

void cas_value_fini(cas_value *v);

/* Text as a value (borrowing s). */
cas_value cas_value_text(const char *s);

#endif
