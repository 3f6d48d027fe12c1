/* spark.h — the batch layer of Plexus: datasets split into partitions, transformations
 * that build a lineage, actions that run a job of stages, shuffles between stages, and
 * recovery of lost work by recomputing from lineage (the model of Apache Spark).
 *
 * The program is its own executor. A job's binary is the driver when a user runs it;
 * the framework launches the same binary on the agents (fetched into the sandbox with
 * px_command_add_self) with arguments that select executor mode. C functions cannot be
 * shipped, so user functions are registered by name at start-up, before spk_main, and
 * transformations name them:
 *
 *     static int split(const spk_row *in, const char *arg, spk_emitter *out) { ... }
 *     int main(int argc, char **argv)
 *     {
 *             spk_register_map("split", split);
 *             spk_main(argc, argv);              // executor mode never returns
 *             spk_conf conf;
 *             spk_conf_default(&conf);
 *             spk_conf_from_args(&conf, argc, argv);
 *             spk_context *sc = spk_context_start(&conf, err, sizeof(err));
 *             spk_rdd *words = spk_flat_map(spk_text_file(sc, path, 4), "split", NULL);
 *             ...
 *     }
 *
 * Records. Every record is a row: a value, and for pair datasets (key_by, reduce_by_key
 * ...) a key too. Bytes are not NUL-terminated unless said so. A range's records are the
 * decimal text of the numbers; a text file's records are its lines without "\n".
 *
 * Threads. A context is used from one thread at a time; an action blocks that thread
 * until its job ends. Registered functions run on executors' task threads, many at
 * once: they must not keep state between calls other than through their arguments. */
#ifndef SPARK_SPARK_H
#define SPARK_SPARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- records ---------------------------------------------------------------------- */

typedef struct spk_bytes {
	const char *data;
	size_t len;
} spk_bytes;

typedef struct spk_row {
	spk_bytes key; /* meaningful when keyed */
	spk_bytes value;
	bool keyed;
} spk_row;

/* A growable byte buffer (a reduce function's output). Zero-initialised is empty. */
typedef struct spk_buf {
	char *data;
	size_t len, cap;
} spk_buf;

/* Appends len bytes; 0 or -1 on out of memory. */
int spk_buf_append(spk_buf *b, const void *data, size_t len);
/* Appends formatted text (without its NUL). 0 or -1. */
int spk_buf_printf(spk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the bytes; the buffer is empty again. */
void spk_buf_fini(spk_buf *b);

/* The values of a grouped row (group_by_key) and the two sides of a joined row (join)
 * are lists of byte strings. Reads the next element at *pos of list into *out; false
 * at the end (or on a malformed list). Start with *pos = 0. */
bool spk_list_next(spk_bytes list, size_t *pos, spk_bytes *out);

/* ---- user functions, registered by name ----------------------------------------------- */

/* Where a function emits its output rows. Emitted bytes are copied. */
typedef struct spk_emitter spk_emitter;
void spk_emit(spk_emitter *e, const spk_row *row);
void spk_emit_value(spk_emitter *e, const void *data, size_t len);
void spk_emit_pair(spk_emitter *e, const void *key, size_t klen, const void *value, size_t vlen);

/* Fails the current task with a message (printf-style); returns -1 so that a function
 * can end with `return spk_fail(...)`. The job reports the last failure of the task. */
int spk_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* map, flat_map and key_by: emit rows for one input row (map: one, flat_map: any,
 * key_by: one row whose value is the key). arg is the text given with the
 * transformation (NULL when none). 0, or -1 to fail the task (see spk_fail). */
typedef int (*spk_map_fn)(const spk_row *in, const char *arg, spk_emitter *out);
/* filter: sets *keep. 0 or -1. */
typedef int (*spk_filter_fn)(const spk_row *in, const char *arg, bool *keep);
/* reduce, reduce_by_key (and its map-side combine): out = a op b, for an associative,
 * commutative op. out is empty on entry. 0 or -1. */
typedef int (*spk_reduce_fn)(spk_bytes a, spk_bytes b, const char *arg, spk_buf *out);
/* map_partitions: reads the partition's rows with spk_iter_next and emits any rows. */
typedef struct spk_iter spk_iter;
bool spk_iter_next(spk_iter *it, spk_row *row);
typedef int (*spk_partition_fn)(spk_iter *in, const char *arg, spk_emitter *out);

/* A partitioner (MapReduce): the reduce partition, in [0, nparts), of a key. */
typedef int (*spk_partitioner_fn)(spk_bytes key, int nparts, const char *arg);

/* Registers a function under a name (copied; names are unique across kinds). Call
 * before spk_main, in the same order whatever the arguments, so that the driver and
 * its executors see the same table. 0, or -1 when the name is taken or too long. */
int spk_register_map(const char *name, spk_map_fn fn);
int spk_register_filter(const char *name, spk_filter_fn fn);
int spk_register_reduce(const char *name, spk_reduce_fn fn);
int spk_register_partitions(const char *name, spk_partition_fn fn);
int spk_register_partitioner(const char *name, spk_partitioner_fn fn);

/* Built in: the reduce function "sum" adds decimal integers ("3" + "4" = "7"). */

/* In executor mode (the arguments the framework starts executors with) runs the
 * executor and exits the process; otherwise returns at once. Call it first in main,
 * after the registrations. */
void spk_main(int argc, char **argv);

/* ---- the context ------------------------------------------------------------------- */

typedef struct spk_conf {
	const char *master;       /* "HOST:PORT" of the master; required */
	const char *app_name;     /* the framework's name; default "spark" */
	const char *role;         /* default "*" */
	int max_cores;            /* cores over all executors; default 0 = no limit */
	int executor_cores;       /* cores of one executor (tasks at once); default 2 */
	int executor_mem_mb;      /* default 512 */
	int64_t idle_timeout_ms;  /* an executor idle this long is released; default 60000 */
	int task_max_failures;    /* attempts of a task before its job fails; default 4 */
	int64_t decline_seconds;  /* filter on declined offers; default 120 */
	int64_t locality_wait_ms; /* delay scheduling: a task waits this long for the executor
	                             holding its persisted partition; default 3000 */
	bool progress;            /* print a progress line on stderr; default false */
	int http_port;            /* the driver's HTTP port (jobs as JSON); 0 = any, -1 none */
} spk_conf;

void spk_conf_default(spk_conf *conf);
/* Reads --master=, --name=, --role=, --max-cores=, --executor-cores=,
 * --executor-memory= (MB), --idle-timeout= (a duration), --progress and
 * --http-port= from argv, and removes them (*argc shrinks). Strings point into argv.
 * 0, or -1 with a message on stderr for a bad value. */
int spk_conf_from_args(spk_conf *conf, int *argc, char **argv);

typedef struct spk_context spk_context;

/* Starts the libactor runtime (if not running), registers the framework with the
 * master and returns at once: executors are launched when the first job needs them.
 * NULL with err on a bad conf or when the runtime cannot start. */
spk_context *spk_context_start(const spk_conf *conf, char *err, size_t errlen);
/* Ends the framework (its executors stop), frees every dataset of the context and the
 * context. NULL is a no-op. */
void spk_context_stop(spk_context *sc);
/* The last job's error ("stage 2 (reduce_by_key) failed: task 3 failed 4 times, last
 * failure: ...") or "" . Borrowed until the next action. */
const char *spk_context_error(spk_context *sc);
/* The driver's HTTP port (GET /spark/jobs, /spark/stages, /spark/tasks); 0 if none. */
int spk_context_http_port(spk_context *sc);
/* The number of executors registered now. */
int spk_context_executors(spk_context *sc);

/* Attempts of tasks launched so far for the partitions of the stage that writes
 * shuffle `shuffle_id` (the id of a shuffled dataset's dependency: see spk_shuffle_id);
 * counts[p] for partition p, up to n. Returns the number of partitions, or -1. */
int spk_context_shuffle_attempts(spk_context *sc, int shuffle_id, int *counts, int n);

/* The executor (its Mesos task id, into out) that holds map output `map` of shuffle
 * shuffle_id. 0, or -1 when that output is missing. */
int spk_context_map_location(spk_context *sc, int shuffle_id, int map, char *out, size_t len);
/* Tasks of the current job running on executors now. */
int spk_context_tasks_running(spk_context *sc);

/* ---- datasets ---------------------------------------------------------------------- */

typedef struct spk_rdd spk_rdd; /* owned by its context */

/* Numbers start, start+step, ... below end (step > 0), in nslices partitions. */
spk_rdd *spk_range(spk_context *sc, int64_t start, int64_t end, int64_t step, int nslices);
/* n values (copied), NUL-terminated strings, in nslices partitions. */
spk_rdd *spk_parallelize(spk_context *sc, const char *const *values, size_t n, int nslices);
/* Lines of a file, or of the files of a directory (sorted by name), split by byte
 * ranges into at least min_splits partitions. A line across a split boundary belongs
 * to the split it starts in (Hadoop's LineRecordReader). NULL when it cannot be read. */
spk_rdd *spk_text_file(spk_context *sc, const char *path, int min_splits);

/* Narrow transformations (fn names a registered function, arg is copied, may be NULL). */
spk_rdd *spk_map(spk_rdd *r, const char *fn, const char *arg);
spk_rdd *spk_flat_map(spk_rdd *r, const char *fn, const char *arg);
spk_rdd *spk_filter(spk_rdd *r, const char *fn, const char *arg);
spk_rdd *spk_map_partitions(spk_rdd *r, const char *fn, const char *arg);
spk_rdd *spk_key_by(spk_rdd *r, const char *fn, const char *arg);
spk_rdd *spk_union(spk_rdd *a, spk_rdd *b);
/* Fewer partitions without a shuffle (groups of neighbours). */
spk_rdd *spk_coalesce(spk_rdd *r, int nparts);

/* Wide transformations (a shuffle; nparts 0 = the parent's partitions). */
spk_rdd *spk_reduce_by_key(spk_rdd *r, const char *fn, const char *arg, int nparts);
/* Rows (key, list of values): read the values with spk_list_next. */
spk_rdd *spk_group_by_key(spk_rdd *r, int nparts);
/* Rows (key, list of two: left value, right value) for each pair with equal keys. */
spk_rdd *spk_join(spk_rdd *a, spk_rdd *b, int nparts);
/* Sorted by key (bytewise), range partitioned from a sample (runs a sampling job). */
spk_rdd *spk_sort_by_key(spk_rdd *r, int nparts);
/* One row per distinct value (of unkeyed rows) or per distinct (key, value). */
spk_rdd *spk_distinct(spk_rdd *r, int nparts);
spk_rdd *spk_repartition(spk_rdd *r, int nparts);
/* Hash partitioned by key, each partition sorted by key (no sampling job). */
spk_rdd *spk_repartition_and_sort(spk_rdd *r, int nparts);

/* Keeps computed partitions in executors' memory for later jobs. Returns r. */
spk_rdd *spk_persist(spk_rdd *r);
int spk_num_partitions(const spk_rdd *r);
/* The shuffle a wide transformation reads (-1 for a narrow one). */
int spk_shuffle_id(const spk_rdd *r);

/* ---- actions: run a job; 0, or -1 with spk_context_error ---------------------------- */

typedef struct spk_rows {
	size_t n;
	spk_row *rows; /* bytes NUL-terminated for convenience */
} spk_rows;
void spk_rows_free(spk_rows *rows);

int spk_count(spk_rdd *r, uint64_t *out);
/* All rows in partition order; *out freed with spk_rows_free. */
int spk_collect(spk_rdd *r, spk_rows **out);
/* The first n rows (scanning partitions in order, as few as needed). */
int spk_take(spk_rdd *r, size_t n, spk_rows **out);
/* Reduces values with a registered reduce function; *out (malloc'ed, NUL-terminated)
 * and *outlen. -1 on an empty dataset too. */
int spk_reduce(spk_rdd *r, const char *fn, const char *arg, char **out, size_t *outlen);
/* Writes dir/part-00000 ... one per partition, a line per row ("key\tvalue" for keyed
 * rows), and dir/_SUCCESS. dir is created. */
int spk_save_as_text_files(spk_rdd *r, const char *dir);

/* ---- micro-batch streaming (Spark Streaming's model) ------------------------------------
 *
 * A stream is a dataset per batch. Every batch interval the sources make that batch's
 * dataset (the files new in a directory, the lines a socket sent), the transformations
 * derive theirs from it, and the outputs run a job on theirs. A batch is recomputed
 * from its lineage like any dataset, so a lost executor loses no batch. */

typedef struct spk_streaming spk_streaming;
typedef struct spk_stream spk_stream;

/* update_state_by_key: the new state of key from the batch's values (a list:
 * spk_list_next; empty when the key had none this batch) and the old state (NULL for
 * a new key). Write the state to out and set *keep, or set *keep false to drop the key.
 * 0 or -1. */
typedef int (*spk_update_fn)(spk_bytes key, spk_bytes values, const spk_bytes *state,
                             const char *arg, spk_buf *out, bool *keep);
int spk_register_update(const char *name, spk_update_fn fn);

/* Per-batch output: the batch's number (from 0), its time (ms since the streaming
 * context started) and its rows. rows is freed after the call. */
typedef void (*spk_stream_output_fn)(int64_t batch, int64_t time_ms, const spk_rows *rows,
                                     void *arg);

/* A streaming context on sc, one batch every batch_ms. NULL on bad input. */
spk_streaming *spk_streaming_alloc(spk_context *sc, int64_t batch_ms);
/* Frees the streaming context (not sc; its datasets live as long as sc). */
void spk_streaming_free(spk_streaming *ss);

/* Sources: the lines of files that appear in dir (names not starting with '.' or '_'),
 * each file in the first batch that sees it; the lines received from a TCP server at
 * host:port (a receiver thread in the driver holds them until their batch). */
spk_stream *spk_stream_text_files(spk_streaming *ss, const char *dir);
spk_stream *spk_stream_socket(spk_streaming *ss, const char *host, int port);

spk_stream *spk_stream_map(spk_stream *s, const char *fn, const char *arg);
spk_stream *spk_stream_flat_map(spk_stream *s, const char *fn, const char *arg);
spk_stream *spk_stream_filter(spk_stream *s, const char *fn, const char *arg);
spk_stream *spk_stream_key_by(spk_stream *s, const char *fn, const char *arg);
spk_stream *spk_stream_reduce_by_key(spk_stream *s, const char *fn, const char *arg, int nparts);
/* Over the last window_batches batches, every slide_batches batches (other batches
 * give an empty result). */
spk_stream *spk_stream_reduce_by_key_and_window(spk_stream *s, const char *fn, const char *arg,
                                                int window_batches, int slide_batches, int nparts);
/* Keyed state across batches (fn registered with spk_register_update). */
spk_stream *spk_stream_update_state_by_key(spk_stream *s, const char *fn, const char *arg,
                                           int nparts);
/* Calls fn with every batch's rows of s (collected). 0 or -1. */
int spk_stream_foreach(spk_stream *s, spk_stream_output_fn fn, void *arg);

/* Runs one batch now (what a test drives, as Spark's manual clock). 0, or -1 when a
 * job of the batch failed (spk_context_error). */
int spk_streaming_run_batch(spk_streaming *ss);
/* Runs n batches, one every batch_ms (n <= 0: until spk_streaming_stop). */
int spk_streaming_run(spk_streaming *ss, int64_t n);
/* Makes spk_streaming_run return after its current batch (any thread). */
void spk_streaming_stop(spk_streaming *ss);

/* ---- MapReduce on the same engine (Hadoop's model) ------------------------------------ */

typedef struct spk_mapreduce {
	const char *input;       /* a file or a directory of files, split by byte ranges */
	const char *output;      /* a directory: part-00000 ... one per reducer, and _SUCCESS */
	const char *mapper;      /* a map function: a line -> (key, value) pairs */
	const char *combiner;    /* a reduce function run on map outputs, or NULL */
	const char *reducer;     /* a map function over (key, list of values: spk_list_next),
	                            called once per key in key order; NULL: the identity */
	const char *partitioner; /* a partitioner, or NULL for the hash of the key */
	const char *arg;         /* given to each of them */
	int reducers;            /* reduce tasks (output files); default 1 */
	int min_splits;          /* input splits at least; default 2 */
} spk_mapreduce;

/* Runs the job to its end. 0, or -1 with spk_context_error. */
int spk_mapreduce_run(spk_context *sc, const spk_mapreduce *job);

#ifdef __cplusplus
}
#endif

#endif
