/* fetcher.h — fetches an executor's CommandInfo.uris into its sandbox before it
 * starts, as Mesos's fetcher does.
 *
 * A URI is a local path (absolute, or a file:// URL) or an http:// or https:// URL.
 * Each lands in the sandbox under its base name (or URI.output_file, a path inside
 * the sandbox); with URI.executable it is made executable; with URI.extract (the
 * default) an archive — .tar, .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz, .zip — is
 * also unpacked into the sandbox. With URI.cache the download goes through the
 * agent-wide cache (--fetcher-cache-dir, at most --fetcher-cache-size bytes, least
 * recently used entries evicted first): a cached URI is downloaded once and copied
 * into each sandbox that asks for it. The cache starts empty with every agent start.
 *
 * A fetch runs on a thread of its own, never in the agent's actor; it appends its log
 * to the sandbox's stderr (where Mesos's fetcher writes its output too). */
#ifndef AGENT_FETCHER_H
#define AGENT_FETCHER_H

#include <stddef.h>
#include <stdint.h>

#include "actor/future.h"
#include "proto/plexus.pb-c.h"

struct agent_fetcher;

/* Makes the agent's fetcher: cache_dir is created (and emptied of a previous run's
 * entries); cache_size is the cache's capacity in bytes. Returns 0 and *out, or
 * non-zero with err saying why. */
int agent_fetcher_alloc(const char *cache_dir, uint64_t cache_size, struct agent_fetcher **out,
                        char *err, size_t errlen);

/* Aborts the fetches still running (their futures fail), waits for their threads and
 * frees everything. NULL is a no-op. */
void agent_fetcher_free(struct agent_fetcher *f);

/* Starts fetching every URI of cmd (copied: the caller keeps cmd) into sandbox.
 * Returns a future (new reference): READY (no value) once all are in place, FAILED
 * with a text that names the URI and the reason ("Failed to fetch 'http://h/x.tgz':
 * HTTP response code 404") at the first that cannot be fetched. Discarding the future
 * aborts the fetch. Never NULL. */
actor_future *agent_fetch(struct agent_fetcher *f, const Plexus__CommandInfo *cmd,
                          const char *sandbox);

/* Parses a size with Mesos's units ("512MB", "2GB", "100KB", "10B"; a bare number is
 * bytes) into *bytes. false when text is not a size. */
bool agent_fetcher_parse_size(const char *text, uint64_t *bytes);

#endif
