/* http_internal.h — the HTTP server's seams with the transport and the core (internal). */
#ifndef ACTOR_HTTP_INTERNAL_H
#define ACTOR_HTTP_INTERNAL_H

#include <stdint.h>

#include "actor/http.h"
#include "actor/runtime.h"

/* Starts the HTTP server on ip (text) and cfg->http_port unless that is -1. Called by
 * the transport's start, so HTTP runs exactly when the runtime listens. */
int actor__http_start(const actor_config *cfg, const char *ip);
/* Stops the server; requests still waiting for an actor are answered 503. */
void actor__http_stop(void);

/* Frees an aio on the transport's reaper thread, for code running inside that aio's
 * own callback (net/transport_nng.c). Only while the transport runs. */
struct nng_aio;
void actor__net_aio_free_later(struct nng_aio *aio);

/* Route table (routes.c). */
struct actor__route {
	actor_http_fn fn;
	void *arg;
};
/* Finds the route of actor `id` for path; copies it to *out. */
int actor__http_route_find(const char *id, const char *path, struct actor__route *out);
/* Does actor `id` have any route? (404 before reading a body otherwise.) */
int actor__http_has_routes(const char *id);
/* The longest prefix route that path (no query) lies under: its owner's id goes to
 * owner and the prefix's length plus one is returned (so "/" gives 1), 0 when none. */
size_t actor__http_prefix_resolve(const char *path, char owner[ACTOR_PID_ID_MAX + 1]);
/* The prefix route of actor `id` of length len (without the one added above) that path
 * lies under; copies it to *out. 0 when it is gone. */
int actor__http_prefix_find(const char *id, const char *path, size_t len,
                            struct actor__route *out);
/* Forgets every route of the actor called id: the runtime calls it when an actor ends. */
void actor__http_forget(const char *id);
/* Frees every route (runtime fini). */
void actor__http_routes_clear(void);

/* A response's parts, for the server. */
struct actor_http_header {
	char *name, *value;
	struct actor_http_header *next;
};
struct actor_http_response {
	int status;
	char *content_type;
	uint8_t *body;
	size_t len;
	struct actor_http_header *headers;
	struct actor_http_stream *stream; /* a streaming response's body, or NULL */
};

/* Streams (stream.c). The server hands a stream response's connection over: the
 * stream writes head (the status line and headers, copied) then its chunks, and owns
 * conn from then on. */
struct nng_http_conn;
void actor__http_stream_attach(struct actor_http_stream *s, struct nng_http_conn *conn,
                               const char *head, size_t head_len);
/* The response's reference, released unsent (the stream ends) or after attach. */
void actor__http_stream_release(struct actor_http_stream *s);
/* Ends every stream still open and waits for their connections to close (server stop). */
void actor__http_streams_stop(void);

#endif
