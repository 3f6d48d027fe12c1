/* storm_cli.c — `plexus storm`: submit, list, kill and rebalance topologies.
 *
 * Each submitted topology runs its own nimbus: the topology program started in nimbus
 * mode, detached, logging into <state-dir>/<name>/nimbus.log. The nimbus keeps its
 * state (and its HTTP address) in <state-dir>/<name>/nimbus.json, which is how this
 * command finds it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "http.h"

static const char *state_dir(const char *flag)
{
	if (flag != NULL)
		return flag;
	const char *env = getenv("PLEXUS_STORM_DIR");
	return env != NULL && *env ? env : "/tmp/plexus-storm";
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus storm submit --master=HOST:PORT [--conf=K=V ...] "
	        "[--worker-resources=R] TOPOLOGY-BINARY NAME\n"
	        "       plexus storm list [--json]\n"
	        "       plexus storm kill NAME\n"
	        "       plexus storm rebalance NAME --workers=N\n"
	        "       plexus storm metrics NAME        (the nimbus's JSON)\n"
	        "Common flag: --state-dir=DIR (default $PLEXUS_STORM_DIR or /tmp/plexus-storm)\n");
}

static void nap(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The state file of a topology; NULL when there is none. */
static json_t *load_state(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/nimbus.json", dir, name);
	return json_load_file(path, 0, NULL);
}

/* The nimbus's /storm/state, or NULL when it does not answer. */
static json_t *nimbus_get(json_t *st)
{
	const char *http = json_string_value(json_object_get(st, "http"));
	char *body = NULL;
	if (http == NULL || stm_http("GET", http, "/storm/state", 3000, &body) != 200) {
		free(body);
		return NULL;
	}
	json_t *o = json_loads(body, 0, NULL);
	free(body);
	return o;
}

/* Whether pid runs (a zombie, ended but not reaped by its parent, does not). */
static bool proc_alive(pid_t pid)
{
	char path[64], line[256];
	if (pid <= 0 || kill(pid, 0) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	bool alive = true;
	if (fgets(line, sizeof(line), f) != NULL) {
		const char *paren = strrchr(line, ')');
		alive = paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
	}
	fclose(f);
	return alive;
}

static bool nimbus_alive(json_t *st)
{
	return proc_alive((pid_t)json_integer_value(json_object_get(st, "nimbus_pid")));
}

static int submit(int argc, char **argv)
{
	const char *master = NULL, *dir = NULL, *resources = NULL;
	const char *confs[64];
	int nconf = 0;
	const char *pos[2];
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--master=", 9) == 0)
			master = argv[i] + 9;
		else if (strncmp(argv[i], "--state-dir=", 12) == 0)
			dir = argv[i] + 12;
		else if (strncmp(argv[i], "--worker-resources=", 19) == 0)
			resources = argv[i] + 19;
		else if (strncmp(argv[i], "--conf=", 7) == 0 && nconf < 64)
			confs[nconf++] = argv[i];
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else {
			fprintf(stderr, "plexus storm submit: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (master == NULL || npos != 2) {
		usage(stderr);
		return 2;
	}
	dir = state_dir(dir);
	char binary[4096];
	if (realpath(pos[0], binary) == NULL || access(binary, X_OK) != 0) {
		fprintf(stderr, "plexus storm submit: %s is not an executable program\n", pos[0]);
		return 1;
	}
	const char *name = pos[1];
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_') ||
		    c - name >= 40) {
			fprintf(stderr, "plexus storm submit: a topology name is 1 to 40 letters, "
			                "digits, '-' or '_'\n");
			return 2;
		}
	json_t *st = load_state(dir, name);
	if (st != NULL && nimbus_alive(st)) {
		fprintf(stderr, "plexus storm submit: topology %s is already running\n", name);
		json_decref(st);
		return 1;
	}
	bool failover = st != NULL;
	json_decref(st);
	char tdir[1024], log[1100];
	snprintf(tdir, sizeof(tdir), "%s/%s", dir, name);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "plexus storm submit: cannot create %s\n", tdir);
		return 1;
	}
	snprintf(log, sizeof(log), "%s/nimbus.log", tdir);
	char mflag[300], nflag[128], dflag[1100], rflag[300];
	snprintf(mflag, sizeof(mflag), "--master=%s", master);
	snprintf(nflag, sizeof(nflag), "--name=%s", name);
	snprintf(dflag, sizeof(dflag), "--state-dir=%s", dir);
	const char *args[80];
	int n = 0;
	args[n++] = binary;
	args[n++] = "--stm-nimbus";
	args[n++] = mflag;
	args[n++] = nflag;
	args[n++] = dflag;
	if (resources != NULL) {
		snprintf(rflag, sizeof(rflag), "--worker-resources=%s", resources);
		args[n++] = rflag;
	}
	for (int i = 0; i < nconf; i++)
		args[n++] = confs[i];
	args[n] = NULL;
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "plexus storm submit: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		/* The nimbus outlives this command: its own session, its own log. */
		setsid();
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (null >= 0)
			dup2(null, 0);
		execv(binary, (char *const *)args);
		_exit(127);
	}
	/* Wait until the nimbus has registered its framework. */
	int64_t deadline = now_ms() + 60000;
	while (now_ms() < deadline) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "plexus storm submit: the nimbus ended (see %s)\n", log);
			return 1;
		}
		st = load_state(dir, name);
		json_t *view =
		    st != NULL && json_integer_value(json_object_get(st, "nimbus_pid")) == pid
		        ? nimbus_get(st)
		        : NULL;
		const char *fid = json_string_value(json_object_get(view, "framework_id"));
		if (fid != NULL && *fid != '\0') {
			printf(
			    "%s topology %s: framework %s, nimbus http://%s/storm/state (pid %d)\n",
			    failover ? "resumed" : "submitted", name, fid,
			    json_string_value(json_object_get(st, "http")), (int)pid);
			json_decref(view);
			json_decref(st);
			return 0;
		}
		json_decref(view);
		json_decref(st);
		nap(100);
	}
	/* Do not leave a nimbus behind that never registered (no master there?). */
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	fprintf(stderr, "plexus storm submit: the nimbus did not register in 60s (see %s)\n", log);
	return 1;
}

static int list(int argc, char **argv)
{
	const char *dir = NULL;
	bool as_json = false;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--state-dir=", 12) == 0)
			dir = argv[i] + 12;
		else if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strncmp(argv[i], "--master=", 9) != 0) {
			fprintf(stderr, "plexus storm list: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	dir = state_dir(dir);
	DIR *d = opendir(dir);
	json_t *all = json_array();
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		json_t *st = load_state(dir, e->d_name);
		if (st == NULL)
			continue;
		json_t *view = nimbus_get(st);
		if (view == NULL)
			view = json_pack("{sssssb}", "name", e->d_name, "status", "nimbus down",
			                 "started", 0);
		else
			json_object_set_new(
			    view, "status",
			    json_string(json_is_true(json_object_get(view, "killing")) ? "killing"
			                                                               : "active"));
		json_array_append_new(all, view);
		json_decref(st);
	}
	if (d != NULL)
		closedir(d);
	if (as_json) {
		char *text = json_dumps(all, JSON_INDENT(1));
		puts(text);
		free(text);
		json_decref(all);
		return 0;
	}
	printf("%-20s %-12s %7s %6s %12s %12s %8s %8s\n", "NAME", "STATUS", "WORKERS", "TASKS",
	       "EMITTED", "ACKED", "FAILED", "P99_MS");
	size_t i;
	json_t *v;
	json_array_foreach(all, i, v)
	{
		json_int_t emitted = 0, acked = 0, failed = 0;
		double p99 = 0;
		const char *k;
		json_t *c;
		json_object_foreach(json_object_get(v, "components"), k, c)
		{
			const char *kind = json_string_value(json_object_get(c, "kind"));
			if (kind == NULL || strcmp(kind, "spout") != 0)
				continue;
			emitted += json_integer_value(json_object_get(c, "emitted"));
			acked += json_integer_value(json_object_get(c, "acked"));
			failed += json_integer_value(json_object_get(c, "failed"));
			double p = json_real_value(json_object_get(c, "complete_ms_p99"));
			p99 = p > p99 ? p : p99;
		}
		printf("%-20s %-12s %7lld %6lld %12lld %12lld %8lld %8.1f\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "status")),
		       (long long)json_integer_value(json_object_get(v, "workers")),
		       (long long)json_integer_value(json_object_get(v, "tasks_total")),
		       (long long)emitted, (long long)acked, (long long)failed, p99);
	}
	json_decref(all);
	return 0;
}

/* kill, rebalance and metrics: one request to a running nimbus. */
static int to_nimbus(const char *cmd, int argc, char **argv)
{
	const char *dir = NULL, *name = NULL;
	int workers = 0;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--state-dir=", 12) == 0)
			dir = argv[i] + 12;
		else if (strncmp(argv[i], "--workers=", 10) == 0)
			workers = atoi(argv[i] + 10);
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else if (strncmp(argv[i], "--master=", 9) != 0) {
			fprintf(stderr, "plexus storm %s: unknown argument '%s'\n", cmd, argv[i]);
			return 2;
		}
	}
	if (name == NULL || (strcmp(cmd, "rebalance") == 0 && workers < 1)) {
		usage(stderr);
		return 2;
	}
	dir = state_dir(dir);
	json_t *st = load_state(dir, name);
	const char *http = json_string_value(json_object_get(st, "http"));
	if (st == NULL || http == NULL || !nimbus_alive(st)) {
		fprintf(stderr, "plexus storm %s: no running topology %s\n", cmd, name);
		json_decref(st);
		return 1;
	}
	char path[128], *body = NULL;
	int status;
	if (strcmp(cmd, "metrics") == 0)
		status = stm_http("GET", http, "/storm/state", 5000, &body);
	else if (strcmp(cmd, "kill") == 0)
		status = stm_http("POST", http, "/storm/kill", 5000, &body);
	else {
		snprintf(path, sizeof(path), "/storm/rebalance?workers=%d", workers);
		status = stm_http("POST", http, path, 5000, &body);
	}
	if (status != 200) {
		fprintf(stderr, "plexus storm %s: the nimbus answered %d: %s\n", cmd, status,
		        body ? body : "");
		free(body);
		json_decref(st);
		return 1;
	}
	if (strcmp(cmd, "metrics") == 0) {
		puts(body);
	} else if (strcmp(cmd, "kill") == 0) {
		/* Wait until the nimbus has seen every worker end and gone away. */
		pid_t pid = (pid_t)json_integer_value(json_object_get(st, "nimbus_pid"));
		int64_t deadline = now_ms() + 30000;
		while (now_ms() < deadline && proc_alive(pid))
			nap(50);
		printf("killed topology %s\n", name);
	} else {
		printf("rebalancing topology %s to %d workers\n", name, workers);
	}
	free(body);
	json_decref(st);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	/* plexus runs us as plexus-storm with argv[1] the subcommand. */
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "submit") == 0)
		return submit(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return list(argc - 1, argv + 1);
	if (strcmp(cmd, "kill") == 0 || strcmp(cmd, "rebalance") == 0 ||
	    strcmp(cmd, "metrics") == 0)
		return to_nimbus(cmd, argc - 1, argv + 1);
	fprintf(stderr, "plexus storm: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
