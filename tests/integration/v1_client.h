/* v1_client.h — a Mesos v1 HTTP API client for the tests, on libcurl: a SUBSCRIBE
 * stream read on its own thread (chunked, RecordIO records decoded into JSON events,
 * from JSON or from protobuf) and plain calls. It shares no code with the master's
 * side of the API, so that the tests check the wire format itself. */
#ifndef TESTS_INTEGRATION_V1_CLIENT_H
#define TESTS_INTEGRATION_V1_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct v1_stream;

/* POSTs a SUBSCRIBE body (JSON text, or packed protobuf when protobuf) to
 * http://127.0.0.1:port<path> and reads the stream on a thread. accept may be NULL (no
 * Accept header). Waits up to 10 s for the response head; NULL if none came. */
struct v1_stream *v1_subscribe(int port, const char *path, const void *body, size_t len,
                               bool protobuf, const char *accept);
/* The response's status and Mesos-Stream-Id ("" when absent; borrowed). */
long v1_status(struct v1_stream *s);
const char *v1_stream_id(struct v1_stream *s);
/* The next event of type ("OFFERS" ...; NULL: any) at or after index *next, waiting up
 * to timeout_ms; *next moves past it. A new reference, or NULL on timeout. */
json_t *v1_wait_event(struct v1_stream *s, const char *type, size_t *next, int timeout_ms);
/* Events received so far. */
size_t v1_events(struct v1_stream *s);
/* Waits up to timeout_ms for the server to end the stream. */
bool v1_wait_closed(struct v1_stream *s, int timeout_ms);
/* Closes the connection (if still open) and frees everything. NULL is a no-op. */
void v1_close(struct v1_stream *s);

/* POSTs body with Content-Type ctype and, when stream_id is not NULL, Mesos-Stream-Id.
 * Returns the status (0 when unreachable); the answer in *out (malloc'ed) if not NULL. */
long v1_post(int port, const char *path, const char *ctype, const char *stream_id, const void *body,
             size_t len, char **out);
/* The same with an Accept header (NULL: none); the answer's length in *out_len. */
long v1_post_accept(int port, const char *path, const char *ctype, const char *accept,
                    const char *stream_id, const void *body, size_t len, char **out,
                    size_t *out_len);
/* The same with a JSON body built from fmt. */
long v1_post_json(int port, const char *path, const char *stream_id, char **out, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

#endif
