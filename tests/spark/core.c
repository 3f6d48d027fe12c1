/* core.c — every transformation and action of the engine against a reference computed
 * here in one process, on a real `plexus local` cluster with two agents and real
 * executors (this binary in executor mode). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spk_test.h"

static long long num(spk_bytes b)
{
	char t[32];
	size_t n = b.len < sizeof(t) - 1 ? b.len : sizeof(t) - 1;
	memcpy(t, b.data, n);
	t[n] = '\0';
	return atoll(t);
}

static int fn_double(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", 2 * num(in->value));
	spk_emit_value(out, t, (size_t)n);
	return 0;
}

static int fn_mult3(const spk_row *in, const char *arg, bool *keep)
{
	(void)arg;
	*keep = num(in->value) % 3 == 0;
	return 0;
}

/* v -> v, v + 1000 */
static int fn_explode(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	char t[32];
	spk_emit_value(out, in->value.data, in->value.len);
	int n = snprintf(t, sizeof(t), "%lld", num(in->value) + 1000);
	spk_emit_value(out, t, (size_t)n);
	return 0;
}

static int fn_mod10(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	char t[8];
	int n = snprintf(t, sizeof(t), "%lld", num(in->value) % 10);
	spk_emit_value(out, t, (size_t)n);
	return 0;
}

/* A key that scatters the order of numbers. */
static int fn_scramble(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	char t[16];
	uint32_t h = (uint32_t)num(in->value) * 2654435761u;
	int n = snprintf(t, sizeof(t), "%08x", h);
	spk_emit_value(out, t, (size_t)n);
	return 0;
}

static int fn_part_sum(spk_iter *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	spk_row row;
	long long sum = 0;
	while (spk_iter_next(in, &row))
		sum += num(row.value);
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", sum);
	spk_emit_value(out, t, (size_t)n);
	return 0;
}

static int fn_max(spk_bytes a, spk_bytes b, const char *arg, spk_buf *out)
{
	(void)arg;
	spk_bytes m = num(a) >= num(b) ? a : b;
	return spk_buf_append(out, m.data, m.len);
}

static int fn_words(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	const char *p = in->value.data, *end = p + in->value.len;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		const char *w = p;
		while (p < end && *p != ' ')
			p++;
		if (p > w)
			spk_emit_pair(out, w, (size_t)(p - w), "1", 1);
	}
	return 0;
}

static int fn_fail_on(const spk_row *in, const char *arg, bool *keep)
{
	if (num(in->value) == atoll(arg))
		return spk_fail("value %s is cursed", arg);
	*keep = true;
	return 0;
}

/* Fails the first call of the whole job (the marker file is created once). */
static int fn_fail_once(const spk_row *in, const char *arg, spk_emitter *out)
{
	int fd = open(arg, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd >= 0) {
		close(fd);
		return spk_fail("a transient failure");
	}
	spk_emit(out, in);
	return 0;
}

/* Counts its calls by appending a byte to the file arg. */
static int fn_count_calls(const spk_row *in, const char *arg, spk_emitter *out)
{
	int fd = open(arg, O_CREAT | O_APPEND | O_WRONLY, 0644);
	if (fd >= 0) {
		if (write(fd, "x", 1) != 1)
			return spk_fail("cannot count");
		close(fd);
	}
	spk_emit(out, in);
	return 0;
}

static void register_fns(void)
{
	spk_register_map("double", fn_double);
	spk_register_filter("mult3", fn_mult3);
	spk_register_map("explode", fn_explode);
	spk_register_map("mod10", fn_mod10);
	spk_register_map("scramble", fn_scramble);
	spk_register_partitions("part_sum", fn_part_sum);
	spk_register_reduce("max", fn_max);
	spk_register_map("words", fn_words);
	spk_register_filter("fail_on", fn_fail_on);
	spk_register_map("fail_once", fn_fail_once);
	spk_register_map("count_calls", fn_count_calls);
}

SPK_TEST_BOOT(register_fns)

static struct spk_cluster cluster;
static spk_context *sc;

static void setup(void)
{
	spk_cluster_start(&cluster, 2, "cpus:2;mem:1024;disk:1024");
	sc = spk_test_context(&cluster, 0);
}

static void teardown(void)
{
	spk_context_stop(sc);
	sc = NULL;
	spk_cluster_stop(&cluster);
}

TestSuite(spark, .init = setup, .fini = teardown, .timeout = 150);

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* The values of rows as numbers, sorted. */
static long long *sorted_values(const spk_rows *rows)
{
	long long *v = calloc(rows->n + 1, sizeof(*v));
	for (size_t i = 0; i < rows->n; i++)
		v[i] = num(rows->rows[i].value);
	qsort(v, rows->n, sizeof(*v), cmp_ll);
	return v;
}

Test(spark, narrow_transformations_and_actions_match_a_reference)
{
	spk_rdd *r = spk_range(sc, 0, 1000, 1, 7);
	uint64_t n = 0;
	cr_assert_eq(spk_count(r, &n), 0, "%s", spk_context_error(sc));
	cr_expect_eq(n, 1000);

	/* filter keeps order within and across partitions. */
	spk_rows *rows = NULL;
	cr_assert_eq(spk_collect(spk_filter(r, "mult3", NULL), &rows), 0);
	cr_assert_eq(rows->n, 334);
	for (size_t i = 0; i < rows->n; i++)
		cr_expect_eq(num(rows->rows[i].value), (long long)(3 * i));
	spk_rows_free(rows);

	/* flat_map and map. */
	cr_assert_eq(spk_collect(spk_map(spk_flat_map(r, "explode", NULL), "double", NULL), &rows),
	             0);
	cr_assert_eq(rows->n, 2000);
	long long *v = sorted_values(rows);
	for (long long i = 0; i < 2000; i++)
		cr_expect_eq(v[i], 2 * (i < 1000 ? i : i), "at %lld", i);
	free(v);
	spk_rows_free(rows);

	/* map_partitions sees each slice whole, as Spark slices a range. */
	cr_assert_eq(spk_collect(spk_map_partitions(r, "part_sum", NULL), &rows), 0);
	cr_assert_eq(rows->n, 7);
	for (int p = 0; p < 7; p++) {
		long long want = 0;
		for (long long i = 1000LL * p / 7; i < 1000LL * (p + 1) / 7; i++)
			want += i;
		cr_expect_eq(num(rows->rows[p].value), want, "slice %d", p);
	}
	spk_rows_free(rows);

	/* reduce, with a user function and the builtin sum. */
	char *out = NULL;
	size_t len = 0;
	cr_assert_eq(spk_reduce(spk_map(r, "double", NULL), "sum", NULL, &out, &len), 0);
	cr_expect_str_eq(out, "999000");
	free(out);
	cr_assert_eq(spk_reduce(r, "max", NULL, &out, &len), 0);
	cr_expect_str_eq(out, "999");
	free(out);
	cr_expect_eq(spk_reduce(spk_filter(r, "mult3", NULL), "nope", NULL, &out, &len), -1);

	/* take scans as few partitions as it needs, in order. */
	cr_assert_eq(spk_take(r, 5, &rows), 0);
	cr_assert_eq(rows->n, 5);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(num(rows->rows[i].value), i);
	spk_rows_free(rows);
	cr_assert_eq(spk_take(r, 300, &rows), 0);
	cr_assert_eq(rows->n, 300);
	for (int i = 0; i < 300; i++)
		cr_expect_eq(num(rows->rows[i].value), i);
	spk_rows_free(rows);

	/* union and coalesce are narrow: order kept. */
	const char *letters[] = {"a", "b", "c"};
	spk_rdd *u = spk_union(spk_range(sc, 0, 10, 1, 2), spk_parallelize(sc, letters, 3, 2));
	cr_expect_eq(spk_num_partitions(u), 4);
	cr_assert_eq(spk_collect(u, &rows), 0);
	cr_assert_eq(rows->n, 13);
	for (int i = 0; i < 10; i++)
		cr_expect_eq(num(rows->rows[i].value), i);
	cr_expect_str_eq(rows->rows[10].value.data, "a");
	cr_expect_str_eq(rows->rows[12].value.data, "c");
	spk_rows_free(rows);
	spk_rdd *c = spk_coalesce(spk_range(sc, 0, 100, 1, 10), 3);
	cr_expect_eq(spk_num_partitions(c), 3);
	cr_assert_eq(spk_collect(c, &rows), 0);
	cr_assert_eq(rows->n, 100);
	for (int i = 0; i < 100; i++)
		cr_expect_eq(num(rows->rows[i].value), i);
	spk_rows_free(rows);

	/* A transformation naming an unregistered function is refused at once. */
	cr_expect_null(spk_map(r, "no_such_function", NULL));
	cr_expect_null(spk_filter(r, "double", NULL)); /* a map, not a filter */
}

/* A file of lines of many lengths, some empty, the last without "\n". */
static char *write_lines(const char *path, int n, char ***lines_out)
{
	FILE *f = fopen(path, "w");
	char **lines = calloc((size_t)n, sizeof(char *));
	srand(7);
	for (int i = 0; i < n; i++) {
		int len = i % 17 == 0 ? 0 : rand() % 120;
		lines[i] = calloc((size_t)len + 16, 1);
		int k = snprintf(lines[i], 16, "%d:", i);
		for (int j = 0; len > 0 && j < len; j++)
			lines[i][k + j] = (char)('a' + rand() % 26);
		if (len == 0)
			lines[i][0] = '\0';
		fprintf(f, "%s%s", lines[i], i + 1 < n ? "\n" : "");
	}
	fclose(f);
	*lines_out = lines;
	return NULL;
}

Test(spark, text_file_splits_by_byte_ranges_like_hadoop)
{
	char path[400], dir[400], second[500];
	snprintf(path, sizeof(path), "%s/input.txt", cluster.dir);
	char **lines;
	int n = 700;
	write_lines(path, n, &lines);
	for (int splits = 1; splits <= 13; splits += 6) {
		spk_rdd *t = spk_text_file(sc, path, splits);
		cr_assert_not_null(t);
		cr_expect_geq(spk_num_partitions(t), splits);
		spk_rows *rows = NULL;
		cr_assert_eq(spk_collect(t, &rows), 0, "%s", spk_context_error(sc));
		cr_assert_eq(rows->n, (size_t)n, "%d splits: %zu lines", splits, rows->n);
		for (int i = 0; i < n; i++)
			cr_expect_str_eq(rows->rows[i].value.data, lines[i], "line %d", i);
		spk_rows_free(rows);
	}
	/* A directory: its files in name order. */
	snprintf(dir, sizeof(dir), "%s/indir", cluster.dir);
	mkdir(dir, 0755);
	snprintf(second, sizeof(second), "%s/b.txt", dir);
	FILE *f = fopen(second, "w");
	fputs("x\ny\n", f);
	fclose(f);
	snprintf(second, sizeof(second), "%s/a.txt", dir);
	f = fopen(second, "w");
	fputs("v\nw\n", f);
	fclose(f);
	spk_rows *rows = NULL;
	cr_assert_eq(spk_collect(spk_text_file(sc, dir, 3), &rows), 0);
	cr_assert_eq(rows->n, 4);
	cr_expect_str_eq(rows->rows[0].value.data, "v");
	cr_expect_str_eq(rows->rows[3].value.data, "y");
	spk_rows_free(rows);
	cr_expect_null(spk_text_file(sc, "/no/such/file", 2));
	for (int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

Test(spark, word_count_of_a_generated_corpus_equals_the_reference)
{
	enum { VOCAB = 300, WORDS = 30000 };
	static int want[VOCAB];
	char path[400], outdir[400];
	snprintf(path, sizeof(path), "%s/corpus.txt", cluster.dir);
	snprintf(outdir, sizeof(outdir), "%s/counts", cluster.dir);
	FILE *f = fopen(path, "w");
	srand(11);
	for (int i = 0; i < WORDS; i++) {
		/* Skewed: low ids are frequent. */
		int w = (rand() % VOCAB) * (rand() % VOCAB) / VOCAB;
		want[w]++;
		fprintf(f, "w%d%s", w, rand() % 9 == 0 ? "\n" : " ");
	}
	fclose(f);
	spk_rdd *counts = spk_reduce_by_key(spk_flat_map(spk_text_file(sc, path, 5), "words", NULL),
	                                    "sum", NULL, 3);
	cr_assert_eq(spk_save_as_text_files(counts, outdir), 0, "%s", spk_context_error(sc));
	int got[VOCAB] = {0}, distinct = 0;
	for (int p = 0; p < 3; p++) {
		char part[500], line[128];
		snprintf(part, sizeof(part), "%s/part-%05d", outdir, p);
		FILE *in = fopen(part, "r");
		cr_assert_not_null(in, "no %s", part);
		while (fgets(line, sizeof(line), in) != NULL) {
			int w, c;
			cr_assert_eq(sscanf(line, "w%d\t%d", &w, &c), 2, "line '%s'", line);
			cr_assert(w >= 0 && w < VOCAB);
			cr_expect_eq(got[w], 0, "w%d twice", w);
			got[w] = c;
			distinct++;
		}
		fclose(in);
	}
	char success[500];
	snprintf(success, sizeof(success), "%s/_SUCCESS", outdir);
	cr_expect_eq(access(success, F_OK), 0);
	int want_distinct = 0;
	for (int w = 0; w < VOCAB; w++) {
		want_distinct += want[w] > 0;
		cr_expect_eq(got[w], want[w], "w%d: %d, want %d", w, got[w], want[w]);
	}
	cr_expect_eq(distinct, want_distinct);
}

Test(spark, wide_transformations_match_a_reference)
{
	spk_rows *rows = NULL;
	/* group_by_key: 200 numbers by their last digit. */
	spk_rdd *keyed = spk_key_by(spk_range(sc, 0, 200, 1, 4), "mod10", NULL);
	cr_assert_eq(spk_collect(spk_group_by_key(keyed, 3), &rows), 0, "%s",
	             spk_context_error(sc));
	cr_assert_eq(rows->n, 10);
	for (size_t i = 0; i < rows->n; i++) {
		long long k = num(rows->rows[i].key), sum = 0;
		int count = 0;
		size_t pos = 0;
		spk_bytes v;
		while (spk_list_next(rows->rows[i].value, &pos, &v)) {
			cr_expect_eq(num(v) % 10, k);
			sum += num(v);
			count++;
		}
		cr_expect_eq(count, 20);
		cr_expect_eq(sum, 20 * k + 10 * 19 * 20 / 2, "key %lld", k);
	}
	spk_rows_free(rows);

	/* reduce_by_key with map-side combine. */
	cr_assert_eq(spk_collect(spk_reduce_by_key(keyed, "sum", NULL, 2), &rows), 0);
	cr_assert_eq(rows->n, 10);
	for (size_t i = 0; i < rows->n; i++) {
		long long k = num(rows->rows[i].key);
		cr_expect_eq(num(rows->rows[i].value), 20 * k + 10 * 19 * 20 / 2);
	}
	spk_rows_free(rows);

	/* join: 3 values on the left and 2 on the right of every key: 6 pairs each. */
	spk_rdd *left = spk_key_by(spk_range(sc, 0, 30, 1, 3), "mod10", NULL);
	spk_rdd *right = spk_key_by(spk_range(sc, 100, 120, 1, 2), "mod10", NULL);
	cr_assert_eq(spk_collect(spk_join(left, right, 4), &rows), 0, "%s", spk_context_error(sc));
	cr_assert_eq(rows->n, 60);
	for (size_t i = 0; i < rows->n; i++) {
		size_t pos = 0;
		spk_bytes l, r;
		cr_assert(spk_list_next(rows->rows[i].value, &pos, &l));
		cr_assert(spk_list_next(rows->rows[i].value, &pos, &r));
		long long k = num(rows->rows[i].key);
		cr_expect_eq(num(l) % 10, k);
		cr_expect_eq(num(r) % 10, k);
		cr_expect(num(l) < 30 && num(r) >= 100);
	}
	spk_rows_free(rows);

	/* sort_by_key: range partitions in order, each sorted. */
	spk_rdd *scrambled = spk_key_by(spk_range(sc, 0, 500, 1, 5), "scramble", NULL);
	spk_rdd *sorted = spk_sort_by_key(scrambled, 4);
	cr_assert_not_null(sorted);
	cr_assert_eq(spk_collect(sorted, &rows), 0, "%s", spk_context_error(sc));
	cr_assert_eq(rows->n, 500);
	for (size_t i = 1; i < rows->n; i++)
		cr_expect_leq(strcmp(rows->rows[i - 1].key.data, rows->rows[i].key.data), 0,
		              "out of order at %zu", i);
	long long *v = sorted_values(rows);
	for (int i = 0; i < 500; i++)
		cr_expect_eq(v[i], i);
	free(v);
	spk_rows_free(rows);

	/* distinct and repartition. */
	const char *dup[] = {"b", "a", "c", "a", "b", "a", "d"};
	cr_assert_eq(spk_collect(spk_distinct(spk_parallelize(sc, dup, 7, 3), 2), &rows), 0, "%s",
	             spk_context_error(sc));
	cr_assert_eq(rows->n, 4);
	bool seen[4] = {false};
	for (size_t i = 0; i < rows->n; i++) {
		cr_assert_eq(rows->rows[i].value.len, 1);
		cr_expect_not(rows->rows[i].keyed);
		seen[rows->rows[i].value.data[0] - 'a'] = true;
	}
	cr_expect(seen[0] && seen[1] && seen[2] && seen[3]);
	spk_rows_free(rows);
	spk_rdd *re = spk_repartition(spk_range(sc, 0, 100, 1, 2), 5);
	cr_expect_eq(spk_num_partitions(re), 5);
	cr_assert_eq(spk_collect(re, &rows), 0);
	cr_assert_eq(rows->n, 100);
	v = sorted_values(rows);
	for (int i = 0; i < 100; i++)
		cr_expect_eq(v[i], i);
	free(v);
	spk_rows_free(rows);
}

Test(spark, a_failing_function_ends_the_job_with_its_error)
{
	uint64_t n = 0;
	cr_assert_eq(spk_count(spk_filter(spk_range(sc, 0, 100, 1, 4), "fail_on", "37"), &n), -1);
	const char *err = spk_context_error(sc);
	cr_expect(strstr(err, "stage") != NULL, "%s", err);
	cr_expect(strstr(err, "task 1 failed 4 times") != NULL, "%s", err);
	cr_expect(strstr(err, "value 37 is cursed") != NULL, "%s", err);
	/* The context is still good for the next job. */
	cr_assert_eq(spk_count(spk_range(sc, 0, 10, 1, 2), &n), 0);
	cr_expect_eq(n, 10);
}

Test(spark, a_failed_task_is_retried_and_the_job_succeeds)
{
	char marker[400];
	snprintf(marker, sizeof(marker), "%s/failed-once", cluster.dir);
	spk_rdd *mapped = spk_map(spk_range(sc, 0, 400, 1, 4), "fail_once", marker);
	spk_rdd *sums = spk_reduce_by_key(spk_key_by(mapped, "mod10", NULL), "sum", NULL, 2);
	spk_rows *rows = NULL;
	cr_assert_eq(spk_collect(sums, &rows), 0, "%s", spk_context_error(sc));
	cr_assert_eq(rows->n, 10);
	for (size_t i = 0; i < rows->n; i++) {
		long long k = num(rows->rows[i].key);
		cr_expect_eq(num(rows->rows[i].value), 40 * k + 10 * 39 * 40 / 2);
	}
	spk_rows_free(rows);
	int attempts[4] = {0}, twice = 0;
	cr_assert_eq(spk_context_shuffle_attempts(sc, spk_shuffle_id(sums), attempts, 4), 4);
	for (int m = 0; m < 4; m++) {
		cr_expect(attempts[m] == 1 || attempts[m] == 2, "map %d: %d attempts", m,
		          attempts[m]);
		twice += attempts[m] == 2;
	}
	cr_expect_eq(twice, 1);
}

Test(spark, persist_keeps_partitions_in_executors_memory)
{
	char calls[400];
	snprintf(calls, sizeof(calls), "%s/calls", cluster.dir);
	spk_rdd *p = spk_persist(spk_map(spk_range(sc, 0, 300, 1, 4), "count_calls", calls));
	uint64_t n = 0;
	cr_assert_eq(spk_count(p, &n), 0);
	cr_expect_eq(n, 300);
	struct stat st;
	cr_assert_eq(stat(calls, &st), 0);
	cr_expect_eq(st.st_size, 300);
	char *out = NULL;
	size_t len;
	cr_assert_eq(spk_reduce(p, "sum", NULL, &out, &len), 0);
	cr_expect_str_eq(out, "44850");
	free(out);
	cr_assert_eq(spk_count(spk_filter(p, "mult3", NULL), &n), 0);
	cr_expect_eq(n, 100);
	cr_assert_eq(stat(calls, &st), 0);
	cr_expect_eq(st.st_size, 300, "the persisted partitions were computed again");
}
