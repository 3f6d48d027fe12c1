/* HTTP routes into actors, the runtime's own answers (404/400/413), a slow handler that
 * holds only its own request, and /metrics/snapshot as JSON. */
#include <criterion/criterion.h>
#include <pthread.h>
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

/* ---- prefix routes -------------------------------------------------------------------- */

/* Answers "<tag> <method> <path> <query>", tag being the route's arg. */
static actor_future *tagged(actor_t *self, const actor_http_request *req, void *arg)
{
	char text[256];
	int n = snprintf(text, sizeof(text), "%s %s %s %s", (const char *)arg, req->method,
			 req->path, req->query);
	return actor_http_reply(200, "text/plain", text, (size_t)n);
}

/* A prefix route (or its removal) made inside an actor, as routes must be. */
struct prefix_call {
	const char *prefix;
	const char *tag; /* NULL: unroute */
	int rv;
};

static void *do_prefix(actor_t *self, void *arg, int *err)
{
	struct prefix_call *c = arg;
	if (self == NULL)
		return NULL;
	if (c->tag != NULL)
		c->rv = actor_http_route_prefix(self, c->prefix, tagged, (void *)c->tag);
	else
		actor_http_unroute_prefix(self, c->prefix);
	return NULL;
}

static int route_prefix_in(actor_pid who, const char *prefix, const char *tag)
{
	struct prefix_call c = {.prefix = prefix, .tag = tag, .rv = -12345};
	actor_future *f = actor_dispatch(who, do_prefix, &c, NULL);
	cr_assert_eq(actor_future_await(f, 10000), 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	actor_future_unref(f);
	return c.rv;
}

static const actor_def tree_def = {.name = "tree"};

static void expect_body(const char *target, int status, const char *want)
{
	char *body = NULL;
	int got = get(target, &body);
	cr_assert_eq(got, status, "%s: %d, wanted %d (%s)", target, got, status, body ? body : "");
	if (want != NULL)
		cr_assert_str_eq(body, want, "%s", target);
	free(body);
}

Test(http, a_prefix_route_takes_its_whole_subtree)
{
	actor_pid tree;
	cr_assert_eq(actor_spawn(&tree_def, NULL, &tree), 0);
	cr_assert_eq(route_prefix_in(tree, "/quota", "q"), 0);

	/* The prefix itself, with or without '/', and everything under it; the handler
	 * sees what follows the prefix. */
	expect_body("/quota", 200, "q GET / ");
	expect_body("/quota/", 200, "q GET / ");
	expect_body("/quota/eng", 200, "q GET /eng ");
	expect_body("/quota/eng/web?x=1", 200, "q GET /eng/web x=1");
	char *body;
	cr_assert_eq(http_call(actor_runtime_http_port(), "DELETE", "/quota/eng", NULL, NULL, 0,
			       &body),
		     200);
	cr_assert_str_eq(body, "q DELETE /eng ");
	free(body);
	/* A longer word is not under the prefix. */
	expect_body("/quotas", 404, NULL);
	expect_body("/quotas/eng", 404, NULL);

	actor_terminate(tree);
	cr_assert_eq(actor_wait(tree, 10000), 0);
}

Test(http, own_routes_first_then_the_longest_prefix)
{
	actor_pid tree;
	cr_assert_eq(actor_spawn(&tree_def, NULL, &tree), 0);
	cr_assert_eq(route_prefix_in(tree, "/a", "short"), 0);
	cr_assert_eq(route_prefix_in(tree, "/a/b/", "long"), 0, "trailing '/' ignored");
	expect_body("/a/x", 200, "short GET /x ");
	expect_body("/a/b", 200, "long GET / ");
	expect_body("/a/b/c", 200, "long GET /c ");
	expect_body("/a/bc", 200, "short GET /bc ");

	/* A prefix over another actor's id: that actor's own routes still answer first. */
	cr_assert_eq(route_prefix_in(tree, "/web", "over-web"), 0);
	expect_body("/web/hello", 200, "hello");
	expect_body("/web", 200, "root");
	expect_body("/web/nothing-here", 200, "over-web GET /nothing-here ");

	/* "/" takes every path nobody else routes, even one that is not /<actor-id>. */
	cr_assert_eq(route_prefix_in(tree, "/", "all"), 0);
	expect_body("/", 200, "all GET / ");
	expect_body("/a@b/x", 200, "all GET /a@b/x ");
	expect_body("/a/x", 200, "short GET /x ");

	actor_terminate(tree);
	cr_assert_eq(actor_wait(tree, 10000), 0);
}

Test(http, a_prefix_has_one_owner_and_ends_with_it)
{
	actor_pid tree;
	cr_assert_eq(actor_spawn(&tree_def, NULL, &tree), 0);
	cr_assert_eq(route_prefix_in(tree, "/owned", "first"), 0);
	/* Another actor cannot take it; its owner can replace the handler. */
	cr_assert_eq(route_prefix_in(web, "/owned", "thief"), ACTOR_EEXIST);
	expect_body("/owned/x", 200, "first GET /x ");
	cr_assert_eq(route_prefix_in(tree, "/owned", "second"), 0);
	expect_body("/owned/x", 200, "second GET /x ");

	/* Bad prefixes, and calls from outside the actor. */
	cr_assert_eq(route_prefix_in(tree, "owned", "x"), ACTOR_EINVAL);
	cr_assert_eq(route_prefix_in(tree, "/a?b", "x"), ACTOR_EINVAL);
	cr_assert_eq(actor_http_route_prefix(NULL, "/y", tagged, "x"), ACTOR_EINVAL);

	/* Unrouted: gone (and the other actor may take it now). */
	route_prefix_in(tree, "/owned/", NULL);
	expect_body("/owned/x", 404, NULL);
	cr_assert_eq(route_prefix_in(web, "/owned", "web's"), 0);
	expect_body("/owned", 200, "web's GET / ");
	route_prefix_in(web, "/owned", NULL);

	/* A prefix route ends with its actor. */
	cr_assert_eq(route_prefix_in(tree, "/mine", "mine"), 0);
	expect_body("/mine/x", 200, "mine GET /x ");
	actor_terminate(tree);
	cr_assert_eq(actor_wait(tree, 10000), 0);
	expect_body("/mine/x", 404, NULL);
}
