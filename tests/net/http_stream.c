/* Streaming (chunked) responses: chunks reach the client in order and the owner's close
 * ends the body; a client that stops reading fills the stream's bounded buffer and the
 * writer is told (ACTOR_EAGAIN) instead of waiting, while the runtime answers other
 * requests; a client that goes away fires the stream's watcher. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

#define MAX_PENDING 65536

static actor_pid streamer;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int watch_fired;

struct streamer_state {
	actor_http_stream *stream;
};
static struct streamer_state state;

static void over(actor_t *self, void *arg)
{
	pthread_mutex_lock(&mu);
	watch_fired++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static actor_future *events(actor_t *self, const actor_http_request *req, void *arg)
{
	struct streamer_state *st = actor_state(self);
	actor_http_response *res =
	    actor_http_response_stream(200, "text/plain", MAX_PENDING, &st->stream);
	actor_http_response_header(res, "X-Stream", "yes");
	actor_http_stream_watch(st->stream, actor_self(self), over, NULL);
	return actor_http_respond(res);
}

static actor_future *ping(actor_t *self, const actor_http_request *req, void *arg)
{
	return actor_http_reply(200, NULL, "pong", 4);
}

static int streamer_init(actor_t *self)
{
	return actor_http_route(self, "/events", events, NULL) |
	       actor_http_route(self, "/ping", ping, NULL);
}

static void streamer_fini(actor_t *self)
{
	struct streamer_state *st = actor_state(self);
	actor_http_stream_close(st->stream);
	st->stream = NULL;
}

static const actor_def streamer_def = {
    .name = "streamer", .init = streamer_init, .fini = streamer_fini};

static void setup(void)
{
	probe_start(0);
	memset(&state, 0, sizeof(state));
	watch_fired = 0;
	cr_assert_eq(actor_spawn(&streamer_def, &state, &streamer), 0);
}

static void teardown(void)
{
	actor_terminate(streamer);
	actor_wait(streamer, 10000);
	probe_stop();
}

TestSuite(http_stream, .init = setup, .fini = teardown, .timeout = 60);

/* A client connection that has sent POST /streamer/events. */
static int open_stream(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(actor_runtime_http_port()),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	/* A small receive buffer, so that a client that does not read fills up soon. */
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char *req = "POST /streamer/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	return fd;
}

struct write_arg {
	const char *data;
	size_t len;
	bool close;
};

static void *do_write(actor_t *self, void *arg, int *err)
{
	struct write_arg *w = arg;
	struct streamer_state *st = self ? actor_state(self) : NULL;
	int *rv = malloc(sizeof(*rv));
	*rv = ACTOR_ESTATE;
	if (st != NULL && st->stream != NULL) {
		*rv = w->close ? 0 : actor_http_stream_write(st->stream, w->data, w->len);
		if (w->close) {
			actor_http_stream_close(st->stream);
			st->stream = NULL;
		}
	}
	return rv;
}

/* Runs a write (or the close) inside the streamer; its result. */
static int stream_write(const char *data, size_t len, bool close)
{
	struct write_arg w = {data, len, close};
	actor_future *f = actor_dispatch(streamer, do_write, &w, free);
	cr_assert_eq(actor_future_await(f, 10000), 0);
	int rv = *(int *)actor_future_value(f);
	actor_future_unref(f);
	return rv;
}

static bool stream_ready(void *arg)
{
	return state.stream != NULL;
}

static void wait_stream(void)
{
	for (int i = 0; i < 500 && !stream_ready(NULL); i++)
		usleep(10000);
	cr_assert(stream_ready(NULL), "the stream was never opened");
}

static bool wait_watch(int n, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	pthread_mutex_lock(&mu);
	while (watch_fired < n)
		if (pthread_cond_timedwait(&cv, &mu, &ts) != 0)
			break;
	bool ok = watch_fired >= n;
	pthread_mutex_unlock(&mu);
	return ok;
}

Test(http_stream, chunks_arrive_in_order_and_close_ends_the_body)
{
	int fd = open_stream();
	wait_stream();
	cr_assert_eq(stream_write("one", 3, false), 0);
	cr_assert_eq(stream_write("second", 6, false), 0);
	cr_assert_eq(stream_write(NULL, 0, true), 0);

	char buf[4096];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	cr_expect(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", buf);
	cr_expect(strstr(buf, "Transfer-Encoding: chunked\r\n") != NULL, "%s", buf);
	cr_expect(strstr(buf, "X-Stream: yes\r\n") != NULL, "%s", buf);
	const char *body = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(body);
	cr_expect_str_eq(body + 4, "3\r\none\r\n6\r\nsecond\r\n0\r\n\r\n");
	cr_expect(wait_watch(1, 10000), "the watcher did not run when the stream ended");
}

Test(http_stream, a_client_that_stops_reading_fills_the_bound_and_the_writer_is_told)
{
	static char chunk[8192];
	memset(chunk, 'x', sizeof(chunk));
	int fd = open_stream();
	wait_stream();

	/* The client reads nothing: socket buffers fill, then the stream's own. */
	int rv = 0, writes = 0;
	for (; writes < 20000 && rv == 0; writes++) {
		rv = stream_write(chunk, sizeof(chunk), false);
		if (rv == 0 && writes % 64 == 63)
			usleep(1000); /* let nng hand what it can to the socket */
	}
	cr_assert_eq(rv, ACTOR_EAGAIN, "after %d writes: %s", writes, actor_strerror(rv));
	/* Bounded: never more than the limit waits in the stream. */
	char *body = NULL;
	cr_expect_eq(
	    http_call(actor_runtime_http_port(), "GET", "/streamer/ping", NULL, NULL, 0, &body),
	    200, "the runtime stopped answering while a stream was full");
	free(body);

	/* The client goes away: the watcher runs, and writes fail from then on. */
	close(fd);
	cr_assert(wait_watch(1, 10000), "the watcher did not run when the client left");
	cr_expect_eq(stream_write("late", 4, false), ACTOR_ECONN);
}
