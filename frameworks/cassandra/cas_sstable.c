/* cas_sstable.c — see cas_sstable.h. */
#include "cas_sstable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cas_bloom.h"
#include "cas_buf.h"

#define MAGIC 0x4341535353543031ULL /* "CASSST01" */
#define FOOTER 64
#define SUMMARY_EVERY 64

struct cas_sstable {
	char *path;
	uint64_t gen;
	uint8_t *map;
	size_t size;
	uint64_t index_off, index_count, bloom_off, bloom_bits;
	uint64_t *summary; /* file offsets of every SUMMARY_EVERY-th index entry */
	size_t nsummary;
};

struct cas_sstable_writer {
	char *dir, tmp[4096];
	uint64_t gen;
	FILE *f;
	uint64_t off, cells;
	cas_wbuf index;
	uint8_t *bloom;
	uint64_t bloom_bits;
	size_t bloom_cap_keys, partitions;
	uint8_t *last_key; /* the previous cell's key, for the order check */
	size_t last_klen;
	uint8_t *part; /* the current partition and where it started */
	size_t plen;
	uint64_t part_off;
	bool failed;
};

void cas_sstable_path(const char *dir, uint64_t generation, char *out, size_t n)
{
	snprintf(out, n, "%s/sst-%012llu.db", dir, (unsigned long long)generation);
}

cas_sstable_writer *cas_sstable_writer_alloc(const char *dir, uint64_t generation,
                                             size_t expected_partitions)
{
	cas_sstable_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->dir = strdup(dir);
	w->gen = generation;
	w->bloom_cap_keys = expected_partitions ? expected_partitions : 1;
	w->bloom_bits = cas_bloom_bits_for(w->bloom_cap_keys);
	w->bloom = calloc(1, w->bloom_bits / 8);
	snprintf(w->tmp, sizeof(w->tmp), "%s/sst-%012llu.tmp", dir, (unsigned long long)generation);
	w->f = w->dir && w->bloom ? fopen(w->tmp, "wbe") : NULL;
	if (w->f == NULL) {
		free(w->dir);
		free(w->bloom);
		free(w);
		return NULL;
	}
	return w;
}

static void end_partition(cas_sstable_writer *w)
{
	if (w->part == NULL)
		return;
	cas_put_u16(&w->index, (uint16_t)w->plen);
	cas_put_raw(&w->index, w->part, w->plen);
	cas_put_u64(&w->index, w->part_off);
	cas_put_u32(&w->index, (uint32_t)(w->off - w->part_off));
	cas_bloom_add(w->bloom, w->bloom_bits, w->part, w->plen);
	w->partitions++;
	free(w->part);
	w->part = NULL;
}

int cas_sstable_writer_add(cas_sstable_writer *w, const cas_cell *c)
{
	const uint8_t *part;
	size_t plen;
	if (w->failed || !cas_key_partition(CAS_CELL_KEY(c), c->klen, &part, &plen))
		return -1;
	if (w->last_key &&
	    cas_key_cmp(w->last_key, w->last_klen, CAS_CELL_KEY(c), c->klen) >= 0) {
		w->failed = true; /* a programming error upstream: refuse a misordered table */
		return -1;
	}
	if (w->part == NULL || w->plen != plen || memcmp(w->part, part, plen) != 0) {
		end_partition(w);
		if (w->partitions >= w->bloom_cap_keys) {
			/* More partitions than announced: the filter would fill up; grow it. */
			w->failed = true;
			return -1;
		}
		w->part = malloc(plen);
		if (w->part == NULL) {
			w->failed = true;
			return -1;
		}
		memcpy(w->part, part, plen);
		w->plen = plen;
		w->part_off = w->off;
	}
	cas_wbuf b = {0};
	cas_cell_encode(&b, c);
	if (b.oom || fwrite(b.data, 1, b.len, w->f) != b.len)
		w->failed = true;
	w->off += b.len;
	cas_wbuf_fini(&b);
	free(w->last_key);
	w->last_key = malloc(c->klen);
	if (w->last_key == NULL) {
		w->failed = true;
		return -1;
	}
	memcpy(w->last_key, CAS_CELL_KEY(c), c->klen);
	w->last_klen = c->klen;
	w->cells++;
	return w->failed ? -1 : 0;
}

static void writer_free(cas_sstable_writer *w)
{
	if (w->f)
		fclose(w->f);
	cas_wbuf_fini(&w->index);
	free(w->bloom);
	free(w->last_key);
	free(w->part);
	free(w->dir);
	free(w);
}

void cas_sstable_writer_abort(cas_sstable_writer *w)
{
	if (w == NULL)
		return;
	unlink(w->tmp);
	writer_free(w);
}

cas_sstable *cas_sstable_writer_finish(cas_sstable_writer *w, char *err, size_t errlen)
{
	end_partition(w);
	uint64_t index_off = w->off;
	uint64_t bloom_off = index_off + w->index.len;
	uint8_t footer[FOOTER] = {0};
	cas_be64_store(footer, MAGIC);
	cas_be64_store(footer + 8, index_off);
	cas_be64_store(footer + 16, w->partitions);
	cas_be64_store(footer + 24, bloom_off);
	cas_be64_store(footer + 32, w->bloom_bits);
	cas_be64_store(footer + 40, w->cells);
	if (w->failed || w->index.oom ||
	    fwrite(w->index.data, 1, w->index.len, w->f) != w->index.len ||
	    fwrite(w->bloom, 1, w->bloom_bits / 8, w->f) != w->bloom_bits / 8 ||
	    fwrite(footer, 1, FOOTER, w->f) != FOOTER || fflush(w->f) != 0 ||
	    fsync(fileno(w->f)) != 0) {
		snprintf(err, errlen, "cannot write table %s: %s", w->tmp,
		         errno ? strerror(errno) : "bad input");
		cas_sstable_writer_abort(w);
		return NULL;
	}
	char path[4096];
	cas_sstable_path(w->dir, w->gen, path, sizeof(path));
	if (rename(w->tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s: %s", w->tmp, strerror(errno));
		cas_sstable_writer_abort(w);
		return NULL;
	}
	int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	uint64_t gen = w->gen;
	writer_free(w);
	return cas_sstable_open(path, gen, err, errlen);
}

/* Reads the index entry at file offset *off: partition and data location. false when
 * it does not fit in the index section. */
static bool index_entry(const cas_sstable *t, uint64_t *off, const uint8_t **part, size_t *plen,
                        uint64_t *doff, uint32_t *dsize)
{
	if (*off + 2 > t->bloom_off)
		return false;
	size_t n = (size_t)t->map[*off] << 8 | t->map[*off + 1];
	if (*off + 2 + n + 12 > t->bloom_off)
		return false;
	*part = t->map + *off + 2;
	*plen = n;
	*doff = cas_be64_load(t->map + *off + 2 + n);
	*dsize = cas_be32_load(t->map + *off + 2 + n + 8);
	*off += 2 + n + 12;
	return *doff + *dsize <= t->index_off;
}

cas_sstable *cas_sstable_open(const char *path, uint64_t generation, char *err, size_t errlen)
{
	cas_sstable *t = calloc(1, sizeof(*t));
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t == NULL || fd < 0 || fstat(fd, &st) != 0 || st.st_size < FOOTER) {
		snprintf(err, errlen, "cannot open table %s: %s", path,
		         fd < 0 ? strerror(errno) : "too short");
		goto fail;
	}
	t->size = (size_t)st.st_size;
	t->map = mmap(NULL, t->size, PROT_READ, MAP_SHARED, fd, 0);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		snprintf(err, errlen, "cannot map table %s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	const uint8_t *f = t->map + t->size - FOOTER;
	t->index_off = cas_be64_load(f + 8);
	t->index_count = cas_be64_load(f + 16);
	t->bloom_off = cas_be64_load(f + 24);
	t->bloom_bits = cas_be64_load(f + 32);
	if (cas_be64_load(f) != MAGIC || t->index_off > t->bloom_off || t->bloom_bits == 0 ||
	    t->bloom_bits % 64 != 0 || t->bloom_off + t->bloom_bits / 8 != t->size - FOOTER) {
		snprintf(err, errlen, "table %s: bad footer", path);
		goto fail;
	}
	t->nsummary = (size_t)(t->index_count + SUMMARY_EVERY - 1) / SUMMARY_EVERY;
	t->summary = calloc(t->nsummary ? t->nsummary : 1, sizeof(*t->summary));
	if (t->summary == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	uint64_t off = t->index_off;
	for (uint64_t i = 0; i < t->index_count; i++) {
		const uint8_t *p;
		size_t pl;
		uint64_t d;
		uint32_t s;
		if (i % SUMMARY_EVERY == 0)
			t->summary[i / SUMMARY_EVERY] = off;
		if (!index_entry(t, &off, &p, &pl, &d, &s)) {
			snprintf(err, errlen, "table %s: index entry %llu is malformed", path,
			         (unsigned long long)i);
			goto fail;
		}
	}
	t->path = strdup(path);
	t->gen = generation;
	if (t->path == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return t;
fail:
	if (fd >= 0)
		close(fd);
	cas_sstable_close(t);
	return NULL;
}

void cas_sstable_close(cas_sstable *t)
{
	if (t == NULL)
		return;
	if (t->map)
		munmap(t->map, t->size);
	free(t->summary);
	free(t->path);
	free(t);
}

void cas_sstable_delete(cas_sstable *t)
{
	if (t == NULL)
		return;
	unlink(t->path);
	cas_sstable_close(t);
}

uint64_t cas_sstable_generation(const cas_sstable *t)
{
	return t->gen;
}

uint64_t cas_sstable_size(const cas_sstable *t)
{
	return t->size;
}

uint64_t cas_sstable_partitions(const cas_sstable *t)
{
	return t->index_count;
}

bool cas_sstable_may_contain(const cas_sstable *t, const void *part, size_t plen)
{
	return cas_bloom_may_contain(t->map + t->bloom_off, t->bloom_bits, part, plen);
}

static int decode_range(const cas_sstable *t, uint64_t off, uint64_t size, cas_cells *out)
{
	cas_rbuf r = cas_rbuf_of(t->map + off, (size_t)size);
	while (r.left > 0) {
		cas_cell *c = cas_cell_decode(&r);
		if (c == NULL || cas_cells_push(out, c) != 0)
			return -1;
	}
	return 0;
}

/* Partitions sort as their storage keys do: by length (the u16 prefix), then bytes. */
static int cmp_part(const uint8_t *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

int cas_sstable_read_partition(const cas_sstable *t, const void *part, size_t plen,
                               cas_cells *out)
{
	if (t->nsummary == 0 || !cas_sstable_may_contain(t, part, plen))
		return 0;
	/* The last summary entry whose partition is <= part. */
	size_t lo = 0, hi = t->nsummary;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		uint64_t off = t->summary[mid];
		const uint8_t *p;
		size_t pl;
		uint64_t d;
		uint32_t s;
		index_entry(t, &off, &p, &pl, &d, &s);
		if (cmp_part(p, pl, part, plen) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t off = t->summary[lo];
	for (int i = 0; i < SUMMARY_EVERY && off < t->bloom_off; i++) {
		const uint8_t *p;
		size_t pl;
		uint64_t d;
		uint32_t s;
		if (!index_entry(t, &off, &p, &pl, &d, &s))
			return -1;
		int c = cmp_part(p, pl, part, plen);
		if (c == 0)
			return decode_range(t, d, s, out);
		if (c > 0)
			break;
	}
	return 0;
}

struct cas_sstable_cursor {
	const cas_sstable *t;
	cas_rbuf r;
	cas_cell *cur;
};

cas_sstable_cursor *cas_sstable_cursor_alloc(const cas_sstable *t)
{
	cas_sstable_cursor *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->t = t;
	c->r = cas_rbuf_of(t->map, (size_t)t->index_off);
	return c;
}

const cas_cell *cas_sstable_cursor_next(cas_sstable_cursor *c)
{
	free(c->cur);
	c->cur = NULL;
	if (c->r.left == 0 || c->r.bad)
		return NULL;
	c->cur = cas_cell_decode(&c->r);
	return c->cur;
}

void cas_sstable_cursor_free(cas_sstable_cursor *c)
{
	if (c == NULL)
		return;
	free(c->cur);
	free(c);
}
