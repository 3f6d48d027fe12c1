/* spk_shuffle_write.c — the map side of a shuffle. Rows are partitioned as they come;
 * with a combine function (reduce_by_key) each partition is a hash table that keeps one
 * value per key, so only combined values reach the disk. At the end every partition is
 * sorted by key and the partitions are written one after the other into one file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spk_kvmap.h"
#include "spk_registry.h"
#include "spk_shuffle.h"

struct spk_shuffle_writer {
	spk_sink base;
	spk_exec *ex;
	const spk_out_spec *out;
	int map;
	spk_reduce_fn combine;
	spk_partitioner_fn partitioner;
	spk_kvmap *tables; /* combine: one per reduce partition */
	spk_buf *rows;     /* otherwise: encoded rows per reduce partition */
};

static spk_bytes sort_key(const spk_row *row)
{
	return row->keyed ? row->key : row->value;
}

int spk_partition_of(spk_bytes key, int n, const spk_bytes *bounds, size_t nbounds)
{
	if (nbounds == 0)
		return (int)(spk_hash(key.data, key.len) % (uint64_t)n);
	size_t lo = 0, hi = nbounds;
	/* The first bound not below the key; past all of them, the last partition. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (spk_bytes_cmp(bounds[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo;
}

static int push_shuffle(spk_sink *s, const spk_row *row)
{
	spk_shuffle_writer *w = (spk_shuffle_writer *)s;
	int r;
	if (w->partitioner != NULL) {
		r = w->partitioner(sort_key(row), w->out->nreduce, w->out->parg);
		if (r < 0 || r >= w->out->nreduce) {
			spk_failure_set("partitioner '%s' gave %d for %d partitions",
			                w->out->partitioner, r, w->out->nreduce);
			return SPK_PUSH_FAIL;
		}
	} else {
		r = spk_partition_of(sort_key(row), w->out->nreduce, w->out->bounds,
		                     w->out->nbounds);
	}
	if (w->combine != NULL) {
		if (!row->keyed) {
			spk_failure_set(
			    "reduce_by_key needs keyed rows (use key_by or emit pairs)");
			return SPK_PUSH_FAIL;
		}
		return spk_kvmap_reduce(&w->tables[r], row->key, row->value, w->combine,
		                        w->out->arg) == 0
		           ? SPK_PUSH_OK
		           : SPK_PUSH_FAIL;
	}
	return spk_put_row(&w->rows[r], row) == 0 ? SPK_PUSH_OK : SPK_PUSH_FAIL;
}

spk_shuffle_writer *spk_shuffle_writer_alloc(spk_exec *ex, const spk_out_spec *out, int map)
{
	spk_shuffle_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->base.push = push_shuffle;
	w->ex = ex;
	w->out = out;
	w->map = map;
	if (out->partitioner != NULL) {
		w->partitioner = spk_registry_find(out->partitioner, SPK_FN_PARTITIONER);
		if (w->partitioner == NULL) {
			spk_failure_set("no partitioner '%s' registered", out->partitioner);
			free(w);
			return NULL;
		}
	}
	if (out->fn != NULL) {
		w->combine = spk_registry_find(out->fn, SPK_FN_REDUCE);
		if (w->combine == NULL) {
			spk_failure_set("no reduce function '%s' registered", out->fn);
			free(w);
			return NULL;
		}
		w->tables = calloc((size_t)out->nreduce, sizeof(*w->tables));
	} else {
		w->rows = calloc((size_t)out->nreduce, sizeof(*w->rows));
	}
	if (w->tables == NULL && w->rows == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

spk_sink *spk_shuffle_writer_sink(spk_shuffle_writer *w)
{
	return &w->base;
}

static int sorted_cmp(const void *a, const void *b)
{
	const struct spk_sorted_row *x = a, *y = b;
	int c = spk_bytes_cmp(sort_key(&x->row), sort_key(&y->row));
	return c != 0 ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

int spk_rows_sorted(const spk_buf *rows, struct spk_sorted_row **out, size_t *n)
{
	size_t cap = 1024;
	struct spk_sorted_row *v = malloc(cap * sizeof(*v));
	spk_rd rd;
	*n = 0;
	if (v == NULL)
		return -1;
	spk_rd_init(&rd, rows->data, rows->len);
	spk_row row;
	while (spk_get_row(&rd, &row)) {
		if (*n == cap) {
			struct spk_sorted_row *bigger = realloc(v, 2 * cap * sizeof(*v));
			if (bigger == NULL) {
				free(v);
				return -1;
			}
			v = bigger;
			cap *= 2;
		}
		v[*n].row = row;
		v[*n].seq = *n;
		(*n)++;
	}
	qsort(v, *n, sizeof(*v), sorted_cmp);
	*out = v;
	return 0;
}

/* Encodes partition r, sorted, into out. */
static int encode_partition(spk_shuffle_writer *w, int r, spk_buf *out)
{
	if (w->combine != NULL) {
		size_t n;
		spk_kv **e = spk_kvmap_entries(&w->tables[r], true, &n);
		if (e == NULL && n > 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			spk_row row = {.key = e[i]->key, .value = e[i]->value, .keyed = true};
			if (spk_put_row(out, &row) != 0) {
				free(e);
				return -1;
			}
		}
		free(e);
		return 0;
	}
	struct spk_sorted_row *v = NULL;
	size_t n = 0;
	if (spk_rows_sorted(&w->rows[r], &v, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (spk_put_row(out, &v[i].row) != 0) {
			free(v);
			return -1;
		}
	free(v);
	return 0;
}

int spk_shuffle_writer_finish(spk_shuffle_writer *w, uint64_t **sizes, size_t *nsizes)
{
	char dir[4096], tmp[4400], path[4200];
	snprintf(dir, sizeof(dir), "%s/spk-shuffle", spk_exec_dir(w->ex));
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%d-%d.data", dir, w->out->sid, w->map);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	int n = w->out->nreduce;
	uint64_t *offsets = calloc((size_t)n + 1, sizeof(uint64_t));
	*sizes = calloc((size_t)n, sizeof(uint64_t));
	if (f == NULL || offsets == NULL || *sizes == NULL) {
		spk_failure_set("cannot write %s: %s", tmp, f ? "out of memory" : strerror(errno));
		if (f != NULL)
			fclose(f);
		free(offsets);
		free(*sizes);
		*sizes = NULL;
		return -1;
	}
	spk_buf block = {0};
	int rc = 0;
	for (int r = 0; r < n && rc == 0; r++) {
		block.len = 0;
		rc = encode_partition(w, r, &block);
		if (rc == 0 && block.len > 0 && fwrite(block.data, 1, block.len, f) != block.len)
			rc = -1;
		/* Free each partition once written: the file, not memory, holds it now. */
		if (w->combine != NULL)
			spk_kvmap_fini(&w->tables[r]);
		else
			spk_buf_fini(&w->rows[r]);
		(*sizes)[r] = block.len;
		offsets[r + 1] = offsets[r] + block.len;
	}
	spk_buf_fini(&block);
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc == 0)
		rc = spk_exec_output_add(w->ex, w->out->sid, w->map, path, offsets, n);
	if (rc != 0) {
		spk_failure_set("cannot write shuffle output %s: %s", path, strerror(errno));
		unlink(tmp);
		free(*sizes);
		*sizes = NULL;
	} else {
		*nsizes = (size_t)n;
	}
	free(offsets);
	return rc;
}

void spk_shuffle_writer_free(spk_shuffle_writer *w)
{
	if (w == NULL)
		return;
	for (int r = 0; r < w->out->nreduce; r++) {
		if (w->tables != NULL)
			spk_kvmap_fini(&w->tables[r]);
		if (w->rows != NULL)
			spk_buf_fini(&w->rows[r]);
	}
	free(w->tables);
	free(w->rows);
	free(w);
}
