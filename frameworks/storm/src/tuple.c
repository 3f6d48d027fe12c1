/* tuple.c — values, the batch wire format and received tuples (tuple.h). */
#include <stdlib.h>
#include <string.h>

#include "tuple.h"

stm_value stm_int(int64_t v)
{
	return (stm_value){.type = STM_INT, .u.i = v};
}

stm_value stm_double(double v)
{
	return (stm_value){.type = STM_DOUBLE, .u.d = v};
}

stm_value stm_strn(const char *s, size_t len)
{
	stm_value v = {.type = STM_STRING};
	v.u.s.ptr = s != NULL ? s : "";
	v.u.s.len = s != NULL ? (uint32_t)len : 0;
	return v;
}

stm_value stm_str(const char *s)
{
	return stm_strn(s, s != NULL ? strlen(s) : 0);
}

stm_value stm_bytes(const void *p, size_t len)
{
	stm_value v = stm_strn(p, len);
	v.type = STM_BYTES;
	return v;
}

size_t stm_tuple_size(const stm_tuple *t)
{
	return (size_t)t->nvalues;
}

stm_value stm_tuple_value(const stm_tuple *t, size_t i)
{
	if (i >= (size_t)t->nvalues)
		return (stm_value){.type = STM_NULL};
	return t->values[i];
}

stm_value stm_tuple_field(const stm_tuple *t, const char *field)
{
	if (t->source == NULL || t->stream < 0)
		return (stm_value){.type = STM_NULL};
	const struct stm_stream *s = &t->source->streams[t->stream];
	for (int i = 0; i < s->nfields && i < t->nvalues; i++)
		if (strcmp(s->fields[i], field) == 0)
			return t->values[i];
	return (stm_value){.type = STM_NULL};
}

int64_t stm_tuple_int(const stm_tuple *t, size_t i)
{
	stm_value v = stm_tuple_value(t, i);
	return v.type == STM_INT ? v.u.i : 0;
}

double stm_tuple_double(const stm_tuple *t, size_t i)
{
	stm_value v = stm_tuple_value(t, i);
	return v.type == STM_DOUBLE ? v.u.d : 0.0;
}

const char *stm_tuple_string(const stm_tuple *t, size_t i, size_t *len)
{
	stm_value v = stm_tuple_value(t, i);
	if (v.type != STM_STRING && v.type != STM_BYTES) {
		if (len != NULL)
			*len = 0;
		return "";
	}
	if (len != NULL)
		*len = v.u.s.len;
	return v.u.s.ptr;
}

const char *stm_tuple_component(const stm_tuple *t)
{
	return t->source != NULL ? t->source->name : "__system";
}

const char *stm_tuple_stream(const stm_tuple *t)
{
	if (t->source == NULL || t->stream < 0)
		return STM_TICK_STREAM;
	return t->source->streams[t->stream].name;
}

int stm_tuple_source_task(const stm_tuple *t)
{
	return t->source_task;
}

bool stm_tuple_is_tick(const stm_tuple *t)
{
	return t->source == NULL;
}

stm_tuple *stm_tuple_keep(const stm_tuple *t)
{
	size_t extra = 0;
	for (int i = 0; i < t->nvalues; i++)
		if (t->values[i].type == STM_STRING || t->values[i].type == STM_BYTES)
			extra += t->values[i].u.s.len;
	stm_tuple *copy = malloc(sizeof(*copy) + extra);
	if (copy == NULL)
		return NULL;
	*copy = *t;
	char *p = (char *)(copy + 1);
	for (int i = 0; i < t->nvalues; i++)
		if (t->values[i].type == STM_STRING || t->values[i].type == STM_BYTES) {
			memcpy(p, t->values[i].u.s.ptr, t->values[i].u.s.len);
			copy->values[i].u.s.ptr = p;
			p += t->values[i].u.s.len;
		}
	copy->heap = true;
	copy->kept = false;
	((stm_tuple *)t)->kept = true;
	return copy;
}

void stm_tuple_free(stm_tuple *t)
{
	if (t != NULL && t->heap)
		free(t);
}

/* ---- buffers ---------------------------------------------------------------------- */

int stm_buf_reserve(struct stm_buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

void stm_buf_fini(struct stm_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static inline void put(struct stm_buf *b, const void *v, size_t n)
{
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static inline void put_u8(struct stm_buf *b, uint8_t v)
{
	b->p[b->len++] = v;
}

int stm_buf_put_tuple(struct stm_buf *b, int source_task, int stream,
                      const struct stm_anchor *anchors, int nanchors, const stm_value *values,
                      int nvalues)
{
	size_t need = 1 + 4 + 2 + 1 + (size_t)nanchors * 16 + 1;
	for (int i = 0; i < nvalues; i++)
		need += 1 + (values[i].type == STM_STRING || values[i].type == STM_BYTES
		                 ? 4 + (size_t)values[i].u.s.len
		                 : 8);
	if (stm_buf_reserve(b, need) != 0)
		return -1;
	uint32_t src = (uint32_t)source_task;
	uint16_t st = (uint16_t)stream;
	put_u8(b, STM_REC_TUPLE);
	put(b, &src, 4);
	put(b, &st, 2);
	put_u8(b, (uint8_t)nanchors);
	for (int i = 0; i < nanchors; i++) {
		put(b, &anchors[i].root, 8);
		put(b, &anchors[i].edge, 8);
	}
	put_u8(b, (uint8_t)nvalues);
	for (int i = 0; i < nvalues; i++) {
		const stm_value *v = &values[i];
		put_u8(b, (uint8_t)v->type);
		switch (v->type) {
		case STM_INT:
			put(b, &v->u.i, 8);
			break;
		case STM_DOUBLE:
			put(b, &v->u.d, 8);
			break;
		case STM_STRING:
		case STM_BYTES:
			put(b, &v->u.s.len, 4);
			put(b, v->u.s.ptr, v->u.s.len);
			break;
		default: {
			uint64_t zero = 0;
			put(b, &zero, 8);
		}
		}
	}
	b->records++;
	return 0;
}

int stm_buf_put_ack(struct stm_buf *b, uint8_t kind, uint64_t root, uint64_t val,
                    uint32_t spout_task)
{
	if (stm_buf_reserve(b, 1 + 8 + 8 + 4) != 0)
		return -1;
	put_u8(b, kind);
	put(b, &root, 8);
	if (kind != STM_REC_FAIL)
		put(b, &val, 8);
	if (kind == STM_REC_INIT)
		put(b, &spout_task, 4);
	b->records++;
	return 0;
}

int stm_buf_put_done(struct stm_buf *b, uint64_t root, bool ok)
{
	if (stm_buf_reserve(b, 1 + 8 + 1) != 0)
		return -1;
	put_u8(b, STM_REC_DONE);
	put(b, &root, 8);
	put_u8(b, ok ? 1 : 0);
	b->records++;
	return 0;
}

/* ---- reading ---------------------------------------------------------------------- */

static inline bool get(struct stm_reader *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

int stm_reader_next(struct stm_reader *r, const struct stm_topology *topo, struct stm_record *rec,
                    struct stm_tuple *t)
{
	if (r->p >= r->end)
		return 0;
	memset(rec, 0, sizeof(*rec));
	rec->kind = *r->p++;
	switch (rec->kind) {
	case STM_REC_INIT:
		return get(r, &rec->root, 8) && get(r, &rec->val, 8) && get(r, &rec->spout_task, 4)
		           ? 1
		           : -1;
	case STM_REC_ACK:
		return get(r, &rec->root, 8) && get(r, &rec->val, 8) ? 1 : -1;
	case STM_REC_FAIL:
		return get(r, &rec->root, 8) ? 1 : -1;
	case STM_REC_DONE: {
		uint8_t ok;
		if (!get(r, &rec->root, 8) || !get(r, &ok, 1))
			return -1;
		rec->ok = ok != 0;
		return 1;
	}
	case STM_REC_TUPLE:
		break;
	default:
		return -1;
	}
	uint32_t src;
	uint16_t stream;
	uint8_t nanchors, nvalues;
	if (!get(r, &src, 4) || !get(r, &stream, 2) || !get(r, &nanchors, 1))
		return -1;
	const struct stm_component *c = stm_topology_task_component(topo, (int)src);
	if (c == NULL || stream >= c->nstreams || nanchors > STM_MAX_ANCHORS)
		return -1;
	t->source = c;
	t->source_task = (int)src;
	t->stream = stream;
	t->nanchors = nanchors;
	t->done = t->kept = t->heap = false;
	for (int i = 0; i < nanchors; i++) {
		if (!get(r, &t->anchors[i].root, 8) || !get(r, &t->anchors[i].edge, 8))
			return -1;
		t->anchors[i].acc = 0;
	}
	if (!get(r, &nvalues, 1) || nvalues > c->streams[stream].nfields)
		return -1;
	t->nvalues = nvalues;
	for (int i = 0; i < nvalues; i++) {
		uint8_t type;
		stm_value *v = &t->values[i];
		if (!get(r, &type, 1))
			return -1;
		v->type = (enum stm_type)type;
		switch (type) {
		case STM_INT:
			if (!get(r, &v->u.i, 8))
				return -1;
			break;
		case STM_DOUBLE:
			if (!get(r, &v->u.d, 8))
				return -1;
			break;
		case STM_STRING:
		case STM_BYTES:
			if (!get(r, &v->u.s.len, 4) || (size_t)(r->end - r->p) < v->u.s.len)
				return -1;
			v->u.s.ptr = (const char *)r->p;
			r->p += v->u.s.len;
			break;
		case STM_NULL: {
			uint64_t skip;
			if (!get(r, &skip, 8))
				return -1;
			break;
		}
		default:
			return -1;
		}
	}
	return 1;
}

uint64_t stm_values_hash(const stm_value *values, const int *keys, int nkeys)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (int k = 0; k < nkeys; k++) {
		const stm_value *v = &values[keys[k]];
		const uint8_t *p;
		size_t n;
		switch (v->type) {
		case STM_STRING:
		case STM_BYTES:
			p = (const uint8_t *)v->u.s.ptr;
			n = v->u.s.len;
			break;
		case STM_INT:
		case STM_DOUBLE:
			p = (const uint8_t *)&v->u;
			n = 8;
			break;
		default:
			p = NULL;
			n = 0;
		}
		for (size_t i = 0; i < n; i++) {
			h ^= p[i];
			h *= 1099511628211ULL;
		}
		h ^= 0xff;
		h *= 1099511628211ULL;
	}
	return h;
}
