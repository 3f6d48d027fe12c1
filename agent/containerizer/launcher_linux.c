/* launcher_linux.c — see launcher_linux.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/containerizer/launcher_linux.h"

static int open_output(const char *dir, const char *name)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* ---- the namespace's init ---------------------------------------------------------
 * pid 1 of a pid namespace ignores every signal it has no handler for, even SIGKILL sent
 * from inside, and inherits every orphan of the namespace. So the executor does not run
 * as pid 1: a small init (this code, in the cloned child; async-signal-safe calls only)
 * forks it, hands the signals the agent sends on to it, reaps orphans, and exits with
 * the executor's status (128 + signal when a signal ended it: pid 1 cannot die of one
 * of its own). Its exit takes every process left in the namespace down. */

static volatile pid_t init_executor;

static void init_forward(int sig)
{
	if (init_executor > 0)
		kill(init_executor, sig);
}

/* Returns only in the forked executor. */
static void run_init(int go, int status, int outfd, int errfd)
{
	static const int forwarded[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
	                                SIGUSR1, SIGUSR2, SIGCONT, SIGWINCH};
	pid_t ex = fork();
	if (ex == 0)
		return;
	if (ex < 0) {
		int e = errno;
		(void)!write(status, &e, sizeof(e));
		_exit(127);
	}
	init_executor = ex;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = init_forward;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	/* The agent learns of an exec failure from the executor alone. */
	close(go);
	close(status);
	close(outfd);
	close(errfd);
	for (;;) {
		int st;
		pid_t r = waitpid(-1, &st, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			_exit(127);
		if (r == ex)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int ctr_launch(const struct agent_launch *l, bool pid_namespace, ctr_isolate_fn isolate, void *arg,
               pid_t *out, char *err, size_t errlen)
{
	int outfd = -1, errfd = -1, go[2] = {-1, -1}, status[2] = {-1, -1}, rc = 0;
	pid_t pid = -1;

	/* Everything that can fail or allocate happens before the clone: the child of a
	 * multi-threaded process may only make async-signal-safe calls. */
	outfd = open_output(l->directory, "stdout");
	errfd = outfd < 0 ? -1 : open_output(l->directory, "stderr");
	if (outfd < 0 || errfd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open the sandbox's stdout/stderr in '%s': %s",
		         l->directory, strerror(rc));
		goto out;
	}
	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) {
		rc = errno;
		snprintf(err, errlen, "pipe: %s", strerror(rc));
		goto out;
	}
	/* A raw clone without a new stack behaves as fork (copy-on-write), with the
	 * namespace flag fork cannot pass. */
	pid =
	    (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | (pid_namespace ? CLONE_NEWPID : 0)),
	                   NULL, NULL, NULL, NULL);
	if (pid < 0) {
		rc = errno;
		snprintf(err, errlen, "clone%s: %s", pid_namespace ? " (CLONE_NEWPID)" : "",
		         strerror(rc));
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		char byte;
		int e;
		ssize_t n;

		close(go[1]);
		close(status[0]);
		/* Wait until the agent has isolated us; EOF means it gave up. */
		do
			n = read(go[0], &byte, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127);
		setsid();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (pid_namespace)
			run_init(go[0], status[1], outfd, errfd); /* returns in the executor */
		if (dup2(outfd, STDOUT_FILENO) < 0 || dup2(errfd, STDERR_FILENO) < 0)
			goto fail;
		e = open("/dev/null", O_RDONLY);
		if (e >= 0 && e != STDIN_FILENO) {
			dup2(e, STDIN_FILENO);
			close(e);
		}
		if (chdir(l->directory) != 0)
			goto fail;
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execve(l->path, l->argv, l->envp);
	fail:
		e = errno;
		(void)!write(status[1], &e, sizeof(e));
		_exit(127);
	}
	close(go[0]);
	go[0] = -1;
	close(status[1]);
	status[1] = -1;
	if (isolate != NULL && (rc = isolate(arg, pid, err, errlen)) != 0) {
		kill(pid, SIGKILL);
		reap(pid);
		goto out;
	}
	char byte = 1;
	if (write(go[1], &byte, 1) != 1) {
		rc = errno ? errno : EIO;
		snprintf(err, errlen, "cannot release the child: %s", strerror(rc));
		kill(pid, SIGKILL);
		reap(pid);
		goto out;
	}
	int child_errno = 0;
	ssize_t n;
	do
		n = read(status[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		rc = child_errno ? child_errno : EIO;
		snprintf(err, errlen, "cannot execute '%s': %s", l->path, strerror(rc));
		reap(pid);
		goto out;
	}
	*out = pid;
out:
	if (outfd >= 0)
		close(outfd);
	if (errfd >= 0)
		close(errfd);
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (status[i] >= 0)
			close(status[i]);
	}
	return rc;
}
