/* master.h — the Plexus master: frameworks, agents, offers, tasks, as Apache Mesos's
 * master does it. The master is one actor with the id "master"; its HTTP endpoints
 * live under /master/ on the runtime's HTTP server.
 *
 * Two ways to run it: master_main() is the `plexus master` command (it starts its own
 * runtime), and master_start() spawns the actor inside a runtime that is already
 * running (what `plexus local` and the tests do). */
#ifndef PLEXUS_MASTER_H
#define PLEXUS_MASTER_H

#include <stdint.h>
#include <stdio.h>

#include "actor/actor.h"

typedef struct master_flags {
	char *ip;                              /* address PIDs carry; NULL: the runtime's default */
	int port;                              /* HTTP port (5050) */
	int actor_port;                        /* libactor transport port (0: ephemeral) */
	char *hostname;                        /* advertised hostname; NULL: the machine's */
	char *work_dir;                        /* registry lives here; NULL: in memory only */
	int64_t offer_timeout_ms;              /* 0: offers never time out (Mesos's default) */
	int64_t agent_ping_timeout_ms;         /* 15 s */
	int max_agent_ping_timeouts;           /* 5 */
	int64_t allocation_interval_ms;        /* 1 s */
	int64_t agent_reregister_timeout_ms;   /* 10 min: admitted agents that never come back
	                                          after a master restart are then removed */
	int max_completed_frameworks;          /* 50 */
	int max_completed_tasks_per_framework; /* 1000 */
} master_flags;

/* Fills f with the defaults above. */
void master_flags_default(master_flags *f);
/* Parses --name=value flags (argv[0] is the command's name) into f, which holds
 * defaults. Returns 0, 1 when --help was asked (usage printed to out), or 2 on a bad
 * flag or value (a message printed to err). Strings in f are malloc'ed copies. */
int master_flags_parse(master_flags *f, int argc, char **argv, FILE *out, FILE *err);
/* Frees the strings of f (not f itself). */
void master_flags_fini(master_flags *f);
/* Prints the flags and their defaults. */
void master_usage(FILE *out);

/* Spawns the master actor in the running runtime (which should listen, so that other
 * OS processes can reach it). f is copied. On success the PID is in *out (may be NULL).
 * Returns 0 or a libactor error code (ACTOR_ESTATE when a "master" already runs). */
int master_start(const master_flags *f, actor_pid *out);
/* Ends the master actor and waits until it has ended (from outside actors). */
void master_stop(actor_pid pid);

/* `plexus master [flags]`: runs a master until SIGINT or SIGTERM. */
int master_main(int argc, char **argv);

#endif
