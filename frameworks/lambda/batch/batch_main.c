/* batch_main.c — the batch layer of the lambda architecture: a spark program that,
 * every --every, recomputes views per (url, bucket) from the whole master dataset up
 * to a cutoff (every closed bucket below the first open one), writes them to
 * lambda.batch, then publishes the cutoff and drops the real-time rows below it.
 *
 *     lambda-batch --master=HOST:PORT --dataset=DIR [--every=30secs] [--once]
 *                  [--cassandra=NAME] [--writers=N] [spark flags: --max-cores= ...]
 *
 * SIGUSR1 starts a run at once; SIGTERM and SIGINT stop after the current run. The
 * recomputation reads the closed buckets only, and those never change, so a run that
 * dies half way leaves rows that agree with the next run's; the cutoff moves only when
 * all of a run's rows are written. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <plexus/util.h>
#include <spark/spark.h>

#include "lam_dataset.h"
#include "lam_store.h"

static volatile sig_atomic_t stop_asked, run_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void on_run(int sig)
{
	(void)sig;
	run_asked = 1;
}

/* A dataset line -> ("URL\tBUCKET", "1"); arg is the bucket length in ms. */
static int view_key(const spk_row *in, const char *arg, spk_emitter *out)
{
	lam_event e;
	if (in->value.len == 0)
		return 0;
	if (!lam_event_parse(in->value.data, in->value.len, &e))
		return spk_fail("not a page view: '%.*s'", (int)(in->value.len < 200 ? in->value.len : 200),
		                in->value.data);
	char key[LAM_URL_MAX + 32];
	int n = snprintf(key, sizeof(key), "%.*s\t%lld", (int)e.url_len, e.url,
	                 (long long)(e.time_ms / strtoll(arg, NULL, 10)));
	spk_emit_pair(out, key, (size_t)n, "1", 1);
	return 0;
}

struct opts {
	const char *master, *dataset, *cassandra;
	int64_t every_ms;
	int writers;
	bool once;
};

/* ---- writing the view with several sessions at once ---- */

struct writer {
	lam_store *store;
	const spk_rows *rows;
	size_t from, to;
	int failed;
	char err[512];
};

static void *write_rows(void *arg)
{
	struct writer *w = arg;
	for (size_t i = w->from; i < w->to && !w->failed; i++) {
		const spk_row *r = &w->rows->rows[i];
		char url[LAM_URL_MAX];
		const char *tab = memchr(r->key.data, '\t', r->key.len);
		size_t ulen = tab ? (size_t)(tab - r->key.data) : 0;
		if (tab == NULL || ulen >= sizeof(url))
			continue;
		memcpy(url, r->key.data, ulen);
		url[ulen] = '\0';
		int64_t bucket = atoll(tab + 1), views = atoll(r->value.data);
		for (int attempt = 0;; attempt++) {
			if (lam_store_batch_put(w->store, url, bucket, views, w->err, sizeof(w->err)) == 0)
				break;
			if (attempt == 20) {
				w->failed = 1;
				break;
			}
			usleep(100000);
		}
	}
	return NULL;
}

static int write_view(lam_store *store, const spk_rows *rows, int nwriters, char *err, size_t n)
{
	struct writer w[16];
	pthread_t th[16];
	if (nwriters < 1)
		nwriters = 1;
	if (nwriters > 16)
		nwriters = 16;
	size_t per = (rows->n + (size_t)nwriters - 1) / (size_t)nwriters;
	int started = 0, rc = 0;
	for (int i = 0; i < nwriters; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].rows = rows;
		w[i].from = (size_t)i * per;
		w[i].to = w[i].from + per > rows->n ? rows->n : w[i].from + per;
		if (w[i].from >= w[i].to)
			break;
		w[i].store = lam_store_clone(store);
		if (w[i].store == NULL || pthread_create(&th[i], NULL, write_rows, &w[i]) != 0) {
			lam_store_close(w[i].store);
			snprintf(err, n, "cannot start a writer");
			rc = -1;
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failed && rc == 0) {
			snprintf(err, n, "writing the batch view: %s", w[i].err);
			rc = -1;
		}
		lam_store_close(w[i].store);
	}
	return rc;
}

/* ---- one run ---- */

/* Hard links to the closed buckets below cutoff in a run's own directory, so the job
 * reads exactly those files whatever the generator does meanwhile. The number linked. */
static int stage_input(const char *dataset, int64_t cutoff, const char *stage)
{
	lam_bucket *v;
	int n = lam_buckets(dataset, &v), linked = 0;
	mkdir(stage, 0755);
	for (int i = 0; i < n; i++) {
		if (!v[i].closed || v[i].bucket >= cutoff)
			continue;
		char from[1100], to[1200];
		lam_bucket_path(dataset, v[i].bucket, true, from, sizeof(from));
		snprintf(to, sizeof(to), "%s/%lld.log", stage, (long long)v[i].bucket);
		if (link(from, to) == 0 || errno == EEXIST)
			linked++;
		else
			fprintf(stderr, "batch: cannot link %s: %s\n", from, strerror(errno));
	}
	free(v);
	return linked;
}

/* The stage holds only links to bucket files: unlink them, then the directory. */
static void remove_stage(const char *stage)
{
	DIR *d = opendir(stage);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1400];
		snprintf(path, sizeof(path), "%s/%s", stage, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	if (rmdir(stage) != 0 && errno != ENOENT)
		fprintf(stderr, "batch: cannot remove %s: %s\n", stage, strerror(errno));
}

static int run_once(spk_context *sc, lam_store *store, const struct opts *o, int64_t run_no)
{
	int64_t bucket_ms = lam_dataset_bucket_ms(o->dataset);
	int64_t cutoff = lam_cutoff(o->dataset);
	lam_batch_info prev;
	char err[512];
	if (bucket_ms < 0 || cutoff <= 0) {
		fprintf(stderr, "batch: no closed bucket in %s yet\n", o->dataset);
		return 0;
	}
	if (lam_store_batch_info(store, &prev, err, sizeof(err)) != 0) {
		fprintf(stderr, "batch: %s\n", err);
		return -1;
	}
	int64_t started = lam_now_ms();
	char stage[1100];
	snprintf(stage, sizeof(stage), "%s/_batch/run-%lld", o->dataset, (long long)run_no);
	char parent[1100];
	snprintf(parent, sizeof(parent), "%s/_batch", o->dataset);
	mkdir(parent, 0755);
	int files = stage_input(o->dataset, cutoff, stage);
	if (files == 0) {
		remove_stage(stage);
		return 0;
	}
	fprintf(stderr, "batch: run %lld: %d buckets below %lld\n", (long long)run_no, files,
	        (long long)cutoff);
	char arg[32];
	snprintf(arg, sizeof(arg), "%lld", (long long)bucket_ms);
	spk_rdd *lines = spk_text_file(sc, stage, 4);
	spk_rdd *counts = lines ? spk_reduce_by_key(spk_map(lines, "view_key", arg), "sum", NULL, 4)
	                        : NULL;
	spk_rows *rows = NULL;
	int rc = counts != NULL ? spk_collect(counts, &rows) : -1;
	remove_stage(stage);
	if (rc != 0) {
		fprintf(stderr, "batch: the job failed: %s\n", spk_context_error(sc));
		return -1;
	}
	int64_t events = 0;
	for (size_t i = 0; i < rows->n; i++)
		events += atoll(rows->rows[i].value.data);
	int64_t computed = lam_now_ms();
	if (write_view(store, rows, o->writers, err, sizeof(err)) != 0) {
		fprintf(stderr, "batch: %s\n", err);
		spk_rows_free(rows);
		return -1;
	}
	spk_rows_free(rows);
	lam_batch_info run = {.cutoff = cutoff,
	                      .ran_at = lam_now_ms(),
	                      .events = events,
	                      .runs = prev.runs + 1};
	run.took_ms = run.ran_at - started;
	if (lam_store_batch_finish(store, &run, err, sizeof(err)) != 0) {
		fprintf(stderr, "batch: publishing the cutoff: %s\n", err);
		return -1;
	}
	/* The batch view now answers below the cutoff: the real-time rows there go. */
	char **urls;
	size_t nurls;
	int64_t dropped = 0;
	if (lam_store_urls(store, &urls, &nurls, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < nurls; i++) {
			int d = lam_store_realtime_drop(store, urls[i], cutoff, err, sizeof(err));
			dropped += d > 0 ? d : 0;
		}
		lam_store_urls_free(urls, nurls);
	}
	fprintf(stderr,
	        "batch: run %lld: %lld events below bucket %lld in %lld ms (job %lld ms, "
	        "writing %lld ms), %lld real-time rows dropped\n",
	        (long long)run_no, (long long)events, (long long)cutoff, (long long)run.took_ms,
	        (long long)(computed - started), (long long)(run.ran_at - computed),
	        (long long)dropped);
	/* One line on stdout per run, for tools and benchmarks. */
	printf("{\"run\":%lld,\"cutoff\":%lld,\"events\":%lld,\"took_ms\":%lld,\"job_ms\":%lld}\n",
	       (long long)run_no, (long long)cutoff, (long long)events, (long long)run.took_ms,
	       (long long)(computed - started));
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: lambda-batch --master=HOST:PORT --dataset=DIR [--every=DURATION] "
	                "[--once] [--cassandra=NAME] [--writers=N] [spark flags]\n");
	return 2;
}

int main(int argc, char **argv)
{
	spk_register_map("view_key", view_key);
	spk_main(argc, argv);

	spk_conf conf;
	spk_conf_default(&conf);
	conf.app_name = "lambda-batch";
	conf.executor_cores = 1;
	conf.max_cores = 2;
	conf.idle_timeout_ms = 10000;
	conf.progress = false;
	if (spk_conf_from_args(&conf, &argc, argv) != 0)
		return 2;
	struct opts o = {.cassandra = "cassandra", .every_ms = 30000, .writers = 8};
	static const struct option lopts[] = {{"dataset", required_argument, NULL, 'd'},
	                                      {"every", required_argument, NULL, 'e'},
	                                      {"once", no_argument, NULL, '1'},
	                                      {"cassandra", required_argument, NULL, 'c'},
	                                      {"writers", required_argument, NULL, 'w'},
	                                      {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dataset = optarg; break;
		case 'e':
			if (!px_duration_parse(optarg, &o.every_ms) || o.every_ms <= 0) {
				fprintf(stderr, "lambda-batch: --every: '%s' is not a duration\n", optarg);
				return 2;
			}
			break;
		case '1': o.once = true; break;
		case 'c': o.cassandra = optarg; break;
		case 'w': o.writers = atoi(optarg); break;
		default: return usage();
		}
	}
	o.master = conf.master;
	if (o.master == NULL || o.dataset == NULL || optind != argc)
		return usage();
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGUSR1, on_run);

	/* The context starts the runtime, which the cassandra client (an actor) needs. */
	char err[512];
	spk_context *sc = spk_context_start(&conf, err, sizeof(err));
	if (sc == NULL)
		fprintf(stderr, "lambda-batch: %s\n", err);
	lam_store *store = NULL;
	for (int i = 0; sc != NULL && store == NULL && !stop_asked; i++) {
		store = lam_store_open(o.master, o.cassandra, err, sizeof(err));
		if (store == NULL) {
			if (i % 20 == 0)
				fprintf(stderr, "lambda-batch: waiting for cassandra: %s\n", err);
			usleep(250000);
		}
	}
	if (store == NULL) {
		spk_context_stop(sc);
		sc = NULL;
	}
	int rc = sc ? 0 : 1;
	for (int64_t run_no = 1; sc != NULL && !stop_asked; run_no++) {
		run_asked = 0;
		int r = run_once(sc, store, &o, run_no);
		if (o.once) {
			rc = r == 0 ? 0 : 1;
			break;
		}
		int64_t until = lam_now_ms() + o.every_ms;
		while (!stop_asked && !run_asked && lam_now_ms() < until)
			usleep(20000);
	}
	spk_context_stop(sc);
	lam_store_close(store);
	return rc;
}
