/* reaper.h — collects the exit status of child processes and tells their owner.
 *
 * One thread per OS process waits on a pidfd per watched child (poll), reaps it with
 * waitpid and runs the owner's callback inside the owner actor (actor_call), so the
 * agent learns of an executor's end as a message, without SIGCHLD handlers and without
 * touching other children of the process. Only watched pids are ever reaped. Where
 * pidfd_open is missing the thread polls its children with WNOHANG every 50 ms; with
 * pidfds it still sweeps once a second, in case an exit was signalled before the
 * child could be collected. */
#ifndef PLEXUS_AGENT_REAPER_H
#define PLEXUS_AGENT_REAPER_H

#include <sys/types.h>

#include "actor/actor.h"

/* Runs inside owner with the wait status of pid (as waitpid gives it). Runs only while
 * the owner lives; if it has ended the notice is dropped. */
typedef void (*agent_reaper_fn)(actor_t *self, pid_t pid, int status);

/* Starts watching pid (a child of this process) for owner. Starts the thread on first
 * use. Returns 0, or an errno-style code. */
int agent_reaper_watch(pid_t pid, actor_pid owner, agent_reaper_fn fn);

/* The status reported for a process watched with agent_reaper_watch_any: its end was
 * seen, but only its parent could collect how it ended. */
#define AGENT_REAPER_UNKNOWN (-1)

/* Starts watching pid, which need not be a child of this process (an executor started
 * by a previous run of the agent, now a child of init or of a subreaper): fn runs with
 * AGENT_REAPER_UNKNOWN once it has ended (its pidfd is readable, or without pidfds the
 * pid is gone). It is never waited for. Returns 0 or an errno-style code. */
int agent_reaper_watch_any(pid_t pid, actor_pid owner, agent_reaper_fn fn);

/* Stops watching pid: its callback will not run for it unless it was already reaped
 * (then the notice may still arrive; owners look pids up and ignore unknown ones).
 * Returns 1 when pid was still watched (so the caller may reap it), 0 otherwise. */
int agent_reaper_unwatch(pid_t pid);

/* Each user holds a reference; the thread stops (and frees everything) when the last
 * one is released. */
void agent_reaper_ref(void);
void agent_reaper_unref(void);

#endif
