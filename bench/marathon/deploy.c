/* marathon.deploy — `plexus local` (the real binary, `agents` agents of 64 cpus and
 * 64 GiB) and `plexus marathon` on it; one POST /v2/apps of `instances` instances of a
 * sleep app (cpus 0.01, mem 32 MiB), every task a real command executor process.
 *
 * Figure: seconds from the POST until GET /v2/apps shows every instance running and
 * the deployment done (an app without health checks is healthy once running, as in
 * Marathon). Polled every 20 ms. Fails unless all instances ran. The app is deleted
 * and the cluster stopped at the end (and on failure), the work dir removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "bench.h"

static int64_t instances = 1000;
static int64_t agents = 4;
static int64_t timeout_s = 120;
static int64_t max_staging = 200;

static const bench_flag flags[] = {
    {"instances", &instances, "instances of the app"},
    {"agents", &agents, "agents of plexus local"},
    {"timeout_s", &timeout_s, "give up after this long"},
    {"max_staging", &max_staging, "plexus marathon --max-staging"},
};

static char work_dir[128];
static pid_t local_pid, marathon_pid;

static void stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 400 && waitpid(*pid, NULL, WNOHANG) != *pid; i++)
		usleep(50000);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

static int request(const char *method, int port, const char *path, const char *body, json_t **out);
static double now_s(void);
static int api_port;

/* Deletes the app and waits (at most 60 s) until the scheduler has no task left. */
static void delete_app(void)
{
	request("DELETE", api_port, "/v2/apps/bench/sleep?force=true", NULL, NULL);
	for (double deadline = now_s() + 60; now_s() < deadline; usleep(100000)) {
		json_t *tasks = NULL;
		if (request("GET", api_port, "/v2/tasks", NULL, &tasks) != 200) {
			json_decref(tasks);
			break;
		}
		size_t n = json_array_size(json_object_get(tasks, "tasks"));
		json_decref(tasks);
		if (n == 0)
			break;
	}
}

/* Kills what is left of this process's children (executors whose agent is gone are
 * reparented here: this process is a child subreaper). */
static void kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], line[256];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "PPid:", 5) == 0) {
				if (atoi(line + 5) == getpid())
					kill(atoi(e->d_name), SIGKILL);
				break;
			}
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* At exit too: the app (so the agents kill its executors), the scheduler, the
 * cluster, any orphan left, then the work dir. */
static void cleanup(void)
{
	if (marathon_pid > 0 && api_port > 0)
		delete_app();
	stop(&marathon_pid);
	stop(&local_pid);
	kill_children();
	if (work_dir[0] != '\0' && access(work_dir, F_OK) == 0) {
		char cmd[192];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
		if (system(cmd) != 0)
			bench_log("could not remove %s", work_dir);
	}
}

/* The plexus binary: $PLEXUS_BIN, or cli/plexus of this build tree. */
static void plexus_path(char *bin, size_t size)
{
	const char *env = getenv("PLEXUS_BIN");
	if (env != NULL) {
		snprintf(bin, size, "%s", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", bin, size - 1);
		if (n <= 0)
			bench_fail("readlink /proc/self/exe");
		bin[n] = '\0';
		for (int up = 0; up < 3; up++) { /* .../bench/marathon/deploy -> ... */
			char *slash = strrchr(bin, '/');
			if (slash != NULL)
				*slash = '\0';
		}
		strncat(bin, "/cli/plexus", size - strlen(bin) - 1);
	}
	if (access(bin, X_OK) != 0)
		bench_fail("no plexus binary at %s (set PLEXUS_BIN)", bin);
}

static pid_t spawn(const char *const *argv)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		if (getenv("BENCH_VERBOSE") == NULL)
			dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* One request; the status (0: no answer) and the body as JSON in *out when asked. */
static int request(const char *method, int port, const char *path, const char *body, json_t **out)
{
	char url[256];
	nng_url *u = NULL;
	nng_http_client *client = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	int status = 0;

	if (out != NULL)
		*out = NULL;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if (nng_url_parse(&u, url) != 0 || nng_http_client_alloc(&client, u) != 0 ||
	    nng_http_req_alloc(&req, u) != 0 || nng_http_res_alloc(&res) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0)
		goto out;
	nng_http_req_set_method(req, method);
	if (body != NULL) {
		nng_http_req_copy_data(req, body, strlen(body));
		nng_http_req_set_header(req, "Content-Type", "application/json");
	}
	nng_aio_set_timeout(aio, 10000);
	nng_http_client_transact(client, req, res, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0)
		goto out;
	status = nng_http_res_get_status(res);
	if (out != NULL) {
		void *data;
		size_t n;
		nng_http_res_get_data(res, &data, &n);
		*out = json_loadb(data, n, 0, NULL);
	}
out:
	nng_aio_free(aio);
	if (res != NULL)
		nng_http_res_free(res);
	if (req != NULL)
		nng_http_req_free(req);
	if (client != NULL)
		nng_http_client_free(client);
	nng_url_free(u);
	return status;
}

static int free_port(void)
{
	/* Ports from the pid, away from the ephemeral range; a clash fails the start. */
	return 20000 + (int)(getpid() % 20000);
}

static double now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

int main(int argc, char **argv)
{
	bench_start("marathon.deploy", argc, argv, flags, BENCH_NFLAGS(flags));
	char bin[PATH_MAX];
	plexus_path(bin, sizeof(bin));
	snprintf(work_dir, sizeof(work_dir), "/tmp/plexus-bench-marathon-%d", (int)getpid());
	atexit(cleanup);

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int master = free_port(), api = master + 1;
	api_port = api;
	char a_port[32], a_agents[32], a_dir[PATH_MAX + 16], a_master[64], a_http[32];
	snprintf(a_port, sizeof(a_port), "--port=%d", master);
	snprintf(a_agents, sizeof(a_agents), "--agents=%lld", (long long)agents);
	snprintf(a_dir, sizeof(a_dir), "--work-dir=%s", work_dir);
	const char *local[] = {bin,
	                       "local",
	                       a_port,
	                       a_agents,
	                       a_dir,
	                       "--ip=127.0.0.1",
	                       "--resources=cpus:64;mem:65536;ports:[31000-32000]",
	                       "--allocation-interval=100ms",
	                       NULL};
	local_pid = spawn(local);
	double deadline = now_s() + 60;
	for (json_t *st = NULL;; usleep(50000)) {
		if (request("GET", master, "/master/state", NULL, &st) == 200 &&
		    (int64_t)json_array_size(json_object_get(st, "slaves")) == agents) {
			json_decref(st);
			break;
		}
		json_decref(st);
		if (now_s() > deadline)
			bench_fail("plexus local did not start");
	}
	snprintf(a_master, sizeof(a_master), "--master=127.0.0.1:%d", master);
	snprintf(a_http, sizeof(a_http), "--http-port=%d", api);
	char a_staging[48];
	snprintf(a_staging, sizeof(a_staging), "--max-staging=%lld", (long long)max_staging);
	const char *marathon[] = {bin, "marathon", a_master, a_http, a_staging, NULL};
	marathon_pid = spawn(marathon);
	for (json_t *info = NULL;; usleep(50000)) {
		const char *id = NULL;
		if (request("GET", api, "/v2/info", NULL, &info) == 200)
			id = json_string_value(json_object_get(info, "frameworkId"));
		bool up = id != NULL && id[0] != '\0';
		json_decref(info);
		if (up)
			break;
		if (now_s() > deadline)
			bench_fail("plexus marathon did not register");
	}

	char app[256];
	snprintf(app, sizeof(app),
	         "{\"id\": \"/bench/sleep\", \"cmd\": \"sleep 100000\", \"cpus\": 0.01,"
	         " \"mem\": 32, \"instances\": %lld}",
	         (long long)instances);
	double t0 = now_s(), first_running = 0;
	if (request("POST", api, "/v2/apps", app, NULL) != 201)
		bench_fail("POST /v2/apps refused the app");
	int64_t running = 0;
	for (deadline = t0 + (double)timeout_s;; usleep(20000)) {
		json_t *apps = NULL;
		request("GET", api, "/v2/apps", NULL, &apps);
		json_t *a = json_array_get(json_object_get(apps, "apps"), 0);
		running = json_integer_value(json_object_get(a, "tasksRunning"));
		bool done =
		    running == instances && json_array_size(json_object_get(a, "deployments")) == 0;
		json_decref(apps);
		if (running > 0 && first_running == 0)
			first_running = now_s() - t0;
		if (done)
			break;
		if (now_s() > deadline)
			bench_fail("%lld of %lld instances running after %llds", (long long)running,
			           (long long)instances, (long long)timeout_s);
	}
	double elapsed = now_s() - t0;

	bench_result *r = bench_result_alloc(elapsed, "s");
	bench_result_extra(r, "instances_per_s", (double)instances / elapsed);
	bench_result_extra(r, "first_running_s", first_running);
	bench_result_print(r);

	return 0; /* cleanup deletes the app before the cluster stops */
}
