/* reaper.c — see reaper.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actor/log.h"
#include "agent/reaper.h"

struct watch {
	pid_t pid;
	int pidfd; /* -1: polled with WNOHANG */
	actor_pid owner;
	agent_reaper_fn fn;
	bool any; /* not our child: its end is seen, never collected */
};

struct notice {
	agent_reaper_fn fn;
	pid_t pid;
	int status;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct watch *watches;
static size_t nwatches, capwatches;
static int refs;
static bool running, stopping;
static pthread_t thread;
static int wakefd = -1;

static void deliver(actor_t *self, void *arg)
{
	struct notice *n = arg;

	if (self != NULL)
		n->fn(self, n->pid, n->status);
	free(n);
}

static void wake(void)
{
	uint64_t one = 1;
	if (wakefd >= 0)
		(void)!write(wakefd, &one, sizeof(one));
}

/* Reaps watches[i] if it has exited; removes it and tells its owner. Under mu. */
static bool try_reap(size_t i)
{
	int status = 0;
	pid_t r;

	if (watches[i].any) {
		/* Another process's child (an executor of a previous agent): its pidfd turns
		 * readable when it ends; without one, the pid stops existing. */
		bool gone;
		if (watches[i].pidfd >= 0) {
			struct pollfd p = {.fd = watches[i].pidfd, .events = POLLIN};
			gone = poll(&p, 1, 0) > 0;
		} else {
			gone = kill(watches[i].pid, 0) != 0 && errno == ESRCH;
		}
		if (!gone)
			return false;
		r = watches[i].pid;
		status = AGENT_REAPER_UNKNOWN;
	} else {
		r = waitpid(watches[i].pid, &status, WNOHANG);
	}
	if (r == 0 || (r < 0 && errno == EINTR))
		return false;
	if (r < 0)
		status = 0; /* someone else reaped it (ECHILD): report a clean exit */
	struct watch w = watches[i];
	watches[i] = watches[--nwatches];
	if (w.pidfd >= 0)
		close(w.pidfd);
	struct notice *n = malloc(sizeof(*n));
	if (n == NULL) {
		actor_error("reaper: out of memory; the end of pid %d is lost", (int)w.pid);
		return true;
	}
	n->fn = w.fn;
	n->pid = w.pid;
	n->status = status;
	actor_call(w.owner, deliver, n);
	return true;
}

static void *reaper_main(void *unused)
{
	struct pollfd *fds = NULL;
	size_t cap = 0;
	bool retry = false;

	(void)unused;
	pthread_mutex_lock(&mu);
	while (!stopping) {
		size_t n = nwatches + 1;
		bool polled = false;
		if (n > cap) {
			struct pollfd *f = realloc(fds, n * sizeof(*f));
			if (f == NULL) {
				pthread_mutex_unlock(&mu);
				usleep(10000);
				pthread_mutex_lock(&mu);
				continue;
			}
			fds = f;
			cap = n;
		}
		fds[0] = (struct pollfd){.fd = wakefd, .events = POLLIN};
		for (size_t i = 0; i < nwatches; i++) {
			fds[i + 1] = (struct pollfd){.fd = watches[i].pidfd, .events = POLLIN};
			polled |= watches[i].pidfd < 0;
		}
		pthread_mutex_unlock(&mu);
		/* A pidfd can report the exit a moment before waitpid may collect the child:
		 * then look again soon. The one-second sweep is a safety net for any edge
		 * missed that way. */
		(void)poll(fds, n, retry ? 5 : polled ? 50 : 1000);
		pthread_mutex_lock(&mu);
		if (fds[0].revents & POLLIN) {
			uint64_t v;
			(void)!read(wakefd, &v, sizeof(v));
		}
		/* The table may have changed while unlocked: check every entry again. */
		retry = false;
		for (size_t i = 0; i < nwatches;) {
			if (try_reap(i))
				continue;
			/* Its pidfd said it ended, but waitpid found nothing to collect yet.
			 * (fds[i + 1] is this entry's only while no entry before it was
			 * reaped in this pass; the fd comparison checks that.) */
			if (i + 1 < n && fds[i + 1].fd == watches[i].pidfd &&
			    (fds[i + 1].revents & (POLLIN | POLLHUP)))
				retry = true;
			i++;
		}
	}
	pthread_mutex_unlock(&mu);
	free(fds);
	return NULL;
}

void agent_reaper_ref(void)
{
	pthread_mutex_lock(&mu);
	refs++;
	pthread_mutex_unlock(&mu);
}

void agent_reaper_unref(void)
{
	bool join = false;

	pthread_mutex_lock(&mu);
	if (--refs == 0 && running) {
		stopping = true;
		join = true;
		wake();
	}
	pthread_mutex_unlock(&mu);
	if (!join)
		return;
	pthread_join(thread, NULL);
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nwatches; i++)
		if (watches[i].pidfd >= 0)
			close(watches[i].pidfd);
	free(watches);
	watches = NULL;
	nwatches = capwatches = 0;
	close(wakefd);
	wakefd = -1;
	running = stopping = false;
	pthread_mutex_unlock(&mu);
}

static int watch(pid_t pid, actor_pid owner, agent_reaper_fn fn, bool any);

int agent_reaper_watch(pid_t pid, actor_pid owner, agent_reaper_fn fn)
{
	return watch(pid, owner, fn, false);
}

int agent_reaper_watch_any(pid_t pid, actor_pid owner, agent_reaper_fn fn)
{
	return watch(pid, owner, fn, true);
}

static int watch(pid_t pid, actor_pid owner, agent_reaper_fn fn, bool any)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	if (!running) {
		wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (wakefd < 0) {
			rc = errno;
			goto out;
		}
		if ((rc = pthread_create(&thread, NULL, reaper_main, NULL)) != 0) {
			close(wakefd);
			wakefd = -1;
			goto out;
		}
		running = true;
	}
	if (nwatches == capwatches) {
		size_t cap = capwatches ? capwatches * 2 : 16;
		struct watch *w = realloc(watches, cap * sizeof(*w));
		if (w == NULL) {
			rc = ENOMEM;
			goto out;
		}
		watches = w;
		capwatches = cap;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	watches[nwatches++] =
	    (struct watch){.pid = pid, .pidfd = pidfd, .owner = owner, .fn = fn, .any = any};
	wake();
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

int agent_reaper_unwatch(pid_t pid)
{
	int found = 0;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nwatches; i++) {
		if (watches[i].pid != pid)
			continue;
		if (watches[i].pidfd >= 0)
			close(watches[i].pidfd);
		watches[i] = watches[--nwatches];
		found = 1;
		break;
	}
	wake();
	pthread_mutex_unlock(&mu);
	return found;
}
