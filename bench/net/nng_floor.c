/* net.nng_floor — net.tcp_floor over bare nng: an nng_stream on tcp:// with
 * synchronous aio (start, then nng_aio_wait), no runtime. Each send and receive is
 * completed on nng's own threads, so this is the floor an nng transport can reach
 * with one operation per message; the gap to net.tcp_floor is nng's hand-offs. */
#include <nng/nng.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int64_t repeat = 100000;
static int64_t size = 16;
static int64_t warmup = 1000;
static int64_t timeout_s = 120;

static const bench_flag flags[] = {
	{"repeat", &repeat, "timed round trips"},
	{"size", &size, "payload bytes each way"},
	{"warmup", &warmup, "untimed round trips first"},
	{"timeout_s", &timeout_s, "give up after this many seconds"},
};

/* Sends (or receives) exactly len bytes on s, one synchronous aio at a time.
 * Returns 0 or the nng error (NNG_ECLOSED when the peer is gone). */
static int xfer(nng_stream *s, nng_aio *aio, void *buf, size_t len, bool send)
{
	size_t done = 0;
	while (done < len) {
		nng_iov iov = {.iov_buf = (char *)buf + done, .iov_len = len - done};
		int rv = nng_aio_set_iov(aio, 1, &iov);
		if (rv != 0)
			return rv;
		if (send)
			nng_stream_send(s, aio);
		else
			nng_stream_recv(s, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0)
			return rv;
		done += nng_aio_count(aio);
	}
	return 0;
}

/* The peer: dials and echoes every payload until the main process closes. */
static int echo(int port)
{
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	nng_stream_dialer *d;
	nng_aio *aio;
	int rv;
	if ((rv = nng_stream_dialer_alloc(&d, url)) != 0 || (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		bench_fail("dialer: %s", nng_strerror(rv));
	nng_stream_dialer_dial(d, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		bench_fail("dial %s: %s", url, nng_strerror(rv));
	nng_stream *s = nng_aio_get_output(aio, 0);
	char *buf = malloc((size_t)size);
	if (buf == NULL)
		bench_fail("out of memory");
	while (xfer(s, aio, buf, (size_t)size, false) == 0) {
		if ((rv = xfer(s, aio, buf, (size_t)size, true)) != 0)
			bench_fail("send: %s", nng_strerror(rv));
	}
	free(buf);
	nng_stream_close(s);
	nng_stream_free(s);
	nng_aio_free(aio);
	nng_stream_dialer_free(d);
	return 0;
}

static void round_trip(nng_stream *s, nng_aio *aio, char *out, char *in, uint64_t i)
{
	int rv;
	memcpy(out, &i, sizeof(i));
	if ((rv = xfer(s, aio, out, (size_t)size, true)) != 0)
		bench_fail("send: %s", nng_strerror(rv));
	if ((rv = xfer(s, aio, in, (size_t)size, false)) != 0)
		bench_fail("receive after %llu round trips: %s", (unsigned long long)i,
			   nng_strerror(rv));
	if (memcmp(in, out, (size_t)size) != 0)
		bench_fail("round trip %llu came back changed", (unsigned long long)i);
}

int main(int argc, char **argv)
{
	bench_start("net.nng_floor", argc, argv, flags, BENCH_NFLAGS(flags));
	if (size < (int64_t)sizeof(uint64_t) || repeat < 1)
		bench_fail("need --size >= 8 and --repeat >= 1");
	if (bench_peer_role() != NULL)
		return echo(bench_peer_port());

	nng_stream_listener *l;
	nng_aio *aio;
	int rv, port;
	if ((rv = nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0")) != 0 ||
	    (rv = nng_stream_listener_listen(l)) != 0 ||
	    (rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		bench_fail("listen: %s", nng_strerror(rv));
	pid_t peer = bench_peer_spawn("echo", port);

	nng_aio_set_timeout(aio, (nng_duration)(timeout_s * 1000));
	nng_stream_listener_accept(l, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		bench_fail("accept: %s", nng_strerror(rv));
	nng_stream *s = nng_aio_get_output(aio, 0);
	nng_aio_set_timeout(aio, NNG_DURATION_DEFAULT);
	/* nng turns TCP_NODELAY on by default; set it anyway so the floor never depends
	 * on a default. */
	bool on = true;
	if ((rv = nng_stream_set(s, NNG_OPT_TCP_NODELAY, &on, sizeof(on))) != 0)
		bench_fail("TCP_NODELAY: %s", nng_strerror(rv));

	char *out = calloc(1, (size_t)size), *in = malloc((size_t)size);
	uint64_t *samples = malloc((size_t)repeat * sizeof(*samples));
	if (out == NULL || in == NULL || samples == NULL)
		bench_fail("out of memory");
	memset(out, 'x', (size_t)size);
	for (int64_t i = 0; i < warmup; i++)
		round_trip(s, aio, out, in, (uint64_t)i);

	uint64_t start = bench_now_ns(), prev = start;
	for (int64_t i = 0; i < repeat; i++) {
		round_trip(s, aio, out, in, (uint64_t)(warmup + i));
		uint64_t now = bench_now_ns();
		samples[i] = now - prev;
		prev = now;
	}
	double elapsed = (double)(prev - start) / 1e9;

	nng_stream_close(s);
	nng_stream_free(s);
	nng_aio_free(aio);
	nng_stream_listener_free(l);
	if (bench_peer_wait(peer, timeout_s * 1000) != 0)
		bench_fail("the echo peer failed");

	bench_sort_u64(samples, (size_t)repeat);
	bench_result *r = bench_result_alloc((double)repeat / elapsed, "roundtrips/s");
	bench_result_extra(r, "p50_us", (double)bench_percentile(samples, (size_t)repeat, 50) / 1e3);
	bench_result_extra(r, "p99_us", (double)bench_percentile(samples, (size_t)repeat, 99) / 1e3);
	bench_result_extra(r, "elapsed_s", elapsed);
	bench_result_print(r);
	free(samples);
	free(out);
	free(in);
	return 0;
}
