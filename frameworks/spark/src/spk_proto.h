/* spk_proto.h — what the driver and its executors say to each other over libactor:
 * message names, the task description (the lineage of one partition, down to its
 * sources or the shuffles it reads, plus where its output goes) and the task status.
 *
 *   driver   -> executor  spk.launch   a task (spk_task_desc encoded by the driver)
 *   driver   -> executor  spk.stop     release: finish the Mesos task and exit
 *   executor -> driver    spk.register executor id, cores (from = the executor's actor)
 *   executor -> driver    spk.status   a task's end (spk_task_status)
 *   reducer  -> executor  spk.fetch    a chunk of one shuffle block
 *   executor -> reducer   spk.block    the chunk (streamed: the reducer asks for the next)
 *
 * Every decoder checks bounds and kinds: a malformed message is dropped with a log
 * line, never trusted. */
#ifndef SPK_PROTO_H
#define SPK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spark/spark.h"
#include "spk_wire.h"

#define SPK_MSG_LAUNCH   "spk.launch"
#define SPK_MSG_STOP     "spk.stop"
#define SPK_MSG_REGISTER "spk.register"
#define SPK_MSG_STATUS   "spk.status"
#define SPK_MSG_FETCH    "spk.fetch"
#define SPK_MSG_BLOCK    "spk.block"

/* The argument that selects executor mode in the job's own binary. */
#define SPK_EXECUTOR_FLAG "--spk-executor"

enum spk_node_kind {
	SPK_N_RANGE = 1,
	SPK_N_ARRAY,
	SPK_N_TEXT,
	SPK_N_MAP,
	SPK_N_FLAT_MAP,
	SPK_N_FILTER,
	SPK_N_PARTITIONS,
	SPK_N_KEY_BY,
	SPK_N_CONCAT,   /* the children's rows one after the other (union, coalesce) */
	SPK_N_SHUFFLED, /* a reduce partition read from map outputs */
	SPK_N_KIND_MAX
};

/* What a shuffled partition does with the rows it fetches. */
enum spk_agg {
	SPK_AGG_NONE = 0, /* as they come (repartition) */
	SPK_AGG_REDUCE,   /* values of a key combined by fn */
	SPK_AGG_GROUP,    /* values of a key listed */
	SPK_AGG_SORT,     /* all rows sorted by key */
	SPK_AGG_JOIN,     /* two inputs, pairs of values of equal keys */
	SPK_AGG_MAX
};

enum spk_out_kind {
	SPK_OUT_SHUFFLE = 1,
	SPK_OUT_COUNT,
	SPK_OUT_COLLECT,
	SPK_OUT_TAKE,
	SPK_OUT_REDUCE,
	SPK_OUT_SAVE,
	SPK_OUT_SAMPLE, /* up to `take` keys of the partition, for range bounds */
	SPK_OUT_MAX
};

struct spk_map_loc {
	char *pid;     /* the executor's actor that serves it */
	uint64_t size; /* bytes of this reduce partition's block (0: nothing to fetch) */
};

struct spk_shuffle_in {
	int sid;
	int nmaps;
	struct spk_map_loc *maps;
};

typedef struct spk_node {
	enum spk_node_kind kind;
	int rdd_id;
	int partition;
	bool persist;
	int64_t start, end, step; /* RANGE */
	spk_bytes *items;         /* ARRAY: encoded rows (borrowed from the message) */
	size_t nitems;
	char *path; /* TEXT */
	uint64_t off, len;
	char *fn, *arg;             /* narrow kinds; SHUFFLED with REDUCE */
	struct spk_node **children; /* narrow: one; CONCAT: any */
	size_t nchildren;
	enum spk_agg agg; /* SHUFFLED */
	struct spk_shuffle_in in[2];
	int nin;
} spk_node;

typedef struct spk_out_spec {
	enum spk_out_kind kind;
	int sid, nreduce;  /* SHUFFLE */
	spk_bytes *bounds; /* SHUFFLE by range: nreduce - 1 upper bounds (borrowed) */
	size_t nbounds;
	char *fn, *arg;           /* SHUFFLE: map-side combine (NULL: none); REDUCE */
	char *partitioner, *parg; /* SHUFFLE: a registered partitioner (NULL: hash or bounds) */
	uint64_t take;            /* TAKE */
	char *dir;                /* SAVE */
} spk_out_spec;

typedef struct spk_task_desc {
	uint64_t task_id;
	int stage, partition, attempt;
	spk_out_spec out;
	spk_node *root;
} spk_task_desc;

/* Decodes a task; its borrowed bytes point into data, which must outlive it. NULL on
 * malformed input (err says what). Free with spk_task_desc_free. */
spk_task_desc *spk_task_desc_decode(const void *data, size_t len, char *err, size_t errlen);
void spk_task_desc_free(spk_task_desc *t);

enum spk_task_result { SPK_TASK_OK = 0, SPK_TASK_FAILED, SPK_TASK_FETCH_FAILED };

typedef struct spk_task_status {
	uint64_t task_id;
	enum spk_task_result result;
	const char *message;      /* failure */
	int fetch_sid, fetch_map; /* FETCH_FAILED: the map output that could not be read */
	const char *fetch_pid;    /* FETCH_FAILED: from which executor (NULL: unknown) */
	spk_bytes value;          /* the action's partial result */
	uint64_t *sizes;          /* SHUFFLE: bytes per reduce partition */
	size_t nsizes;
	int *cached; /* rdd ids whose partition this task put in memory */
	size_t ncached;
	uint64_t records; /* rows the task produced */
} spk_task_status;

int spk_task_status_encode(const spk_task_status *s, spk_buf *out);
/* Decodes into s (arrays malloc'ed, bytes borrowed from data). false on bad input. */
bool spk_task_status_decode(const void *data, size_t len, spk_task_status *s);
void spk_task_status_fini(spk_task_status *s);

#endif
