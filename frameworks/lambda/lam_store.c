/* lam_store.c — see lam_store.h. Statements are CQL text built here from validated
 * URLs (lam_url_valid: no quotes) and integers, so nothing a user types is spliced in. */
#include "lam_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cas_client.h"
#include "cas_discover.h"
#include "cas_session.h"
#include "lam_dataset.h"

struct lam_store {
	cas_client *client;
	cas_session *session;
	bool owns_client;
};

lam_store *lam_store_open(const char *master, const char *name, char *err, size_t errlen)
{
	cas_discovery d = {0};
	if (cas_discover(master, name, &d, err, errlen) != 0)
		return NULL;
	if (d.nnodes == 0) {
		snprintf(err, errlen, "the %s framework has no running node yet", name);
		cas_discovery_fini(&d);
		return NULL;
	}
	cas_client *c = cas_client_connect(d.nodes, 5000, err, errlen);
	cas_discovery_fini(&d);
	if (c == NULL)
		return NULL;
	lam_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->session = cas_session_alloc(c)) == NULL) {
		free(s);
		cas_client_free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->client = c;
	s->owns_client = true;
	cas_session_set_consistency(s->session, CAS_QUORUM);
	return s;
}

lam_store *lam_store_clone(lam_store *s)
{
	lam_store *n = calloc(1, sizeof(*n));
	if (n == NULL || (n->session = cas_session_alloc(s->client)) == NULL) {
		free(n);
		return NULL;
	}
	n->client = s->client;
	cas_session_set_consistency(n->session, CAS_QUORUM);
	return n;
}

void lam_store_close(lam_store *s)
{
	if (s == NULL)
		return;
	cas_session_free(s->session);
	if (s->owns_client)
		cas_client_free(s->client);
	free(s);
}

/* Runs a printf-built statement; rows in *out when out is not NULL. */
__attribute__((format(printf, 5, 6))) static int run(lam_store *s, cas_result *out, char *err,
                                                     size_t errlen, const char *fmt, ...)
{
	char cql[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cql, sizeof(cql), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cql)) {
		snprintf(err, errlen, "statement too long");
		return -1;
	}
	cas_result r;
	if (cas_session_execute(s->session, cql, &r, err, errlen) != 0)
		return -1;
	if (out != NULL)
		*out = r;
	else
		cas_result_fini(&r);
	return 0;
}

static bool check_url(const char *url, char *err, size_t errlen)
{
	if (url != NULL && lam_url_valid(url, strlen(url)))
		return true;
	snprintf(err, errlen, "not a URL path: '%.64s' (a path such as /home: printable, no "
	                      "spaces or quotes)", url ? url : "");
	return false;
}

static int64_t cell_int(const cas_result *r, size_t row, size_t col)
{
	const cas_value *v = &r->values[row * r->ncols + col];
	return v->null ? 0 : v->i;
}

int lam_store_create_schema(lam_store *s, int rf, char *err, size_t errlen)
{
	if (run(s, NULL, err, errlen,
	        "CREATE KEYSPACE IF NOT EXISTS lambda WITH replication = {'class': "
	        "'SimpleStrategy', 'replication_factor': %d}", rf) != 0)
		return -1;
	static const char *const tables[] = {
	    "CREATE TABLE IF NOT EXISTS lambda.realtime (url text, bucket bigint, views bigint, "
	    "latest bigint, PRIMARY KEY (url, bucket))",
	    "CREATE TABLE IF NOT EXISTS lambda.batch (url text, bucket bigint, views bigint, "
	    "PRIMARY KEY (url, bucket))",
	    "CREATE TABLE IF NOT EXISTS lambda.batch_runs (name text, cutoff bigint, ran_at bigint, "
	    "took_ms bigint, events bigint, runs bigint, PRIMARY KEY (name))",
	    "CREATE TABLE IF NOT EXISTS lambda.urls (shard int, url text, PRIMARY KEY (shard, url))",
	};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (run(s, NULL, err, errlen, "%s", tables[i]) != 0)
			return -1;
	return 0;
}

int lam_store_realtime_get(lam_store *s, const char *url, int64_t bucket, int64_t *views,
                           char *err, size_t errlen)
{
	cas_result r;
	if (!check_url(url, err, errlen) ||
	    run(s, &r, err, errlen, "SELECT views FROM lambda.realtime WHERE url = '%s' AND bucket = %lld",
	        url, (long long)bucket) != 0)
		return -1;
	*views = r.nrows > 0 ? cell_int(&r, 0, 0) : 0;
	cas_result_fini(&r);
	return 0;
}

int lam_store_realtime_put(lam_store *s, const char *url, int64_t bucket, int64_t views,
                           int64_t latest_ms, char *err, size_t errlen)
{
	if (!check_url(url, err, errlen))
		return -1;
	return run(s, NULL, err, errlen,
	           "INSERT INTO lambda.realtime (url, bucket, views, latest) VALUES ('%s', %lld, "
	           "%lld, %lld)",
	           url, (long long)bucket, (long long)views, (long long)latest_ms);
}

int lam_store_add_url(lam_store *s, const char *url, char *err, size_t errlen)
{
	if (!check_url(url, err, errlen))
		return -1;
	return run(s, NULL, err, errlen, "INSERT INTO lambda.urls (shard, url) VALUES (0, '%s')", url);
}

int lam_store_batch_put(lam_store *s, const char *url, int64_t bucket, int64_t views, char *err,
                        size_t errlen)
{
	if (!check_url(url, err, errlen))
		return -1;
	return run(s, NULL, err, errlen,
	           "INSERT INTO lambda.batch (url, bucket, views) VALUES ('%s', %lld, %lld)", url,
	           (long long)bucket, (long long)views);
}

int lam_store_batch_info(lam_store *s, lam_batch_info *out, char *err, size_t errlen)
{
	cas_result r;
	memset(out, 0, sizeof(*out));
	if (run(s, &r, err, errlen,
	        "SELECT cutoff, ran_at, took_ms, events, runs FROM lambda.batch_runs WHERE name = "
	        "'latest'") != 0)
		return -1;
	if (r.nrows > 0) {
		out->cutoff = cell_int(&r, 0, 0);
		out->ran_at = cell_int(&r, 0, 1);
		out->took_ms = cell_int(&r, 0, 2);
		out->events = cell_int(&r, 0, 3);
		out->runs = cell_int(&r, 0, 4);
	}
	cas_result_fini(&r);
	return 0;
}

int lam_store_batch_finish(lam_store *s, const lam_batch_info *b, char *err, size_t errlen)
{
	return run(s, NULL, err, errlen,
	           "INSERT INTO lambda.batch_runs (name, cutoff, ran_at, took_ms, events, runs) "
	           "VALUES ('latest', %lld, %lld, %lld, %lld, %lld)",
	           (long long)b->cutoff, (long long)b->ran_at, (long long)b->took_ms,
	           (long long)b->events, (long long)b->runs);
}

int lam_store_realtime_drop(lam_store *s, const char *url, int64_t cutoff, char *err,
                            size_t errlen)
{
	cas_result r;
	if (!check_url(url, err, errlen) ||
	    run(s, &r, err, errlen, "SELECT bucket FROM lambda.realtime WHERE url = '%s' AND bucket < %lld",
	        url, (long long)cutoff) != 0)
		return -1;
	int dropped = 0;
	for (size_t i = 0; i < r.nrows; i++) {
		if (run(s, NULL, err, errlen, "DELETE FROM lambda.realtime WHERE url = '%s' AND bucket = %lld",
		        url, (long long)cell_int(&r, i, 0)) != 0) {
			cas_result_fini(&r);
			return -1;
		}
		dropped++;
	}
	cas_result_fini(&r);
	return dropped;
}

int lam_store_query(lam_store *s, const char *url, lam_answer *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!check_url(url, err, errlen))
		return -1;
	snprintf(out->url, sizeof(out->url), "%s", url);
	if (lam_store_batch_info(s, &out->batch, err, errlen) != 0)
		return -1;
	cas_result r;
	if (run(s, &r, err, errlen, "SELECT bucket, views FROM lambda.batch WHERE url = '%s' AND bucket < %lld",
	        url, (long long)out->batch.cutoff) != 0)
		return -1;
	for (size_t i = 0; i < r.nrows; i++)
		out->batch_views += cell_int(&r, i, 1);
	cas_result_fini(&r);
	if (run(s, &r, err, errlen, "SELECT bucket, views, latest FROM lambda.realtime WHERE url = '%s'",
	        url) != 0)
		return -1;
	for (size_t i = 0; i < r.nrows; i++) {
		int64_t views = cell_int(&r, i, 1), latest = cell_int(&r, i, 2);
		if (cell_int(&r, i, 0) < out->batch.cutoff) {
			out->realtime_stale += views;
			continue;
		}
		out->realtime_views += views;
		if (latest > out->freshest_ms)
			out->freshest_ms = latest;
	}
	cas_result_fini(&r);
	out->views = out->batch_views + out->realtime_views;
	return 0;
}

int lam_store_urls(lam_store *s, char ***urls, size_t *n, char *err, size_t errlen)
{
	cas_result r;
	*urls = NULL;
	*n = 0;
	if (run(s, &r, err, errlen, "SELECT url FROM lambda.urls WHERE shard = 0") != 0)
		return -1;
	char **v = calloc(r.nrows ? r.nrows : 1, sizeof(*v));
	if (v == NULL) {
		cas_result_fini(&r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < r.nrows; i++) {
		const cas_value *x = &r.values[i * r.ncols];
		v[i] = strndup(x->null ? "" : (const char *)x->bytes, x->null ? 0 : x->len);
	}
	*urls = v;
	*n = r.nrows;
	cas_result_fini(&r);
	return 0;
}

void lam_store_urls_free(char **urls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
}

char *lam_answer_json(const lam_answer *a)
{
	json_t *j = json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}}", "url", a->url, "views",
	    (json_int_t)a->views, "batch_views", (json_int_t)a->batch_views, "realtime_views",
	    (json_int_t)a->realtime_views, "realtime_stale_views", (json_int_t)a->realtime_stale,
	    "freshest_event_ms", (json_int_t)a->freshest_ms, "batch", "cutoff_bucket",
	    (json_int_t)a->batch.cutoff, "ran_at_ms", (json_int_t)a->batch.ran_at, "took_ms",
	    (json_int_t)a->batch.took_ms, "events", (json_int_t)a->batch.events, "runs",
	    (json_int_t)a->batch.runs);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}
