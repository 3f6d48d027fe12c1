/* status_updates.c — see status_updates.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actor/log.h"
#include "agent/status_updates.h"

struct retry_arg {
	struct status_update_manager *m;
	uint64_t serial;
	uint64_t timer; /* a cancelled timer that had already fired must not act */
};

static void retry_cb(actor_t *self, void *arg);

void sum_init(struct status_update_manager *m, int64_t min_ms, int64_t max_ms,
              sum_forward_fn forward, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->min_ms = min_ms > 0 ? min_ms : 10000;
	m->max_ms = max_ms >= m->min_ms ? max_ms : m->min_ms;
	m->forward = forward;
	m->arg = arg;
	m->paused = true; /* nothing goes out before the first registration */
	m->next_serial = 1;
}

static void stream_free(actor_t *self, struct sum_stream *s)
{
	if (s->timer != 0 && self != NULL)
		actor_cancel(self, s->timer);
	for (struct sum_update *u = s->head, *next; u != NULL; u = next) {
		next = u->next;
		protobuf_c_message_free_unpacked(&u->u->base, NULL);
		free(u);
	}
	free(s->framework_id);
	free(s->task_id);
	free(s);
}

void sum_fini(struct status_update_manager *m, actor_t *self)
{
	for (struct sum_stream *s = m->streams, *next; s != NULL; s = next) {
		next = s->next;
		stream_free(self, s);
	}
	m->streams = NULL;
}

static struct sum_stream *find(const struct status_update_manager *m, const char *fw,
                               const char *task)
{
	for (struct sum_stream *s = m->streams; s != NULL; s = s->next)
		if (strcmp(s->framework_id, fw) == 0 && strcmp(s->task_id, task) == 0)
			return s;
	return NULL;
}

/* Sends the head of s and arms its retry timer. */
static void send_head(struct status_update_manager *m, actor_t *self, struct sum_stream *s)
{
	if (s->timer != 0) {
		actor_cancel(self, s->timer);
		s->timer = 0;
	}
	if (m->paused || s->head == NULL)
		return;
	m->forward(self, s->head->u, m->arg);
	m->sent++;
	struct retry_arg *r = malloc(sizeof(*r));
	if (r == NULL) {
		actor_error("status updates: out of memory; task %s is not retried", s->task_id);
		return;
	}
	r->m = m;
	r->serial = s->serial;
	s->timer = actor_delay(self, s->interval_ms, retry_cb, r);
	r->timer = s->timer;
}

static void retry_cb(actor_t *self, void *arg)
{
	struct retry_arg *r = arg;

	if (self == NULL) {
		free(r);
		return;
	}
	struct status_update_manager *m = r->m;
	uint64_t serial = r->serial, timer = r->timer;
	free(r);
	for (struct sum_stream *s = m->streams; s != NULL; s = s->next) {
		if (s->serial != serial || s->timer != timer)
			continue;
		s->timer = 0;
		if (m->paused || s->head == NULL)
			return;
		actor_info("status updates: no acknowledgement for the update of task %s yet; "
		           "sending it again",
		           s->task_id);
		m->retried++;
		s->interval_ms = s->interval_ms * 2 > m->max_ms ? m->max_ms : s->interval_ms * 2;
		send_head(m, self, s);
		/* send_head armed the timer with the doubled interval already. */
		return;
	}
}

int sum_update(struct status_update_manager *m, actor_t *self, Plexus__Internal__StatusUpdate *u)
{
	if (u == NULL || u->framework_id == NULL || u->framework_id->value == NULL ||
	    u->status == NULL || u->status->task_id == NULL || u->status->task_id->value == NULL ||
	    !u->has_uuid || u->uuid.len != 16) {
		if (u != NULL)
			protobuf_c_message_free_unpacked(&u->base, NULL);
		return EINVAL;
	}
	struct sum_update *node = calloc(1, sizeof(*node));
	if (node == NULL) {
		protobuf_c_message_free_unpacked(&u->base, NULL);
		return ENOMEM;
	}
	node->u = u;
	struct sum_stream *s = find(m, u->framework_id->value, u->status->task_id->value);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s != NULL) {
			s->framework_id = strdup(u->framework_id->value);
			s->task_id = strdup(u->status->task_id->value);
		}
		if (s == NULL || s->framework_id == NULL || s->task_id == NULL) {
			if (s != NULL) {
				free(s->framework_id);
				free(s->task_id);
				free(s);
			}
			free(node);
			protobuf_c_message_free_unpacked(&u->base, NULL);
			return ENOMEM;
		}
		s->serial = m->next_serial++;
		s->next = m->streams;
		m->streams = s;
	}
	if (s->tail == NULL) {
		s->head = s->tail = node;
		s->interval_ms = m->min_ms;
		send_head(m, self, s);
	} else {
		s->tail->next = node;
		s->tail = node;
	}
	return 0;
}

int sum_ack(struct status_update_manager *m, actor_t *self, const char *framework_id,
            const char *task_id, const uint8_t *uuid, size_t uuid_len,
            Plexus__Internal__StatusUpdate **acked)
{
	struct sum_stream *s = find(m, framework_id, task_id);

	if (acked != NULL)
		*acked = NULL;
	if (s == NULL || s->head == NULL)
		return ENOENT;
	if (uuid_len != 16 || memcmp(uuid, s->head->u->uuid.data, 16) != 0)
		return EINVAL;
	struct sum_update *head = s->head;
	s->head = head->next;
	if (s->head == NULL)
		s->tail = NULL;
	m->acked++;
	if (acked != NULL)
		*acked = head->u;
	else
		protobuf_c_message_free_unpacked(&head->u->base, NULL);
	free(head);
	if (s->head != NULL) {
		s->interval_ms = m->min_ms;
		send_head(m, self, s);
		return 0;
	}
	/* The stream is empty: forget it (a later update of the task opens a new one). */
	for (struct sum_stream **pp = &m->streams; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	stream_free(self, s);
	return 0;
}

void sum_pause(struct status_update_manager *m, actor_t *self)
{
	m->paused = true;
	for (struct sum_stream *s = m->streams; s != NULL; s = s->next)
		if (s->timer != 0) {
			actor_cancel(self, s->timer);
			s->timer = 0;
		}
}

void sum_resume(struct status_update_manager *m, actor_t *self)
{
	m->paused = false;
	for (struct sum_stream *s = m->streams; s != NULL; s = s->next) {
		s->interval_ms = m->min_ms;
		send_head(m, self, s);
	}
}

void sum_cleanup(struct status_update_manager *m, actor_t *self, const char *framework_id)
{
	for (struct sum_stream **pp = &m->streams; *pp != NULL;) {
		struct sum_stream *s = *pp;
		if (strcmp(s->framework_id, framework_id) == 0) {
			*pp = s->next;
			stream_free(self, s);
		} else {
			pp = &s->next;
		}
	}
}

size_t sum_pending(const struct status_update_manager *m, const char *framework_id,
                   const char *task_id, const Plexus__Internal__StatusUpdate **latest)
{
	struct sum_stream *s = find(m, framework_id, task_id);
	size_t n = 0;

	if (latest != NULL)
		*latest = NULL;
	if (s == NULL)
		return 0;
	for (struct sum_update *u = s->head; u != NULL; u = u->next) {
		n++;
		if (latest != NULL)
			*latest = u->u;
	}
	return n;
}
