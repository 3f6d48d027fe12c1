/* spark_cli.c — `plexus spark`: submits a job program. A job is a program linked with
 * libspark that is its own driver and its own executors; submitting it runs it as the
 * driver with the cluster's address and the submit flags, as spark-submit does:
 *
 *     plexus spark submit --master=HOST:PORT [--name=N] [--max-cores=N]
 *         [--executor-cores=N] [--executor-memory=MB] [--progress] PROGRAM [ARGS...]
 *
 * The program is run by path (made absolute, since its executors are started from a
 * copy in their sandboxes); its exit status is the command's. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus spark submit --master=HOST:PORT [flags] PROGRAM [ARGS...]\n"
	        "\n"
	        "Runs PROGRAM (a job linked with libspark) as the driver of a Spark-like\n"
	        "application on the cluster; its executors are the same binary.\n"
	        "\n"
	        "  --master=HOST:PORT        the master (required)\n"
	        "  --name=NAME               the framework's name (default spark)\n"
	        "  --role=ROLE               default *\n"
	        "  --max-cores=N             cores over all executors (default: no limit)\n"
	        "  --executor-cores=N        cores of each executor (default 2)\n"
	        "  --executor-memory=MB      memory of each executor (default 512)\n"
	        "  --idle-timeout=DURATION   release executors idle this long (default 60secs)\n"
	        "  --progress                print stages and tasks done/total while it runs\n"
	        "  --http-port=N             the driver's JSON endpoint (GET /spark/jobs)\n");
}

static bool is_submit_flag(const char *a)
{
	static const char *const flags[] = {
	    "--master=",       "--name=",           "--role=",
	    "--max-cores=",    "--executor-cores=", "--executor-memory=",
	    "--idle-timeout=", "--http-port="};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strncmp(a, flags[i], strlen(flags[i])) == 0)
			return true;
	return strcmp(a, "--progress") == 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "submit") != 0) {
		fprintf(stderr, "plexus spark: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	int i = 2;
	bool master = false;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (!is_submit_flag(argv[i])) {
			fprintf(stderr, "plexus spark submit: unknown flag '%s'\n", argv[i]);
			return 2;
		}
		master |= strncmp(argv[i], "--master=", 9) == 0;
	}
	if (i >= argc || !master) {
		fprintf(stderr, "plexus spark submit: %s\n",
		        !master ? "--master=HOST:PORT is required" : "no PROGRAM");
		return 2;
	}
	char program[PATH_MAX];
	if (realpath(argv[i], program) == NULL || access(program, X_OK) != 0) {
		fprintf(stderr, "plexus spark submit: cannot run %s: %s\n", argv[i],
		        strerror(errno));
		return 2;
	}
	/* PROGRAM, the submit flags, then the program's own arguments. */
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	if (args == NULL)
		return 1;
	int n = 0;
	args[n++] = program;
	for (int f = 2; f < i; f++)
		args[n++] = argv[f];
	for (int a = i + 1; a < argc; a++)
		args[n++] = argv[a];
	args[n] = NULL;
	execv(program, args);
	fprintf(stderr, "plexus spark submit: cannot run %s: %s\n", program, strerror(errno));
	free(args);
	return 1;
}
