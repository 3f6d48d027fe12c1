/* stream.c — streaming (chunked) HTTP responses.
 *
 * The server hijacks the connection of a stream response from nng's HTTP server and
 * hands it here (actor__http_stream_attach). From then on the stream writes its own
 * bytes: the head, then every chunk the owner queued, one nng write at a time, and
 * keeps one read posted so that a client closing its end is noticed even while nothing
 * is written. When the stream is over (client gone, write failed, or owner closed and
 * everything flushed) a closer thread stops the aios and closes the connection: nng
 * objects cannot be torn down from inside their own callbacks.
 *
 * References: the owner's (actor_http_stream_close), the response's (until attached or
 * freed unsent) and the connection's (from attach until the closer is done). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "actor/actor.h"
#include "actor/error.h"
#include "actor/http.h"
#include "actor/log.h"
#include "http/http_internal.h"

#define DEFAULT_MAX_PENDING ((size_t)8 << 20)

struct actor_http_stream {
	pthread_mutex_t mu;
	_Atomic int refs;
	bool stop_requested; /* under open_mu: actor__http_streams_stop saw it */
	size_t max_pending;
	nng_http_conn *conn; /* set by attach */
	nng_aio *wr, *rd;
	uint8_t *pending; /* queued bytes (chunk-framed), not yet handed to nng */
	size_t plen, pcap;
	uint8_t *inflight; /* what the current write sends */
	size_t ilen;
	bool writing;
	bool over;      /* no more writes: client gone, failure, or owner closed */
	bool owner_end; /* the owner closed: send the last chunk after the queue */
	bool closing;   /* the closer thread has been started */
	bool has_watch;
	actor_pid watch_to;
	actor_fn watch_fn;
	void *watch_arg;
	uint8_t rdbuf[512];
	struct actor_http_stream *next_open; /* the list of attached streams */
};

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t open_cv = PTHREAD_COND_INITIALIZER;
static struct actor_http_stream *open_streams;
static size_t closers; /* closer threads running */

static void unref(struct actor_http_stream *s)
{
	if (atomic_fetch_sub(&s->refs, 1) > 1)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->pending);
	free(s->inflight);
	free(s);
}

/* Fires the watcher once (mu held). */
static void fire_watch(struct actor_http_stream *s)
{
	if (!s->has_watch)
		return;
	s->has_watch = false;
	if (actor_call(s->watch_to, s->watch_fn, s->watch_arg) != 0)
		s->watch_fn(NULL, s->watch_arg); /* the runtime is gone: only release arg */
}

static void *closer_main(void *arg)
{
	struct actor_http_stream *s = arg;

	nng_aio_stop(s->rd);
	nng_aio_stop(s->wr);
	nng_http_conn_close(s->conn);
	nng_aio_free(s->rd);
	nng_aio_free(s->wr);
	pthread_mutex_lock(&open_mu);
	for (struct actor_http_stream **p = &open_streams; *p; p = &(*p)->next_open)
		if (*p == s) {
			*p = s->next_open;
			break;
		}
	closers--;
	pthread_cond_broadcast(&open_cv);
	pthread_mutex_unlock(&open_mu);
	unref(s); /* the connection's reference */
	return NULL;
}

/* Starts tearing the connection down (mu held). */
static void start_closer(struct actor_http_stream *s)
{
	if (s->closing || s->conn == NULL)
		return;
	s->closing = true;
	s->over = true;
	fire_watch(s);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&open_mu);
	closers++;
	pthread_mutex_unlock(&open_mu);
	if (pthread_create(&t, &attr, closer_main, s) != 0) {
		/* Without a thread the aios can only be aborted; the closer's work is then
		 * left to actor__http_streams_stop. */
		pthread_mutex_lock(&open_mu);
		closers--;
		pthread_mutex_unlock(&open_mu);
		s->closing = false;
		nng_aio_abort(s->rd, NNG_ECLOSED);
		actor_warn("http: cannot start a thread to close a stream");
	}
	pthread_attr_destroy(&attr);
}

/* Hands the queue to nng if nothing is being written (mu held). */
static void kick(struct actor_http_stream *s)
{
	if (s->writing || s->conn == NULL || s->closing)
		return;
	if (s->plen == 0) {
		if (s->owner_end)
			start_closer(s);
		return;
	}
	free(s->inflight);
	s->inflight = s->pending;
	s->ilen = s->plen;
	s->pending = NULL;
	s->plen = s->pcap = 0;
	nng_iov iov = {.iov_buf = s->inflight, .iov_len = s->ilen};
	nng_aio_set_iov(s->wr, 1, &iov);
	s->writing = true;
	nng_http_conn_write_all(s->conn, s->wr);
}

static void write_cb(void *arg)
{
	struct actor_http_stream *s = arg;
	int rv = nng_aio_result(s->wr);

	pthread_mutex_lock(&s->mu);
	s->writing = false;
	if (rv != 0) {
		actor_debug("http: stream write failed: %s", nng_strerror(rv));
		start_closer(s);
	} else {
		kick(s);
	}
	pthread_mutex_unlock(&s->mu);
}

static void read_cb(void *arg)
{
	struct actor_http_stream *s = arg;
	int rv = nng_aio_result(s->rd);

	pthread_mutex_lock(&s->mu);
	if (rv != 0) { /* the client closed its end (or we are closing) */
		start_closer(s);
	} else if (!s->closing) { /* whatever a client sends on a stream is ignored */
		nng_iov iov = {.iov_buf = s->rdbuf, .iov_len = sizeof(s->rdbuf)};
		nng_aio_set_iov(s->rd, 1, &iov);
		nng_http_conn_read(s->conn, s->rd);
	}
	pthread_mutex_unlock(&s->mu);
}

/* Appends n bytes to the queue (mu held). */
static int append(struct actor_http_stream *s, const void *data, size_t n)
{
	if (s->plen + n > s->pcap) {
		size_t cap = s->pcap ? s->pcap : 4096;
		while (cap < s->plen + n)
			cap *= 2;
		uint8_t *p = realloc(s->pending, cap);
		if (p == NULL)
			return ACTOR_ENOMEM;
		s->pending = p;
		s->pcap = cap;
	}
	memcpy(s->pending + s->plen, data, n);
	s->plen += n;
	return 0;
}

actor_http_response *actor_http_response_stream(int status, const char *content_type,
                                                size_t max_pending, actor_http_stream **out)
{
	actor_http_response *res = actor_http_response_alloc(status, content_type, NULL, 0);
	struct actor_http_stream *s = calloc(1, sizeof(*s));

	if (res == NULL || s == NULL || out == NULL) {
		actor_http_response_free(res);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->refs = 2; /* the caller's and the response's */
	s->max_pending = max_pending ? max_pending : DEFAULT_MAX_PENDING;
	res->stream = s;
	*out = s;
	return res;
}

int actor_http_stream_write(actor_http_stream *s, const void *data, size_t len)
{
	char head[24];
	int rv;

	if (s == NULL || data == NULL || len == 0)
		return ACTOR_EINVAL;
	int n = snprintf(head, sizeof(head), "%zx\r\n", len);
	pthread_mutex_lock(&s->mu);
	if (s->over || s->owner_end) {
		rv = ACTOR_ECONN;
	} else if (s->plen + (size_t)n + len + 2 > s->max_pending) {
		rv = ACTOR_EAGAIN;
	} else {
		size_t before = s->plen;
		rv = append(s, head, (size_t)n);
		if (rv == 0)
			rv = append(s, data, len);
		if (rv == 0)
			rv = append(s, "\r\n", 2);
		if (rv != 0)
			s->plen = before;
		else
			kick(s);
	}
	pthread_mutex_unlock(&s->mu);
	return rv;
}

size_t actor_http_stream_pending(actor_http_stream *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->plen + (s->writing ? s->ilen : 0);
	pthread_mutex_unlock(&s->mu);
	return n;
}

int actor_http_stream_watch(actor_http_stream *s, actor_pid to, actor_fn fn, void *arg)
{
	if (s == NULL || fn == NULL)
		return ACTOR_EINVAL;
	pthread_mutex_lock(&s->mu);
	if (s->has_watch || s->watch_fn != NULL) {
		pthread_mutex_unlock(&s->mu);
		return ACTOR_EEXIST;
	}
	s->watch_to = to;
	s->watch_fn = fn;
	s->watch_arg = arg;
	s->has_watch = true;
	if (s->over)
		fire_watch(s);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void actor_http_stream_close(actor_http_stream *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	if (!s->owner_end && !s->over) {
		s->owner_end = true;
		append(s, "0\r\n\r\n", 5); /* the last chunk */
		kick(s);
	}
	s->owner_end = true;
	pthread_mutex_unlock(&s->mu);
	unref(s);
}

void actor__http_stream_attach(struct actor_http_stream *s, nng_http_conn *conn, const char *head,
                               size_t head_len)
{
	pthread_mutex_lock(&s->mu);
	s->conn = conn;
	s->refs++; /* the connection's */
	/* The head goes before anything queued so far. */
	uint8_t *queued = s->pending;
	size_t qlen = s->plen;
	s->pending = NULL;
	s->plen = s->pcap = 0;
	int rv = append(s, head, head_len);
	if (rv == 0 && qlen > 0)
		rv = append(s, queued, qlen);
	free(queued);
	if (rv == 0 &&
	    (nng_aio_alloc(&s->wr, write_cb, s) != 0 || nng_aio_alloc(&s->rd, read_cb, s) != 0))
		rv = ACTOR_ENOMEM;
	pthread_mutex_lock(&open_mu);
	s->next_open = open_streams;
	open_streams = s;
	pthread_mutex_unlock(&open_mu);
	if (rv != 0 || s->wr == NULL || s->rd == NULL) {
		/* nng_aio_stop/free accept NULL; the closer closes conn. */
		start_closer(s);
	} else {
		nng_iov iov = {.iov_buf = s->rdbuf, .iov_len = sizeof(s->rdbuf)};
		nng_aio_set_iov(s->rd, 1, &iov);
		nng_http_conn_read(conn, s->rd);
		kick(s);
	}
	pthread_mutex_unlock(&s->mu);
	unref(s); /* the response's */
}

void actor__http_stream_release(struct actor_http_stream *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->conn == NULL) { /* freed unsent: the client never sees the stream */
		s->over = true;
		fire_watch(s);
	}
	pthread_mutex_unlock(&s->mu);
	unref(s);
}

void actor__http_streams_stop(void)
{
	/* Lock order is a stream's mu, then open_mu: take each stream out of the list's
	 * protection with a reference before locking it. */
	for (;;) {
		pthread_mutex_lock(&open_mu);
		struct actor_http_stream *s = open_streams;
		while (s != NULL && s->stop_requested)
			s = s->next_open;
		if (s != NULL) {
			s->stop_requested = true;
			atomic_fetch_add(&s->refs, 1);
		}
		pthread_mutex_unlock(&open_mu);
		if (s == NULL)
			break;
		pthread_mutex_lock(&s->mu);
		start_closer(s);
		pthread_mutex_unlock(&s->mu);
		unref(s);
	}
	pthread_mutex_lock(&open_mu);
	while (closers > 0)
		pthread_cond_wait(&open_cv, &open_mu);
	pthread_mutex_unlock(&open_mu);
}
