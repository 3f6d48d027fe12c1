/* lam_up.c — `plexus lambda up`: the lambda architecture on one cluster. It starts (or
 * joins, with --master) a cluster, then the serving layer (cassandra, three nodes,
 * RF 3), the event generator (a task, through `plexus execute`), the speed layer (a
 * storm topology) and the batch layer (a spark program on a schedule), serves merged
 * queries over HTTP and shows the live view until Ctrl-C or SIGTERM, then stops
 * everything it started, in order, and checks that nothing is left running.
 *
 * Every child runs in its own process group with its log in WORK/logs, so Ctrl-C
 * reaches only this process. SIGUSR1 asks the batch layer for a run now. */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <actor/http.h>
#include <actor/runtime.h>
#include <jansson.h>
#include <plexus/util.h>

#include "cas_discover.h"
#include "lam_cmd.h"
#include "lam_dataset.h"
#include "lam_proc.h"
#include "lam_serve.h"
#include "lam_store.h"
#include "lam_view.h"

static volatile sig_atomic_t stop_asked, batch_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	batch_asked = 1;
}

struct up {
	/* flags */
	const char *master_flag, *work, *resources;
	int port, http_port, urls, top;
	int64_t rate, events, bucket_ms, every_ms, refresh_ms;
	bool view;
	/* running */
	char master[64], logs[1100], dataset[1100], plexus[1100];
	pid_t local, cassandra, generator, batch;
	bool storm;
	lam_store *store;
	lam_server *server;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("== ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void log_path(const struct up *u, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s.log", u->logs, name);
}

static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int agents_registered(const char *master)
{
	char err[256];
	int status = 0;
	char *body = cas_http(master, "GET", "/master/state", NULL, NULL, &status, err, sizeof(err));
	json_t *st = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
	free(body);
	int n = st ? (int)json_array_size(json_object_get(st, "slaves")) : -1;
	json_decref(st);
	return n;
}

static void rm_rf(const char *path)
{
	char *argv[] = {"/bin/rm", "-rf", (char *)path, NULL};
	lam_run("/dev/null", argv, 60000);
}

static int start_cluster(struct up *u)
{
	char arg_agents[] = "--agents=3", port[32], work[1200], res[256], log[1200];
	snprintf(u->master, sizeof(u->master), "127.0.0.1:%d", u->port);
	if (agents_registered(u->master) >= 0) {
		fprintf(stderr, "plexus lambda up: something already answers on %s; stop it or give "
		                "--port (or --master to use that cluster)\n", u->master);
		return -1;
	}
	snprintf(port, sizeof(port), "--port=%d", u->port);
	snprintf(work, sizeof(work), "--work-dir=%s/cluster", u->work);
	snprintf(res, sizeof(res), "--resources=%s", u->resources);
	char *argv[] = {u->plexus, "local", arg_agents, port, work, res,
	                "--allocation-interval=200ms", NULL};
	log_path(u, "cluster", log, sizeof(log));
	say("starting plexus local --agents=3 (cassandra puts one node per agent) on %s (log %s)", u->master, log);
	u->local = lam_spawn(log, argv);
	for (int i = 0; i < 300 && !stop_asked; i++) {
		if (agents_registered(u->master) >= 2)
			return 0;
		if (!lam_alive(u->local))
			break;
		pause_ms(100);
	}
	fprintf(stderr, "plexus lambda up: the cluster did not start (see %s)\n", log);
	return -1;
}

static int start_cassandra(struct up *u)
{
	char master[128], state[1200], log[1200], err[512];
	snprintf(master, sizeof(master), "--master=%s", u->master);
	snprintf(state, sizeof(state), "--state=%s/cassandra-scheduler.json", u->work);
	char *argv[] = {u->plexus, "cassandra", "start", master, "--nodes=3", "--rf=3",
	                state, NULL};
	log_path(u, "cassandra", log, sizeof(log));
	say("serving layer: plexus cassandra start --nodes=3 --rf=3 (log %s)", log);
	u->cassandra = lam_spawn(log, argv);
	for (int i = 0; i < 1200 && !stop_asked; i++) {
		cas_discovery d = {0};
		if (cas_discover(u->master, "cassandra", &d, err, sizeof(err)) == 0 && d.nnodes >= 3) {
			cas_discovery_fini(&d);
			if (u->store == NULL)
				u->store = lam_store_open(u->master, "cassandra", err, sizeof(err));
			if (u->store != NULL && lam_store_create_schema(u->store, 3, err, sizeof(err)) == 0)
				return 0;
		} else {
			cas_discovery_fini(&d);
		}
		if (!lam_alive(u->cassandra))
			break;
		pause_ms(100);
	}
	fprintf(stderr, "plexus lambda up: cassandra did not come up: %s (see %s)\n", err, log);
	return -1;
}

static int start_generator(struct up *u)
{
	char master[128], cmd[2048], log[1200], bucket[64];
	snprintf(master, sizeof(master), "--master=%s", u->master);
	snprintf(bucket, sizeof(bucket), "%lldms", (long long)u->bucket_ms);
	snprintf(cmd, sizeof(cmd),
	         "--command=exec '%s/plexus-lambda' generate --dataset='%s' --rate=%lld --events=%lld "
	         "--urls=%d --bucket=%s",
	         lam_self_dir(), u->dataset, (long long)u->rate, (long long)u->events, u->urls, bucket);
	char *argv[] = {u->plexus, "execute", master, "--name=lambda-generator",
	                "--resources=cpus:0.5;mem:64", cmd, NULL};
	log_path(u, "generator", log, sizeof(log));
	say("event source: %lld page views/s%s as the task lambda-generator (log %s)",
	    (long long)u->rate, u->events ? "" : " until stopped", log);
	u->generator = lam_spawn(log, argv);
	return u->generator > 0 ? 0 : -1;
}

static int start_storm(struct up *u)
{
	char master[128], c1[1200], c2[200], c3[] = "--conf=lambda.cassandra=cassandra", prog[1200],
	    log[1200];
	snprintf(master, sizeof(master), "--master=%s", u->master);
	snprintf(c1, sizeof(c1), "--conf=lambda.dataset=%s", u->dataset);
	snprintf(c2, sizeof(c2), "--conf=lambda.master=%s", u->master);
	snprintf(prog, sizeof(prog), "%s/lambda-speed", lam_self_dir());
	char *argv[] = {u->plexus, "storm", "submit", master, c1, c2, c3, prog, "lambda", NULL};
	log_path(u, "storm", log, sizeof(log));
	say("speed layer: plexus storm submit lambda-speed lambda (log %s)", log);
	int rc = lam_run(log, argv, 60000);
	if (rc != 0) {
		fprintf(stderr, "plexus lambda up: the topology was not submitted (see %s)\n", log);
		return -1;
	}
	u->storm = true;
	return 0;
}

static int start_batch(struct up *u)
{
	char master[128], dataset[1200], every[64], prog[1200], log[1200];
	snprintf(master, sizeof(master), "--master=%s", u->master);
	snprintf(dataset, sizeof(dataset), "--dataset=%s", u->dataset);
	snprintf(every, sizeof(every), "--every=%lldms", (long long)u->every_ms);
	snprintf(prog, sizeof(prog), "%s/lambda-batch", lam_self_dir());
	char *argv[] = {prog, master, dataset, every, NULL};
	log_path(u, "batch", log, sizeof(log));
	say("batch layer: lambda-batch every %lld s (log %s)", (long long)(u->every_ms / 1000), log);
	u->batch = lam_spawn(log, argv);
	return u->batch > 0 ? 0 : -1;
}

static void stop_all(struct up *u)
{
	char master[128], log[1200];
	snprintf(master, sizeof(master), "--master=%s", u->master);
	say("stopping");
	lam_server_stop(u->server);
	u->server = NULL;
	if (u->batch > 0) {
		say("  batch layer");
		lam_stop(u->batch, 15000);
	}
	if (u->storm) {
		say("  speed layer (plexus storm kill lambda)");
		char *argv[] = {u->plexus, "storm", "kill", "lambda", NULL};
		log_path(u, "storm", log, sizeof(log));
		lam_run(log, argv, 30000);
	}
	if (u->generator > 0) {
		say("  event source");
		lam_stop(u->generator, 10000);
	}
	if (u->cassandra > 0) {
		say("  serving layer (plexus cassandra stop)");
		char *argv[] = {u->plexus, "cassandra", "stop", master, NULL};
		log_path(u, "cassandra", log, sizeof(log));
		lam_run(log, argv, 30000);
		lam_stop(u->cassandra, 10000);
	}
	lam_store_close(u->store);
	u->store = NULL;
	if (u->local > 0) {
		say("  cluster");
		lam_stop(u->local, 20000);
		char cluster[1200];
		snprintf(cluster, sizeof(cluster), "%s/cluster", u->work);
		int left = lam_kill_under(cluster);
		if (left > 0)
			say("  %d leftover process(es) under %s killed", left, cluster);
		say("stopped: nothing left running");
	}
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: plexus lambda up [flags]\n\n"
	        "  --master=HOST:PORT   use this cluster (default: start plexus local)\n"
	        "  --port=N             plexus local's HTTP port (default 5050)\n"
	        "  --work-dir=DIR       everything of the run (default $TMPDIR/plexus-lambda;\n"
	        "                       emptied at start)\n"
	        "  --resources=R        each agent's (default cpus:3;mem:4096;disk:8192;ports:[31000-31999])\n"
	        "  --rate=N             page views per second (default 10000)\n"
	        "  --events=N           stop generating after N (default 0: never)\n"
	        "  --urls=N             distinct URLs (default 50)\n"
	        "  --bucket=DURATION    the time bucket of counts (default 1mins)\n"
	        "  --batch-every=D      how often the batch layer recomputes (default 30secs)\n"
	        "  --http-port=N        the serving layer's HTTP port (default 5070)\n"
	        "  --top=N              URLs in the view (default 10)\n"
	        "  --refresh=DURATION   the view's refresh (default 1secs)\n"
	        "  --no-view            a status line every 5 s instead of the live view\n");
	return 2;
}

static bool duration(const char *text, int64_t *ms, const char *flag)
{
	if (px_duration_parse(text, ms) && *ms > 0)
		return true;
	fprintf(stderr, "plexus lambda up: %s: '%s' is not a duration (500ms, 30secs, 1mins)\n",
	        flag, text);
	return false;
}

int lam_cmd_up(int argc, char **argv)
{
	struct up u = {.port = 5050, .http_port = 5070, .urls = 50, .top = 10, .rate = 10000,
	               .bucket_ms = 60000, .every_ms = 30000, .refresh_ms = 1000, .view = true,
	               .resources = "cpus:3;mem:4096;disk:8192;ports:[31000-31999]"};
	static const struct option opts[] = {
	    {"master", required_argument, NULL, 'm'},   {"port", required_argument, NULL, 'p'},
	    {"work-dir", required_argument, NULL, 'w'}, {"resources", required_argument, NULL, 'R'},
	    {"rate", required_argument, NULL, 'r'},     {"events", required_argument, NULL, 'n'},
	    {"urls", required_argument, NULL, 'u'},     {"bucket", required_argument, NULL, 'b'},
	    {"batch-every", required_argument, NULL, 'e'},
	    {"http-port", required_argument, NULL, 'H'}, {"top", required_argument, NULL, 't'},
	    {"refresh", required_argument, NULL, 'f'},  {"no-view", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': u.master_flag = optarg; break;
		case 'p': u.port = atoi(optarg); break;
		case 'w': u.work = optarg; break;
		case 'R': u.resources = optarg; break;
		case 'r': u.rate = atoll(optarg); break;
		case 'n': u.events = atoll(optarg); break;
		case 'u': u.urls = atoi(optarg); break;
		case 'b':
			if (!duration(optarg, &u.bucket_ms, "--bucket"))
				return 2;
			break;
		case 'e':
			if (!duration(optarg, &u.every_ms, "--batch-every"))
				return 2;
			break;
		case 'H': u.http_port = atoi(optarg); break;
		case 't': u.top = atoi(optarg); break;
		case 'f':
			if (!duration(optarg, &u.refresh_ms, "--refresh"))
				return 2;
			break;
		case 'V': u.view = false; break;
		default: return usage();
		}
	}
	if (optind != argc || u.port <= 0 || u.rate < 0 || u.events < 0 || u.urls < 1 ||
	    u.urls > 1000 || u.top < 1 || u.http_port < 0)
		return usage();
	char work[1024];
	if (u.work == NULL) {
		const char *tmp = getenv("TMPDIR");
		snprintf(work, sizeof(work), "%s/plexus-lambda", tmp && *tmp ? tmp : "/tmp");
		u.work = work;
	}
	snprintf(u.plexus, sizeof(u.plexus), "%s/plexus", lam_self_dir());
	if (access(u.plexus, X_OK) != 0) {
		fprintf(stderr, "plexus lambda up: %s not found beside plexus-lambda\n", u.plexus);
		return 1;
	}
	/* A run starts from nothing: its cluster, dataset and frameworks' state. */
	if (u.master_flag == NULL)
		rm_rf(u.work);
	mkdir(u.work, 0755);
	snprintf(u.logs, sizeof(u.logs), "%s/logs", u.work);
	snprintf(u.dataset, sizeof(u.dataset), "%s/dataset", u.work);
	mkdir(u.logs, 0755);
	if (u.master_flag != NULL) {
		rm_rf(u.dataset);
		snprintf(u.master, sizeof(u.master), "%s", u.master_flag);
	}
	mkdir(u.dataset, 0755);
	char storm_dir[1200];
	snprintf(storm_dir, sizeof(storm_dir), "%s/storm", u.work);
	setenv("PLEXUS_STORM_DIR", storm_dir, 1);

	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.http_port = u.http_port;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "plexus lambda up: cannot start the runtime (is HTTP port %d free?)\n",
		        u.http_port);
		return 1;
	}
	int64_t t0 = lam_now_ms();
	int rc = 0;
	if ((u.master_flag == NULL && start_cluster(&u) != 0) || start_cassandra(&u) != 0 ||
	    start_generator(&u) != 0 || start_storm(&u) != 0 || start_batch(&u) != 0) {
		rc = 1;
		stop_asked = 1;
	}
	char err[512];
	if (rc == 0 && (u.server = lam_server_start(u.store, err, sizeof(err))) == NULL) {
		fprintf(stderr, "plexus lambda up: %s\n", err);
		rc = 1;
		stop_asked = 1;
	}
	if (rc == 0)
		say("serving layer over HTTP: http://127.0.0.1:%u/lambda/query?url=/home and "
		    "/lambda/top?n=10; plexus lambda query --master=%s --url=/home",
		    actor_runtime_http_port(), u.master);
	bool answered = false;
	int64_t last_status = 0;
	while (!stop_asked) {
		if (batch_asked) {
			batch_asked = 0;
			if (u.batch > 0)
				kill(u.batch, SIGUSR1);
		}
		if (!answered) {
			lam_answer a;
			if (lam_store_query(u.store, "/home", &a, err, sizeof(err)) == 0 && a.views > 0) {
				answered = true;
				say("first answer %.1f s after start: /home has %lld views",
				    (double)(lam_now_ms() - t0) / 1000.0, (long long)a.views);
			}
		}
		int64_t now = lam_now_ms();
		if (u.view && isatty(1)) {
			lam_view_render(stdout, u.master, u.dataset, u.store, u.top, true);
		} else if (now - last_status >= 5000) {
			last_status = now;
			lam_answer a;
			if (lam_store_query(u.store, "/home", &a, err, sizeof(err)) == 0)
				say("/home: %lld views (batch %lld + real-time %lld), batch runs %lld",
				    (long long)a.views, (long long)a.batch_views, (long long)a.realtime_views,
				    (long long)a.batch.runs);
		}
		if (u.local > 0 && !lam_alive(u.local)) {
			fprintf(stderr, "plexus lambda up: the cluster ended (see %s/cluster.log)\n", u.logs);
			u.local = 0;
			rc = 1;
			break;
		}
		if (u.batch > 0 && !lam_alive(u.batch)) {
			fprintf(stderr, "plexus lambda up: the batch layer ended (see %s/batch.log)\n",
			        u.logs);
			u.batch = 0;
		}
		for (int64_t slept = 0; slept < u.refresh_ms && !stop_asked && !batch_asked; slept += 50)
			pause_ms(50);
	}
	stop_all(&u);
	actor_runtime_fini();
	return rc;
}
