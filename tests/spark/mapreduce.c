/* mapreduce.c — MapReduce on the engine: the C API (mapper, combiner, reducer,
 * partitioner, part-NNNNN files) and `plexus mapreduce` with shell commands as mapper
 * and reducer (Hadoop Streaming), each against a reference computed here. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spk_test.h"

enum { VOCAB = 60 };

static int mr_words(const spk_row *in, const char *arg, spk_emitter *out)
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

/* (word, values) -> (word, their sum). */
static int mr_total(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	long long sum = 0;
	spk_bytes v;
	for (size_t pos = 0; spk_list_next(in->value, &pos, &v);) {
		char t[32];
		size_t n = v.len < 31 ? v.len : 31;
		memcpy(t, v.data, n);
		t[n] = '\0';
		sum += atoll(t);
	}
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", sum);
	spk_emit_pair(out, in->key.data, in->key.len, t, (size_t)n);
	return 0;
}

static int by_last_char(spk_bytes key, int nparts, const char *arg)
{
	(void)arg;
	return key.len ? (unsigned char)key.data[key.len - 1] % nparts : 0;
}

static void register_fns(void)
{
	spk_register_map("mr_words", mr_words);
	spk_register_map("mr_total", mr_total);
	spk_register_partitioner("by_last_char", by_last_char);
}

SPK_TEST_BOOT(register_fns)

static struct spk_cluster cluster;
static int want[VOCAB];
static char input[400];

static void setup(void)
{
	spk_cluster_start(&cluster, 2, "cpus:2;mem:1024;disk:1024");
	snprintf(input, sizeof(input), "%s/text", cluster.dir);
	FILE *f = fopen(input, "w");
	memset(want, 0, sizeof(want));
	srand(3);
	for (int i = 0; i < 8000; i++) {
		int w = rand() % VOCAB;
		want[w]++;
		fprintf(f, "t%d%s", w, rand() % 12 == 0 ? "\n" : " ");
	}
	fputc('\n', f);
	fclose(f);
}

static void teardown(void)
{
	spk_cluster_stop(&cluster);
}

TestSuite(mapreduce, .init = setup, .fini = teardown, .timeout = 150);

/* Reads DIR/part-00000 .. part-(n-1): "word SEP count" or "count word" lines into got;
 * checks each file's keys are sorted and, when check_part, on the partitioner's file. */
static void read_parts(const char *dir, int n, bool count_first, bool check_part, int *got)
{
	for (int p = 0; p < n; p++) {
		char path[500], line[128], prev[64] = "";
		snprintf(path, sizeof(path), "%s/part-%05d", dir, p);
		FILE *f = fopen(path, "r");
		cr_assert_not_null(f, "no %s", path);
		while (fgets(line, sizeof(line), f) != NULL) {
			char word[64];
			int c;
			int ok = count_first ? sscanf(line, " %d %63s", &c, word)
			                     : sscanf(line, "%63s %d", word, &c);
			cr_assert_eq(ok, 2, "line '%s' of %s", line, path);
			int w = atoi(word + 1);
			cr_assert(w >= 0 && w < VOCAB, "word %s", word);
			/* Keys in order; each once, except from the identity reducer. */
			int order = strcmp(prev, word);
			cr_expect(order < 0 || (order == 0 && !count_first && !check_part),
			          "%s: %s after %s", path, word, prev);
			snprintf(prev, sizeof(prev), "%s", word);
			if (check_part) {
				spk_bytes k = {word, strlen(word)};
				cr_expect_eq(by_last_char(k, n, NULL), p, "%s in part %d", word, p);
			}
			got[w] += c;
		}
		fclose(f);
	}
}

Test(mapreduce, the_c_api_with_combiner_reducer_and_partitioner)
{
	spk_context *sc = spk_test_context(&cluster, 0);
	char out[400];
	snprintf(out, sizeof(out), "%s/mr-out", cluster.dir);
	spk_mapreduce job = {.input = input,
	                     .output = out,
	                     .mapper = "mr_words",
	                     .combiner = "sum",
	                     .reducer = "mr_total",
	                     .partitioner = "by_last_char",
	                     .reducers = 3,
	                     .min_splits = 4};
	cr_assert_eq(spk_mapreduce_run(sc, &job), 0, "%s", spk_context_error(sc));
	int got[VOCAB] = {0};
	read_parts(out, 3, false, true, got);
	for (int w = 0; w < VOCAB; w++)
		cr_expect_eq(got[w], want[w], "t%d", w);
	/* Without combiner and reducer: the identity, one line per occurrence. */
	snprintf(out, sizeof(out), "%s/mr-identity", cluster.dir);
	spk_mapreduce plain = {.input = input, .output = out, .mapper = "mr_words", .reducers = 2};
	cr_assert_eq(spk_mapreduce_run(sc, &plain), 0, "%s", spk_context_error(sc));
	int ones[VOCAB] = {0};
	read_parts(out, 2, false, false, ones);
	for (int w = 0; w < VOCAB; w++)
		cr_expect_eq(ones[w], want[w], "t%d", w);
	spk_mapreduce bad = {
	    .input = input, .output = out, .mapper = "mr_words", .partitioner = "nope"};
	cr_expect_eq(spk_mapreduce_run(sc, &bad), -1);
	cr_expect(strstr(spk_context_error(sc), "nope") != NULL);
	spk_context_stop(sc);
}

static int run_mapreduce(const char *out, const char *mapper, const char *reducer, char **log)
{
	char m[128], in[500], o[500], map[300], red[300], logpath[500];
	snprintf(m, sizeof(m), "--master=%s", cluster.master);
	snprintf(in, sizeof(in), "--input=%s", input);
	snprintf(o, sizeof(o), "--output=%s", out);
	snprintf(map, sizeof(map), "--mapper=%s", mapper);
	snprintf(red, sizeof(red), "--reducer=%s", reducer);
	snprintf(logpath, sizeof(logpath), "%s.log", out);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(PLEXUS_PATH, PLEXUS_PATH, "mapreduce", m, in, o, map, red, "--reducers=3",
		      "--splits=4", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	FILE *f = fopen(logpath, "r");
	*log = calloc(1, 1 << 16);
	if (f != NULL) {
		size_t n = fread(*log, 1, (1 << 16) - 1, f);
		(*log)[n] = '\0';
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

Test(mapreduce, streaming_with_shell_mapper_and_reducer)
{
	char out[400], *log = NULL;
	snprintf(out, sizeof(out), "%s/streamed", cluster.dir);
	int rc = run_mapreduce(out, "tr -s \" \" \"\\n\"", "uniq -c", &log);
	cr_assert_eq(rc, 0, "plexus mapreduce failed: %s", log);
	free(log);
	int got[VOCAB] = {0};
	read_parts(out, 3, true, false, got);
	for (int w = 0; w < VOCAB; w++)
		cr_expect_eq(got[w], want[w], "t%d", w);
	/* A failing mapper ends the job with a reason. */
	snprintf(out, sizeof(out), "%s/failed", cluster.dir);
	rc = run_mapreduce(out, "exit 3", "cat", &log);
	cr_expect_eq(rc, 1);
	cr_expect(strstr(log, "mapper 'exit 3' exited with status 3") != NULL, "%s", log);
	free(log);
}
