/* plexus-marathon — long-running services on Plexus, as Marathon runs them on Mesos:
 * `plexus marathon --master=HOST:PORT --http-port=PORT [--state-file=PATH]`.
 *
 * One actor ("marathon") owns the state. The scheduler driver's callbacks copy what
 * they get and hand it to that actor; so do the REST server and the health checks.
 * Tasks run under the agents' command executor. On SIGINT/SIGTERM the scheduler stops
 * with failover, so its tasks keep running and a restarted scheduler (same state file)
 * takes over the same framework id and reconciles them. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/libactor.h"
#include "plexus/message.h"
#include "plexus/scheduler.h"
#include "plexus/util.h"

#include "mar_api.h"
#include "mar_events.h"
#include "mar_http.h"
#include "mar_state.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: plexus marathon --master=HOST:PORT [flags]\n\n"
	             "Runs long-lived apps (Marathon's JSON and REST API) on a Plexus cluster.\n\n"
	             "  --master=MASTER          the master's HTTP address (host:5050) or its PID\n"
	             "  --http-port=N            REST API port (default 8080; 0: any)\n"
	             "  --state-file=PATH        apps, tasks and deployments are kept here, so a\n"
	             "                           restarted scheduler takes over (default: none)\n"
	             "  --framework-name=NAME    default marathon\n"
	             "  --failover-timeout=D     how long the master keeps the framework's tasks\n"
	             "                           while no scheduler is connected (default 7days)\n"
	             "  --hostname=NAME          the name /v2/info gives as leader (default: this\n"
	             "                           machine's)\n"
	             "  --health-tick=D          how often health checks are looked at (500ms)\n"
	             "  --max-staging=N          launched tasks not yet running, at most (200)\n"
	             "  --help                   this text\n");
}

/* ---- driver callbacks: copy, then into the actor ------------------------------------ */

struct offers_call {
	Plexus__Offer **offers;
	size_t n;
};

static void offers_in(actor_t *self, void *arg)
{
	struct offers_call *c = arg;
	if (self != NULL) {
		struct mar_state *st = actor_state(self);
		mar_on_offers(st, c->offers, c->n);
		mar_store_save(st);
	}
	for (size_t i = 0; i < c->n; i++)
		PX_FREE(c->offers[i]);
	free(c->offers);
	free(c);
}

static void on_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	struct mar_state *st = arg;
	struct offers_call *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->offers = calloc(n ? n : 1, sizeof(*c->offers))) == NULL) {
		free(c);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if ((c->offers[c->n] = PX_COPY(Plexus__Offer, offers[i])) != NULL)
			c->n++;
	actor_call(st->self, offers_in, c);
}

static void status_in(actor_t *self, void *arg)
{
	Plexus__TaskStatus *s = arg;
	if (self != NULL) {
		struct mar_state *st = actor_state(self);
		mar_on_status(st, s);
		mar_store_save(st);
	}
	PX_FREE(s);
}

static void on_status(px_scheduler_driver *d, const Plexus__TaskStatus *status, void *arg)
{
	struct mar_state *st = arg;
	Plexus__TaskStatus *s = PX_COPY(Plexus__TaskStatus, status);
	if (s != NULL)
		actor_call(st->self, status_in, s);
}

static void registered_in(actor_t *self, void *arg)
{
	char *id = arg;
	if (self != NULL) {
		struct mar_state *st = actor_state(self);
		if (id != NULL)
			mar_on_registered(st, id);
		else
			mar_on_registered(st, st->framework_id);
		mar_store_save(st);
	}
	free(id);
}

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *master, void *arg)
{
	struct mar_state *st = arg;
	actor_info("marathon: registered as framework %s", id->value);
	actor_call(st->self, registered_in, strdup(id->value));
}

static void on_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *master, void *arg)
{
	struct mar_state *st = arg;
	actor_info("marathon: registered again");
	actor_call(st->self, registered_in, NULL);
}

static void disconnected_in(actor_t *self, void *arg)
{
	if (self != NULL)
		((struct mar_state *)actor_state(self))->registered = false;
}

static void on_disconnected(px_scheduler_driver *d, void *arg)
{
	struct mar_state *st = arg;
	actor_warn("marathon: disconnected from the master");
	actor_call(st->self, disconnected_in, NULL);
}

static void agent_lost_in(actor_t *self, void *arg)
{
	if (self != NULL) {
		struct mar_state *st = actor_state(self);
		mar_on_agent_lost(st, arg);
		mar_store_save(st);
	}
	free(arg);
}

static void on_agent_lost(px_scheduler_driver *d, const Plexus__AgentID *agent, void *arg)
{
	struct mar_state *st = arg;
	actor_warn("marathon: agent %s lost", agent->value);
	actor_call(st->self, agent_lost_in, strdup(agent->value));
}

static volatile sig_atomic_t failed;

static void on_error(px_scheduler_driver *d, const char *message, void *arg)
{
	actor_error("marathon: the driver failed: %s", message);
	failed = 1;
	kill(getpid(), SIGTERM);
}

/* ---- the actor ---------------------------------------------------------------------- */

static int marathon_init(actor_t *self)
{
	struct mar_state *st = actor_state(self);
	st->self = actor_self(self);
	mar_health_start(st);
	return 0;
}

static void marathon_fini(actor_t *self)
{
	struct mar_state *st = actor_state(self);
	mar_events_fini(st);
	json_decref(st->agents);
	st->agents = NULL;
	while (st->apps != NULL)
		mar_entry_remove(st, st->apps);
	while (st->deployments != NULL) {
		struct mar_deployment *d = st->deployments;
		st->deployments = d->next;
		json_decref(d->previous);
		free(d);
	}
}

static const actor_def marathon_def = {
    .name = "marathon",
    .init = marathon_init,
    .fini = marathon_fini,
};

/* ---- main --------------------------------------------------------------------------- */

static int parse_port(const char *text, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || v < 0 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_MASTER = 256,
		O_PORT,
		O_STATE,
		O_NAME,
		O_FAILOVER,
		O_HOSTNAME,
		O_TICK,
		O_STAGING,
		O_HELP
	};
	static const struct option options[] = {
	    {"master", required_argument, NULL, O_MASTER},
	    {"http-port", required_argument, NULL, O_PORT},
	    {"state-file", required_argument, NULL, O_STATE},
	    {"framework-name", required_argument, NULL, O_NAME},
	    {"failover-timeout", required_argument, NULL, O_FAILOVER},
	    {"hostname", required_argument, NULL, O_HOSTNAME},
	    {"health-tick", required_argument, NULL, O_TICK},
	    {"max-staging", required_argument, NULL, O_STAGING},
	    {"help", no_argument, NULL, O_HELP},
	    {0},
	};
	static struct mar_state st;
	char host[256] = "localhost", why[512];
	int64_t failover_ms = 7LL * 86400 * 1000;
	int c;

	gethostname(host, sizeof(host) - 1);
	st.opts = (struct mar_options){.http_port = 8080,
	                               .name = "marathon",
	                               .hostname = host,
	                               .health_tick_ms = 500,
	                               .max_staging = 200};
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		bool bad = false;
		switch (c) {
		case O_MASTER:
			st.opts.master = optarg;
			bad = *optarg == '\0';
			break;
		case O_PORT:
			bad = parse_port(optarg, &st.opts.http_port) != 0;
			break;
		case O_STATE:
			st.opts.state_file = optarg;
			bad = *optarg == '\0';
			break;
		case O_NAME:
			st.opts.name = optarg;
			bad = *optarg == '\0';
			break;
		case O_FAILOVER:
			bad = !px_duration_parse(optarg, &failover_ms);
			break;
		case O_HOSTNAME:
			st.opts.hostname = optarg;
			break;
		case O_TICK:
			bad = !px_duration_parse(optarg, &st.opts.health_tick_ms) ||
			      st.opts.health_tick_ms <= 0;
			break;
		case O_STAGING: {
			char *end;
			long v = strtol(optarg, &end, 10);
			bad = *optarg == '\0' || *end != '\0' || v < 1 || v > 1000000;
			st.opts.max_staging = (int)v;
			break;
		}
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "plexus marathon: unknown flag %s\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "plexus marathon: bad value for %s\n", argv[optind - 1]);
			return 2;
		}
	}
	if (st.opts.master == NULL) {
		fprintf(stderr, "plexus marathon: --master is required\n");
		usage(stderr);
		return 2;
	}
	st.opts.failover_timeout_s = (double)failover_ms / 1000.0;
	if (mar_store_load(&st, why, sizeof(why)) != 0) {
		fprintf(stderr, "plexus marathon: %s\n", why);
		return 1;
	}

	/* Signals are taken by sigwait below; every thread started from here inherits the
	 * mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.http_port = -1;
	int rc = actor_runtime_init(&cfg);
	if (rc != 0) {
		fprintf(stderr, "plexus marathon: cannot start the runtime: %s\n",
		        actor_strerror(rc));
		return 1;
	}
	actor_pid pid;
	if ((rc = actor_spawn(&marathon_def, &st, &pid)) != 0) {
		fprintf(stderr, "plexus marathon: cannot start: %s\n", actor_strerror(rc));
		actor_runtime_fini();
		return 1;
	}
	st.self = pid;

	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fw.user = "root";
	fw.name = (char *)st.opts.name;
	fw.has_failover_timeout = true;
	fw.failover_timeout = st.opts.failover_timeout_s;
	fw.has_checkpoint = true;
	fw.checkpoint = true;
	fw.hostname = (char *)st.opts.hostname;
	if (st.framework_id[0] != '\0') {
		fid.value = st.framework_id;
		fw.id = &fid;
		actor_info("marathon: failing over to framework %s", st.framework_id);
	}
	px_scheduler_callbacks cb = {
	    .registered = on_registered,
	    .reregistered = on_reregistered,
	    .disconnected = on_disconnected,
	    .resource_offers = on_offers,
	    .status_update = on_status,
	    .agent_lost = on_agent_lost,
	    .error = on_error,
	};
	px_scheduler_options opts;
	px_scheduler_options_default(&opts);
	opts.backoff_factor_ms = 500;
	opts.backoff_max_ms = 5000;
	st.driver = px_scheduler_driver_alloc(&cb, &st, &fw, st.opts.master, &opts);
	int bound = 0;
	struct mar_http *http = mar_http_start(st.opts.http_port, pid, mar_api_handle,
	                                       mar_events_subscribe, &bound, why, sizeof(why));
	if (st.driver == NULL || http == NULL) {
		fprintf(stderr, "plexus marathon: %s\n",
		        http == NULL ? why : "cannot allocate the scheduler driver");
		mar_http_stop(http);
		px_scheduler_driver_free(st.driver);
		actor_terminate(pid);
		actor_wait(pid, -1);
		actor_runtime_fini();
		return 1;
	}
	st.opts.http_port = bound;
	px_scheduler_driver_start(st.driver);
	printf("Marathon on http://%s:%d (master %s)\n", st.opts.hostname, bound, st.opts.master);
	fflush(stdout);

	int sig = 0;
	sigwait(&sigs, &sig);
	actor_info("marathon: %s, stopping (tasks keep running)", strsignal(sig));
	mar_http_stop(http);
	/* The actor goes first, since it calls the driver; what the driver still tells it
	 * afterwards is dropped. Failover: the master keeps the framework and its tasks for
	 * failover_timeout. */
	actor_terminate(pid);
	actor_wait(pid, -1);
	px_scheduler_driver_stop(st.driver, true);
	px_scheduler_driver_free(st.driver);
	actor_runtime_fini();
	return failed ? 1 : 0;
}
