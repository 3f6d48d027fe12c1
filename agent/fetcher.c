/* fetcher.c — the agent's fetcher (agent/fetcher.h): one thread per fetch, which
 * places each URI in the sandbox (through the cache when asked), extracts archives,
 * sets the executable bit, logs to the sandbox's stderr and completes a promise. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "actor/log.h"
#include "agent/fetcher.h"
#include "agent/fetcher_internal.h"
#include "agent/paths.h"
#include "plexus/message.h"

struct agent_fetcher {
	struct fetch_cache *cache;
	atomic_bool stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a fetch thread ended */
	size_t running;
};

struct fetch_job {
	struct agent_fetcher *f;
	Plexus__CommandInfo *cmd; /* owned copy */
	char *sandbox;
	actor_promise *promise;
	actor_future *future; /* our reference, to see a discard */
};

bool fetch_aborted(const struct fetch_ctx *ctx)
{
	return atomic_load(ctx->stopping) ||
	       actor_future_state(ctx->future) != ACTOR_FUTURE_PENDING;
}

void fetch_logf(const struct fetch_ctx *ctx, const char *fmt, ...)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (ctx->log == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(ctx->log, "I%s.%06ld fetcher] ", stamp, ts.tv_nsec / 1000);
	va_start(ap, fmt);
	vfprintf(ctx->log, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->log);
	fflush(ctx->log);
}

/* ---- one URI ---------------------------------------------------------------------- */

/* The name a URI lands under: its path's last component (without a query or a
 * fragment), or output_file. NULL with err when there is none fit for the sandbox. */
static char *dest_name(const Plexus__CommandInfo__URI *u, char *err, size_t errlen)
{
	if (u->output_file != NULL && *u->output_file != '\0') {
		const char *o = u->output_file;
		bool bad = o[0] == '/' || strcmp(o, "..") == 0 || strncmp(o, "../", 3) == 0 ||
		           strstr(o, "/../") != NULL ||
		           (strlen(o) >= 3 && strcmp(o + strlen(o) - 3, "/..") == 0);
		if (bad) {
			snprintf(err, errlen,
			         "the output_file '%s' is not a path inside the sandbox", o);
			return NULL;
		}
		return strdup(o);
	}
	const char *v = u->value;
	const char *path = fetch_local_path(v);
	if (path == NULL) {
		const char *scheme = strstr(v, "://");
		path = scheme != NULL ? strchr(scheme + 3, '/') : v;
		if (path == NULL)
			path = "";
	}
	size_t end = strcspn(path, fetch_local_path(v) ? "" : "?#");
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (start == end || (end - start == 2 && strncmp(path + start, "..", 2) == 0) ||
	    (end - start == 1 && path[start] == '.')) {
		snprintf(err, errlen, "it names no file (give output_file)");
		return NULL;
	}
	return strndup(path + start, end - start);
}

/* Creates the directories leading to the sandbox-relative file name. */
static int make_parents(const char *sandbox, const char *name, char *err, size_t errlen)
{
	const char *slash = strrchr(name, '/');
	if (slash == NULL)
		return 0;
	char *dir = NULL;
	if (asprintf(&dir, "%s/%.*s", sandbox, (int)(slash - name), name) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = agent_mkdirs(dir);
	if (rc != 0)
		snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(rc));
	free(dir);
	return rc != 0 ? -1 : 0;
}

static int fetch_one(struct fetch_job *job, const struct fetch_ctx *ctx,
                     const Plexus__CommandInfo__URI *u, char *err, size_t errlen)
{
	char *name = dest_name(u, err, errlen);
	char *dst = NULL;
	int rc = -1;

	if (name == NULL)
		return -1;
	if (asprintf(&dst, "%s/%s", job->sandbox, name) < 0) {
		dst = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (make_parents(job->sandbox, name, err, errlen) != 0)
		goto out;
	fetch_logf(ctx, "Fetching URI '%s'", u->value);
	if (u->has_cache && u->cache && job->f->cache != NULL) {
		bool hit;
		rc = fetch_cache_get(job->f->cache, ctx, u->value, dst, &hit, err, errlen);
	} else {
		rc = fetch_download(ctx, u->value, dst, err, errlen);
	}
	if (rc != 0)
		goto out;
	bool executable = u->has_executable && u->executable;
	/* Mesos: an executable is never extracted; extract is on unless turned off. */
	if (executable) {
		if (chmod(dst, 0755) != 0) {
			snprintf(err, errlen, "cannot make '%s' executable: %s", dst,
			         strerror(errno));
			rc = -1;
			goto out;
		}
		fetch_logf(ctx, "Made '%s' executable", dst);
	} else if ((!u->has_extract || u->extract) && fetch_is_archive(name)) {
		char msg[512];
		if (fetch_extract(ctx, dst, job->sandbox, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "Failed to extract '%s': %s", name, msg);
			rc = -1;
			goto out;
		}
	}
	fetch_logf(ctx, "Fetched '%s' to '%s'", u->value, dst);
out:
	free(name);
	free(dst);
	return rc;
}

/* ---- the thread ------------------------------------------------------------------- */

static void *job_main(void *arg)
{
	struct fetch_job *job = arg;
	struct agent_fetcher *f = job->f;
	char path[4200], err[1024] = "", why[1400] = "";
	const char *failed = NULL;

	snprintf(path, sizeof(path), "%s/stderr", job->sandbox);
	struct fetch_ctx ctx = {
	    .log = fopen(path, "ae"), .future = job->future, .stopping = &f->stopping};
	for (size_t i = 0; i < job->cmd->n_uris && failed == NULL; i++) {
		const Plexus__CommandInfo__URI *u = job->cmd->uris[i];
		if (fetch_one(job, &ctx, u, err, sizeof(err)) != 0)
			failed = u->value;
	}
	if (failed != NULL) {
		snprintf(why, sizeof(why), "Failed to fetch '%s': %s", failed, err);
		fetch_logf(&ctx, "%s", why);
		actor_promise_fail(job->promise, ACTOR_EFAILED, why);
	} else {
		fetch_logf(&ctx, "Successfully fetched all URIs into '%s'", job->sandbox);
		actor_promise_set(job->promise, NULL, NULL);
	}
	if (ctx.log != NULL)
		fclose(ctx.log);
	actor_promise_free(job->promise);
	actor_future_unref(job->future);
	px_message_free(&job->cmd->base);
	free(job->sandbox);
	free(job);
	/* The last touch of f: once running drops, agent_fetcher_free may free it. */
	pthread_mutex_lock(&f->mu);
	f->running--;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

actor_future *agent_fetch(struct agent_fetcher *f, const Plexus__CommandInfo *cmd,
                          const char *sandbox)
{
	struct fetch_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t t;

	if (job == NULL)
		return actor_future_failed(ACTOR_ENOMEM, "out of memory");
	job->f = f;
	job->cmd = (Plexus__CommandInfo *)px_message_copy(&cmd->base);
	job->sandbox = strdup(sandbox);
	job->promise = actor_promise_alloc();
	job->future = job->promise ? actor_promise_future(job->promise) : NULL;
	actor_future *out = job->future;
	actor_future_ref(out);
	if (job->cmd == NULL || job->sandbox == NULL || job->future == NULL) {
		actor_future_unref(out);
		goto oom;
	}
	pthread_mutex_lock(&f->mu);
	f->running++;
	pthread_mutex_unlock(&f->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, job_main, job);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_mutex_lock(&f->mu);
		f->running--;
		pthread_mutex_unlock(&f->mu);
		actor_promise_fail(job->promise, ACTOR_EIO, "cannot start a fetch thread");
		actor_promise_free(job->promise);
		actor_future_unref(job->future);
		px_message_free(&job->cmd->base);
		free(job->sandbox);
		free(job);
		return out;
	}
	return out;
oom:
	actor_future_unref(job->future);
	actor_promise_free(job->promise);
	if (job->cmd != NULL)
		px_message_free(&job->cmd->base);
	free(job->sandbox);
	free(job);
	return actor_future_failed(ACTOR_ENOMEM, "out of memory");
}

int agent_fetcher_alloc(const char *cache_dir, uint64_t cache_size, struct agent_fetcher **out,
                        char *err, size_t errlen)
{
	struct agent_fetcher *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fetch_io_init();
	f->cache = fetch_cache_alloc(cache_dir, cache_size, err, errlen);
	if (f->cache == NULL) {
		free(f);
		return -1;
	}
	atomic_init(&f->stopping, false);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	*out = f;
	return 0;
}

void agent_fetcher_free(struct agent_fetcher *f)
{
	if (f == NULL)
		return;
	atomic_store(&f->stopping, true);
	pthread_mutex_lock(&f->mu);
	while (f->running > 0)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	fetch_cache_free(f->cache);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

bool agent_fetcher_parse_size(const char *text, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {{"", 1},
	             {"B", 1},
	             {"KB", 1024.0},
	             {"MB", 1024.0 * 1024},
	             {"GB", 1024.0 * 1024 * 1024},
	             {"TB", 1024.0 * 1024 * 1024 * 1024}};
	char *end = NULL;

	if (text == NULL || !isdigit((unsigned char)text[0]))
		return false;
	double v = strtod(text, &end);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		double b = floor(v * units[i].scale);
		if (!isfinite(b) || b < 0 || b > 1.8e19)
			return false;
		*bytes = (uint64_t)b;
		return true;
	}
	return false;
}
