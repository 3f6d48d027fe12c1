/* worker.c — see worker.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <actor/actor.h>
#include <actor/log.h>
#include <actor/runtime.h>
#include <plexus/executor.h>
#include <plexus/message.h>

#include "control.h"
#include "executor.h"
#include "metrics.h"
#include "routing.h"
#include "topology.h"
#include "worker.h"

struct worker {
	px_executor_driver *driver;
	stm_build_fn build;
	void *build_arg;
	struct stm_topology *topo;
	char task_id[128];
	char topology[64];
	int index;
	bool launched;
	actor_pid pid;               /* the worker actor */
	struct stm_metrics *metrics; /* per task, for the life of the process */
	actor_pid *execs;            /* per task; none when not run here */
	struct stm_routing *rt;
	uint64_t epoch;
	char address[64];
};

static const char *kind_name(enum stm_kind k)
{
	switch (k) {
	case STM_KIND_SPOUT:
		return "spout";
	case STM_KIND_BOLT:
		return "bolt";
	case STM_KIND_WINDOW:
		return "window";
	default:
		return "acker";
	}
}

static void send_heartbeat(struct worker *w)
{
	json_t *tasks = json_array();
	for (int t = 0; t < w->topo->ntasks; t++) {
		if (actor_pid_is_none(w->execs[t]))
			continue;
		const struct stm_component *c = stm_topology_task_component(w->topo, t);
		json_t *o = json_pack("{sissss}", "task", t, "component", c->name, "kind",
		                      kind_name(c->kind));
		stm_metrics_to_json(&w->metrics[t], o);
		json_array_append_new(tasks, o);
	}
	json_t *hb = json_pack("{sssssisIsssIso}", "type", "heartbeat", "task_id", w->task_id,
	                       "worker", w->index, "epoch", (json_int_t)w->epoch, "address",
	                       w->address, "pid", (json_int_t)getpid(), "tasks", tasks);
	char *text = json_dumps(hb, JSON_COMPACT);
	json_decref(hb);
	if (text != NULL)
		px_executor_driver_send_message(w->driver, (const uint8_t *)text, strlen(text));
	free(text);
}

static void heartbeat_cb(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	send_heartbeat(arg);
	actor_delay(self, STM_HEARTBEAT_MS, heartbeat_cb, arg);
}

/* Applies an assignment: the routing table, then the executors this worker runs. */
static void apply_assignment(struct worker *w, json_t *msg)
{
	json_int_t epoch = json_integer_value(json_object_get(msg, "epoch"));
	json_int_t nworkers = json_integer_value(json_object_get(msg, "nworkers"));
	json_t *addrs = json_object_get(msg, "workers");
	if (nworkers < 1 || nworkers > STM_MAX_WORKERS || !json_is_array(addrs) ||
	    json_array_size(addrs) != (size_t)nworkers || epoch < 0) {
		actor_warn("storm worker %d: ignoring a malformed assignment", w->index);
		return;
	}
	if ((uint64_t)epoch <= w->epoch && w->rt != NULL)
		return; /* stale or repeated */
	const char *list[STM_MAX_WORKERS];
	for (json_int_t i = 0; i < nworkers; i++) {
		const char *a = json_string_value(json_array_get(addrs, (size_t)i));
		list[i] = a != NULL ? a : "";
	}
	bool active = json_is_true(json_object_get(msg, "active"));
	struct stm_routing *rt =
	    stm_routing_alloc(w->topo, (uint64_t)epoch, (int)nworkers, list, w->index, active);
	if (rt == NULL)
		return;
	stm_routing_unref(w->rt);
	w->rt = rt;
	w->epoch = (uint64_t)epoch;
	int started = 0, stopped = 0;
	for (int t = 0; t < w->topo->ntasks; t++) {
		bool mine = w->index < nworkers && stm_routing_local(rt, t);
		bool running = !actor_pid_is_none(w->execs[t]);
		if (running && !mine) {
			actor_terminate(w->execs[t]);
			w->execs[t] = actor_pid_none;
			stopped++;
		} else if (running) {
			stm_executor_set_routing(w->execs[t], rt);
		} else if (mine) {
			if (stm_executor_spawn(w->topo, t, rt, &w->metrics[t], &w->execs[t]) != 0) {
				actor_error("storm worker %d: cannot start task %d", w->index, t);
				w->execs[t] = actor_pid_none;
			} else {
				started++;
			}
		}
	}
	actor_info("storm worker %d: assignment epoch %lld over %lld workers: %d tasks started, "
	           "%d stopped",
	           w->index, (long long)epoch, (long long)nworkers, started, stopped);
	send_heartbeat(w);
}

struct message {
	struct worker *w;
	size_t len;
	char text[];
};

static void message_cb(actor_t *self, void *arg)
{
	struct message *m = arg;
	if (self != NULL) {
		json_error_t err;
		json_t *msg = json_loadb(m->text, m->len, 0, &err);
		const char *type = json_string_value(json_object_get(msg, "type"));
		if (type != NULL && strcmp(type, "assign") == 0)
			apply_assignment(m->w, msg);
		else
			actor_warn("storm worker: ignoring a framework message that is not an "
			           "assignment");
		json_decref(msg);
	}
	free(m);
}

static int worker_actor_init(actor_t *self)
{
	struct worker *w = actor_state(self);
	send_heartbeat(w);
	actor_delay(self, STM_HEARTBEAT_MS, heartbeat_cb, w);
	return 0;
}

static const actor_def worker_def = {.name = "stm-worker", .init = worker_actor_init};

static void send_state(struct worker *w, const Plexus__TaskID *id, Plexus__TaskState state,
                       const char *message)
{
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = (Plexus__TaskID *)id;
	st.state = state;
	st.message = (char *)message;
	px_executor_driver_send_status_update(w->driver, &st);
}

/* Reads the task's data and builds the topology. */
static int setup(struct worker *w, const Plexus__TaskInfo *task, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *data = task->has_data
	                   ? json_loadb((const char *)task->data.data, task->data.len, 0, &jerr)
	                   : NULL;
	json_t *conf = json_object_get(data, "conf");
	const char *topology = json_string_value(json_object_get(data, "topology"));
	json_int_t index = json_integer_value(json_object_get(data, "worker"));
	if (topology == NULL || !json_is_object(conf) || index < 0 || index >= STM_MAX_WORKERS) {
		snprintf(err, errlen, "the task's data is not a storm worker's");
		json_decref(data);
		return -1;
	}
	const char *keys[256], *values[256];
	int n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(conf, k, v)
	{
		if (n < 256 && json_is_string(v)) {
			keys[n] = k;
			values[n++] = json_string_value(v);
		}
	}
	w->topo = stm_topology_alloc(keys, values, n);
	snprintf(w->topology, sizeof(w->topology), "%s", topology);
	w->index = (int)index;
	json_decref(data);
	if (w->topo == NULL || stm_topology_build(w->topo, w->build, w->build_arg) != 0) {
		snprintf(err, errlen, "the topology does not build: %s",
		         w->topo ? stm_topology_error(w->topo) : "out of memory");
		return -1;
	}
	w->metrics = calloc((size_t)w->topo->ntasks, sizeof(*w->metrics));
	w->execs = calloc((size_t)w->topo->ntasks, sizeof(*w->execs));
	if (w->metrics == NULL || w->execs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int t = 0; t < w->topo->ntasks; t++)
		w->execs[t] = actor_pid_none;
	struct in_addr_text {
		char s[32];
	} ip;
	uint32_t a = actor_runtime_ip();
	snprintf(ip.s, sizeof(ip.s), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
	         a & 255);
	snprintf(w->address, sizeof(w->address), "%s:%u", ip.s, actor_runtime_port());
	return 0;
}

static void launch_task(px_executor_driver *d, const Plexus__TaskInfo *task, void *arg)
{
	struct worker *w = arg;
	char err[300];
	if (w->launched) {
		send_state(w, task->task_id, PLEXUS__TASK_STATE__TASK_FAILED,
		           "a storm worker runs one task");
		return;
	}
	w->launched = true;
	snprintf(w->task_id, sizeof(w->task_id), "%s", task->task_id->value);
	if (setup(w, task, err, sizeof(err)) != 0) {
		actor_error("storm worker: %s", err);
		send_state(w, task->task_id, PLEXUS__TASK_STATE__TASK_FAILED, err);
		px_executor_driver_stop(d);
		return;
	}
	if (actor_spawn(&worker_def, w, &w->pid) != 0) {
		send_state(w, task->task_id, PLEXUS__TASK_STATE__TASK_FAILED, "cannot start");
		px_executor_driver_stop(d);
		return;
	}
	actor_info("storm worker %d of %s runs at %s", w->index, w->topology, w->address);
	send_state(w, task->task_id, PLEXUS__TASK_STATE__TASK_RUNNING, NULL);
}

static void framework_message(px_executor_driver *d, const uint8_t *data, size_t len, void *arg)
{
	struct worker *w = arg;
	if (!w->launched || actor_pid_is_none(w->pid))
		return;
	struct message *m = malloc(sizeof(*m) + len);
	if (m == NULL)
		return;
	m->w = w;
	m->len = len;
	memcpy(m->text, data, len);
	if (actor_call(w->pid, message_cb, m) != 0)
		free(m);
}

static void end(struct worker *w, Plexus__TaskState state, const char *why)
{
	if (w->launched && w->task_id[0] != '\0') {
		Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
		id.value = w->task_id;
		send_state(w, &id, state, why);
	}
	px_executor_driver_stop(w->driver);
}

static void kill_task(px_executor_driver *d, const Plexus__TaskID *task_id, void *arg)
{
	actor_info("storm worker: killed");
	end(arg, PLEXUS__TASK_STATE__TASK_KILLED, "killed by the nimbus");
}

static void shutdown_cb(px_executor_driver *d, void *arg)
{
	end(arg, PLEXUS__TASK_STATE__TASK_KILLED, "the executor was shut down");
}

static void disconnected(px_executor_driver *d, void *arg)
{
	/* A worker without its agent cannot report; the nimbus replaces it elsewhere. */
	actor_warn("storm worker: the agent is gone, ending");
	px_executor_driver_stop(((struct worker *)arg)->driver);
}

static void error_cb(px_executor_driver *d, const char *message, void *arg)
{
	actor_error("storm worker: executor driver error: %s", message);
}

int stm_worker_main(stm_build_fn build, void *arg)
{
	struct worker w = {.build = build, .build_arg = arg, .pid = actor_pid_none};
	actor_config cfg;
	char err[256];

	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = -1;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "storm worker: cannot start the actor runtime\n");
		return 1;
	}
	const px_executor_callbacks cb = {.launch_task = launch_task,
	                                  .kill_task = kill_task,
	                                  .framework_message = framework_message,
	                                  .shutdown = shutdown_cb,
	                                  .disconnected = disconnected,
	                                  .error = error_cb};
	w.driver = px_executor_driver_alloc(&cb, &w, err, sizeof(err));
	if (w.driver == NULL) {
		fprintf(stderr, "storm worker: %s\n", err);
		actor_runtime_fini();
		return 1;
	}
	px_executor_driver_run(w.driver);
	px_executor_driver_free(w.driver);
	actor_runtime_fini();
	stm_routing_unref(w.rt);
	free(w.metrics);
	free(w.execs);
	stm_topology_free(w.topo);
	return 0;
}
