/* local.c — `plexus local`: a whole cluster in one OS process, as `mesos-local`.
 *
 * One libactor runtime, listening, runs the master actor and N agent actors; its one
 * HTTP server answers /master/... and /slave(N)/... (and /files, /health, /metrics). The
 * agents reach the master by PID, without a round trip through /master/info. Executors
 * are real child processes, as with separate daemons, so tasks behave the same way.
 * SIGINT or SIGTERM stops the agents (which kill their executors), then the master. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>

#include "actor/libactor.h"
#include "agent/agent.h"
#include "commands.h"
#include "master/master.h"
#include "plexus/util.h"

#define MAX_AGENTS 64

struct local_flags {
	int agents;
	const char *ip;
	int port;
	int actor_port;
	const char *work_dir;
	const char *resources;
	master_flags master; /* ping timeouts, allocation interval, offer timeout */
	int64_t retry_min_ms, retry_max_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus local [flags]\n\n"
	        "Runs a master and N agents in this one process (a cluster for a laptop or a\n"
	        "test), until SIGINT or SIGTERM. One HTTP port serves /master/state,\n"
	        "/slave(N)/state, /files/read and /health.\n\n"
	        "  --agents=N                     agents to run (default 2, at most %d)\n"
	        "  --ip=IP                        address to bind and advertise (127.0.0.1)\n"
	        "  --port=N                       HTTP port (default 5050)\n"
	        "  --actor-port=N                 actor transport port (default 0: ephemeral)\n"
	        "  --work-dir=DIR                 agent N keeps its sandboxes in DIR/agentN\n"
	        "                                 (default /tmp/plexus/local)\n"
	        "  --resources=R                  resources of each agent, e.g.\n"
	        "                                 'cpus:2;mem:1024' (default: detected)\n"
	        "  --agent-ping-timeout=D         master flag (default 15secs)\n"
	        "  --max-agent-ping-timeouts=N    master flag (default 5)\n"
	        "  --allocation-interval=D        master flag (default 1secs)\n"
	        "  --offer-timeout=D              master flag (default: none)\n"
	        "  --status-update-retry-interval-min=D   agent flag (default 10secs)\n"
	        "  --help                         this text\n\n"
	        "Durations: 500ms, 5secs, 2mins (a bare number is seconds).\n",
	        MAX_AGENTS);
}

static int parse_int(const char *text, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* A duration flag of `plexus local` must be positive; -1 otherwise. */
static int positive_duration(const char *text, int64_t *ms)
{
	return px_duration_parse(text, ms) && *ms > 0 ? 0 : -1;
}

/* Returns -1 to go on, or the exit status (0 after --help, 2 after a message). */
static int parse(struct local_flags *f, int argc, char **argv)
{
	enum {
		O_AGENTS = 256,
		O_IP,
		O_PORT,
		O_ACTOR_PORT,
		O_WORK_DIR,
		O_RESOURCES,
		O_PING_TIMEOUT,
		O_MAX_PINGS,
		O_ALLOC,
		O_OFFER_TIMEOUT,
		O_RETRY_MIN,
		O_HELP,
	};
	static const struct option options[] = {
	    {"agents", required_argument, NULL, O_AGENTS},
	    {"ip", required_argument, NULL, O_IP},
	    {"port", required_argument, NULL, O_PORT},
	    {"actor-port", required_argument, NULL, O_ACTOR_PORT},
	    {"work-dir", required_argument, NULL, O_WORK_DIR},
	    {"resources", required_argument, NULL, O_RESOURCES},
	    {"agent-ping-timeout", required_argument, NULL, O_PING_TIMEOUT},
	    {"max-agent-ping-timeouts", required_argument, NULL, O_MAX_PINGS},
	    {"allocation-interval", required_argument, NULL, O_ALLOC},
	    {"offer-timeout", required_argument, NULL, O_OFFER_TIMEOUT},
	    {"status-update-retry-interval-min", required_argument, NULL, O_RETRY_MIN},
	    {"help", no_argument, NULL, O_HELP},
	    {0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		const char *v = optarg;
		int bad = 0;
		switch (c) {
		case O_AGENTS:
			bad = parse_int(v, 0, MAX_AGENTS, &f->agents);
			break;
		case O_IP:
			f->ip = v;
			bad = *v == '\0';
			break;
		case O_PORT:
			bad = parse_int(v, 0, 65535, &f->port);
			break;
		case O_ACTOR_PORT:
			bad = parse_int(v, 0, 65535, &f->actor_port);
			break;
		case O_WORK_DIR:
			f->work_dir = v;
			bad = *v == '\0';
			break;
		case O_RESOURCES:
			f->resources = v;
			bad = *v == '\0';
			break;
		case O_PING_TIMEOUT:
			bad = positive_duration(v, &f->master.agent_ping_timeout_ms);
			break;
		case O_MAX_PINGS:
			bad = parse_int(v, 1, INT_MAX, &f->master.max_agent_ping_timeouts);
			break;
		case O_ALLOC:
			bad = positive_duration(v, &f->master.allocation_interval_ms);
			break;
		case O_OFFER_TIMEOUT:
			bad = positive_duration(v, &f->master.offer_timeout_ms);
			break;
		case O_RETRY_MIN:
			bad = positive_duration(v, &f->retry_min_ms);
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "plexus local: unknown or incomplete flag '%s'\n",
			        argv[optind - 1]);
			fprintf(stderr, "try 'plexus local --help'\n");
			return 2;
		}
		if (bad) {
			fprintf(stderr, "plexus local: bad value '%s' for --%s\n", v,
			        options[c - O_AGENTS].name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "plexus local: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (f->retry_min_ms > f->retry_max_ms)
		f->retry_max_ms = f->retry_min_ms;
	return -1;
}

/* Stops what started, agents first so that their executors are gone before the master
 * hears of it, then ends the runtime. */
static void stop_all(actor_pid master, const actor_pid *agents, int n)
{
	for (int i = n - 1; i >= 0; i--)
		agent_stop(agents[i]);
	if (!actor_pid_is_none(master))
		master_stop(master);
	actor_runtime_fini();
	/* nng frees the HTTP server (and its handler) on its reaper threads once its last
	 * connection is gone; nng_fini waits for them, so the process ends with nothing
	 * outstanding (LeakSanitizer otherwise sees the handler when a client had just
	 * been served). */
	nng_fini();
}

int plexus_local_main(int argc, char **argv)
{
	struct local_flags f = {
	    .agents = 2,
	    .ip = "127.0.0.1",
	    .port = 5050,
	    .work_dir = "/tmp/plexus/local",
	};
	master_flags_default(&f.master);
	struct agent_flags defaults;
	agent_flags_default(&defaults);
	f.retry_min_ms = defaults.update_retry_min_ms;
	f.retry_max_ms = defaults.update_retry_max_ms;
	int rc = parse(&f, argc, argv);
	if (rc >= 0)
		return rc;

	/* Block the stop signals before any thread starts: only sigwait below takes them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	actor_config cfg;
	actor_config_default(&cfg);
	cfg.ip = f.ip;
	cfg.port = f.actor_port;
	cfg.listen = true;
	cfg.http_port = f.port;
	if ((rc = actor_runtime_init(&cfg)) != 0) {
		fprintf(stderr, "plexus local: cannot start the runtime on %s (HTTP port %d): %s\n",
		        f.ip, f.port, actor_strerror(rc));
		return 1;
	}
	unsigned http_port = actor_runtime_http_port();

	/* The master's copy of these is what its /state shows: the real ports. */
	f.master.ip = (char *)f.ip;
	f.master.port = (int)http_port;
	f.master.actor_port = actor_runtime_port();
	actor_pid master = actor_pid_none, agents[MAX_AGENTS];
	int started = 0;
	rc = master_start(&f.master, &master);
	if (rc != 0) {
		fprintf(stderr, "plexus local: cannot start the master: %s\n", actor_strerror(rc));
		master = actor_pid_none;
		goto fail;
	}
	char master_pid[ACTOR_PID_TEXT_MAX];
	actor_pid_format(master, master_pid, sizeof(master_pid));
	for (; started < f.agents; started++) {
		char work_dir[PATH_MAX], err[512];
		struct agent_flags af = defaults;
		snprintf(work_dir, sizeof(work_dir), "%s/agent%d", f.work_dir, started + 1);
		af.master = master_pid;
		af.ip = f.ip;
		af.port = (int)http_port; /* what the agent advertises: the shared HTTP server */
		af.work_dir = work_dir;
		af.resources = f.resources;
		af.update_retry_min_ms = f.retry_min_ms;
		af.update_retry_max_ms = f.retry_max_ms;
		if (agent_start(&af, &agents[started], err, sizeof(err)) != 0) {
			fprintf(stderr, "plexus local: cannot start agent %d: %s\n", started + 1,
			        err);
			goto fail;
		}
	}

	printf("Plexus local cluster: master %s, %d agent(s)\n", master_pid, started);
	printf("Master PID: %s\n", master_pid);
	printf("Web address: http://%s:%u/master/state\n", f.ip, http_port);
	printf("Use --master=%s:%u with plexus execute, state, tasks, cat\n", f.ip, http_port);
	printf("Process %ld; stop it with Ctrl-C (SIGINT) or SIGTERM\n", (long)getpid());
	fflush(stdout);

	int sig = 0;
	sigwait(&sigs, &sig);
	fprintf(stderr, "plexus local: %s, stopping\n", strsignal(sig));
	stop_all(master, agents, started);
	return 0;
fail:
	stop_all(master, agents, started);
	return 1;
}
