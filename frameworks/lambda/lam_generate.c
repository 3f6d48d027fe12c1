/* lam_generate.c — `plexus lambda generate`: the event source. Page views (time, url,
 * user) at a set rate, appended to the master dataset (lam_dataset.h) in buckets of
 * event time, with the ground truth (views per URL generated so far) written beside it
 * after the events it counts are on disk. It runs as a task on the cluster.
 *
 * URLs follow a Zipf-like law (the k-th URL is viewed about 1/k as often as the first)
 * from a seeded generator, so runs with the same seed make the same sequence of URLs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <plexus/util.h>

#include "lam_cmd.h"
#include "lam_dataset.h"

#define FLUSH_MS 5    /* events reach the file (and the speed layer) this often */
#define TRUTH_MS 100  /* the ground truth is rewritten this often */
#define MAX_URLS 1000

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static const char *const named[] = {"/home",  "/products", "/cart",   "/search", "/about",
                                    "/blog",  "/checkout", "/login",  "/help",   "/pricing"};

struct gen {
	const char *dir;
	int64_t bucket_ms, rate, limit;
	int nurls;
	char urls[MAX_URLS][32];
	double cdf[MAX_URLS];
	int64_t counts[MAX_URLS];
	int64_t generated, started_ms, latest_ms;
	uint64_t rng;
	int fd;
	int64_t bucket; /* open bucket, -1 none */
	char *buf;
	size_t len, cap;
};

static uint64_t next_rand(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static int pick_url(struct gen *g)
{
	double x = (double)(next_rand(g) >> 11) / 9007199254740992.0;
	int lo = 0, hi = g->nurls - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (g->cdf[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int flush_events(struct gen *g)
{
	size_t off = 0;
	while (off < g->len) {
		ssize_t w = write(g->fd, g->buf + off, g->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "lambda generate: writing bucket %lld: %s\n",
			        (long long)g->bucket, strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	g->len = 0;
	return 0;
}

/* Closes the open bucket: its file becomes <B>.log, never to change again. */
static int close_bucket(struct gen *g)
{
	if (g->bucket < 0)
		return 0;
	if (flush_events(g) != 0 || fsync(g->fd) != 0 || close(g->fd) != 0)
		return -1;
	char from[1024], to[1024];
	lam_bucket_path(g->dir, g->bucket, false, from, sizeof(from));
	lam_bucket_path(g->dir, g->bucket, true, to, sizeof(to));
	g->bucket = -1;
	g->fd = -1;
	return rename(from, to);
}

static int open_bucket(struct gen *g, int64_t bucket)
{
	char path[1024];
	lam_bucket_path(g->dir, bucket, false, path, sizeof(path));
	g->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (g->fd < 0) {
		fprintf(stderr, "lambda generate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	g->bucket = bucket;
	return 0;
}

static int write_truth(struct gen *g, bool done)
{
	json_t *urls = json_object();
	for (int i = 0; i < g->nurls; i++)
		if (g->counts[i] > 0)
			json_object_set_new(urls, g->urls[i], json_integer(g->counts[i]));
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:o}", "generated",
	                      (json_int_t)g->generated, "rate", (json_int_t)g->rate, "bucket_ms",
	                      (json_int_t)g->bucket_ms, "started_ms", (json_int_t)g->started_ms,
	                      "latest_ms", (json_int_t)g->latest_ms, "done", done, "urls", urls);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	char path[1024];
	snprintf(path, sizeof(path), "%s/_truth.json", g->dir);
	int rc = text ? lam_write_atomic(path, text, strlen(text)) : -1;
	free(text);
	return rc;
}

static int append_event(struct gen *g, int64_t now)
{
	int64_t bucket = now / g->bucket_ms;
	if (bucket != g->bucket) {
		if (close_bucket(g) != 0 || open_bucket(g, bucket) != 0)
			return -1;
	}
	if (g->cap - g->len < 256) {
		size_t cap = g->cap ? g->cap * 2 : 1 << 20;
		char *b = realloc(g->buf, cap);
		if (b == NULL)
			return -1;
		g->buf = b;
		g->cap = cap;
	}
	int u = pick_url(g);
	unsigned user = (unsigned)(next_rand(g) % 100000);
	g->len += (size_t)snprintf(g->buf + g->len, g->cap - g->len, "%lld %s u%u\n",
	                           (long long)now, g->urls[u], user);
	g->counts[u]++;
	g->generated++;
	g->latest_ms = now;
	return 0;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int usage(void)
{
	fprintf(stderr, "usage: plexus lambda generate --dataset=DIR [--rate=N] [--events=N] "
	                "[--urls=N] [--bucket=DURATION] [--seed=N]\n");
	return 2;
}

int lam_cmd_generate(int argc, char **argv)
{
	struct gen *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return 1;
	g->rate = 1000;
	g->nurls = 50;
	g->bucket_ms = 60000;
	g->bucket = -1;
	g->fd = -1;
	g->rng = 0x9e3779b97f4a7c15ull;
	static const struct option opts[] = {
	    {"dataset", required_argument, NULL, 'd'}, {"rate", required_argument, NULL, 'r'},
	    {"events", required_argument, NULL, 'n'},  {"urls", required_argument, NULL, 'u'},
	    {"bucket", required_argument, NULL, 'b'},  {"seed", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': g->dir = optarg; break;
		case 'r': g->rate = atoll(optarg); break;
		case 'n': g->limit = atoll(optarg); break;
		case 'u': g->nurls = atoi(optarg); break;
		case 'b':
			if (!px_duration_parse(optarg, &g->bucket_ms) || g->bucket_ms < 10) {
				fprintf(stderr, "lambda generate: --bucket: '%s' is not a duration "
				                "of at least 10ms\n", optarg);
				free(g);
				return 2;
			}
			break;
		case 's': g->rng = strtoull(optarg, NULL, 10) * 0x9e3779b97f4a7c15ull | 1; break;
		default: free(g); return usage();
		}
	}
	if (g->dir == NULL || g->rate < 0 || g->limit < 0 || g->nurls < 1 ||
	    g->nurls > MAX_URLS) {
		free(g);
		return usage();
	}
	double total = 0;
	for (int i = 0; i < g->nurls; i++) {
		if (i < (int)(sizeof(named) / sizeof(named[0])))
			snprintf(g->urls[i], sizeof(g->urls[i]), "%s", named[i]);
		else
			snprintf(g->urls[i], sizeof(g->urls[i]), "/page/%d", i);
		total += 1.0 / (i + 1);
		g->cdf[i] = total;
	}
	for (int i = 0; i < g->nurls; i++)
		g->cdf[i] /= total;
	g->cdf[g->nurls - 1] = 1.0;

	char path[1024];
	snprintf(path, sizeof(path), "%s/events", g->dir);
	mkdir(g->dir, 0755);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "lambda generate: %s: %s\n", path, strerror(errno));
		free(g);
		return 1;
	}
	if (lam_dataset_write_meta(g->dir, g->bucket_ms) != 0) {
		fprintf(stderr, "lambda generate: cannot write %s/_dataset.json\n", g->dir);
		free(g);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	g->started_ms = lam_now_ms();
	fprintf(stderr, "lambda generate: %lld events/s into %s (buckets of %lld ms)%s\n",
	        (long long)g->rate, g->dir, (long long)g->bucket_ms,
	        g->limit ? "" : ", until stopped");
	int rc = 0;
	int64_t last_truth = 0;
	while (!stopping && (g->limit == 0 || g->generated < g->limit)) {
		int64_t now = lam_now_ms();
		/* Events due by now at the set rate (rate 0: as fast as possible). */
		int64_t due = g->rate == 0 ? g->generated + 10000
		                           : (now - g->started_ms) * g->rate / 1000 + 1;
		if (g->limit && due > g->limit)
			due = g->limit;
		while (g->generated < due && rc == 0)
			rc = append_event(g, g->rate == 0 ? now : lam_now_ms());
		if (rc != 0 || flush_events(g) != 0) {
			rc = 1;
			break;
		}
		if (now - last_truth >= TRUTH_MS) {
			last_truth = now;
			if (write_truth(g, false) != 0)
				fprintf(stderr, "lambda generate: cannot write the ground truth\n");
		}
		if (g->rate != 0)
			sleep_ms(FLUSH_MS);
	}
	if (close_bucket(g) != 0) {
		fprintf(stderr, "lambda generate: closing the last bucket: %s\n", strerror(errno));
		rc = 1;
	}
	write_truth(g, true);
	fprintf(stderr, "lambda generate: %lld events\n", (long long)g->generated);
	free(g->buf);
	free(g);
	return rc;
}
