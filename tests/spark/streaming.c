/* streaming.c — micro-batch streaming on a real cluster: per-batch counts, windowed
 * counts and per-key state across batches from new files in a directory, each equal
 * to a reference computed here, with an executor SIGKILLed between batches (no batch
 * is lost); and lines from a socket source. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spk_test.h"

enum { VOCAB = 12, BATCHES = 5 };

static long long num(spk_bytes b)
{
	char t[32];
	size_t n = b.len < sizeof(t) - 1 ? b.len : sizeof(t) - 1;
	memcpy(t, b.data, n);
	t[n] = '\0';
	return atoll(t);
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

/* The running total of a key. */
static int fn_total(spk_bytes key, spk_bytes values, const spk_bytes *state, const char *arg,
                    spk_buf *out, bool *keep)
{
	(void)key;
	(void)arg;
	long long sum = state ? num(*state) : 0;
	spk_bytes v;
	for (size_t pos = 0; spk_list_next(values, &pos, &v);)
		sum += num(v);
	*keep = true;
	return spk_buf_printf(out, "%lld", sum);
}

static void register_fns(void)
{
	spk_register_map("words", fn_words);
	spk_register_update("total", fn_total);
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

TestSuite(streaming, .init = setup, .fini = teardown, .timeout = 150);

/* What an output saw: counts per word per batch. */
struct seen {
	long long counts[BATCHES][VOCAB];
	int batches;
};

static void record(int64_t batch, int64_t time_ms, const spk_rows *rows, void *arg)
{
	(void)time_ms;
	struct seen *s = arg;
	cr_assert_lt(batch, BATCHES);
	for (size_t i = 0; i < rows->n; i++) {
		int w = atoi(rows->rows[i].key.data + 1);
		cr_assert(w >= 0 && w < VOCAB);
		s->counts[batch][w] += num(rows->rows[i].value);
	}
	s->batches = (int)batch + 1;
}

/* Writes batch b's file (atomically: a hidden name, then a rename) and its counts. */
static void write_batch(const char *dir, int b, long long want[VOCAB])
{
	char tmp[600], path[600];
	snprintf(tmp, sizeof(tmp), "%s/.b%d", dir, b);
	snprintf(path, sizeof(path), "%s/b%d.txt", dir, b);
	FILE *f = fopen(tmp, "w");
	for (int i = 0; i < 300 + 50 * b; i++) {
		int w = (i * 5 + b * 3) % VOCAB;
		if (w % (b + 2) == 0)
			continue; /* each batch leaves out some words */
		want[w]++;
		fprintf(f, "w%d%s", w, i % 7 == 6 ? "\n" : " ");
	}
	fclose(f);
	cr_assert_eq(rename(tmp, path), 0);
}

Test(streaming, batches_windows_and_state_are_exact_with_a_lost_executor)
{
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/incoming", cluster.dir);
	mkdir(dir, 0755);
	spk_streaming *ss = spk_streaming_alloc(sc, 100);
	cr_assert_not_null(ss);
	spk_stream *pairs = spk_stream_flat_map(spk_stream_text_files(ss, dir), "words", NULL);
	spk_stream *counts = spk_stream_reduce_by_key(pairs, "sum", NULL, 2);
	spk_stream *windowed = spk_stream_reduce_by_key_and_window(pairs, "sum", NULL, 2, 1, 2);
	spk_stream *totals = spk_stream_update_state_by_key(pairs, "total", NULL, 2);
	cr_assert(counts && windowed && totals);
	static struct seen per_batch, per_window, state;
	memset(&per_batch, 0, sizeof(per_batch));
	memset(&per_window, 0, sizeof(per_window));
	memset(&state, 0, sizeof(state));
	cr_assert_eq(spk_stream_foreach(counts, record, &per_batch), 0);
	cr_assert_eq(spk_stream_foreach(windowed, record, &per_window), 0);
	cr_assert_eq(spk_stream_foreach(totals, record, &state), 0);

	long long want[BATCHES][VOCAB] = {{0}};
	for (int b = 0; b < BATCHES; b++) {
		if (b != 1)
			write_batch(dir, b, want[b]); /* batch 1 is empty */
		if (b == 3) {
			/* An executor dies between batches: its shuffle outputs of earlier
			 * batches (the window reads them) are gone. */
			char where[128];
			cr_assert_eq(spk_context_map_location(sc, 0, 0, where, sizeof(where)), 0);
			pid_t victim = spk_executor_pid_of(where);
			cr_assert_gt(victim, 0);
			kill(victim, SIGKILL);
		}
		cr_assert_eq(spk_streaming_run_batch(ss), 0, "batch %d: %s", b,
		             spk_context_error(sc));
	}
	cr_assert_eq(per_batch.batches, BATCHES);
	long long total[VOCAB] = {0};
	for (int b = 0; b < BATCHES; b++)
		for (int w = 0; w < VOCAB; w++) {
			total[w] += want[b][w];
			long long window = want[b][w] + (b > 0 ? want[b - 1][w] : 0);
			cr_expect_eq(per_batch.counts[b][w], want[b][w], "batch %d w%d", b, w);
			cr_expect_eq(per_window.counts[b][w], window, "window at %d w%d", b, w);
			cr_expect_eq(state.counts[b][w], total[w], "state at %d w%d", b, w);
		}
	spk_streaming_free(ss);
}

struct server {
	int fd, port;
	pthread_t thread;
	int lines;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char line[64];
	for (int i = 0; i < s->lines; i++) {
		int n = snprintf(line, sizeof(line), "w%d w%d\n", i % VOCAB, (i + 1) % VOCAB);
		if (write(c, line, (size_t)n) != n)
			break;
	}
	close(c);
	return NULL;
}

static void tally(int64_t batch, int64_t time_ms, const spk_rows *rows, void *arg)
{
	(void)batch;
	(void)time_ms;
	long long *got = arg;
	for (size_t i = 0; i < rows->n; i++)
		got[atoi(rows->rows[i].key.data + 1)] += num(rows->rows[i].value);
}

Test(streaming, a_socket_source_feeds_its_lines_into_batches)
{
	struct server srv = {.lines = 600};
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	cr_assert_eq(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(srv.fd, 1), 0);
	getsockname(srv.fd, (struct sockaddr *)&a, &len);
	srv.port = ntohs(a.sin_port);
	pthread_create(&srv.thread, NULL, serve, &srv);

	spk_streaming *ss = spk_streaming_alloc(sc, 50);
	spk_stream *counts = spk_stream_reduce_by_key(
	    spk_stream_flat_map(spk_stream_socket(ss, "127.0.0.1", srv.port), "words", NULL), "sum",
	    NULL, 2);
	static long long got[VOCAB];
	memset(got, 0, sizeof(got));
	cr_assert_eq(spk_stream_foreach(counts, tally, got), 0);
	long long seen = 0;
	for (int b = 0; b < 200 && seen < 2 * srv.lines; b++) {
		cr_assert_eq(spk_streaming_run(ss, 1), 0, "%s", spk_context_error(sc));
		seen = 0;
		for (int w = 0; w < VOCAB; w++)
			seen += got[w];
	}
	cr_assert_eq(seen, 2 * srv.lines);
	for (int w = 0; w < VOCAB; w++)
		cr_expect_eq(got[w], 2 * srv.lines / VOCAB, "w%d", w);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	spk_streaming_free(ss);
}
