/* spk_mapreduce.c — Hadoop's MapReduce as a lineage on the engine: input splits
 * (text_file), the mapper (flat_map), an optional combiner (the shuffle's map-side
 * combine), a partitioner, and the reducer called per key in key order over its
 * values (the reduce side of the shuffle sorts its keys), writing part-NNNNN files. */
#include <stdio.h>
#include <string.h>

#include <actor/log.h>

#include "spk_driver.h"
#include "spk_registry.h"

int spk_mapreduce_run(spk_context *sc, const spk_mapreduce *job)
{
	if (sc == NULL)
		return -1;
	if (job == NULL || job->input == NULL || job->output == NULL || job->mapper == NULL) {
		snprintf(sc->error, sizeof(sc->error),
		         "mapreduce: input, output and mapper are required");
		return -1;
	}
	if (job->partitioner != NULL &&
	    spk_registry_find(job->partitioner, SPK_FN_PARTITIONER) == NULL) {
		snprintf(sc->error, sizeof(sc->error), "mapreduce: no partitioner '%s'",
		         job->partitioner);
		return -1;
	}
	int reducers = job->reducers > 0 ? job->reducers : 1;
	spk_rdd *lines = spk_text_file(sc, job->input, job->min_splits > 0 ? job->min_splits : 2);
	spk_rdd *pairs = spk_flat_map(lines, job->mapper, job->arg);
	spk_rdd *grouped;
	if (job->combiner != NULL) {
		spk_rdd *combined =
		    spk_lineage_shuffle(pairs, "combine", SPK_AGG_REDUCE, job->combiner, job->arg,
		                        reducers, job->partitioner, job->arg);
		grouped = spk_map(combined, "__as_list", NULL);
	} else {
		grouped = spk_lineage_shuffle(pairs, "shuffle", SPK_AGG_GROUP, NULL, NULL, reducers,
		                              job->partitioner, job->arg);
	}
	spk_rdd *out = spk_map(grouped, job->reducer ? job->reducer : "__ungroup", job->arg);
	if (out == NULL) {
		snprintf(
		    sc->error, sizeof(sc->error),
		    "mapreduce: cannot build the job (input %s readable? functions registered?)",
		    job->input);
		return -1;
	}
	return spk_save_as_text_files(out, job->output);
}
