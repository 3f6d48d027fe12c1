/* plexus — the command-line entry point: `plexus <command> [flags]`.
 * Each command lives in its own file and is listed in the table below. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct plexus_command commands[] = {
	{"agent", "run an agent (executors and tasks in sandboxes; HTTP on --port)", agent_main},
	{"cat", "print a task's stdout or stderr from its sandbox", plexus_cat_main},
	{"demo", "run a ring of actors passing a token (a tour of libactor)", plexus_demo_main},
	{"execute", "run one command as a task on the cluster and wait for it", plexus_execute_main},
	{"local", "run a master and N agents in this process (a cluster on one machine)", plexus_local_main},
	{"master", "run a master (frameworks, agents, offers; HTTP on --port)", master_main},
	{"state", "print the master's state as JSON", plexus_state_main},
	{"tasks", "list the cluster's tasks: id, framework, agent, state, name", plexus_tasks_main},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: plexus <command> [flags]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'plexus <command> --help' describes a command's flags.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "plexus: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
