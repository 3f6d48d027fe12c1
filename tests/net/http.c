/* HTTP routes into actors, the runtime's own answers (404/400/413), a slow handler that
 * holds only its own request, and /metrics/snapshot as JSON. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "probe.h"

static actor_pid web;
static peer_proc peer;

/* What the web actor shares with the test thread (the slow handler's progress). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool slow_arrived;

struct web_state {
	actor_promise *slow;
	actor_counter *hits;
	actor_timer *latency;
	actor_gauge *depth;
};

static actor_future *hello(actor_t *self, const actor_http_request *req, void *arg)
{
	struct web_state *st = actor_state(self);
	actor_counter_inc(st->hits);
	actor_timer_record(st->latency, 1.5);
	return actor_http_reply(200, "text/plain", "hello", 5);
}

static actor_future *echo(actor_t *self, const actor_http_request *req, void *arg)
{
	char head[256];
	const char *agent = actor_http_header(req, "X-Test");
	int n = snprintf(head, sizeof(head), "%s %s %s %s|", req->method, req->path, req->query,
			 agent ? agent : "-");
	char *text = malloc((size_t)n + req->body_len);
	memcpy(text, head, (size_t)n);
	memcpy(text + n, req->body, req->body_len);
	actor_http_response *res = actor_http_response_alloc(200, "text/plain", text,
							     (size_t)n + req->body_len);
	free(text);
	actor_http_response_header(res, "X-Echo", "yes");
	return actor_http_respond(res);
}

static actor_future *root(actor_t *self, const actor_http_request *req, void *arg)
{
	return actor_http_reply(200, NULL, "root", 4);
}

static actor_future *slow(actor_t *self, const actor_http_request *req, void *arg)
{
	struct web_state *st = actor_state(self);
	st->slow = actor_promise_alloc();
	struct web_state *state = st;
	actor_gauge_set(state->depth, 1);
	pthread_mutex_lock(&mu);
	slow_arrived = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return actor_promise_future(st->slow);
}

static actor_future *release(actor_t *self, const actor_http_request *req, void *arg)
{
	struct web_state *st = actor_state(self);
	if (st->slow == NULL)
		return actor_http_reply(409, NULL, "nothing to release", 18);
	actor_promise_set(st->slow, actor_http_response_alloc(200, NULL, "released", 8),
			  actor_http_response_free_cb);
	actor_promise_free(st->slow);
	st->slow = NULL;
	actor_gauge_set(st->depth, 0);
	return actor_http_reply(200, NULL, "ok", 2);
}

static actor_future *broken(actor_t *self, const actor_http_request *req, void *arg)
{
	return actor_future_failed(ACTOR_EFAILED, "broken on purpose");
}

/* Answers with the path it was given, to show which route matched. */
static actor_future *path_of(actor_t *self, const actor_http_request *req, void *arg)
{
	char text[256];
	int n = snprintf(text, sizeof(text), "%s %s", (const char *)arg, req->path);
	return actor_http_reply(200, "text/plain", text, (size_t)n);
}

static int web_init(actor_t *self)
{
	struct web_state *st = actor_state(self);
	st->hits = actor_counter_get("test/hits");
	st->latency = actor_timer_get("test/latency");
	st->depth = actor_gauge_get("test/slow_pending");
	int rv = 0;
	rv |= actor_http_route(self, "/hello", hello, NULL);
	rv |= actor_http_route(self, "/echo", echo, NULL);
	rv |= actor_http_route(self, "/", root, NULL);
	rv |= actor_http_route(self, "/slow", slow, NULL);
	rv |= actor_http_route(self, "/release", release, NULL);
	rv |= actor_http_route(self, "/broken", broken, NULL);
	rv |= actor_http_route(self, "/job/*", path_of, "job");
	rv |= actor_http_route(self, "/job/kill/*", path_of, "kill");
	rv |= actor_http_route(self, "/job/exact", path_of, "exact");
	return rv;
}

static void web_fini(actor_t *self)
{
	struct web_state *st = actor_state(self);
	actor_promise_free(st->slow);
}

static const actor_def web_def = {.name = "web", .init = web_init, .fini = web_fini};
static struct web_state web_state;

static void setup(void)
{
	probe_start(0);
	memset(&web_state, 0, sizeof(web_state));
	cr_assert_eq(actor_spawn(&web_def, &web_state, &web), 0);
	cr_assert_gt(actor_runtime_http_port(), 0);
	cr_assert_neq(actor_runtime_http_port(), actor_runtime_port(),
		      "HTTP has a port of its own");
}

static void teardown(void)
{
	peer_kill(&peer);
	actor_terminate(web);
	actor_wait(web, 10000);
	probe_stop();
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 120);

static int get(const char *target, char **body)
{
	return http_call(actor_runtime_http_port(), "GET", target, NULL, NULL, 0, body);
}

Test(http, routes_run_inside_the_actor)
{
	char *body;
	cr_assert_eq(get("/web/hello", &body), 200);
	cr_assert_str_eq(body, "hello");
	free(body);

	cr_assert_eq(http_call(actor_runtime_http_port(), "POST", "/web/echo?a=1&b=2",
			       "X-Test: present\r\n", "payload", 7, &body), 200);
	cr_assert_str_eq(body, "POST /echo a=1&b=2 present|payload");
	free(body);

	cr_assert_eq(get("/web/", &body), 200);
	cr_assert_str_eq(body, "root");
	free(body);
	cr_assert_eq(get("/web", &body), 200);
	cr_assert_str_eq(body, "root");
	free(body);

	cr_assert_eq(get("/web/broken", &body), 500);
	cr_assert_not_null(strstr(body, "broken on purpose"), "500 says why: %s", body);
	free(body);
}

Test(http, prefix_routes_answer_what_no_exact_route_does)
{
	char *body;
	cr_assert_eq(get("/web/job/a%20b", &body), 200);
	cr_assert_str_eq(body, "job /job/a%20b", "the path is handed on still encoded");
	free(body);
	cr_assert_eq(get("/web/job/kill/x", &body), 200);
	cr_assert_str_eq(body, "kill /job/kill/x", "the longest prefix wins");
	free(body);
	cr_assert_eq(get("/web/job/exact", &body), 200);
	cr_assert_str_eq(body, "exact /job/exact", "an exact route wins over a prefix");
	free(body);
	cr_assert_eq(get("/web/jobs", &body), 404, "a prefix matches whole segments only");
	free(body);
}

Test(http, unknown_paths_are_404)
{
	char *body;
	cr_assert_eq(get("/nobody/hello", &body), 404);
	free(body);
	cr_assert_eq(get("/web/nothing-here", &body), 404);
	cr_assert_not_null(strstr(body, "/nothing-here"), "404 names the path: %s", body);
	free(body);
	cr_assert_eq(get("/probe/anything", &body), 404, "an actor without routes");
	free(body);
}

Test(http, bad_requests_are_400_with_a_reason)
{
	char *body;
	cr_assert_eq(get("/", &body), 400);
	cr_assert_not_null(strstr(body, "/<actor-id>/<path>"), "reason: %s", body);
	free(body);
	cr_assert_eq(get("/a@b/x", &body), 400);
	free(body);
	const char bad_len[] = "POST /web/echo HTTP/1.1\r\nHost: x\r\nContent-Length: twelve\r\n\r\n";
	cr_assert_eq(http_raw(actor_runtime_http_port(), bad_len, sizeof(bad_len) - 1, &body), 400);
	cr_assert_not_null(strstr(body, "Content-Length"), "reason: %s", body);
	free(body);
	const char chunked[] = "POST /web/echo HTTP/1.1\r\nHost: x\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
	cr_assert_eq(http_raw(actor_runtime_http_port(), chunked, sizeof(chunked) - 1, &body), 400);
	free(body);
	/* Bytes that are not HTTP at all are nng's to refuse: 400, or a closed connection. */
	const char junk[] = "\x01\x02 not http at all\r\n\r\n";
	int status = http_raw(actor_runtime_http_port(), junk, sizeof(junk) - 1, NULL);
	cr_assert(status == 400 || status == -1, "junk answered %d", status);

	/* The server still serves. */
	cr_assert_eq(get("/web/hello", NULL), 200);
}

Test(http, bodies_over_the_limit_are_413)
{
	/* Only the head is sent: the answer must come from Content-Length alone. */
	const char head[] = "POST /web/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n";
	char *body;
	cr_assert_eq(http_raw(actor_runtime_http_port(), head, sizeof(head) - 1, &body), 413);
	cr_assert_not_null(strstr(body, "limit"), "reason: %s", body);
	free(body);

	/* Exactly at the limit (1 MiB by default) is accepted. */
	size_t n = 1 << 20;
	char *data = malloc(n);
	memset(data, 'z', n);
	cr_assert_eq(http_call(actor_runtime_http_port(), "POST", "/web/echo", NULL, data, n, &body),
		     200);
	cr_assert_eq(strlen(body), strlen("POST /echo  -|") + n);
	free(body);
	free(data);
}

static void *slow_request(void *arg)
{
	char **body = arg;
	intptr_t status = get("/web/slow", body);
	return (void *)status;
}

Test(http, a_slow_handler_holds_only_its_own_request)
{
	slow_arrived = false;
	pthread_t t;
	char *slow_body = NULL;
	cr_assert_eq(pthread_create(&t, NULL, slow_request, &slow_body), 0);
	pthread_mutex_lock(&mu);
	while (!slow_arrived)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);

	/* /slow is pending inside the actor; other requests, even to the same actor, go on. */
	char *body;
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(get("/web/hello", &body), 200);
		free(body);
	}
	cr_assert_null(slow_body, "the slow request must still be waiting");
	cr_assert_eq(get("/web/release", &body), 200);
	free(body);

	void *status;
	pthread_join(t, &status);
	cr_assert_eq((intptr_t)status, 200);
	cr_assert_str_eq(slow_body, "released");
	free(slow_body);
}

/* A short-lived actor with one route. */
static int tmp_init(actor_t *self)
{
	return actor_http_route(self, "/x", hello, NULL);
}

static const actor_def tmp_def = {.name = "tmp", .init = tmp_init};
static const actor_def tmp_plain_def = {.name = "tmp"};

Test(http, routes_end_with_their_actor)
{
	actor_pid tmp;
	cr_assert_eq(actor_spawn(&tmp_def, &web_state, &tmp), 0);
	cr_assert_eq(get("/tmp/x", NULL), 200);
	actor_terminate(tmp);
	cr_assert_eq(actor_wait(tmp, 10000), 0);
	cr_assert_eq(get("/tmp/x", NULL), 404);

	/* A new actor under the same id does not inherit the old routes. */
	cr_assert_eq(actor_spawn(&tmp_plain_def, NULL, &tmp), 0);
	cr_assert_str_eq(tmp.id, "tmp");
	cr_assert_eq(get("/tmp/x", NULL), 404);
	actor_terminate(tmp);
	actor_wait(tmp, 10000);

	/* Routes are the actor's own: another thread cannot add them. */
	cr_assert_eq(actor_http_route(NULL, "/y", hello, NULL), ACTOR_EINVAL);
}

static json_t *snapshot(uint16_t port)
{
	char *body;
	cr_assert_eq(http_call(port, "GET", "/metrics/snapshot", NULL, NULL, 0, &body), 200);
	json_error_t err;
	json_t *o = json_loads(body, 0, &err);
	cr_assert_not_null(o, "not JSON (%s): %s", err.text, body);
	cr_assert(json_is_object(o));
	free(body);
	return o;
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_number(v), "no number %s", key);
	return json_number_value(v);
}

Test(http, metrics_snapshot_is_one_json_object)
{
	for (int i = 0; i < 3; i++)
		cr_assert_eq(get("/web/hello", NULL), 200);
	json_t *o = snapshot(actor_runtime_http_port());
	cr_assert_eq(num(o, "test/hits"), 3);
	cr_assert_eq(num(o, "test/latency_count"), 3);
	cr_assert_float_eq(num(o, "test/latency_mean_ms"), 1.5, 1e-9);
	cr_assert_eq(num(o, "test/slow_pending"), 0);
	cr_assert_geq(num(o, "actor/actors_alive"), 2, "probe and web at least");
	cr_assert_geq(num(o, "actor/http_requests"), 4);
	const char *keys[] = {"actor/messages_sent", "actor/messages_received",
			      "actor/messages_dropped", "actor/mailbox_high_water", "actor/bytes_in",
			      "actor/bytes_out", "actor/frames_dropped", "actor/connections_open"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		num(o, keys[i]);
	json_decref(o);

	/* A peer process: after a remote ping, its counters show the traffic. */
	const char *const args[] = {"echo", NULL};
	peer_start(&peer, args);
	cr_assert_eq(probe_send(peer.actor, "ping", "abc", 3), 0);
	probe_item it;
	cr_assert(probe_wait("pong", 10000, &it));
	free(it.data);
	o = snapshot(peer.http_port);
	cr_assert_gt(num(o, "actor/bytes_in"), 0);
	cr_assert_gt(num(o, "actor/bytes_out"), 0);
	cr_assert_geq(num(o, "actor/frames_in"), 1);
	cr_assert_eq(num(o, "actor/connections_open"), 1,
		     "one connection between two processes, used both ways");
	cr_assert_geq(num(o, "actor/messages_received"), 1);
	json_decref(o);
}
