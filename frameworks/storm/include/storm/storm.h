/* storm.h — the speed layer's user API: topologies of spouts and bolts, as Apache Storm.
 *
 * A topology program builds its topology in one function and hands it to stm_main:
 *
 *     static void build(stm_topology *t, void *arg)
 *     {
 *             stm_component *s = stm_spout(t, "sentences", &sentence_spout, NULL, 1);
 *             stm_declare(s, STM_DEFAULT_STREAM, 2, "id", "sentence");
 *             stm_component *b = stm_bolt(t, "split", &split_bolt, NULL, 2);
 *             stm_declare(b, STM_DEFAULT_STREAM, 2, "id", "word");
 *             stm_shuffle(b, "sentences", STM_DEFAULT_STREAM);
 *             ...
 *     }
 *     int main(int argc, char **argv) { return stm_main(argc, argv, build, NULL); }
 *
 * The same binary is the nimbus (the scheduler, what `plexus storm submit` starts)
 * and every worker (the fetcher copies it into each worker's sandbox and runs it with
 * --stm-worker): build runs in each, with the same configuration, so every process
 * sees the same topology and component code is found without shipping functions.
 *
 * Callbacks of one component task (open/next_tuple/ack/fail/close, or
 * prepare/execute/cleanup) run one at a time, never concurrently; different tasks may
 * run on different threads. Pointers they receive are borrowed until they return. */
#ifndef STORM_STORM_H
#define STORM_STORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STM_DEFAULT_STREAM "default"
#define STM_MAX_FIELDS     16 /* values in one tuple */
#define STM_MAX_ANCHORS    8  /* distinct spout tuples one tuple descends from */

/* ---- values and tuples ---------------------------------------------------------- */

enum stm_type { STM_NULL, STM_INT, STM_DOUBLE, STM_STRING, STM_BYTES };

/* A typed value. Strings and bytes point at memory that is borrowed: when emitting,
 * until the emit call returns (it copies); when received, until execute returns. */
typedef struct stm_value {
	enum stm_type type;
	union {
		int64_t i;
		double d;
		struct {
			const char *ptr; /* a string is not NUL-terminated: use len */
			uint32_t len;
		} s;
	} u;
} stm_value;

/* Value constructors. stm_str takes a NUL-terminated string. */
stm_value stm_int(int64_t v);
stm_value stm_double(double v);
stm_value stm_str(const char *s);
stm_value stm_strn(const char *s, size_t len);
stm_value stm_bytes(const void *p, size_t len);

typedef struct stm_tuple stm_tuple; /* a received tuple; opaque */

/* The number of values, and value i (a STM_NULL value when i is out of range). */
size_t stm_tuple_size(const stm_tuple *t);
stm_value stm_tuple_value(const stm_tuple *t, size_t i);
/* Value by declared field name (a STM_NULL value when the stream has no such field). */
stm_value stm_tuple_field(const stm_tuple *t, const char *field);
/* Shorthands: 0 / 0.0 / "" (len 0) when the value has another type. */
int64_t stm_tuple_int(const stm_tuple *t, size_t i);
double stm_tuple_double(const stm_tuple *t, size_t i);
const char *stm_tuple_string(const stm_tuple *t, size_t i, size_t *len);
/* Where it came from: component name, stream name (borrowed like t), task id. */
const char *stm_tuple_component(const stm_tuple *t);
const char *stm_tuple_stream(const stm_tuple *t);
int stm_tuple_source_task(const stm_tuple *t);
/* Whether t is a tick tuple (stm_tick_every): no values, stream "__tick". */
bool stm_tuple_is_tick(const stm_tuple *t);

/* A heap copy of t that the bolt keeps past execute (windows, batching). The copy
 * carries t's ack duty: the executor no longer acks t by itself, the bolt must
 * stm_ack or stm_fail the copy later, then stm_tuple_free it. NULL on out of memory
 * (then t is acked as usual). */
stm_tuple *stm_tuple_keep(const stm_tuple *t);
/* Frees a kept copy. NULL is a no-op. */
void stm_tuple_free(stm_tuple *t);

/* ---- component code ------------------------------------------------------------- */

typedef struct stm_ctx stm_ctx; /* the running task, handed to every callback */

/* Task facts: this task's id (global over the topology), its index among its
 * component's tasks and their number, the component's name, a configuration value
 * (what the topology set or `submit --conf` gave; def when absent). */
int stm_ctx_task(const stm_ctx *c);
int stm_ctx_task_index(const stm_ctx *c);
int stm_ctx_parallelism(const stm_ctx *c);
const char *stm_ctx_component(const stm_ctx *c);
const char *stm_ctx_conf(const stm_ctx *c, const char *key, const char *def);
int64_t stm_ctx_conf_int(const stm_ctx *c, const char *key, int64_t def);

/* A spout: the source of a stream. next_tuple emits zero or more tuples and returns;
 * it is called again and again while fewer than max_spout_pending tuples are in
 * flight. A tuple emitted with a message id is tracked: ack(msg_id) once its whole
 * tree was processed, fail(msg_id) when it failed or timed out (replay it then). */
typedef struct stm_spout_def {
	void *(*open)(stm_ctx *c, void *arg); /* returns the task's state */
	void (*next_tuple)(stm_ctx *c, void *state);
	void (*ack)(stm_ctx *c, void *state, uint64_t msg_id);
	void (*fail)(stm_ctx *c, void *state, uint64_t msg_id);
	void (*close)(stm_ctx *c, void *state);
} stm_spout_def;

/* A bolt. execute gets each input tuple; a tuple neither acked, failed nor kept when
 * execute returns is acked then (as Storm's BasicBolt). */
typedef struct stm_bolt_def {
	void *(*prepare)(stm_ctx *c, void *arg);
	void (*execute)(stm_ctx *c, void *state, const stm_tuple *t);
	void (*cleanup)(stm_ctx *c, void *state);
} stm_bolt_def;

/* Spout emit on stream (NULL: default). With has_msg_id the tuple is tracked by the
 * ackers (when acking is on). Returns the number of tasks it was sent to. */
int stm_spout_emit(stm_ctx *c, const char *stream, const stm_value *values, size_t n,
                   bool has_msg_id, uint64_t msg_id);
/* Bolt emit anchored to the nanchors input tuples (0: unanchored, not tracked). */
int stm_emit(stm_ctx *c, const char *stream, const stm_tuple *const *anchors, size_t nanchors,
             const stm_value *values, size_t n);
/* Emit to one task of a subscriber that declared a direct grouping on this stream.
 * Returns 1 when sent, 0 when task is not such a subscriber. */
int stm_emit_direct(stm_ctx *c, int task, const char *stream, const stm_tuple *const *anchors,
                    size_t nanchors, const stm_value *values, size_t n);
/* Spout direct emit. */
int stm_spout_emit_direct(stm_ctx *c, int task, const char *stream, const stm_value *values,
                          size_t n, bool has_msg_id, uint64_t msg_id);
/* The ids of the tasks of a component (up to max; returns how many it has). */
size_t stm_ctx_component_tasks(const stm_ctx *c, const char *component, int *out, size_t max);
/* Acks or fails an input tuple (or a kept copy). Once per tuple; later calls do
 * nothing. */
void stm_ack(stm_ctx *c, const stm_tuple *t);
void stm_fail(stm_ctx *c, const stm_tuple *t);

/* ---- the topology builder ------------------------------------------------------- */

typedef struct stm_topology stm_topology;
typedef struct stm_component stm_component;

/* Adds a spout or bolt named name (unique; letters, digits, '-', '_') with
 * parallelism tasks (>= 1). def and arg must outlive the topology (usually static).
 * NULL on a bad name, duplicate or bad parallelism: stm_topology_error says why. */
stm_component *stm_spout(stm_topology *t, const char *name, const stm_spout_def *def, void *arg,
                         int parallelism);
stm_component *stm_bolt(stm_topology *t, const char *name, const stm_bolt_def *def, void *arg,
                        int parallelism);

/* Declares a stream of comp with nfields field names (varargs of const char *).
 * Returns 0, or -1 (too many fields, duplicate stream). */
int stm_declare(stm_component *comp, const char *stream, int nfields, ...);

/* Subscriptions of a bolt to a stream (NULL: default) of component source. */
int stm_shuffle(stm_component *bolt, const char *source, const char *stream);
int stm_local_or_shuffle(stm_component *bolt, const char *source, const char *stream);
int stm_all(stm_component *bolt, const char *source, const char *stream);
int stm_global(stm_component *bolt, const char *source, const char *stream);
int stm_direct(stm_component *bolt, const char *source, const char *stream);
/* Fields grouping on nfields of the stream's fields (varargs of const char *): equal
 * values always reach the same task. */
int stm_fields(stm_component *bolt, const char *source, const char *stream, int nfields, ...);

/* A tick tuple every ms milliseconds to each task of the bolt. */
void stm_tick_every(stm_component *bolt, int64_t ms);

/* Topology settings; `plexus storm submit --conf` overrides them by Storm's names:
 * topology.workers, topology.acker.executors, topology.max.spout.pending,
 * topology.message.timeout.secs (or topology.message.timeout.ms), topology.acking. */
void stm_set_workers(stm_topology *t, int n);
void stm_set_ackers(stm_topology *t, int n);                  /* default: one per worker */
void stm_set_max_spout_pending(stm_topology *t, int n);       /* per spout task; default 1000 */
void stm_set_message_timeout_ms(stm_topology *t, int64_t ms); /* default 30000 */
void stm_set_acking(stm_topology *t, bool on);                /* default on */
/* A configuration value given at submission (or def); build may read it. */
const char *stm_conf(const stm_topology *t, const char *key, const char *def);
int64_t stm_conf_int(const stm_topology *t, const char *key, int64_t def);
/* Sets a configuration value every task sees (copied). */
void stm_set_conf(stm_topology *t, const char *key, const char *value);
/* The first error of the builder, or NULL. A topology with an error is not run. */
const char *stm_topology_error(const stm_topology *t);

/* ---- windows -------------------------------------------------------------------- */

/* A windowed bolt (Storm's BaseWindowedBolt): tuples are collected into windows, and
 * on_window runs once per window with its tuples (oldest first); the tuples are acked
 * when they leave the last window that holds them. Lengths and slides are counts of
 * tuples or milliseconds (not both): a tumbling window has slide == length. */
typedef struct stm_window_def {
	void *(*prepare)(stm_ctx *c, void *arg);
	void (*on_window)(stm_ctx *c, void *state, const stm_tuple *const *tuples, size_t n);
	void (*cleanup)(stm_ctx *c, void *state);
	int64_t length_count, slide_count;
	int64_t length_ms, slide_ms;
} stm_window_def;

/* Adds a windowed bolt (subscribe it like any bolt). def must outlive the topology. */
stm_component *stm_window_bolt(stm_topology *t, const char *name, const stm_window_def *def,
                               void *arg, int parallelism);

/* ---- the program ---------------------------------------------------------------- */

typedef void (*stm_build_fn)(stm_topology *t, void *arg);

/* The topology program's main. Modes (argv):
 *   --stm-worker                  a worker (what the agent runs, fetched by the fetcher)
 *   --stm-nimbus --master=M --name=N [--state-dir=D] [--conf=K=V ...]
 *                                 the topology's scheduler (`plexus storm submit` runs it)
 *   --stm-describe [--conf=K=V]   prints the topology as JSON
 * Returns the process's exit status. */
int stm_main(int argc, char **argv, stm_build_fn build, void *arg);

#ifdef __cplusplus
}
#endif

#endif
