/* net.tcp_floor — the floor under remote ping-pong: two OS processes on loopback, a
 * blocking TCP socket with TCP_NODELAY, sequential round trips of a small payload,
 * no runtime at all. Whatever libactor's transport does, it cannot beat this. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

static void nodelay(int fd)
{
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		bench_fail("TCP_NODELAY: %s", strerror(errno));
}

/* Reads exactly len bytes. Returns 0, or -1 on EOF or error. */
static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;
	while (put < len) {
		ssize_t n = write(fd, (const char *)buf + put, len - put);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		put += (size_t)n;
	}
	return 0;
}

/* The peer: connects and echoes every payload until the main process closes. */
static int echo(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		bench_fail("connect to port %d: %s", port, strerror(errno));
	nodelay(fd);
	char *buf = malloc((size_t)size);
	if (buf == NULL)
		bench_fail("out of memory");
	while (read_full(fd, buf, (size_t)size) == 0) {
		if (write_full(fd, buf, (size_t)size) != 0)
			bench_fail("write: %s", strerror(errno));
	}
	free(buf);
	close(fd);
	return 0;
}

/* One round trip: sends payload stamped with i, checks the echo carries it back. */
static void round_trip(int fd, char *out, char *in, uint64_t i)
{
	memcpy(out, &i, sizeof(i));
	if (write_full(fd, out, (size_t)size) != 0)
		bench_fail("write: %s", strerror(errno));
	if (read_full(fd, in, (size_t)size) != 0)
		bench_fail("peer closed after %llu round trips", (unsigned long long)i);
	if (memcmp(in, out, (size_t)size) != 0)
		bench_fail("round trip %llu came back changed", (unsigned long long)i);
}

int main(int argc, char **argv)
{
	bench_start("net.tcp_floor", argc, argv, flags, BENCH_NFLAGS(flags));
	if (size < (int64_t)sizeof(uint64_t) || repeat < 1)
		bench_fail("need --size >= 8 and --repeat >= 1");
	if (bench_peer_role() != NULL)
		return echo(bench_peer_port());

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0)
		bench_fail("listen: %s", strerror(errno));
	pid_t peer = bench_peer_spawn("echo", ntohs(sa.sin_port));

	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	if (poll(&pfd, 1, (int)(timeout_s * 1000)) != 1)
		bench_fail("the peer did not connect");
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		bench_fail("accept: %s", strerror(errno));
	close(lfd);
	nodelay(fd);

	char *out = calloc(1, (size_t)size), *in = malloc((size_t)size);
	uint64_t *samples = malloc((size_t)repeat * sizeof(*samples));
	if (out == NULL || in == NULL || samples == NULL)
		bench_fail("out of memory");
	memset(out, 'x', (size_t)size);
	for (int64_t i = 0; i < warmup; i++)
		round_trip(fd, out, in, (uint64_t)i);

	uint64_t start = bench_now_ns(), prev = start;
	for (int64_t i = 0; i < repeat; i++) {
		round_trip(fd, out, in, (uint64_t)(warmup + i));
		uint64_t now = bench_now_ns();
		samples[i] = now - prev;
		prev = now;
	}
	double elapsed = (double)(prev - start) / 1e9;

	close(fd);
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
