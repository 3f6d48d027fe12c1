/* fetcher_internal.h — what the fetcher's files share (agent/fetcher.h is the API):
 * fetcher.c runs the fetches, fetcher_io.c downloads, copies and extracts,
 * fetcher_cache.c keeps the agent-wide cache. Everything here runs on fetch threads;
 * every function that fails writes the reason (without the URI) into err. */
#ifndef AGENT_FETCHER_INTERNAL_H
#define AGENT_FETCHER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "actor/future.h"

/* One fetch's context: where its log goes (may be NULL) and how it learns that it
 * should stop (its future was discarded, or the agent is stopping). */
struct fetch_ctx {
	FILE *log;
	actor_future *future;
	const atomic_bool *stopping;
};

/* True once the fetch should give up. */
bool fetch_aborted(const struct fetch_ctx *ctx);
/* Appends one line to the fetch's log, with a timestamp. */
void fetch_logf(const struct fetch_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- fetcher_io.c ----------------------------------------------------------------- */

/* Initialises libcurl once for the process. */
void fetch_io_init(void);
/* The local path a URI names (an absolute path, or file:///path), or NULL when it is
 * a URL of another kind. Points into uri. */
const char *fetch_local_path(const char *uri);
/* Puts what uri names (a local file, or an http(s) URL) at dst (mode 0644). 0, or -1. */
int fetch_download(const struct fetch_ctx *ctx, const char *uri, const char *dst, char *err,
                   size_t errlen);
/* Copies the regular file src to dst (created with mode). 0, or -1. */
int fetch_copy(const char *src, const char *dst, mode_t mode, char *err, size_t errlen);
/* Whether a file of this name is an archive the fetcher extracts. */
bool fetch_is_archive(const char *name);
/* Unpacks archive into dir (no entry may leave it). 0, or -1. */
int fetch_extract(const struct fetch_ctx *ctx, const char *archive, const char *dir, char *err,
                  size_t errlen);

/* ---- fetcher_cache.c -------------------------------------------------------------- */

struct fetch_cache;

/* The cache in dir (created; files a previous run left are removed), of capacity
 * bytes. NULL with err on failure. */
struct fetch_cache *fetch_cache_alloc(const char *dir, uint64_t capacity, char *err, size_t errlen);
void fetch_cache_free(struct fetch_cache *c);
/* Puts uri's content at dst: from the cache if it holds uri, else downloaded into the
 * cache first (evicting least recently used entries to make room). Concurrent gets of
 * one uri download it once. *hit says whether it was there already. 0, or -1. */
int fetch_cache_get(struct fetch_cache *c, const struct fetch_ctx *ctx, const char *uri,
                    const char *dst, bool *hit, char *err, size_t errlen);

#endif
