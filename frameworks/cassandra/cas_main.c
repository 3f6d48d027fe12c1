/* cas_main.c — plexus-cassandra: `plexus cassandra <command>`. */
#include <stdio.h>
#include <string.h>

#include "cas_cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: plexus cassandra <command> [flags]\n"
	        "  start --master=HOST:PORT [--nodes=3] [--rf=3] [--role=cassandra] [--name=cassandra]\n"
	        "        [--cpus=0.5] [--mem=256] [--disk=256] [--state=FILE]\n"
	        "                        run the scheduler: reserve resources, create a volume and\n"
	        "                        launch a node on them for each node of the ring\n"
	        "  status --master=HOST:PORT [--name=cassandra]   the ring: nodes, tokens, load, up/down\n"
	        "  add-node --master=HOST:PORT [--name=cassandra] one more node (the ring streams it data)\n"
	        "  stop --master=HOST:PORT [--name=cassandra]     tear the framework down\n"
	        "  cql --master=HOST:PORT | --node=IP:PORT [--consistency=ONE]\n"
	        "                        the CQL shell (reads statements from standard input)\n"
	        "  node --port=P --data=DIR [--ip=127.0.0.1] [--seeds=IP:PORT,...] [--tokens=16]\n"
	        "       [--commitlog-sync=batch|periodic] [--memtable-mb=32] [--phi=8]\n"
	        "       [--gossip-ms=200] [--timeout-ms=2000] [--gc-grace=864000]\n"
	        "                        a database node (also how the scheduler runs each node)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"node", cas_cmd_node},         {"start", cas_cmd_start},
	            {"status", cas_cmd_status},     {"stop", cas_cmd_stop},
	            {"add-node", cas_cmd_add_node}, {"cql", cas_cmd_cql}};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "plexus cassandra: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
