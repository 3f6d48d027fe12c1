/* server.c — this OS process's HTTP server (nng's), routing /<actor-id>/<path> and
 * prefix routes into actors.
 *
 * One tree handler on "/" takes every request. It checks the target and the body size
 * on nng's thread, reads the body itself (so that an over-long body is answered 413,
 * which nng's own body collection cannot do: it answers 400), then runs the route
 * inside the actor with actor_call and answers when the handler's future completes.
 * Nothing here waits on an actor, so a slow handler only holds its own request. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "actor/actor.h"
#include "actor/error.h"
#include "actor/future.h"
#include "actor/log.h"
#include "actor/metrics.h"
#include "actor/runtime.h"
#include "http/http_internal.h"
#include "metrics_internal.h"

#define DEFAULT_MAX_BODY ((size_t)1 << 20)

static struct {
	nng_http_server *server;
	nng_http_handler *handler;
	uint16_t port;
	size_t max_body;
} S;

struct req {
	nng_aio *aio;             /* the server's: finished with the response */
	nng_http_req *hreq;
	nng_http_conn *conn;
	nng_aio *body_aio;
	char *target;             /* copy of the URI, cut into id, path and query */
	char id[ACTOR_PID_ID_MAX + 1]; /* the actor that answers */
	size_t prefix;                 /* a prefix route: its length + 1; 0: a route of id */
	actor_http_request view;
	uint8_t *body;
};

uint16_t actor_runtime_http_port(void)
{
	return S.port;
}

static void req_free(struct req *r)
{
	/* The body's aio may be freed from inside its own callback (body_cb). */
	if (r->body_aio != NULL)
		actor__net_aio_free_later(r->body_aio);
	free(r->target);
	free(r->body);
	free(r);
}

/* Finishes the request with a response; frees r (NULL: only the aio). */
static void finish(nng_aio *aio, struct req *r, int status, const char *ct, const void *body,
		   size_t len, const struct actor_http_header *headers, bool close)
{
	nng_http_res *res;
	if (status >= 400)
		ACTOR__STAT_ADD(http_errors, 1);
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
	} else {
		nng_http_res_set_status(res, (uint16_t)status);
		nng_http_res_set_header(res, "Content-Type", ct ? ct : "text/plain");
		for (const struct actor_http_header *h = headers; h != NULL; h = h->next)
			nng_http_res_set_header(res, h->name, h->value);
		if (close)
			nng_http_res_set_header(res, "Connection", "close");
		if (len > 0)
			nng_http_res_copy_data(res, body, len);
		else /* nng says nothing for an empty body, and a client waits for the close */
			nng_http_res_set_header(res, "Content-Length", "0");
		nng_aio_set_output(aio, 0, res);
		nng_aio_finish(aio, 0);
	}
	if (r != NULL)
		req_free(r);
}

/* A plain-text error answer: "<status> <why>\n". */
static void fail(nng_aio *aio, struct req *r, int status, bool close, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void fail(nng_aio *aio, struct req *r, int status, bool close, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(text) - 2)
		n = sizeof(text) - 2;
	text[n++] = '\n';
	finish(aio, r, status, "text/plain", text, (size_t)n, NULL, close);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	default: return status < 300 ? "OK" : status < 400 ? "Redirect" : "Error";
	}
}

/* A stream response: the connection leaves nng's server for the stream (stream.c),
 * which writes the head built here and then the chunks. */
static void start_stream(struct req *r, actor_http_response *res)
{
	size_t cap = 256, len;
	for (const struct actor_http_header *h = res->headers; h != NULL; h = h->next)
		cap += strlen(h->name) + strlen(h->value) + 4;
	char *head = malloc(cap + strlen(res->content_type));
	if (head == NULL) {
		fail(r->aio, r, 500, true, "out of memory");
		return;
	}
	len = (size_t)sprintf(head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	                            "Transfer-Encoding: chunked\r\nConnection: close\r\n"
	                            "Cache-Control: no-cache\r\n",
	                      res->status, reason_phrase(res->status), res->content_type);
	for (const struct actor_http_header *h = res->headers; h != NULL; h = h->next)
		len += (size_t)sprintf(head + len, "%s: %s\r\n", h->name, h->value);
	len += (size_t)sprintf(head + len, "\r\n");
	struct actor_http_stream *s = res->stream;
	res->stream = NULL; /* its reference passes to attach */
	nng_http_hijack(r->conn);
	nng_http_req_free(r->hreq); /* a hijacker owns the request */
	nng_aio_set_output(r->aio, 0, NULL);
	nng_aio_finish(r->aio, 0);
	actor__http_stream_attach(s, r->conn, head, len);
	free(head);
	req_free(r);
}

static void future_done(actor_t *in, actor_future *f, void *arg)
{
	struct req *r = arg;
	if (actor_future_state(f) == ACTOR_FUTURE_READY && actor_future_value(f) != NULL) {
		actor_http_response *res = actor_future_value(f);
		if (res->stream != NULL) {
			start_stream(r, res);
			return;
		}
		finish(r->aio, r, res->status, res->content_type, res->body, res->len, res->headers,
		       false);
		return;
	}
	const char *why = actor_future_why(f);
	int err = actor_future_error(f);
	actor_warn("http: handler for /%s%s gave no response (%s)", r->id, r->view.path,
		   why ? why : err ? actor_strerror(err) : "no value");
	fail(r->aio, r, 500, false, "handler failed: %s",
	     why ? why : err ? actor_strerror(err) : "no response");
}

/* Runs inside the actor the request is for (self == NULL: it is gone). */
static void run_route(actor_t *self, void *arg)
{
	struct req *r = arg;
	struct actor__route route;
	if (self == NULL) {
		fail(r->aio, r, 404, false, "no actor %s", r->id);
		return;
	}
	if (r->prefix > 0 ? !actor__http_prefix_find(r->id, r->target, r->prefix - 1, &route)
			  : !actor__http_route_find(r->id, r->view.path, &route)) {
		fail(r->aio, r, 404, false, "actor %s has no route %s", r->id, r->view.path);
		return;
	}
	actor_future *f = route.fn(self, &r->view, route.arg);
	if (f == NULL) {
		fail(r->aio, r, 500, false, "handler for %s returned no future", r->view.path);
		return;
	}
	actor_future_on_any(f, NULL, future_done, r);
	actor_future_unref(f);
}

static void dispatch(struct req *r)
{
	actor_pid pid;
	if (actor_pid_make(r->id, actor_runtime_ip(), actor_runtime_port(), &pid) != 0) {
		fail(r->aio, r, 400, false, "bad actor id");
		return;
	}
	int rv = actor_call(pid, run_route, r);
	if (rv != 0) /* the callback never runs on an error return */
		fail(r->aio, r, 503, false, "runtime not accepting calls: %s", actor_strerror(rv));
}

static void body_cb(void *arg)
{
	struct req *r = arg;
	int rv = nng_aio_result(r->body_aio);
	if (rv != 0) {
		/* The client went away or sent less than it announced. */
		actor_debug("http: reading a request body failed: %s", nng_strerror(rv));
		nng_aio_finish(r->aio, rv);
		req_free(r);
		return;
	}
	dispatch(r);
}

/* Same rule as PIDs: printable ASCII other than '@', '/' and space. */
static bool id_ok(const char *id, size_t len)
{
	if (len == 0 || len > ACTOR_PID_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= ' ' || c >= 0x7f || c == '@' || c == '/')
			return false;
	}
	return true;
}

static void metrics_snapshot(nng_aio *aio)
{
	char *json = actor_metrics_snapshot();
	if (json == NULL) {
		fail(aio, NULL, 500, false, "out of memory");
		return;
	}
	finish(aio, NULL, 200, "application/json", json, strlen(json), NULL, false);
	free(json);
}

static void http_cb(nng_aio *aio)
{
	nng_http_req *hreq = nng_aio_get_input(aio, 0);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	const char *uri = nng_http_req_get_uri(hreq);
	const char *method = nng_http_req_get_method(hreq);
	ACTOR__STAT_ADD(http_requests, 1);

	if (uri == NULL || uri[0] != '/') {
		fail(aio, NULL, 400, false, "request target must be /<actor-id>/<path>");
		return;
	}
	/* The body is read here, not by nng, so its size must be checked first. */
	const char *te = nng_http_req_get_header(hreq, "Transfer-Encoding");
	const char *cl = nng_http_req_get_header(hreq, "Content-Length");
	size_t body_len = 0;
	if (te != NULL && strcasecmp(te, "identity") != 0) {
		fail(aio, NULL, 400, true, "Transfer-Encoding %s is not supported; send Content-Length",
		     te);
		return;
	}
	if (cl != NULL) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0' || cl[0] == '-') {
			fail(aio, NULL, 400, true, "bad Content-Length");
			return;
		}
		if (v > S.max_body) {
			fail(aio, NULL, 413, true, "body of %llu bytes is over the limit of %zu", v,
			     S.max_body);
			return;
		}
		body_len = (size_t)v;
	}

	struct req *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->target = strdup(uri)) == NULL) {
		free(r);
		fail(aio, NULL, 500, true, "out of memory");
		return;
	}
	r->aio = aio;
	r->hreq = hreq;
	r->conn = conn;
	char *query = strchr(r->target, '?');
	if (query != NULL)
		*query++ = '\0';
	r->view.query = query ? query : "";
	r->view.method = method;
	r->view.internal = hreq;

	char *id = r->target + 1;
	char *slash = strchr(id, '/');
	size_t id_len = slash ? (size_t)(slash - id) : strlen(id);
	if (strcmp(r->target, "/metrics/snapshot") == 0) {
		bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
		req_free(r);
		if (!get)
			fail(aio, NULL, 405, body_len > 0, "use GET");
		else
			metrics_snapshot(aio);
		return;
	}
	/* An actor's own route first, then the longest prefix route. */
	bool valid_id = id_ok(id, id_len);
	if (valid_id) {
		memcpy(r->id, id, id_len);
		r->id[id_len] = '\0';
	}
	/* "/<id>" alone is the actor's "/" route. */
	r->view.path = slash ? slash : "/";
	struct actor__route found;
	if (!valid_id || !actor__http_route_find(r->id, r->view.path, &found)) {
		char owner[ACTOR_PID_ID_MAX + 1];
		size_t prefix = actor__http_prefix_resolve(r->target, owner);
		if (prefix > 0) {
			memcpy(r->id, owner, sizeof(r->id));
			r->prefix = prefix;
			/* What follows the prefix, from its '/'; "/" when nothing does. */
			const char *rest = r->target + prefix - 1;
			r->view.path = rest[0] == '/' && rest[1] != '\0' ? rest : "/";
		} else if (!valid_id) {
			fail(aio, r, 400, body_len > 0,
			     "request target must be /<actor-id>/<path> with a valid actor id");
			return;
		} else if (!actor__http_has_routes(r->id)) {
			fail(aio, r, 404, body_len > 0, "no routes for %s", r->id);
			return;
		}
	}

	if (body_len == 0) {
		r->view.body = (const uint8_t *)"";
		dispatch(r);
		return;
	}
	r->body = malloc(body_len);
	if (r->body == NULL || nng_aio_alloc(&r->body_aio, body_cb, r) != 0) {
		fail(aio, r, 500, true, "out of memory");
		return;
	}
	r->view.body = r->body;
	r->view.body_len = body_len;
	nng_iov iov = {.iov_buf = r->body, .iov_len = body_len};
	nng_aio_set_iov(r->body_aio, 1, &iov);
	nng_http_conn_read_all(conn, r->body_aio);
}

const char *actor_http_header(const actor_http_request *req, const char *name)
{
	if (req == NULL || req->internal == NULL || name == NULL)
		return NULL;
	return nng_http_req_get_header((nng_http_req *)req->internal, name);
}

int actor__http_start(const actor_config *cfg, const char *ip)
{
	S.port = 0;
	S.max_body = cfg->http_max_body ? cfg->http_max_body : DEFAULT_MAX_BODY;
	if (cfg->http_port < 0)
		return 0;
	if (cfg->http_port > 65535) {
		actor_error("http: port %d out of range", cfg->http_port);
		return ACTOR_EINVAL;
	}
	char text[64];
	snprintf(text, sizeof(text), "http://%s:%d", ip, cfg->http_port);
	nng_url *url = NULL;
	int rv = nng_url_parse(&url, text);
	if (rv == 0)
		rv = nng_http_server_hold(&S.server, url);
	nng_url_free(url);
	if (rv == 0)
		rv = nng_http_handler_alloc(&S.handler, "/", http_cb);
	if (rv == 0)
		rv = nng_http_handler_set_tree(S.handler);
	if (rv == 0)
		rv = nng_http_handler_set_method(S.handler, NULL); /* every method */
	if (rv == 0)
		rv = nng_http_handler_collect_body(S.handler, false, 0);
	if (rv == 0) {
		rv = nng_http_server_add_handler(S.server, S.handler);
		if (rv == 0)
			S.handler = NULL; /* the server owns it now */
	}
	if (rv == 0)
		rv = nng_http_server_start(S.server);
	nng_sockaddr sa;
	if (rv == 0)
		rv = nng_http_server_get_addr(S.server, &sa);
	if (rv != 0) {
		actor_error("http: cannot serve on %s: %s", text, nng_strerror(rv));
		if (S.handler != NULL)
			nng_http_handler_free(S.handler);
		if (S.server != NULL)
			nng_http_server_release(S.server);
		S.handler = NULL;
		S.server = NULL;
		return rv == NNG_EADDRINUSE ? ACTOR_EEXIST : ACTOR_EIO;
	}
	S.port = ntohs(sa.s_in.sa_port);
	actor_debug("http: serving on %s (port %u)", text, S.port);
	return 0;
}

void actor__http_stop(void)
{
	if (S.server != NULL) {
		nng_http_server_stop(S.server);
		nng_http_server_release(S.server);
		S.server = NULL;
	}
	actor__http_streams_stop();
	S.port = 0;
	actor__http_routes_clear();
}
