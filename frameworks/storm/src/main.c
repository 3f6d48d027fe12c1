/* main.c — stm_main: the modes of a topology program (see storm.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nimbus.h"
#include "topology.h"
#include "worker.h"

static const char *const grouping_names[] = {"shuffle", "local_or_shuffle", "fields",
                                             "all",     "global",           "direct"};

/* --stm-describe: the topology as JSON on stdout. */
static int describe(int argc, char **argv, stm_build_fn build, void *arg)
{
	const char *keys[64] = {NULL}, *values[64] = {NULL};
	char *copies[64] = {NULL};
	int n = 0;
	for (int i = 0; i < argc && n < 64; i++) {
		if (strncmp(argv[i], "--conf=", 7) != 0)
			continue;
		copies[n] = strdup(argv[i] + 7);
		char *eq = copies[n] ? strchr(copies[n], '=') : NULL;
		if (eq == NULL) {
			free(copies[n]);
			continue;
		}
		*eq = '\0';
		keys[n] = copies[n];
		values[n] = eq + 1;
		n++;
	}
	struct stm_topology *t = stm_topology_alloc(keys, values, n);
	int rc = t != NULL ? stm_topology_build(t, build, arg) : -1;
	for (int i = 0; i < n; i++)
		free(copies[i]);
	if (rc != 0) {
		fprintf(stderr, "the topology does not build: %s\n",
		        t ? stm_topology_error(t) : "out of memory");
		stm_topology_free(t);
		return 1;
	}
	json_t *comps = json_array();
	for (int i = 0; i < t->ncomponents; i++) {
		const struct stm_component *c = &t->comps[i];
		json_t *streams = json_array();
		for (int s = 0; s < c->nstreams; s++) {
			json_t *fields = json_array();
			for (int f = 0; f < c->streams[s].nfields; f++)
				json_array_append_new(fields, json_string(c->streams[s].fields[f]));
			json_array_append_new(
			    streams,
			    json_pack("{ssso}", "name", c->streams[s].name, "fields", fields));
		}
		json_t *inputs = json_array();
		for (int k = 0; k < t->nsubs; k++) {
			const struct stm_sub *sub = &t->subs[k];
			if (sub->target == i)
				json_array_append_new(
				    inputs,
				    json_pack("{ssssss}", "source", t->comps[sub->source].name,
				              "stream", sub->stream_name, "grouping",
				              grouping_names[sub->grouping]));
		}
		json_array_append_new(comps,
		                      json_pack("{sssisisoso}", "name", c->name, "parallelism",
		                                c->parallelism, "first_task", c->first_task,
		                                "streams", streams, "inputs", inputs));
	}
	json_t *o =
	    json_pack("{sisisbsisIso}", "workers", t->workers, "tasks", t->ntasks, "acking",
	              t->acking, "max_spout_pending", t->max_spout_pending, "message_timeout_ms",
	              (json_int_t)t->message_timeout_ms, "components", comps);
	char *text = json_dumps(o, JSON_INDENT(2));
	puts(text);
	free(text);
	json_decref(o);
	stm_topology_free(t);
	return 0;
}

int stm_main(int argc, char **argv, stm_build_fn build, void *arg)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stm-worker") == 0)
			return stm_worker_main(build, arg);
		if (strcmp(argv[i], "--stm-nimbus") == 0) {
			/* The nimbus parses the flags after the mode. */
			argv[i] = argv[0];
			return stm_nimbus_main(argc - i, argv + i, build, arg);
		}
		if (strcmp(argv[i], "--stm-describe") == 0)
			return describe(argc, argv, build, arg);
	}
	fprintf(stderr,
	        "usage: %s --stm-nimbus --master=HOST:PORT --name=NAME [--conf=K=V ...]\n"
	        "       %s --stm-describe [--conf=K=V ...]\n"
	        "A storm topology program: submit it with `plexus storm submit "
	        "--master=HOST:PORT %s NAME`.\n",
	        argv[0], argv[0], argv[0]);
	return 2;
}
