/* cas_cmd_node.c — `plexus cassandra node`: one database node. Standalone it runs until
 * SIGTERM or SIGINT. Started by the scheduler (the agent's executor environment is
 * set) it is that node's executor: the node starts when its task arrives, the task is
 * RUNNING while it serves, and a kill or shutdown stops it cleanly. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/error.h>
#include <actor/log.h>
#include <actor/runtime.h>
#include <plexus/executor.h>
#include <plexus/message.h>

#include "cas_cmd.h"
#include "cas_flags.h"
#include "cas_node.h"

struct node_exec {
	cas_node_opts opts;
	cas_node *node;
	pthread_mutex_t lock;
	Plexus__TaskID *task;
};

static void send_state(px_executor_driver *d, const Plexus__TaskID *id, Plexus__TaskState state,
                       const char *message)
{
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = (Plexus__TaskID *)id;
	st.state = state;
	st.message = (char *)message;
	px_executor_driver_send_status_update(d, &st);
}

static void ex_launch(px_executor_driver *d, const Plexus__TaskInfo *task, void *arg)
{
	struct node_exec *x = arg;
	char err[512];
	pthread_mutex_lock(&x->lock);
	if (x->node != NULL) {
		pthread_mutex_unlock(&x->lock);
		send_state(d, task->task_id, PLEXUS__TASK_STATE__TASK_FAILED,
		           "this executor runs a node already");
		return;
	}
	x->node = cas_node_start(&x->opts, err, sizeof(err));
	if (x->node)
		x->task = PX_COPY(Plexus__TaskID, task->task_id);
	pthread_mutex_unlock(&x->lock);
	if (x->node == NULL) {
		actor_error("cassandra: cannot start the node: %s", err);
		send_state(d, task->task_id, PLEXUS__TASK_STATE__TASK_FAILED, err);
		px_executor_driver_stop(d);
		return;
	}
	send_state(d, task->task_id, PLEXUS__TASK_STATE__TASK_RUNNING, "serving");
}

static void stop_node(px_executor_driver *d, struct node_exec *x, const char *why)
{
	pthread_mutex_lock(&x->lock);
	cas_node *n = x->node;
	Plexus__TaskID *task = x->task;
	x->node = NULL;
	x->task = NULL;
	pthread_mutex_unlock(&x->lock);
	cas_node_stop(n);
	if (task)
		send_state(d, task, PLEXUS__TASK_STATE__TASK_KILLED, why);
	PX_FREE(task);
	px_executor_driver_stop(d);
}

static void ex_kill(px_executor_driver *d, const Plexus__TaskID *id, void *arg)
{
	(void)id;
	stop_node(d, arg, "killed");
}

static void ex_shutdown(px_executor_driver *d, void *arg)
{
	stop_node(d, arg, "the executor was shut down");
}

static int run_executor(struct node_exec *x)
{
	px_executor_callbacks cb = {
	    .launch_task = ex_launch, .kill_task = ex_kill, .shutdown = ex_shutdown};
	char err[256];
	px_executor_driver *d = px_executor_driver_alloc(&cb, x, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "plexus cassandra node: %s\n", err);
		return 1;
	}
	enum px_driver_status st = px_executor_driver_run(d);
	px_executor_driver_free(d);
	cas_node_stop(x->node);
	x->node = NULL;
	PX_FREE(x->task);
	return st == PX_DRIVER_STOPPED ? 0 : 1;
}

static int run_standalone(struct node_exec *x, sigset_t *sigs)
{
	char err[512];
	x->node = cas_node_start(&x->opts, err, sizeof(err));
	if (x->node == NULL) {
		fprintf(stderr, "plexus cassandra node: %s\n", err);
		return 1;
	}
	printf("node listening on port %u\n", actor_runtime_port());
	fflush(stdout);
	int sig;
	sigwait(sigs, &sig);
	cas_node_stop(x->node);
	return 0;
}

int cas_cmd_node(int argc, char **argv)
{
	static const char *const known[] = {
	    "port", "ip", "data", "seeds", "tokens", "commitlog-sync", "memtable-mb", "phi",
	    "gossip-ms", "timeout-ms", "gc-grace", "compaction-threshold", NULL};
	if (!cas_flags_check(argc, argv, known))
		return 2;
	struct node_exec x = {0};
	pthread_mutex_init(&x.lock, NULL);
	cas_node_opts_default(&x.opts);
	int64_t port, tokens, memtable_mb, phi, gossip, timeout, grace, threshold;
	if (!cas_flag_int(argc, argv, "port", 0, 0, 65535, &port) ||
	    !cas_flag_int(argc, argv, "tokens", 16, 1, 1024, &tokens) ||
	    !cas_flag_int(argc, argv, "memtable-mb", 32, 1, 4096, &memtable_mb) ||
	    !cas_flag_int(argc, argv, "phi", 8, 1, 100, &phi) ||
	    !cas_flag_int(argc, argv, "gossip-ms", 200, 10, 60000, &gossip) ||
	    !cas_flag_int(argc, argv, "timeout-ms", 2000, 10, 600000, &timeout) ||
	    !cas_flag_int(argc, argv, "gc-grace", 864000, 0, 100000000, &grace) ||
	    !cas_flag_int(argc, argv, "compaction-threshold", 4, 2, 64, &threshold))
		return 2;
	const char *sync = cas_flag(argc, argv, "commitlog-sync");
	if (sync && strcmp(sync, "batch") != 0 && strcmp(sync, "periodic") != 0) {
		fprintf(stderr, "plexus cassandra node: --commitlog-sync is batch or periodic, not '%s'\n",
		        sync);
		return 2;
	}
	x.opts.data_dir = cas_flag(argc, argv, "data");
	if (x.opts.data_dir == NULL || *x.opts.data_dir == '\0') {
		fprintf(stderr, "plexus cassandra node: --data=DIR is required\n");
		return 2;
	}
	x.opts.seeds = cas_flag(argc, argv, "seeds");
	x.opts.num_tokens = (int)tokens;
	x.opts.phi_threshold = (double)phi;
	x.opts.gossip_ms = gossip;
	x.opts.timeout_ms = timeout;
	x.opts.periodic_sync = sync && strcmp(sync, "periodic") == 0;
	x.opts.store.memtable_bytes = (size_t)memtable_mb << 20;
	x.opts.store.gc_grace_s = grace;
	x.opts.store.min_threshold = (int)threshold;

	bool executor = getenv("PLEXUS_EXECUTOR_ID") != NULL;
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (!executor)
		pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every runtime thread inherits it */
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = (int)port;
	cfg.ip = cas_flag(argc, argv, "ip");
	cfg.http_port = -1;
	int rc = actor_runtime_init(&cfg);
	if (rc != 0) {
		fprintf(stderr, "plexus cassandra node: cannot start the runtime on port %lld: %s\n",
		        (long long)port, actor_strerror(rc));
		return 1;
	}
	int status = executor ? run_executor(&x) : run_standalone(&x, &sigs);
	actor_runtime_fini();
	pthread_mutex_destroy(&x.lock);
	return status;
}
