/* spk_plan.c — decoding task descriptions and statuses (spk_proto.h). The encoder of
 * tasks is the driver's (spk_lineage.c); both follow the layout written here:
 *
 *   task  := id stage partition attempt out node
 *   out   := kind; SHUFFLE: sid nreduce nbounds bound* combine(str) arg(str)
 *            partitioner(str) parg(str); TAKE: n; REDUCE: fn arg; SAVE: dir
 *   node  := kind rdd partition persist body
 *   body  := RANGE start end step | ARRAY n item* | TEXT path off len
 *          | narrow fn arg node | CONCAT n node*
 *          | SHUFFLED agg fn arg nin (sid nmaps (pid size)*)* */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spk_proto.h"

#define SPK_PLAN_DEPTH_MAX 256
#define SPK_PLAN_WIDTH_MAX 100000

static void node_free(spk_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nchildren; i++)
		node_free(n->children[i]);
	free(n->children);
	free(n->items);
	free(n->path);
	free(n->fn);
	free(n->arg);
	for (int i = 0; i < n->nin; i++) {
		for (int m = 0; m < n->in[i].nmaps; m++)
			free(n->in[i].maps[m].pid);
		free(n->in[i].maps);
	}
	free(n);
}

static spk_node *node_decode(spk_rd *r, int depth)
{
	if (depth > SPK_PLAN_DEPTH_MAX) {
		r->bad = true;
		return NULL;
	}
	spk_node *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		r->bad = true;
		return NULL;
	}
	n->kind = spk_get_u8(r);
	n->rdd_id = (int)spk_get_varint(r);
	n->partition = (int)spk_get_varint(r);
	n->persist = spk_get_u8(r) != 0;
	switch (n->kind) {
	case SPK_N_RANGE:
		n->start = spk_get_i64(r);
		n->end = spk_get_i64(r);
		n->step = spk_get_i64(r);
		if (n->step <= 0)
			r->bad = true;
		break;
	case SPK_N_ARRAY: {
		uint64_t count = spk_get_varint(r);
		if (count > (uint64_t)(r->end - r->p)) {
			r->bad = true;
			break;
		}
		n->items = calloc(count ? count : 1, sizeof(spk_bytes));
		if (n->items == NULL) {
			r->bad = true;
			break;
		}
		n->nitems = count;
		for (uint64_t i = 0; i < count && !r->bad; i++)
			n->items[i] = spk_get_bytes(r);
		break;
	}
	case SPK_N_TEXT:
		n->path = spk_get_str(r);
		n->off = spk_get_varint(r);
		n->len = spk_get_varint(r);
		if (n->path == NULL)
			r->bad = true;
		break;
	case SPK_N_MAP:
	case SPK_N_FLAT_MAP:
	case SPK_N_FILTER:
	case SPK_N_PARTITIONS:
	case SPK_N_KEY_BY:
	case SPK_N_CONCAT: {
		uint64_t count = 1;
		if (n->kind != SPK_N_CONCAT) {
			n->fn = spk_get_str(r);
			n->arg = spk_get_str(r);
			if (n->fn == NULL)
				r->bad = true;
		} else {
			count = spk_get_varint(r);
		}
		if (r->bad || count > SPK_PLAN_WIDTH_MAX) {
			r->bad = true;
			break;
		}
		n->children = calloc(count ? count : 1, sizeof(*n->children));
		if (n->children == NULL) {
			r->bad = true;
			break;
		}
		for (uint64_t i = 0; i < count && !r->bad; i++) {
			n->children[i] = node_decode(r, depth + 1);
			n->nchildren++;
		}
		break;
	}
	case SPK_N_SHUFFLED:
		n->agg = spk_get_u8(r);
		n->fn = spk_get_str(r);
		n->arg = spk_get_str(r);
		n->nin = spk_get_u8(r);
		if (n->agg >= SPK_AGG_MAX || n->nin < 1 || n->nin > 2 ||
		    (n->agg == SPK_AGG_JOIN) != (n->nin == 2) ||
		    (n->agg == SPK_AGG_REDUCE && n->fn == NULL)) {
			n->nin = 0;
			r->bad = true;
			break;
		}
		for (int i = 0; i < n->nin && !r->bad; i++) {
			struct spk_shuffle_in *in = &n->in[i];
			in->sid = (int)spk_get_varint(r);
			uint64_t nmaps = spk_get_varint(r);
			if (nmaps > SPK_PLAN_WIDTH_MAX) {
				r->bad = true;
				break;
			}
			in->maps = calloc(nmaps ? nmaps : 1, sizeof(*in->maps));
			if (in->maps == NULL) {
				r->bad = true;
				break;
			}
			for (uint64_t m = 0; m < nmaps && !r->bad; m++) {
				in->maps[m].pid = spk_get_str(r);
				in->maps[m].size = spk_get_varint(r);
				in->nmaps++;
			}
		}
		break;
	default:
		r->bad = true;
	}
	return n;
}

spk_task_desc *spk_task_desc_decode(const void *data, size_t len, char *err, size_t errlen)
{
	spk_rd r;
	spk_rd_init(&r, data, len);
	spk_task_desc *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->task_id = spk_get_varint(&r);
	t->stage = (int)spk_get_varint(&r);
	t->partition = (int)spk_get_varint(&r);
	t->attempt = (int)spk_get_varint(&r);
	spk_out_spec *o = &t->out;
	o->kind = spk_get_u8(&r);
	switch (o->kind) {
	case SPK_OUT_SHUFFLE: {
		o->sid = (int)spk_get_varint(&r);
		o->nreduce = (int)spk_get_varint(&r);
		uint64_t nb = spk_get_varint(&r);
		if (o->nreduce < 1 || o->nreduce > SPK_PLAN_WIDTH_MAX ||
		    (nb != 0 && nb != (uint64_t)o->nreduce - 1)) {
			r.bad = true;
			break;
		}
		o->bounds = calloc(nb ? nb : 1, sizeof(spk_bytes));
		if (o->bounds == NULL) {
			r.bad = true;
			break;
		}
		o->nbounds = nb;
		for (uint64_t i = 0; i < nb; i++)
			o->bounds[i] = spk_get_bytes(&r);
		o->fn = spk_get_str(&r);
		o->arg = spk_get_str(&r);
		o->partitioner = spk_get_str(&r);
		o->parg = spk_get_str(&r);
		break;
	}
	case SPK_OUT_COUNT:
	case SPK_OUT_COLLECT:
		break;
	case SPK_OUT_TAKE:
	case SPK_OUT_SAMPLE:
		o->take = spk_get_varint(&r);
		break;
	case SPK_OUT_REDUCE:
		o->fn = spk_get_str(&r);
		o->arg = spk_get_str(&r);
		if (o->fn == NULL)
			r.bad = true;
		break;
	case SPK_OUT_SAVE:
		o->dir = spk_get_str(&r);
		if (o->dir == NULL)
			r.bad = true;
		break;
	default:
		r.bad = true;
	}
	if (!r.bad)
		t->root = node_decode(&r, 0);
	if (!spk_rd_done(&r)) {
		snprintf(err, errlen, "malformed task description (%zu bytes)", len);
		spk_task_desc_free(t);
		return NULL;
	}
	return t;
}

void spk_task_desc_free(spk_task_desc *t)
{
	if (t == NULL)
		return;
	node_free(t->root);
	free(t->out.bounds);
	free(t->out.fn);
	free(t->out.arg);
	free(t->out.dir);
	free(t->out.partitioner);
	free(t->out.parg);
	free(t);
}

int spk_task_status_encode(const spk_task_status *s, spk_buf *out)
{
	int rc = 0;
	rc |= spk_put_varint(out, s->task_id);
	rc |= spk_put_u8(out, (uint8_t)s->result);
	rc |= spk_put_str(out, s->message);
	rc |= spk_put_varint(out, (uint64_t)s->fetch_sid);
	rc |= spk_put_varint(out, (uint64_t)s->fetch_map);
	rc |= spk_put_str(out, s->fetch_pid);
	rc |= spk_put_bytes(out, s->value.data, s->value.len);
	rc |= spk_put_varint(out, s->nsizes);
	for (size_t i = 0; i < s->nsizes; i++)
		rc |= spk_put_varint(out, s->sizes[i]);
	rc |= spk_put_varint(out, s->ncached);
	for (size_t i = 0; i < s->ncached; i++)
		rc |= spk_put_varint(out, (uint64_t)s->cached[i]);
	rc |= spk_put_varint(out, s->records);
	return rc ? -1 : 0;
}

bool spk_task_status_decode(const void *data, size_t len, spk_task_status *s)
{
	spk_rd r;
	spk_rd_init(&r, data, len);
	memset(s, 0, sizeof(*s));
	s->task_id = spk_get_varint(&r);
	s->result = spk_get_u8(&r);
	char *msg = spk_get_str(&r);
	s->message = msg;
	s->fetch_sid = (int)spk_get_varint(&r);
	s->fetch_map = (int)spk_get_varint(&r);
	s->fetch_pid = spk_get_str(&r);
	s->value = spk_get_bytes(&r);
	uint64_t n = spk_get_varint(&r);
	if (!r.bad && n <= (uint64_t)(r.end - r.p)) {
		s->sizes = calloc(n ? n : 1, sizeof(uint64_t));
		s->nsizes = s->sizes ? n : 0;
		for (size_t i = 0; i < s->nsizes; i++)
			s->sizes[i] = spk_get_varint(&r);
	} else {
		r.bad = true;
	}
	n = spk_get_varint(&r);
	if (!r.bad && n <= (uint64_t)(r.end - r.p)) {
		s->cached = calloc(n ? n : 1, sizeof(int));
		s->ncached = s->cached ? n : 0;
		for (size_t i = 0; i < s->ncached; i++)
			s->cached[i] = (int)spk_get_varint(&r);
	} else {
		r.bad = true;
	}
	s->records = spk_get_varint(&r);
	if (!spk_rd_done(&r) || s->result > SPK_TASK_FETCH_FAILED) {
		spk_task_status_fini(s);
		return false;
	}
	return true;
}

void spk_task_status_fini(spk_task_status *s)
{
	free((char *)s->message);
	free((char *)s->fetch_pid);
	s->fetch_pid = NULL;
	free(s->sizes);
	free(s->cached);
	s->message = NULL;
	s->sizes = NULL;
	s->cached = NULL;
}
