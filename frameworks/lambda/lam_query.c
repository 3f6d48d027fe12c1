/* lam_query.c — `plexus lambda query`, `serve` and `view`: the serving layer from the
 * command line, over HTTP, and as the live view. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actor/http.h>
#include <actor/runtime.h>

#include "lam_cmd.h"
#include "lam_dataset.h"
#include "lam_serve.h"
#include "lam_store.h"
#include "lam_view.h"

struct common {
	const char *master, *cassandra, *url, *dataset;
	int top, port;
	bool json;
};

static int parse(int argc, char **argv, struct common *o, const char *usage)
{
	static const struct option opts[] = {
	    {"master", required_argument, NULL, 'm'}, {"cassandra", required_argument, NULL, 'c'},
	    {"url", required_argument, NULL, 'u'},    {"top", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},         {"port", required_argument, NULL, 'p'},
	    {"dataset", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
	*o = (struct common){.master = "127.0.0.1:5050", .cassandra = "cassandra", .top = 10};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o->master = optarg; break;
		case 'c': o->cassandra = optarg; break;
		case 'u': o->url = optarg; break;
		case 't': o->top = atoi(optarg); break;
		case 'j': o->json = true; break;
		case 'p': o->port = atoi(optarg); break;
		case 'd': o->dataset = optarg; break;
		default: fprintf(stderr, "%s", usage); return -1;
		}
	}
	if (optind != argc || o->top < 1 || o->top > 1000) {
		fprintf(stderr, "%s", usage);
		return -1;
	}
	return 0;
}

/* The runtime (the cassandra client is an actor) and a store. */
static lam_store *connect_store(const struct common *o, int http_port)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = http_port;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "plexus lambda: cannot start the runtime%s\n",
		        http_port > 0 ? " (is the HTTP port free?)" : "");
		return NULL;
	}
	char err[512];
	lam_store *s = lam_store_open(o->master, o->cassandra, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "plexus lambda: %s\n", err);
	return s;
}

int lam_cmd_query(int argc, char **argv)
{
	static const char usage[] =
	    "usage: plexus lambda query [--master=HOST:PORT] (--url=PATH | --top=N) [--json] "
	    "[--cassandra=NAME]\n";
	struct common o;
	if (parse(argc, argv, &o, usage) != 0)
		return 2;
	if (o.url != NULL && !lam_url_valid(o.url, strlen(o.url))) {
		fprintf(stderr, "plexus lambda query: --url: '%s' is not a path such as /home\n", o.url);
		return 2;
	}
	lam_store *s = connect_store(&o, -1);
	if (s == NULL) {
		actor_runtime_fini();
		return 1;
	}
	char err[512];
	int rc = 0;
	if (o.url != NULL) {
		lam_answer a;
		if (lam_store_query(s, o.url, &a, err, sizeof(err)) != 0) {
			fprintf(stderr, "plexus lambda query: %s\n", err);
			rc = 1;
		} else if (o.json) {
			char *text = lam_answer_json(&a);
			printf("%s\n", text ? text : "{}");
			free(text);
		} else {
			printf("%s %lld views (batch %lld below bucket %lld + real-time %lld)\n", a.url,
			       (long long)a.views, (long long)a.batch_views, (long long)a.batch.cutoff,
			       (long long)a.realtime_views);
		}
	} else {
		lam_answer *v;
		int n = lam_top(s, o.top, &v, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "plexus lambda query: %s\n", err);
			rc = 1;
		}
		for (int i = 0; i < n; i++) {
			if (o.json) {
				char *text = lam_answer_json(&v[i]);
				printf("%s\n", text ? text : "{}");
				free(text);
			} else {
				printf("%-20s %lld\n", v[i].url, (long long)v[i].views);
			}
		}
		if (n >= 0)
			free(v);
	}
	lam_store_close(s);
	actor_runtime_fini();
	return rc;
}

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

int lam_cmd_serve(int argc, char **argv)
{
	static const char usage[] =
	    "usage: plexus lambda serve [--master=HOST:PORT] [--port=5070] [--cassandra=NAME]\n";
	struct common o;
	if (parse(argc, argv, &o, usage) != 0)
		return 2;
	lam_store *s = connect_store(&o, o.port > 0 ? o.port : 5070);
	char err[512];
	lam_server *srv = s ? lam_server_start(s, err, sizeof(err)) : NULL;
	if (srv == NULL) {
		if (s != NULL)
			fprintf(stderr, "plexus lambda serve: %s\n", err);
		lam_store_close(s);
		actor_runtime_fini();
		return 1;
	}
	fprintf(stderr, "serving http://127.0.0.1:%u/lambda/query?url=/home and /lambda/top?n=10\n",
	        actor_runtime_http_port());
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	while (!stop_asked)
		pause();
	lam_server_stop(srv);
	lam_store_close(s);
	actor_runtime_fini();
	return 0;
}

int lam_cmd_view(int argc, char **argv)
{
	static const char usage[] = "usage: plexus lambda view [--master=HOST:PORT] --dataset=DIR "
	                            "[--top=N] [--cassandra=NAME]\n";
	struct common o;
	if (parse(argc, argv, &o, usage) != 0 || o.dataset == NULL) {
		if (o.dataset == NULL)
			fprintf(stderr, "%s", usage);
		return 2;
	}
	lam_store *s = connect_store(&o, -1);
	if (s == NULL) {
		actor_runtime_fini();
		return 1;
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	bool tty = isatty(1);
	while (!stop_asked) {
		lam_view_render(stdout, o.master, o.dataset, s, o.top, tty);
		if (!tty)
			break;
		sleep(1);
	}
	lam_store_close(s);
	actor_runtime_fini();
	return 0;
}
