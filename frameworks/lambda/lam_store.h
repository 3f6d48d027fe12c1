/* lam_store.h — the serving layer's tables in cassandra, and the merged query.
 *
 *   lambda.realtime (url, bucket, views, latest)   the speed layer's counts per bucket,
 *                                                  latest = newest event time counted
 *   lambda.batch    (url, bucket, views)           the batch layer's exact counts
 *   lambda.batch_runs (name, cutoff, ran_at, took_ms, events, runs)
 *                                                  row 'latest': the batch view covers
 *                                                  every bucket below cutoff
 *   lambda.urls     (shard, url)                   every URL seen (one partition)
 *
 * The merged count of a URL is the batch view below the cutoff plus the real-time view
 * at and after it; real-time rows older than the cutoff are ignored (and dropped by the
 * batch layer after each run). Every read and write is at QUORUM.
 *
 * A store is one CQL session: one thread uses it. lam_store_clone gives another thread
 * its own session on the same connection. */
#ifndef LAM_STORE_H
#define LAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lam_store lam_store;

/* Finds the cassandra framework called name through the master ("host:port") and
 * connects. NULL with err. */
lam_store *lam_store_open(const char *master, const char *name, char *err, size_t errlen);
/* A second session on s's connection (s must outlive it). */
lam_store *lam_store_clone(lam_store *s);
void lam_store_close(lam_store *s);

/* Creates the keyspace (replication factor rf) and tables if missing. 0 or -1. */
int lam_store_create_schema(lam_store *s, int rf, char *err, size_t errlen);

/* ---- the speed layer ---- */
/* The real-time count of (url, bucket): 0 with *views (0 when there is no row). */
int lam_store_realtime_get(lam_store *s, const char *url, int64_t bucket, int64_t *views,
                           char *err, size_t errlen);
int lam_store_realtime_put(lam_store *s, const char *url, int64_t bucket, int64_t views,
                           int64_t latest_ms, char *err, size_t errlen);
int lam_store_add_url(lam_store *s, const char *url, char *err, size_t errlen);

/* ---- the batch layer ---- */
int lam_store_batch_put(lam_store *s, const char *url, int64_t bucket, int64_t views, char *err,
                        size_t errlen);
typedef struct lam_batch_info {
	int64_t cutoff;  /* buckets below it are in the batch view; 0 = no run yet */
	int64_t ran_at;  /* when the last run finished (ms since the epoch) */
	int64_t took_ms; /* how long it took */
	int64_t events;  /* events it counted */
	int64_t runs;    /* runs so far */
} lam_batch_info;
int lam_store_batch_info(lam_store *s, lam_batch_info *out, char *err, size_t errlen);
/* Publishes a finished run (the cutoff moves only once all its rows are written). */
int lam_store_batch_finish(lam_store *s, const lam_batch_info *run, char *err, size_t errlen);
/* Deletes real-time rows of url older than cutoff. The number deleted, or -1. */
int lam_store_realtime_drop(lam_store *s, const char *url, int64_t cutoff, char *err,
                            size_t errlen);

/* ---- the serving layer ---- */
typedef struct lam_answer {
	char url[128];
	int64_t views;          /* merged */
	int64_t batch_views;    /* from the batch view, below the cutoff */
	int64_t realtime_views; /* from the real-time view, at and after the cutoff */
	int64_t realtime_stale; /* real-time views below the cutoff, ignored */
	int64_t freshest_ms;    /* newest event time counted by the speed layer (0: none) */
	lam_batch_info batch;
} lam_answer;
int lam_store_query(lam_store *s, const char *url, lam_answer *out, char *err, size_t errlen);
/* Every URL seen: *urls malloc'ed array of malloc'ed strings (lam_store_urls_free). */
int lam_store_urls(lam_store *s, char ***urls, size_t *n, char *err, size_t errlen);
void lam_store_urls_free(char **urls, size_t n);

/* The answer as JSON text (malloc'ed). */
char *lam_answer_json(const lam_answer *a);

#endif
