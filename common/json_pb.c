/* json_pb.c — descriptor-driven protobuf-c <-> JSON conversion (see json_pb.h).
 *
 * Fields are reached through the descriptors' offsets: `offset` locates the value (or
 * the array of a repeated field), `quantifier_offset` the has_ flag of an optional
 * scalar, the count of a repeated field, or the case of a oneof. Messages under
 * construction are always consistent (counts follow what is stored), so that
 * protobuf_c_message_free_unpacked() can release a half-read message on error. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_pb.h"

/* ---- Base64 ----------------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

/* Decodes s (padding optional) into a new buffer; returns -1 on bad input, -2 on no
 * memory. */
static int b64_decode(const char *s, size_t n, uint8_t **out, size_t *outlen)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	uint8_t *buf = malloc(n * 3 / 4 + 1);
	if (buf == NULL)
		return -2;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
	}
	*out = buf;
	*outlen = o;
	return 0;
}

/* ---- Field access ----------------------------------------------------------------- */

static void *field_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->offset;
}

static void *quant_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->quantifier_offset;
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* True when a singular field holds a value that is to be written. */
static bool field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = field_ptr(m, f);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)quant_ptr(m, f) == f->id;
	bool pointer = f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
	if (pointer) {
		const void *v = *(const void *const *)p;
		if (v == NULL)
			return false;
		if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			return true;
		if (f->type == PROTOBUF_C_TYPE_STRING && v == f->default_value)
			return false;
		if (f->label == PROTOBUF_C_LABEL_NONE && f->type == PROTOBUF_C_TYPE_STRING)
			return ((const char *)v)[0] != '\0';
		return true;
	}
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)quant_ptr(m, f) != 0;
	/* proto3 singular: set when not zero. */
	if (f->type == PROTOBUF_C_TYPE_BYTES)
		return ((const ProtobufCBinaryData *)p)->len > 0;
	static const char zero[16];
	return memcmp(p, zero, type_size(f->type)) != 0;
}

/* ---- To JSON ---------------------------------------------------------------------- */

/* A JSON string of s; bytes that are not UTF-8 become '?', so that output is valid. */
static json_t *string_to_json(const char *s)
{
	json_t *j = json_string(s);
	if (j != NULL)
		return j;
	char *copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *double_to_json(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

static json_t *value_to_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v = *(const uint64_t *)p;
		if (v <= INT64_MAX)
			return json_integer((json_int_t)v);
		char buf[24];
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		return json_string(buf);
	}
	case PROTOBUF_C_TYPE_FLOAT:
		return double_to_json(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return double_to_json(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
		    (const ProtobufCEnumDescriptor *)f->descriptor, v);
		return ev ? json_string(ev->name) : json_integer(v);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return string_to_json(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		char *s = b64_encode(b->data, b->len);
		if (s == NULL)
			return NULL;
		json_t *j = json_string(s);
		free(s);
		return j;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
		return m ? px_pb_to_json(m) : json_object();
	}
	}
	return NULL;
}

json_t *px_pb_to_json(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	json_t *obj = json_object();
	if (obj == NULL)
		return NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)quant_ptr(msg, f);
			if (n == 0)
				continue;
			const char *arr = *(const char *const *)field_ptr(msg, f);
			size_t sz = type_size(f->type);
			v = json_array();
			for (size_t k = 0; v != NULL && k < n; k++) {
				json_t *e = value_to_json(f, arr + k * sz);
				if (e == NULL || json_array_append_new(v, e) != 0) {
					json_decref(v);
					v = NULL;
				}
			}
		} else {
			if (!field_is_set(msg, f))
				continue;
			v = value_to_json(f, field_ptr(msg, f));
		}
		if (v == NULL || json_object_set_new(obj, f->name, v) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* ---- From JSON -------------------------------------------------------------------- */

/* Reader state: where we are (for messages) and where to write the error. */
struct rd {
	char path[512];
	size_t plen;
	char *err;
	size_t errlen;
};

static int rd_error(struct rd *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rd_error(struct rd *r, int code, const char *fmt, ...)
{
	char why[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r->plen > 0)
		return px_errorf(r->err, r->errlen, code, "%s: %s", r->path, why);
	return px_errorf(r->err, r->errlen, code, "%s", why);
}

/* Appends a path component; returns the old length to restore. */
static size_t rd_push(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t rd_push(struct rd *r, const char *fmt, ...)
{
	size_t old = r->plen;
	if (r->plen < sizeof(r->path) - 1) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(r->path + r->plen, sizeof(r->path) - r->plen, fmt, ap);
		va_end(ap);
		if (k > 0)
			r->plen += (size_t)k;
		if (r->plen > sizeof(r->path) - 1)
			r->plen = sizeof(r->path) - 1;
	}
	return old;
}

static void rd_pop(struct rd *r, size_t old)
{
	r->plen = old;
	r->path[old] = '\0';
}

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static int read_message(struct rd *r, const json_t *j, const ProtobufCMessageDescriptor *d,
                        ProtobufCMessage **out);

/* Reads an integer as int64 or uint64 (is_unsigned) from a JSON integer, an integral
 * real, or a decimal string. */
static int read_integer(struct rd *r, const json_t *j, bool is_unsigned, int64_t *sv, uint64_t *uv)
{
	if (json_is_integer(j)) {
		json_int_t v = json_integer_value(j);
		if (is_unsigned && v < 0)
			return rd_error(r, PX_EINVAL, "%lld is negative", (long long)v);
		*sv = v;
		*uv = (uint64_t)v;
		return PX_OK;
	}
	if (json_is_real(j)) {
		double v = json_real_value(j);
		if (v != floor(v) || v < (is_unsigned ? 0.0 : -9223372036854775808.0) ||
		    v >= (is_unsigned ? 18446744073709551616.0 : 9223372036854775808.0))
			return rd_error(r, PX_EINVAL, "%g is not an integer in range", v);
		*sv = is_unsigned ? 0 : (int64_t)v;
		*uv = is_unsigned ? (uint64_t)v : 0;
		return PX_OK;
	}
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		char *end;
		errno = 0;
		bool ok = s[0] != '\0' && s[0] != ' ' && !(is_unsigned && s[0] == '-');
		if (is_unsigned)
			*uv = strtoull(s, &end, 10);
		else
			*sv = strtoll(s, &end, 10);
		if (!ok || *end != '\0' || errno == ERANGE)
			return rd_error(r, PX_EINVAL, "'%s' is not an integer in range", s);
		if (is_unsigned)
			*sv = 0;
		else
			*uv = 0;
		return PX_OK;
	}
	return rd_error(r, PX_EINVAL, "expected an integer, got %s", json_kind(j));
}

static int read_double(struct rd *r, const json_t *j, double *v)
{
	if (json_is_number(j)) {
		*v = json_number_value(j);
		return PX_OK;
	}
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		if (strcmp(s, "NaN") == 0)
			*v = NAN;
		else if (strcmp(s, "Infinity") == 0)
			*v = INFINITY;
		else if (strcmp(s, "-Infinity") == 0)
			*v = -INFINITY;
		else
			return rd_error(r, PX_EINVAL, "expected a number, got string '%s'", s);
		return PX_OK;
	}
	return rd_error(r, PX_EINVAL, "expected a number, got %s", json_kind(j));
}

/* Reads one value of field f from j into p (storage of type_size(f->type) bytes). */
static int read_value(struct rd *r, const ProtobufCFieldDescriptor *f, const json_t *j, void *p)
{
	int64_t sv = 0;
	uint64_t uv = 0;
	int rc;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((rc = read_integer(r, j, false, &sv, &uv)) != PX_OK)
			return rc;
		if (sv < INT32_MIN || sv > INT32_MAX)
			return rd_error(r, PX_EINVAL, "%lld does not fit in int32", (long long)sv);
		*(int32_t *)p = (int32_t)sv;
		return PX_OK;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((rc = read_integer(r, j, true, &sv, &uv)) != PX_OK)
			return rc;
		if (uv > UINT32_MAX)
			return rd_error(r, PX_EINVAL, "%llu does not fit in uint32",
			                (unsigned long long)uv);
		*(uint32_t *)p = (uint32_t)uv;
		return PX_OK;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((rc = read_integer(r, j, false, &sv, &uv)) != PX_OK)
			return rc;
		*(int64_t *)p = sv;
		return PX_OK;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if ((rc = read_integer(r, j, true, &sv, &uv)) != PX_OK)
			return rc;
		*(uint64_t *)p = uv;
		return PX_OK;
	case PROTOBUF_C_TYPE_FLOAT: {
		double v;
		if ((rc = read_double(r, j, &v)) != PX_OK)
			return rc;
		*(float *)p = (float)v;
		return PX_OK;
	}
	case PROTOBUF_C_TYPE_DOUBLE:
		return read_double(r, j, (double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(j))
			return rd_error(r, PX_EINVAL, "expected a boolean, got %s", json_kind(j));
		*(protobuf_c_boolean *)p = json_is_true(j);
		return PX_OK;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		const ProtobufCEnumValue *ev = NULL;
		if (json_is_string(j)) {
			ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(j));
			if (ev == NULL)
				return rd_error(r, PX_EINVAL, "unknown %s value '%s'", ed->name,
				                json_string_value(j));
		} else if (json_is_integer(j)) {
			json_int_t v = json_integer_value(j);
			if (v >= INT32_MIN && v <= INT32_MAX)
				ev = protobuf_c_enum_descriptor_get_value(ed, (int)v);
			if (ev == NULL)
				return rd_error(r, PX_EINVAL, "unknown %s value %lld", ed->name,
				                (long long)v);
		} else {
			return rd_error(r, PX_EINVAL, "expected a %s name, got %s", ed->name,
			                json_kind(j));
		}
		*(int *)p = ev->value;
		return PX_OK;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_is_string(j))
			return rd_error(r, PX_EINVAL, "expected a string, got %s", json_kind(j));
		if (memchr(json_string_value(j), '\0', json_string_length(j)) != NULL)
			return rd_error(r, PX_EINVAL, "string contains a NUL character");
		char *s = strdup(json_string_value(j));
		if (s == NULL)
			return rd_error(r, PX_ENOMEM, "out of memory");
		*(char **)p = s;
		return PX_OK;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		if (!json_is_string(j))
			return rd_error(r, PX_EINVAL, "expected a base64 string, got %s",
			                json_kind(j));
		ProtobufCBinaryData *b = p;
		uint8_t *data;
		size_t len;
		int drc = b64_decode(json_string_value(j), json_string_length(j), &data, &len);
		if (drc == -2)
			return rd_error(r, PX_ENOMEM, "out of memory");
		if (drc != 0)
			return rd_error(r, PX_EINVAL, "invalid base64");
		b->data = data;
		b->len = len;
		return PX_OK;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return read_message(r, j, f->descriptor, (ProtobufCMessage **)p);
	}
	return rd_error(r, PX_EINVAL, "unsupported field type");
}

/* Frees what a singular field holds before it is overwritten (a message initialised
 * with a default string must not free the default). */
static void clear_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void *p = field_ptr(m, f);
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *s = *(char **)p;
		if (s != NULL && s != f->default_value && s != (char *)protobuf_c_empty_string)
			free(s);
		*(char **)p = NULL;
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *b = p;
		const ProtobufCBinaryData *def = f->default_value;
		if (b->data != NULL && (def == NULL || b->data != def->data))
			free(b->data);
		b->data = NULL;
		b->len = 0;
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sub = *(ProtobufCMessage **)p;
		if (sub != NULL)
			protobuf_c_message_free_unpacked(sub, NULL);
		*(ProtobufCMessage **)p = NULL;
	}
}

static int read_field(struct rd *r, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                      const json_t *j)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		clear_singular(m, f);
		/* Read into scratch storage first, so the message never holds half a value. */
		union {
			char bytes[sizeof(ProtobufCBinaryData)];
			uint64_t align;
		} tmp;
		memset(&tmp, 0, sizeof(tmp));
		int rc = read_value(r, f, j, &tmp);
		if (rc != PX_OK)
			return rc;
		memcpy(field_ptr(m, f), &tmp, type_size(f->type));
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*(uint32_t *)quant_ptr(m, f) = f->id;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		         f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)quant_ptr(m, f) = 1;
		return PX_OK;
	}
	if (!json_is_array(j))
		return rd_error(r, PX_EINVAL, "expected an array, got %s", json_kind(j));
	size_t n = json_array_size(j);
	if (n == 0)
		return PX_OK;
	size_t sz = type_size(f->type);
	char *arr = calloc(n, sz);
	if (arr == NULL)
		return rd_error(r, PX_ENOMEM, "out of memory");
	*(void **)field_ptr(m, f) = arr;
	size_t *count = quant_ptr(m, f);
	for (size_t k = 0; k < n; k++) {
		size_t old = rd_push(r, "[%zu]", k);
		int rc = read_value(r, f, json_array_get(j, k), arr + k * sz);
		rd_pop(r, old);
		if (rc != PX_OK)
			return rc;
		*count = k + 1;
	}
	return PX_OK;
}

static int read_message(struct rd *r, const json_t *j, const ProtobufCMessageDescriptor *d,
                        ProtobufCMessage **out)
{
	if (!json_is_object(j))
		return rd_error(r, PX_EINVAL, "expected an object for %s, got %s", d->name,
		                json_kind(j));
	ProtobufCMessage *m = malloc(d->sizeof_message);
	bool *seen = calloc(d->n_fields ? d->n_fields : 1, sizeof(bool));
	if (m == NULL || seen == NULL) {
		free(m);
		free(seen);
		return rd_error(r, PX_ENOMEM, "out of memory");
	}
	d->message_init(m);
	int rc = PX_OK;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)j, key, val)
	{
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (f == NULL) {
			rc = rd_error(r, PX_EINVAL, "unknown field '%s' in %s", key, d->name);
			break;
		}
		if (json_is_null(val))
			continue;
		size_t old = rd_push(r, "%s%s", r->plen ? "." : "", key);
		rc = read_field(r, m, f, val);
		rd_pop(r, old);
		if (rc != PX_OK)
			break;
		seen[f - d->fields] = true;
	}
	for (unsigned i = 0; rc == PX_OK && i < d->n_fields; i++)
		if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !seen[i])
			rc = rd_error(r, PX_EINVAL, "missing required field '%s' in %s",
			              d->fields[i].name, d->name);
	free(seen);
	if (rc != PX_OK) {
		protobuf_c_message_free_unpacked(m, NULL);
		return rc;
	}
	*out = m;
	return PX_OK;
}

int px_json_to_pb(const json_t *json, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out, char *err, size_t errlen)
{
	struct rd r = {.err = err, .errlen = errlen};
	r.path[0] = '\0';
	if (json == NULL)
		return px_errorf(err, errlen, PX_EINVAL, "no JSON value");
	return read_message(&r, json, desc, out);
}
