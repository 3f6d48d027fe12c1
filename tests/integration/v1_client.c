/* v1_client.c — the tests' Mesos v1 HTTP client (see v1_client.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/json_pb.h"
#include "proto/scheduler.pb-c.h"
#include "v1_client.h"

struct v1_stream {
	pthread_t thread;
	CURL *easy;
	struct curl_slist *headers;
	uint8_t *body;
	size_t body_len;
	bool protobuf;
	atomic_bool abort;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *buf; /* bytes not yet a whole record */
	size_t len, cap;
	json_t *events;
	char stream_id[64];
	long status;
	bool head; /* the response head has come */
	bool done;
	bool corrupt;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Decodes the whole records in s->buf into events (mu held). */
static void parse_records(struct v1_stream *s)
{
	size_t off = 0;
	for (;;) {
		size_t i = off, n = 0;
		while (i < s->len && s->buf[i] >= '0' && s->buf[i] <= '9')
			n = n * 10 + (size_t)(s->buf[i++] - '0');
		if (i == s->len)
			break;
		if (i == off || s->buf[i] != '\n') {
			s->corrupt = true;
			break;
		}
		i++;
		if (s->len - i < n)
			break;
		json_t *ev = NULL;
		if (s->protobuf) {
			Plexus__Scheduler__Event *e =
			    plexus__scheduler__event__unpack(NULL, n, s->buf + i);
			if (e != NULL) {
				ev = px_pb_to_json(&e->base);
				plexus__scheduler__event__free_unpacked(e, NULL);
			}
		} else {
			ev = json_loadb((const char *)s->buf + i, n, 0, NULL);
		}
		if (ev == NULL)
			s->corrupt = true;
		else
			json_array_append_new(s->events, ev);
		off = i + n;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	pthread_cond_broadcast(&s->cv);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct v1_stream *s = arg;
	size_t n = size * nmemb;

	if (atomic_load(&s->abort))
		return 0;
	pthread_mutex_lock(&s->mu);
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	parse_records(s);
	pthread_mutex_unlock(&s->mu);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct v1_stream *s = arg;
	size_t n = size * nmemb;
	const char *key = "Mesos-Stream-Id:";

	pthread_mutex_lock(&s->mu);
	if (n > strlen(key) && strncasecmp(data, key, strlen(key)) == 0) {
		size_t i = strlen(key), j = n;
		while (i < n && data[i] == ' ')
			i++;
		while (j > i && (data[j - 1] == '\r' || data[j - 1] == '\n'))
			j--;
		snprintf(s->stream_id, sizeof(s->stream_id), "%.*s", (int)(j - i), data + i);
	}
	if (n == 2 && data[0] == '\r') { /* the blank line after the headers */
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
		s->head = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct v1_stream *s = arg;
	return atomic_load(&s->abort) ? 1 : 0;
}

static void *stream_main(void *arg)
{
	struct v1_stream *s = arg;

	curl_easy_perform(s->easy);
	pthread_mutex_lock(&s->mu);
	if (!s->head)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
	s->head = true;
	s->done = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct v1_stream *v1_subscribe(int port, const char *path, const void *body, size_t len,
                               bool protobuf, const char *accept)
{
	struct v1_stream *s = calloc(1, sizeof(*s));
	char url[256], h[128];

	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->events = json_array();
	s->protobuf = protobuf;
	s->body = malloc(len ? len : 1);
	memcpy(s->body, body, len);
	s->body_len = len;
	s->easy = curl_easy_init();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	snprintf(h, sizeof(h), "Content-Type: %s",
	         protobuf ? "application/x-protobuf" : "application/json");
	s->headers = curl_slist_append(NULL, h);
	if (accept != NULL) {
		snprintf(h, sizeof(h), "Accept: %s", accept);
		s->headers = curl_slist_append(s->headers, h);
	}
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	curl_easy_setopt(s->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)s->body_len);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(s->easy, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	pthread_create(&s->thread, NULL, stream_main, s);
	struct timespec ts;
	deadline(&ts, 10000);
	pthread_mutex_lock(&s->mu);
	while (!s->head)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
			break;
	bool ok = s->head;
	pthread_mutex_unlock(&s->mu);
	if (!ok) {
		v1_close(s);
		return NULL;
	}
	return s;
}

long v1_status(struct v1_stream *s)
{
	return s->status;
}

const char *v1_stream_id(struct v1_stream *s)
{
	return s->stream_id;
}

size_t v1_events(struct v1_stream *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = json_array_size(s->events);
	pthread_mutex_unlock(&s->mu);
	return n;
}

json_t *v1_wait_event(struct v1_stream *s, const char *type, size_t *next, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	json_t *found = NULL;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (*next < json_array_size(s->events)) {
			json_t *ev = json_array_get(s->events, (*next)++);
			const char *t = json_string_value(json_object_get(ev, "type"));
			if (type == NULL || (t != NULL && strcmp(t, type) == 0)) {
				found = json_incref(ev);
				break;
			}
		}
		int64_t left = end - now_ms();
		if (found != NULL || s->done || left <= 0)
			break;
		struct timespec ts;
		deadline(&ts, (int)left);
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	return found;
}

bool v1_wait_closed(struct v1_stream *s, int timeout_ms)
{
	struct timespec ts;
	deadline(&ts, timeout_ms);
	pthread_mutex_lock(&s->mu);
	while (!s->done)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0)
			break;
	bool done = s->done;
	pthread_mutex_unlock(&s->mu);
	return done;
}

void v1_close(struct v1_stream *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->abort, true);
	pthread_join(s->thread, NULL);
	curl_easy_cleanup(s->easy);
	curl_slist_free_all(s->headers);
	json_decref(s->events);
	free(s->buf);
	free(s->body);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

struct sink {
	char *data;
	size_t len;
};

static size_t on_answer(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	size_t n = size * nmemb;
	k->data = realloc(k->data, k->len + n + 1);
	memcpy(k->data + k->len, data, n);
	k->len += n;
	k->data[k->len] = '\0';
	return n;
}

long v1_post(int port, const char *path, const char *ctype, const char *stream_id, const void *body,
             size_t len, char **out)
{
	return v1_post_accept(port, path, ctype, NULL, stream_id, body, len, out, NULL);
}

long v1_post_accept(int port, const char *path, const char *ctype, const char *accept,
                    const char *stream_id, const void *body, size_t len, char **out,
                    size_t *out_len)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hs = NULL;
	struct sink k = {calloc(1, 1), 0};
	char url[256], h[160];
	long status = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if (ctype != NULL) {
		snprintf(h, sizeof(h), "Content-Type: %s", ctype);
		hs = curl_slist_append(hs, h);
	} else {
		hs = curl_slist_append(hs, "Content-Type:");
	}
	if (stream_id != NULL) {
		snprintf(h, sizeof(h), "Mesos-Stream-Id: %s", stream_id);
		hs = curl_slist_append(hs, h);
	}
	if (accept != NULL) {
		snprintf(h, sizeof(h), "Accept: %s", accept);
		hs = curl_slist_append(hs, h);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hs);
	if (out_len != NULL)
		*out_len = k.len;
	if (out != NULL)
		*out = k.data;
	else
		free(k.data);
	return status;
}

long v1_post_json(int port, const char *path, const char *stream_id, char **out, const char *fmt,
                  ...)
{
	va_list ap;
	char *body = NULL;

	va_start(ap, fmt);
	int n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return 0;
	long status = v1_post(port, path, "application/json", stream_id, body, (size_t)n, out);
	free(body);
	return status;
}
