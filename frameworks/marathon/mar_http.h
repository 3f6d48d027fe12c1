/* mar_http.h — the REST server: nng's HTTP server on --http-port, every request handed
 * to the marathon actor, which answers when it is ready.
 *
 * nng's server is used directly, not libactor's routes, because Marathon's paths are
 * not under one actor's name (/v2/apps/{id}, /ping) and /v2/events streams for as long
 * as the client stays. */
#ifndef MAR_HTTP_H
#define MAR_HTTP_H

#include <stddef.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "actor/pid.h"

/* A request on its way to the actor. Owned by whoever holds it; mar_http_reply frees. */
struct mar_request {
	char method[16];
	char *path;  /* decoded, without the query: "/v2/apps/web" */
	char *query; /* "" when none: "force=true&embed=apps.tasks" */
	char *body;  /* NUL-terminated copy of the body (body_len bytes before the NUL) */
	size_t body_len;
	nng_aio *aio; /* nng's: completed by mar_http_reply */
};

struct mar_http;

/* Serves HTTP on 0.0.0.0:port (0: ephemeral; the port chosen in *bound) and hands each
 * request to handle(actor state, request) inside the actor `to` (which must outlive the
 * server; requests that find it gone get 503). SSE subscriptions (GET /v2/events) go to
 * subscribe instead, with a connection whose response headers are already written.
 * Returns NULL and writes why on failure. */
struct mar_http *mar_http_start(int port, actor_pid to,
                                void (*handle)(void *state, struct mar_request *r),
                                void (*subscribe)(void *state, nng_http_conn *conn), int *bound,
                                char *why, size_t whylen);

/* Stops serving and frees the server. Requests already handed over still get their
 * answers. NULL is a no-op. */
void mar_http_stop(struct mar_http *h);

/* Answers r with status and body (taken over; NULL: no body) as application/json, plus
 * an optional header (name NULL: none), and frees r. */
void mar_http_reply(struct mar_request *r, int status, json_t *body, const char *header,
                    const char *value);

/* Answers r with text/plain. */
void mar_http_reply_text(struct mar_request *r, int status, const char *text);

/* Answers with Marathon's error shape {"message": ...} (plus details when not NULL,
 * taken over). */
void mar_http_error(struct mar_request *r, int status, const char *message, json_t *details);

/* The value of name in a query string ("a=1&b=2"), decoded into out; NULL if absent. */
const char *mar_query_get(const char *query, const char *name, char *out, size_t outlen);

#endif
