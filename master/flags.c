/* flags.c — the master's flags and `plexus master`. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "actor/libactor.h"
#include "master/master_internal.h"
#include "plexus/util.h"

void master_flags_default(master_flags *f)
{
	*f = (master_flags){
	    .port = 5050,
	    .actor_port = 0,
	    .offer_timeout_ms = 0,
	    .agent_ping_timeout_ms = 15000,
	    .max_agent_ping_timeouts = 5,
	    .allocation_interval_ms = 1000,
	    .agent_reregister_timeout_ms = 10 * 60 * 1000,
	    .max_completed_frameworks = 50,
	    .max_completed_tasks_per_framework = 1000,
	};
}

void master_flags_fini(master_flags *f)
{
	free(f->ip);
	free(f->hostname);
	free(f->work_dir);
	f->ip = f->hostname = f->work_dir = NULL;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : ACTOR_ENOMEM;
}

int mst_master_flags_copy(master_flags *dst, const master_flags *src)
{
	*dst = *src;
	if (dup_opt(&dst->ip, src->ip) || dup_opt(&dst->hostname, src->hostname) ||
	    dup_opt(&dst->work_dir, src->work_dir)) {
		master_flags_fini(dst);
		return ACTOR_ENOMEM;
	}
	return 0;
}

static int parse_int(const char *text, long lo, long hi, int *out)
{
	char *end;

	errno = 0;
	long v = strtol(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

void master_usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus master [flags]\n\n"
	        "  --ip=ADDR                      address to listen on and advertise (127.0.0.1)\n"
	        "  --port=N                       HTTP port (5050)\n"
	        "  --actor-port=N                 actor transport port (0: ephemeral)\n"
	        "  --hostname=NAME                hostname to advertise (the machine's)\n"
	        "  --work-dir=DIR                 where the registry of agents is kept\n"
	        "                                 (none: in memory, lost on restart)\n"
	        "  --offer-timeout=DURATION       rescind offers after this long (none)\n"
	        "  --agent-ping-timeout=DURATION  time to wait for a pong (15secs)\n"
	        "  --max-agent-ping-timeouts=N    missed pongs before an agent is lost (5)\n"
	        "  --allocation-interval=DURATION time between allocations (1secs)\n"
	        "  --agent-reregister-timeout=DURATION\n"
	        "                                 after a restart, time admitted agents have to\n"
	        "                                 re-register before they are lost (10mins)\n"
	        "  --help                         this text\n\n"
	        "Durations: 100ms, 15secs, 2mins, 1hrs, 1days (a bare number is seconds).\n");
}

enum {
	OPT_IP = 256,
	OPT_PORT,
	OPT_ACTOR_PORT,
	OPT_HOSTNAME,
	OPT_WORK_DIR,
	OPT_OFFER_TIMEOUT,
	OPT_PING_TIMEOUT,
	OPT_MAX_PINGS,
	OPT_ALLOC_INTERVAL,
	OPT_REREG_TIMEOUT,
	OPT_HELP,
};

int master_flags_parse(master_flags *f, int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
	    {"ip", required_argument, NULL, OPT_IP},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"actor-port", required_argument, NULL, OPT_ACTOR_PORT},
	    {"hostname", required_argument, NULL, OPT_HOSTNAME},
	    {"work-dir", required_argument, NULL, OPT_WORK_DIR},
	    {"offer-timeout", required_argument, NULL, OPT_OFFER_TIMEOUT},
	    {"agent-ping-timeout", required_argument, NULL, OPT_PING_TIMEOUT},
	    {"max-agent-ping-timeouts", required_argument, NULL, OPT_MAX_PINGS},
	    {"allocation-interval", required_argument, NULL, OPT_ALLOC_INTERVAL},
	    {"agent-reregister-timeout", required_argument, NULL, OPT_REREG_TIMEOUT},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0; /* 0, not 1: GNU getopt then resets its state between calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *v = optarg;
		int bad = 0;
		char **str = NULL;
		switch (c) {
		case OPT_IP:
			str = &f->ip;
			break;
		case OPT_HOSTNAME:
			str = &f->hostname;
			break;
		case OPT_WORK_DIR:
			str = &f->work_dir;
			break;
		case OPT_PORT:
			bad = parse_int(v, 0, 65535, &f->port);
			break;
		case OPT_ACTOR_PORT:
			bad = parse_int(v, 0, 65535, &f->actor_port);
			break;
		case OPT_MAX_PINGS:
			bad = parse_int(v, 1, INT_MAX, &f->max_agent_ping_timeouts);
			break;
		case OPT_OFFER_TIMEOUT:
			bad = !px_duration_parse(v, &f->offer_timeout_ms);
			break;
		case OPT_PING_TIMEOUT:
			bad = !px_duration_parse(v, &f->agent_ping_timeout_ms) ||
			      f->agent_ping_timeout_ms <= 0;
			break;
		case OPT_ALLOC_INTERVAL:
			bad = !px_duration_parse(v, &f->allocation_interval_ms) ||
			      f->allocation_interval_ms <= 0;
			break;
		case OPT_REREG_TIMEOUT:
			bad = !px_duration_parse(v, &f->agent_reregister_timeout_ms);
			break;
		case OPT_HELP:
			master_usage(out);
			return 1;
		default:
			fprintf(err, "plexus master: unknown or incomplete flag '%s'\n",
			        argv[optind - 1]);
			fprintf(err, "try 'plexus master --help'\n");
			return 2;
		}
		if (str != NULL) {
			free(*str);
			*str = strdup(v);
			bad = *str == NULL || v[0] == '\0';
		}
		if (bad) {
			fprintf(err, "plexus master: bad value '%s' for --%s\n", v,
			        opts[c - OPT_IP].name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(err, "plexus master: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

int master_main(int argc, char **argv)
{
	master_flags f;
	actor_config cfg;
	actor_pid pid;
	sigset_t sigs;
	int sig, rv;

	master_flags_default(&f);
	rv = master_flags_parse(&f, argc, argv, stdout, stderr);
	if (rv != 0) {
		master_flags_fini(&f);
		return rv == 1 ? 0 : 2;
	}
	/* Block the signals before threads start, so that only sigwait sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	actor_config_default(&cfg);
	cfg.ip = f.ip;
	cfg.port = f.actor_port;
	cfg.listen = true;
	cfg.http_port = f.port;
	rv = actor_runtime_init(&cfg);
	if (rv != 0) {
		fprintf(stderr, "plexus master: cannot start the runtime: %s\n",
		        actor_strerror(rv));
		master_flags_fini(&f);
		return 1;
	}
	rv = master_start(&f, &pid);
	if (rv != 0) {
		fprintf(stderr, "plexus master: cannot start: %s\n", actor_strerror(rv));
		actor_runtime_fini();
		master_flags_fini(&f);
		return 1;
	}
	sigwait(&sigs, &sig);
	actor_info("master: signal %d, stopping", sig);
	master_stop(pid);
	actor_runtime_fini();
	master_flags_fini(&f);
	return 0;
}
