/* plexus — the command-line entry point: `plexus <command> [flags]`.
 * Each command lives in its own file and is listed in the table below. A command that
 * is not in the table is looked for as a program `plexus-<command>`, first beside this
 * program and then on PATH, as git does: the frameworks (`plexus spark`, `plexus
 * storm`, ...) are such programs, built on the SDK alone. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "plexus/version.h"

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
	fprintf(out, "  (and any program plexus-<command> beside plexus or on PATH:"
	             " spark, storm, cassandra ...)\n");
	fprintf(out, "\n'plexus <command> --help' describes a command's flags.\n");
}

/* Executes plexus-<name> with args (args[0] is the command's name) from this program's
 * directory, else from PATH. Returns only if neither has it. */
static void run_external(const char *name, char **args)
{
	char prog[256], self[PATH_MAX];
	snprintf(prog, sizeof(prog), "plexus-%s", name);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		char beside[PATH_MAX + 300];
		if (slash != NULL) {
			*slash = '\0';
			snprintf(beside, sizeof(beside), "%s/%s", self, prog);
			if (access(beside, X_OK) == 0) {
				execv(beside, args);
				fprintf(stderr, "plexus: cannot run %s: %s\n", beside, strerror(errno));
				exit(126);
			}
		}
	}
	execvp(prog, args);
	if (errno != ENOENT) {
		fprintf(stderr, "plexus: cannot run %s: %s\n", prog, strerror(errno));
		exit(126);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("plexus %s\n", px_version());
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].main(argc - 1, argv + 1);
	if (strchr(argv[1], '/') == NULL && argv[1][0] != '-')
		run_external(argv[1], argv + 1); /* returns only when there is no such program */
	fprintf(stderr, "plexus: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
