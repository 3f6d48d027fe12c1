/* http.h — HTTP endpoints served by actors.
 *
 * Each OS process that listens runs one HTTP server (nng's) on its own TCP port
 * (actor_config.http_port; see actor_runtime_http_port()). An actor routes a path under
 * its own id: a route "/state" of the actor "master" answers GET /master/state. The
 * handler runs inside the actor, like a message handler, and answers with a future of
 * a response, so a slow endpoint never holds up another request.
 *
 * What the runtime answers by itself:
 *   404  no actor with that id, or the actor has no route for that path
 *   400  a request target that is not /<actor-id>/<path> (the body says why)
 *   413  a body longer than actor_config.http_max_body
 *   500  the handler's future failed, was discarded, or holds no response
 *   GET /metrics/snapshot   every metric as one JSON object (see metrics.h)
 *
 * Routes end with their actor: the runtime forgets them when it ends. */
#ifndef ACTOR_HTTP_H
#define ACTOR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"
#include "actor/future.h"

/* A request as the handler sees it. Borrowed: valid until the handler returns. */
typedef struct actor_http_request {
	const char *method;     /* "GET", "POST", ... */
	const char *path;       /* the route part, from its '/': "/state" for /master/state */
	const char *query;      /* after '?', without it; "" when there is none */
	const uint8_t *body;
	size_t body_len;
	const void *internal;   /* the runtime's; use actor_http_header() */
} actor_http_request;

/* The value of request header `name` (case-insensitive), or NULL. Borrowed like req. */
const char *actor_http_header(const actor_http_request *req, const char *name);

typedef struct actor_http_response actor_http_response;

/* A response with a copy of body (len bytes; body may be NULL when len is 0) and a
 * Content-Type (NULL: "text/plain"). NULL on out of memory. */
actor_http_response *actor_http_response_alloc(int status, const char *content_type,
					       const void *body, size_t len);
/* Adds a header to the response (copies both). ACTOR_ENOMEM on failure. */
int actor_http_response_header(actor_http_response *res, const char *name, const char *value);
/* NULL is a no-op. */
void actor_http_response_free(actor_http_response *res);
/* The same with the shape of actor_value_free_fn, for promises of responses. */
void actor_http_response_free_cb(void *res);

/* An already-complete future holding a response (new reference): the usual answer of
 * a handler that has everything at hand. Takes over res (NULL gives a failed future). */
actor_future *actor_http_respond(actor_http_response *res);
/* Shorthand: actor_http_respond(actor_http_response_alloc(status, content_type, body, len)). */
actor_future *actor_http_reply(int status, const char *content_type, const void *body,
			       size_t len);

/* A route handler. Runs inside the actor. Returns a future (new reference) whose value
 * is an actor_http_response * freed with actor_http_response_free — what
 * actor_http_respond() builds, or a promise the actor completes later with
 * actor_promise_set(p, res, actor_http_response_free_cb).
 * Returning NULL answers 500. */
typedef actor_future *(*actor_http_fn)(actor_t *self, const actor_http_request *req,
				       void *arg);

/* Routes requests for /<self's id><path> to fn(self, req, arg), any method. path starts
 * with '/' ("/" alone routes /<id>/ and /<id>). A path whose last segment is a lone
 * '*' is a prefix route: "/job/" then '*' answers /<id>/job/<anything> (req->path is
 * then the whole path, still percent-encoded) when no exact route matches; the longest
 * prefix wins. Replaces an
 * existing route of self for path. Copies path. Returns ACTOR_EINVAL for a bad path, ACTOR_ESTATE outside self,
 * ACTOR_ENOMEM. arg is the caller's; the runtime never frees it. */
int actor_http_route(actor_t *self, const char *path, actor_http_fn fn, void *arg);

/* Removes self's route for path, if any. */
void actor_http_unroute(actor_t *self, const char *path);

/* The TCP port of this OS process's HTTP server; 0 when it does not serve HTTP. */
uint16_t actor_runtime_http_port(void);

#endif
