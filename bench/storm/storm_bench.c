/* storm_bench.c — see storm_bench.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "http.h"
#include "storm_bench.h"

static char scratch[256];
static pid_t local_pid;

void sb_nap_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

double sb_now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0)
		bench_fail("no free port");
	close(s);
	return ntohs(a.sin_port);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], line[256];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "PPid:", 5) == 0) {
				if (atoi(line + 5) == getpid()) {
					kill(atoi(e->d_name), SIGKILL);
					n++;
				}
				break;
			}
		if (f != NULL)
			fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return n;
}

void sb_stop(void)
{
	if (scratch[0] == '\0')
		return;
	if (local_pid > 0)
		kill(local_pid, SIGKILL);
	for (int i = 0; i < 100 && kill_children() > 0; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sb_nap_ms(20);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	scratch[0] = '\0';
}

static pid_t spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int sb_start_cluster(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/plexus-storm-bench-%d-XXXXXX", (int)getpid());
	if (mkdtemp(scratch) == NULL)
		bench_fail("mkdtemp: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	atexit(sb_stop);
	char state[300], port_flag[32], work[300], log[300];
	snprintf(state, sizeof(state), "%s/state", scratch);
	setenv("PLEXUS_STORM_DIR", state, 1);
	int port = free_port();
	snprintf(port_flag, sizeof(port_flag), "--port=%d", port);
	snprintf(work, sizeof(work), "--work-dir=%s/work", scratch);
	snprintf(log, sizeof(log), "%s/local.log", scratch);
	const char *argv[] = {PLEXUS_PATH,
	                      "local",
	                      "--agents=2",
	                      port_flag,
	                      work,
	                      "--ip=127.0.0.1",
	                      "--resources=cpus:2;mem:2048",
	                      "--allocation-interval=100ms",
	                      NULL};
	local_pid = spawn(argv, log);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	for (int i = 0; i < 400; i++) {
		char *body = NULL;
		if (stm_http("GET", addr, "/master/state", 2000, &body) == 200) {
			json_t *o = json_loads(body, 0, NULL);
			json_t *agents = json_object_get(o, "slaves");
			size_t n = json_array_size(agents ? agents : json_object_get(o, "agents"));
			json_decref(o);
			free(body);
			if (n >= 2)
				return port;
		} else {
			free(body);
		}
		sb_nap_ms(50);
	}
	bench_fail("plexus local did not start");
}

void sb_submit(int port, const char *const *confs)
{
	char master[64], log[300];
	const char *argv[40] = {PLEXUS_PATH, "storm", "submit", master};
	int n = 4;
	static char buf[20][160];
	snprintf(master, sizeof(master), "--master=127.0.0.1:%d", port);
	for (int i = 0; confs[i] != NULL && i < 20; i++) {
		snprintf(buf[i], sizeof(buf[i]), "--conf=%s", confs[i]);
		argv[n++] = buf[i];
	}
	argv[n++] = WORDCOUNT_PATH;
	argv[n++] = "wc";
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/submit.log", scratch);
	pid_t pid = spawn(argv, log);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bench_fail("plexus storm submit failed (see %s)", log);
}

json_t *sb_view(void)
{
	char path[400], *body = NULL;
	snprintf(path, sizeof(path), "%s/state/wc/nimbus.json", scratch);
	json_t *st = json_load_file(path, 0, NULL);
	const char *http = json_string_value(json_object_get(st, "http"));
	json_t *o = NULL;
	if (http != NULL && stm_http("GET", http, "/storm/state", 3000, &body) == 200)
		o = json_loads(body, 0, NULL);
	free(body);
	json_decref(st);
	return o;
}

void sb_wait_active(int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		json_t *v = sb_view();
		bool active = json_is_true(json_object_get(v, "active"));
		json_decref(v);
		if (active)
			return;
		sb_nap_ms(50);
	}
	bench_fail("the topology did not become active");
}

void sb_totals(json_t *view, const char *component, struct sb_totals *out)
{
	memset(out, 0, sizeof(*out));
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(view, "task_list"), i, t)
	{
		const char *kind = json_string_value(json_object_get(t, "kind"));
		const char *comp = json_string_value(json_object_get(t, "component"));
		if (component != NULL ? (comp == NULL || strcmp(comp, component) != 0)
		                      : (kind == NULL || strcmp(kind, "spout") != 0))
			continue;
		out->emitted += json_integer_value(json_object_get(t, "emitted"));
		out->acked += json_integer_value(json_object_get(t, "acked"));
		out->failed += json_integer_value(json_object_get(t, "failed"));
		out->executed += json_integer_value(json_object_get(t, "executed"));
		size_t k;
		json_t *pair;
		json_array_foreach(json_object_get(t, "complete_hist"), k, pair)
		{
			json_int_t b = json_integer_value(json_array_get(pair, 0));
			if (b >= 0 && b < STM_HIST_BUCKETS)
				out->hist[b] +=
				    (uint64_t)json_integer_value(json_array_get(pair, 1));
		}
	}
}

pid_t sb_worker_pid(json_t *view, int index)
{
	json_t *w = json_array_get(json_object_get(view, "worker_list"), (size_t)index);
	return (pid_t)json_integer_value(json_object_get(w, "pid"));
}

int sb_non_spout_worker(json_t *view)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(view, "task_list"), i, t)
	{
		const char *kind = json_string_value(json_object_get(t, "kind"));
		if (kind != NULL && strcmp(kind, "spout") == 0)
			return 1 - (int)json_integer_value(json_object_get(t, "worker"));
	}
	return 1;
}
