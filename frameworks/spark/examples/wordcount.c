/* wordcount.c — word count on Plexus, in one file: the lines of a text file (or a
 * directory of them) split into words, counted per word, written as "word\tcount".
 *
 *     spark-wordcount --master=127.0.0.1:5050 INPUT OUTPUT-DIR
 *
 * The same binary runs the executors (spk_main returns only in the driver). */
#include <stdio.h>
#include <string.h>

#include <spark/spark.h>

/* A line -> (word, "1") for every run of non-blank bytes. */
static int words(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	const char *p = in->value.data, *end = p + in->value.len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		const char *w = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (p > w)
			spk_emit_pair(out, w, (size_t)(p - w), "1", 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	spk_register_map("words", words);
	spk_main(argc, argv);

	spk_conf conf;
	spk_conf_default(&conf);
	if (spk_conf_from_args(&conf, &argc, argv) != 0 || argc != 3 || conf.master == NULL) {
		fprintf(stderr, "usage: %s --master=HOST:PORT INPUT OUTPUT-DIR\n", argv[0]);
		return 2;
	}
	char err[256];
	spk_context *sc = spk_context_start(&conf, err, sizeof(err));
	if (sc == NULL) {
		fprintf(stderr, "wordcount: %s\n", err);
		return 1;
	}
	spk_rdd *lines = spk_text_file(sc, argv[1], 4);
	spk_rdd *counts = spk_reduce_by_key(spk_flat_map(lines, "words", NULL), "sum", NULL, 4);
	int rc = counts != NULL && spk_save_as_text_files(counts, argv[2]) == 0 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "wordcount: %s\n", spk_context_error(sc));
	spk_context_stop(sc);
	return rc;
}
