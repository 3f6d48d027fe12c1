/* mar_events.c — Marathon's event stream: GET /v2/events as server-sent events, one
 * "event: <type>\ndata: <json>\n\n" per event, for as long as the client listens.
 *
 * Events are queued per subscriber and written one write at a time; the write's
 * callback (an nng thread) sends what queued up meanwhile. A subscriber whose write
 * fails is marked dead and freed by the actor on the next event, never inside the
 * callback (an aio cannot be freed from its own callback). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "actor/log.h"

#include "mar_events.h"
#include "mar_state.h"

/* Bytes queued past this make a subscriber too slow to keep. */
#define MAR_EVENTS_MAX_QUEUE (8 << 20)

struct mar_subscriber {
	nng_http_conn *conn;
	nng_aio *aio;
	pthread_mutex_t mu;
	char *sending; /* owned by the write in progress */
	size_t sending_len;
	char *queued;
	size_t queued_len;
	bool writing;
	bool dead;
	struct mar_subscriber *next;
};

/* Starts writing what is queued; called with mu held and no write in progress. */
static void start_write(struct mar_subscriber *s)
{
	if (s->queued_len == 0 || s->dead)
		return;
	s->sending = s->queued;
	s->sending_len = s->queued_len;
	s->queued = NULL;
	s->queued_len = 0;
	nng_iov iov = {.iov_buf = s->sending, .iov_len = s->sending_len};
	nng_aio_set_iov(s->aio, 1, &iov);
	s->writing = true;
	nng_http_conn_write_all(s->conn, s->aio);
}

static void written_cb(void *arg)
{
	struct mar_subscriber *s = arg;
	pthread_mutex_lock(&s->mu);
	free(s->sending);
	s->sending = NULL;
	s->writing = false;
	if (nng_aio_result(s->aio) != 0)
		s->dead = true;
	else
		start_write(s);
	pthread_mutex_unlock(&s->mu);
}

static void subscriber_free(struct mar_subscriber *s)
{
	nng_http_conn_close(s->conn);
	nng_aio_stop(s->aio);
	nng_aio_free(s->aio);
	free(s->sending);
	free(s->queued);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void mar_events_subscribe(void *state, nng_http_conn *conn)
{
	struct mar_state *st = state;
	struct mar_subscriber *s = calloc(1, sizeof(*s));
	if (s == NULL || nng_aio_alloc(&s->aio, written_cb, s) != 0) {
		free(s);
		nng_http_conn_close(conn);
		return;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->conn = conn;
	s->next = st->subscribers;
	st->subscribers = s;
	/* Marathon greets a new subscriber with an event_stream_attached event. */
	mar_event(st, "event_stream_attached", json_pack("{s:s}", "remoteAddress", "unknown"));
}

void mar_event(struct mar_state *st, const char *type, json_t *data)
{
	char stamp[MAR_VERSION_MAX];

	if (data == NULL)
		return;
	if (st->subscribers == NULL) {
		json_decref(data);
		return;
	}
	mar_timestamp(stamp);
	json_object_set_new(data, "eventType", json_string(type));
	json_object_set_new(data, "timestamp", json_string(stamp));
	char *text = json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(data);
	if (text == NULL)
		return;
	size_t len = strlen(type) + strlen(text) + 32;
	char *frame = malloc(len);
	if (frame == NULL) {
		free(text);
		return;
	}
	len = (size_t)snprintf(frame, len, "event: %s\ndata: %s\n\n", type, text);
	free(text);

	for (struct mar_subscriber **at = &st->subscribers; *at != NULL;) {
		struct mar_subscriber *s = *at;
		pthread_mutex_lock(&s->mu);
		bool drop = s->dead && !s->writing;
		if (!s->dead && s->queued_len + len > MAR_EVENTS_MAX_QUEUE) {
			actor_warn("marathon: an event subscriber is too slow; dropping it");
			s->dead = true;
			nng_aio_cancel(s->aio); /* its callback runs and leaves it idle */
		}
		if (!s->dead) {
			char *grown = realloc(s->queued, s->queued_len + len);
			if (grown != NULL) {
				memcpy(grown + s->queued_len, frame, len);
				s->queued = grown;
				s->queued_len += len;
			}
			if (!s->writing)
				start_write(s);
		}
		pthread_mutex_unlock(&s->mu);
		if (drop) {
			*at = s->next;
			subscriber_free(s);
		} else {
			at = &s->next;
		}
	}
	free(frame);
}

void mar_events_fini(struct mar_state *st)
{
	while (st->subscribers != NULL) {
		struct mar_subscriber *s = st->subscribers;
		st->subscribers = s->next;
		subscriber_free(s);
	}
}
