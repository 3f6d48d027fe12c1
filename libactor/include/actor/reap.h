/* reap.h — watching child processes: learn when one ends and how (libprocess's
 * process::reap).
 *
 * One thread per OS process waits on a pidfd per watched process (poll), collects a
 * child with waitpid and tells the watcher: a future completes, or a callback runs
 * inside the owner actor. No SIGCHLD handler is installed and only watched pids are
 * ever collected, so other children of the process (and other libraries' waitpid
 * calls) are left alone. Where pidfd_open is missing the thread polls its children
 * with WNOHANG every 50 ms; with pidfds it still sweeps once a second, in case an end
 * was signalled before the child could be collected.
 *
 * The thread starts with the first watch and stops in actor_runtime_fini (after every
 * actor has ended): watches still pending then are dropped, their futures fail with
 * ACTOR_ECLOSED and their callbacks do not run. A later watch starts it again. */
#ifndef ACTOR_REAP_H
#define ACTOR_REAP_H

#include <sys/types.h>

#include "actor/actor.h"
#include "actor/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The status reported for a process that is not a child of this process (watched with
 * actor_reap_watch_any): its end was seen, but only its parent learns how it ended. */
#define ACTOR_REAP_UNKNOWN (-1)

/* A future (new reference) that becomes READY with pid's wait status (as waitpid gives
 * it; read it with actor_reap_status) once pid, a child of this process, has ended and
 * been collected. It FAILS with ACTOR_ENOENT when pid is not a child of this process
 * (or was collected by someone else first), with ACTOR_ENOMEM when the watch cannot be
 * made, and with ACTOR_ECLOSED when the runtime stops first. Discarding it does not
 * stop the watch: the child is still collected, so it never lingers as a zombie. */
actor_future *actor_reap(pid_t pid);

/* The wait status held by a READY future of actor_reap (use WIFEXITED and friends). */
int actor_reap_status(const actor_future *f);

/* Runs inside owner with the wait status of pid (or ACTOR_REAP_UNKNOWN, see
 * actor_reap_watch_any) and the watch's arg. It runs only while owner lives: if the
 * owner has ended, the notice is dropped (owners look pids up and ignore unknown ones). */
typedef void (*actor_reap_fn)(actor_t *self, pid_t pid, int status, void *arg);

/* Starts watching pid (a child of this process) for owner; fn runs once it has ended
 * and been collected. A child collected by someone else is reported with status 0.
 * Returns 0, or ACTOR_ENOMEM / ACTOR_EIO (the thread could not start); on error fn
 * never runs. */
int actor_reap_watch(pid_t pid, actor_pid owner, actor_reap_fn fn, void *arg);

/* Starts watching pid, which need not be a child of this process (say, a process that
 * a previous run of this program started, now a child of init or of a subreaper): fn
 * runs with ACTOR_REAP_UNKNOWN once it has ended (its pidfd is readable, or without
 * pidfds the pid is gone). It is never collected. Returns as actor_reap_watch. */
int actor_reap_watch_any(pid_t pid, actor_pid owner, actor_reap_fn fn, void *arg);

/* Stops watching pid: its callback will not run unless pid was already collected (the
 * notice may then still arrive), and a future of actor_reap for it fails with
 * ACTOR_ECANCELED. Returns 1 when pid was still watched (so the caller may collect it itself), 0
 * otherwise. */
int actor_reap_unwatch(pid_t pid);

#ifdef __cplusplus
}
#endif

#endif
