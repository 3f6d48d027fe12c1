/* spk_eval.c — see spk_eval.h. Narrow transformations are sinks that call the user's
 * function and push what it emits to the next sink, so a stage of narrow steps runs
 * as one loop over its source with no partition held in memory (map_partitions and
 * persist excepted: they need the whole partition). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <actor/log.h>

#include "spk_eval.h"
#include "spk_registry.h"
#include "spk_shuffle.h"

void spk_emit(spk_emitter *e, const spk_row *row)
{
	if (e->rc == SPK_PUSH_OK)
		e->rc = e->sink->push(e->sink, row);
}

void spk_emit_value(spk_emitter *e, const void *data, size_t len)
{
	spk_row row = {.value = {data, len}};
	spk_emit(e, &row);
}

void spk_emit_pair(spk_emitter *e, const void *key, size_t klen, const void *value, size_t vlen)
{
	spk_row row = {.key = {key, klen}, .value = {value, vlen}, .keyed = true};
	spk_emit(e, &row);
}

/* ---- narrow steps ------------------------------------------------------------------ */

struct narrow {
	spk_sink base;
	spk_sink *next;
	const spk_node *node;
	void *fn;
	spk_run *run;
};

/* Turns a user function's -1 into a failure that names it. */
static int user_failed(const spk_node *n)
{
	if (spk_failure()[0] == '\0')
		spk_failure_set("function '%s' failed", n->fn);
	return SPK_PUSH_FAIL;
}

static int push_map(spk_sink *s, const spk_row *row)
{
	struct narrow *m = (struct narrow *)s;
	spk_emitter e = {m->next, SPK_PUSH_OK};
	if (((spk_map_fn)m->fn)(row, m->node->arg, &e) != 0)
		return user_failed(m->node);
	return e.rc;
}

static int push_filter(spk_sink *s, const spk_row *row)
{
	struct narrow *m = (struct narrow *)s;
	bool keep = false;
	if (((spk_filter_fn)m->fn)(row, m->node->arg, &keep) != 0)
		return user_failed(m->node);
	return keep ? m->next->push(m->next, row) : SPK_PUSH_OK;
}

/* key_by: the function emits the key; the row keeps its value. */
struct key_capture {
	spk_sink base;
	spk_buf key;
	int n;
};

static int push_capture(spk_sink *s, const spk_row *row)
{
	struct key_capture *c = (struct key_capture *)s;
	c->n++;
	c->key.len = 0;
	return spk_buf_append(&c->key, row->value.data, row->value.len) == 0 ? SPK_PUSH_OK
	                                                                     : SPK_PUSH_FAIL;
}

static int push_key_by(spk_sink *s, const spk_row *row)
{
	struct narrow *m = (struct narrow *)s;
	struct key_capture c = {{push_capture}, {0}, 0};
	spk_emitter e = {&c.base, SPK_PUSH_OK};
	int rc = ((spk_map_fn)m->fn)(row, m->node->arg, &e);
	if (rc != 0 || e.rc != SPK_PUSH_OK || c.n != 1) {
		spk_buf_fini(&c.key);
		if (rc == 0 && c.n != 1)
			spk_failure_set("key_by function '%s' emitted %d keys, not 1", m->node->fn,
			                c.n);
		return user_failed(m->node);
	}
	spk_row out = {
	    .key = {c.key.data ? c.key.data : "", c.key.len}, .value = row->value, .keyed = true};
	rc = m->next->push(m->next, &out);
	spk_buf_fini(&c.key);
	return rc;
}

/* A partition held in memory, encoded rows. */
struct collect_sink {
	spk_sink base;
	spk_buf rows;
	uint64_t n;
};

static int push_collect_rows(spk_sink *s, const spk_row *row)
{
	struct collect_sink *c = (struct collect_sink *)s;
	c->n++;
	return spk_put_row(&c->rows, row) == 0 ? SPK_PUSH_OK : SPK_PUSH_FAIL;
}

struct spk_iter {
	spk_rd rd;
};

bool spk_iter_next(spk_iter *it, spk_row *row)
{
	return spk_get_row(&it->rd, row);
}

static int replay(spk_buf *rows, spk_sink *out)
{
	spk_rd rd;
	spk_row row;
	spk_rd_init(&rd, rows->data, rows->len);
	while (spk_get_row(&rd, &row)) {
		int rc = out->push(out, &row);
		if (rc != SPK_PUSH_OK)
			return rc;
	}
	return SPK_PUSH_OK;
}

static int eval_partitions(spk_run *run, const spk_node *n, void *fn, spk_sink *out)
{
	struct collect_sink c = {{push_collect_rows}, {0}, 0};
	int rc = spk_eval(run, n->children[0], &c.base);
	if (rc == SPK_PUSH_OK) {
		spk_iter it;
		spk_rd_init(&it.rd, c.rows.data, c.rows.len);
		spk_emitter e = {out, SPK_PUSH_OK};
		if (((spk_partition_fn)fn)(&it, n->arg, &e) != 0)
			rc = user_failed(n);
		else
			rc = e.rc;
	}
	spk_buf_fini(&c.rows);
	return rc;
}

/* ---- sources ----------------------------------------------------------------------- */

static int eval_range(const spk_node *n, spk_sink *out)
{
	char text[32];
	for (int64_t v = n->start; v < n->end; v += n->step) {
		int len = snprintf(text, sizeof(text), "%" PRId64, v);
		spk_row row = {.value = {text, (size_t)len}};
		int rc = out->push(out, &row);
		if (rc != SPK_PUSH_OK)
			return rc;
		if (n->end - v <= n->step)
			break;
	}
	return SPK_PUSH_OK;
}

static int eval_array(const spk_node *n, spk_sink *out)
{
	for (size_t i = 0; i < n->nitems; i++) {
		spk_rd rd;
		spk_row row;
		spk_rd_init(&rd, n->items[i].data, n->items[i].len);
		if (!spk_get_row(&rd, &row) || !spk_rd_done(&rd)) {
			spk_failure_set("malformed row %zu of a parallelized partition", i);
			return SPK_PUSH_FAIL;
		}
		int rc = out->push(out, &row);
		if (rc != SPK_PUSH_OK)
			return rc;
	}
	return SPK_PUSH_OK;
}

/* The lines that start in [off, off + len): a split that does not begin a line skips
 * to the next one, and the last line is read past the split's end, as Hadoop's
 * LineRecordReader does. */
static int eval_text(const spk_node *n, spk_sink *out)
{
	FILE *f = fopen(n->path, "rb");
	if (f == NULL) {
		spk_failure_set("cannot open %s: %s", n->path, strerror(errno));
		return SPK_PUSH_FAIL;
	}
	uint64_t pos = n->off, end = n->off + n->len;
	bool skip = false;
	/* The line at off is this split's only if the byte before it ends a line. */
	if (n->off > 0 && fseeko(f, (off_t)(n->off - 1), SEEK_SET) == 0)
		skip = fgetc(f) != '\n';
	size_t cap = 1 << 20, have = 0, start = 0;
	char *buf = malloc(cap);
	int rc = buf ? SPK_PUSH_OK : SPK_PUSH_FAIL;
	bool eof = false;
	while (rc == SPK_PUSH_OK) {
		char *nl = memchr(buf + start, '\n', have - start);
		if (nl == NULL && !eof) {
			/* Keep the partial line and read more behind it. */
			memmove(buf, buf + start, have - start);
			have -= start;
			start = 0;
			if (have == cap) {
				char *bigger = realloc(buf, cap * 2);
				if (bigger == NULL) {
					spk_failure_set("out of memory reading %s", n->path);
					rc = SPK_PUSH_FAIL;
					break;
				}
				buf = bigger;
				cap *= 2;
			}
			size_t got = fread(buf + have, 1, cap - have, f);
			have += got;
			eof = got == 0;
			continue;
		}
		if (nl == NULL && start == have)
			break;
		size_t linelen = nl != NULL ? (size_t)(nl - (buf + start)) : have - start;
		if (skip) {
			skip = false;
		} else {
			if (pos >= end)
				break;
			spk_row row = {.value = {buf + start, linelen}};
			rc = out->push(out, &row);
		}
		size_t used = linelen + (nl != NULL ? 1 : 0);
		pos += used;
		start += used;
	}
	free(buf);
	fclose(f);
	return rc;
}

/* ---- persist ----------------------------------------------------------------------- */

struct tee_sink {
	spk_sink base;
	spk_sink *next;
	spk_buf rows;
	bool next_stopped;
};

static int push_tee(spk_sink *s, const spk_row *row)
{
	struct tee_sink *t = (struct tee_sink *)s;
	if (spk_put_row(&t->rows, row) != 0)
		return SPK_PUSH_FAIL;
	if (t->next_stopped)
		return SPK_PUSH_OK;
	int rc = t->next->push(t->next, row);
	if (rc == SPK_PUSH_STOP) {
		/* The cache wants the whole partition even when take has enough. */
		t->next_stopped = true;
		return SPK_PUSH_OK;
	}
	return rc;
}

static int eval_node(spk_run *run, const spk_node *n, spk_sink *out);

int spk_eval(spk_run *run, const spk_node *n, spk_sink *out)
{
	if (!n->persist)
		return eval_node(run, n, out);
	spk_buf cached = {0};
	if (spk_exec_cache_get(run->ex, n->rdd_id, n->partition, &cached)) {
		int rc = replay(&cached, out);
		spk_buf_fini(&cached);
		return rc;
	}
	struct tee_sink t = {{push_tee}, out, {0}, false};
	int rc = eval_node(run, n, &t.base);
	if (rc == SPK_PUSH_OK) {
		spk_exec_cache_put(run->ex, n->rdd_id, n->partition, &t.rows);
		if (run->ncached < sizeof(run->cached) / sizeof(run->cached[0]))
			run->cached[run->ncached++] = n->rdd_id;
		if (t.next_stopped)
			rc = SPK_PUSH_STOP;
	}
	spk_buf_fini(&t.rows);
	return rc;
}

static int eval_node(spk_run *run, const spk_node *n, spk_sink *out)
{
	switch (n->kind) {
	case SPK_N_RANGE:
		return eval_range(n, out);
	case SPK_N_ARRAY:
		return eval_array(n, out);
	case SPK_N_TEXT:
		return eval_text(n, out);
	case SPK_N_CONCAT:
		for (size_t i = 0; i < n->nchildren; i++) {
			int rc = spk_eval(run, n->children[i], out);
			if (rc != SPK_PUSH_OK)
				return rc;
		}
		return SPK_PUSH_OK;
	case SPK_N_SHUFFLED:
		return spk_shuffle_read(run, n, out);
	default:
		break;
	}
	enum spk_fn_kind kind = n->kind == SPK_N_FILTER       ? SPK_FN_FILTER
	                        : n->kind == SPK_N_PARTITIONS ? SPK_FN_PARTITIONS
	                                                      : SPK_FN_MAP;
	void *fn = spk_registry_find(n->fn, kind);
	if (fn == NULL) {
		spk_failure_set("no function '%s' registered in this program", n->fn);
		return SPK_PUSH_FAIL;
	}
	if (n->kind == SPK_N_PARTITIONS)
		return eval_partitions(run, n, fn, out);
	struct narrow m = {{NULL}, out, n, fn, run};
	m.base.push = n->kind == SPK_N_FILTER   ? push_filter
	              : n->kind == SPK_N_KEY_BY ? push_key_by
	                                        : push_map;
	return spk_eval(run, n->children[0], &m.base);
}

/* ---- outputs: what a task does with its partition ------------------------------------ */

struct count_sink {
	spk_sink base;
	uint64_t n;
};

static int push_count(spk_sink *s, const spk_row *row)
{
	(void)row;
	((struct count_sink *)s)->n++;
	return SPK_PUSH_OK;
}

struct take_sink {
	struct collect_sink c;
	uint64_t limit;
};

static int push_take(spk_sink *s, const spk_row *row)
{
	struct take_sink *t = (struct take_sink *)s;
	if (t->c.n >= t->limit)
		return SPK_PUSH_STOP;
	int rc = push_collect_rows(s, row);
	return rc == SPK_PUSH_OK && t->c.n >= t->limit ? SPK_PUSH_STOP : rc;
}

/* A reservoir of the partition's keys (unkeyed rows: values), for range bounds. The
 * random source is seeded by the partition, so a rerun samples the same keys. */
struct sample_sink {
	spk_sink base;
	uint64_t seen, max, rng;
	spk_buf *keys; /* max slots */
};

static int push_sample(spk_sink *s, const spk_row *row)
{
	struct sample_sink *m = (struct sample_sink *)s;
	spk_bytes key = row->keyed ? row->key : row->value;
	uint64_t slot = m->seen++;
	if (slot >= m->max) {
		m->rng = m->rng * 6364136223846793005ull + 1442695040888963407ull;
		slot = (m->rng >> 11) % m->seen;
		if (slot >= m->max)
			return SPK_PUSH_OK;
	}
	m->keys[slot].len = 0;
	return spk_buf_append(&m->keys[slot], key.data, key.len) ? SPK_PUSH_FAIL : SPK_PUSH_OK;
}

struct reduce_sink {
	spk_sink base;
	spk_reduce_fn fn;
	const char *arg;
	spk_buf acc;
	bool has;
};

static int push_reduce(spk_sink *s, const spk_row *row)
{
	struct reduce_sink *r = (struct reduce_sink *)s;
	if (!r->has) {
		r->has = true;
		return spk_buf_append(&r->acc, row->value.data, row->value.len) ? SPK_PUSH_FAIL
		                                                                : SPK_PUSH_OK;
	}
	spk_buf out = {0};
	if (r->fn((spk_bytes){r->acc.data ? r->acc.data : "", r->acc.len}, row->value, r->arg,
	          &out) != 0) {
		spk_buf_fini(&out);
		if (spk_failure()[0] == '\0')
			spk_failure_set("reduce function failed");
		return SPK_PUSH_FAIL;
	}
	spk_buf_fini(&r->acc);
	r->acc = out;
	return SPK_PUSH_OK;
}

struct save_sink {
	spk_sink base;
	FILE *f;
};

static int push_save(spk_sink *s, const spk_row *row)
{
	struct save_sink *v = (struct save_sink *)s;
	if (row->keyed) {
		fwrite(row->key.data, 1, row->key.len, v->f);
		fputc('\t', v->f);
	}
	fwrite(row->value.data, 1, row->value.len, v->f);
	return fputc('\n', v->f) == EOF ? SPK_PUSH_FAIL : SPK_PUSH_OK;
}

static int mkdirs(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int run_save(spk_run *run, const spk_task_desc *t)
{
	char tmp[4096], final[4096];
	if (mkdirs(t->out.dir) != 0) {
		spk_failure_set("cannot create %s: %s", t->out.dir, strerror(errno));
		return SPK_PUSH_FAIL;
	}
	snprintf(tmp, sizeof(tmp), "%s/.part-%05d.%d.tmp", t->out.dir, t->partition, t->attempt);
	snprintf(final, sizeof(final), "%s/part-%05d", t->out.dir, t->partition);
	struct save_sink s = {{push_save}, fopen(tmp, "w")};
	if (s.f == NULL) {
		spk_failure_set("cannot write %s: %s", tmp, strerror(errno));
		return SPK_PUSH_FAIL;
	}
	int rc = spk_eval(run, t->root, &s.base);
	if (fclose(s.f) != 0 && rc == SPK_PUSH_OK) {
		spk_failure_set("cannot write %s: %s", tmp, strerror(errno));
		rc = SPK_PUSH_FAIL;
	}
	/* The rename makes a retried or duplicated task's output appear once, whole. */
	if (rc == SPK_PUSH_OK && rename(tmp, final) != 0) {
		spk_failure_set("cannot rename %s: %s", tmp, strerror(errno));
		rc = SPK_PUSH_FAIL;
	}
	if (rc != SPK_PUSH_OK)
		unlink(tmp);
	return rc;
}

void spk_task_run(spk_exec *ex, const spk_task_desc *t, spk_task_status *st, spk_buf *value)
{
	spk_run run = {.ex = ex, .task = t, .fetch_sid = -1, .fetch_map = -1};
	int rc = SPK_PUSH_OK;
	spk_failure_clear();
	memset(st, 0, sizeof(*st));
	st->task_id = t->task_id;
	switch (t->out.kind) {
	case SPK_OUT_SHUFFLE: {
		spk_shuffle_writer *w = spk_shuffle_writer_alloc(ex, &t->out, t->partition);
		if (w == NULL) {
			rc = SPK_PUSH_FAIL;
			break;
		}
		rc = spk_eval(&run, t->root, spk_shuffle_writer_sink(w));
		if (rc == SPK_PUSH_OK || rc == SPK_PUSH_STOP)
			rc = spk_shuffle_writer_finish(w, &st->sizes, &st->nsizes) == 0
			         ? SPK_PUSH_OK
			         : SPK_PUSH_FAIL;
		spk_shuffle_writer_free(w);
		break;
	}
	case SPK_OUT_COUNT: {
		struct count_sink c = {{push_count}, 0};
		rc = spk_eval(&run, t->root, &c.base);
		spk_buf_printf(value, "%" PRIu64, c.n);
		break;
	}
	case SPK_OUT_COLLECT: {
		struct collect_sink c = {{push_collect_rows}, {0}, 0};
		rc = spk_eval(&run, t->root, &c.base);
		*value = c.rows;
		break;
	}
	case SPK_OUT_TAKE: {
		struct take_sink tk = {{{push_take}, {0}, 0}, t->out.take};
		rc = t->out.take == 0 ? SPK_PUSH_OK : spk_eval(&run, t->root, &tk.c.base);
		*value = tk.c.rows;
		break;
	}
	case SPK_OUT_REDUCE: {
		struct reduce_sink r = {{push_reduce},
		                        spk_registry_find(t->out.fn, SPK_FN_REDUCE),
		                        t->out.arg,
		                        {0},
		                        false};
		if (r.fn == NULL) {
			spk_failure_set("no reduce function '%s' registered", t->out.fn);
			rc = SPK_PUSH_FAIL;
			break;
		}
		rc = spk_eval(&run, t->root, &r.base);
		/* One byte says whether the partition had a value at all. */
		spk_put_u8(value, r.has ? 1 : 0);
		if (r.has)
			spk_buf_append(value, r.acc.data, r.acc.len);
		spk_buf_fini(&r.acc);
		break;
	}
	case SPK_OUT_SAVE:
		rc = run_save(&run, t);
		break;
	case SPK_OUT_SAMPLE: {
		uint64_t max = t->out.take < 1 ? 1 : t->out.take > 10000 ? 10000 : t->out.take;
		struct sample_sink m = {{push_sample},
		                        0,
		                        max,
		                        (uint64_t)t->partition * 7919 + 1,
		                        calloc(max, sizeof(spk_buf))};
		if (m.keys == NULL) {
			rc = SPK_PUSH_FAIL;
			break;
		}
		rc = spk_eval(&run, t->root, &m.base);
		for (uint64_t i = 0; i < max && i < m.seen; i++)
			spk_put_bytes(value, m.keys[i].data, m.keys[i].len);
		for (uint64_t i = 0; i < max; i++)
			spk_buf_fini(&m.keys[i]);
		free(m.keys);
		break;
	}
	default:
		spk_failure_set("unknown output kind %d", t->out.kind);
		rc = SPK_PUSH_FAIL;
	}
	if (rc == SPK_PUSH_STOP)
		rc = SPK_PUSH_OK;
	st->result = rc == SPK_PUSH_OK             ? SPK_TASK_OK
	             : rc == SPK_PUSH_FETCH_FAILED ? SPK_TASK_FETCH_FAILED
	                                           : SPK_TASK_FAILED;
	st->fetch_sid = run.fetch_sid < 0 ? 0 : run.fetch_sid;
	st->fetch_map = run.fetch_map < 0 ? 0 : run.fetch_map;
	if (st->result == SPK_TASK_FETCH_FAILED && run.fetch_pid[0] != '\0')
		st->fetch_pid = strdup(run.fetch_pid);
	if (st->result == SPK_TASK_FAILED)
		st->message = strdup(spk_failure()[0] ? spk_failure() : "task failed");
	else if (st->result == SPK_TASK_FETCH_FAILED)
		st->message = strdup(spk_failure()[0] ? spk_failure() : "fetch failed");
	st->cached = run.ncached ? malloc(run.ncached * sizeof(int)) : NULL;
	if (st->cached != NULL) {
		memcpy(st->cached, run.cached, run.ncached * sizeof(int));
		st->ncached = run.ncached;
	}
}
