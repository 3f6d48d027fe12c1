/* metrics.c — the process-wide metric registry and /metrics/snapshot.
 *
 * Registration takes a mutex (rare); updates are lock-free atomics on the metric
 * itself (frequent, from any thread). Doubles are kept as their bit patterns in 64-bit
 * atomics so gauges and timers need no lock either. Metrics are never freed: handles
 * stay valid for the life of the process, which is what lets any thread keep one. */
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actor/metrics.h"
#include "actor/runtime.h"
#include "metrics_internal.h"

#define NAME_MAX_LEN 127

struct actor__net_stats actor__net_stats;

enum kind { COUNTER, GAUGE, TIMER };

struct metric {
	enum kind kind;
	struct metric *next;
	char name[NAME_MAX_LEN + 1];
};

struct actor_counter {
	struct metric m;
	_Atomic uint64_t value;
};

struct actor_gauge {
	struct metric m;
	_Atomic uint64_t bits; /* a double */
};

struct actor_timer {
	struct metric m;
	_Atomic uint64_t count;
	_Atomic uint64_t sum, last, min, max; /* doubles, in ms */
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct metric *registry;

static uint64_t d2b(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof(b));
	return b;
}

static double b2d(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof(d));
	return d;
}

/* Finds or creates the metric called name of the given kind and size. */
static struct metric *lookup(const char *name, enum kind kind, size_t size)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > NAME_MAX_LEN)
		return NULL;
	pthread_mutex_lock(&registry_mu);
	struct metric *m;
	for (m = registry; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			break;
	if (m != NULL && m->kind != kind)
		m = NULL;
	else if (m == NULL && (m = calloc(1, size)) != NULL) {
		m->kind = kind;
		strcpy(m->name, name);
		m->next = registry;
		registry = m;
	}
	pthread_mutex_unlock(&registry_mu);
	return m;
}

actor_counter *actor_counter_get(const char *name)
{
	return (actor_counter *)lookup(name, COUNTER, sizeof(actor_counter));
}

actor_gauge *actor_gauge_get(const char *name)
{
	return (actor_gauge *)lookup(name, GAUGE, sizeof(actor_gauge));
}

actor_timer *actor_timer_get(const char *name)
{
	actor_timer *t = (actor_timer *)lookup(name, TIMER, sizeof(actor_timer));
	return t;
}

void actor_counter_add(actor_counter *c, uint64_t n)
{
	if (c != NULL)
		atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void actor_counter_inc(actor_counter *c)
{
	actor_counter_add(c, 1);
}

uint64_t actor_counter_value(const actor_counter *c)
{
	return c ? atomic_load_explicit(&((actor_counter *)c)->value, memory_order_relaxed) : 0;
}

void actor_gauge_set(actor_gauge *g, double v)
{
	if (g != NULL)
		atomic_store_explicit(&g->bits, d2b(v), memory_order_relaxed);
}

void actor_gauge_add(actor_gauge *g, double delta)
{
	if (g == NULL)
		return;
	uint64_t old = atomic_load_explicit(&g->bits, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&g->bits, &old, d2b(b2d(old) + delta),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

double actor_gauge_value(const actor_gauge *g)
{
	return g ? b2d(atomic_load_explicit(&((actor_gauge *)g)->bits, memory_order_relaxed)) : 0.0;
}

/* Applies f(old, v) to a double held in an atomic, retrying on contention. */
static void update(_Atomic uint64_t *a, double v, int op)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
	for (;;) {
		double cur = b2d(old), next;
		if (op == 0)
			next = cur + v;
		else if (op < 0)
			next = v < cur ? v : cur;
		else
			next = v > cur ? v : cur;
		if (next == cur && op != 0)
			return;
		if (atomic_compare_exchange_weak_explicit(a, &old, d2b(next), memory_order_relaxed,
							  memory_order_relaxed))
			return;
	}
}

void actor_timer_record(actor_timer *t, double ms)
{
	if (t == NULL || !isfinite(ms))
		return;
	uint64_t n = atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed);
	atomic_store_explicit(&t->last, d2b(ms), memory_order_relaxed);
	update(&t->sum, ms, 0);
	if (n == 0) {
		/* The first sample seeds min (a zeroed min would stay 0 forever). Two first
		 * samples at once can both land here; the min update below settles it. */
		atomic_store_explicit(&t->min, d2b(ms), memory_order_relaxed);
	}
	update(&t->min, ms, -1);
	update(&t->max, ms, 1);
}

static void put_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void put_real(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, json_real(v));
}

char *actor_metrics_snapshot(void)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;

	actor_stats st = {0};
	if (actor_runtime_running())
		actor_runtime_stats(&st);
	put_u64(o, "actor/actors_alive", st.actors_alive);
	put_u64(o, "actor/actors_spawned", st.actors_spawned);
	put_u64(o, "actor/messages_sent", st.messages_sent);
	put_u64(o, "actor/messages_received", st.messages_received);
	put_u64(o, "actor/messages_dropped", st.messages_dropped);
	put_u64(o, "actor/mailbox_high_water", st.mailbox_high_water);

	struct actor__net_stats *n = &actor__net_stats;
#define NET(field) put_u64(o, "actor/" #field, atomic_load_explicit(&n->field, memory_order_relaxed))
	NET(bytes_in);
	NET(bytes_out);
	NET(frames_in);
	NET(frames_out);
	NET(frames_dropped);
	NET(connections_failed);
	NET(pb_decode_errors);
	NET(http_requests);
	NET(http_errors);
#undef NET
	int64_t open = atomic_load_explicit(&n->connections_open, memory_order_relaxed);
	put_u64(o, "actor/connections_open", open > 0 ? (uint64_t)open : 0);

	pthread_mutex_lock(&registry_mu);
	for (struct metric *m = registry; m != NULL; m = m->next) {
		char key[NAME_MAX_LEN + 16];
		if (m->kind == COUNTER) {
			put_u64(o, m->name, actor_counter_value((actor_counter *)m));
		} else if (m->kind == GAUGE) {
			put_real(o, m->name, actor_gauge_value((actor_gauge *)m));
		} else {
			actor_timer *t = (actor_timer *)m;
			uint64_t cnt = atomic_load_explicit(&t->count, memory_order_relaxed);
			double sum = b2d(atomic_load_explicit(&t->sum, memory_order_relaxed));
			snprintf(key, sizeof(key), "%s_count", m->name);
			put_u64(o, key, cnt);
			snprintf(key, sizeof(key), "%s_last_ms", m->name);
			put_real(o, key, b2d(atomic_load_explicit(&t->last, memory_order_relaxed)));
			snprintf(key, sizeof(key), "%s_mean_ms", m->name);
			put_real(o, key, cnt ? sum / (double)cnt : 0.0);
			snprintf(key, sizeof(key), "%s_min_ms", m->name);
			put_real(o, key, b2d(atomic_load_explicit(&t->min, memory_order_relaxed)));
			snprintf(key, sizeof(key), "%s_max_ms", m->name);
			put_real(o, key, b2d(atomic_load_explicit(&t->max, memory_order_relaxed)));
		}
	}
	pthread_mutex_unlock(&registry_mu);

	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}
