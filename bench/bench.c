/* bench.c — the shared helpers of the benchmark programs (see bench.h). */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One benchmark per process, so its identity and flags are process-wide. */
static struct {
	const char *name;
	int argc;
	char **argv;
	const bench_flag *flags;
	size_t nflags;
	int64_t runs;
	const char *peer;
	int port;
} B = {.name = "bench", .runs = 1, .port = -1};

void *bench_alloc_aligned(size_t n, size_t size)
{
	size_t bytes = n * size;
	if (size != 0 && bytes / size != n)
		bench_fail("out of memory");
	/* aligned_alloc wants a multiple of the alignment. */
	bytes = (bytes + BENCH_CACHELINE - 1) / BENCH_CACHELINE * BENCH_CACHELINE;
	if (bytes == 0)
		bytes = BENCH_CACHELINE;
	void *p = aligned_alloc(BENCH_CACHELINE, bytes);
	if (p == NULL)
		bench_fail("out of memory");
	memset(p, 0, bytes);
	return p;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void bench_sort_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
}

uint64_t bench_percentile(const uint64_t *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	/* Nearest rank: the smallest sample with at least p% of samples at or below it. */
	double rank = p / 100.0 * (double)n;
	size_t idx = (size_t)rank;
	if ((double)idx < rank)
		idx++;
	if (idx == 0)
		idx = 1;
	if (idx > n)
		idx = n;
	return sorted[idx - 1];
}

/* Reads one "Key:   N kB" line of /proc/self/status, in bytes. */
static size_t proc_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return 0;
	char line[256];
	size_t klen = strlen(key), kb = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb * 1024;
}

size_t bench_rss_bytes(void)
{
	return proc_status_kb("VmRSS");
}

size_t bench_peak_rss_bytes(void)
{
	return proc_status_kb("VmHWM");
}

static void vlog(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s%s%s: ", B.name, B.peer ? " peer " : "", B.peer ? B.peer : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void bench_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void bench_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(1);
}

/* ---- flags ------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "usage: %s [--NAME=N ...]\n", B.argv[0]);
	for (size_t i = 0; i < B.nflags; i++)
		fprintf(out, "  --%s=N  %s (default %" PRId64 ")\n", B.flags[i].name,
			B.flags[i].help, *B.flags[i].value);
	fprintf(out, "  --runs=N  run N times in fresh processes, print the median run\n");
}

static bool parse_int(const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0')
		return false;
	*out = v;
	return true;
}

static void run_children(void);

void bench_start(const char *name, int argc, char **argv, const bench_flag *flags, size_t n)
{
	B.name = name;
	B.argc = argc;
	B.argv = argv;
	B.flags = flags;
	B.nflags = n;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		const char *eq = strchr(arg, '=');
		if (strncmp(arg, "--", 2) != 0 || eq == NULL) {
			fprintf(stderr, "%s: bad argument '%s'\n", name, arg);
			usage(stderr);
			exit(2);
		}
		const char *key = arg + 2, *val = eq + 1;
		size_t klen = (size_t)(eq - key);
		int64_t v = 0;
		if (klen == 4 && strncmp(key, "peer", 4) == 0) {
			B.peer = val;
			continue;
		}
		if (!parse_int(val, &v)) {
			fprintf(stderr, "%s: '%s' is not an integer in '%s'\n", name, val, arg);
			exit(2);
		}
		if (klen == 4 && strncmp(key, "runs", 4) == 0) {
			B.runs = v;
			continue;
		}
		if (klen == 4 && strncmp(key, "port", 4) == 0) {
			B.port = (int)v;
			continue;
		}
		size_t k;
		for (k = 0; k < n; k++) {
			if (strlen(flags[k].name) == klen && strncmp(flags[k].name, key, klen) == 0) {
				*flags[k].value = v;
				break;
			}
		}
		if (k == n) {
			fprintf(stderr, "%s: unknown flag '%s'\n", name, arg);
			usage(stderr);
			exit(2);
		}
	}
	if (B.runs < 1) {
		fprintf(stderr, "%s: --runs must be at least 1\n", name);
		exit(2);
	}
	if (B.runs > 1 && B.peer == NULL)
		run_children();
}

/* The caller's own arguments without --runs, --peer and --port, for re-exec; the
 * array has room for `extra` more entries and the terminating NULL. */
static char **own_args(size_t extra)
{
	char **args = calloc((size_t)B.argc + extra + 1, sizeof(*args));
	if (args == NULL)
		bench_fail("out of memory");
	size_t k = 0;
	args[k++] = B.argv[0];
	for (int i = 1; i < B.argc; i++) {
		if (strncmp(B.argv[i], "--runs=", 7) == 0 || strncmp(B.argv[i], "--peer=", 7) == 0 ||
		    strncmp(B.argv[i], "--port=", 7) == 0)
			continue;
		args[k++] = B.argv[i];
	}
	return args;
}

static size_t count_args(char **args)
{
	size_t k = 0;
	while (args[k] != NULL)
		k++;
	return k;
}

/* ---- --runs=N: the median of N fresh processes ------------------------------- */

/* Runs the program once more with --runs=1 and returns its stdout (malloc'd), or
 * NULL if it failed. */
static char *run_child(void)
{
	char **args = own_args(1);
	args[count_args(args)] = "--runs=1";
	int fds[2];
	if (pipe(fds) != 0)
		bench_fail("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	close(fds[1]);
	free(args);
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	ssize_t got;
	for (;;) {
		if (len + 1024 > cap) {
			cap *= 2;
			out = realloc(out, cap);
		}
		if (out == NULL)
			bench_fail("out of memory");
		got = read(fds[0], out + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	out[len] = '\0';
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fputs(out, stderr);
		free(out);
		return NULL;
	}
	return out;
}

/* Splits a child's stdout: lines before the last go to stderr (they are logs); the
 * last is parsed as the result object. */
static json_t *child_result(char *out)
{
	size_t len = strlen(out);
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	char *last = strrchr(out, '\n');
	if (last != NULL) {
		*last = '\0';
		fprintf(stderr, "%s\n", out);
		last++;
	} else {
		last = out;
	}
	json_error_t err;
	json_t *obj = json_loads(last, 0, &err);
	if (obj == NULL || !json_is_number(json_object_get(obj, "value")))
		bench_fail("a run printed no result line: '%s'", last);
	return obj;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void run_children(void)
{
	size_t n = (size_t)B.runs;
	json_t **objs = calloc(n, sizeof(*objs));
	double *vals = calloc(n, sizeof(*vals)), *sorted = calloc(n, sizeof(*sorted));
	if (objs == NULL || vals == NULL || sorted == NULL)
		bench_fail("out of memory");
	json_t *all = json_array();
	for (size_t i = 0; i < n; i++) {
		char *out = run_child();
		if (out == NULL)
			bench_fail("run %zu of %zu failed", i + 1, n);
		objs[i] = child_result(out);
		free(out);
		vals[i] = json_number_value(json_object_get(objs[i], "value"));
		sorted[i] = vals[i];
		json_array_append_new(all, json_real(vals[i]));
		bench_log("run %zu of %zu: %g", i + 1, n, vals[i]);
	}
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	double median = sorted[(n - 1) / 2];
	size_t pick = 0;
	while (vals[pick] != median)
		pick++;
	json_object_set_new(objs[pick], "runs", all);
	char *line = json_dumps(objs[pick], JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (line == NULL)
		bench_fail("out of memory");
	printf("%s\n", line);
	fflush(stdout);
	exit(0);
}

/* ---- the result line --------------------------------------------------------- */

struct bench_result {
	json_t *obj;
	json_t *params;
};

static void check(int rc)
{
	if (rc != 0)
		bench_fail("out of memory building the result");
}

bench_result *bench_result_alloc(double value, const char *unit)
{
	bench_result *r = calloc(1, sizeof(*r));
	if (r == NULL)
		bench_fail("out of memory");
	r->obj = json_object();
	r->params = json_object();
	if (r->obj == NULL || r->params == NULL)
		bench_fail("out of memory");
	check(json_object_set_new(r->obj, "bench", json_string(B.name)));
	check(json_object_set_new(r->obj, "value", json_real(value)));
	check(json_object_set_new(r->obj, "unit", json_string(unit)));
	for (size_t i = 0; i < B.nflags; i++)
		check(json_object_set_new(r->params, B.flags[i].name,
					  json_integer(*B.flags[i].value)));
	check(json_object_set(r->obj, "params", r->params));
	return r;
}

void bench_result_extra(bench_result *r, const char *key, double value)
{
	check(json_object_set_new(r->obj, key, json_real(value)));
}

void bench_result_count(bench_result *r, const char *key, int64_t value)
{
	check(json_object_set_new(r->obj, key, json_integer(value)));
}

void bench_result_param(bench_result *r, const char *key, int64_t value)
{
	check(json_object_set_new(r->params, key, json_integer(value)));
}

void bench_result_print(bench_result *r)
{
	check(json_object_set_new(r->obj, "peak_rss_bytes",
				  json_integer((json_int_t)bench_peak_rss_bytes())));
	char *line = json_dumps(r->obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (line == NULL)
		bench_fail("out of memory");
	printf("%s\n", line);
	fflush(stdout);
	free(line);
	json_decref(r->params);
	json_decref(r->obj);
	free(r);
}

/* ---- latch ------------------------------------------------------------------- */

struct bench_latch {
	_Atomic int64_t count;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

bench_latch *bench_latch_alloc(int64_t count)
{
	bench_latch *l = calloc(1, sizeof(*l));
	if (l == NULL)
		bench_fail("out of memory");
	atomic_init(&l->count, count);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&l->mu, NULL);
	l->done = count <= 0;
	return l;
}

void bench_latch_free(bench_latch *l)
{
	if (l == NULL)
		return;
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void bench_latch_count_down(bench_latch *l)
{
	if (atomic_fetch_sub_explicit(&l->count, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_lock(&l->mu);
	l->done = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

int bench_latch_wait(bench_latch *l, int64_t timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	int rc = 0;
	pthread_mutex_lock(&l->mu);
	while (!l->done && rc == 0)
		rc = pthread_cond_timedwait(&l->cv, &l->mu, &dl);
	bool done = l->done;
	pthread_mutex_unlock(&l->mu);
	return done ? 0 : -1;
}

int64_t bench_latch_remaining(const bench_latch *l)
{
	return atomic_load_explicit(&((bench_latch *)l)->count, memory_order_acquire);
}

/* ---- peer processes ---------------------------------------------------------- */

const char *bench_peer_role(void)
{
	return B.peer;
}

int bench_peer_port(void)
{
	return B.port;
}

pid_t bench_peer_spawn(const char *role, int port)
{
	/* Everything the child needs is built before fork: the parent may have threads,
	 * so the child may only make async-signal-safe calls. */
	char peer_arg[128], port_arg[32];
	snprintf(peer_arg, sizeof(peer_arg), "--peer=%s", role);
	snprintf(port_arg, sizeof(port_arg), "--port=%d", port);
	char **args = own_args(2);
	size_t k = count_args(args);
	args[k++] = peer_arg;
	if (port >= 0)
		args[k++] = port_arg;
	pid_t parent = getpid();
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The peer must not outlive a benchmark that failed or was killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	free(args);
	return pid;
}

int bench_peer_wait(pid_t pid, int64_t timeout_ms)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int status;
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			return -1;
		if (bench_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
