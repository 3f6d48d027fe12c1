/* launcher.h — how an executor's processes are started, signalled and destroyed.
 *
 * The agent sees a "container": the executor process and everything it starts. The
 * launcher sits behind a small ops table so that containment (cgroups, pid namespaces)
 * and recovery after an agent restart can replace the posix launcher without touching
 * the agent. The posix launcher starts the executor as the leader of a new session
 * (setsid), so its process group and session both carry its pid: signalling the group
 * reaches the executor and whatever stayed in its group, and destroy also finds the
 * processes that moved to groups of their own (tasks of the command executor) by their
 * session id, as Mesos's posix launcher kills the whole tree.
 *
 * The child is reaped through actor/reap.h, never by the launcher. */
#ifndef PLEXUS_AGENT_LAUNCHER_H
#define PLEXUS_AGENT_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct agent_container {
	pid_t pid;   /* the executor, leader of its session; 0 when not started */
	bool exited; /* reaped */
	void *state; /* the launcher's own, from launch until cleanup; NULL for posix */
};

struct agent_launch {
	const char *path;      /* program to execute */
	char *const *argv;     /* NULL-terminated; argv[0] included */
	char *const *envp;     /* the complete environment */
	const char *directory; /* working directory; its "stdout" and "stderr" files receive
	                          the container's output (created or appended) */
	/* For containment (agent/containerizer/); a launcher that does not contain ignores
	 * them. Borrowed, like the fields above. */
	void *ctx;                 /* the agent's launcher_ctx */
	const char *container_id;  /* unique per run: the run's uuid */
	const char *framework_id;  /* these three name the container in /monitor/statistics */
	const char *executor_id;
	const char *source;
	double cpus, mem_mb, disk_mb; /* what the executor itself brings (0: nothing) */
};

struct agent_launcher_ops {
	const char *name;
	/* Starts the container. On success c->pid is set and 0 returned; otherwise errno
	 * style code (the exec error of the child included) with err saying why, and no
	 * process is left behind. */
	int (*launch)(const struct agent_launch *l, struct agent_container *c, char *err,
	              size_t errlen);
	/* Sends sig to the container's process group. */
	int (*signal)(const struct agent_container *c, int sig);
	/* SIGKILLs every process of the container (its whole session). Does not reap. */
	void (*destroy)(const struct agent_container *c);
	/* Optional (NULL: nothing to do). The container's resources changed (a task joined
	 * or ended): the sum of the executor's and its live tasks'. */
	int (*update)(const struct agent_container *c, double cpus, double mem_mb,
	              double disk_mb);
	/* Optional. Whether the container reached a limit of its containment (memory,
	 * disk); then reason (a TaskStatus.Reason) and msg say which. */
	bool (*limitation)(const struct agent_container *c, int *reason, char *msg,
	                   size_t msglen);
	/* Optional. Once the executor was reaped: kills what is left of the container and
	 * releases what launch set up (cgroups, c->state). Once per launched container. */
	void (*cleanup)(struct agent_container *c);
};

extern const struct agent_launcher_ops agent_posix_launcher;

#endif
