/* routes.c — which actor answers which path, and the response type.
 *
 * Routes are kept by actor id in a hash table under one mutex. A request looks its
 * route up twice: on the HTTP thread (to answer 404 early) and again inside the actor
 * right before the handler runs, because only that second look-up is ordered with the
 * actor's own route/unroute calls. */
#include <pthread.h>
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

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct route *table[BUCKETS];
/* Routes in the table: lets the end of an actor skip the lock when there are none. */
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

void actor__http_forget(const char *id)
{
	remove_routes(id, NULL);
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
		atomic_store(&nroutes, 0);
	}
	pthread_mutex_unlock(&mu);
}

/* The length of the prefix a route stands for when its last segment is a lone '*'
 * ("/a/b/" of "/a/b/" + '*'), or 0 when the route is an exact one. */
static size_t prefix_len(const char *route_path)
{
	size_t n = strlen(route_path);
	return n >= 2 && route_path[n - 1] == '*' && route_path[n - 2] == '/' ? n - 1 : 0;
}

int actor__http_route_find(const char *id, const char *path, struct actor__route *out)
{
	const struct route *best = NULL;
	size_t best_len = 0;
	pthread_mutex_lock(&mu);
	for (struct route *r = table[bucket(id)]; r != NULL; r = r->next) {
		if (strcmp(r->id, id) != 0)
			continue;
		if (strcmp(r->path, path) == 0) {
			best = r;
			break;
		}
		/* A prefix route answers what no exact route does; the longest prefix wins. */
		size_t n = prefix_len(r->path);
		if (n > best_len && strncmp(r->path, path, n) == 0) {
			best = r;
			best_len = n;
		}
	}
	if (best != NULL) {
		out->fn = best->fn;
		out->arg = best->arg;
	}
	pthread_mutex_unlock(&mu);
	return best != NULL;
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
