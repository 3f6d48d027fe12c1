/* cas_cmd_start.c — `plexus cassandra start`: runs the scheduler (see cas_sched.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cas_cmd.h"
#include "cas_flags.h"
#include "cas_sched.h"

int cas_cmd_start(int argc, char **argv)
{
	static const char *const known[] = {"master", "nodes", "rf",   "role", "name",     "cpus",
	                                    "mem",    "disk",  "state", "principal", "node-args",
	                                    NULL};
	if (!cas_flags_check(argc, argv, known))
		return 2;
	cas_sched_opts o = {0};
	int64_t nodes, rf, cpus_milli, mem, disk;
	o.master = cas_flag(argc, argv, "master");
	if (o.master == NULL || *o.master == '\0') {
		fprintf(stderr, "plexus cassandra start: --master=HOST:PORT is required\n");
		return 2;
	}
	if (!cas_flag_int(argc, argv, "nodes", 3, 1, 64, &nodes) ||
	    !cas_flag_int(argc, argv, "rf", 3, 1, 16, &rf) ||
	    !cas_flag_int(argc, argv, "mem", 256, 16, 1 << 20, &mem) ||
	    !cas_flag_int(argc, argv, "disk", 256, 1, 1 << 30, &disk))
		return 2;
	const char *cpus = cas_flag(argc, argv, "cpus");
	double c = cpus ? strtod(cpus, NULL) : 0.5;
	if (c <= 0 || c > 1024) {
		fprintf(stderr, "plexus cassandra start: --cpus must be a positive number\n");
		return 2;
	}
	(void)cpus_milli;
	if (rf > nodes)
		fprintf(stderr, "plexus cassandra start: warning: --rf=%lld exceeds --nodes=%lld; "
		                "QUORUM needs %lld live replicas\n",
		        (long long)rf, (long long)nodes, (long long)(rf / 2 + 1));
	o.nodes = (int)nodes;
	o.rf = (int)rf;
	o.cpus = c;
	o.mem = (double)mem;
	o.disk = (double)disk;
	o.name = cas_flag(argc, argv, "name") ?: "cassandra";
	o.role = cas_flag(argc, argv, "role") ?: "cassandra";
	o.principal = cas_flag(argc, argv, "principal") ?: "cassandra";
	o.state = cas_flag(argc, argv, "state") ?: "cassandra-scheduler.json";
	o.node_args = cas_flag(argc, argv, "node-args");
	return cas_sched_run(&o);
}
