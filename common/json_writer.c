/* json_writer.c — see json_writer.h. The formats copy jansson 2.14's dump.c and
 * strconv.c (compact separators, "%lld" integers, "%.15g" reals with ".0" added when
 * there is neither a dot nor an exponent and the exponent stripped of '+' and leading
 * zeros) so that swapping a tree for the writer changes no byte of an answer. */
#include "common/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_pb.h"

void px_jw_init(px_jw *w, size_t hint)
{
	memset(w, 0, sizeof(*w));
	w->cap = hint ? hint : 256;
	w->buf = malloc(w->cap);
	if (w->buf == NULL)
		w->oom = true;
}

void px_jw_fini(px_jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

char *px_jw_finish(px_jw *w, size_t *len)
{
	char *out = NULL;

	/* Room for the NUL. */
	if (!w->oom && w->depth == 0 && w->len + 1 <= w->cap) {
		w->buf[w->len] = '\0';
		out = w->buf;
		*len = w->len;
		w->buf = NULL;
	} else if (!w->oom && w->depth == 0) {
		char *nb = realloc(w->buf, w->len + 1);
		if (nb != NULL) {
			nb[w->len] = '\0';
			out = nb;
			*len = w->len;
			w->buf = NULL;
		}
	}
	px_jw_fini(w);
	return out;
}

static bool grow(px_jw *w, size_t more)
{
	if (w->oom)
		return false;
	if (w->cap - w->len >= more)
		return true;
	size_t cap = w->cap;
	while (cap - w->len < more) {
		if (cap > SIZE_MAX / 2) {
			w->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *nb = realloc(w->buf, cap);
	if (nb == NULL) {
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

static void put(px_jw *w, const char *s, size_t n)
{
	if (grow(w, n)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static void putc_(px_jw *w, char c)
{
	if (grow(w, 1))
		w->buf[w->len++] = c;
}

/* Length of the UTF-8 sequence at s that jansson's utf8_check_first/utf8_check_full
 * accept, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char u = s[0];
	size_t n;
	int32_t v;

	if (u < 0x80)
		return 1;
	if (u < 0xC2)
		return 0; /* continuation byte or overlong two-byte form */
	if (u <= 0xDF) {
		n = 2;
		v = u & 0x1F;
	} else if (u <= 0xEF) {
		n = 3;
		v = u & 0x0F;
	} else if (u <= 0xF4) {
		n = 4;
		v = u & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0; /* also stops at the NUL */
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

bool px_jw_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return false;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* Writes s, known valid, quoted and escaped. */
static void put_string(px_jw *w, const char *s)
{
	const char *run = s;

	putc_(w, '"');
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\b':
			put(w, "\\b", 2);
			break;
		case '\f':
			put(w, "\\f", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		default: {
			char seq[8];
			snprintf(seq, sizeof(seq), "\\u%04X", (unsigned)c);
			put(w, seq, 6);
		}
		}
	}
	put(w, run, strlen(run));
	putc_(w, '"');
}

/* The separator before a new element or member at the current depth. */
static void sep(px_jw *w)
{
	if (w->depth == 0)
		return;
	if (!w->first[w->depth - 1])
		putc_(w, ',');
	w->first[w->depth - 1] = false;
}

static void push(px_jw *w, char c)
{
	putc_(w, c);
	if (w->depth >= PX_JW_MAX_DEPTH) {
		w->oom = true; /* deeper than any answer we build: a programmer error */
		return;
	}
	w->first[w->depth++] = true;
}

static void pop(px_jw *w, char c)
{
	putc_(w, c);
	if (w->depth > 0)
		w->depth--;
}

static bool key(px_jw *w, const char *k)
{
	if (!px_jw_utf8_valid(k))
		return false;
	sep(w);
	put_string(w, k);
	putc_(w, ':');
	return true;
}

void px_jw_object_begin(px_jw *w)
{
	sep(w);
	push(w, '{');
}

void px_jw_object_end(px_jw *w)
{
	pop(w, '}');
}

void px_jw_array_begin(px_jw *w)
{
	sep(w);
	push(w, '[');
}

void px_jw_array_end(px_jw *w)
{
	pop(w, ']');
}

bool px_jw_key_object(px_jw *w, const char *k)
{
	if (!key(w, k))
		return false;
	push(w, '{');
	return true;
}

bool px_jw_key_array(px_jw *w, const char *k)
{
	if (!key(w, k))
		return false;
	push(w, '[');
	return true;
}

static void put_real(px_jw *w, double v)
{
	char b[64];
	int n = snprintf(b, sizeof(b), "%.15g", v);

	if (n < 0 || (size_t)n >= sizeof(b) - 3)
		return;
	if (strchr(b, '.') == NULL && strchr(b, 'e') == NULL) {
		b[n++] = '.';
		b[n++] = '0';
		b[n] = '\0';
	}
	char *e = strchr(b, 'e');
	if (e != NULL) {
		char *start = e + 1, *end = start + 1;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, (size_t)(n - (end - b)) + 1);
			n -= (int)(end - start);
		}
	}
	put(w, b, (size_t)n);
}

static void put_integer(px_jw *w, json_int_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT, v);
	put(w, b, (size_t)n);
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	px_jw *w = data;

	put(w, buffer, size);
	return w->oom ? -1 : 0;
}

static void put_json(px_jw *w, const json_t *j)
{
	if (json_dump_callback(j, dump_cb, w, PX_JSON_DUMP_FLAGS | JSON_ENCODE_ANY) != 0)
		w->oom = true;
}

void px_jw_string(px_jw *w, const char *s)
{
	if (!px_jw_utf8_valid(s))
		return;
	sep(w);
	put_string(w, s);
}

void px_jw_real(px_jw *w, double v)
{
	if (!isfinite(v))
		return;
	sep(w);
	put_real(w, v);
}

void px_jw_integer(px_jw *w, json_int_t v)
{
	sep(w);
	put_integer(w, v);
}

void px_jw_bool(px_jw *w, bool v)
{
	sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void px_jw_json(px_jw *w, const json_t *j)
{
	if (j == NULL)
		return;
	sep(w);
	put_json(w, j);
}

void px_jw_kv_string(px_jw *w, const char *k, const char *s)
{
	if (px_jw_utf8_valid(s) && key(w, k))
		put_string(w, s);
}

void px_jw_kv_real(px_jw *w, const char *k, double v)
{
	if (isfinite(v) && key(w, k))
		put_real(w, v);
}

void px_jw_kv_integer(px_jw *w, const char *k, json_int_t v)
{
	if (key(w, k))
		put_integer(w, v);
}

void px_jw_kv_bool(px_jw *w, const char *k, bool v)
{
	if (key(w, k))
		put(w, v ? "true" : "false", v ? 4 : 5);
}

void px_jw_kv_json(px_jw *w, const char *k, const json_t *j)
{
	if (j != NULL && key(w, k))
		put_json(w, j);
}
