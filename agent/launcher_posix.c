/* launcher_posix.c — the posix launcher: fork/exec into a new session. See launcher.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/launcher.h"

static int open_output(const char *dir, const char *name)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int posix_launch(const struct agent_launch *l, struct agent_container *c, char *err,
                        size_t errlen)
{
	int out = -1, errfd = -1, pipefd[2] = {-1, -1}, rc = 0;

	/* Everything that can fail or allocate happens before fork: the child of a
	 * multi-threaded process may only make async-signal-safe calls. */
	out = open_output(l->directory, "stdout");
	errfd = out < 0 ? -1 : open_output(l->directory, "stderr");
	if (out < 0 || errfd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open the sandbox's stdout/stderr in '%s': %s",
		         l->directory, strerror(rc));
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		rc = errno;
		snprintf(err, errlen, "pipe: %s", strerror(rc));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rc = errno;
		snprintf(err, errlen, "fork: %s", strerror(rc));
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		int e;

		/* First into its own session, so that destroy can always find it. */
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* exec resets caught signals, but ignored ones would stay ignored in every
		 * task: a host program that ignores SIGPIPE must not pass that on. */
		signal(SIGPIPE, SIG_DFL);
		if (dup2(out, STDOUT_FILENO) < 0 || dup2(errfd, STDERR_FILENO) < 0)
			goto fail;
		e = open("/dev/null", O_RDONLY);
		if (e >= 0 && e != STDIN_FILENO) {
			dup2(e, STDIN_FILENO);
			close(e);
		}
		if (chdir(l->directory) != 0)
			goto fail;
		/* Whatever the agent holds open (sockets, files) must not leak into the
		 * executor: mark every other descriptor close-on-exec. */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execve(l->path, l->argv, l->envp);
	fail:
		e = errno;
		(void)!write(pipefd[1], &e, sizeof(e));
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	int child_errno = 0;
	ssize_t n;
	do
		n = read(pipefd[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		/* exec failed and the child is exiting: collect it here, so that a failed
		 * launch leaves nothing behind. */
		rc = child_errno ? child_errno : EIO;
		snprintf(err, errlen, "cannot execute '%s': %s", l->path, strerror(rc));
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	c->pid = pid;
	c->exited = false;
out:
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return rc;
}

static int posix_signal(const struct agent_container *c, int sig)
{
	if (c->pid <= 0)
		return ESRCH;
	return kill(-c->pid, sig) == 0 ? 0 : errno;
}

/* The session id of a process from /proc/<pid>/stat (field 6), or -1. */
static pid_t session_of(const char *pid_text)
{
	char path[64], buf[512];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid_text);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: skip to its last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	int ppid, pgrp, sid;
	char state;
	if (sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4)
		return -1;
	return (pid_t)sid;
}

static void posix_destroy(const struct agent_container *c)
{
	if (c->pid <= 0)
		return;
	kill(-c->pid, SIGKILL);
	if (!c->exited)
		kill(c->pid, SIGKILL); /* even if it never got to its own session */
	/* Processes that left the executor's group still carry its session id. Two passes
	 * catch children forked while the first pass ran. */
	for (int pass = 0; pass < 2; pass++) {
		DIR *d = opendir("/proc");
		if (d == NULL)
			return;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			if (session_of(e->d_name) == c->pid)
				kill((pid_t)atoi(e->d_name), SIGKILL);
		}
		closedir(d);
	}
}

const struct agent_launcher_ops agent_posix_launcher = {
    .name = "posix",
    .launch = posix_launch,
    .signal = posix_signal,
    .destroy = posix_destroy,
};
