/* lam_proc.c — see lam_proc.h. */
#include "lam_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t lam_spawn(const char *log, char *const argv[])
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0) {
		dup2(out, 1);
		dup2(out, 2);
	}
	execv(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_ms(pid_t pid, int ms, int *status)
{
	int64_t until = mono_ms() + ms;
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return 0;
		if (mono_ms() >= until)
			return -1;
		struct timespec ts = {.tv_nsec = 20 * 1000000};
		nanosleep(&ts, NULL);
	}
}

int lam_run(const char *log, char *const argv[], int timeout_ms)
{
	pid_t pid = lam_spawn(log, argv);
	int status = 0;
	if (pid < 0)
		return -1;
	if (wait_ms(pid, timeout_ms, &status) != 0) {
		lam_stop(pid, 1000);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool lam_alive(pid_t pid)
{
	int status;
	if (pid <= 0)
		return false;
	pid_t r = waitpid(pid, &status, WNOHANG);
	return r == 0;
}

void lam_stop(pid_t pid, int grace_ms)
{
	int status;
	if (!lam_alive(pid))
		return;
	kill(pid, SIGTERM);
	if (wait_ms(pid, grace_ms, &status) != 0) {
		kill(pid, SIGKILL);
		wait_ms(pid, 5000, &status);
	}
}

const char *lam_self_dir(void)
{
	static char dir[PATH_MAX];
	if (dir[0] == '\0') {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (n <= 0) {
			strcpy(dir, ".");
			return dir;
		}
		dir[n] = '\0';
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
	}
	return dir;
}

int lam_kill_under(const char *dir)
{
	char real[PATH_MAX];
	if (realpath(dir, real) == NULL)
		return 0;
	size_t n = strlen(real);
	DIR *d = opendir("/proc");
	struct dirent *e;
	int killed = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 1 || pid == getpid())
			continue;
		char link[64], cwd[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/%ld/cwd", pid);
		ssize_t len = readlink(link, cwd, sizeof(cwd) - 1);
		if (len <= 0)
			continue;
		cwd[len] = '\0';
		if (strncmp(cwd, real, n) == 0 && (cwd[n] == '/' || cwd[n] == '\0') &&
		    kill((pid_t)pid, SIGKILL) == 0)
			killed++;
	}
	if (d != NULL)
		closedir(d);
	return killed;
}
