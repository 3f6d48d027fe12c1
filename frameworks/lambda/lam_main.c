/* lam_main.c — plexus-lambda, run as `plexus lambda <command>`: the lambda architecture
 * on one cluster (docs/lambda.md). */
#include <stdio.h>
#include <string.h>

#include "lam_cmd.h"

static const struct {
	const char *name, *what;
	int (*fn)(int argc, char **argv);
} commands[] = {
    {"up", "bring up the cluster, the three layers and the generator, with a live view", lam_cmd_up},
    {"query", "the merged count of a URL (--url=/home) or the top URLs (--top=N)", lam_cmd_query},
    {"serve", "the serving layer over HTTP: /lambda/query?url=PATH, /lambda/top?n=N", lam_cmd_serve},
    {"view", "the live view of a running pipeline", lam_cmd_view},
    {"generate", "the event source (what `up` runs as a task)", lam_cmd_generate},
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	FILE *out = strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0 ? stdout : stderr;
	fprintf(out, "usage: plexus lambda <command> [flags]   (--help after a command for its flags)\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].what);
	return out == stdout ? 0 : 2;
}
