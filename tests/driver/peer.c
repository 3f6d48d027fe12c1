/* peer.c — the recording actor of the driver tests (see peer.h). */
#include "peer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

/* One mutex and condition for all peers and counters: tests are small. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

struct record {
	char *name;
	actor_pid from;
	uint8_t *data;
	size_t len;
};

struct peer {
	actor_pid pid;
	char text[ACTOR_PID_TEXT_MAX];
	struct record *recs;
	size_t n, cap;
	bool dead;
};

static void deadline_in(struct timespec *d, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, d);
	d->tv_sec += ms / 1000;
	d->tv_nsec += (ms % 1000) * 1000000L;
	if (d->tv_nsec >= 1000000000L) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000L;
	}
}

static void peer_record(actor_t *self, const actor_msg *msg)
{
	struct peer *p = actor_state(self);
	pthread_mutex_lock(&mu);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->recs = realloc(p->recs, p->cap * sizeof(*p->recs));
		cr_assert_not_null(p->recs);
	}
	struct record *r = &p->recs[p->n++];
	r->name = strdup(msg->name);
	r->from = msg->from;
	r->data = malloc(msg->len ? msg->len : 1);
	memcpy(r->data, msg->data, msg->len);
	r->len = msg->len;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static const actor_def peer_def_template = {
    .name = "peer",
    .unhandled = peer_record,
};

/* Each peer needs a definition carrying its id; they live as long as the process. */
static actor_def defs[64];
static char def_names[64][ACTOR_PID_ID_MAX + 1];
static int ndefs;

peer *peer_spawn(const char *id)
{
	struct peer *p = calloc(1, sizeof(*p));
	cr_assert_not_null(p);
	pthread_mutex_lock(&mu);
	cr_assert_lt(ndefs, 64);
	int i = ndefs++;
	pthread_mutex_unlock(&mu);
	snprintf(def_names[i], sizeof(def_names[i]), "%s", id);
	defs[i] = peer_def_template;
	defs[i].name = def_names[i];
	/* The id must be exactly `id` (a master coming back under the same PID). libactor
	 * wakes actor_wait before it frees the ended actor's id, so right after a
	 * peer_kill a spawn may get "id(1)": try again until the old id is free. */
	for (int attempt = 0;; attempt++) {
		cr_assert_eq(actor_spawn(&defs[i], p, &p->pid), 0);
		if (strcmp(p->pid.id, id) == 0)
			break;
		cr_assert_lt(attempt, 100000, "the id '%s' never became free", id);
		actor_terminate(p->pid);
		cr_assert_eq(actor_wait(p->pid, 10000), 0);
		sched_yield();
	}
	actor_pid_format(p->pid, p->text, sizeof(p->text));
	return p;
}

void peer_kill(peer *p)
{
	if (p->dead)
		return;
	actor_terminate(p->pid);
	cr_assert_eq(actor_wait(p->pid, 10000), 0);
	p->dead = true;
}

void peer_free(peer *p)
{
	if (p == NULL)
		return;
	peer_kill(p);
	for (size_t i = 0; i < p->n; i++) {
		free(p->recs[i].name);
		free(p->recs[i].data);
	}
	free(p->recs);
	free(p);
}

actor_pid peer_pid(const peer *p)
{
	return p->pid;
}

const char *peer_pid_text(const peer *p)
{
	return p->text;
}

static struct record *find_locked(peer *p, const char *name, int k)
{
	int seen = 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->recs[i].name, name) == 0 && ++seen == k)
			return &p->recs[i];
	return NULL;
}

ProtobufCMessage *peer_wait(peer *p, const ProtobufCMessageDescriptor *desc, int k,
                            int64_t timeout_ms, actor_pid *from)
{
	struct timespec d;
	deadline_in(&d, timeout_ms);
	pthread_mutex_lock(&mu);
	struct record *r;
	while ((r = find_locked(p, desc->name, k)) == NULL)
		if (pthread_cond_timedwait(&cv, &mu, &d) == ETIMEDOUT) {
			r = find_locked(p, desc->name, k);
			break;
		}
	ProtobufCMessage *m = NULL;
	if (r != NULL) {
		m = protobuf_c_message_unpack(desc, NULL, r->len, r->data);
		if (from != NULL)
			*from = r->from;
	}
	pthread_mutex_unlock(&mu);
	return m;
}

int peer_count(peer *p, const ProtobufCMessageDescriptor *desc)
{
	pthread_mutex_lock(&mu);
	int n = 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->recs[i].name, desc->name) == 0)
			n++;
	pthread_mutex_unlock(&mu);
	return n;
}

struct outgoing {
	actor_pid to;
	const char *name; /* a descriptor's: static */
	uint8_t *data;
	size_t len;
};

static void send_cb(actor_t *self, void *arg)
{
	struct outgoing *o = arg;
	if (self != NULL)
		actor_send(self, o->to, o->name, o->data, o->len);
	free(o->data);
	free(o);
}

void peer_send(peer *p, actor_pid to, const ProtobufCMessage *msg)
{
	struct outgoing *o = calloc(1, sizeof(*o));
	cr_assert_not_null(o);
	o->to = to;
	o->name = msg->descriptor->name;
	o->len = protobuf_c_message_get_packed_size(msg);
	o->data = malloc(o->len ? o->len : 1);
	protobuf_c_message_pack(msg, o->data);
	cr_assert_eq(actor_call(p->pid, send_cb, o), 0);
}

static void *send_dispatch(actor_t *self, void *arg, int *err)
{
	send_cb(self, arg);
	return NULL;
}

void peer_send_sync(peer *p, actor_pid to, const ProtobufCMessage *msg)
{
	struct outgoing *o = calloc(1, sizeof(*o));
	cr_assert_not_null(o);
	o->to = to;
	o->name = msg->descriptor->name;
	o->len = protobuf_c_message_get_packed_size(msg);
	o->data = malloc(o->len ? o->len : 1);
	protobuf_c_message_pack(msg, o->data);
	actor_future *f = actor_dispatch(p->pid, send_dispatch, o, NULL);
	cr_assert_eq(actor_future_await(f, 10000), 0);
	actor_future_unref(f);
}

void counter_add(struct counter *c, int n)
{
	pthread_mutex_lock(&mu);
	c->value += n;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

int counter_get(struct counter *c)
{
	pthread_mutex_lock(&mu);
	int v = c->value;
	pthread_mutex_unlock(&mu);
	return v;
}

bool counter_wait(struct counter *c, int n, int64_t timeout_ms)
{
	struct timespec d;
	deadline_in(&d, timeout_ms);
	pthread_mutex_lock(&mu);
	bool ok = true;
	while (c->value < n)
		if (pthread_cond_timedwait(&cv, &mu, &d) == ETIMEDOUT) {
			ok = c->value >= n;
			break;
		}
	pthread_mutex_unlock(&mu);
	return ok;
}

void test_runtime_start(bool http)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = 2;
	cfg.listen = http;
	cfg.port = 0;
	cfg.http_port = http ? 0 : -1;
	cfg.ip = "127.0.0.1";
	cr_assert_eq(actor_runtime_init(&cfg), 0);
}

void test_runtime_stop(void)
{
	if (actor_clock_paused())
		actor_clock_resume();
	actor_runtime_fini();
	pthread_mutex_lock(&mu);
	ndefs = 0;
	pthread_mutex_unlock(&mu);
}
