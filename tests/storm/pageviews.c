/* pageviews.c — the rolling page-view topology on a real `plexus local`: time windows
 * fed by a fields grouping on a named stream, counts sent by direct grouping, a
 * reporter driven by tick tuples. With tumbling windows every view is in exactly one
 * window, so the reported counts add up to the reference. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "pageviews_gen.h"
#include "storm_harness.h"

#define EVENTS 3000
#define URLS   20

TestSuite(storm_pageviews, .init = sh_init, .fini = sh_fini, .timeout = 240);

static bool all_acked(void *arg)
{
	json_t *v = sh_nimbus("pv");
	bool ok = v != NULL && sh_component(v, "events", "acked") >= EVENTS;
	json_decref(v);
	return ok;
}

/* Sums the views per URL in files matching pattern; lines read. */
static int64_t read_reports(const char *pattern, int64_t *views, int64_t *reporters_per_url)
{
	glob_t g;
	int64_t lines = 0;
	int owner[URLS];
	for (int i = 0; i < URLS; i++)
		owner[i] = -1;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t f = 0; f < g.gl_pathc; f++) {
		FILE *in = fopen(g.gl_pathv[f], "r");
		int url;
		long long n, window;
		while (in != NULL && fscanf(in, "/page/%d %lld %lld\n", &url, &n, &window) == 3) {
			lines++;
			if (url < 0 || url >= URLS)
				continue;
			views[url] += n;
			if (owner[url] != (int)f) {
				reporters_per_url[url]++;
				owner[url] = (int)f;
			}
		}
		if (in != NULL)
			fclose(in);
	}
	globfree(&g);
	return lines;
}

static bool all_reported(void *arg)
{
	int64_t got[URLS] = {0}, reporters[URLS] = {0}, sum = 0;
	char pattern[400];
	snprintf(pattern, sizeof(pattern), "%s/out/report-*.txt", sh_dir());
	read_reports(pattern, got, reporters);
	for (int u = 0; u < URLS; u++)
		sum += got[u];
	return sum >= EVENTS;
}

Test(storm_pageviews, tumbling_windows_add_up_to_the_reference)
{
	int port = sh_local_start(2);
	char m[64], out[400], *text = NULL;
	snprintf(m, sizeof(m), "--master=127.0.0.1:%d", port);
	snprintf(out, sizeof(out), "--conf=pv.out=%s/out", sh_dir());
	const char *args[] = {"submit",
	                      m,
	                      out,
	                      "--conf=pv.events=3000",
	                      "--conf=pv.urls=20",
	                      "--conf=pv.window_ms=400",
	                      "--conf=pv.slide_ms=400",
	                      "--conf=pv.report_ms=200",
	                      PAGEVIEWS_PATH,
	                      "pv",
	                      NULL};
	cr_assert_eq(sh_storm(&text, args), 0, "submit: %s", text);
	free(text);
	cr_assert(sh_wait(60000, all_acked, NULL), "every view left its window and was acked");
	/* A window's counts reach the reporters right after its views are acked. */
	cr_assert(sh_wait(30000, all_reported, NULL), "every view was reported");

	int64_t ref[URLS] = {0}, got[URLS] = {0}, reporters[URLS] = {0};
	for (uint64_t id = 0; id < EVENTS; id++)
		ref[pv_url(id, URLS)]++;
	char pattern[400];
	snprintf(pattern, sizeof(pattern), "%s/out/report-*.txt", sh_dir());
	int64_t lines = read_reports(pattern, got, reporters);
	cr_expect_gt(lines, URLS, "several windows closed: %lld report lines", (long long)lines);
	for (int u = 0; u < URLS; u++) {
		cr_expect_eq(got[u], ref[u], "/page/%d: %lld views reported, %lld generated", u,
		             (long long)got[u], (long long)ref[u]);
		cr_expect_leq(reporters[u], 1, "/page/%d reaches one reporter (direct grouping)",
		              u);
	}
	/* The reporters' ticks wrote top lists. */
	snprintf(pattern, sizeof(pattern), "%s/out/top-*.txt", sh_dir());
	glob_t g;
	cr_expect_eq(glob(pattern, 0, NULL, &g), 0, "tick tuples drove the top lists");
	globfree(&g);
	json_t *v = sh_nimbus("pv");
	cr_expect_eq(sh_component(v, "events", "failed"), 0);
	json_decref(v);
}

/* Views per window id in the report files. */
struct windows {
	int64_t ids[4096], views[4096];
	int n;
};

static void read_windows(struct windows *w)
{
	char pattern[400];
	glob_t g;
	w->n = 0;
	snprintf(pattern, sizeof(pattern), "%s/out/report-*.txt", sh_dir());
	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t f = 0; f < g.gl_pathc; f++) {
		FILE *in = fopen(g.gl_pathv[f], "r");
		int url;
		long long n, id;
		while (in != NULL && fscanf(in, "/page/%d %lld %lld\n", &url, &n, &id) == 3) {
			int k = 0;
			while (k < w->n && w->ids[k] != id)
				k++;
			if (k == w->n && w->n < 4096)
				w->ids[w->n++] = id;
			if (k < w->n)
				w->views[k] += n;
		}
		if (in != NULL)
			fclose(in);
	}
	globfree(&g);
}

static bool windows_closed(void *arg)
{
	struct windows *w = arg;
	read_windows(w);
	return w->n >= 6;
}

Test(storm_pageviews, count_windows_hold_exactly_their_length)
{
	int port = sh_local_start(2);
	char m[64], out[400], *text = NULL;
	snprintf(m, sizeof(m), "--master=127.0.0.1:%d", port);
	snprintf(out, sizeof(out), "--conf=pv.out=%s/out", sh_dir());
	const char *args[] = {"submit",
	                      m,
	                      out,
	                      "--conf=pv.events=3000",
	                      "--conf=pv.window_count=100",
	                      "--conf=pv.slide_count=100",
	                      PAGEVIEWS_PATH,
	                      "pv",
	                      NULL};
	cr_assert_eq(sh_storm(&text, args), 0, "submit: %s", text);
	free(text);
	/* A finite stream keeps the report small; a window task's last partial window
	 * never fires, and only full windows are checked. */
	static struct windows w;
	cr_assert(sh_wait(60000, windows_closed, &w), "count windows closed");
	/* The last window read may be half written: all but the newest are complete. */
	int full = 0;
	for (int k = 0; k < w.n; k++) {
		int64_t id = w.ids[k];
		bool newest = true;
		for (int j = 0; j < w.n; j++)
			if (w.ids[j] / 1000000 == id / 1000000 && w.ids[j] > id)
				newest = false;
		if (newest)
			continue;
		cr_expect_eq(w.views[k], 100, "window %lld holds %lld views", (long long)id,
		             (long long)w.views[k]);
		full++;
	}
	cr_expect_geq(full, 4);
}

Test(storm_pageviews, a_window_longer_than_the_timeout_is_refused)
{
	char *text = NULL;
	const char *argv[] = {PAGEVIEWS_PATH, "--stm-describe", "--conf=pv.window_ms=60000",
	                      "--conf=topology.message.timeout.ms=1000", NULL};
	cr_expect_neq(sh_run(&text, 10000, argv), 0, "refused");
	free(text);
}
