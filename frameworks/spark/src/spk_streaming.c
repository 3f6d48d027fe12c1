/* spk_streaming.c — micro-batch streaming: a stream is a dataset per batch. At every
 * batch the sources make their batch's dataset — the new files of a directory (read
 * from the file system, so a recomputation reads them again) or the lines a socket
 * receiver in the driver gathered (parallelized from the driver's memory) — the
 * transformations derive theirs, windows union the last batches' reductions, keyed
 * state is the previous batch's state (kept in the driver) grouped with the batch's
 * values, and the outputs run their jobs. Every batch dataset has a lineage back to
 * data the driver or the file system holds, which is why a lost executor loses no
 * batch: its partitions are recomputed like any other. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <actor/log.h>

#include "spk_driver.h"
#include "spk_registry.h"

enum stream_kind { ST_FILES, ST_SOCKET, ST_NARROW, ST_REDUCE, ST_WINDOW, ST_STATE };

struct output {
	spk_stream_output_fn fn;
	void *arg;
};

struct spk_stream {
	spk_streaming *ss;
	enum stream_kind kind;
	enum spk_node_kind narrow;
	spk_stream *parent;
	char *fn, *arg;
	int nparts, window, slide;
	char *dir; /* files */
	char **seen;
	size_t nseen;
	char host[256]; /* socket */
	int port;
	pthread_t receiver;
	atomic_bool receiving;
	pthread_mutex_t mu;
	char **lines;
	size_t nlines, cap;
	spk_rdd *current;  /* this batch's dataset */
	spk_rdd **history; /* window: the last `window` batches' reductions */
	int nhistory;
	spk_rows *state; /* update_state_by_key: the state after the last batch */
	struct output *outputs;
	int noutputs;
	spk_stream *next;
};

struct spk_streaming {
	spk_context *sc;
	int64_t batch_ms;
	int64_t batch, start_ms;
	spk_stream *head, *tail;
	atomic_bool stop;
};

spk_streaming *spk_streaming_alloc(spk_context *sc, int64_t batch_ms)
{
	if (sc == NULL || batch_ms <= 0)
		return NULL;
	spk_streaming *ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return NULL;
	ss->sc = sc;
	ss->batch_ms = batch_ms;
	ss->start_ms = spk_now_ms();
	return ss;
}

static spk_stream *add(spk_streaming *ss, enum stream_kind kind, spk_stream *parent)
{
	if (ss == NULL)
		return NULL;
	spk_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ss = ss;
	s->kind = kind;
	s->parent = parent;
	pthread_mutex_init(&s->mu, NULL);
	/* Creation order is dependency order: a stream's parent was made before it. */
	if (ss->tail != NULL)
		ss->tail->next = s;
	else
		ss->head = s;
	ss->tail = s;
	return s;
}

spk_stream *spk_stream_text_files(spk_streaming *ss, const char *dir)
{
	char abs[PATH_MAX];
	if (dir == NULL || realpath(dir, abs) == NULL) {
		actor_error("spark streaming: cannot watch %s: %s", dir ? dir : "(null)",
		            strerror(errno));
		return NULL;
	}
	spk_stream *s = add(ss, ST_FILES, NULL);
	if (s != NULL)
		s->dir = strdup(abs);
	return s;
}

/* The receiver: connects (again, every 100 ms, while it cannot) and keeps lines. */
static void *receive(void *arg)
{
	spk_stream *s = arg;
	char port[16];
	snprintf(port, sizeof(port), "%d", s->port);
	while (!atomic_load(&s->ss->stop) && s->receiving) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM},
		                *ai = NULL;
		int fd = -1;
		if (getaddrinfo(s->host, port, &hints, &ai) == 0) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
				close(fd);
				fd = -1;
			}
			freeaddrinfo(ai);
		}
		if (fd < 0) {
			usleep(100 * 1000);
			continue;
		}
		struct timeval tv = {0, 200 * 1000};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		spk_buf partial = {0};
		char buf[65536];
		while (s->receiving) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n < 0)
				continue;
			spk_buf_append(&partial, buf, (size_t)n);
			char *start = partial.data, *nl;
			pthread_mutex_lock(&s->mu);
			while ((nl = memchr(start, '\n',
			                    partial.len - (size_t)(start - partial.data)))) {
				if (s->nlines == s->cap) {
					size_t cap = s->cap ? 2 * s->cap : 1024;
					char **grown = realloc(s->lines, cap * sizeof(char *));
					if (grown == NULL)
						break;
					s->lines = grown;
					s->cap = cap;
				}
				s->lines[s->nlines++] = strndup(start, (size_t)(nl - start));
				start = nl + 1;
			}
			pthread_mutex_unlock(&s->mu);
			size_t used = (size_t)(start - partial.data);
			memmove(partial.data, start, partial.len - used);
			partial.len -= used;
		}
		spk_buf_fini(&partial);
		close(fd);
	}
	return NULL;
}

spk_stream *spk_stream_socket(spk_streaming *ss, const char *host, int port)
{
	if (host == NULL || strlen(host) >= 256 || port <= 0 || port > 65535)
		return NULL;
	spk_stream *s = add(ss, ST_SOCKET, NULL);
	if (s == NULL)
		return NULL;
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = port;
	s->receiving = true;
	if (pthread_create(&s->receiver, NULL, receive, s) != 0)
		s->receiving = false;
	return s;
}

static spk_stream *derived(spk_stream *p, enum stream_kind kind, const char *fn, const char *arg,
                           int nparts)
{
	if (p == NULL)
		return NULL;
	spk_stream *s = add(p->ss, kind, p);
	if (s == NULL)
		return NULL;
	s->fn = fn ? strdup(fn) : NULL;
	s->arg = arg ? strdup(arg) : NULL;
	s->nparts = nparts > 0 ? nparts : 2;
	return s;
}

static spk_stream *narrow(spk_stream *p, enum spk_node_kind kind, const char *fn, const char *arg,
                          enum spk_fn_kind fkind)
{
	if (fn == NULL || spk_registry_find(fn, fkind) == NULL) {
		actor_error("spark streaming: no function '%s' of that kind", fn ? fn : "(null)");
		return NULL;
	}
	spk_stream *s = derived(p, ST_NARROW, fn, arg, 0);
	if (s != NULL)
		s->narrow = kind;
	return s;
}

spk_stream *spk_stream_map(spk_stream *s, const char *fn, const char *arg)
{
	return narrow(s, SPK_N_MAP, fn, arg, SPK_FN_MAP);
}

spk_stream *spk_stream_flat_map(spk_stream *s, const char *fn, const char *arg)
{
	return narrow(s, SPK_N_FLAT_MAP, fn, arg, SPK_FN_MAP);
}

spk_stream *spk_stream_filter(spk_stream *s, const char *fn, const char *arg)
{
	return narrow(s, SPK_N_FILTER, fn, arg, SPK_FN_FILTER);
}

spk_stream *spk_stream_key_by(spk_stream *s, const char *fn, const char *arg)
{
	return narrow(s, SPK_N_KEY_BY, fn, arg, SPK_FN_MAP);
}

spk_stream *spk_stream_reduce_by_key(spk_stream *s, const char *fn, const char *arg, int nparts)
{
	if (fn == NULL || spk_registry_find(fn, SPK_FN_REDUCE) == NULL)
		return NULL;
	return derived(s, ST_REDUCE, fn, arg, nparts);
}

spk_stream *spk_stream_reduce_by_key_and_window(spk_stream *s, const char *fn, const char *arg,
                                                int window_batches, int slide_batches, int nparts)
{
	if (fn == NULL || spk_registry_find(fn, SPK_FN_REDUCE) == NULL || window_batches < 1 ||
	    slide_batches < 1 || slide_batches > window_batches)
		return NULL;
	spk_stream *w = derived(s, ST_WINDOW, fn, arg, nparts);
	if (w == NULL)
		return NULL;
	w->window = window_batches;
	w->slide = slide_batches;
	w->history = calloc((size_t)window_batches, sizeof(spk_rdd *));
	return w->history ? w : NULL;
}

spk_stream *spk_stream_update_state_by_key(spk_stream *s, const char *fn, const char *arg,
                                           int nparts)
{
	if (fn == NULL || spk_registry_find(fn, SPK_FN_UPDATE) == NULL || strchr(fn, '\n'))
		return NULL;
	/* The builtin "__update_state" finds the user's function by the name before "\n". */
	size_t len = strlen(fn) + (arg ? strlen(arg) : 0) + 2;
	char *both = malloc(len);
	if (both == NULL)
		return NULL;
	snprintf(both, len, "%s\n%s", fn, arg ? arg : "");
	spk_stream *st = derived(s, ST_STATE, "__update_state", both, nparts);
	free(both);
	return st;
}

int spk_stream_foreach(spk_stream *s, spk_stream_output_fn fn, void *arg)
{
	if (s == NULL || fn == NULL)
		return -1;
	struct output *grown = realloc(s->outputs, (size_t)(s->noutputs + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	s->outputs = grown;
	s->outputs[s->noutputs++] = (struct output){fn, arg};
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool seen_before(spk_stream *s, const char *name)
{
	for (size_t i = 0; i < s->nseen; i++)
		if (strcmp(s->seen[i], name) == 0)
			return true;
	return false;
}

static spk_rdd *empty(spk_context *sc)
{
	return spk_parallelize(sc, NULL, 0, 1);
}

static spk_rdd *files_batch(spk_stream *s)
{
	spk_context *sc = s->ss->sc;
	DIR *d = opendir(s->dir);
	struct dirent *e;
	char **fresh = NULL;
	size_t nfresh = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || e->d_name[0] == '_' || seen_before(s, e->d_name))
			continue;
		char **grown = realloc(fresh, (nfresh + 1) * sizeof(char *));
		char **seen = realloc(s->seen, (s->nseen + 1) * sizeof(char *));
		if (seen != NULL)
			s->seen = seen;
		if (grown == NULL || seen == NULL)
			break;
		fresh = grown;
		fresh[nfresh++] = strdup(e->d_name);
		s->seen[s->nseen++] = strdup(e->d_name);
	}
	if (d != NULL)
		closedir(d);
	if (nfresh > 1)
		qsort(fresh, nfresh, sizeof(char *), name_cmp);
	spk_rdd *all = NULL;
	for (size_t i = 0; i < nfresh; i++) {
		char path[PATH_MAX + 256];
		snprintf(path, sizeof(path), "%s/%s", s->dir, fresh[i]);
		spk_rdd *f = spk_text_file(sc, path, 2);
		if (f != NULL)
			all = all ? spk_union(all, f) : f;
		free(fresh[i]);
	}
	free(fresh);
	return all ? all : empty(sc);
}

static spk_rdd *socket_batch(spk_stream *s)
{
	pthread_mutex_lock(&s->mu);
	char **lines = s->lines;
	size_t n = s->nlines;
	s->lines = NULL;
	s->nlines = s->cap = 0;
	pthread_mutex_unlock(&s->mu);
	spk_rdd *r = spk_parallelize(s->ss->sc, (const char *const *)lines, n, 2);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return r;
}

static spk_rdd *window_batch(spk_stream *s, int64_t batch)
{
	spk_rdd *reduced = spk_reduce_by_key(s->parent->current, s->fn, s->arg, s->nparts);
	if (reduced == NULL)
		return NULL;
	if (s->nhistory == s->window) {
		memmove(s->history, s->history + 1, (size_t)(s->window - 1) * sizeof(spk_rdd *));
		s->nhistory--;
	}
	s->history[s->nhistory++] = reduced;
	if ((batch + 1) % s->slide != 0)
		return empty(s->ss->sc);
	spk_rdd *all = s->history[0];
	for (int i = 1; i < s->nhistory; i++)
		all = spk_union(all, s->history[i]);
	return spk_reduce_by_key(all, s->fn, s->arg, s->nparts);
}

static spk_rdd *state_batch(spk_stream *s)
{
	spk_context *sc = s->ss->sc;
	spk_rdd *fresh = spk_map(s->parent->current, "__tag_new", NULL);
	spk_rdd *old = spk_map(spk_parallelize_rows(sc, s->state ? s->state->rows : NULL,
	                                            s->state ? s->state->n : 0, s->nparts),
	                       "__tag_state", NULL);
	spk_rdd *next = spk_map(spk_group_by_key(spk_union(fresh, old), s->nparts), s->fn, s->arg);
	if (next == NULL)
		return NULL;
	/* The new state lives in the driver: the next batch starts from it even if every
	 * executor that computed it is gone. */
	spk_rows *rows = NULL;
	if (spk_collect(next, &rows) != 0)
		return NULL;
	spk_rows_free(s->state);
	s->state = rows;
	return spk_parallelize_rows(sc, rows->rows, rows->n, s->nparts);
}

static spk_rdd *compute(spk_stream *s, int64_t batch)
{
	spk_rdd *in = s->parent ? s->parent->current : NULL;
	switch (s->kind) {
	case ST_FILES:
		return files_batch(s);
	case ST_SOCKET:
		return socket_batch(s);
	case ST_NARROW:
		switch (s->narrow) {
		case SPK_N_FLAT_MAP:
			return spk_flat_map(in, s->fn, s->arg);
		case SPK_N_FILTER:
			return spk_filter(in, s->fn, s->arg);
		case SPK_N_KEY_BY:
			return spk_key_by(in, s->fn, s->arg);
		default:
			return spk_map(in, s->fn, s->arg);
		}
	case ST_REDUCE:
		return spk_reduce_by_key(in, s->fn, s->arg, s->nparts);
	case ST_WINDOW:
		return window_batch(s, batch);
	case ST_STATE:
		return state_batch(s);
	}
	return NULL;
}

int spk_streaming_run_batch(spk_streaming *ss)
{
	int64_t batch = ss->batch++;
	int64_t time_ms = spk_now_ms() - ss->start_ms;
	for (spk_stream *s = ss->head; s != NULL; s = s->next) {
		s->current = compute(s, batch);
		if (s->current == NULL) {
			if (spk_context_error(ss->sc)[0] == '\0')
				snprintf(ss->sc->error, sizeof(ss->sc->error),
				         "streaming: batch %lld could not be built",
				         (long long)batch);
			return -1;
		}
	}
	for (spk_stream *s = ss->head; s != NULL; s = s->next) {
		if (s->noutputs == 0)
			continue;
		spk_rows *rows = NULL;
		if (spk_collect(s->current, &rows) != 0)
			return -1;
		for (int i = 0; i < s->noutputs; i++)
			s->outputs[i].fn(batch, time_ms, rows, s->outputs[i].arg);
		spk_rows_free(rows);
	}
	return 0;
}

int spk_streaming_run(spk_streaming *ss, int64_t n)
{
	atomic_store(&ss->stop, false);
	int64_t next = spk_now_ms();
	for (int64_t i = 0; (n <= 0 || i < n) && !atomic_load(&ss->stop); i++) {
		next += ss->batch_ms;
		int64_t wait = next - spk_now_ms();
		if (wait > 0) {
			struct timespec ts = {wait / 1000, (wait % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (spk_streaming_run_batch(ss) != 0)
			return -1;
	}
	return 0;
}

void spk_streaming_stop(spk_streaming *ss)
{
	atomic_store(&ss->stop, true);
}

void spk_streaming_free(spk_streaming *ss)
{
	if (ss == NULL)
		return;
	atomic_store(&ss->stop, true);
	while (ss->head != NULL) {
		spk_stream *s = ss->head;
		ss->head = s->next;
		if (s->receiving) {
			s->receiving = false;
			pthread_join(s->receiver, NULL);
		}
		for (size_t i = 0; i < s->nlines; i++)
			free(s->lines[i]);
		free(s->lines);
		for (size_t i = 0; i < s->nseen; i++)
			free(s->seen[i]);
		free(s->seen);
		free(s->dir);
		free(s->fn);
		free(s->arg);
		free(s->history);
		free(s->outputs);
		spk_rows_free(s->state);
		pthread_mutex_destroy(&s->mu);
		free(s);
	}
	free(ss);
}
