/* state.c — the operator's read-only commands, all answered from HTTP endpoints:
 *
 *   plexus state [--master=HOST:PORT]           /master/state, pretty-printed
 *   plexus tasks [--master=HOST:PORT]           every task the master knows, as a table
 *   plexus cat TASK stdout|stderr [--master=...] a file of the task's sandbox
 *
 * Exit status: 0, 1 when the master or agent cannot be reached or does not know the
 * task, 2 for bad flags. --master defaults to $PLEXUS_MASTER, then 127.0.0.1:5050. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "http_client.h"
#include "operator.h"

struct opts {
	const char *master;
	const char *framework; /* cat only */
	char url[512];         /* the master's base URL */
	int npos;
	const char *pos[2];
};

/* Parses the flags common to the three commands. Returns -1 to go on, or the exit
 * status (0 after --help, 2 after a message about bad flags). */
static int parse(const char *cmd, int argc, char **argv, int npos_max, bool framework_flag,
                 void (*usage)(FILE *), struct opts *o)
{
	enum { O_MASTER = 256, O_FRAMEWORK, O_HELP };
	const struct option options[] = {
	    {"master", required_argument, NULL, O_MASTER},
	    {"help", no_argument, NULL, O_HELP},
	    {framework_flag ? "framework" : "help",
	     framework_flag ? required_argument : no_argument, NULL,
	     framework_flag ? O_FRAMEWORK : O_HELP},
	    {0},
	};
	int c;
	char err[512];

	*o = (struct opts){.master = getenv("PLEXUS_MASTER")};
	if (o->master == NULL || *o->master == '\0')
		o->master = "127.0.0.1:5050";
	optind = 1;
	opterr = 0;
	/* '+' would stop at the first operand; permuting lets flags follow TASK. */
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case O_MASTER:
			o->master = optarg;
			break;
		case O_FRAMEWORK:
			o->framework = optarg;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "plexus %s: unknown or incomplete flag '%s'\n", cmd,
			        argv[optind - 1]);
			fprintf(stderr, "try 'plexus %s --help'\n", cmd);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		if (o->npos == npos_max) {
			fprintf(stderr, "plexus %s: unexpected argument '%s'\n", cmd, argv[optind]);
			fprintf(stderr, "try 'plexus %s --help'\n", cmd);
			return 2;
		}
		o->pos[o->npos++] = argv[optind];
	}
	if (operator_master_url(o->master, o->url, sizeof(o->url), err, sizeof(err)) != 0) {
		fprintf(stderr, "plexus %s: --master: %s\n", cmd, err);
		return 2;
	}
	return -1;
}

static const char master_help[] =
    "  --master=HOST:PORT  the master's HTTP address (default $PLEXUS_MASTER, else\n"
    "                      127.0.0.1:5050)\n"
    "  --help              this text\n";

/* ---- plexus state ----------------------------------------------------------------- */

static void state_usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus state [--master=HOST:PORT]\n\n"
	        "Prints the master's state (GET /master/state) as indented JSON.\n\n%s",
	        master_help);
}

int plexus_state_main(int argc, char **argv)
{
	struct opts o;
	char url[600];
	int rc = parse("state", argc, argv, 0, false, state_usage, &o);

	if (rc >= 0)
		return rc;
	snprintf(url, sizeof(url), "%s/master/state", o.url);
	json_t *state = operator_get_json("state", "the master", url);
	if (state == NULL)
		return 1;
	rc = json_dumpf(state, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : 1;
	putchar('\n');
	json_decref(state);
	return rc;
}

/* ---- plexus tasks ----------------------------------------------------------------- */

static void tasks_usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus tasks [--master=HOST:PORT]\n\n"
	        "Lists every task the master knows (running and completed, of current and\n"
	        "completed frameworks): id, framework, agent, state, name.\n\n%s",
	        master_help);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

/* Calls fn for every task of the master's state, in the order Mesos lists them. */
static void each_task(json_t *state, void (*fn)(json_t *task, void *arg), void *arg)
{
	static const char *const fw_lists[] = {"frameworks", "completed_frameworks"};
	static const char *const task_lists[] = {"tasks", "unreachable_tasks", "completed_tasks"};

	for (size_t i = 0; i < 2; i++) {
		size_t fi, ti;
		json_t *fw, *task;
		json_array_foreach(json_object_get(state, fw_lists[i]), fi, fw) for (size_t k = 0;
		                                                                     k < 3; k++)
		    json_array_foreach(json_object_get(fw, task_lists[k]), ti, task) fn(task, arg);
	}
}

static const char *const columns[][2] = {
    {"ID", "id"},     {"FRAMEWORK", "framework_id"}, {"AGENT", "slave_id"}, {"STATE", "state"},
    {"NAME", "name"},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static void widen(json_t *task, void *arg)
{
	int *w = arg;
	for (size_t c = 0; c < NCOLUMNS; c++) {
		int n = (int)strlen(str(task, columns[c][1]));
		if (n > w[c])
			w[c] = n;
	}
	w[NCOLUMNS]++;
}

static void print_row(json_t *task, void *arg)
{
	const int *w = arg;
	for (size_t c = 0; c < NCOLUMNS; c++)
		printf(c + 1 < NCOLUMNS ? "%-*s  " : "%*s\n", c + 1 < NCOLUMNS ? w[c] : 0,
		       str(task, columns[c][1]));
}

int plexus_tasks_main(int argc, char **argv)
{
	struct opts o;
	char url[600];
	int w[NCOLUMNS + 1] = {0};
	int rc = parse("tasks", argc, argv, 0, false, tasks_usage, &o);

	if (rc >= 0)
		return rc;
	snprintf(url, sizeof(url), "%s/master/state", o.url);
	json_t *state = operator_get_json("tasks", "the master", url);
	if (state == NULL)
		return 1;
	for (size_t c = 0; c < NCOLUMNS; c++)
		w[c] = (int)strlen(columns[c][0]);
	each_task(state, widen, w);
	for (size_t c = 0; c < NCOLUMNS; c++)
		printf(c + 1 < NCOLUMNS ? "%-*s  " : "%*s\n", c + 1 < NCOLUMNS ? w[c] : 0,
		       columns[c][0]);
	each_task(state, print_row, w);
	if (w[NCOLUMNS] == 0)
		printf("(no tasks)\n");
	json_decref(state);
	return 0;
}

/* ---- plexus cat ------------------------------------------------------------------- */

static void cat_usage(FILE *out)
{
	fprintf(out,
	        "usage: plexus cat TASK stdout|stderr [--master=HOST:PORT] [--framework=ID]\n\n"
	        "Prints a file of a task's sandbox: the master tells which agent ran the task,\n"
	        "the agent's /state tells the sandbox, and its /files/read serves the file.\n\n"
	        "  --framework=ID      the task's framework, when several have a task TASK\n%s",
	        master_help);
}

struct find {
	const char *task_id, *framework_id;
	json_t *found; /* borrowed */
	int matches;
};

static void match_task(json_t *task, void *arg)
{
	struct find *f = arg;
	if (strcmp(str(task, "id"), f->task_id) != 0)
		return;
	if (f->framework_id != NULL && strcmp(str(task, "framework_id"), f->framework_id) != 0)
		return;
	f->found = task;
	f->matches++;
}

/* The sandbox directory of the executor that ran task_id of framework_id, from the
 * agent's /state (borrowed from it), or NULL. executor_id may be "" (a command task,
 * whose executor has the task's id). */
static const char *sandbox_of(json_t *agent_state, const char *framework_id,
                              const char *executor_id, const char *task_id)
{
	static const char *const fw_lists[] = {"frameworks", "completed_frameworks"};
	static const char *const ex_lists[] = {"executors", "completed_executors"};
	static const char *const task_lists[] = {"tasks", "queued_tasks", "completed_tasks"};
	const char *want = *executor_id != '\0' ? executor_id : task_id;
	const char *dir = NULL;

	for (size_t i = 0; i < 2; i++) {
		size_t fi, ei, ti;
		json_t *fw, *ex, *task;
		json_array_foreach(json_object_get(agent_state, fw_lists[i]), fi, fw)
		{
			if (strcmp(str(fw, "id"), framework_id) != 0)
				continue;
			for (size_t k = 0; k < 2; k++)
				json_array_foreach(json_object_get(fw, ex_lists[k]), ei, ex)
				{
					bool mine = strcmp(str(ex, "id"), want) == 0;
					for (size_t t = 0; t < 3 && !mine; t++)
						json_array_foreach(
						    json_object_get(ex, task_lists[t]), ti, task)
						    mine = mine ||
						           strcmp(str(task, "id"), task_id) == 0;
					/* The last match: a relaunched executor's newest run. */
					if (mine && *str(ex, "directory") != '\0')
						dir = str(ex, "directory");
				}
		}
	}
	return dir;
}

/* The agent's HTTP base URL and actor id from the master's record of it. */
static int agent_address(json_t *state, const char *agent_id, char *url, size_t urllen, char *id,
                         size_t idlen)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(state, "slaves"), i, a)
	{
		if (strcmp(str(a, "id"), agent_id) != 0)
			continue;
		/* "slave(1)@10.0.0.7:41234": the id and the address; the HTTP port is "port". */
		const char *pid = str(a, "pid");
		const char *at = strchr(pid, '@');
		const char *colon = at ? strrchr(at, ':') : NULL;
		json_int_t port = json_integer_value(json_object_get(a, "port"));
		if (at == NULL || colon == NULL || port <= 0)
			return -1;
		snprintf(id, idlen, "%.*s", (int)(at - pid), pid);
		snprintf(url, urllen, "http://%.*s:%lld", (int)(colon - at - 1), at + 1,
		         (long long)port);
		return 0;
	}
	return -1;
}

/* Reads path through the agent's /files/read, chunk by chunk, onto stdout. */
static int print_file(const char *agent_url, const char *path)
{
	char enc[4096] = "", url[4800];
	long long offset = 0;

	if (cli_url_encode(path, enc, sizeof(enc)) != 0) {
		fprintf(stderr, "plexus cat: sandbox path too long: %s\n", path);
		return 1;
	}
	for (;;) {
		snprintf(url, sizeof(url), "%s/files/read?path=%s&offset=%lld&length=65536",
		         agent_url, enc, offset);
		json_t *j = operator_get_json("cat", "the agent", url);
		if (j == NULL)
			return 1;
		json_t *data = json_object_get(j, "data");
		size_t n = json_string_length(data);
		if (!json_is_string(data)) {
			fprintf(stderr, "plexus cat: %s: no \"data\" in the answer\n", url);
			json_decref(j);
			return 1;
		}
		fwrite(json_string_value(data), 1, n, stdout);
		json_decref(j);
		if (n == 0)
			break;
		offset += (long long)n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int plexus_cat_main(int argc, char **argv)
{
	struct opts o;
	char url[600], agent_url[300], agent_id[128], path[4096];
	int rc = parse("cat", argc, argv, 2, true, cat_usage, &o);

	if (rc >= 0)
		return rc;
	if (o.npos != 2 || (strcmp(o.pos[1], "stdout") != 0 && strcmp(o.pos[1], "stderr") != 0)) {
		fprintf(stderr, "plexus cat: expected TASK and then stdout or stderr\n");
		fprintf(stderr, "try 'plexus cat --help'\n");
		return 2;
	}
	snprintf(url, sizeof(url), "%s/master/state", o.url);
	json_t *state = operator_get_json("cat", "the master", url);
	if (state == NULL)
		return 1;
	struct find f = {.task_id = o.pos[0], .framework_id = o.framework};
	each_task(state, match_task, &f);
	rc = 1;
	if (f.matches == 0) {
		fprintf(stderr, "plexus cat: the master knows no task '%s'%s%s\n", f.task_id,
		        o.framework ? " of framework " : "", o.framework ? o.framework : "");
		goto out;
	}
	if (f.matches > 1) {
		fprintf(stderr,
		        "plexus cat: %d frameworks have a task '%s'; say which with "
		        "--framework (see 'plexus tasks')\n",
		        f.matches, f.task_id);
		goto out;
	}
	const char *framework_id = str(f.found, "framework_id");
	const char *agent = str(f.found, "slave_id");
	if (agent_address(state, agent, agent_url, sizeof(agent_url), agent_id, sizeof(agent_id)) !=
	    0) {
		fprintf(stderr, "plexus cat: the master no longer knows agent %s of task '%s'\n",
		        agent, f.task_id);
		goto out;
	}
	snprintf(url, sizeof(url), "%s/%s/state", agent_url, agent_id);
	json_t *astate = operator_get_json("cat", "the agent", url);
	if (astate == NULL)
		goto out;
	const char *dir = sandbox_of(astate, framework_id, str(f.found, "executor_id"), f.task_id);
	if (dir == NULL) {
		fprintf(stderr, "plexus cat: agent %s has no sandbox for task '%s'\n", agent,
		        f.task_id);
	} else {
		snprintf(path, sizeof(path), "%s/%s", dir, o.pos[1]);
		rc = print_file(agent_url, path);
	}
	json_decref(astate);
out:
	json_decref(state);
	return rc;
}
