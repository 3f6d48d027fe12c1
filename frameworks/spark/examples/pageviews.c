/* pageviews.c — page views per URL per hour: the batch view of the lambda
 * architecture, from a log of "EPOCH-SECONDS URL USER" lines.
 *
 *     spark-pageviews --master=HOST:PORT LOG OUTPUT-DIR        count a log
 *     spark-pageviews --generate=N LOG                          write a log of N views
 *
 * Output lines: "URL\tHOUR\tVIEWS", HOUR as epoch hours, sorted by URL then hour. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spark/spark.h>

/* A log line -> ("URL\tHOUR", "1"); malformed lines fail the task with the line. */
static int url_hour(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	char line[512], url[400];
	long long ts;
	if (in->value.len == 0)
		return 0;
	size_t n = in->value.len < sizeof(line) - 1 ? in->value.len : sizeof(line) - 1;
	memcpy(line, in->value.data, n);
	line[n] = '\0';
	if (sscanf(line, "%lld %399s", &ts, url) != 2)
		return spk_fail("not a page view: '%s'", line);
	char key[450];
	int klen = snprintf(key, sizeof(key), "%s\t%lld", url, ts / 3600);
	spk_emit_pair(out, key, (size_t)klen, "1", 1);
	return 0;
}

static int generate(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return 1;
	uint64_t x = 42;
	for (long i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		long long ts = 1700000000LL + (long long)i * 7200 / (n ? n : 1); /* two hours */
		fprintf(f, "%lld /page/%u user%u\n", ts, (unsigned)(x >> 33) % 20,
		        (unsigned)(x >> 40) % 1000);
	}
	return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	spk_register_map("url_hour", url_hour);
	spk_main(argc, argv);
	if (argc == 3 && strncmp(argv[1], "--generate=", 11) == 0)
		return generate(argv[2], atol(argv[1] + 11));
	spk_conf conf;
	spk_conf_default(&conf);
	if (spk_conf_from_args(&conf, &argc, argv) != 0 || argc != 3 || conf.master == NULL) {
		fprintf(stderr,
		        "usage: %s --master=HOST:PORT LOG OUTPUT-DIR\n"
		        "       %s --generate=N LOG\n",
		        argv[0], argv[0]);
		return 2;
	}
	char err[256];
	spk_context *sc = spk_context_start(&conf, err, sizeof(err));
	if (sc == NULL) {
		fprintf(stderr, "pageviews: %s\n", err);
		return 1;
	}
	spk_rdd *views = spk_map(spk_text_file(sc, argv[1], 4), "url_hour", NULL);
	spk_rdd *counts = spk_sort_by_key(spk_reduce_by_key(views, "sum", NULL, 4), 2);
	int rc = counts != NULL && spk_save_as_text_files(counts, argv[2]) == 0 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "pageviews: %s\n", spk_context_error(sc));
	spk_context_stop(sc);
	return rc;
}
