/* mapreduce_cli.c — `plexus mapreduce`: Hadoop Streaming on the engine. Shell commands
 * are the mapper and the reducer; each reads lines on stdin and writes lines on stdout.
 *
 *     plexus mapreduce --master=HOST:PORT --input=FILE-OR-DIR --output=DIR
 *         --mapper='tr -s " " "\n"' [--reducer='uniq -c'] [--reducers=N]
 *
 * A mapper's output line is keyed up to its first tab (the whole line, with an empty
 * value, when it has none). The pairs are hash partitioned by key over the reducers
 * and sorted, so that each reducer sees its keys sorted and grouped, as lines
 * "key\tvalue" (just "key" when the value is empty). Without a reducer the sorted
 * pairs are the output. Output: DIR/part-00000 ... and DIR/_SUCCESS.
 *
 * This program is a job like any other: its executors are this same binary. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spark/spark.h>

extern char **environ;

struct feeder {
	spk_iter *in;
	int fd;
	bool keyed; /* write "key\tvalue" (the reducer) or the value (the mapper) */
};

/* Writes the partition's rows into the command's stdin while the task thread reads its
 * stdout, so that neither side can block the other. */
static void *feed(void *arg)
{
	struct feeder *f = arg;
	FILE *out = fdopen(f->fd, "w");
	spk_row row;
	while (out != NULL && spk_iter_next(f->in, &row)) {
		if (f->keyed) {
			fwrite(row.key.data, 1, row.key.len, out);
			if (row.value.len > 0) {
				fputc('\t', out);
				fwrite(row.value.data, 1, row.value.len, out);
			}
		} else {
			fwrite(row.value.data, 1, row.value.len, out);
		}
		if (fputc('\n', out) == EOF)
			break; /* the command stopped reading: its exit status tells */
	}
	if (out != NULL)
		fclose(out);
	else
		close(f->fd);
	return NULL;
}

static int stream(spk_iter *in, const char *cmd, bool reducer, spk_emitter *out)
{
	int to[2], from[2];
	if (cmd == NULL || pipe2(to, O_CLOEXEC) != 0)
		return spk_fail("no command or no pipe");
	if (pipe2(from, O_CLOEXEC) != 0) {
		close(to[0]);
		close(to[1]);
		return spk_fail("pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from[1], 1);
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(to[0]);
	close(from[1]);
	if (rc != 0) {
		close(to[1]);
		close(from[0]);
		return spk_fail("cannot run '%s': %s", cmd, strerror(rc));
	}
	struct feeder f = {in, to[1], reducer};
	pthread_t feeder;
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&feeder, NULL, feed, &f) != 0) {
		close(to[1]);
		close(from[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return spk_fail("cannot start a feeder thread");
	}
	FILE *res = fdopen(from[0], "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while (res != NULL && (len = getline(&line, &cap, res)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (reducer) {
			spk_emit_value(out, line, (size_t)len);
			continue;
		}
		char *tab = memchr(line, '\t', (size_t)len);
		if (tab != NULL)
			spk_emit_pair(out, line, (size_t)(tab - line), tab + 1,
			              (size_t)(len - (tab + 1 - line)));
		else
			spk_emit_pair(out, line, (size_t)len, "", 0);
	}
	free(line);
	if (res != NULL)
		fclose(res);
	else
		close(from[0]);
	pthread_join(feeder, NULL);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return spk_fail("%s '%s' exited with status %d", reducer ? "reducer" : "mapper",
		                cmd, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

static int stream_map(spk_iter *in, const char *cmd, spk_emitter *out)
{
	return stream(in, cmd, false, out);
}

static int stream_reduce(spk_iter *in, const char *cmd, spk_emitter *out)
{
	return stream(in, cmd, true, out);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: plexus mapreduce --master=HOST:PORT --input=FILE-OR-DIR --output=DIR\n"
	             "           --mapper=COMMAND [--reducer=COMMAND] [--reducers=N]\n"
	             "           [--splits=N] [--progress] [--executor-cores=N] ...\n"
	             "\n"
	             "Hadoop Streaming: COMMANDs read lines on stdin and write lines on stdout.\n"
	             "A mapper's line is keyed up to its first tab; each reducer sees its keys\n"
	             "sorted and grouped. Output files DIR/part-00000 ...\n");
}

int main(int argc, char **argv)
{
	spk_register_partitions("stream_map", stream_map);
	spk_register_partitions("stream_reduce", stream_reduce);
	spk_main(argc, argv);

	spk_conf conf;
	spk_conf_default(&conf);
	conf.app_name = "mapreduce";
	if (spk_conf_from_args(&conf, &argc, argv) != 0)
		return 2;
	const char *input = NULL, *output = NULL, *mapper = NULL, *reducer = NULL;
	int reducers = 1, splits = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strncmp(a, "--input=", 8) == 0) {
			input = a + 8;
		} else if (strncmp(a, "--output=", 9) == 0) {
			output = a + 9;
		} else if (strncmp(a, "--mapper=", 9) == 0) {
			mapper = a + 9;
		} else if (strncmp(a, "--reducer=", 10) == 0) {
			reducer = a + 10;
		} else if (strncmp(a, "--reducers=", 11) == 0) {
			reducers = atoi(a + 11);
		} else if (strncmp(a, "--splits=", 9) == 0) {
			splits = atoi(a + 9);
		} else {
			fprintf(stderr, "plexus mapreduce: unknown argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (conf.master == NULL || input == NULL || output == NULL || mapper == NULL ||
	    reducers < 1 || reducers > 10000 || splits < 1) {
		fprintf(stderr, "plexus mapreduce: --master, --input, --output and --mapper are "
		                "required (and --reducers, --splits positive)\n");
		usage(stderr);
		return 2;
	}
	char err[256];
	spk_context *sc = spk_context_start(&conf, err, sizeof(err));
	if (sc == NULL) {
		fprintf(stderr, "plexus mapreduce: %s\n", err);
		return 1;
	}
	spk_rdd *lines = spk_text_file(sc, input, splits);
	if (lines == NULL) {
		fprintf(stderr, "plexus mapreduce: cannot read %s\n", input);
		spk_context_stop(sc);
		return 1;
	}
	spk_rdd *pairs = spk_map_partitions(lines, "stream_map", mapper);
	spk_rdd *sorted = spk_repartition_and_sort(pairs, reducers);
	spk_rdd *out = reducer ? spk_map_partitions(sorted, "stream_reduce", reducer) : sorted;
	int rc = spk_save_as_text_files(out, output) == 0 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "plexus mapreduce: %s\n", spk_context_error(sc));
	spk_context_stop(sc);
	return rc;
}
