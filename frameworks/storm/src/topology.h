/* topology.h — the topology as built by the user's build function: components,
 * streams, subscriptions, settings, and the numbering of tasks.
 *
 * Every process of a topology (the nimbus and each worker) builds it from the same
 * program and the same configuration, so task ids, stream ids and groupings agree
 * everywhere without being sent. */
#ifndef STM_TOPOLOGY_H
#define STM_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "storm/storm.h"

#define STM_NAME_MAX       64
#define STM_MAX_STREAMS    8
#define STM_MAX_COMPONENTS 64
#define STM_MAX_SUBS       128
#define STM_ACKER_NAME     "__acker"
#define STM_TICK_STREAM    "__tick"

enum stm_kind { STM_KIND_SPOUT, STM_KIND_BOLT, STM_KIND_WINDOW, STM_KIND_ACKER };

enum stm_grouping {
	STM_GROUP_SHUFFLE,
	STM_GROUP_LOCAL_OR_SHUFFLE,
	STM_GROUP_FIELDS,
	STM_GROUP_ALL,
	STM_GROUP_GLOBAL,
	STM_GROUP_DIRECT,
};

/* A subscription of a bolt (target) to one stream of a source component. */
struct stm_sub {
	char source_name[STM_NAME_MAX];
	char stream_name[STM_NAME_MAX];
	char key_names[STM_MAX_FIELDS][STM_NAME_MAX];
	int source, stream, target; /* resolved by stm_topology_finalize */
	enum stm_grouping grouping;
	int nkeys;
	int keys[STM_MAX_FIELDS]; /* field indexes of the fields grouping */
};

struct stm_stream {
	char name[STM_NAME_MAX];
	int nfields;
	char fields[STM_MAX_FIELDS][STM_NAME_MAX];
	int nsubs;
	int subs[STM_MAX_SUBS]; /* indexes into topology->subs */
};

struct stm_component {
	struct stm_topology *topo;
	int index;
	char name[STM_NAME_MAX];
	enum stm_kind kind;
	const void *def; /* stm_spout_def, stm_bolt_def or stm_window_def */
	void *arg;
	int parallelism;
	int first_task; /* tasks first_task .. first_task + parallelism - 1 */
	int nstreams;
	struct stm_stream streams[STM_MAX_STREAMS];
	int64_t tick_ms;
};

struct stm_conf_entry {
	char *key, *value;
};

struct stm_topology {
	int ncomponents;
	struct stm_component comps[STM_MAX_COMPONENTS];
	int nsubs;
	struct stm_sub subs[STM_MAX_SUBS];
	struct stm_conf_entry *conf;
	int nconf;
	int workers, ackers, max_spout_pending;
	int64_t message_timeout_ms;
	bool acking;
	int acker; /* the acker component's index, -1 when acking is off */
	int ntasks;
	int *task_component; /* ntasks entries */
	char error[256];
	bool finalized;
};

/* A topology with the given configuration (n key/value pairs, copied), empty
 * otherwise. NULL on out of memory. */
struct stm_topology *stm_topology_alloc(const char *const *keys, const char *const *values, int n);
/* NULL is a no-op. */
void stm_topology_free(struct stm_topology *t);

/* Builds t with build, then resolves subscriptions, applies the topology.* overrides
 * of the configuration, adds the ackers and numbers the tasks. 0, or -1 with
 * stm_topology_error(t) saying what is wrong. */
int stm_topology_build(struct stm_topology *t, stm_build_fn build, void *arg);

/* The component of a task (NULL when out of range). */
const struct stm_component *stm_topology_task_component(const struct stm_topology *t, int task);
/* A component by name, or NULL. */
const struct stm_component *stm_topology_component(const struct stm_topology *t, const char *name);
/* A stream of comp by name (NULL: default), -1 when it has none. */
int stm_component_stream(const struct stm_component *c, const char *name);

/* The acker task that keeps the ledger of root. */
int stm_topology_acker_task(const struct stm_topology *t, uint64_t root);

/* The worker (0 .. nworkers-1) that runs task: tasks are dealt round-robin, as
 * Storm's even scheduler. */
static inline int stm_task_worker(int task, int nworkers)
{
	return nworkers > 0 ? task % nworkers : 0;
}

#endif
