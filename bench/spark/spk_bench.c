/* spk_bench.c — see spk_bench.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spk_bench.h"

static pid_t local_pid;
static char dir[128];
static char master[64];

static void cleanup(void)
{
	if (local_pid > 0) {
		kill(local_pid, SIGTERM);
		for (int i = 0; i < 200 && waitpid(local_pid, NULL, WNOHANG) != local_pid; i++)
			usleep(50000);
		kill(local_pid, SIGKILL);
		waitpid(local_pid, NULL, WNOHANG);
		local_pid = 0;
	}
	if (dir[0] != '\0') {
		char cmd[192];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			bench_log("could not remove %s", dir);
		dir[0] = '\0';
	}
}

const char *spk_bench_dir(void)
{
	return dir;
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

/* How many agents /master/state lists (a count of their "hostname" keys), -1 if down. */
static int agents_up(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	const char req[] = "GET /master/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	if (write(s, req, sizeof(req) - 1) < 0) {
		close(s);
		return -1;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	for (ssize_t n; len < cap - 1 && (n = read(s, buf + len, cap - 1 - len)) > 0;)
		len += (size_t)n;
	close(s);
	buf[len] = '\0';
	const char *slaves = strstr(buf, "\"slaves\"");
	int count = slaves ? 0 : -1;
	for (const char *p = slaves; p != NULL && (p = strstr(p, "\"hostname\"")) != NULL; p++)
		count++;
	free(buf);
	return count;
}

spk_context *spk_bench_start(int agents, int agent_cpus, int executor_cores)
{
	char bin[PATH_MAX];
	const char *env = getenv("PLEXUS_BIN");
	if (env != NULL) {
		snprintf(bin, sizeof(bin), "%s", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);
		if (n <= 0)
			bench_fail("readlink /proc/self/exe");
		bin[n] = '\0';
		for (int up = 0; up < 3; up++) { /* .../bench/spark/<name> -> ... */
			char *slash = strrchr(bin, '/');
			if (slash != NULL)
				*slash = '\0';
		}
		strncat(bin, "/cli/plexus", sizeof(bin) - strlen(bin) - 1);
	}
	if (access(bin, X_OK) != 0)
		bench_fail("no plexus binary at %s (set PLEXUS_BIN)", bin);
	snprintf(dir, sizeof(dir), "/tmp/spk-bench-%d", (int)getpid());
	mkdir(dir, 0755);
	atexit(cleanup);
	int port = free_port();
	snprintf(master, sizeof(master), "127.0.0.1:%d", port);
	char a_agents[32], a_port[32], a_dir[200], a_res[96];
	snprintf(a_agents, sizeof(a_agents), "--agents=%d", agents);
	snprintf(a_port, sizeof(a_port), "--port=%d", port);
	snprintf(a_dir, sizeof(a_dir), "--work-dir=%s/work", dir);
	snprintf(a_res, sizeof(a_res), "--resources=cpus:%d;mem:8192;disk:20480", agent_cpus);
	local_pid = fork();
	if (local_pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (local_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		char log[200];
		snprintf(log, sizeof(log), "%s/local.log", dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "local", a_agents, a_port, a_dir, a_res,
		      "--allocation-interval=50ms", "--ip=127.0.0.1", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; agents_up(port) != agents; i++) {
		if (i > 400)
			bench_fail("plexus local never had %d agents", agents);
		usleep(25000);
	}
	spk_conf conf;
	spk_conf_default(&conf);
	conf.master = master;
	conf.app_name = "spark-bench";
	conf.executor_cores = executor_cores;
	conf.executor_mem_mb = 3072;
	conf.http_port = -1;
	char err[256];
	spk_context *sc = spk_context_start(&conf, err, sizeof(err));
	if (sc == NULL)
		bench_fail("context: %s", err);
	return sc;
}

void spk_bench_stop(spk_context *sc)
{
	spk_context_stop(sc);
	cleanup();
}
