/* http.h — HTTP endpoints served by actors.
 *
 * Each OS process that listens runs one HTTP server (nng's) on its own TCP port
 * (actor_config.http_port; see actor_runtime_http_port()). An actor routes a path under
 * its own id: a route "/state" of the actor "master" answers GET /master/state. The
 * handler runs inside the actor, like a message handler, and answers with a future of
 * a response, so a slow endpoint never holds up another request.
 *
 * An actor may also take a prefix route (actor_http_route_prefix): every path under an
 * absolute prefix, whatever actor id it starts with, so one actor serves /quota and
 * /quota/<role>, or a path outside its own id, without a route per path.
 *
 * What the runtime answers by itself:
 *   404  no actor with that id and no prefix route for the path, or the actor has no
 *        route for that path
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

#ifdef __cplusplus
extern "C" {
#endif

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
 * with '/' ("/" alone routes /<id>/ and /<id>). Replaces an existing route of self for
 * path. Copies path. Returns ACTOR_EINVAL for a bad path, ACTOR_ESTATE outside self,
 * ACTOR_ENOMEM. arg is the caller's; the runtime never frees it. */
int actor_http_route(actor_t *self, const char *path, actor_http_fn fn, void *arg);

/* Removes self's route for path, if any. */
void actor_http_unroute(actor_t *self, const char *path);

/* Routes every request whose path is `prefix` or lies under it (prefix, '/', anything)
 * to fn(self, req, arg), any method. prefix is absolute — it need not start with self's
 * id: "/quota" routes /quota, /quota/ and /quota/eng (not /quotas); "/" routes every
 * path. It starts with '/' and holds no '?'; trailing '/'s are ignored. The handler's
 * req->path is what follows the prefix, from its '/' ("/eng" for /quota/eng), or "/"
 * when nothing does.
 *
 * Which route answers a request: the route of the actor named by its first component
 * (actor_http_route) if it has one for the rest, else the longest prefix route. One
 * actor holds a prefix: routing it again from self replaces fn and arg; from another
 * actor it is ACTOR_EEXIST. Also ACTOR_EINVAL for a bad prefix or fn NULL, ACTOR_ESTATE
 * outside self, ACTOR_ENOMEM. Copies prefix; arg stays the caller's. The route ends
 * with self, as every route does. */
int actor_http_route_prefix(actor_t *self, const char *prefix, actor_http_fn fn, void *arg);

/* Removes self's prefix route for prefix, if any. */
void actor_http_unroute_prefix(actor_t *self, const char *prefix);

/* ---- streaming responses ----
 *
 * A handler that must keep answering (an event stream) answers with a stream response:
 * the status and headers go out at once with "Transfer-Encoding: chunked", then each
 * actor_http_stream_write is one chunk, until the owner closes the stream or the client
 * goes away. The connection then closes (it serves no further request). Writes never
 * block: bytes wait in the stream's buffer, which is bounded, so a slow client cannot
 * hold up its writer; the writer decides what to do when it is full (usually drop the
 * client). A stream is thread-safe and reference counted. */
typedef struct actor_http_stream actor_http_stream;

/* A response (to return through actor_http_respond) whose body is the stream *out, a
 * new reference of the caller's (released by actor_http_stream_close). At most
 * max_pending bytes wait unwritten (0: 8 MiB). NULL on out of memory. Freeing the
 * response unsent ends the stream as if its client had gone. */
actor_http_response *actor_http_response_stream(int status, const char *content_type,
						size_t max_pending, actor_http_stream **out);

/* Queues data (copied) as one chunk. Returns 0, ACTOR_EAGAIN when it would not fit in
 * the buffer (nothing queued), ACTOR_ECONN when the client is gone or the stream was
 * ended, ACTOR_EINVAL for len 0, ACTOR_ENOMEM. */
int actor_http_stream_write(actor_http_stream *s, const void *data, size_t len);

/* Bytes queued and not yet written to the socket. */
size_t actor_http_stream_pending(actor_http_stream *s);

/* Asks that fn(arg) run inside actor `to` once the stream is over: the client went
 * away, a write failed, or the owner closed it. Runs exactly once (with self == NULL if
 * `to` has ended). One watcher per stream; a second call replaces nothing and returns
 * ACTOR_EEXIST. */
int actor_http_stream_watch(actor_http_stream *s, actor_pid to, actor_fn fn, void *arg);

/* Ends the body (after what is queued has been written) and releases the caller's
 * reference. NULL is a no-op. */
void actor_http_stream_close(actor_http_stream *s);

/* The TCP port of this OS process's HTTP server; 0 when it does not serve HTTP. */
uint16_t actor_runtime_http_port(void);

#ifdef __cplusplus
}
#endif

#endif
