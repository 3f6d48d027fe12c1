/* spk_lineage.c — datasets as a lineage graph in the driver, and its encoding into a
 * task: for one partition, the exact computation from its sources (or the shuffle
 * blocks it reads, with where each map output lives) up to the stage's output. Narrow
 * dependencies (map, filter, union, coalesce) stay inside a stage; a shuffle cuts it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <actor/log.h>

#include "spk_driver.h"
#include "spk_registry.h"

static spk_rdd *rdd_new(spk_context *sc, enum spk_node_kind kind, const char *op, int nparts)
{
	if (sc == NULL || nparts < 1)
		return NULL;
	spk_rdd *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->sc = sc;
	r->kind = kind;
	r->op = op;
	r->nparts = nparts;
	r->cached_at = malloc((size_t)nparts * sizeof(int));
	if (r->cached_at == NULL) {
		free(r);
		return NULL;
	}
	for (int i = 0; i < nparts; i++)
		r->cached_at[i] = -1;
	pthread_mutex_lock(&sc->mu);
	r->id = ++sc->next_rdd;
	r->next = sc->rdds;
	sc->rdds = r;
	pthread_mutex_unlock(&sc->mu);
	return r;
}

spk_rdd *spk_range(spk_context *sc, int64_t start, int64_t end, int64_t step, int nslices)
{
	if (step <= 0)
		return NULL;
	spk_rdd *r = rdd_new(sc, SPK_N_RANGE, "range", nslices);
	if (r != NULL) {
		r->start = start;
		r->end = end < start ? start : end;
		r->step = step;
	}
	return r;
}

spk_rdd *spk_parallelize_rows(spk_context *sc, const spk_row *rows, size_t n, int nslices)
{
	spk_rdd *r = rdd_new(sc, SPK_N_ARRAY, "parallelize", nslices);
	if (r == NULL)
		return NULL;
	r->items = calloc(n ? n : 1, sizeof(char *));
	r->item_lens = calloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; r->items != NULL && r->item_lens != NULL && i < n; i++) {
		spk_buf b = {0};
		spk_put_row(&b, &rows[i]);
		r->items[i] = b.data;
		r->item_lens[i] = b.len;
		r->nitems++;
	}
	return r;
}

spk_rdd *spk_parallelize(spk_context *sc, const char *const *values, size_t n, int nslices)
{
	spk_row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (rows == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		rows[i].value =
		    (spk_bytes){values[i] ? values[i] : "", values[i] ? strlen(values[i]) : 0};
	spk_rdd *r = spk_parallelize_rows(sc, rows, n, nslices);
	free(rows);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

spk_rdd *spk_text_file(spk_context *sc, const char *given, int min_splits)
{
	struct stat st;
	/* Executors run in their sandboxes: they need the absolute path. */
	char path[PATH_MAX];
	if (given == NULL || realpath(given, path) == NULL) {
		actor_error("spark: cannot read %s: %s", given ? given : "(null)", strerror(errno));
		return NULL;
	}
	char **files = NULL;
	size_t nfiles = 0;
	if (sc == NULL || stat(path, &st) != 0) {
		actor_error("spark: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || e->d_name[0] == '_')
				continue; /* hidden files, _SUCCESS: as Hadoop's input formats */
			char **grown = realloc(files, (nfiles + 1) * sizeof(char *));
			if (grown == NULL)
				break;
			files = grown;
			size_t len = strlen(path) + strlen(e->d_name) + 2;
			files[nfiles] = malloc(len);
			snprintf(files[nfiles++], len, "%s/%s", path, e->d_name);
		}
		if (d != NULL)
			closedir(d);
		if (nfiles > 1)
			qsort(files, nfiles, sizeof(char *), name_cmp);
	} else {
		files = malloc(sizeof(char *));
		files[0] = strdup(path);
		nfiles = 1;
	}
	uint64_t total = 0, *sizes = calloc(nfiles + 1, sizeof(uint64_t));
	for (size_t i = 0; i < nfiles; i++)
		if (stat(files[i], &st) == 0 && S_ISREG(st.st_mode))
			total += sizes[i] = (uint64_t)st.st_size;
	if (min_splits < 1)
		min_splits = 2;
	/* Splits of about total / min_splits bytes, never across files (Hadoop's
	 * FileInputFormat), at most 64 MiB each. */
	uint64_t goal = total / (uint64_t)min_splits + 1;
	if (goal > (64u << 20))
		goal = 64u << 20;
	size_t nsplits = 0, cap = 16;
	struct spk_split *splits = calloc(cap, sizeof(*splits));
	for (size_t i = 0; splits != NULL && i < nfiles; i++)
		for (uint64_t off = 0; off < sizes[i]; off += goal) {
			if (nsplits == cap) {
				struct spk_split *grown =
				    realloc(splits, 2 * cap * sizeof(*splits));
				if (grown == NULL)
					break;
				splits = grown;
				cap *= 2;
			}
			uint64_t len = sizes[i] - off < goal ? sizes[i] - off : goal;
			splits[nsplits++] = (struct spk_split){strdup(files[i]), off, len};
		}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(sizes);
	if (nsplits == 0 && splits != NULL) /* an empty input is one empty partition */
		splits[nsplits++] = (struct spk_split){strdup(path), 0, 0};
	spk_rdd *r = splits ? rdd_new(sc, SPK_N_TEXT, "text_file", (int)nsplits) : NULL;
	if (r == NULL) {
		for (size_t i = 0; splits != NULL && i < nsplits; i++)
			free(splits[i].path);
		free(splits);
		return NULL;
	}
	r->splits = splits;
	return r;
}

static spk_rdd *narrow(spk_rdd *p, enum spk_node_kind kind, const char *op, const char *fn,
                       const char *arg, enum spk_fn_kind fkind)
{
	if (p == NULL || fn == NULL)
		return NULL;
	if (spk_registry_find(fn, fkind) == NULL) {
		actor_error("spark: %s: no function '%s' of that kind is registered", op, fn);
		return NULL;
	}
	spk_rdd *r = rdd_new(p->sc, kind, op, p->nparts);
	if (r == NULL)
		return NULL;
	r->fn = strdup(fn);
	r->arg = arg ? strdup(arg) : NULL;
	r->parents[0] = p;
	r->nparents = 1;
	return r;
}

spk_rdd *spk_map(spk_rdd *r, const char *fn, const char *arg)
{
	return narrow(r, SPK_N_MAP, "map", fn, arg, SPK_FN_MAP);
}

spk_rdd *spk_flat_map(spk_rdd *r, const char *fn, const char *arg)
{
	return narrow(r, SPK_N_FLAT_MAP, "flat_map", fn, arg, SPK_FN_MAP);
}

spk_rdd *spk_filter(spk_rdd *r, const char *fn, const char *arg)
{
	return narrow(r, SPK_N_FILTER, "filter", fn, arg, SPK_FN_FILTER);
}

spk_rdd *spk_map_partitions(spk_rdd *r, const char *fn, const char *arg)
{
	return narrow(r, SPK_N_PARTITIONS, "map_partitions", fn, arg, SPK_FN_PARTITIONS);
}

spk_rdd *spk_key_by(spk_rdd *r, const char *fn, const char *arg)
{
	return narrow(r, SPK_N_KEY_BY, "key_by", fn, arg, SPK_FN_MAP);
}

spk_rdd *spk_union(spk_rdd *a, spk_rdd *b)
{
	if (a == NULL || b == NULL || a->sc != b->sc)
		return NULL;
	spk_rdd *r = rdd_new(a->sc, SPK_N_CONCAT, "union", a->nparts + b->nparts);
	if (r != NULL) {
		r->parents[0] = a;
		r->parents[1] = b;
		r->nparents = 2;
	}
	return r;
}

spk_rdd *spk_coalesce(spk_rdd *p, int nparts)
{
	if (p == NULL || nparts < 1)
		return NULL;
	if (nparts > p->nparts)
		nparts = p->nparts;
	spk_rdd *r = rdd_new(p->sc, SPK_N_CONCAT, "coalesce", nparts);
	if (r == NULL)
		return NULL;
	r->parents[0] = p;
	r->nparents = 1;
	r->groups = malloc(((size_t)nparts + 1) * sizeof(int));
	for (int i = 0; r->groups != NULL && i <= nparts; i++)
		r->groups[i] = (int)((int64_t)i * p->nparts / nparts);
	return r;
}

static spk_shuffle *shuffle_new(spk_rdd *parent, int nreduce, const char *combine, const char *arg)
{
	spk_context *sc = parent->sc;
	spk_shuffle *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	int n = parent->nparts;
	s->parent = parent;
	s->nmaps = n;
	s->nreduce = nreduce;
	s->combine = combine ? strdup(combine) : NULL;
	s->combine_arg = arg ? strdup(arg) : NULL;
	s->maps = calloc((size_t)n, sizeof(*s->maps));
	s->active = calloc((size_t)n, sizeof(bool));
	s->attempts = calloc((size_t)n, sizeof(int));
	s->failures = calloc((size_t)n, sizeof(int));
	for (int i = 0; s->maps != NULL && i < n; i++)
		s->maps[i].exec = -1;
	pthread_mutex_lock(&sc->mu);
	s->id = sc->next_shuffle++;
	s->stage = sc->next_stage++;
	s->next = sc->shuffles;
	sc->shuffles = s;
	pthread_mutex_unlock(&sc->mu);
	return s;
}

static spk_rdd *shuffled(spk_rdd *p, spk_rdd *q, const char *op, enum spk_agg agg, const char *fn,
                         const char *arg, int nparts)
{
	if (p == NULL)
		return NULL;
	if (nparts < 1)
		nparts = p->nparts;
	spk_rdd *r = rdd_new(p->sc, SPK_N_SHUFFLED, op, nparts);
	if (r == NULL)
		return NULL;
	r->agg = agg;
	r->fn = fn ? strdup(fn) : NULL;
	r->arg = arg ? strdup(arg) : NULL;
	/* Map-side combine for reduce_by_key with the same function. */
	r->shuffles[0] = shuffle_new(p, nparts, agg == SPK_AGG_REDUCE ? fn : NULL, arg);
	r->nshuffles = 1;
	if (q != NULL) {
		r->shuffles[1] = shuffle_new(q, nparts, NULL, NULL);
		r->nshuffles = 2;
	}
	return r;
}

spk_rdd *spk_lineage_shuffle(spk_rdd *p, const char *op, enum spk_agg agg, const char *fn,
                             const char *arg, int nparts, const char *partitioner, const char *parg)
{
	if (agg == SPK_AGG_REDUCE && (fn == NULL || spk_registry_find(fn, SPK_FN_REDUCE) == NULL))
		return NULL;
	spk_rdd *r = shuffled(p, NULL, op, agg, fn, arg, nparts);
	if (r != NULL && partitioner != NULL) {
		r->shuffles[0]->partitioner = strdup(partitioner);
		r->shuffles[0]->partitioner_arg = parg ? strdup(parg) : NULL;
	}
	return r;
}

spk_rdd *spk_reduce_by_key(spk_rdd *r, const char *fn, const char *arg, int nparts)
{
	if (fn == NULL || spk_registry_find(fn, SPK_FN_REDUCE) == NULL) {
		actor_error("spark: reduce_by_key: no reduce function '%s'", fn ? fn : "(null)");
		return NULL;
	}
	return shuffled(r, NULL, "reduce_by_key", SPK_AGG_REDUCE, fn, arg, nparts);
}

spk_rdd *spk_group_by_key(spk_rdd *r, int nparts)
{
	return shuffled(r, NULL, "group_by_key", SPK_AGG_GROUP, NULL, NULL, nparts);
}

spk_rdd *spk_join(spk_rdd *a, spk_rdd *b, int nparts)
{
	if (a == NULL || b == NULL || a->sc != b->sc)
		return NULL;
	return shuffled(a, b, "join", SPK_AGG_JOIN, NULL, NULL, nparts);
}

spk_rdd *spk_lineage_sorted(spk_rdd *p, int nparts, const spk_bytes *bounds, size_t nbounds)
{
	spk_rdd *r = shuffled(p, NULL, "sort_by_key", SPK_AGG_SORT, NULL, NULL, nparts);
	if (r == NULL || nbounds == 0)
		return r;
	spk_shuffle *s = r->shuffles[0];
	s->bounds = calloc(nbounds, sizeof(char *));
	s->bound_lens = calloc(nbounds, sizeof(size_t));
	if (s->bounds == NULL || s->bound_lens == NULL)
		return NULL;
	for (size_t i = 0; i < nbounds; i++) {
		s->bounds[i] = malloc(bounds[i].len + 1);
		if (s->bounds[i] == NULL)
			return NULL;
		memcpy(s->bounds[i], bounds[i].data, bounds[i].len);
		s->bound_lens[i] = bounds[i].len;
		s->nbounds++;
	}
	return r;
}

spk_rdd *spk_repartition_and_sort(spk_rdd *r, int nparts)
{
	return shuffled(r, NULL, "repartition_and_sort", SPK_AGG_SORT, NULL, NULL, nparts);
}

spk_rdd *spk_repartition(spk_rdd *r, int nparts)
{
	return shuffled(r, NULL, "repartition", SPK_AGG_NONE, NULL, NULL, nparts);
}

spk_rdd *spk_distinct(spk_rdd *r, int nparts)
{
	/* row -> (the row as a key, "") -> one per key -> the row again (builtins). */
	spk_rdd *keyed = spk_map(r, "__distinct_key", NULL);
	spk_rdd *once = spk_reduce_by_key(keyed, "__first", NULL, nparts);
	return spk_map(once, "__distinct_row", NULL);
}

spk_rdd *spk_persist(spk_rdd *r)
{
	if (r != NULL)
		r->persist = true;
	return r;
}

int spk_num_partitions(const spk_rdd *r)
{
	return r ? r->nparts : -1;
}

int spk_shuffle_id(const spk_rdd *r)
{
	return r && r->kind == SPK_N_SHUFFLED ? r->shuffles[0]->id : -1;
}

/* ---- encoding a task ---------------------------------------------------------------- */

static int encode_node(spk_context *sc, const spk_rdd *r, int p, spk_buf *b)
{
	int rc = 0;
	enum spk_node_kind kind = r->kind;
	rc |= spk_put_u8(b, (uint8_t)kind);
	rc |= spk_put_varint(b, (uint64_t)r->id);
	rc |= spk_put_varint(b, (uint64_t)p);
	rc |= spk_put_u8(b, r->persist ? 1 : 0);
	switch (kind) {
	case SPK_N_RANGE: {
		/* Slice p holds numbers [i0, i1) of the range, as Spark slices a range. */
		int64_t count = (r->end - r->start + r->step - 1) / r->step;
		int64_t i0 = count * p / r->nparts, i1 = count * (p + 1) / r->nparts;
		rc |= spk_put_i64(b, r->start + i0 * r->step);
		rc |= spk_put_i64(b, r->start + i1 * r->step);
		rc |= spk_put_i64(b, r->step);
		break;
	}
	case SPK_N_ARRAY: {
		size_t i0 = r->nitems * (size_t)p / (size_t)r->nparts;
		size_t i1 = r->nitems * (size_t)(p + 1) / (size_t)r->nparts;
		rc |= spk_put_varint(b, i1 - i0);
		for (size_t i = i0; i < i1; i++)
			rc |= spk_put_bytes(b, r->items[i], r->item_lens[i]);
		break;
	}
	case SPK_N_TEXT:
		rc |= spk_put_str(b, r->splits[p].path);
		rc |= spk_put_varint(b, r->splits[p].off);
		rc |= spk_put_varint(b, r->splits[p].len);
		break;
	case SPK_N_CONCAT:
		if (r->nparents == 2) {
			rc |= spk_put_varint(b, 1);
			const spk_rdd *a = r->parents[0];
			if (p < a->nparts)
				rc |= encode_node(sc, a, p, b);
			else
				rc |= encode_node(sc, r->parents[1], p - a->nparts, b);
		} else {
			rc |= spk_put_varint(b, (uint64_t)(r->groups[p + 1] - r->groups[p]));
			for (int q = r->groups[p]; q < r->groups[p + 1]; q++)
				rc |= encode_node(sc, r->parents[0], q, b);
		}
		break;
	case SPK_N_SHUFFLED:
		rc |= spk_put_u8(b, (uint8_t)r->agg);
		rc |= spk_put_str(b, r->fn);
		rc |= spk_put_str(b, r->arg);
		rc |= spk_put_u8(b, (uint8_t)r->nshuffles);
		for (int i = 0; i < r->nshuffles; i++) {
			const spk_shuffle *s = r->shuffles[i];
			rc |= spk_put_varint(b, (uint64_t)s->id);
			rc |= spk_put_varint(b, (uint64_t)s->parent->nparts);
			for (int m = 0; m < s->parent->nparts; m++) {
				const struct spk_map_status *ms = &s->maps[m];
				bool have = ms->exec >= 0 && ms->sizes != NULL;
				rc |= spk_put_str(b, have ? actor_pid_str(sc->execs[ms->exec].pid)
				                          : "");
				rc |= spk_put_varint(b, have ? ms->sizes[p] : 0);
			}
		}
		break;
	default:
		rc |= spk_put_str(b, r->fn);
		rc |= spk_put_str(b, r->arg);
		rc |= encode_node(sc, r->parents[0], p, b);
	}
	return rc;
}

int spk_task_encode(spk_context *sc, const struct spk_task *t, spk_buf *out)
{
	int rc = 0;
	rc |= spk_put_varint(out, t->id);
	rc |= spk_put_varint(out, (uint64_t)(t->shuffle ? t->shuffle->stage : t->job->stage));
	rc |= spk_put_varint(out, (uint64_t)t->partition);
	rc |= spk_put_varint(out, (uint64_t)t->attempt);
	const spk_rdd *root;
	if (t->shuffle != NULL) {
		const spk_shuffle *s = t->shuffle;
		root = s->parent;
		rc |= spk_put_u8(out, SPK_OUT_SHUFFLE);
		rc |= spk_put_varint(out, (uint64_t)s->id);
		rc |= spk_put_varint(out, (uint64_t)s->nreduce);
		rc |= spk_put_varint(out, s->nbounds);
		for (size_t i = 0; i < s->nbounds; i++)
			rc |= spk_put_bytes(out, s->bounds[i], s->bound_lens[i]);
		rc |= spk_put_str(out, s->combine);
		rc |= spk_put_str(out, s->combine_arg);
		rc |= spk_put_str(out, s->partitioner);
		rc |= spk_put_str(out, s->partitioner_arg);
	} else {
		const spk_out_spec *o = &t->job->out;
		root = t->job->rdd;
		rc |= spk_put_u8(out, (uint8_t)o->kind);
		if (o->kind == SPK_OUT_TAKE || o->kind == SPK_OUT_SAMPLE)
			rc |= spk_put_varint(out, o->take);
		else if (o->kind == SPK_OUT_REDUCE) {
			rc |= spk_put_str(out, o->fn);
			rc |= spk_put_str(out, o->arg);
		} else if (o->kind == SPK_OUT_SAVE)
			rc |= spk_put_str(out, o->dir);
	}
	rc |= encode_node(sc, root, t->partition, out);
	return rc ? -1 : 0;
}

/* The first persisted dataset met on the way down from r (narrow steps only). */
static int preferred(const spk_rdd *r, int p)
{
	while (r != NULL) {
		if (r->persist && r->cached_at[p] >= 0)
			return r->cached_at[p];
		if (r->kind == SPK_N_SHUFFLED || r->kind == SPK_N_RANGE || r->kind == SPK_N_ARRAY ||
		    r->kind == SPK_N_TEXT)
			return -1;
		if (r->kind == SPK_N_CONCAT) {
			if (r->nparents == 2) {
				if (p >= r->parents[0]->nparts) {
					p -= r->parents[0]->nparts;
					r = r->parents[1];
				} else {
					r = r->parents[0];
				}
			} else {
				p = r->groups[p];
				r = r->parents[0];
			}
			continue;
		}
		r = r->parents[0];
	}
	return -1;
}

int spk_task_preferred_exec(spk_context *sc, const struct spk_task *t)
{
	(void)sc;
	return preferred(t->shuffle ? t->shuffle->parent : t->job->rdd, t->partition);
}

void spk_lineage_free(spk_context *sc)
{
	while (sc->rdds != NULL) {
		spk_rdd *r = sc->rdds;
		sc->rdds = r->next;
		for (size_t i = 0; i < r->nitems; i++)
			free(r->items[i]);
		free(r->items);
		free(r->item_lens);
		for (int i = 0; r->splits != NULL && i < r->nparts; i++)
			free(r->splits[i].path);
		free(r->splits);
		free(r->fn);
		free(r->arg);
		free(r->groups);
		free(r->cached_at);
		free(r);
	}
	while (sc->shuffles != NULL) {
		spk_shuffle *s = sc->shuffles;
		sc->shuffles = s->next;
		for (int m = 0; s->maps != NULL && m < s->nmaps; m++)
			free(s->maps[m].sizes);
		for (size_t i = 0; i < s->nbounds; i++)
			free(s->bounds[i]);
		free(s->bounds);
		free(s->bound_lens);
		free(s->combine);
		free(s->combine_arg);
		free(s->partitioner);
		free(s->partitioner_arg);
		free(s->maps);
		free(s->active);
		free(s->attempts);
		free(s->failures);
		free(s);
	}
}
