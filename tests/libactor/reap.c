/* The child watcher (actor/reap.h): futures of a child's wait status, callbacks inside
 * an owner actor, processes that are not our children, unwatching, and runtime fini. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* A child that exits with code after reading one byte from fd (or at once if fd < 0). */
static pid_t child_exiting(int code, int fd)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char c;
		if (fd >= 0)
			(void)!read(fd, &c, 1);
		_exit(code);
	}
	return pid;
}

Test(reap, future_gives_the_exit_status)
{
	rt_start(2);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = child_exiting(7, p[0]);
	actor_future *f = actor_reap(pid);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_PENDING, "it has not ended yet");
	(void)!write(p[1], "x", 1);
	cr_assert_eq(actor_future_await(f, 10000), 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY);
	int st = actor_reap_status(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
	actor_future_unref(f);
	/* Collected by the watcher: nothing is left to wait for. */
	cr_assert_eq(waitpid(pid, NULL, WNOHANG), -1);
	close(p[0]);
	close(p[1]);
	actor_runtime_fini();
}

Test(reap, future_of_a_child_that_ended_already_and_one_killed)
{
	rt_start(2);
	pid_t done = child_exiting(0, -1);
	siginfo_t si;
	cr_assert_eq(waitid(P_PID, (id_t)done, &si, WEXITED | WNOWAIT), 0); /* a zombie now */
	pid_t sleeper = fork();
	if (sleeper == 0) {
		pause();
		_exit(0);
	}
	actor_future *f1 = actor_reap(done), *f2 = actor_reap(sleeper);
	kill(sleeper, SIGKILL);
	cr_assert_eq(actor_future_await(f1, 10000), 0);
	cr_assert_eq(actor_future_await(f2, 10000), 0);
	int s1 = actor_reap_status(f1), s2 = actor_reap_status(f2);
	cr_assert(WIFEXITED(s1) && WEXITSTATUS(s1) == 0, "status %#x", s1);
	cr_assert(WIFSIGNALED(s2) && WTERMSIG(s2) == SIGKILL, "status %#x", s2);
	actor_future_unref(f1);
	actor_future_unref(f2);
	actor_runtime_fini();
}

Test(reap, not_a_child_fails_at_once)
{
	rt_start(1);
	actor_future *f = actor_reap(1);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(f), ACTOR_ENOENT);
	cr_assert_str_eq(actor_future_why(f), "not a child of this process");
	actor_future_unref(f);
	f = actor_reap(0);
	cr_assert_eq(actor_future_error(f), ACTOR_EINVAL);
	actor_future_unref(f);
	actor_runtime_fini();
}

/* ---- the callback form, inside an owner actor ---- */

struct owner {
	struct latch done;
	pid_t pid;
	int status;
	void *arg;
	bool inside; /* the callback ran inside the owner */
	actor_pid self;
};

static void owner_reaped(actor_t *self, pid_t pid, int status, void *arg)
{
	struct owner *o = actor_state(self);
	o->inside = actor_pid_equal(actor_self(self), o->self);
	o->pid = pid;
	o->status = status;
	o->arg = arg;
	latch_add(&o->done, 1);
}

static const actor_def owner_def = {.name = "owner"};

Test(reap, callback_runs_inside_the_owner_with_its_arg)
{
	struct owner o = {0};
	static int tag;

	rt_start(2);
	latch_init(&o.done);
	cr_assert_eq(actor_spawn(&owner_def, &o, &o.self), 0);
	pid_t pid = child_exiting(3, -1);
	cr_assert_eq(actor_reap_watch(pid, o.self, owner_reaped, &tag), 0);
	cr_assert(latch_wait(&o.done, 1, 10000), "no notice");
	cr_assert(o.inside);
	cr_assert_eq(o.pid, pid);
	cr_assert_eq(o.arg, &tag);
	cr_assert(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 3);
	cr_assert_eq(actor_reap_watch(0, o.self, owner_reaped, NULL), ACTOR_EINVAL);
	actor_terminate(o.self);
	actor_wait(o.self, -1);
	actor_runtime_fini();
}

Test(reap, watch_any_sees_the_end_of_a_process_that_is_not_our_child)
{
	struct owner o = {0};
	int p[2];

	rt_start(2);
	latch_init(&o.done);
	cr_assert_eq(actor_spawn(&owner_def, &o, &o.self), 0);
	cr_assert_eq(pipe(p), 0);
	/* A grandchild: its parent exits at once, so init (or a subreaper) owns it. */
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			pause();
			_exit(0);
		}
		(void)!write(p[1], &g, sizeof(g));
		_exit(0);
	}
	pid_t grandchild = 0;
	cr_assert_eq(read(p[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
	cr_assert_eq(waitpid(mid, NULL, 0), mid);
	cr_assert_eq(actor_reap_watch_any(grandchild, o.self, owner_reaped, NULL), 0);
	cr_assert_eq(latch_get(&o.done), 0);
	kill(grandchild, SIGKILL);
	cr_assert(latch_wait(&o.done, 1, 10000), "its end was not seen");
	cr_assert_eq(o.pid, grandchild);
	cr_assert_eq(o.status, ACTOR_REAP_UNKNOWN);
	close(p[0]);
	close(p[1]);
	actor_terminate(o.self);
	actor_wait(o.self, -1);
	actor_runtime_fini();
}

Test(reap, unwatch_cancels_and_fini_closes)
{
	rt_start(1);
	pid_t a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	pid_t b = fork();
	if (b == 0) {
		pause();
		_exit(0);
	}
	actor_future *fa = actor_reap(a), *fb = actor_reap(b);
	cr_assert_eq(actor_reap_unwatch(a), 1);
	cr_assert_eq(actor_reap_unwatch(a), 0);
	cr_assert_eq(actor_future_state(fa), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(fa), ACTOR_ECANCELED);
	/* The caller collects what it stopped watching. */
	kill(a, SIGKILL);
	cr_assert_eq(waitpid(a, NULL, 0), a);
	/* The runtime stops while b still runs: its watch ends with it. */
	actor_runtime_fini();
	cr_assert_eq(actor_future_state(fb), ACTOR_FUTURE_FAILED);
	cr_assert_eq(actor_future_error(fb), ACTOR_ECLOSED);
	kill(b, SIGKILL);
	cr_assert_eq(waitpid(b, NULL, 0), b);
	actor_future_unref(fa);
	actor_future_unref(fb);
	/* A later runtime watches again. */
	rt_start(1);
	pid_t c = child_exiting(5, -1);
	actor_future *fc = actor_reap(c);
	cr_assert_eq(actor_future_await(fc, 10000), 0);
	cr_assert_eq(WEXITSTATUS(actor_reap_status(fc)), 5);
	actor_future_unref(fc);
	actor_runtime_fini();
}
