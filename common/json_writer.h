/* json_writer.h — a small streaming JSON writer into one growing buffer, for answers too
 * large to build as a jansson tree first (GET /master/state).
 *
 * Its output is byte for byte what json_dumps(tree, PX_JSON_DUMP_FLAGS) gives for the
 * tree built with the same calls, and it drops what jansson would refuse to hold: a
 * key/value pair whose key or string value is NULL or not valid UTF-8, an array element
 * that is such a string, a real that is not finite. Strings are escaped as jansson does
 * (RFC 8259: quote, backslash and control characters; non-ASCII UTF-8 is kept as is).
 *
 * Out of memory is sticky: later calls do nothing and px_jw_finish returns NULL. */
#ifndef PX_COMMON_JSON_WRITER_H
#define PX_COMMON_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PX_JW_MAX_DEPTH 64

typedef struct px_jw {
	char *buf;
	size_t len, cap;
	bool oom;
	int depth;
	bool first[PX_JW_MAX_DEPTH]; /* nothing written yet at this depth */
} px_jw;

/* Starts an empty writer with room for `hint` bytes (0: a small default). */
void px_jw_init(px_jw *w, size_t hint);
/* Frees the buffer of a writer that was not finished. px_jw_fini on a finished one is a
 * no-op. */
void px_jw_fini(px_jw *w);
/* The text, NUL-terminated, its length in *len; the caller owns it (free()). NULL if
 * memory ran out or the nesting is unbalanced; the writer is reset either way. */
char *px_jw_finish(px_jw *w, size_t *len);

/* True if s (NUL-terminated) is UTF-8 that jansson accepts. */
bool px_jw_utf8_valid(const char *s);

/* Containers: *_begin as an array element or the root, px_jw_key_* inside an object. */
void px_jw_object_begin(px_jw *w);
void px_jw_object_end(px_jw *w);
void px_jw_array_begin(px_jw *w);
void px_jw_array_end(px_jw *w);
/* False (and nothing written) if the key is not one jansson would hold; then skip the
 * value too. */
bool px_jw_key_object(px_jw *w, const char *key);
bool px_jw_key_array(px_jw *w, const char *key);

/* Array elements (or the root). */
void px_jw_string(px_jw *w, const char *s);
void px_jw_real(px_jw *w, double v);
void px_jw_integer(px_jw *w, json_int_t v);
void px_jw_bool(px_jw *w, bool v);
/* A jansson value, dumped in place; NULL is skipped. The caller keeps its reference. */
void px_jw_json(px_jw *w, const json_t *j);

/* Object members. */
void px_jw_kv_string(px_jw *w, const char *key, const char *s);
void px_jw_kv_real(px_jw *w, const char *key, double v);
void px_jw_kv_integer(px_jw *w, const char *key, json_int_t v);
void px_jw_kv_bool(px_jw *w, const char *key, bool v);
void px_jw_kv_json(px_jw *w, const char *key, const json_t *j);

#endif
