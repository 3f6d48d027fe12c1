/* speed_count.c — the count bolt: views per (url, bucket), written to lambda.realtime.
 *
 * The bolt's task adds each tuple to a table of deltas and keeps the tuple. On every
 * tick it hands the deltas and the kept tuples to its writer thread (one batch at a
 * time) and acks the tuples of the batch the writer has finished. The writer is a plain
 * thread because cassandra's synchronous client must not run inside an actor. It keeps
 * the total it last wrote for each key; for a key it has not written yet (a new bucket,
 * or a task restarted after its worker died) it reads the current total first, so a
 * restarted task continues the count instead of starting it again. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lam_dataset.h"
#include "lam_store.h"
#include "speed.h"

/* ---- a table of (url, bucket) -> (views, latest) ---- */

struct entry {
	char url[LAM_URL_MAX];
	int64_t bucket, views, latest;
	bool used;
};

struct table {
	struct entry *v;
	size_t n, cap;
};

static uint64_t key_hash(const char *url, size_t len, int64_t bucket)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)bucket;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)url[i]) * 1099511628211ULL;
	return h;
}

static struct entry *table_get(struct table *t, const char *url, size_t len, int64_t bucket)
{
	if (t->n * 2 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct entry *v = calloc(cap, sizeof(*v));
		if (v == NULL)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->v[i].used)
				continue;
			size_t j = key_hash(t->v[i].url, strlen(t->v[i].url), t->v[i].bucket) & (cap - 1);
			while (v[j].used)
				j = (j + 1) & (cap - 1);
			v[j] = t->v[i];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	size_t j = key_hash(url, len, bucket) & (t->cap - 1);
	while (t->v[j].used) {
		if (t->v[j].bucket == bucket && strncmp(t->v[j].url, url, len) == 0 &&
		    t->v[j].url[len] == '\0')
			return &t->v[j];
		j = (j + 1) & (t->cap - 1);
	}
	struct entry *e = &t->v[j];
	e->used = true;
	memcpy(e->url, url, len);
	e->url[len] = '\0';
	e->bucket = bucket;
	t->n++;
	return e;
}

static void table_clear(struct table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the writer thread ---- */

struct batch {
	struct table deltas;
	stm_tuple **tuples;
	size_t ntuples, cap;
};

struct counter {
	struct batch pending;  /* the task's, filling */
	struct batch *handed;  /* with the writer, or written (done) */
	bool done, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	char master[256], cassandra[128];
	/* the writer's own */
	lam_store *store;
	struct table written; /* totals in cassandra */
	struct table urls;    /* URLs registered in lambda.urls (bucket 0) */
};

static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static bool stopping(struct counter *c)
{
	pthread_mutex_lock(&c->mu);
	bool s = c->stop;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* Writes one key's new total, retrying until it lands or the bolt stops. */
static void write_key(struct counter *c, const struct entry *d)
{
	char err[512];
	for (int attempt = 0; !stopping(c); attempt++) {
		if (c->store == NULL) {
			c->store = lam_store_open(c->master, c->cassandra, err, sizeof(err));
			if (c->store == NULL) {
				if (attempt % 20 == 0)
					fprintf(stderr, "count: cassandra: %s\n", err);
				pause_ms(250);
				continue;
			}
		}
		size_t len = strlen(d->url);
		struct entry *u = table_get(&c->urls, d->url, len, 0);
		struct entry *w = table_get(&c->written, d->url, len, d->bucket);
		if (u == NULL || w == NULL)
			abort();
		int rc = 0;
		if (u->views == 0 && (rc = lam_store_add_url(c->store, d->url, err, sizeof(err))) == 0)
			u->views = 1;
		if (rc == 0 && w->latest == 0)
			rc = lam_store_realtime_get(c->store, d->url, d->bucket, &w->views, err,
			                            sizeof(err));
		int64_t latest = d->latest > w->latest ? d->latest : w->latest;
		if (rc == 0 &&
		    lam_store_realtime_put(c->store, d->url, d->bucket, w->views + d->views, latest,
		                           err, sizeof(err)) == 0) {
			w->views += d->views;
			w->latest = latest > 0 ? latest : 1;
			return;
		}
		if (attempt % 20 == 0)
			fprintf(stderr, "count: writing %s bucket %lld: %s (retrying)\n", d->url,
			        (long long)d->bucket, err);
		pause_ms(50);
	}
}

static void *writer_main(void *arg)
{
	struct counter *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && (c->handed == NULL || c->done))
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		struct batch *b = c->handed;
		pthread_mutex_unlock(&c->mu);
		for (size_t i = 0; i < b->deltas.cap; i++)
			if (b->deltas.v[i].used)
				write_key(c, &b->deltas.v[i]);
		pthread_mutex_lock(&c->mu);
		c->done = true;
	}
	pthread_mutex_unlock(&c->mu);
	lam_store_close(c->store);
	return NULL;
}

/* ---- the bolt ---- */

static void *count_prepare(stm_ctx *ctx, void *arg)
{
	(void)arg;
	struct counter *c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	snprintf(c->master, sizeof(c->master), "%s", stm_ctx_conf(ctx, SPEED_CONF_MASTER, ""));
	snprintf(c->cassandra, sizeof(c->cassandra), "%s",
	         stm_ctx_conf(ctx, SPEED_CONF_CASSANDRA, "cassandra"));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->writer, NULL, writer_main, c) != 0)
		abort();
	return c;
}

static void batch_free(struct batch *b, stm_ctx *ctx, bool ack)
{
	for (size_t i = 0; i < b->ntuples; i++) {
		if (ack)
			stm_ack(ctx, b->tuples[i]);
		stm_tuple_free(b->tuples[i]);
	}
	free(b->tuples);
	table_clear(&b->deltas);
}

static void on_tick(stm_ctx *ctx, struct counter *c)
{
	pthread_mutex_lock(&c->mu);
	struct batch *finished = c->handed != NULL && c->done ? c->handed : NULL;
	if (finished != NULL)
		c->handed = NULL;
	if (c->handed == NULL && c->pending.ntuples > 0) {
		struct batch *b = malloc(sizeof(*b));
		if (b != NULL) {
			*b = c->pending;
			memset(&c->pending, 0, sizeof(c->pending));
			c->handed = b;
			c->done = false;
			pthread_cond_signal(&c->cv);
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (finished != NULL) {
		batch_free(finished, ctx, true);
		free(finished);
	}
}

static void count_execute(stm_ctx *ctx, void *state, const stm_tuple *t)
{
	struct counter *c = state;
	if (stm_tuple_is_tick(t)) {
		on_tick(ctx, c);
		return;
	}
	size_t len;
	const char *url = stm_tuple_string(t, 0, &len);
	if (!lam_url_valid(url, len)) {
		stm_fail(ctx, t);
		return;
	}
	struct batch *b = &c->pending;
	if (b->ntuples == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		stm_tuple **v = realloc(b->tuples, cap * sizeof(*v));
		if (v == NULL) {
			stm_fail(ctx, t);
			return;
		}
		b->tuples = v;
		b->cap = cap;
	}
	struct entry *e = table_get(&b->deltas, url, len, stm_tuple_int(t, 1));
	stm_tuple *kept = e != NULL ? stm_tuple_keep(t) : NULL;
	if (kept == NULL) {
		stm_fail(ctx, t);
		return;
	}
	e->views++;
	int64_t when = stm_tuple_int(t, 2);
	if (when > e->latest)
		e->latest = when;
	b->tuples[b->ntuples++] = kept;
}

static void count_cleanup(stm_ctx *ctx, void *state)
{
	struct counter *c = state;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->writer, NULL);
	/* Not written: neither acked nor failed, so they time out and are replayed. */
	if (c->handed != NULL) {
		batch_free(c->handed, ctx, c->done);
		free(c->handed);
	}
	batch_free(&c->pending, ctx, false);
	table_clear(&c->written);
	table_clear(&c->urls);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

const stm_bolt_def speed_count_bolt = {
    .prepare = count_prepare, .execute = count_execute, .cleanup = count_cleanup};
