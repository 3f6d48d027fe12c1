/* routes.c — which actor answers which path, and the response type.
 *
 * Routes under an actor's id are kept by that id in a hash table; prefix routes, which
 * are few (an actor serving a path outside its id, or a subtree), in one list scanned
 * for the longest match. Both are under one mutex. A request looks its route up twice:
 * on the HTTP thread (to find the actor, or answer 404 early) and again inside the actor
 * right before the handler runs, because only that second look-up is ordered with the
 * actor's own route/unroute calls. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "actor/error.h"
#include "actor/future.h"
#include "actor/http.h"
#include "http/http_internal.h"

#define BUCKETS 1024u

struct route {
	char id[ACTOR_PID_ID_MAX + 1];
	char *path;
	actor_http_fn fn;
	void *arg;
	struct route *next;
};

struct prefix_route {
	char id[ACTOR_PID_ID_MAX + 1];
	char *prefix; /* "/quota"; "" for the route of every path ("/") */
	size_t len;
	actor_http_fn fn;
	void *arg;
	struct prefix_route *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct route *table[BUCKETS];
static struct prefix_route *prefixes;
/* Routes of both kinds: lets the end of an actor skip the lock when there are none. */
static _Atomic size_t nroutes;

static unsigned bucket(const char *id)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % BUCKETS;
}

int actor_http_route(actor_t *self, const char *path, actor_http_fn fn, void *arg)
{
	if (self == NULL || fn == NULL || path == NULL || path[0] != '/' || strchr(path, '?'))
		return ACTOR_EINVAL;
	if (actor_current() != self)
		return ACTOR_ESTATE;
	actor_pid pid = actor_self(self);
	unsigned b = bucket(pid.id);

	pthread_mutex_lock(&mu);
	for (struct route *r = table[b]; r != NULL; r = r->next)
		if (strcmp(r->id, pid.id) == 0 && strcmp(r->path, path) == 0) {
			r->fn = fn;
			r->arg = arg;
			pthread_mutex_unlock(&mu);
			return 0;
		}
	struct route *r = calloc(1, sizeof(*r));
	char *copy = strdup(path);
	if (r == NULL || copy == NULL) {
		pthread_mutex_unlock(&mu);
		free(r);
		free(copy);
		return ACTOR_ENOMEM;
	}
	memcpy(r->id, pid.id, sizeof(r->id));
	r->path = copy;
	r->fn = fn;
	r->arg = arg;
	r->next = table[b];
	table[b] = r;
	atomic_fetch_add(&nroutes, 1);
	pthread_mutex_unlock(&mu);
	return 0;
}

/* Removes routes of id matching path (NULL: all of them). */
static void remove_routes(const char *id, const char *path)
{
	if (atomic_load(&nroutes) == 0)
		return;
	unsigned b = bucket(id);
	pthread_mutex_lock(&mu);
	struct route **at = &table[b];
	while (*at != NULL) {
		struct route *r = *at;
		if (strcmp(r->id, id) == 0 && (path == NULL || strcmp(r->path, path) == 0)) {
			*at = r->next;
			free(r->path);
			free(r);
			atomic_fetch_sub(&nroutes, 1);
		} else {
			at = &r->next;
		}
	}
	pthread_mutex_unlock(&mu);
}

void actor_http_unroute(actor_t *self, const char *path)
{
	if (self == NULL || path == NULL)
		return;
	actor_pid pid = actor_self(self);
	remove_routes(pid.id, path);
}

/* Removes the prefix routes of id matching prefix (NULL: all of them); mu held. */
static void remove_prefixes_locked(const char *id, const char *prefix, size_t len)
{
	struct prefix_route **at = &prefixes;
	while (*at != NULL) {
		struct prefix_route *r = *at;
		if (strcmp(r->id, id) == 0 &&
		    (prefix == NULL || (r->len == len && memcmp(r->prefix, prefix, len) == 0))) {
			*at = r->next;
			free(r->prefix);
			free(r);
			atomic_fetch_sub(&nroutes, 1);
		} else {
			at = &r->next;
		}
	}
}

/* The length of prefix without its trailing '/'s ("/" routes everything: 0), or -1 when
 * it is not a path. */
static long prefix_len(const char *prefix)
{
	if (prefix == NULL || prefix[0] != '/' || strchr(prefix, '?') != NULL)
		return -1;
	size_t len = strlen(prefix);
	while (len > 0 && prefix[len - 1] == '/')
		len--;
	return (long)len;
}

int actor_http_route_prefix(actor_t *self, const char *prefix, actor_http_fn fn, void *arg)
{
	long len = prefix_len(prefix);
	if (self == NULL || fn == NULL || len < 0)
		return ACTOR_EINVAL;
	if (actor_current() != self)
		return ACTOR_ESTATE;
	actor_pid pid = actor_self(self);

	pthread_mutex_lock(&mu);
	for (struct prefix_route *r = prefixes; r != NULL; r = r->next) {
		if (r->len != (size_t)len || memcmp(r->prefix, prefix, (size_t)len) != 0)
			continue;
		int rv = ACTOR_EEXIST;
		if (strcmp(r->id, pid.id) == 0) {
			r->fn = fn;
			r->arg = arg;
			rv = 0;
		}
		pthread_mutex_unlock(&mu);
		return rv;
	}
	struct prefix_route *r = calloc(1, sizeof(*r));
	char *copy = r ? strndup(prefix, (size_t)len) : NULL;
	if (r == NULL || copy == NULL) {
		pthread_mutex_unlock(&mu);
		free(r);
		return ACTOR_ENOMEM;
	}
	memcpy(r->id, pid.id, sizeof(r->id));
	r->prefix = copy;
	r->len = (size_t)len;
	r->fn = fn;
	r->arg = arg;
	r->next = prefixes;
	prefixes = r;
	atomic_fetch_add(&nroutes, 1);
	pthread_mutex_unlock(&mu);
	return 0;
}

void actor_http_unroute_prefix(actor_t *self, const char *prefix)
{
	long len = prefix_len(prefix);
	if (self == NULL || len < 0)
		return;
	actor_pid pid = actor_self(self);
	pthread_mutex_lock(&mu);
	remove_prefixes_locked(pid.id, prefix, (size_t)len);
	pthread_mutex_unlock(&mu);
}

void actor__http_forget(const char *id)
{
	remove_routes(id, NULL);
	if (atomic_load(&nroutes) == 0)
		return;
	pthread_mutex_lock(&mu);
	remove_prefixes_locked(id, NULL, 0);
	pthread_mutex_unlock(&mu);
}

void actor__http_routes_clear(void)
{
	pthread_mutex_lock(&mu);
	for (unsigned b = 0; b < BUCKETS; b++) {
		while (table[b] != NULL) {
			struct route *r = table[b];
			table[b] = r->next;
			free(r->path);
			free(r);
		}
	}
	while (prefixes != NULL) {
		struct prefix_route *r = prefixes;
		prefixes = r->next;
		free(r->prefix);
		free(r);
	}
	atomic_store(&nroutes, 0);
	pthread_mutex_unlock(&mu);
}

/* Whether path is prefix (len bytes) itself or lies under it. */
static bool under(const char *path, const char *prefix, size_t len)
{
	return strncmp(path, prefix, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

size_t actor__http_prefix_resolve(const char *path, char owner[ACTOR_PID_ID_MAX + 1])
{
	const struct prefix_route *best = NULL;
	pthread_mutex_lock(&mu);
	for (const struct prefix_route *r = prefixes; r != NULL; r = r->next)
		if (under(path, r->prefix, r->len) && (best == NULL || r->len > best->len))
			best = r;
	size_t len = best ? best->len + 1 : 0;
	if (best != NULL)
		memcpy(owner, best->id, ACTOR_PID_ID_MAX + 1);
	pthread_mutex_unlock(&mu);
	return len;
}

int actor__http_prefix_find(const char *id, const char *path, size_t len,
                            struct actor__route *out)
{
	int found = 0;
	pthread_mutex_lock(&mu);
	for (const struct prefix_route *r = prefixes; r != NULL; r = r->next)
		if (r->len == len && strcmp(r->id, id) == 0 && under(path, r->prefix, r->len)) {
			out->fn = r->fn;
			out->arg = r->arg;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&mu);
	return found;
}

int actor__http_route_find(const char *id, const char *path, struct actor__route *out)
{
	int found = 0;
	pthread_mutex_lock(&mu);
	for (struct route *r = table[bucket(id)]; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0 && strcmp(r->path, path) == 0) {
			out->fn = r->fn;
			out->arg = r->arg;
			found = 1;
			break;
		}
	pthread_mutex_unlock(&mu);
	return found;
}

int actor__http_has_routes(const char *id)
{
	int found = 0;
	pthread_mutex_lock(&mu);
	for (struct route *r = table[bucket(id)]; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0) {
			found = 1;
			break;
		}
	pthread_mutex_unlock(&mu);
	return found;
}

/* ---- responses ---------------------------------------------------------------- */

actor_http_response *actor_http_response_alloc(int status, const char *content_type,
					       const void *body, size_t len)
{
	if (status < 100 || status > 999)
		return NULL;
	actor_http_response *res = calloc(1, sizeof(*res));
	if (res == NULL)
		return NULL;
	res->status = status;
	res->content_type = strdup(content_type ? content_type : "text/plain");
	res->body = malloc(len ? len : 1);
	if (res->content_type == NULL || res->body == NULL) {
		actor_http_response_free(res);
		return NULL;
	}
	if (len)
		memcpy(res->body, body, len);
	res->len = len;
	return res;
}

int actor_http_response_header(actor_http_response *res, const char *name, const char *value)
{
	if (res == NULL || name == NULL || value == NULL)
		return ACTOR_EINVAL;
	struct actor_http_header *h = calloc(1, sizeof(*h));
	if (h == NULL || (h->name = strdup(name)) == NULL || (h->value = strdup(value)) == NULL) {
		if (h != NULL)
			free(h->name);
		free(h);
		return ACTOR_ENOMEM;
	}
	h->next = res->headers;
	res->headers = h;
	return 0;
}

void actor_http_response_free(actor_http_response *res)
{
	if (res == NULL)
		return;
	while (res->headers != NULL) {
		struct actor_http_header *h = res->headers;
		res->headers = h->next;
		free(h->name);
		free(h->value);
		free(h);
	}
	if (res->stream != NULL)
		actor__http_stream_release(res->stream);
	free(res->content_type);
	free(res->body);
	free(res);
}

void actor_http_response_free_cb(void *res)
{
	actor_http_response_free(res);
}

actor_future *actor_http_respond(actor_http_response *res)
{
	if (res == NULL)
		return actor_future_failed(ACTOR_ENOMEM, "no response");
	return actor_future_ready(res, actor_http_response_free_cb);
}

actor_future *actor_http_reply(int status, const char *content_type, const void *body,
			       size_t len)
{
	return actor_http_respond(actor_http_response_alloc(status, content_type, body, len));
}
