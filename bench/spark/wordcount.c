/* spark.wordcount — word count of `mb` MiB of generated text (words of a 10,000-word
 * vocabulary with a skewed distribution, lines of about 80 bytes) on `plexus local`
 * with 2 agents: text_file -> flat_map(words) -> reduce_by_key(sum) -> collect, and
 * the same count by a plain single-process C program over the same file in the same
 * run. The two results must be equal, word by word, or the run fails.
 *
 * Figure: MB/s end to end (the job, executors' start included). Extra keys:
 * mb_per_s_per_core (over the cores the executors have, at most the machine's) and
 * ratio_to_single_process (that per-core rate over the single process's MB/s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spk_bench.h"

static int64_t mb = 1024;
static int64_t agent_cpus = 1;
static int64_t executor_cores = 1;
static int64_t splits = 0;
static int64_t reducers = 4;

static const bench_flag flags[] = {
    {"mb", &mb, "MiB of text"},
    {"agent_cpus", &agent_cpus, "cpus of each of the 2 agents"},
    {"executor_cores", &executor_cores, "cores (task threads) of each executor"},
    {"splits", &splits, "input splits (0: 4 per executor core)"},
    {"reducers", &reducers, "reduce partitions"},
};

enum { VOCAB = 10000 };

static int words(const spk_row *in, const char *arg, spk_emitter *out)
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

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void generate(const char *path, uint64_t bytes)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		bench_fail("cannot write %s", path);
	char line[256];
	uint64_t written = 0;
	while (written < bytes) {
		size_t len = 0;
		while (len < 72) {
			/* Skewed: the product of two uniforms favours low ids. */
			uint64_t r = next_rand();
			unsigned w = (unsigned)((r & 0xffff) % VOCAB * ((r >> 16) % VOCAB) / VOCAB);
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%sw%u",
			                        len ? " " : "", w);
		}
		line[len++] = '\n';
		fwrite(line, 1, len, f);
		written += len;
	}
	fclose(f);
}

/* The single-process reference: one thread, one pass, counts per word id. */
static double single_process(const char *path, uint64_t *counts, uint64_t *bytes)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4 << 20;
	char *buf = malloc(cap + 1);
	uint64_t t0 = bench_now_ns();
	size_t have = 0, n;
	*bytes = 0;
	while ((n = fread(buf + have, 1, cap - have, f)) > 0 || have > 0) {
		have += n;
		*bytes += n;
		size_t end = have;
		if (n > 0)
			while (end > 0 && buf[end - 1] != '\n' && buf[end - 1] != ' ')
				end--;
		if (end == 0)
			end = have;
		for (size_t i = 0; i < end;) {
			while (i < end && (buf[i] == ' ' || buf[i] == '\n'))
				i++;
			if (i >= end)
				break;
			unsigned id = 0;
			i++; /* 'w' */
			while (i < end && buf[i] >= '0' && buf[i] <= '9')
				id = id * 10 + (unsigned)(buf[i++] - '0');
			counts[id % VOCAB]++;
		}
		memmove(buf, buf + end, have - end);
		have -= end;
		if (n == 0)
			break;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	free(buf);
	fclose(f);
	return secs;
}

int main(int argc, char **argv)
{
	spk_register_map("words", words);
	spk_main(argc, argv);
	bench_start("spark.wordcount", argc, argv, flags, BENCH_NFLAGS(flags));

	spk_context *sc = spk_bench_start(2, (int)agent_cpus, (int)executor_cores);
	char path[256];
	snprintf(path, sizeof(path), "%s/text", spk_bench_dir());
	generate(path, (uint64_t)mb << 20);
	static uint64_t want[VOCAB];
	uint64_t bytes = 0;
	double single = single_process(path, want, &bytes);
	double single_mb_s = (double)bytes / 1e6 / single;
	bench_log("single process: %.1f MB/s", single_mb_s);

	int cores = 2 * (int)executor_cores;
	int nsplits = splits > 0 ? (int)splits : 4 * cores;
	uint64_t t0 = bench_now_ns();
	spk_rdd *counts =
	    spk_reduce_by_key(spk_flat_map(spk_text_file(sc, path, nsplits), "words", NULL), "sum",
	                      NULL, (int)reducers);
	spk_rows *rows = NULL;
	if (counts == NULL || spk_collect(counts, &rows) != 0)
		bench_fail("job failed: %s", spk_context_error(sc));
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	static uint64_t got[VOCAB];
	for (size_t i = 0; i < rows->n; i++) {
		unsigned id = (unsigned)atoi(rows->rows[i].key.data + 1);
		if (id >= VOCAB || got[id] != 0)
			bench_fail("bad or repeated word %s", rows->rows[i].key.data);
		got[id] = strtoull(rows->rows[i].value.data, NULL, 10);
	}
	spk_rows_free(rows);
	for (int w = 0; w < VOCAB; w++)
		if (got[w] != want[w])
			bench_fail("w%d: %llu, the single process counted %llu", w,
			           (unsigned long long)got[w], (unsigned long long)want[w]);
	spk_bench_stop(sc);

	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int used = cores < online ? cores : (int)online;
	double mb_s = (double)bytes / 1e6 / secs;
	bench_result *r = bench_result_alloc(mb_s, "MB/s");
	bench_result_extra(r, "mb_per_s_per_core", mb_s / used);
	bench_result_extra(r, "ratio_to_single_process", mb_s / used / single_mb_s);
	bench_result_extra(r, "single_process_mb_per_s", single_mb_s);
	bench_result_extra(r, "seconds", secs);
	bench_result_count(r, "cores", used);
	bench_result_print(r);
	return 0;
}
