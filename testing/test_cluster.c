/* test_cluster.c — a master and agents inside the caller's process
 * (include/plexus/test_cluster.h). The same actors as `plexus local`; what this adds is
 * a private work dir, a short allocation interval, posix isolation by default, and
 * waiting until every agent has registered. */
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/http.h"
#include "actor/metrics.h"
#include "actor/runtime.h"
#include "agent/agent.h"
#include "master/master.h"
#include "plexus/test_cluster.h"

#define MAX_AGENTS 64

struct px_test_cluster {
	bool owns_runtime;
	bool owns_work_dir;
	char work_dir[PATH_MAX];
	actor_pid master;
	char master_text[ACTOR_PID_TEXT_MAX];
	int n;
	actor_pid agents[MAX_AGENTS];
	bool running[MAX_AGENTS];
	char agent_text[MAX_AGENTS][ACTOR_PID_TEXT_MAX];
};

void px_test_cluster_options_default(px_test_cluster_options *o)
{
	memset(o, 0, sizeof(*o));
	o->agents = 1;
	o->resources = "cpus:2;mem:1024;disk:1024;ports:[31000-32000]";
	o->isolation = "posix/cpu,posix/mem";
	o->allocation_interval_ms = 100;
	o->wait_ms = 30000;
}

static void fail(char *err, size_t errlen, const char *fmt, const char *detail)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, detail);
}

/* The command executor: the caller's choice, the environment's, this build's, or the
 * installed one, whichever is given or exists first. */
static const char *executor_path(const char *given)
{
	if (given != NULL)
		return given;
	const char *env = getenv("PLEXUS_EXECUTOR_PATH");
	if (env != NULL && *env != '\0')
		return env;
#ifdef PX_BUILD_EXECUTOR_PATH
	if (access(PX_BUILD_EXECUTOR_PATH, X_OK) == 0)
		return PX_BUILD_EXECUTOR_PATH;
#endif
	/* Installed: libplexus is in PREFIX/lib, the executor in PREFIX/bin. */
	static char installed[PATH_MAX];
	Dl_info info;
	if (dladdr((void *)px_test_cluster_start, &info) != 0 && info.dli_fname != NULL) {
		char lib[PATH_MAX];
		snprintf(lib, sizeof(lib), "%s", info.dli_fname);
		char *slash = strrchr(lib, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (snprintf(installed, sizeof(installed), "%s/../bin/plexus-executor", lib) <
			        (int)sizeof(installed) &&
			    access(installed, X_OK) == 0)
				return installed;
		}
	}
	return NULL;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static double active_agents(void)
{
	actor_gauge *g = actor_gauge_get("master/slaves_active");
	return g != NULL ? actor_gauge_value(g) : 0;
}

/* Waits (real time, or advancing a paused clock) until n agents are active. */
static bool wait_agents(int n, int64_t wait_ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (active_agents() >= n)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent > wait_ms)
			return false;
		if (actor_clock_paused()) {
			/* Registration backs off on the runtime's clock: move it along. */
			actor_clock_advance(100);
			actor_clock_settle();
		}
		struct timespec nap = {0, 5 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
}

px_test_cluster *px_test_cluster_start(const px_test_cluster_options *opts, char *err,
                                       size_t errlen)
{
	px_test_cluster_options o;
	px_test_cluster_options_default(&o);
	if (opts != NULL) {
		if (opts->agents > 0)
			o.agents = opts->agents;
		if (opts->resources != NULL)
			o.resources = opts->resources;
		o.attributes = opts->attributes;
		o.work_dir = opts->work_dir;
		if (opts->isolation != NULL)
			o.isolation = opts->isolation;
		if (opts->allocation_interval_ms > 0)
			o.allocation_interval_ms = opts->allocation_interval_ms;
		if (opts->wait_ms > 0)
			o.wait_ms = opts->wait_ms;
		o.executor_path = opts->executor_path;
	}
	if (o.agents > MAX_AGENTS) {
		fail(err, errlen, "at most 64 agents%s", "");
		return NULL;
	}
	const char *executor = executor_path(o.executor_path);
	if (executor == NULL) {
		fail(err, errlen, "no plexus-executor found: set PLEXUS_EXECUTOR_PATH%s", "");
		return NULL;
	}
	px_test_cluster *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		fail(err, errlen, "out of memory%s", "");
		return NULL;
	}
	c->master = actor_pid_none;
	if (o.work_dir != NULL) {
		snprintf(c->work_dir, sizeof(c->work_dir), "%s", o.work_dir);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(c->work_dir, sizeof(c->work_dir), "%s/plexus-test-cluster-XXXXXX",
		         tmp != NULL && *tmp ? tmp : "/tmp");
		if (mkdtemp(c->work_dir) == NULL) {
			fail(err, errlen, "cannot make a work directory: %s", strerror(errno));
			free(c);
			return NULL;
		}
		c->owns_work_dir = true;
	}
	if (!actor_runtime_running()) {
		actor_config cfg;
		actor_config_default(&cfg);
		cfg.listen = true;
		cfg.http_port = 0; /* agents serve /files and /state on it */
		int rc = actor_runtime_init(&cfg);
		if (rc != 0) {
			fail(err, errlen, "cannot start the runtime: %s", actor_strerror(rc));
			goto failed;
		}
		c->owns_runtime = true;
	} else if (!actor_runtime_listening()) {
		fail(err, errlen, "the runtime must listen (actor_config.listen = true): tasks "
		                  "run in other processes%s", "");
		goto failed;
	}

	master_flags mf;
	master_flags_default(&mf);
	mf.allocation_interval_ms = o.allocation_interval_ms;
	mf.actor_port = actor_runtime_port();
	int rc = master_start(&mf, &c->master);
	if (rc != 0) {
		c->master = actor_pid_none;
		fail(err, errlen, "cannot start the master: %s", actor_strerror(rc));
		goto failed;
	}
	actor_pid_format(c->master, c->master_text, sizeof(c->master_text));
	for (; c->n < o.agents; c->n++) {
		char dir[PATH_MAX], why[512];
		struct agent_flags af;
		agent_flags_default(&af);
		if (snprintf(dir, sizeof(dir), "%s/agent%d", c->work_dir, c->n + 1) >= (int)sizeof(dir)) {
			fail(err, errlen, "work directory %s: path too long", c->work_dir);
			goto failed;
		}
		af.master = c->master_text;
		af.work_dir = dir;
		af.resources = o.resources;
		af.attributes = o.attributes;
		af.isolation = o.isolation;
		af.executor_path = executor;
		af.registration_backoff_ms = 10;
		if (actor_runtime_http_port() > 0)
			af.port = (int)actor_runtime_http_port(); /* the shared HTTP server */
		if (agent_start(&af, &c->agents[c->n], why, sizeof(why)) != 0) {
			fail(err, errlen, "cannot start an agent: %s", why);
			goto failed;
		}
		c->running[c->n] = true;
		actor_pid_format(c->agents[c->n], c->agent_text[c->n], sizeof(c->agent_text[c->n]));
	}
	if (!wait_agents(c->n, o.wait_ms)) {
		fail(err, errlen, "the agents did not all register in time%s", "");
		goto failed;
	}
	return c;
failed:
	px_test_cluster_stop(c);
	return NULL;
}

const char *px_test_cluster_master(const px_test_cluster *c)
{
	return c->master_text;
}

int px_test_cluster_agents(const px_test_cluster *c)
{
	return c->n;
}

const char *px_test_cluster_agent(const px_test_cluster *c, int i)
{
	return i >= 0 && i < c->n ? c->agent_text[i] : NULL;
}

int px_test_cluster_stop_agent(px_test_cluster *c, int i)
{
	if (i < 0 || i >= c->n || !c->running[i])
		return -1;
	agent_stop(c->agents[i]);
	c->running[i] = false;
	return 0;
}

void px_test_cluster_stop(px_test_cluster *c)
{
	if (c == NULL)
		return;
	for (int i = c->n - 1; i >= 0; i--)
		if (c->running[i])
			agent_stop(c->agents[i]);
	if (!actor_pid_is_none(c->master))
		master_stop(c->master);
	if (c->owns_runtime)
		actor_runtime_fini();
	if (c->owns_work_dir)
		nftw(c->work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(c);
}
