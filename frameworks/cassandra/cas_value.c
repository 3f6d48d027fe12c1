/* cas_value.c — see cas_value.h. */
#include "cas_value.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const names[] = {"text", "int", "bigint", "double", "blob", "timestamp"};

bool cas_type_parse(const char *name, cas_type *out)
{
	for (int i = 0; i < 6; i++) {
		if (strcasecmp(name, names[i]) == 0) {
			*out = (cas_type)i;
			return true;
		}
	}
	if (strcasecmp(name, "varchar") == 0) {
		*out = CAS_TEXT;
		return true;
	}
	return false;
}

const char *cas_type_name(cas_type t)
{
	return (unsigned)t < 6 ? names[t] : "?";
}

cas_value cas_value_text(const char *s)
{
	return (cas_value){.type = CAS_TEXT, .bytes = (uint8_t *)s, .len = strlen(s)};
}

static uint64_t double_bits(double d)
{
	uint64_t b;
	memcpy(&b, &d, 8);
	return b;
}

void cas_value_put_cell(cas_wbuf *w, const cas_value *v)
{
	switch (v->type) {
	case CAS_INT:
		cas_put_u32(w, (uint32_t)(int32_t)v->i);
		break;
	case CAS_BIGINT:
	case CAS_TIMESTAMP:
		cas_put_u64(w, (uint64_t)v->i);
		break;
	case CAS_DOUBLE:
		cas_put_u64(w, double_bits(v->d));
		break;
	default:
		cas_put_raw(w, v->bytes, v->len);
	}
}

bool cas_value_from_cell(cas_type t, const uint8_t *p, size_t n, cas_value *v)
{
	*v = (cas_value){.type = t};
	switch (t) {
	case CAS_INT:
		if (n != 4)
			return false;
		v->i = (int32_t)cas_be32_load(p);
		return true;
	case CAS_BIGINT:
	case CAS_TIMESTAMP:
		if (n != 8)
			return false;
		v->i = (int64_t)cas_be64_load(p);
		return true;
	case CAS_DOUBLE: {
		if (n != 8)
			return false;
		uint64_t b = cas_be64_load(p);
		memcpy(&v->d, &b, 8);
		return true;
	}
	default:
		v->bytes = (uint8_t *)p;
		v->len = n;
		return true;
	}
}

void cas_value_put_key(cas_wbuf *w, const cas_value *v)
{
	switch (v->type) {
	case CAS_INT:
		cas_put_u32(w, (uint32_t)(int32_t)v->i ^ 0x80000000u);
		break;
	case CAS_BIGINT:
	case CAS_TIMESTAMP:
		cas_put_u64(w, (uint64_t)v->i ^ 0x8000000000000000ULL);
		break;
	case CAS_DOUBLE: {
		uint64_t b = double_bits(v->d);
		cas_put_u64(w, (b >> 63) ? ~b : b ^ 0x8000000000000000ULL);
		break;
	}
	default:
		/* 0x00 escapes as 0x00 0xFF; 0x00 0x00 ends the value (sorts before any byte). */
		for (size_t i = 0; i < v->len; i++) {
			cas_put_u8(w, v->bytes[i]);
			if (v->bytes[i] == 0)
				cas_put_u8(w, 0xFF);
		}
		cas_put_u8(w, 0);
		cas_put_u8(w, 0);
	}
}

bool cas_value_get_key(cas_rbuf *r, cas_type t, cas_value *v)
{
	*v = (cas_value){.type = t};
	switch (t) {
	case CAS_INT:
		v->i = (int32_t)(cas_get_u32(r) ^ 0x80000000u);
		return !r->bad;
	case CAS_BIGINT:
	case CAS_TIMESTAMP:
		v->i = (int64_t)(cas_get_u64(r) ^ 0x8000000000000000ULL);
		return !r->bad;
	case CAS_DOUBLE: {
		uint64_t b = cas_get_u64(r);
		b = (b >> 63) ? b ^ 0x8000000000000000ULL : ~b;
		memcpy(&v->d, &b, 8);
		return !r->bad;
	}
	default: {
		cas_wbuf out = {0};
		for (;;) {
			uint8_t c = cas_get_u8(r);
			if (r->bad)
				break;
			if (c != 0) {
				cas_put_u8(&out, c);
				continue;
			}
			uint8_t e = cas_get_u8(r);
			if (e == 0 || r->bad)
				break;
			if (e != 0xFF) {
				r->bad = true;
				break;
			}
			cas_put_u8(&out, 0);
		}
		if (r->bad || out.oom) {
			cas_wbuf_fini(&out);
			return false;
		}
		cas_put_u8(&out, 0); /* a NUL after text, not counted */
		v->bytes = out.data;
		v->len = out.len - 1;
		return !out.oom;
	}
	}
}

int cas_value_cmp(const cas_value *a, const cas_value *b)
{
	switch (a->type) {
	case CAS_INT:
	case CAS_BIGINT:
	case CAS_TIMESTAMP:
		return a->i < b->i ? -1 : a->i > b->i;
	case CAS_DOUBLE:
		return a->d < b->d ? -1 : a->d > b->d;
	default: {
		size_t n = a->len < b->len ? a->len : b->len;
		int c = n ? memcmp(a->bytes, b->bytes, n) : 0;
		return c ? c : a->len < b->len ? -1 : a->len > b->len;
	}
	}
}

void cas_value_format(const cas_value *v, char *out, size_t n)
{
	if (v->null) {
		snprintf(out, n, "null");
		return;
	}
	switch (v->type) {
	case CAS_INT:
	case CAS_BIGINT:
		snprintf(out, n, "%" PRId64, v->i);
		break;
	case CAS_DOUBLE:
		snprintf(out, n, "%g", v->d);
		break;
	case CAS_TIMESTAMP: {
		time_t s = (time_t)(v->i / 1000);
		struct tm tm;
		gmtime_r(&s, &tm);
		char buf[40];
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(out, n, "%s.%03d+0000", buf, (int)(((v->i % 1000) + 1000) % 1000));
		break;
	}
	case CAS_BLOB: {
		size_t o = 0;
		o += (size_t)snprintf(out, n, "0x");
		for (size_t i = 0; i < v->len && o + 3 < n; i++)
			o += (size_t)snprintf(out + o, n - o, "%02x", v->bytes[i]);
		break;
	}
	default:
		snprintf(out, n, "%.*s", (int)v->len, (const char *)v->bytes);
	}
}

void cas_value_fini(cas_value *v)
{
	if (v->type == CAS_TEXT || v->type == CAS_BLOB)
		free(v->bytes);
	v->bytes = NULL;
	v->len = 0;
}
