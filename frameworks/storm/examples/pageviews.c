/* pageviews.c — rolling page views per URL per minute from a generated event stream:
 * a window bolt over a sliding one-minute window, fields-grouped by URL, that sends
 * each window's counts directly to one reporter task, which writes a report on every
 * tick.
 *
 * Streams: the spout emits on "views" (url, user); the window bolt emits on "counts"
 * (url, views, window) with a direct grouping to the reporter that owns the URL.
 *
 * Configuration (submit --conf):
 *   pv.events=N        events to emit (0: without end), ids 0..N-1
 *   pv.urls=N          distinct URLs (default 50)
 *   pv.window_ms=MS    window length (default 60000), pv.slide_ms=MS (default 10000;
 *                      equal to the length: tumbling windows)
 *   pv.window_count=N  count windows of N tuples instead (pv.slide_count, default N)
 *   pv.report_ms=MS    the reporter's tick (default 5000)
 *   pv.out=DIR         the reporter appends "url views window" lines to
 *                      DIR/report-<task>.txt as windows close, and a top-5 line per
 *                      tick to DIR/top-<task>.txt */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pageviews_gen.h"
#include "storm/storm.h"

/* ---- spout ---- */

struct events {
	uint64_t next, total;
	int urls;
	uint64_t *replay;
	size_t nreplay, capreplay;
};

static void *events_open(stm_ctx *c, void *arg)
{
	struct events *e = calloc(1, sizeof(*e));
	if (e == NULL)
		abort();
	e->total = (uint64_t)stm_ctx_conf_int(c, "pv.events", 0);
	e->urls = (int)stm_ctx_conf_int(c, "pv.urls", 50);
	if (e->urls < 1)
		e->urls = 1;
	return e;
}

static void emit_event(stm_ctx *c, struct events *e, uint64_t id)
{
	char url[32];
	int len = snprintf(url, sizeof(url), "/page/%d", pv_url(id, e->urls));
	stm_value v[2] = {stm_strn(url, (size_t)len), stm_int((int64_t)(id % 1000))};
	stm_spout_emit(c, "views", v, 2, true, id);
}

static void events_next(stm_ctx *c, void *state)
{
	struct events *e = state;
	if (e->nreplay > 0) {
		emit_event(c, e, e->replay[--e->nreplay]);
		return;
	}
	if (e->total != 0 && e->next >= e->total)
		return;
	emit_event(c, e, e->next++);
}

static void events_fail(stm_ctx *c, void *state, uint64_t id)
{
	struct events *e = state;
	if (e->nreplay == e->capreplay) {
		size_t cap = e->capreplay ? e->capreplay * 2 : 256;
		uint64_t *r = realloc(e->replay, cap * sizeof(*r));
		if (r == NULL)
			return;
		e->replay = r;
		e->capreplay = cap;
	}
	e->replay[e->nreplay++] = id;
}

static void events_close(stm_ctx *c, void *state)
{
	struct events *e = state;
	free(e->replay);
	free(e);
}

static const stm_spout_def event_spout = {
    .open = events_open, .next_tuple = events_next, .fail = events_fail, .close = events_close};

/* ---- the window ---- */

struct window_state {
	int64_t windows;
	int reporters[64];
	size_t nreporters;
};

static void *window_prepare(stm_ctx *c, void *arg)
{
	struct window_state *w = calloc(1, sizeof(*w));
	if (w == NULL)
		abort();
	w->nreporters = stm_ctx_component_tasks(c, "report", w->reporters, 64);
	if (w->nreporters > 64)
		w->nreporters = 64;
	return w;
}

static int cmp_str(const void *a, const void *b)
{
	const stm_tuple *const *x = a, *const *y = b;
	size_t lx, ly;
	const char *sx = stm_tuple_string(*x, 0, &lx), *sy = stm_tuple_string(*y, 0, &ly);
	int r = memcmp(sx, sy, lx < ly ? lx : ly);
	return r != 0 ? r : (lx > ly) - (lx < ly);
}

static void window_fire(stm_ctx *c, void *state, const stm_tuple *const *tuples, size_t n)
{
	struct window_state *w = state;
	w->windows++;
	if (n == 0 || w->nreporters == 0)
		return;
	/* Count by URL: sort a copy of the list, then runs of equal URLs. */
	const stm_tuple **sorted = malloc(n * sizeof(*sorted));
	if (sorted == NULL)
		return;
	memcpy(sorted, tuples, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && cmp_str(&sorted[i], &sorted[j]) == 0)
			j++;
		size_t len;
		const char *url = stm_tuple_string(sorted[i], 0, &len);
		uint64_t h = 1469598103934665603ULL;
		for (size_t k = 0; k < len; k++)
			h = (h ^ (uint8_t)url[k]) * 1099511628211ULL;
		int to = w->reporters[h % w->nreporters];
		/* The window's id names its task too: <task> * 1000000 + <window>. */
		stm_value v[3] = {stm_strn(url, len), stm_int((int64_t)(j - i)),
		                  stm_int((int64_t)stm_ctx_task(c) * 1000000 + w->windows)};
		/* Anchored to the window's tuples of this URL. */
		stm_emit_direct(c, to, "counts", (const stm_tuple *const *)&sorted[i],
		                j - i > 8 ? 8 : j - i, v, 3);
		i = j;
	}
	free(sorted);
}

static void window_cleanup(stm_ctx *c, void *state)
{
	free(state);
}

static stm_window_def time_window = {
    .prepare = window_prepare, .on_window = window_fire, .cleanup = window_cleanup};
static stm_window_def count_window = {
    .prepare = window_prepare, .on_window = window_fire, .cleanup = window_cleanup};

/* ---- the reporter ---- */

struct report {
	int fd, top_fd;
	struct {
		char url[32];
		int64_t views;
	} latest[256];
	int n;
};

static int open_out(stm_ctx *c, const char *what)
{
	const char *dir = stm_ctx_conf(c, "pv.out", NULL);
	char path[512];
	if (dir == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s-%d.txt", dir, what, stm_ctx_task(c));
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void *report_prepare(stm_ctx *c, void *arg)
{
	struct report *r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->fd = open_out(c, "report");
	r->top_fd = open_out(c, "top");
	return r;
}

static void report_execute(stm_ctx *c, void *state, const stm_tuple *t)
{
	struct report *r = state;
	if (stm_tuple_is_tick(t)) {
		/* Every tick: the five URLs with the most views in their latest window. */
		char line[512];
		int len = 0;
		bool used[256] = {false};
		for (int k = 0; k < 5; k++) {
			int best = -1;
			for (int i = 0; i < r->n; i++)
				if (!used[i] &&
				    (best < 0 || r->latest[i].views > r->latest[best].views))
					best = i;
			if (best < 0)
				break;
			used[best] = true;
			len += snprintf(line + len, sizeof(line) - (size_t)len, "%s=%lld ",
			                r->latest[best].url, (long long)r->latest[best].views);
		}
		line[len > 0 ? len - 1 : 0] = '\n';
		if (r->top_fd >= 0 && len > 0 && write(r->top_fd, line, (size_t)len) != len)
			return;
		return;
	}
	size_t ulen;
	const char *url = stm_tuple_string(t, 0, &ulen);
	int64_t views = stm_tuple_int(t, 1);
	if (r->fd >= 0) {
		char line[128];
		int n = snprintf(line, sizeof(line), "%.*s %lld %lld\n", (int)ulen, url,
		                 (long long)views, (long long)stm_tuple_int(t, 2));
		if (write(r->fd, line, (size_t)n) != n) {
			stm_fail(c, t);
			return;
		}
	}
	int i = 0;
	while (i < r->n &&
	       (strlen(r->latest[i].url) != ulen || memcmp(r->latest[i].url, url, ulen)))
		i++;
	if (i == r->n && r->n < 256 && ulen < sizeof(r->latest[0].url)) {
		memcpy(r->latest[i].url, url, ulen);
		r->latest[i].url[ulen] = '\0';
		r->n++;
	}
	if (i < r->n)
		r->latest[i].views = views;
}

static void report_cleanup(stm_ctx *c, void *state)
{
	struct report *r = state;
	if (r->fd >= 0)
		close(r->fd);
	if (r->top_fd >= 0)
		close(r->top_fd);
	free(r);
}

static const stm_bolt_def report_bolt = {
    .prepare = report_prepare, .execute = report_execute, .cleanup = report_cleanup};

static void build(stm_topology *t, void *arg)
{
	stm_component *spout = stm_spout(t, "events", &event_spout, NULL, 1);
	stm_declare(spout, "views", 2, "url", "user");
	int64_t count = stm_conf_int(t, "pv.window_count", 0);
	stm_window_def *def = &time_window;
	if (count > 0) {
		def = &count_window;
		def->length_count = count;
		def->slide_count = stm_conf_int(t, "pv.slide_count", count);
	} else {
		def->length_ms = stm_conf_int(t, "pv.window_ms", 60000);
		def->slide_ms = stm_conf_int(t, "pv.slide_ms", 10000);
		/* A tuple is acked when it leaves its last window. */
		stm_set_message_timeout_ms(t, def->length_ms + def->slide_ms + 30000);
	}
	stm_component *win = stm_window_bolt(t, "window", def, NULL, 2);
	stm_declare(win, "counts", 3, "url", "views", "window");
	stm_fields(win, "events", "views", 1, "url");
	stm_component *report = stm_bolt(t, "report", &report_bolt, NULL, 2);
	stm_declare(report, NULL, 0);
	stm_direct(report, "window", "counts");
	stm_tick_every(report, stm_conf_int(t, "pv.report_ms", 5000));
	stm_set_workers(t, 2);
}

int main(int argc, char **argv)
{
	return stm_main(argc, argv, build, NULL);
}
