/* chr_main.c — plexus-chronos, run as `plexus chronos --master=HOST:PORT
 * --http-port=PORT`: the Chronos scheduler on a Plexus cluster, its REST API on
 * http://<ip>:<http-port>/v1/scheduler/..., until SIGINT or SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/error.h>
#include <actor/http.h>
#include <actor/runtime.h>
#include <plexus/util.h>

#include "chr_service.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus chronos --master=HOST:PORT [flags]\n\n"
	        "Runs Chronos's scheduler for jobs on ISO 8601 schedules and dependent jobs,\n"
	        "with its REST API under /v1/scheduler (see docs/chronos.md).\n\n"
	        "  --master=HOST:PORT        the master's HTTP address (or its PID)\n"
	        "  --http-port=N             REST API port (default 4400)\n"
	        "  --ip=IP                   address to bind and advertise (127.0.0.1)\n"
	        "  --state-file=PATH         jobs and runs are kept here\n"
	        "                            (default ./chronos-state.json)\n"
	        "  --name=NAME               framework name (default chronos)\n"
	        "  --user=USER               user tasks run as (default: this user)\n"
	        "  --role=ROLE               framework role (default *)\n"
	        "  --failure-retry=D         delay before the first retry of a failed run,\n"
	        "                            doubled per attempt (default 60secs)\n"
	        "  --failover-timeout=D      how long the master keeps the framework while\n"
	        "                            no scheduler runs (default 1weeks)\n"
	        "  --task-cpus=N --task-mem=MB --task-disk=MB\n"
	        "                            defaults for jobs that give none (0.1, 128, 256)\n"
	        "  --help                    this text\n\n"
	        "Durations: 500ms, 5secs, 2mins (a bare number is seconds).\n");
}

/* The value of --name=VALUE in arg, or NULL. */
static const char *flag(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static bool number(const char *text, double *out)
{
	char *end;
	*out = strtod(text, &end);
	return end != text && *end == '\0' && *out > 0;
}

int main(int argc, char **argv)
{
	chr_config cfg = {.state_file = "chronos-state.json"};
	const char *ip = "127.0.0.1", *v;
	long http_port = 4400;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool ok = true;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((v = flag(a, "--master")) != NULL) {
			cfg.master = v;
		} else if ((v = flag(a, "--http-port")) != NULL) {
			char *end;
			http_port = strtol(v, &end, 10);
			ok = *v != '\0' && *end == '\0' && http_port > 0 && http_port < 65536;
		} else if ((v = flag(a, "--ip")) != NULL) {
			ip = v;
		} else if ((v = flag(a, "--state-file")) != NULL) {
			cfg.state_file = v;
		} else if ((v = flag(a, "--name")) != NULL) {
			cfg.framework_name = v;
		} else if ((v = flag(a, "--user")) != NULL) {
			cfg.user = v;
		} else if ((v = flag(a, "--role")) != NULL) {
			cfg.role = v;
		} else if ((v = flag(a, "--failure-retry")) != NULL) {
			ok =
			    px_duration_parse(v, &cfg.failure_retry_ms) && cfg.failure_retry_ms > 0;
		} else if ((v = flag(a, "--failover-timeout")) != NULL) {
			ok = px_duration_parse(v, &cfg.failover_timeout_ms) &&
			     cfg.failover_timeout_ms > 0;
		} else if ((v = flag(a, "--task-cpus")) != NULL) {
			ok = number(v, &cfg.defaults.cpus);
		} else if ((v = flag(a, "--task-mem")) != NULL) {
			ok = number(v, &cfg.defaults.mem);
		} else if ((v = flag(a, "--task-disk")) != NULL) {
			ok = number(v, &cfg.defaults.disk);
		} else {
			fprintf(stderr, "plexus chronos: unknown flag '%s'\n\n", a);
			usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "plexus chronos: bad value in '%s'\n", a);
			return 2;
		}
	}
	if (cfg.master == NULL) {
		fprintf(stderr, "plexus chronos: --master=HOST:PORT is required\n\n");
		usage(stderr);
		return 2;
	}
	cfg.defaults.retries = 2;

	/* Block the stop signals before any thread starts: only sigwait below takes them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	actor_config ac;
	actor_config_default(&ac);
	ac.ip = ip;
	ac.port = 0;
	ac.listen = true;
	ac.http_port = (int)http_port;
	int rv = actor_runtime_init(&ac);
	if (rv != 0) {
		fprintf(stderr, "plexus chronos: cannot start the runtime (HTTP port %ld): %s\n",
		        http_port, actor_strerror(rv));
		return 1;
	}
	char err[512];
	chr_service *svc = chr_service_start(&cfg, err, sizeof(err));
	if (svc == NULL) {
		fprintf(stderr, "plexus chronos: %s\n", err);
		actor_runtime_fini();
		return 1;
	}
	fprintf(stderr, "plexus chronos: REST API on http://%s:%u/v1/scheduler, master %s\n", ip,
	        actor_runtime_http_port(), cfg.master);
	int sig;
	sigwait(&sigs, &sig);
	fprintf(stderr, "plexus chronos: %s, stopping\n", strsignal(sig));
	chr_service_stop(svc);
	actor_runtime_fini();
	return 0;
}
