/* reap.c — the child watcher (actor/reap.h).
 *
 * The table of watches lives under one mutex shared with the thread; notices are
 * built under it and handed out after it is released (a promise's continuations or
 * an actor_call never run with the lock held). */
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

#include "actor/reap.h"
#include "core.h"

struct watch {
	pid_t pid;
	int pidfd; /* -1: polled with WNOHANG */
	bool any;  /* not our child: its end is seen, never collected */
	/* Exactly one of these two says whom to tell. */
	actor_promise *promise;
	actor_pid owner;
	actor_reap_fn fn;
	void *arg;
};

/* An ended watch, to tell its watcher once the lock is released. */
struct notice {
	struct notice *next;
	struct watch w;
	int status;
	bool collected; /* false: someone else collected it first */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct watch *watches;
static size_t nwatches, capwatches;
static bool running, stopping;
static pthread_t thread;
static int wakefd = -1;

static void wake(void)
{
	uint64_t one = 1;
	if (wakefd >= 0)
		(void)!write(wakefd, &one, sizeof(one));
}

static void deliver(actor_t *self, void *arg)
{
	struct notice *n = arg;

	if (self != NULL)
		n->w.fn(self, n->w.pid, n->status, n->w.arg);
	free(n);
}

/* Tells the watcher of n and frees n (outside mu). */
static void notify(struct notice *n)
{
	if (n->w.promise != NULL) {
		if (n->collected)
			actor_promise_set(n->w.promise, (void *)(intptr_t)n->status, NULL);
		else
			actor_promise_fail(n->w.promise, ACTOR_ENOENT,
			                   "the process was collected by someone else");
		actor_promise_free(n->w.promise);
		free(n);
		return;
	}
	if (actor_call(n->w.owner, deliver, n) != 0)
		free(n); /* the owner is gone: nobody to tell */
}

/* Removes watches[i] from the table (under mu). */
static struct watch take(size_t i)
{
	struct watch w = watches[i];
	watches[i] = watches[--nwatches];
	if (w.pidfd >= 0)
		close(w.pidfd);
	return w;
}

/* Collects watches[i] if it has ended; then removes it and queues its notice on *out.
 * Under mu. */
static bool try_reap(size_t i, struct notice **out)
{
	int status = 0;
	pid_t r;

	if (watches[i].any) {
		/* Another process's child: its pidfd turns readable when it ends; without
		 * one, the pid stops existing. */
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
		status = ACTOR_REAP_UNKNOWN;
	} else {
		r = waitpid(watches[i].pid, &status, WNOHANG);
	}
	if (r == 0 || (r < 0 && errno == EINTR))
		return false;
	struct notice *n = malloc(sizeof(*n));
	struct watch w = take(i);
	if (n == NULL) {
		actor_error("reap: out of memory; the end of pid %d is lost", (int)w.pid);
		if (w.promise != NULL)
			actor_promise_free(w.promise); /* abandoned: still says it is over */
		return true;
	}
	n->w = w;
	n->collected = r > 0;
	/* Someone else collected it (ECHILD): a callback hears of a clean exit. */
	n->status = r > 0 ? status : 0;
	n->next = *out;
	*out = n;
	return true;
}

static void notify_all(struct notice *n)
{
	while (n != NULL) {
		struct notice *next = n->next;
		notify(n);
		n = next;
	}
}

/* The poll set lives in a global, not on the thread's stack alone: a process that
 * exits while this thread still runs (an executor ending on a signal) must not look,
 * to LeakSanitizer, as if it had leaked it. */
static struct pollfd *fds;

static void *reap_main(void *unused)
{
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
		/* A pidfd can report the end a moment before waitpid may collect the child:
		 * then look again soon. The one-second sweep is a safety net for any edge
		 * missed that way. */
		(void)poll(fds, n, retry ? 5 : polled ? 50 : 1000);
		pthread_mutex_lock(&mu);
		if (fds[0].revents & POLLIN) {
			uint64_t v;
			(void)!read(wakefd, &v, sizeof(v));
		}
		/* The table may have changed while unlocked: check every entry again. */
		struct notice *ended = NULL;
		retry = false;
		for (size_t i = 0; i < nwatches;) {
			if (try_reap(i, &ended))
				continue;
			/* Its pidfd said it ended, but waitpid found nothing to collect yet.
			 * (fds[i + 1] is this entry's only while no entry before it was
			 * collected in this pass; the fd comparison checks that.) */
			if (i + 1 < n && fds[i + 1].fd == watches[i].pidfd &&
			    (fds[i + 1].revents & (POLLIN | POLLHUP)))
				retry = true;
			i++;
		}
		if (ended != NULL) {
			pthread_mutex_unlock(&mu);
			notify_all(ended);
			pthread_mutex_lock(&mu);
		}
	}
	pthread_mutex_unlock(&mu);
	free(fds);
	fds = NULL;
	return NULL;
}

void actor__reap_stop(void)
{
	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = true;
	wake();
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	pthread_mutex_lock(&mu);
	struct watch *left = watches;
	size_t nleft = nwatches;
	watches = NULL;
	nwatches = capwatches = 0;
	close(wakefd);
	wakefd = -1;
	running = stopping = false;
	pthread_mutex_unlock(&mu);
	for (size_t i = 0; i < nleft; i++) {
		if (left[i].pidfd >= 0)
			close(left[i].pidfd);
		if (left[i].promise != NULL) {
			actor_promise_fail(left[i].promise, ACTOR_ECLOSED, "the runtime stopped");
			actor_promise_free(left[i].promise);
		}
	}
	free(left);
}

/* Adds a watch, starting the thread if needed. Under no lock. */
static int watch_add(const struct watch *w)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	if (!running) {
		wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (wakefd < 0) {
			rc = errno == ENOMEM ? ACTOR_ENOMEM : ACTOR_EIO;
			goto out;
		}
		if (pthread_create(&thread, NULL, reap_main, NULL) != 0) {
			close(wakefd);
			wakefd = -1;
			rc = ACTOR_EIO;
			goto out;
		}
		running = true;
	}
	if (nwatches == capwatches) {
		size_t cap = capwatches ? capwatches * 2 : 16;
		struct watch *nw = realloc(watches, cap * sizeof(*nw));
		if (nw == NULL) {
			rc = ACTOR_ENOMEM;
			goto out;
		}
		watches = nw;
		capwatches = cap;
	}
	watches[nwatches] = *w;
	watches[nwatches].pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
	nwatches++;
	wake();
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

int actor_reap_watch(pid_t pid, actor_pid owner, actor_reap_fn fn, void *arg)
{
	if (pid <= 0 || fn == NULL)
		return ACTOR_EINVAL;
	return watch_add(&(struct watch){.pid = pid, .owner = owner, .fn = fn, .arg = arg});
}

int actor_reap_watch_any(pid_t pid, actor_pid owner, actor_reap_fn fn, void *arg)
{
	if (pid <= 0 || fn == NULL)
		return ACTOR_EINVAL;
	return watch_add(
	    &(struct watch){.pid = pid, .any = true, .owner = owner, .fn = fn, .arg = arg});
}

actor_future *actor_reap(pid_t pid)
{
	/* Not our child (or collected already): say so now rather than never. waitid
	 * with WNOWAIT looks without collecting, so the thread still does that. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (pid <= 0)
		return actor_future_failed(ACTOR_EINVAL, "not a process id");
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD)
		return actor_future_failed(ACTOR_ENOENT, "not a child of this process");
	actor_promise *p = actor_promise_alloc();
	if (p == NULL)
		return actor_future_failed(ACTOR_ENOMEM, "out of memory");
	actor_future *f = actor_promise_future(p);
	if (f == NULL) {
		actor_promise_free(p);
		return actor_future_failed(ACTOR_ENOMEM, "out of memory");
	}
	int rc = watch_add(&(struct watch){.pid = pid, .promise = p});
	if (rc != 0) {
		actor_promise_fail(p, rc, "cannot watch the process");
		actor_promise_free(p);
	}
	return f;
}

int actor_reap_status(const actor_future *f)
{
	return (int)(intptr_t)actor_future_value(f);
}

int actor_reap_unwatch(pid_t pid)
{
	struct watch w = {0};
	int found = 0;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nwatches; i++) {
		if (watches[i].pid != pid)
			continue;
		w = take(i);
		found = 1;
		break;
	}
	wake();
	pthread_mutex_unlock(&mu);
	if (w.promise != NULL) {
		actor_promise_fail(w.promise, ACTOR_ECANCELED, "no longer watched");
		actor_promise_free(w.promise);
	}
	return found;
}
