/* cas_store.c — see cas_store.h. */
#include "cas_store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <actor/log.h>

#include "cas_commitlog.h"
#include "cas_key.h"
#include "cas_memtable.h"
#include "cas_sstable.h"

struct cas_store {
	char *dir;
	cas_store_opts opts;
	cas_commitlog *log;
	cas_memtable *mem;
	cas_sstable **tables; /* oldest generation first */
	size_t ntables;
	uint64_t next_gen;
};

void cas_store_opts_default(cas_store_opts *o)
{
	o->memtable_bytes = 32u << 20;
	o->gc_grace_s = 864000; /* Cassandra's gc_grace_seconds default: ten days */
	o->min_threshold = 4;
}

static void replay_record(const uint8_t *p, size_t n, void *arg)
{
	cas_store *s = arg;
	cas_rbuf r = cas_rbuf_of(p, n);
	cas_cells cells = {0};
	if (cas_cells_decode(&r, &cells) == 0) {
		for (size_t i = 0; i < cells.n; i++) {
			cas_memtable_put(s->mem, cells.v[i]);
			cells.v[i] = NULL;
		}
	}
	cas_cells_fini(&cells);
}

static int cmp_tables(const void *a, const void *b)
{
	uint64_t x = cas_sstable_generation(*(cas_sstable *const *)a);
	uint64_t y = cas_sstable_generation(*(cas_sstable *const *)b);
	return x < y ? -1 : x > y;
}

static int add_table(cas_store *s, cas_sstable *t)
{
	cas_sstable **v = realloc(s->tables, (s->ntables + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	s->tables = v;
	s->tables[s->ntables++] = t;
	return 0;
}

static int load_tables(cas_store *s, char *err, size_t errlen)
{
	DIR *d = opendir(s->dir);
	if (d == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", s->dir, strerror(errno));
		return -1;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		unsigned long long gen;
		char tail[4] = "";
		if (sscanf(e->d_name, "sst-%llu.%3s", &gen, tail) != 2)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
		if (strcmp(tail, "tmp") == 0) {
			remove(path); /* a flush or compaction cut short: its inputs still exist */
			continue;
		}
		if (strcmp(tail, "db") != 0)
			continue;
		cas_sstable *t = cas_sstable_open(path, gen, err, errlen);
		if (t == NULL || add_table(s, t) != 0) {
			cas_sstable_close(t);
			closedir(d);
			return -1;
		}
		if (gen >= s->next_gen)
			s->next_gen = gen + 1;
	}
	closedir(d);
	if (s->ntables)
		qsort(s->tables, s->ntables, sizeof(*s->tables), cmp_tables);
	return 0;
}

cas_store *cas_store_open(const char *dir, const cas_store_opts *opts, char *err, size_t errlen)
{
	cas_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->dir = strdup(dir)) == NULL || (s->mem = cas_memtable_alloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cas_store_opts_default(&s->opts);
	if (opts) {
		if (opts->memtable_bytes)
			s->opts.memtable_bytes = opts->memtable_bytes;
		if (opts->gc_grace_s >= 0)
			s->opts.gc_grace_s = opts->gc_grace_s;
		if (opts->min_threshold >= 2)
			s->opts.min_threshold = opts->min_threshold;
	}
	s->next_gen = 1;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (load_tables(s, err, errlen) != 0)
		goto fail;
	s->log = cas_commitlog_open(dir, replay_record, s, err, errlen);
	if (s->log == NULL)
		goto fail;
	return s;
fail:
	cas_store_close(s);
	return NULL;
}

void cas_store_close(cas_store *s)
{
	if (s == NULL)
		return;
	cas_commitlog_close(s->log);
	cas_memtable_free(s->mem);
	for (size_t i = 0; i < s->ntables; i++)
		cas_sstable_close(s->tables[i]);
	free(s->tables);
	free(s->dir);
	free(s);
}

int cas_store_apply(cas_store *s, const cas_cells *cells)
{
	cas_wbuf w = {0};
	cas_cells_encode(&w, cells);
	int rc = w.oom ? -1 : cas_commitlog_append(s->log, w.data, w.len);
	cas_wbuf_fini(&w);
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < cells->n; i++)
		if (cas_memtable_put(s->mem, cas_cell_dup(cells->v[i])) != 0)
			return -1;
	return 0;
}

int cas_store_sync(cas_store *s)
{
	return cas_commitlog_sync(s->log);
}

bool cas_store_dirty(const cas_store *s)
{
	return cas_commitlog_dirty(s->log);
}

struct collect {
	cas_cells *out;
	int rc;
};

static void collect_cb(const cas_cell *c, void *arg)
{
	struct collect *k = arg;
	if (k->rc == 0 && cas_cells_push(k->out, cas_cell_dup(c)) != 0)
		k->rc = -1;
}

int cas_store_read(cas_store *s, const void *part, size_t plen, cas_cells *out)
{
	uint8_t prefix[2 + CAS_PARTITION_MAX];
	if (plen == 0 || plen > CAS_PARTITION_MAX)
		return -1;
	prefix[0] = (uint8_t)(plen >> 8);
	prefix[1] = (uint8_t)plen;
	memcpy(prefix + 2, part, plen);
	struct collect k = {out, 0};
	cas_memtable_scan(s->mem, prefix, plen + 2, collect_cb, &k);
	for (size_t i = 0; i < s->ntables && k.rc == 0; i++)
		k.rc = cas_sstable_read_partition(s->tables[i], part, plen, out);
	cas_cells_reconcile(out);
	return k.rc;
}

struct flush {
	cas_sstable_writer *w;
	int rc;
};

static void flush_cb(const cas_cell *c, void *arg)
{
	struct flush *f = arg;
	if (f->rc == 0)
		f->rc = cas_sstable_writer_add(f->w, c);
}

int cas_store_maybe_flush(cas_store *s, bool force)
{
	size_t n = cas_memtable_count(s->mem);
	if (n == 0 || (!force && cas_memtable_bytes(s->mem) < s->opts.memtable_bytes))
		return 0;
	/* Everything in the memtable is in segments <= closed; later writes go to the new
	 * segment, which the next flush covers. */
	int64_t closed = cas_commitlog_roll(s->log);
	if (closed < 0)
		return -1;
	char err[256];
	struct flush f = {cas_sstable_writer_alloc(s->dir, s->next_gen, n), 0};
	if (f.w == NULL)
		return -1;
	cas_memtable_scan(s->mem, NULL, 0, flush_cb, &f);
	if (f.rc != 0) {
		cas_sstable_writer_abort(f.w);
		return -1;
	}
	cas_sstable *t = cas_sstable_writer_finish(f.w, err, sizeof(err));
	if (t == NULL || add_table(s, t) != 0) {
		actor_error("cassandra: flush failed: %s", t ? "out of memory" : err);
		cas_sstable_delete(t);
		return -1;
	}
	s->next_gen++;
	cas_memtable *fresh = cas_memtable_alloc();
	if (fresh != NULL) {
		cas_memtable_free(s->mem);
		s->mem = fresh;
		cas_commitlog_discard(s->log, closed);
	}
	actor_info("cassandra: flushed %zu cells to table %llu (%zu tables)", n,
	           (unsigned long long)cas_sstable_generation(t), s->ntables);
	return 0;
}

/* ---- compaction ---------------------------------------------------------------- */

/* Picks the tables to merge into pick (indexes into s->tables); returns how many. */
static size_t pick_bucket(cas_store *s, bool major, size_t *pick)
{
	size_t n = 0;
	if (major) {
		for (size_t i = 0; i < s->ntables; i++)
			pick[n++] = i;
		return n >= 2 ? n : 0;
	}
	/* Size-tiered: tables within [0.5, 1.5] of a bucket's average size share it. */
	bool *used = calloc(s->ntables, sizeof(*used));
	if (used == NULL)
		return 0;
	for (size_t i = 0; i < s->ntables && n == 0; i++) {
		if (used[i])
			continue;
		double avg = (double)cas_sstable_size(s->tables[i]);
		size_t m = 0;
		pick[m++] = i;
		used[i] = true;
		for (size_t j = i + 1; j < s->ntables; j++) {
			double sz = (double)cas_sstable_size(s->tables[j]);
			if (!used[j] && sz >= avg * 0.5 && sz <= avg * 1.5) {
				pick[m++] = j;
				used[j] = true;
				avg += (sz - avg) / (double)m;
			}
		}
		if (m >= (size_t)s->opts.min_threshold)
			n = m;
	}
	free(used);
	return n;
}

struct merge {
	cas_sstable_cursor **cur;
	const cas_cell **head;
	size_t n;
};

/* The smallest key among the cursors' heads, reconciled: advances every cursor at that
 * key and returns a copy of the winner (NULL at the end or on out of memory). */
static cas_cell *merge_next(struct merge *m)
{
	const cas_cell *best = NULL;
	for (size_t i = 0; i < m->n; i++) {
		const cas_cell *h = m->head[i];
		if (h == NULL)
			continue;
		if (best == NULL) {
			best = h;
			continue;
		}
		int c = cas_key_cmp(CAS_CELL_KEY(h), h->klen, CAS_CELL_KEY(best), best->klen);
		if (c < 0 || (c == 0 && cas_cell_supersedes(h, best)))
			best = h;
	}
	if (best == NULL)
		return NULL;
	cas_cell *win = cas_cell_dup(best);
	if (win == NULL)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		const cas_cell *h = m->head[i];
		if (h && cas_key_cmp(CAS_CELL_KEY(h), h->klen, CAS_CELL_KEY(win), win->klen) == 0)
			m->head[i] = cas_sstable_cursor_next(m->cur[i]);
	}
	return win;
}

static void count_cb(const cas_cell *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
}

/* Whether a partition may have data outside the tables being compacted. */
static bool held_elsewhere(cas_store *s, const bool *in, const uint8_t *part, size_t plen)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (!in[i] && cas_sstable_may_contain(s->tables[i], part, plen))
			return true;
	uint8_t prefix[2 + CAS_PARTITION_MAX];
	prefix[0] = (uint8_t)(plen >> 8);
	prefix[1] = (uint8_t)plen;
	memcpy(prefix + 2, part, plen);
	size_t n = 0;
	cas_memtable_scan(s->mem, prefix, plen + 2, count_cb, &n);
	return n > 0;
}

/* What the merge knows of the partition it is in: its deletion and the current row's. */
struct shadow {
	uint8_t *part;
	size_t plen;
	bool part_del;
	int64_t part_ts;
	uint8_t *row; /* row prefix: the row deletion's key without its kind byte */
	size_t rowlen;
	int64_t row_ts;
	bool elsewhere;
};

static bool is_row_deletion(const cas_cell *c, size_t plen)
{
	return (c->flags & CAS_CELL_TOMBSTONE) && c->klen > 2 + plen + 1 &&
	       CAS_CELL_KEY(c)[c->klen - 1] == CAS_KIND_ROW_DEL &&
	       CAS_CELL_KEY(c)[2 + plen] == CAS_KIND_CLUSTERING;
}

/* Whether the merged cell c survives compaction. */
static bool keep_cell(cas_store *s, const bool *in, struct shadow *sh, const cas_cell *c,
                      uint32_t now_s)
{
	const uint8_t *part;
	size_t plen;
	if (!cas_key_partition(CAS_CELL_KEY(c), c->klen, &part, &plen))
		return false;
	if (sh->part == NULL || sh->plen != plen || memcmp(sh->part, part, plen) != 0) {
		free(sh->part);
		free(sh->row);
		*sh = (struct shadow){0};
		sh->part = malloc(plen);
		if (sh->part == NULL)
			return true;
		memcpy(sh->part, part, plen);
		sh->plen = plen;
		sh->elsewhere = held_elsewhere(s, in, part, plen);
	}
	const uint8_t *suffix = CAS_CELL_KEY(c) + 2 + plen;
	size_t slen = c->klen - 2 - plen;
	bool dead = cas_cell_dead(c, now_s);
	if (slen == 1 && suffix[0] == CAS_KIND_PARTITION_DEL && (c->flags & CAS_CELL_TOMBSTONE)) {
		sh->part_del = true;
		sh->part_ts = c->ts;
	} else if (sh->part_del && c->ts <= sh->part_ts) {
		return false; /* shadowed by the partition's deletion, which is kept or purged */
	} else if (is_row_deletion(c, plen)) {
		free(sh->row);
		sh->rowlen = c->klen - 1;
		sh->row = malloc(sh->rowlen);
		if (sh->row)
			memcpy(sh->row, CAS_CELL_KEY(c), sh->rowlen);
		sh->row_ts = c->ts;
	} else if (sh->row && c->klen > sh->rowlen && memcmp(CAS_CELL_KEY(c), sh->row, sh->rowlen) == 0 &&
	           c->ts <= sh->row_ts) {
		return false;
	}
	if (!dead)
		return true;
	/* A tombstone (or an expired value) goes once gc_grace has passed, unless an
	 * older value it hides may still sit in a table outside this merge. */
	uint32_t deleted_at = c->ldt;
	bool grace_over = (int64_t)now_s - (int64_t)deleted_at > s->opts.gc_grace_s;
	return !(grace_over && !sh->elsewhere);
}

int cas_store_compact(cas_store *s, uint32_t now_s, bool major)
{
	if (s->ntables < 2)
		return 0;
	size_t *pick = calloc(s->ntables, sizeof(*pick));
	bool *in = calloc(s->ntables, sizeof(*in));
	struct merge m = {0};
	struct shadow sh = {0};
	cas_sstable_writer *w = NULL;
	int rc = -1;
	size_t n = pick && in ? pick_bucket(s, major, pick) : 0;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	uint64_t partitions = 0;
	for (size_t i = 0; i < n; i++) {
		in[pick[i]] = true;
		partitions += cas_sstable_partitions(s->tables[pick[i]]);
	}
	m.n = n;
	m.cur = calloc(n, sizeof(*m.cur));
	m.head = calloc(n, sizeof(*m.head));
	w = cas_sstable_writer_alloc(s->dir, s->next_gen, (size_t)partitions);
	if (m.cur == NULL || m.head == NULL || w == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if ((m.cur[i] = cas_sstable_cursor_alloc(s->tables[pick[i]])) == NULL)
			goto out;
		m.head[i] = cas_sstable_cursor_next(m.cur[i]);
	}
	size_t kept = 0, dropped = 0;
	for (cas_cell *c; (c = merge_next(&m)) != NULL; free(c)) {
		if (!keep_cell(s, in, &sh, c, now_s)) {
			dropped++;
			continue;
		}
		if (cas_sstable_writer_add(w, c) != 0) {
			free(c);
			goto out;
		}
		kept++;
	}
	char err[256];
	cas_sstable *t = cas_sstable_writer_finish(w, err, sizeof(err));
	w = NULL;
	if (t == NULL) {
		actor_error("cassandra: compaction failed: %s", err);
		goto out;
	}
	s->next_gen++;
	/* Replace the inputs by the output, keeping generation order. */
	size_t out = 0;
	for (size_t i = 0; i < s->ntables; i++) {
		if (in[i])
			cas_sstable_delete(s->tables[i]);
		else
			s->tables[out++] = s->tables[i];
	}
	s->tables[out++] = t;
	s->ntables = out;
	actor_info("cassandra: compacted %zu tables into table %llu (%zu cells kept, %zu purged)",
	           n, (unsigned long long)cas_sstable_generation(t), kept, dropped);
	rc = (int)n;
out:
	cas_sstable_writer_abort(w);
	for (size_t i = 0; i < m.n && m.cur; i++)
		cas_sstable_cursor_free(m.cur[i]);
	free(m.cur);
	free(m.head);
	free(sh.part);
	free(sh.row);
	free(pick);
	free(in);
	return rc;
}

void cas_store_each(cas_store *s, void (*fn)(const cas_cell *c, void *arg), void *arg)
{
	cas_memtable_scan(s->mem, NULL, 0, fn, arg);
	for (size_t i = 0; i < s->ntables; i++) {
		cas_sstable_cursor *c = cas_sstable_cursor_alloc(s->tables[i]);
		for (const cas_cell *x; c && (x = cas_sstable_cursor_next(c)) != NULL;)
			fn(x, arg);
		cas_sstable_cursor_free(c);
	}
}

uint64_t cas_store_load(const cas_store *s)
{
	uint64_t n = cas_memtable_bytes(s->mem);
	for (size_t i = 0; i < s->ntables; i++)
		n += cas_sstable_size(s->tables[i]);
	return n;
}

size_t cas_store_tables(const cas_store *s)
{
	return s->ntables;
}
