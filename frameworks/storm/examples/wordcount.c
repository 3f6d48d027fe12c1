/* wordcount.c — Storm's word count: a sentence spout, a split bolt, a count bolt
 * grouped by word, and a sink.
 *
 * Configuration (submit --conf):
 *   wc.sentences=N   sentences to emit, ids 0..N-1 (0: without end)
 *   wc.out=DIR       the sink appends "word sentence index count count-task" lines to
 *                    DIR/sink-<task>.txt before it acks, so that what was acked is
 *                    there even if its worker is killed: an idempotent sink, read by
 *                    (sentence, index)
 *   wc.sink_delay_us=N  the sink sleeps N us per tuple (a slow bolt)
 *   wc.split=P wc.count=P wc.sink=P  parallelism (default 2, 2, 2)
 * The spout replays what failed, from a queue, before it emits new sentences. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storm/storm.h"
#include "wordcount_gen.h"

/* ---- spout ---- */

struct sentences {
	uint64_t next, total;
	uint64_t *replay; /* failed ids to emit again */
	size_t nreplay, capreplay;
};

static void *spout_open(stm_ctx *c, void *arg)
{
	struct sentences *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort(); /* no memory at start-up: nothing sensible to run */
	s->total = (uint64_t)stm_ctx_conf_int(c, "wc.sentences", 0);
	/* With several spout tasks each emits the ids congruent to its index. */
	s->next = (uint64_t)stm_ctx_task_index(c);
	return s;
}

static void emit_sentence(stm_ctx *c, uint64_t id)
{
	char text[160];
	int len = wc_sentence(id, text, sizeof(text));
	stm_value v[2] = {stm_int((int64_t)id), stm_strn(text, (size_t)len)};
	stm_spout_emit(c, NULL, v, 2, true, id);
}

static void spout_next(stm_ctx *c, void *state)
{
	struct sentences *s = state;
	if (s->nreplay > 0) {
		emit_sentence(c, s->replay[--s->nreplay]);
		return;
	}
	if (s->total != 0 && s->next >= s->total)
		return;
	emit_sentence(c, s->next);
	s->next += (uint64_t)stm_ctx_parallelism(c);
}

static void spout_fail(stm_ctx *c, void *state, uint64_t id)
{
	struct sentences *s = state;
	if (s->nreplay == s->capreplay) {
		size_t cap = s->capreplay ? s->capreplay * 2 : 256;
		uint64_t *r = realloc(s->replay, cap * sizeof(*r));
		if (r == NULL)
			return;
		s->replay = r;
		s->capreplay = cap;
	}
	s->replay[s->nreplay++] = id;
}

static void spout_close(stm_ctx *c, void *state)
{
	struct sentences *s = state;
	free(s->replay);
	free(s);
}

static const stm_spout_def sentence_spout = {
    .open = spout_open, .next_tuple = spout_next, .fail = spout_fail, .close = spout_close};

/* ---- split ---- */

static void split_execute(stm_ctx *c, void *state, const stm_tuple *t)
{
	size_t len;
	const char *p = stm_tuple_string(t, 1, &len), *end = p + len;
	int64_t id = stm_tuple_int(t, 0), index = 0;
	while (p < end) {
		const char *w = p;
		while (p < end && *p != ' ')
			p++;
		if (p > w) {
			stm_value v[3] = {stm_int(id), stm_int(index++),
			                  stm_strn(w, (size_t)(p - w))};
			stm_emit(c, NULL, &t, 1, v, 3);
		}
		while (p < end && *p == ' ')
			p++;
	}
}

static const stm_bolt_def split_bolt = {.execute = split_execute};

/* ---- count ---- */

struct counts {
	size_t cap;
	struct count_slot {
		char word[32];
		int64_t n;
	} * slots;
};

static void *count_prepare(stm_ctx *c, void *arg)
{
	struct counts *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->cap = 4096; /* the vocabulary is small: open addressing never fills */
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (s->slots == NULL)
		abort();
	return s;
}

static void count_execute(stm_ctx *c, void *state, const stm_tuple *t)
{
	struct counts *s = state;
	size_t len;
	const char *w = stm_tuple_string(t, 2, &len);
	if (len == 0 || len >= sizeof(s->slots[0].word))
		return;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)w[i]) * 1099511628211ULL;
	size_t i = (size_t)h & (s->cap - 1);
	for (size_t probes = 0; probes < s->cap; probes++, i = (i + 1) & (s->cap - 1)) {
		struct count_slot *sl = &s->slots[i];
		if (sl->word[0] == '\0') {
			memcpy(sl->word, w, len);
			sl->word[len] = '\0';
		} else if (strlen(sl->word) != len || memcmp(sl->word, w, len) != 0) {
			continue;
		}
		sl->n++;
		stm_value v[4] = {stm_strn(w, len), stm_int(sl->n), stm_tuple_value(t, 0),
		                  stm_tuple_value(t, 1)};
		stm_emit(c, NULL, &t, 1, v, 4);
		return;
	}
}

static void count_cleanup(stm_ctx *c, void *state)
{
	struct counts *s = state;
	free(s->slots);
	free(s);
}

static const stm_bolt_def count_bolt = {
    .prepare = count_prepare, .execute = count_execute, .cleanup = count_cleanup};

/* ---- sink ---- */

struct sink {
	int fd;
	int64_t delay_us;
};

static void *sink_prepare(stm_ctx *c, void *arg)
{
	struct sink *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->fd = -1;
	s->delay_us = stm_ctx_conf_int(c, "wc.sink_delay_us", 0);
	const char *dir = stm_ctx_conf(c, "wc.out", NULL);
	if (dir != NULL) {
		char path[512];
		snprintf(path, sizeof(path), "%s/sink-%d.txt", dir, stm_ctx_task(c));
		s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s->fd < 0)
			fprintf(stderr, "wordcount: cannot open %s\n", path);
	}
	return s;
}

static void sink_execute(stm_ctx *c, void *state, const stm_tuple *t)
{
	struct sink *s = state;
	if (s->delay_us > 0) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)s->delay_us * 1000};
		nanosleep(&ts, NULL);
	}
	if (s->fd < 0)
		return;
	size_t len;
	const char *w = stm_tuple_string(t, 0, &len);
	char line[128];
	int n = snprintf(line, sizeof(line), "%.*s %lld %lld %lld %d\n", (int)len, w,
	                 (long long)stm_tuple_int(t, 2), (long long)stm_tuple_int(t, 3),
	                 (long long)stm_tuple_int(t, 1), stm_tuple_source_task(t));
	/* Written before the ack: an acked tuple is in the file even if we die now. */
	if (write(s->fd, line, (size_t)n) != n)
		stm_fail(c, t);
}

static void sink_cleanup(stm_ctx *c, void *state)
{
	struct sink *s = state;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static const stm_bolt_def sink_bolt = {
    .prepare = sink_prepare, .execute = sink_execute, .cleanup = sink_cleanup};

static void build(stm_topology *t, void *arg)
{
	stm_component *spout =
	    stm_spout(t, "sentences", &sentence_spout, NULL, (int)stm_conf_int(t, "wc.spouts", 1));
	stm_declare(spout, NULL, 2, "id", "sentence");
	stm_component *split =
	    stm_bolt(t, "split", &split_bolt, NULL, (int)stm_conf_int(t, "wc.split", 2));
	stm_declare(split, NULL, 3, "id", "index", "word");
	stm_shuffle(split, "sentences", NULL);
	stm_component *count =
	    stm_bolt(t, "count", &count_bolt, NULL, (int)stm_conf_int(t, "wc.count", 2));
	stm_declare(count, NULL, 4, "word", "count", "id", "index");
	stm_fields(count, "split", NULL, 1, "word");
	stm_component *sink =
	    stm_bolt(t, "sink", &sink_bolt, NULL, (int)stm_conf_int(t, "wc.sink", 2));
	stm_declare(sink, NULL, 0);
	stm_local_or_shuffle(sink, "count", NULL);
	stm_set_workers(t, 2);
}

int main(int argc, char **argv)
{
	return stm_main(argc, argv, build, NULL);
}
