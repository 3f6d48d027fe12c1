/* mar_http.c — see mar_http.h. nng calls the handler on its own threads; the handler
 * only copies the request and hands it to the actor with actor_call, so every answer is
 * built inside the actor, next to the state it reads. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/actor.h"
#include "actor/log.h"

#include "mar_http.h"

struct mar_http {
	nng_http_server *server;
	actor_pid to;
	void (*handle)(void *state, struct mar_request *r);
	void (*subscribe)(void *state, nng_http_conn *conn);
};

/* An SSE subscription between hijack and hand-over. */
struct sse_start {
	struct mar_http *http;
	nng_http_conn *conn;
	nng_http_req *req;
	nng_http_res *res;
	nng_aio *aio;
};

/* A request on its way into the actor. */
struct mar_call {
	struct mar_http *h;
	struct mar_request *r;
};

static void request_free(struct mar_request *r)
{
	free(r->path);
	free(r->query);
	free(r->body);
	free(r);
}

static int hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes in place ('+' too when plus_space); false on a bad escape or a NUL. */
static bool decode(char *s, bool plus_space)
{
	char *out = s;
	for (; *s != '\0'; s++) {
		if (*s == '%') {
			int hi = hex(s[1]), lo = hi >= 0 ? hex(s[2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			*out++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*out++ = plus_space && *s == '+' ? ' ' : *s;
		}
	}
	*out = '\0';
	return true;
}

const char *mar_query_get(const char *query, const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name);
	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t seg = end ? (size_t)(end - p) : strlen(p);
		if (seg >= len && strncmp(p, name, len) == 0 && (seg == len || p[len] == '=')) {
			size_t vlen = seg == len ? 0 : seg - len - 1;
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, p + len + (seg == len ? 0 : 1), vlen);
			out[vlen] = '\0';
			return decode(out, true) ? out : NULL;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static void reply_raw(struct mar_request *r, int status, const char *type, const char *body,
                      size_t len, const char *header, const char *value)
{
	nng_http_res *res = NULL;
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(r->aio, NNG_ENOMEM);
		request_free(r);
		return;
	}
	nng_http_res_set_status(res, (uint16_t)status);
	nng_http_res_set_header(res, "Content-Type", type);
	if (header != NULL)
		nng_http_res_set_header(res, header, value);
	if (len > 0)
		nng_http_res_copy_data(res, body, len);
	nng_aio_set_output(r->aio, 0, res);
	nng_aio_finish(r->aio, 0);
	request_free(r);
}

void mar_http_reply(struct mar_request *r, int status, json_t *body, const char *header,
                    const char *value)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	reply_raw(r, status, "application/json; charset=utf-8", text ? text : "",
	          text ? strlen(text) : 0, header, value);
	free(text);
	json_decref(body);
}

void mar_http_reply_text(struct mar_request *r, int status, const char *text)
{
	reply_raw(r, status, "text/plain; charset=utf-8", text, strlen(text), NULL, NULL);
}

void mar_http_error(struct mar_request *r, int status, const char *message, json_t *details)
{
	json_t *body = json_pack("{s:s}", "message", message);
	if (details != NULL)
		json_object_set_new(body, "details", details);
	actor_info("marathon: %s %s -> %d %s", r->method, r->path, status, message);
	mar_http_reply(r, status, body, NULL, NULL);
}

/* Runs a request inside the actor. */
static void run_request(actor_t *self, void *arg)
{
	struct mar_call *call = arg;
	struct mar_request *r = call->r;
	struct mar_http *h = call->h;
	free(call);
	if (self == NULL) {
		mar_http_error(r, 503, "the scheduler is shutting down", NULL);
		return;
	}
	h->handle(actor_state(self), r);
}

/* The hand-over of an SSE connection into the actor (or its disposal if the actor is
 * gone or the headers could not be written). */
static void sse_handoff(actor_t *self, void *arg)
{
	struct sse_start *s = arg;
	int rv = nng_aio_result(s->aio);
	nng_aio_free(s->aio);
	nng_http_res_free(s->res);
	nng_http_req_free(s->req);
	if (self == NULL || rv != 0)
		nng_http_conn_close(s->conn);
	else
		s->http->subscribe(actor_state(self), s->conn);
	free(s);
}

static void sse_written_cb(void *arg)
{
	struct sse_start *s = arg;
	if (actor_call(s->http->to, sse_handoff, s) != 0) {
		/* The runtime is gone; nothing else will free it, and freeing the aio from its
		 * own callback is not allowed: leave the connection closed. */
		nng_http_conn_close(s->conn);
	}
}

static void sse_begin(struct mar_http *h, nng_aio *aio, nng_http_req *req, nng_http_conn *conn)
{
	struct sse_start *s = calloc(1, sizeof(*s));
	if (s == NULL || nng_http_res_alloc(&s->res) != 0 ||
	    nng_aio_alloc(&s->aio, sse_written_cb, s) != 0) {
		if (s != NULL && s->res != NULL)
			nng_http_res_free(s->res);
		free(s);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	if (nng_http_hijack(conn) != 0) {
		nng_aio_free(s->aio);
		nng_http_res_free(s->res);
		free(s);
		nng_aio_finish(aio, NNG_ECLOSED);
		return;
	}
	s->http = h;
	s->conn = conn;
	s->req = req;
	nng_http_res_set_status(s->res, 200);
	nng_http_res_set_header(s->res, "Content-Type", "text/event-stream");
	nng_http_res_set_header(s->res, "Cache-Control", "no-cache");
	nng_aio_finish(aio, 0);
	nng_http_conn_write_res(conn, s->res, s->aio);
}

static void handler_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *handler = nng_aio_get_input(aio, 1);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	struct mar_http *h = nng_http_handler_get_data(handler);
	const char *method = nng_http_req_get_method(req);
	const char *uri = nng_http_req_get_uri(req);

	struct mar_request *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->path = strdup(uri)) == NULL) {
		free(r);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	r->aio = aio;
	snprintf(r->method, sizeof(r->method), "%s", method);
	char *q = strchr(r->path, '?');
	if (q != NULL)
		*q++ = '\0';
	r->query = strdup(q ? q : "");
	void *data = NULL;
	size_t len = 0;
	nng_http_req_get_data(req, &data, &len);
	r->body = malloc(len + 1);
	if (r->query == NULL || r->body == NULL) {
		request_free(r);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	if (len > 0)
		memcpy(r->body, data, len);
	r->body[len] = '\0';
	r->body_len = len;
	if (!decode(r->path, false)) {
		mar_http_error(r, 400, "malformed percent-encoding in the path", NULL);
		return;
	}
	if (strcmp(r->method, "GET") == 0 && strcmp(r->path, "/v2/events") == 0) {
		request_free(r);
		sse_begin(h, aio, req, conn);
		return;
	}
	struct mar_call *call = malloc(sizeof(*call));
	if (call == NULL) {
		mar_http_error(r, 500, "out of memory", NULL);
		return;
	}
	call->h = h;
	call->r = r;
	if (actor_call(h->to, run_request, call) != 0) {
		free(call);
		mar_http_error(r, 503, "the scheduler is not running", NULL);
	}
}

struct mar_http *mar_http_start(int port, actor_pid to,
                                void (*handle)(void *state, struct mar_request *r),
                                void (*subscribe)(void *state, nng_http_conn *conn), int *bound,
                                char *why, size_t whylen)
{
	char addr[64];
	nng_url *url = NULL;
	nng_http_handler *handler = NULL;
	struct mar_http *h = calloc(1, sizeof(*h));
	int rv = NNG_ENOMEM;

	if (h == NULL)
		goto fail;
	h->to = to;
	h->handle = handle;
	h->subscribe = subscribe;
	snprintf(addr, sizeof(addr), "http://0.0.0.0:%d", port);
	if ((rv = nng_url_parse(&url, addr)) != 0 ||
	    (rv = nng_http_server_hold(&h->server, url)) != 0)
		goto fail;
	if ((rv = nng_http_handler_alloc(&handler, "/", handler_cb)) != 0 ||
	    (rv = nng_http_handler_set_method(handler, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(handler)) != 0 ||
	    (rv = nng_http_handler_collect_body(handler, true, 4 << 20)) != 0 ||
	    (rv = nng_http_handler_set_data(handler, h, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(h->server, handler)) != 0)
		goto fail;
	handler = NULL;
	if ((rv = nng_http_server_start(h->server)) != 0)
		goto fail;
	*bound = port;
	if (port == 0) {
		nng_sockaddr sa;
		if (nng_http_server_get_addr(h->server, &sa) == 0)
			*bound = ntohs(sa.s_in.sa_port);
	}
	nng_url_free(url);
	return h;
fail:
	snprintf(why, whylen, "cannot serve HTTP on port %d: %s", port, nng_strerror(rv));
	if (handler != NULL)
		nng_http_handler_free(handler);
	if (h != NULL && h->server != NULL)
		nng_http_server_release(h->server);
	nng_url_free(url);
	free(h);
	return NULL;
}

void mar_http_stop(struct mar_http *h)
{
	if (h == NULL)
		return;
	nng_http_server_stop(h->server);
	nng_http_server_release(h->server);
	free(h);
}
