/* fetcher_cache.c — the agent-wide fetcher cache (agent/fetcher_internal.h).
 *
 * Entries are keyed by URI and live as files c<N> in the cache directory. An entry is
 * first DOWNLOADING (one fetch thread fills it; others asking for the same URI wait
 * for it), then READY. Space is reserved once the download's size is known: least
 * recently used READY entries that no fetch is copying from are evicted until the new
 * one fits; if it cannot fit, the fetch fails (the cache is too small). Mesos's cache
 * is not recovered after an agent restart either: the directory starts empty. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/fetcher_internal.h"
#include "agent/paths.h"

struct entry {
	char *uri;
	char *path;
	uint64_t size;
	uint64_t last_use; /* a logical clock: larger is more recent */
	int readers;       /* fetches copying out of it right now */
	bool ready;
	struct entry *next;
};

struct fetch_cache {
	char *dir;
	uint64_t capacity, used;
	uint64_t clock, seq;
	struct entry *entries;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* an entry became READY or went away */
};

static void entry_free(struct entry *e)
{
	free(e->uri);
	free(e->path);
	free(e);
}

static void entry_unlink(struct fetch_cache *c, struct entry *e)
{
	for (struct entry **p = &c->entries; *p != NULL; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			return;
		}
}

struct fetch_cache *fetch_cache_alloc(const char *dir, uint64_t capacity, char *err, size_t errlen)
{
	int rc = agent_mkdirs(dir);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create the fetcher cache dir '%s': %s", dir,
		         strerror(rc));
		return NULL;
	}
	/* Only files named like ours go: the directory might be shared by mistake. */
	DIR *d = opendir(dir);
	for (struct dirent *de; d != NULL && (de = readdir(d)) != NULL;) {
		if (de->d_name[0] != 'c' || strspn(de->d_name + 1, "0123456789.tmp") == 0)
			continue;
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			unlink(path);
	}
	if (d != NULL)
		closedir(d);
	struct fetch_cache *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->dir = strdup(dir)) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->capacity = capacity;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	return c;
}

void fetch_cache_free(struct fetch_cache *c)
{
	if (c == NULL)
		return;
	for (struct entry *e = c->entries, *next; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->dir);
	free(c);
}

static struct entry *find(struct fetch_cache *c, const char *uri)
{
	for (struct entry *e = c->entries; e != NULL; e = e->next)
		if (strcmp(e->uri, uri) == 0)
			return e;
	return NULL;
}

/* Makes room for size bytes by evicting idle entries, oldest use first. Under mu. */
static bool reserve(struct fetch_cache *c, uint64_t size, const struct fetch_ctx *ctx)
{
	while (c->used + size > c->capacity) {
		struct entry *victim = NULL;
		for (struct entry *e = c->entries; e != NULL; e = e->next)
			if (e->ready && e->readers == 0 &&
			    (victim == NULL || e->last_use < victim->last_use))
				victim = e;
		if (victim == NULL)
			return false;
		fetch_logf(ctx, "Evicting '%s' (%llu bytes) from the fetcher cache", victim->uri,
		           (unsigned long long)victim->size);
		unlink(victim->path);
		c->used -= victim->size;
		entry_unlink(c, victim);
		entry_free(victim);
	}
	c->used += size;
	return true;
}

/* Downloads uri into a new entry e (DOWNLOADING, ours alone). Takes and drops mu. */
static int fill(struct fetch_cache *c, struct entry *e, const struct fetch_ctx *ctx, char *err,
                size_t errlen)
{
	char tmp[4200];
	struct stat st;

	pthread_mutex_unlock(&c->mu);
	snprintf(tmp, sizeof(tmp), "%s.tmp", e->path);
	int rc = fetch_download(ctx, e->uri, tmp, err, errlen);
	if (rc == 0 && stat(tmp, &st) != 0) {
		snprintf(err, errlen, "cannot stat '%s': %s", tmp, strerror(errno));
		rc = -1;
	}
	pthread_mutex_lock(&c->mu);
	if (rc == 0 && !reserve(c, (uint64_t)st.st_size, ctx)) {
		snprintf(err, errlen,
		         "the fetcher cache is too small: %llu bytes do not fit in %llu "
		         "(--fetcher-cache-size), %llu of them in use",
		         (unsigned long long)st.st_size, (unsigned long long)c->capacity,
		         (unsigned long long)c->used);
		rc = -1;
	}
	if (rc == 0 && rename(tmp, e->path) != 0) {
		snprintf(err, errlen, "cannot move '%s' into the cache: %s", tmp, strerror(errno));
		c->used -= (uint64_t)st.st_size;
		rc = -1;
	}
	if (rc != 0) {
		unlink(tmp);
		entry_unlink(c, e);
		entry_free(e);
	} else {
		e->size = (uint64_t)st.st_size;
		e->ready = true;
		fetch_logf(ctx, "Cached '%s' as '%s' (%llu bytes)", e->uri, e->path,
		           (unsigned long long)e->size);
	}
	pthread_cond_broadcast(&c->cv);
	return rc;
}

int fetch_cache_get(struct fetch_cache *c, const struct fetch_ctx *ctx, const char *uri,
                    const char *dst, bool *hit, char *err, size_t errlen)
{
	struct entry *e;

	*hit = true;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (fetch_aborted(ctx)) {
			pthread_mutex_unlock(&c->mu);
			snprintf(err, errlen, "the fetch was aborted");
			return -1;
		}
		e = find(c, uri);
		if (e == NULL) {
			/* Ours to download. */
			*hit = false;
			e = calloc(1, sizeof(*e));
			char path[4096];
			snprintf(path, sizeof(path), "%s/c%llu", c->dir,
			         (unsigned long long)++c->seq);
			if (e == NULL || (e->uri = strdup(uri)) == NULL ||
			    (e->path = strdup(path)) == NULL) {
				if (e != NULL)
					entry_free(e);
				pthread_mutex_unlock(&c->mu);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			e->next = c->entries;
			c->entries = e;
			if (fill(c, e, ctx, err, errlen) != 0) {
				pthread_mutex_unlock(&c->mu);
				return -1;
			}
		}
		if (e->ready)
			break;
		/* Another fetch downloads it: wait, looking up now and then whether this
		 * one was aborted. */
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100 * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &t);
	}
	e->readers++;
	e->last_use = ++c->clock;
	char *src = strdup(e->path);
	pthread_mutex_unlock(&c->mu);
	int rc = -1;
	if (src == NULL) {
		snprintf(err, errlen, "out of memory");
	} else {
		if (*hit)
			fetch_logf(ctx, "Found '%s' in the fetcher cache as '%s'", uri, src);
		rc = fetch_copy(src, dst, 0644, err, errlen);
		free(src);
	}
	pthread_mutex_lock(&c->mu);
	e->readers--;
	pthread_mutex_unlock(&c->mu);
	return rc;
}
