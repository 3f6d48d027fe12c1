/* spk_eval.h — how an executor computes one partition: the task's lineage becomes a
 * chain of sinks, and its sources (a range, an array slice, a byte range of a file, a
 * shuffle read, a persisted copy) push rows down the chain, row by row. */
#ifndef SPK_EVAL_H
#define SPK_EVAL_H

#include "spk_exec.h"
#include "spk_proto.h"

/* What push returns: continue, stop early (take has enough), or fail. */
#define SPK_PUSH_OK   0
#define SPK_PUSH_STOP 1
#define SPK_PUSH_FAIL (-1)
/* A shuffle block could not be fetched (run->fetch_sid / fetch_map say which). */
#define SPK_PUSH_FETCH_FAILED (-2)

typedef struct spk_sink {
	int (*push)(struct spk_sink *s, const spk_row *row);
} spk_sink;

struct spk_emitter {
	spk_sink *sink;
	int rc;
};

typedef struct spk_run {
	spk_exec *ex;
	const spk_task_desc *task;
	int cached[16];
	size_t ncached;
	int fetch_sid, fetch_map;
	char fetch_pid[96];
	uint64_t records;
} spk_run;

/* Pushes the rows of node into out. SPK_PUSH_OK when all were pushed, or the first
 * code other than OK that a push or source returned (spk_failure says why on FAIL). */
int spk_eval(spk_run *run, const spk_node *node, spk_sink *out);

/* Runs a whole task: its output's sink over its lineage. Fills st (result, message,
 * sizes, cached) and value (the action's partial result). */
void spk_task_run(spk_exec *ex, const spk_task_desc *t, spk_task_status *st, spk_buf *value);

#endif
