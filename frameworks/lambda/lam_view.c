/* lam_view.c — see lam_view.h. Shares are Dominant Resource Fairness's: a framework's
 * largest fraction of any one resource of the cluster (cpus or mem) that its tasks use. */
#include "lam_view.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cas_discover.h"
#include "lam_dataset.h"
#include "lam_serve.h"

static void bar(FILE *out, double share, int width)
{
	int full = (int)(share * width + 0.5);
	for (int i = 0; i < width; i++)
		fputs(i < full ? "\u2588" : "\u00b7", out);
}

static void shares(FILE *out, const char *master)
{
	char err[256];
	int status = 0;
	char *body = cas_http(master, "GET", "/master/state", NULL, NULL, &status, err, sizeof(err));
	json_t *st = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
	free(body);
	if (st == NULL) {
		fprintf(out, "  (cluster state unavailable: %s)\n", status ? "bad answer" : err);
		return;
	}
	double cpus = 0, mem = 0;
	json_t *agents = json_object_get(st, "slaves"), *a;
	size_t i;
	json_array_foreach(agents, i, a) {
		cpus += json_number_value(json_object_get(json_object_get(a, "resources"), "cpus"));
		mem += json_number_value(json_object_get(json_object_get(a, "resources"), "mem"));
	}
	fprintf(out, "%-22s %-27s %6s %6s %7s  %s\n", "framework", "DRF share", "", "cpus", "mem",
	        "running tasks per agent");
	json_t *fw;
	json_array_foreach(json_object_get(st, "frameworks"), i, fw) {
		json_t *used = json_object_get(fw, "used_resources");
		double c = json_number_value(json_object_get(used, "cpus"));
		double m = json_number_value(json_object_get(used, "mem"));
		double share = cpus > 0 ? c / cpus : 0;
		if (mem > 0 && m / mem > share)
			share = m / mem;
		fprintf(out, "%-22.22s ", json_string_value(json_object_get(fw, "name")));
		bar(out, share, 20);
		fprintf(out, " %5.1f%% %6.1f %7.0f ", share * 100, c, m);
		size_t j;
		json_t *ag;
		json_array_foreach(agents, j, ag) {
			const char *id = json_string_value(json_object_get(ag, "id"));
			int n = 0;
			size_t k;
			json_t *t;
			json_array_foreach(json_object_get(fw, "tasks"), k, t) {
				const char *sid = json_string_value(json_object_get(t, "slave_id"));
				const char *state = json_string_value(json_object_get(t, "state"));
				if (id && sid && strcmp(id, sid) == 0 && state &&
				    strcmp(state, "TASK_RUNNING") == 0)
					n++;
			}
			fprintf(out, " agent%zu:%d", j + 1, n);
		}
		fputc('\n', out);
	}
	json_decref(st);
}

static void clock_text(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, n, "%H:%M:%S", &tm);
}

int lam_view_render(FILE *out, const char *master, const char *dataset, lam_store *store,
                    int top, bool clear)
{
	char path[1100], err[512], when[32];
	snprintf(path, sizeof(path), "%s/_truth.json", dataset);
	json_t *truth = json_load_file(path, 0, NULL);
	json_t *turls = json_object_get(truth, "urls");
	int64_t now = lam_now_ms(), bucket_ms = lam_dataset_bucket_ms(dataset);
	if (clear)
		fputs("\033[H\033[2J", out);
	clock_text(now, when, sizeof(when));
	fprintf(out, "Plexus lambda architecture on %s   %s   (Ctrl-C stops everything)\n\n", master,
	        when);
	int64_t generated = json_integer_value(json_object_get(truth, "generated"));
	fprintf(out, "generator: %lld page views%s, %lld/s set%s\n", (long long)generated,
	        truth ? "" : " (not started yet)",
	        (long long)json_integer_value(json_object_get(truth, "rate")),
	        json_is_true(json_object_get(truth, "done")) ? ", finished" : "");
	lam_answer *v = NULL;
	int n = store ? lam_top(store, top, &v, err, sizeof(err)) : -1;
	if (n < 0) {
		fprintf(out, "serving layer: not answering yet (%s)\n", store ? err : "connecting");
		json_decref(truth);
		shares(out, master);
		fflush(out);
		return -1;
	}
	int64_t freshest = 0;
	const lam_batch_info *b = n > 0 ? &v[0].batch : NULL;
	for (int i = 0; i < n; i++)
		if (v[i].freshest_ms > freshest)
			freshest = v[i].freshest_ms;
	if (freshest > 0)
		fprintf(out, "speed layer (storm -> lambda.realtime): newest counted event %.2f s old\n",
		        (double)(now - freshest) / 1000.0);
	else
		fprintf(out, "speed layer (storm -> lambda.realtime): nothing counted yet\n");
	if (b != NULL && b->runs > 0) {
		char cut[32];
		clock_text(b->cutoff * (bucket_ms > 0 ? bucket_ms : 1), cut, sizeof(cut));
		fprintf(out, "batch layer (spark -> lambda.batch): run %lld, %lld events before %s, "
		             "finished %.0f s ago in %.1f s\n",
		        (long long)b->runs, (long long)b->events, cut,
		        (double)(now - b->ran_at) / 1000.0, (double)b->took_ms / 1000.0);
	} else {
		fprintf(out, "batch layer (spark -> lambda.batch): no run finished yet\n");
	}
	fprintf(out, "\n%-16s %10s %10s %7s %10s %10s\n", "url", "merged", "truth", "diff",
	        "batch", "realtime");
	int64_t sum = 0, tsum = 0;
	for (int i = 0; i < n; i++) {
		int64_t t = json_integer_value(json_object_get(turls, v[i].url));
		fprintf(out, "%-16.16s %10lld %10lld %+7lld %10lld %10lld\n", v[i].url,
		        (long long)v[i].views, (long long)t, (long long)(v[i].views - t),
		        (long long)v[i].batch_views, (long long)v[i].realtime_views);
		sum += v[i].views;
		tsum += t;
	}
	fprintf(out, "%-16s %10lld %10lld %+7lld\n\n", "(these)", (long long)sum, (long long)tsum,
	        (long long)(sum - tsum));
	free(v);
	json_decref(truth);
	shares(out, master);
	fflush(out);
	return 0;
}
