/* chr_graph.h — the dependency graph of jobs: which jobs a job waits for, checks that
 * keep it acyclic, and its Graphviz form (GET /v1/scheduler/graph/dot). The graph is
 * the jobs' parents lists themselves; nothing else is stored. */
#ifndef CHR_GRAPH_H
#define CHR_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "chr_job.h"

/* The job called name in the list, or NULL. */
chr_job *chr_graph_find(chr_job *jobs, const char *name);

/* Whether `job` (a new or changed definition named job->name) fits the graph: each
 * parent exists, is not the job itself, and does not depend on the job (directly or
 * through others), which would close a cycle. false with err naming the culprit. */
bool chr_graph_check(chr_job *jobs, const chr_job *job, char *err, size_t errlen);

/* The first job that lists name among its parents, or NULL. */
chr_job *chr_graph_first_child(chr_job *jobs, const char *name);

/* The graph in Graphviz's dot language, a malloc'ed string: one node per job, coloured
 * by its last run (green succeeded, red failed, white never ran), and an edge from each
 * parent to its child. NULL on out of memory. */
char *chr_graph_dot(chr_job *jobs);

#endif
