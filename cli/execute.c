/* plexus execute — a small framework on the scheduler driver: it launches one shell
 * command on the first offer that fits, prints each status update as it arrives, and
 * exits with the task's outcome (as Mesos's mesos-execute).
 *
 * Exit status: 0 when the task FINISHED; the command's own exit status when it FAILED
 * (read from the executor's message "... exited with status N", 1 if absent); 1 for
 * any other terminal state, an error from the master, or a master that cannot be
 * reached; 128 + N when signal N (SIGINT, SIGTERM) interrupts it, after it has
 * unregistered (the master then kills the task); 2 for bad flags.
 *
 * While no offer fits (--explain-after, 3 s by default, then every 10 s while the answer
 * changes), it asks the master why (px_scheduler_driver_explain) and prints the answer,
 * e.g. "no agent has cpus:4; the largest has cpus:2". */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/libactor.h"
#include "commands.h"
#include "common/master_discovery.h"
#include "common/resources.h"
#include "plexus/message.h"
#include "plexus/scheduler.h"
#include "plexus/util.h"

#define REGISTRATION_TIMEOUT_MS 30000
#define EXPLAIN_AFTER_MS        3000
#define EXPLAIN_AGAIN_MS        10000

struct execute {
	const char *name;
	const char *command;
	const char *resources_text;
	px_resources *resources;
	int64_t explain_after_ms;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool registered; /* under mu */
	bool ended;      /* under mu: interrupted, refused by the master, or the task ended */
	bool launched;   /* inside the driver's actor only */
	bool offer_taken; /* under mu: launched, so nothing is left to explain */
	char *explained;  /* under mu: the last explanation printed */
	int exit_status;  /* set once the task ends or the driver fails */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: plexus execute --master=MASTER --name=NAME --command=CMD [flags]\n"
	             "\n"
	             "Runs CMD (with /bin/sh -c) as one task on the cluster, prints its status\n"
	             "updates, and exits with the task's outcome: 0 when it finished, the\n"
	             "command's exit status when it failed, 1 otherwise, 2 for bad flags.\n"
	             "\n"
	             "  --master=MASTER       the master's HTTP address (host:5050) or its PID\n"
	             "                        (master@ip:port)\n"
	             "  --name=NAME           the task's name (also its id)\n"
	             "  --command=CMD         the shell command to run\n"
	             "  --resources=RES       what the task needs, unreserved (default\n"
	             "                        cpus:0.1;mem:32)\n"
	             "  --role=ROLE           the framework's role (default *)\n"
	             "  --explain-after=DUR   while no offer fits, say why after DUR (default\n"
	             "                        3secs; 0 never)\n"
	             "  --help                this text\n");
}

/* The command's exit status from a FAILED update's message, as Mesos's command
 * executor words it ("Command exited with status 3"); 1 when it is not there. */
static int failed_status(const char *message)
{
	const char *p = message ? strstr(message, "exited with status ") : NULL;
	if (p == NULL)
		return 1;
	int v = atoi(p + strlen("exited with status "));
	return v > 0 && v < 256 ? v : 1;
}

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *master, void *arg)
{
	struct execute *x = arg;
	printf("Registered with the master as framework %s\n", id->value);
	fflush(stdout);
	pthread_mutex_lock(&x->mu);
	x->registered = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

static void on_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *master, void *arg)
{
	fprintf(stderr, "plexus execute: registered again with the master\n");
}

static void on_disconnected(px_scheduler_driver *d, void *arg)
{
	fprintf(stderr, "plexus execute: lost the master; trying to reach it again\n");
}

/* What the task takes from offer: --resources marked with the role the offer is made
 * to (its resources carry it in allocation_info, as Mesos's offers do), so that they
 * compare with the offer's; NULL when the offer does not hold them. */
static px_resources *fitting(struct execute *x, const Plexus__Offer *offer)
{
	px_resources *have = NULL, *need = NULL;
	char err[256];
	if (px_resources_from_pb(offer->resources, offer->n_resources, &have, err, sizeof(err)) !=
	    0)
		return NULL;
	const char *role = NULL;
	for (size_t i = 0; i < px_resources_size(have) && role == NULL; i++)
		role = px_resource_allocation_role(px_resources_at(have, i));
	if (px_resources_allocate(x->resources, role, &need) != 0 ||
	    !px_resources_contains(have, need)) {
		px_resources_free(need);
		need = NULL;
	}
	px_resources_free(have);
	return need;
}

static void launch(px_scheduler_driver *d, struct execute *x, const Plexus__Offer *offer,
                   const px_resources *need)
{
	Plexus__Resource **res = NULL;
	size_t nres = 0;
	if (px_resources_to_pb(need, PX_PB_REFINED, &res, &nres) != 0) {
		fprintf(stderr, "plexus execute: out of memory\n");
		px_scheduler_driver_stop(d, false);
		return;
	}
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = (char *)x->name;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	cmd.value = (char *)x->command;
	cmd.has_shell = true;
	cmd.shell = true;
	Plexus__TaskInfo task = PLEXUS__TASK_INFO__INIT;
	task.name = (char *)x->name;
	task.task_id = &tid;
	task.agent_id = offer->agent_id;
	task.n_resources = nres;
	task.resources = res;
	task.command = &cmd;
	const Plexus__TaskInfo *tasks[1] = {&task};
	const Plexus__OfferID *ids[1] = {offer->id};
	px_scheduler_driver_launch(d, ids, 1, tasks, 1, NULL);
	px_pb_resources_free(res, nres);
	printf("Launching task '%s' on agent %s (%s)\n", x->name, offer->agent_id->value,
	       offer->hostname ? offer->hostname : "?");
	fflush(stdout);
	x->launched = true;
	pthread_mutex_lock(&x->mu);
	x->offer_taken = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

static void on_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	struct execute *x = arg;
	for (size_t i = 0; i < n; i++) {
		px_resources *need = x->launched ? NULL : fitting(x, offers[i]);
		if (need != NULL)
			launch(d, x, offers[i], need);
		else
			px_scheduler_driver_decline(d, offers[i]->id, NULL);
		px_resources_free(need);
	}
}

static void on_status(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	struct execute *x = arg;
	printf("%-14s task '%s' on agent %s%s%s\n", px_task_state_name(s->state), s->task_id->value,
	       s->agent_id && s->agent_id->value ? s->agent_id->value : "-", s->message ? ": " : "",
	       s->message ? s->message : "");
	fflush(stdout);
	/* Acknowledge first, so that the terminal update is not resent after we go. */
	if (s->has_uuid)
		px_scheduler_driver_acknowledge(d, s);
	if (!px_task_state_is_terminal(s->state) || strcmp(s->task_id->value, x->name) != 0)
		return;
	pthread_mutex_lock(&x->mu);
	if (s->state == PLEXUS__TASK_STATE__TASK_FINISHED)
		x->exit_status = 0;
	else if (s->state == PLEXUS__TASK_STATE__TASK_FAILED)
		x->exit_status = failed_status(s->message);
	else
		x->exit_status = 1;
	x->ended = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	px_scheduler_driver_stop(d, false);
}

/* The master's answer to "why does no offer fit?": printed when it is new. */
static void on_explained(px_scheduler_driver *d, int err, const char *text, void *arg)
{
	struct execute *x = arg;
	if (err != 0) {
		fprintf(stderr, "plexus execute: cannot tell why no offer fits: %s\n", text);
		return;
	}
	pthread_mutex_lock(&x->mu);
	bool fresh = !x->offer_taken && (x->explained == NULL || strcmp(x->explained, text) != 0);
	if (fresh) {
		free(x->explained);
		x->explained = strdup(text);
	}
	pthread_mutex_unlock(&x->mu);
	if (fresh)
		fprintf(stderr, "plexus execute: no offer fits %s yet: %s\n", x->resources_text,
		        text);
}

/* Until the task is launched (or everything ends): after explain_after_ms, and every
 * EXPLAIN_AGAIN_MS after, asks the master why no offer fits. */
static void explain_while_waiting(px_scheduler_driver *d, struct execute *x)
{
	if (x->explain_after_ms <= 0)
		return;
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	int64_t wait_ms = x->explain_after_ms;
	pthread_mutex_lock(&x->mu);
	while (!x->offer_taken && !x->ended) {
		dl.tv_sec += (time_t)(wait_ms / 1000);
		dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		int rc = 0;
		while (!x->offer_taken && !x->ended && rc == 0)
			rc = pthread_cond_timedwait(&x->cv, &x->mu, &dl);
		if (x->offer_taken || x->ended)
			break;
		pthread_mutex_unlock(&x->mu);
		if (px_scheduler_driver_explain(d, x->resources_text, on_explained, x) !=
		    PX_DRIVER_RUNNING) {
			pthread_mutex_lock(&x->mu);
			break;
		}
		pthread_mutex_lock(&x->mu);
		wait_ms = EXPLAIN_AGAIN_MS;
	}
	pthread_mutex_unlock(&x->mu);
}

static void on_error(px_scheduler_driver *d, const char *message, void *arg)
{
	struct execute *x = arg;
	fprintf(stderr, "plexus execute: the master refused the framework: %s\n", message);
	pthread_mutex_lock(&x->mu);
	x->ended = true; /* exit_status stays 1 */
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

static void on_agent_lost(px_scheduler_driver *d, const Plexus__AgentID *agent, void *arg)
{
	fprintf(stderr, "plexus execute: agent %s was lost\n", agent->value);
}

/* Waits (real time) for the registered callback; false on timeout. */
static bool wait_registered(struct execute *x, int64_t ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	pthread_mutex_lock(&x->mu);
	while (!x->registered && !x->ended)
		if (pthread_cond_timedwait(&x->cv, &x->mu, &dl) != 0)
			break;
	bool ok = x->registered;
	pthread_mutex_unlock(&x->mu);
	return ok;
}

/* SIGINT and SIGTERM are blocked in every thread and taken here: the framework
 * unregisters (the master kills the task) and plexus exits with 128 + the signal. */
struct signals {
	sigset_t set;
	struct execute *x;
	px_scheduler_driver *d;
	atomic_bool done;
};

static void *signal_thread(void *arg)
{
	struct signals *sg = arg;
	int sig;
	if (sigwait(&sg->set, &sig) != 0 || atomic_load(&sg->done))
		return NULL;
	fprintf(stderr, "plexus execute: interrupted; unregistering the framework\n");
	pthread_mutex_lock(&sg->x->mu);
	sg->x->ended = true;
	sg->x->exit_status = 128 + sig;
	pthread_cond_broadcast(&sg->x->cv);
	pthread_mutex_unlock(&sg->x->mu);
	px_scheduler_driver_stop(sg->d, false);
	return NULL;
}

static int run(struct execute *x, const char *master, const char *role)
{
	/* Blocked before the runtime's threads exist, so that they inherit the mask. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true; /* the master answers over the network */
	cfg.port = 0;
	cfg.http_port = -1;
	int rv = actor_runtime_init(&cfg);
	if (rv != 0) {
		fprintf(stderr, "plexus execute: cannot start the runtime: %s\n",
		        actor_strerror(rv));
		return 1;
	}

	/* Find the master once up front, so that an unreachable one is a clear error
	 * rather than endless retries. */
	int status = 1;
	actor_future *f = px_master_discover(master, 5000);
	actor_future_await(f, 10000);
	if (actor_future_state(f) != ACTOR_FUTURE_READY) {
		const char *why = actor_future_why(f);
		if (why != NULL)
			fprintf(stderr, "plexus execute: %s\n", why);
		else
			fprintf(stderr,
			        "plexus execute: cannot reach the master at %s: no answer\n",
			        master);
		actor_future_unref(f);
		actor_runtime_fini();
		return 1;
	}
	actor_future_unref(f);

	const char *user = getenv("USER");
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.user = (char *)(user && *user ? user : "root");
	fw.name = "plexus-execute";
	if (role != NULL)
		fw.role = (char *)role;
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
	opts.implicit_acknowledgements = false;
	px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, x, &fw, master, &opts);
	struct signals sg = {.x = x, .d = d};
	pthread_t sigthread;
	bool have_sigthread = false;
	sigemptyset(&sg.set);
	sigaddset(&sg.set, SIGINT);
	sigaddset(&sg.set, SIGTERM);
	atomic_init(&sg.done, false);
	if (d != NULL)
		have_sigthread = pthread_create(&sigthread, NULL, signal_thread, &sg) == 0;
	if (d == NULL || px_scheduler_driver_start(d) != PX_DRIVER_RUNNING) {
		fprintf(stderr, "plexus execute: cannot start the scheduler driver\n");
	} else if (!wait_registered(x, REGISTRATION_TIMEOUT_MS)) {
		pthread_mutex_lock(&x->mu);
		bool ended = x->ended;
		status = x->exit_status;
		pthread_mutex_unlock(&x->mu);
		if (!ended)
			fprintf(stderr,
			        "plexus execute: the master at %s did not register the "
			        "framework within %d seconds\n",
			        master, REGISTRATION_TIMEOUT_MS / 1000);
		px_scheduler_driver_stop(d, false);
	} else {
		explain_while_waiting(d, x);
		px_scheduler_driver_join(d);
		pthread_mutex_lock(&x->mu);
		status = x->exit_status;
		pthread_mutex_unlock(&x->mu);
	}
	if (have_sigthread) {
		atomic_store(&sg.done, true);
		pthread_kill(sigthread, SIGTERM); /* blocked: only wakes its sigwait */
		pthread_join(sigthread, NULL);
	}
	px_scheduler_driver_free(d);
	actor_runtime_fini();
	return status;
}

int plexus_execute_main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"master", required_argument, NULL, 'm'},
	    {"name", required_argument, NULL, 'n'},
	    {"command", required_argument, NULL, 'c'},
	    {"resources", required_argument, NULL, 'r'},
	    {"role", required_argument, NULL, 'R'},
	    {"explain-after", required_argument, NULL, 'E'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *master = NULL, *resources = "cpus:0.1;mem:32", *role = NULL;
	struct execute x = {.exit_status = 1, .explain_after_ms = EXPLAIN_AFTER_MS};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			master = optarg;
			break;
		case 'n':
			x.name = optarg;
			break;
		case 'c':
			x.command = optarg;
			break;
		case 'r':
			resources = optarg;
			break;
		case 'R':
			role = optarg;
			break;
		case 'E':
			if (!px_duration_parse(optarg, &x.explain_after_ms)) {
				fprintf(stderr,
				        "plexus execute: --explain-after: '%s' is not a duration "
				        "(e.g. 3secs, 500ms)\n",
				        optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "plexus execute: flag '%s' needs a value\n",
			        argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "plexus execute: unknown flag '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "plexus execute: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	const char *missing = master == NULL      ? "--master"
	                      : x.name == NULL    ? "--name"
	                      : x.command == NULL ? "--command"
	                                          : NULL;
	if (missing != NULL) {
		fprintf(stderr, "plexus execute: %s is required\n", missing);
		usage(stderr);
		return 2;
	}
	char err[256];
	if (px_master_spec_check(master, err, sizeof(err)) != 0) {
		fprintf(stderr, "plexus execute: --master: %s\n", err);
		return 2;
	}
	if (x.name[0] == '\0' || x.command[0] == '\0') {
		fprintf(stderr, "plexus execute: --name and --command must not be empty\n");
		return 2;
	}
	if (px_resources_parse(resources, NULL, &x.resources, err, sizeof(err)) != 0) {
		fprintf(stderr, "plexus execute: --resources: %s\n", err);
		return 2;
	}
	if (px_resources_is_empty(x.resources)) {
		fprintf(stderr, "plexus execute: --resources: the task needs some resources\n");
		px_resources_free(x.resources);
		return 2;
	}
	x.resources_text = resources;
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	int status = run(&x, master, role);
	pthread_cond_destroy(&x.cv);
	pthread_mutex_destroy(&x.mu);
	px_resources_free(x.resources);
	free(x.explained);
	return status;
}
