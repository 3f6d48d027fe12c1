/* spk_test.c — see spk_test.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "spk_test.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool spk_wait(int timeout_ms, bool (*pred)(void *arg), void *arg)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		if (pred(arg))
			return true;
		if (now_ms() > deadline)
			return false;
		usleep(10000);
	}
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	cr_assert(s >= 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

int spk_http_get(int port, const char *path, char **body)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (body != NULL)
		*body = NULL;
	if (s < 0)
		return 0;
	struct timeval tv = {3, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(s);
		return 0;
	}
	char req[512];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	if (write(s, req, (size_t)n) != n) {
		close(s);
		return 0;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (ssize_t got; (got = read(s, buf + len, cap - len - 1)) > 0;) {
		len += (size_t)got;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	close(s);
	buf[len] = '\0';
	int status = 0;
	sscanf(buf, "HTTP/1.%*d %d", &status);
	char *start = strstr(buf, "\r\n\r\n");
	if (body != NULL)
		*body = strdup(start ? start + 4 : "");
	free(buf);
	return status;
}

static int agents_up(int port)
{
	char *body = NULL;
	int n = -1;
	if (spk_http_get(port, "/master/state", &body) == 200) {
		json_t *j = json_loads(body, 0, NULL);
		json_t *slaves = j ? json_object_get(j, "slaves") : NULL;
		n = slaves ? (int)json_array_size(slaves) : -1;
		json_decref(j);
	}
	free(body);
	return n;
}

/* Starts plexus local on c->port; false when it exits (its port was taken since
 * free_port looked) or does not come up in time. */
static bool try_start(struct spk_cluster *c, int nagents, const char *resources)
{
	char agents[32], port[32], work[300], res[128], log[300];
	c->port = free_port();
	snprintf(c->master, sizeof(c->master), "127.0.0.1:%d", c->port);
	snprintf(agents, sizeof(agents), "--agents=%d", nagents);
	snprintf(port, sizeof(port), "--port=%d", c->port);
	snprintf(work, sizeof(work), "--work-dir=%s/work", c->dir);
	snprintf(res, sizeof(res), "--resources=%s", resources);
	snprintf(log, sizeof(log), "%s/local.log", c->dir);
	c->local = fork();
	cr_assert(c->local >= 0);
	if (c->local == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("ACTOR_WORKERS", "2", 1);
		execl(PLEXUS_PATH, PLEXUS_PATH, "local", agents, port, work, res,
		      "--allocation-interval=50ms", "--ip=127.0.0.1", (char *)NULL);
		_exit(127);
	}
	int64_t deadline = now_ms() + 15000;
	while (agents_up(c->port) != nagents) {
		if (waitpid(c->local, NULL, WNOHANG) == c->local || now_ms() > deadline) {
			kill(c->local, SIGKILL);
			waitpid(c->local, NULL, 0);
			c->local = 0;
			return false;
		}
		usleep(20000);
	}
	return true;
}

void spk_cluster_start(struct spk_cluster *c, int nagents, const char *resources)
{
	memset(c, 0, sizeof(*c));
	signal(SIGPIPE, SIG_IGN);
	/* Executors of a killed cluster are reparented to us, so we can reap them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(c->dir, sizeof(c->dir), "/tmp/spk-test-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(c->dir));
	for (int attempt = 0; attempt < 3; attempt++)
		if (try_start(c, nagents, resources))
			return;
	cr_assert_fail("plexus local never had %d agents (log %s/local.log)", nagents, c->dir);
}

static pid_t spawn(const char *log, const char *const *args)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("ACTOR_WORKERS", "2", 1);
		execv(PLEXUS_PATH, (char *const *)args);
		_exit(127);
	}
	return pid;
}

void spk_cluster_start_separate(struct spk_cluster *c, int nagents, const char *resources)
{
	memset(c, 0, sizeof(*c));
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(c->dir, sizeof(c->dir), "/tmp/spk-test-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(c->dir));
	c->port = free_port();
	snprintf(c->master, sizeof(c->master), "127.0.0.1:%d", c->port);
	char port[32], log[300], master[96], res[128];
	snprintf(port, sizeof(port), "--port=%d", c->port);
	snprintf(log, sizeof(log), "%s/master.log", c->dir);
	const char *margs[] = {PLEXUS_PATH,
	                       "master",
	                       port,
	                       "--ip=127.0.0.1",
	                       "--allocation-interval=50ms",
	                       "--agent-ping-timeout=500ms",
	                       "--max-agent-ping-timeouts=6",
	                       NULL};
	c->local = spawn(log, margs);
	snprintf(master, sizeof(master), "--master=%s", c->master);
	snprintf(res, sizeof(res), "--resources=%s", resources);
	for (int i = 0; i < nagents; i++) {
		char aport[32], work[300], alog[300], root[64];
		snprintf(aport, sizeof(aport), "--port=%d", free_port());
		snprintf(work, sizeof(work), "--work-dir=%s/agent%d", c->dir, i);
		snprintf(alog, sizeof(alog), "%s/agent%d.log", c->dir, i);
		snprintf(root, sizeof(root), "--cgroups-root=spk-test-%d-%d", (int)getpid(), i);
		const char *aargs[] = {PLEXUS_PATH,
		                       "agent",
		                       master,
		                       aport,
		                       work,
		                       res,
		                       root,
		                       "--ip=127.0.0.1",
		                       "--isolation=posix/cpu,posix/mem",
		                       NULL};
		c->agents[i] = spawn(alog, aargs);
		c->nagents++;
	}
	int64_t deadline = now_ms() + 15000;
	while (agents_up(c->port) != nagents) {
		cr_assert(now_ms() < deadline, "the master never had %d agents (logs in %s)",
		          nagents, c->dir);
		usleep(20000);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Copies sanitizer reports of executors (their sandbox stderr) into this test's
 * output, where ctest's FAIL_REGULAR_EXPRESSION sees them. */
static int scan_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag != FTW_F || strcmp(path + ftw->base, "stderr") != 0)
		return 0;
	FILE *f = fopen(path, "r");
	char line[1024];
	bool reported = false;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (!reported &&
		    (strstr(line, "AddressSanitizer") || strstr(line, "LeakSanitizer") ||
		     strstr(line, "runtime error:"))) {
			fprintf(stderr, "== sanitizer report in %s:\n", path);
			reported = true;
		}
		if (reported)
			fputs(line, stderr);
	}
	if (f != NULL)
		fclose(f);
	return 0;
}

/* Children reparented to this process (executors of the cluster). */
static int kill_orphans(void)
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

void spk_cluster_stop(struct spk_cluster *c)
{
	for (int i = 0; i < c->nagents; i++)
		if (c->agents[i] > 0) {
			kill(c->agents[i], SIGKILL);
			waitpid(c->agents[i], NULL, 0);
			c->agents[i] = 0;
		}
	if (c->local > 0) {
		/* A clean stop first: the agents end their executors. */
		kill(c->local, SIGTERM);
		int64_t deadline = now_ms() + 5000;
		while (waitpid(c->local, NULL, WNOHANG) == 0 && now_ms() < deadline)
			usleep(10000);
		kill(c->local, SIGKILL);
		waitpid(c->local, NULL, WNOHANG);
		c->local = 0;
	}
	int64_t deadline = now_ms() + 5000;
	for (;;) {
		int n = kill_orphans();
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == 0 || now_ms() > deadline)
			break;
		usleep(10000);
	}
	if (c->dir[0] != '\0') {
		nftw(c->dir, scan_entry, 16, FTW_PHYS);
		if (getenv("SPK_TEST_KEEP") == NULL)
			nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	c->dir[0] = '\0';
}

spk_context *spk_test_context(struct spk_cluster *c, int64_t idle_ms)
{
	spk_conf conf;
	spk_conf_default(&conf);
	conf.master = c->master;
	conf.app_name = "spark-test";
	conf.executor_cores = 2;
	conf.executor_mem_mb = 256;
	conf.http_port = 0;
	if (idle_ms > 0)
		conf.idle_timeout_ms = idle_ms;
	char err[256] = "";
	spk_context *sc = spk_context_start(&conf, err, sizeof(err));
	cr_assert_not_null(sc, "context: %s", err);
	return sc;
}

/* An executor's argv (NUL-separated) names its driver: --driver=<pid of context>. */
static bool is_executor_of(const char *pid, const char *needle)
{
	char path[300], cmd[4096];
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	bool executor = false, ours = false;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1) {
		cmd[n] = '\0';
		if (strcmp(cmd + i, "--spk-executor") == 0)
			executor = true;
		if (needle != NULL && strstr(cmd + i, needle) != NULL)
			ours = true;
	}
	return executor && (needle == NULL || ours);
}

pid_t spk_executor_pid_of(const char *exec_id)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;
	char want[300];
	snprintf(want, sizeof(want), "PLEXUS_EXECUTOR_ID=%s", exec_id);
	while (d != NULL && (e = readdir(d)) != NULL && found < 0) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || !is_executor_of(e->d_name, NULL))
			continue;
		char path[300], env[65536];
		snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, env, sizeof(env) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
			env[n] = '\0';
			if (strcmp(env + i, want) == 0)
				found = (pid_t)atoi(e->d_name);
		}
	}
	if (d != NULL)
		closedir(d);
	return found;
}
