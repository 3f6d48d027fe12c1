/* cas_sched.h — the scheduler: one slot per node of the ring. For a slot without a
 * home it takes an offer from an agent hosting none of its nodes and accepts it with
 * RESERVE (cpus, mem, one port, disk for the role), CREATE (a persistent volume on that
 * disk) and LAUNCH (the node, on exactly those resources). A slot whose node ended
 * waits for an offer from the same agent holding its reservation and volume and
 * launches the node there again, so it finds its data. Everything else is declined;
 * offers are suppressed while every node runs and revived when one does not. The slots
 * and the framework id are kept in a state file, so a restarted scheduler fails over
 * to the same framework and keeps the running nodes. */
#ifndef CAS_SCHED_H
#define CAS_SCHED_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cas_sched_opts {
	const char *master;
	const char *name;      /* framework name, default "cassandra" */
	const char *role;      /* default "cassandra" */
	const char *principal; /* default "cassandra" */
	const char *state;     /* state file */
	const char *node_args; /* extra flags for every node */
	int nodes, rf;
	double cpus, mem, disk;
} cas_sched_opts;

/* Runs the scheduler until it is stopped (SIGTERM/SIGINT: failover stop, the nodes keep
 * running) or torn down. Returns the exit status. */
int cas_sched_run(const cas_sched_opts *opts);

/* The name of the scheduler's control actor and its message asking for one more node
 * (body empty; answered by CAS_MSG_SCHED_ADDED with the new node count as text). */
#define CAS_SCHED_ACTOR "cas-scheduler"
#define CAS_MSG_SCHED_ADD "cas.sched.add-node"
#define CAS_MSG_SCHED_ADDED "cas.sched.added"

#endif
