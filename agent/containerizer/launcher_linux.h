/* launcher_linux.h — starts a container's executor: like the posix launcher (its own
 * session, output to the sandbox, a clean signal state), but the child waits before
 * exec until the isolators have put it into its cgroups, so that nothing it forks
 * escapes them, and optionally in a new pid namespace (CLONE_NEWPID) whose pid 1 is a
 * small init that runs the executor, forwards signals to it and exits with its status:
 * then the kernel kills every process left in the namespace, a double-forked daemon
 * included. The pid returned is the init's (it carries the executor's exit status,
 * 128 + N for a signal N). */
#ifndef PLEXUS_AGENT_CONTAINERIZER_LAUNCHER_LINUX_H
#define PLEXUS_AGENT_CONTAINERIZER_LAUNCHER_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/launcher.h"

/* Runs in the agent with the child's pid (as the agent sees it) while the child waits;
 * non-zero fails the launch (err says why). */
typedef int (*ctr_isolate_fn)(void *arg, pid_t pid, char *err, size_t errlen);

/* Starts l's program. On success *out is the child and 0 is returned; otherwise an
 * errno code with err saying why, and no process is left behind (the child is killed
 * and reaped). */
int ctr_launch(const struct agent_launch *l, bool pid_namespace, ctr_isolate_fn isolate, void *arg,
               pid_t *out, char *err, size_t errlen);

#endif
