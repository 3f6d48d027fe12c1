/* main.c — `plexus agent`: flags, the runtime, the agent, and waiting for a signal. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/libactor.h"
#include "agent/agent.h"
#include "agent/containerizer/containerizer.h"
#include "agent/detect.h"
#include "agent/fetcher.h"
#include "plexus/util.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: plexus agent --master=MASTER [flags]\n"
	    "  --master=MASTER          the master: a PID (master@10.0.0.5:41234) or its HTTP\n"
	    "                           address (10.0.0.5:5050); required\n"
	    "  --ip=IP                  address to bind and advertise (default 127.0.0.1)\n"
	    "  --port=N                 HTTP port (default 5051)\n"
	    "  --actor-port=N           actor transport port (default 0: ephemeral)\n"
	    "  --hostname=NAME          hostname to advertise (default: this machine's)\n"
	    "  --resources=R            'cpus:4;mem:8192;ports:[31000-32000]' or a JSON array of\n"
	    "                           Resource objects; what is not named is detected\n"
	    "  --attributes=A           'rack:a;zone:1'\n"
	    "  --work-dir=DIR           sandboxes live below it (default /tmp/plexus/agent)\n"
	    "  --executor-path=PATH     the plexus-executor program (default: beside plexus)\n"
	    "  --executor-shutdown-grace-period=D   default 5secs\n"
	    "  --executor-registration-timeout=D    default 1mins\n"
	    "  --registration-backoff-factor=D      default 1secs\n"
	    "  --status-update-retry-interval-min=D default 10secs\n"
	    "  --status-update-retry-interval-max=D default 10mins\n"
	    "  --isolation=LIST         e.g. cgroups/cpu,cgroups/mem,namespaces/pid,disk/du or\n"
	    "                           posix/cpu,posix/mem (default: cgroups and a pid\n"
	    "                           namespace when usable, else posix)\n"
	    "  --cgroups-root=NAME      containers' cgroups live under it (default plexus)\n"
	    "  --cgroups-enable-cfs[=true|false]    hard cpu cap (CFS quota); default false\n"
	    "  --enforce-container-disk-quota[=true|false]  kill a sandbox past its disk\n"
	    "  --container-disk-watch-interval=D    default 15secs\n"
	    "  --checkpoint[=true|false]  write what a restarted agent needs to recover its\n"
	    "                           executors (default true)\n"
	    "  --recover=reconnect|cleanup  after a restart, reconnect to the executors\n"
	    "                           (default), or kill them and start as a new agent\n"
	    "  --recovery-timeout=D     executors wait this long for a restarted agent\n"
	    "                           (default 15mins)\n"
	    "  --executor-reregistration-timeout=D  default 2secs\n"
	    "  --gc-delay=D             old sandboxes are removed after it (default 7days)\n"
	    "  --gc-disk-headroom=F     sooner when the disk is fuller than 1-F (default 0.1)\n"
	    "  --disk-watch-interval=D  how often the disk is measured (default 1mins)\n"
	    "  --fetcher-cache-dir=DIR  where cached URIs are kept (default <work dir>/fetch)\n"
	    "  --fetcher-cache-size=S   the cache's capacity: 512MB, 2GB ... (default 2GB)\n"
	    "Durations: 500ms, 5secs, 2mins, 1hrs, or a number of seconds.\n");
}

static int parse_port(const char *flag, const char *text, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || v < 0 || v > 65535) {
		fprintf(stderr, "plexus agent: --%s must be a port from 0 to 65535, not '%s'\n",
		        flag, text);
		return 2;
	}
	*out = (int)v;
	return 0;
}

int agent_flags_parse(struct agent_flags *f, int argc, char **argv)
{
	enum {
		F_MASTER = 256,
		F_IP,
		F_PORT,
		F_ACTOR_PORT,
		F_HOSTNAME,
		F_RESOURCES,
		F_ATTRIBUTES,
		F_WORK_DIR,
		F_EXECUTOR_PATH,
		F_GRACE,
		F_REG_TIMEOUT,
		F_BACKOFF,
		F_RETRY_MIN,
		F_RETRY_MAX,
		F_ISOLATION,
		F_CGROUPS_ROOT,
		F_ENABLE_CFS,
		F_ENFORCE_DISK,
		F_DISK_WATCH,
		F_CHECKPOINT,
		F_RECOVER,
		F_RECOVERY_TIMEOUT,
		F_REREG_TIMEOUT,
		F_GC_DELAY,
		F_GC_HEADROOM,
		F_DISK_WATCH_INTERVAL,
		F_FETCHER_CACHE_DIR,
		F_FETCHER_CACHE_SIZE,
		F_HELP,
	};
	static const struct option options[] = {
	    {"master", required_argument, NULL, F_MASTER},
	    {"ip", required_argument, NULL, F_IP},
	    {"port", required_argument, NULL, F_PORT},
	    {"actor-port", required_argument, NULL, F_ACTOR_PORT},
	    {"hostname", required_argument, NULL, F_HOSTNAME},
	    {"resources", required_argument, NULL, F_RESOURCES},
	    {"attributes", required_argument, NULL, F_ATTRIBUTES},
	    {"work-dir", required_argument, NULL, F_WORK_DIR},
	    {"executor-path", required_argument, NULL, F_EXECUTOR_PATH},
	    {"executor-shutdown-grace-period", required_argument, NULL, F_GRACE},
	    {"executor-registration-timeout", required_argument, NULL, F_REG_TIMEOUT},
	    {"registration-backoff-factor", required_argument, NULL, F_BACKOFF},
	    {"status-update-retry-interval-min", required_argument, NULL, F_RETRY_MIN},
	    {"status-update-retry-interval-max", required_argument, NULL, F_RETRY_MAX},
	    {"isolation", required_argument, NULL, F_ISOLATION},
	    {"cgroups-root", required_argument, NULL, F_CGROUPS_ROOT},
	    {"cgroups-enable-cfs", optional_argument, NULL, F_ENABLE_CFS},
	    {"enforce-container-disk-quota", optional_argument, NULL, F_ENFORCE_DISK},
	    {"container-disk-watch-interval", required_argument, NULL, F_DISK_WATCH},
	    {"checkpoint", optional_argument, NULL, F_CHECKPOINT},
	    {"recover", required_argument, NULL, F_RECOVER},
	    {"recovery-timeout", required_argument, NULL, F_RECOVERY_TIMEOUT},
	    {"executor-reregistration-timeout", required_argument, NULL, F_REREG_TIMEOUT},
	    {"gc-delay", required_argument, NULL, F_GC_DELAY},
	    {"gc-disk-headroom", required_argument, NULL, F_GC_HEADROOM},
	    {"disk-watch-interval", required_argument, NULL, F_DISK_WATCH_INTERVAL},
	    {"fetcher-cache-dir", required_argument, NULL, F_FETCHER_CACHE_DIR},
	    {"fetcher-cache-size", required_argument, NULL, F_FETCHER_CACHE_SIZE},
	    {"help", no_argument, NULL, F_HELP},
	    {0},
	};
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int64_t *dur = NULL;
		switch (opt) {
		case F_MASTER:
			f->master = optarg;
			break;
		case F_IP:
			f->ip = optarg;
			break;
		case F_PORT:
			if (parse_port("port", optarg, &f->port))
				return 2;
			break;
		case F_ACTOR_PORT:
			if (parse_port("actor-port", optarg, &f->actor_port))
				return 2;
			break;
		case F_HOSTNAME:
			f->hostname = optarg;
			break;
		case F_RESOURCES:
			f->resources = optarg;
			break;
		case F_ATTRIBUTES:
			f->attributes = optarg;
			break;
		case F_WORK_DIR:
			f->work_dir = optarg;
			break;
		case F_EXECUTOR_PATH:
			f->executor_path = optarg;
			break;
		case F_GRACE:
			dur = &f->executor_shutdown_grace_ms;
			break;
		case F_REG_TIMEOUT:
			dur = &f->executor_registration_timeout_ms;
			break;
		case F_BACKOFF:
			dur = &f->registration_backoff_ms;
			break;
		case F_RETRY_MIN:
			dur = &f->update_retry_min_ms;
			break;
		case F_RETRY_MAX:
			dur = &f->update_retry_max_ms;
			break;
		case F_ISOLATION:
			f->isolation = optarg;
			break;
		case F_CGROUPS_ROOT:
			f->cgroups_root = optarg;
			break;
		case F_ENABLE_CFS:
		case F_ENFORCE_DISK:
		case F_CHECKPOINT: {
			int *b = opt == F_ENABLE_CFS    ? &f->cgroups_enable_cfs
			         : opt == F_CHECKPOINT ? &f->checkpoint
			                               : &f->enforce_container_disk_quota;
			if (optarg == NULL || strcmp(optarg, "true") == 0)
				*b = 1;
			else if (strcmp(optarg, "false") == 0)
				*b = 0;
			else {
				fprintf(stderr, "plexus agent: --%s takes true or false, not '%s'\n",
				        options[opt - F_MASTER].name, optarg);
				return 2;
			}
			break;
		}
		case F_DISK_WATCH:
			dur = &f->container_disk_watch_ms;
			break;
		case F_RECOVER:
			if (strcmp(optarg, "reconnect") != 0 && strcmp(optarg, "cleanup") != 0) {
				fprintf(stderr,
				        "plexus agent: --recover takes reconnect or cleanup, not '%s'\n",
				        optarg);
				return 2;
			}
			f->recover = optarg;
			break;
		case F_RECOVERY_TIMEOUT:
			dur = &f->recovery_timeout_ms;
			break;
		case F_REREG_TIMEOUT:
			dur = &f->executor_reregistration_timeout_ms;
			break;
		case F_GC_DELAY:
			dur = &f->gc_delay_ms;
			break;
		case F_DISK_WATCH_INTERVAL:
			dur = &f->disk_watch_interval_ms;
			break;
		case F_GC_HEADROOM: {
			char *end = NULL;
			double v = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(v >= 0 && v <= 1)) {
				fprintf(stderr,
				        "plexus agent: --gc-disk-headroom takes a number from 0 to 1, "
				        "not '%s'\n",
				        optarg);
				return 2;
			}
			f->gc_disk_headroom = v;
			break;
		}
		case F_FETCHER_CACHE_DIR:
			f->fetcher_cache_dir = optarg;
			break;
		case F_FETCHER_CACHE_SIZE:
			if (!agent_fetcher_parse_size(optarg, &f->fetcher_cache_size)) {
				fprintf(
				    stderr,
				    "plexus agent: --fetcher-cache-size takes a size such as 512MB "
				    "or 2GB, not '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case F_HELP:
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "plexus agent: unknown or incomplete flag '%s'\n",
			        argv[optind - 1]);
			usage(stderr);
			return 2;
		}
		if (dur != NULL && !px_duration_parse(optarg, dur)) {
			fprintf(stderr, "plexus agent: --%s: '%s' is not a duration\n",
			        options[opt - F_MASTER].name, optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "plexus agent: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (f->master == NULL || *f->master == '\0') {
		fprintf(stderr, "plexus agent: --master is required\n");
		return 2;
	}
	/* Check the values that need no runtime now, so a typo is exit status 2. */
	char err[512];
	px_resources *rs = NULL;
	if (f->resources != NULL && px_resources_parse(f->resources, NULL, &rs, err, sizeof(err))) {
		fprintf(stderr, "plexus agent: --resources: %s\n", err);
		return 2;
	}
	px_resources_free(rs);
	Plexus__Attribute **attrs = NULL;
	size_t n = 0;
	if (f->attributes != NULL &&
	    agent_attributes_parse(f->attributes, &attrs, &n, err, sizeof(err))) {
		fprintf(stderr, "plexus agent: --attributes: %s\n", err);
		return 2;
	}
	agent_attributes_free(attrs, n);
	struct containerizer_flags cf = {.isolation = f->isolation};
	if (containerizer_flags_check(&cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "plexus agent: %s\n", err);
		return 2;
	}
	return 0;
}

static volatile sig_atomic_t stop_signal;

int agent_main(int argc, char **argv)
{
	struct agent_flags f;
	agent_flags_default(&f);
	int rc = agent_flags_parse(&f, argc, argv);
	if (rc != 0)
		return rc == 1 ? 0 : 2;

	actor_config cfg;
	actor_config_default(&cfg);
	cfg.ip = f.ip;
	cfg.port = f.actor_port;
	cfg.listen = true;
	cfg.http_port = f.port;
	if ((rc = actor_runtime_init(&cfg)) != 0) {
		fprintf(stderr, "plexus agent: cannot start the runtime: %s\n", actor_strerror(rc));
		return 1;
	}

	/* Block the stop signals in every thread (the runtime's inherit the mask from here
	 * on, and the ones already running never take them since sigwait claims them). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	char err[512];
	actor_pid pid;
	if ((rc = agent_start(&f, &pid, err, sizeof(err))) != 0) {
		fprintf(stderr, "plexus agent: %s\n", err);
		actor_runtime_fini();
		return 2;
	}
	fprintf(stderr, "plexus agent: %s, HTTP on port %u\n", actor_pid_str(pid),
	        (unsigned)actor_runtime_http_port());
	int sig = 0;
	sigwait(&set, &sig);
	(void)stop_signal;
	fprintf(stderr, "plexus agent: %s, stopping\n", strsignal(sig));
	agent_stop(pid);
	actor_runtime_fini();
	return 0;
}
