/* storage.c — the storage engine in-process: memtable, commit log replay (with a torn
 * tail), flush to sorted tables read through their index and Bloom filter,
 * size-tiered compaction, tombstone purge after gc_grace without resurrection. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cas_harness.h"
#include "cas_key.h"
#include "cas_murmur3.h"
#include "cas_store.h"
#include "cas_value.h"

TestSuite(storage, .init = ch_init, .fini = ch_fini, .timeout = 60);

/* A cell of partition "k.t"+key, row `row` (bigint clustering), column "v". */
static cas_cell *cell(const char *key, int64_t row, uint8_t kind, int64_t ts, uint8_t flags,
                      uint32_t ldt, const char *val)
{
	cas_wbuf part = {0}, k = {0};
	cas_put_u8(&part, 3);
	cas_put_raw(&part, "k.t", 3);
	cas_value kv = cas_value_text(key);
	cas_value_put_key(&part, &kv);
	cas_put_u16(&k, (uint16_t)part.len);
	cas_put_raw(&k, part.data, part.len);
	if (kind != CAS_KIND_PARTITION_DEL) {
		cas_value r = {.type = CAS_BIGINT, .i = row};
		cas_put_u8(&k, CAS_KIND_CLUSTERING);
		cas_value_put_key(&k, &r);
	}
	cas_put_u8(&k, kind);
	if (kind == CAS_KIND_COLUMN)
		cas_put_u8(&k, 'v');
	cas_cell *c = cas_cell_alloc(k.data, (uint32_t)k.len, ts, flags, ldt, val,
	                             val ? (uint32_t)strlen(val) : 0);
	cas_wbuf_fini(&part);
	cas_wbuf_fini(&k);
	return c;
}

static void part_of(const char *key, cas_wbuf *part)
{
	cas_put_u8(part, 3);
	cas_put_raw(part, "k.t", 3);
	cas_value kv = cas_value_text(key);
	cas_value_put_key(part, &kv);
}

static void put(cas_store *s, cas_cell *c)
{
	cas_cells a = {0};
	cr_assert_eq(cas_cells_push(&a, c), 0);
	cr_assert_eq(cas_store_apply(s, &a), 0);
	cas_cells_fini(&a);
}

/* The live value of column v of row `row` in partition key, or NULL (static buffer). */
static const char *value_of(cas_store *s, const char *key, int64_t row, uint32_t now)
{
	static char out[256];
	cas_wbuf part = {0};
	cas_cells cells = {0};
	part_of(key, &part);
	cr_assert_eq(cas_store_read(s, part.data, part.len, &cells), 0);
	cas_cell *want = cell(key, row, CAS_KIND_COLUMN, 0, 0, 0, NULL);
	const char *found = NULL;
	int64_t deleted = INT64_MIN;
	for (size_t i = 0; i < cells.n; i++) {
		cas_cell *c = cells.v[i];
		size_t plen = part.len;
		if (c->klen == 2 + plen + 1 && (c->flags & CAS_CELL_TOMBSTONE))
			deleted = c->ts; /* the partition's deletion */
		if (cas_key_cmp(CAS_CELL_KEY(c), c->klen, CAS_CELL_KEY(want), want->klen) == 0 &&
		    !cas_cell_dead(c, now) && c->ts > deleted) {
			snprintf(out, sizeof(out), "%.*s", (int)c->vlen, (const char *)CAS_CELL_VAL(c));
			found = out;
		}
	}
	free(want);
	cas_cells_fini(&cells);
	cas_wbuf_fini(&part);
	return found;
}

static cas_store *open_store(int64_t grace)
{
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/store", ch_dir());
	cas_store_opts o;
	cas_store_opts_default(&o);
	o.gc_grace_s = grace;
	o.min_threshold = 4;
	cas_store *s = cas_store_open(dir, &o, err, sizeof(err));
	cr_assert_not_null(s, "%s", err);
	return s;
}

Test(storage, murmur3_tokens_are_cassandras)
{
	/* The reference MurmurHash3_x64_128 vectors (first half), and 0 for no bytes. */
	cr_assert_eq(cas_murmur3_token("hello", 5), (int64_t)0xcbd8a7b341bd9b02ULL);
	const char *fox = "The quick brown fox jumps over the lazy dog";
	cr_assert_eq(cas_murmur3_token(fox, strlen(fox)), (int64_t)0xe34bbc7bbc071b6cULL);
	cr_assert_eq(cas_murmur3_token("", 0), 0);
}

Test(storage, last_write_wins_and_tombstones_win_ties)
{
	cas_store *s = open_store(864000);
	put(s, cell("a", 1, CAS_KIND_COLUMN, 10, 0, 0, "old"));
	put(s, cell("a", 1, CAS_KIND_COLUMN, 20, 0, 0, "new"));
	put(s, cell("a", 1, CAS_KIND_COLUMN, 15, 0, 0, "late but older"));
	cr_assert_str_eq(value_of(s, "a", 1, 0), "new");
	put(s, cell("a", 1, CAS_KIND_COLUMN, 20, CAS_CELL_TOMBSTONE, 1, NULL));
	cr_assert_null(value_of(s, "a", 1, 0), "a tombstone wins a timestamp tie");
	put(s, cell("a", 2, CAS_KIND_COLUMN, 5, CAS_CELL_EXPIRING, 100, "ttl"));
	cr_assert_str_eq(value_of(s, "a", 2, 99), "ttl");
	cr_assert_null(value_of(s, "a", 2, 100), "an expired value reads as deleted");
	cas_store_close(s);
}

Test(storage, the_commit_log_is_replayed_and_a_torn_tail_ignored)
{
	cas_store *s = open_store(864000);
	for (int i = 0; i < 100; i++) {
		char k[16], v[16];
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		put(s, cell(k, 0, CAS_KIND_COLUMN, 1, 0, 0, v));
	}
	cr_assert_eq(cas_store_sync(s), 0);
	cas_store_close(s);
	/* A crash in the middle of a record: garbage after the last whole one. */
	char path[600];
	snprintf(path, sizeof(path), "%s/store/commitlog-000000000001.log", ch_dir());
	int fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\0\0\1\0garbage", 11), 11);
	close(fd);
	s = open_store(864000);
	for (int i = 0; i < 100; i++) {
		char k[16], v[16];
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		const char *got = value_of(s, k, 0, 0);
		cr_assert(got && strcmp(got, v) == 0, "%s lost after replay", k);
	}
	cas_store_close(s);
}

Test(storage, flushed_tables_serve_reads_and_survive_a_restart)
{
	cas_store *s = open_store(864000);
	for (int t = 0; t < 3; t++) {
		for (int i = 0; i < 500; i++) {
			char k[16], v[32];
			snprintf(k, sizeof(k), "k%d", i);
			snprintf(v, sizeof(v), "t%d-v%d", t, i);
			put(s, cell(k, i % 7, CAS_KIND_COLUMN, 100 + t, 0, 0, v));
		}
		cr_assert_eq(cas_store_maybe_flush(s, true), 0);
	}
	cr_assert_eq(cas_store_tables(s), 3);
	cr_assert_str_eq(value_of(s, "k42", 0, 0), "t2-v42");
	cr_assert_null(value_of(s, "nope", 0, 0));
	cas_store_close(s);
	s = open_store(864000);
	cr_assert_eq(cas_store_tables(s), 3);
	cr_assert_str_eq(value_of(s, "k499", 499 % 7, 0), "t2-v499");
	/* No commit log is left for what is in tables. */
	char path[600];
	snprintf(path, sizeof(path), "%s/store/commitlog-000000000001.log", ch_dir());
	cr_assert_neq(access(path, F_OK), 0);
	cas_store_close(s);
}

Test(storage, size_tiered_compaction_merges_similar_tables_and_keeps_reads_correct)
{
	cas_store *s = open_store(864000);
	for (int t = 0; t < 4; t++) {
		for (int i = 0; i < 200; i++) {
			char k[16], v[32];
			snprintf(k, sizeof(k), "k%d", i);
			snprintf(v, sizeof(v), "t%d", t);
			/* Table 1 holds the newest value of even keys; later tables older ones. */
			int64_t ts = (t == 1 && i % 2 == 0) ? 1000 : 100 + t;
			put(s, cell(k, 0, CAS_KIND_COLUMN, ts, 0, 0, v));
		}
		cr_assert_eq(cas_store_maybe_flush(s, true), 0);
	}
	cr_assert_eq(cas_store_compact(s, 1000, false), 4);
	cr_assert_eq(cas_store_tables(s), 1);
	cr_assert_str_eq(value_of(s, "k10", 0, 0), "t1");
	cr_assert_str_eq(value_of(s, "k11", 0, 0), "t3");
	cas_store_close(s);
}

Test(storage, tombstones_are_purged_after_gc_grace_and_nothing_resurrects)
{
	cas_store *s = open_store(10);
	put(s, cell("a", 1, CAS_KIND_COLUMN, 10, 0, 0, "alive"));
	put(s, cell("b", 1, CAS_KIND_COLUMN, 10, 0, 0, "doomed"));
	cr_assert_eq(cas_store_maybe_flush(s, true), 0);
	/* b's partition is deleted at time 1000 (seconds), after its value was written. */
	put(s, cell("b", 0, CAS_KIND_PARTITION_DEL, 20, CAS_CELL_TOMBSTONE, 1000, NULL));
	put(s, cell("c", 1, CAS_KIND_COLUMN, 10, CAS_CELL_TOMBSTONE, 1000, NULL));
	cr_assert_eq(cas_store_maybe_flush(s, true), 0);
	/* Within the grace period the tombstones stay. */
	cr_assert_eq(cas_store_compact(s, 1005, true), 2);
	cr_assert_null(value_of(s, "b", 1, 1005));
	uint64_t with_tombstones = cas_store_load(s);
	/* Past it, they go with the value they hid: b stays deleted. */
	cr_assert_eq(cas_store_maybe_flush(s, true), 0); /* nothing to flush: still one table */
	put(s, cell("d", 1, CAS_KIND_COLUMN, 10, 0, 0, "x"));
	cr_assert_eq(cas_store_maybe_flush(s, true), 0);
	cr_assert_eq(cas_store_compact(s, 2000, true), 2);
	cr_assert_null(value_of(s, "b", 1, 2000), "a purged deletion resurrected its data");
	cr_assert_str_eq(value_of(s, "a", 1, 2000), "alive");
	cas_wbuf part = {0};
	cas_cells cells = {0};
	part_of("b", &part);
	cr_assert_eq(cas_store_read(s, part.data, part.len, &cells), 0);
	cr_assert_eq(cells.n, 0, "partition b still holds %zu cells", cells.n);
	cas_cells_fini(&cells);
	cas_wbuf_fini(&part);
	cr_assert_lt(cas_store_load(s), with_tombstones + 200);
	cas_store_close(s);
}
