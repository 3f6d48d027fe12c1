/* spark.sort — a sort of `mb` MiB of generated 100-byte records (TeraSort-like: a
 * 10-byte random printable key, then 89 bytes of payload and "\n") on `plexus local`
 * with 2 agents: text_file -> key_by(first 10 bytes) -> sort_by_key (range partitioned
 * from a sample) -> save_as_text_files. The output is read back: it must hold every
 * record, each part's keys in order and each part's first key not below the previous
 * part's last, or the run fails.
 *
 * Figure: MB/s of input from the sort's start (sampling job included) to its end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spk_bench.h"

static int64_t mb = 1024;
static int64_t agent_cpus = 1;
static int64_t executor_cores = 1;
static int64_t partitions = 16;

static const bench_flag flags[] = {
    {"mb", &mb, "MiB of records"},
    {"agent_cpus", &agent_cpus, "cpus of each of the 2 agents"},
    {"executor_cores", &executor_cores, "cores (task threads) of each executor"},
    {"partitions", &partitions, "input splits and output partitions"},
};

static int first10(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	if (in->value.len < 10)
		return spk_fail("short record (%zu bytes)", in->value.len);
	spk_emit_value(out, in->value.data, 10);
	return 0;
}

/* The sorted rows are (key, record): write the record only. */
static int record(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	spk_emit_value(out, in->value.data, in->value.len);
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	spk_register_map("first10", first10);
	spk_register_map("record", record);
	spk_main(argc, argv);
	bench_start("spark.sort", argc, argv, flags, BENCH_NFLAGS(flags));
	spk_context *sc = spk_bench_start(2, (int)agent_cpus, (int)executor_cores);
	char in[256], out[256];
	snprintf(in, sizeof(in), "%s/records", spk_bench_dir());
	snprintf(out, sizeof(out), "%s/sorted", spk_bench_dir());
	uint64_t nrec = ((uint64_t)mb << 20) / 100;
	FILE *f = fopen(in, "w");
	char rec[100];
	for (uint64_t i = 0; i < nrec; i++) {
		for (int k = 0; k < 10; k++)
			rec[k] = (char)(' ' + 1 + next_rand() % 94);
		int n = snprintf(rec + 10, 90, "%020llu", (unsigned long long)i);
		memset(rec + 10 + n, 'x', 89 - (size_t)n);
		rec[99] = '\n';
		fwrite(rec, 1, 100, f);
	}
	fclose(f);

	uint64_t t0 = bench_now_ns();
	spk_rdd *keyed = spk_key_by(spk_text_file(sc, in, (int)partitions), "first10", NULL);
	spk_rdd *sorted = spk_sort_by_key(keyed, (int)partitions);
	if (sorted == NULL || spk_save_as_text_files(spk_map(sorted, "record", NULL), out) != 0)
		bench_fail("sort failed: %s", spk_context_error(sc));
	double secs = (double)(bench_now_ns() - t0) / 1e9;

	uint64_t seen = 0;
	char prev[11] = "";
	for (int p = 0; p < partitions; p++) {
		char part[300], line[256];
		snprintf(part, sizeof(part), "%s/part-%05d", out, p);
		FILE *pf = fopen(part, "r");
		if (pf == NULL)
			bench_fail("no %s", part);
		while (fgets(line, sizeof(line), pf) != NULL) {
			if (strlen(line) != 100 || memcmp(prev, line, 10) > 0)
				bench_fail("%s: record %llu out of order or malformed", part,
				           (unsigned long long)seen);
			memcpy(prev, line, 10);
			seen++;
		}
		fclose(pf);
	}
	if (seen != nrec)
		bench_fail("%llu records out, %llu in", (unsigned long long)seen,
		           (unsigned long long)nrec);
	spk_bench_stop(sc);
	bench_result *r = bench_result_alloc((double)nrec * 100 / 1e6 / secs, "MB/s");
	bench_result_extra(r, "seconds", secs);
	bench_result_print(r);
	return 0;
}
