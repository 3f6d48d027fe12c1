/* cas_harness.c — see cas_harness.h. */
#include "cas_harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <actor/runtime.h>

#include "cas_session.h"

#define MAX_PROCS 64

static char scratch[256];
static pid_t procs[MAX_PROCS];
static int nprocs;
static bool runtime_up;

void ch_init(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/cas-test-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(scratch));
	nprocs = 0;
	/* Executors of a killed `plexus local` are reparented here and reaped at the end. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void rm_rf(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

/* Kills every process whose parent is this one (orphans reparented to us) and its
 * process group; returns how many it found. */
static int kill_orphans_once(void)
{
	int found = 0;
	DIR *d = opendir("/proc");
	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char path[300], buf[512];
		int pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		const char *close_paren = strrchr(buf, ')');
		int ppid = 0;
		if (close_paren && sscanf(close_paren + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
			kill(-pid, SIGKILL); /* an executor leads its group: its children go too */
			kill(pid, SIGKILL);
			found++;
		}
	}
	closedir(d);
	return found;
}

/* Orphans keep arriving while their parents die: repeat until none is left. */
static void kill_orphans(void)
{
	for (int round = 0; round < 50; round++) {
		int found = kill_orphans_once();
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (found == 0 && waitpid(-1, NULL, WNOHANG) < 0)
			return;
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
}

void ch_fini(void)
{
	for (int i = 0; i < nprocs; i++) {
		if (procs[i] > 0) {
			kill(procs[i], SIGKILL);
			waitpid(procs[i], NULL, 0);
		}
	}
	nprocs = 0;
	/* Orphans (executors of a killed agent) came to us, the subreaper: end them too. */
	kill_orphans();
	for (int k = 0; k < 100; k++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p <= 0) {
			if (p < 0 && errno == ECHILD)
				break;
			struct timespec ts = {0, 20 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	if (runtime_up) {
		actor_runtime_fini();
		runtime_up = false;
	}
	/* CAS_KEEP=1 keeps the scratch directory (node logs, data) for a post-mortem. */
	if (scratch[0] && getenv("CAS_KEEP") == NULL)
		rm_rf(scratch);
	scratch[0] = '\0';
}

const char *ch_dir(void)
{
	return scratch;
}

static bool port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

int ch_free_port(int span)
{
	static unsigned seed;
	if (seed == 0)
		seed = (unsigned)getpid() * 2654435761u;
	for (int tries = 0; tries < 1000; tries++) {
		seed = seed * 1103515245u + 12345u;
		int base = 20000 + (int)(seed % 12000); /* below the ephemeral range */
		bool ok = true;
		for (int i = 0; i < (span > 0 ? span : 1) && ok; i++)
			ok = port_free(base + i);
		if (ok)
			return base;
	}
	cr_assert_fail("no free port");
	return 0;
}

pid_t ch_spawn(const char *name, const char *const *argv)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/%s.log", scratch, name);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		setpgid(0, 0);
		/* Should the test process die without its teardown, its children die too. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_lt(nprocs, MAX_PROCS);
	procs[nprocs++] = pid;
	return pid;
}

static void forget(pid_t pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i] == pid)
			procs[i] = 0;
}

void ch_kill(pid_t pid, int sig)
{
	if (pid <= 0)
		return;
	kill(pid, sig);
	if (sig == SIGKILL) {
		waitpid(pid, NULL, 0);
		forget(pid);
	}
}

bool ch_wait_exit(pid_t pid, int ms, int *status)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			forget(pid);
			if (status)
				*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return true;
		}
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	return false;
}

int ch_run(const char *const *argv, const char *input, char **out, int ms)
{
	int in[2], outp[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(outp), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[1]);
		close(outp[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	if (input && write(in[1], input, strlen(input)) < 0)
		cr_log_warn("cannot write the input");
	close(in[1]);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int waited = 0;
	for (;;) {
		struct pollfd p = {.fd = outp[0], .events = POLLIN};
		int r = poll(&p, 1, 100);
		if (r > 0) {
			if (n + 1024 > cap)
				buf = realloc(buf, cap *= 2);
			ssize_t k = read(outp[0], buf + n, cap - n - 1);
			if (k <= 0)
				break;
			n += (size_t)k;
		} else if ((waited += 100) > ms) {
			kill(pid, SIGKILL);
			break;
		}
	}
	close(outp[0]);
	buf[n] = '\0';
	int st = 0;
	waitpid(pid, &st, 0);
	if (out)
		*out = buf;
	else
		free(buf);
	if (waited > ms)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void ch_runtime_start(void)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = -1;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	runtime_up = true;
}

pid_t ch_node_start(int i, int port, const char *seeds)
{
	char name[32], portf[32], data[512], seedf[1024];
	snprintf(name, sizeof(name), "node%d", i);
	snprintf(portf, sizeof(portf), "--port=%d", port);
	snprintf(data, sizeof(data), "--data=%s/node%d", scratch, i);
	snprintf(seedf, sizeof(seedf), "--seeds=%s", seeds ? seeds : "");
	const char *argv[] = {CAS_PATH, "node", portf, data, seedf, "--gossip-ms=100", "--phi=8",
	                      "--timeout-ms=4000", "--tokens=16", NULL};
	return ch_spawn(name, argv);
}

bool ch_wait(int ms, bool (*pred)(void *arg), void *arg)
{
	for (int waited = 0;; waited += 50) {
		if (pred(arg))
			return true;
		if (waited >= ms)
			return false;
		struct timespec ts = {0, 50 * 1000000};
		nanosleep(&ts, NULL);
	}
}

struct ring_wait {
	cas_client *c;
	const char *node, *addr;
	size_t n;
	bool up;
};

static bool ring_has(void *arg)
{
	struct ring_wait *w = arg;
	cas_ring_info info;
	char err[256];
	if (cas_client_ring(w->c, w->node, &info, err, sizeof(err)) != CAS_OK)
		return false;
	size_t up = 0;
	bool match = false;
	for (size_t i = 0; i < info.n; i++) {
		up += info.v[i].up;
		if (w->addr && strcmp(info.v[i].addr, w->addr) == 0)
			match = info.v[i].up == w->up;
	}
	cas_ring_info_fini(&info);
	return w->addr ? match : up >= w->n;
}

bool ch_wait_ring(cas_client *c, const char *node, size_t n, int ms)
{
	struct ring_wait w = {c, node, NULL, n, true};
	return ch_wait(ms, ring_has, &w);
}

bool ch_wait_node_state(cas_client *c, const char *node, const char *addr, bool up, int ms)
{
	struct ring_wait w = {c, node, addr, 0, up};
	return ch_wait(ms, ring_has, &w);
}

void ch_cql(cas_client *c, const char *cql)
{
	cas_session *s = cas_session_alloc(c);
	cas_result r;
	char err[1024];
	cas_session_set_consistency(s, CAS_QUORUM);
	int rc = cas_session_execute(s, cql, &r, err, sizeof(err));
	cas_session_free(s);
	cr_assert_eq(rc, 0, "%s: %s", cql, err);
	cas_result_fini(&r);
}
