/* nimbus.c — see nimbus.h: the scheduler's callbacks, the placement of workers on
 * offers, and the nimbus program. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actor/actor.h>
#include <actor/clock.h>
#include <actor/http.h>
#include <actor/log.h>
#include <actor/runtime.h>
#include <plexus/message.h>
#include <plexus/task.h>

#include "control.h"
#include "nimbus.h"
#include "nimbus_int.h"

/* How long a killed topology waits for its workers' terminal updates. */
#define KILL_WAIT_MS 15000

/* ---- assignments -------------------------------------------------------------------- */

static char *assignment_text(struct nimbus *n)
{
	json_t *workers = json_array();
	for (int i = 0; i < n->nworkers; i++)
		json_array_append_new(
		    workers,
		    json_string(n->slots[i].state == SLOT_RUNNING ? n->slots[i].address : ""));
	json_t *o = json_pack("{sssIsisbso}", "type", "assign", "epoch", (json_int_t)n->epoch,
	                      "nworkers", n->nworkers, "active", n->active, "workers", workers);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void send_to(struct nimbus *n, struct slot *s, const char *text)
{
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	eid.value = s->task_id; /* each worker is its own executor, named as its task */
	aid.value = s->agent_id;
	px_scheduler_driver_send_message(n->driver, &eid, &aid, (const uint8_t *)text,
	                                 strlen(text));
}

void nimbus_broadcast(struct nimbus *n)
{
	if (!n->started)
		return;
	char *text = assignment_text(n);
	if (text == NULL)
		return;
	for (int i = 0; i < n->nslots; i++)
		if (n->slots[i].state == SLOT_RUNNING && n->slots[i].agent_id[0] != '\0')
			send_to(n, &n->slots[i], text);
	free(text);
}

/* A change of the assignment (a worker's address, the number of workers). */
static void assignment_changed(struct nimbus *n)
{
	n->epoch++;
	nimbus_state_save(n);
	nimbus_broadcast(n);
}

/* ---- slots ------------------------------------------------------------------------ */

static void slot_reset(struct nimbus *n, int i)
{
	struct slot *s = &n->slots[i];
	s->state = i < n->nworkers && !n->killing ? SLOT_PENDING : SLOT_RETIRED;
	s->gen++;
	nimbus_task_id(n, i, s->gen, s->task_id, sizeof(s->task_id));
	s->agent_id[0] = '\0';
	s->address[0] = '\0';
	s->pid = 0;
	s->epoch = 0;
	json_decref(s->tasks);
	s->tasks = NULL;
}

static bool all_retired(struct nimbus *n)
{
	for (int i = 0; i < n->nslots; i++)
		if (n->slots[i].state != SLOT_RETIRED)
			return false;
	return true;
}

/* Whether every worker reported the current epoch. */
static bool all_current(struct nimbus *n)
{
	for (int k = 0; k < n->nworkers; k++)
		if (n->slots[k].state != SLOT_RUNNING || n->slots[k].epoch != n->epoch)
			return false;
	return true;
}

static void finish(struct nimbus *n)
{
	actor_info("storm %s: every worker has ended; the topology is gone", n->name);
	nimbus_state_remove(n);
	n->done = true;
	pthread_cond_broadcast(&n->done_cond);
}

void nimbus_want_offers(struct nimbus *n)
{
	bool pending = false;
	for (int i = 0; i < n->nworkers; i++)
		if (n->slots[i].state == SLOT_PENDING)
			pending = true;
	if (pending && n->suppressed) {
		px_scheduler_driver_revive(n->driver, NULL, 0);
		n->suppressed = false;
	} else if (!pending && !n->suppressed && n->registered) {
		px_scheduler_driver_suppress(n->driver, NULL, 0);
		n->suppressed = true;
	}
}

/* ---- offers ----------------------------------------------------------------------- */

static Plexus__TaskInfo *worker_task(struct nimbus *n, int i, const Plexus__AgentID *agent)
{
	char err[256];
	struct slot *s = &n->slots[i];
	Plexus__TaskInfo *t =
	    px_task_command(s->task_id, agent, "true", n->resources, err, sizeof(err));
	if (t == NULL) {
		actor_error("storm %s: cannot build a worker task: %s", n->name, err);
		return NULL;
	}
	/* px_task_command names the task with a random suffix: ours are exact. */
	free(t->task_id->value);
	t->task_id->value = strdup(s->task_id);
	Plexus__ExecutorInfo *e = malloc(sizeof(*e));
	Plexus__ExecutorID *eid = malloc(sizeof(*eid));
	if (e == NULL || eid == NULL || t->task_id->value == NULL) {
		free(e);
		free(eid);
		PX_FREE(t);
		return NULL;
	}
	plexus__executor_info__init(e);
	plexus__executor_id__init(eid);
	eid->value = strdup(s->task_id);
	e->executor_id = eid;
	e->name = strdup("storm worker");
	e->command = t->command;
	t->command = NULL;
	t->executor = e;
	if (px_command_add_self(e->command, "--stm-worker") != 0) {
		PX_FREE(t);
		return NULL;
	}
	json_t *conf = json_object();
	for (int k = 0; k < n->nconf; k++)
		json_object_set_new(conf, n->conf_keys[k], json_string(n->conf_values[k]));
	json_t *data = json_pack("{sssiso}", "topology", n->name, "worker", i, "conf", conf);
	char *text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (text == NULL) {
		PX_FREE(t);
		return NULL;
	}
	t->has_data = true;
	t->data.data = (uint8_t *)text;
	t->data.len = strlen(text);
	return t;
}

static int workers_on(struct nimbus *n, const char *agent)
{
	int c = 0;
	for (int i = 0; i < n->nslots; i++)
		if ((n->slots[i].state == SLOT_RUNNING || n->slots[i].state == SLOT_LAUNCHED) &&
		    strcmp(n->slots[i].agent_id, agent) == 0)
			c++;
	return c;
}

static void resource_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t count,
                            void *arg)
{
	struct nimbus *n = arg;
	pthread_mutex_lock(&n->lock);
	double cpus_need = 0, mem_need = 0;
	{
		size_t nres = 0;
		Plexus__Resource **res = px_resources_from_text(n->resources, NULL, &nres, NULL, 0);
		for (size_t i = 0; i < nres; i++) {
			if (strcmp(res[i]->name, "cpus") == 0 && res[i]->scalar)
				cpus_need = res[i]->scalar->value;
			if (strcmp(res[i]->name, "mem") == 0 && res[i]->scalar)
				mem_need = res[i]->scalar->value;
		}
		px_resources_free_array(res, nres);
	}
	double *cpus = calloc(count, sizeof(double)), *mem = calloc(count, sizeof(double));
	Plexus__TaskInfo ***tasks = calloc(count, sizeof(*tasks));
	size_t *ntasks = calloc(count, sizeof(size_t));
	if (cpus == NULL || mem == NULL || tasks == NULL || ntasks == NULL)
		goto out;
	for (size_t o = 0; o < count; o++) {
		cpus[o] = px_offer_scalar(offers[o], "cpus");
		mem[o] = px_offer_scalar(offers[o], "mem");
		tasks[o] = calloc((size_t)n->nworkers + 1, sizeof(Plexus__TaskInfo *));
	}
	/* Spread: each pending worker goes to the fitting offer whose agent runs the
	 * fewest workers of this topology (as Storm on Mesos spreads workers). */
	for (int i = 0; i < n->nworkers && !n->killing; i++) {
		if (n->slots[i].state != SLOT_PENDING)
			continue;
		int best = -1, best_load = 0;
		for (size_t o = 0; o < count; o++) {
			if (tasks[o] == NULL || cpus[o] + 1e-9 < cpus_need ||
			    mem[o] + 1e-9 < mem_need)
				continue;
			int load = workers_on(n, offers[o]->agent_id->value);
			if (best < 0 || load < best_load) {
				best = (int)o;
				best_load = load;
			}
		}
		if (best < 0)
			break;
		Plexus__TaskInfo *t = worker_task(n, i, offers[best]->agent_id);
		if (t == NULL)
			break;
		tasks[best][ntasks[best]++] = t;
		cpus[best] -= cpus_need;
		mem[best] -= mem_need;
		n->slots[i].state = SLOT_LAUNCHED;
		snprintf(n->slots[i].agent_id, sizeof(n->slots[i].agent_id), "%s",
		         offers[best]->agent_id->value);
		actor_info("storm %s: launching worker %d (%s) on agent %s", n->name, i,
		           n->slots[i].task_id, n->slots[i].agent_id);
	}
	nimbus_state_save(n);
	for (size_t o = 0; o < count; o++) {
		const Plexus__OfferID *id = offers[o]->id;
		Plexus__Filters f = PLEXUS__FILTERS__INIT;
		f.has_refuse_seconds = true;
		f.refuse_seconds = 1;
		if (ntasks[o] > 0)
			px_scheduler_driver_launch(
			    d, &id, 1, (const Plexus__TaskInfo *const *)tasks[o], ntasks[o], &f);
		else
			px_scheduler_driver_decline(d, id, &f);
		for (size_t k = 0; k < ntasks[o]; k++)
			PX_FREE(tasks[o][k]);
		free(tasks[o]);
	}
	nimbus_want_offers(n);
out:
	free(cpus);
	free(mem);
	free(tasks);
	free(ntasks);
	pthread_mutex_unlock(&n->lock);
}

/* ---- status updates --------------------------------------------------------------- */

static void status_update(px_scheduler_driver *d, const Plexus__TaskStatus *st, void *arg)
{
	struct nimbus *n = arg;
	int i, gen;
	pthread_mutex_lock(&n->lock);
	if (!nimbus_parse_task_id(n, st->task_id->value, &i, &gen) || i >= n->nslots ||
	    gen != n->slots[i].gen) {
		/* A task of an earlier generation: make sure it is gone. */
		if (!px_task_state_is_terminal(st->state))
			px_scheduler_driver_kill(d, st->task_id);
		pthread_mutex_unlock(&n->lock);
		return;
	}
	struct slot *s = &n->slots[i];
	if (st->state == PLEXUS__TASK_STATE__TASK_RUNNING) {
		if (s->state == SLOT_LAUNCHED || s->state == SLOT_PENDING) {
			s->state = SLOT_RUNNING;
			if (st->agent_id != NULL)
				snprintf(s->agent_id, sizeof(s->agent_id), "%s",
				         st->agent_id->value);
			nimbus_state_save(n);
		}
		if (n->killing || s->state == SLOT_RETIRED)
			px_scheduler_driver_kill(d, st->task_id);
	} else if (px_task_state_is_terminal(st->state)) {
		bool was_up = s->state == SLOT_RUNNING && s->address[0] != '\0';
		bool retired = s->state == SLOT_RETIRED || n->killing;
		actor_info("storm %s: worker %d (%s) is %s: %s", n->name, i, s->task_id,
		           px_task_state_name(st->state), st->message ? st->message : "");
		slot_reset(n, i);
		if (!retired && i < n->nworkers) {
			n->relaunches++;
			nimbus_want_offers(n);
		}
		if (was_up)
			assignment_changed(n);
		else
			nimbus_state_save(n);
		if (n->killing && all_retired(n))
			finish(n);
	}
	pthread_mutex_unlock(&n->lock);
}

/* ---- heartbeats ------------------------------------------------------------------- */

static void framework_message(px_scheduler_driver *d, const Plexus__ExecutorID *executor_id,
                              const Plexus__AgentID *agent_id, const uint8_t *data, size_t len,
                              void *arg)
{
	struct nimbus *n = arg;
	json_error_t err;
	json_t *hb = json_loadb((const char *)data, len, 0, &err);
	const char *type = json_string_value(json_object_get(hb, "type"));
	const char *task_id = json_string_value(json_object_get(hb, "task_id"));
	const char *address = json_string_value(json_object_get(hb, "address"));
	int i, gen;
	if (type == NULL || strcmp(type, "heartbeat") != 0 || task_id == NULL || address == NULL ||
	    strlen(address) >= sizeof(n->slots[0].address)) {
		actor_warn("storm: ignoring a malformed message from an executor");
		json_decref(hb);
		return;
	}
	pthread_mutex_lock(&n->lock);
	if (!nimbus_parse_task_id(n, task_id, &i, &gen) || i >= n->nslots ||
	    gen != n->slots[i].gen || n->slots[i].state == SLOT_RETIRED) {
		pthread_mutex_unlock(&n->lock);
		json_decref(hb);
		return;
	}
	struct slot *s = &n->slots[i];
	if (s->state != SLOT_RUNNING) {
		/* The heartbeat may overtake the TASK_RUNNING update. */
		s->state = SLOT_RUNNING;
		if (agent_id != NULL)
			snprintf(s->agent_id, sizeof(s->agent_id), "%s", agent_id->value);
	}
	s->pid = json_integer_value(json_object_get(hb, "pid"));
	s->epoch = (uint64_t)json_integer_value(json_object_get(hb, "epoch"));
	s->last_heartbeat_ms = actor_clock_now();
	json_decref(s->tasks);
	s->tasks = json_incref(json_object_get(hb, "tasks"));
	bool moved = strcmp(s->address, address) != 0;
	if (moved)
		snprintf(s->address, sizeof(s->address), "%s", address);
	if (!n->started) {
		bool all = true;
		for (int k = 0; k < n->nworkers; k++)
			if (n->slots[k].state != SLOT_RUNNING || n->slots[k].address[0] == '\0')
				all = false;
		if (all) {
			actor_info("storm %s: all %d workers are up; sending assignments", n->name,
			           n->nworkers);
			n->started = true;
			assignment_changed(n);
		} else if (moved) {
			nimbus_state_save(n);
		}
	} else if (moved) {
		actor_info("storm %s: worker %d is at %s", n->name, i, address);
		assignment_changed(n);
	} else if (!n->active && s->epoch == n->epoch && all_current(n)) {
		actor_info("storm %s: every worker runs its tasks; activating the spouts", n->name);
		n->active = true;
		assignment_changed(n);
	} else if (s->epoch < n->epoch) {
		/* It missed an assignment (messages are not guaranteed): send it again. */
		char *text = assignment_text(n);
		if (text != NULL)
			send_to(n, s, text);
		free(text);
	}
	pthread_mutex_unlock(&n->lock);
	json_decref(hb);
}

/* ---- registration and failover ---------------------------------------------------- */

static void reconcile(struct nimbus *n)
{
	Plexus__TaskStatus *sts[STM_MAX_WORKERS];
	Plexus__TaskID ids[STM_MAX_WORKERS];
	Plexus__AgentID aids[STM_MAX_WORKERS];
	Plexus__TaskStatus st[STM_MAX_WORKERS];
	size_t k = 0;
	for (int i = 0; i < n->nslots; i++) {
		struct slot *s = &n->slots[i];
		if (s->state != SLOT_RUNNING && s->state != SLOT_LAUNCHED)
			continue;
		plexus__task_status__init(&st[k]);
		plexus__task_id__init(&ids[k]);
		plexus__agent_id__init(&aids[k]);
		ids[k].value = s->task_id;
		aids[k].value = s->agent_id;
		st[k].task_id = &ids[k];
		st[k].agent_id = s->agent_id[0] ? &aids[k] : NULL;
		st[k].state = PLEXUS__TASK_STATE__TASK_RUNNING;
		sts[k] = &st[k];
		k++;
	}
	if (k > 0)
		px_scheduler_driver_reconcile(n->driver, (const Plexus__TaskStatus *const *)sts, k);
}

static void registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                       const Plexus__MasterInfo *master, void *arg)
{
	struct nimbus *n = arg;
	pthread_mutex_lock(&n->lock);
	bool failover = n->framework_id[0] != '\0';
	snprintf(n->framework_id, sizeof(n->framework_id), "%s", id->value);
	n->registered = true;
	n->suppressed = false;
	actor_info("storm %s: registered as framework %s%s", n->name, n->framework_id,
	           failover ? " (failed over: keeping the running workers)" : "");
	nimbus_state_save(n);
	reconcile(n);
	nimbus_want_offers(n);
	pthread_mutex_unlock(&n->lock);
}

static void reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *master, void *arg)
{
	struct nimbus *n = arg;
	pthread_mutex_lock(&n->lock);
	n->suppressed = false;
	reconcile(n);
	nimbus_want_offers(n);
	pthread_mutex_unlock(&n->lock);
}

static void agent_lost(px_scheduler_driver *d, const Plexus__AgentID *agent_id, void *arg)
{
	struct nimbus *n = arg;
	pthread_mutex_lock(&n->lock);
	bool changed = false;
	for (int i = 0; i < n->nslots; i++) {
		struct slot *s = &n->slots[i];
		if (s->state == SLOT_RETIRED || strcmp(s->agent_id, agent_id->value) != 0)
			continue;
		actor_info("storm %s: worker %d was on lost agent %s", n->name, i, agent_id->value);
		changed |= s->address[0] != '\0';
		bool retired = n->killing || i >= n->nworkers;
		slot_reset(n, i);
		if (!retired)
			n->relaunches++;
	}
	if (changed)
		assignment_changed(n);
	nimbus_want_offers(n);
	if (n->killing && all_retired(n))
		finish(n);
	pthread_mutex_unlock(&n->lock);
}

static void error_cb(px_scheduler_driver *d, const char *message, void *arg)
{
	struct nimbus *n = arg;
	actor_error("storm %s: scheduler error: %s", n->name, message);
	pthread_mutex_lock(&n->lock);
	n->done = true;
	pthread_cond_broadcast(&n->done_cond);
	pthread_mutex_unlock(&n->lock);
}

/* ---- kill and rebalance ----------------------------------------------------------- */

void nimbus_kill(struct nimbus *n)
{
	if (n->killing)
		return;
	n->killing = true;
	actor_info("storm %s: killing the topology", n->name);
	for (int i = 0; i < n->nslots; i++) {
		struct slot *s = &n->slots[i];
		if (s->state == SLOT_RUNNING || s->state == SLOT_LAUNCHED) {
			Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
			id.value = s->task_id;
			px_scheduler_driver_kill(n->driver, &id);
		} else {
			s->state = SLOT_RETIRED;
		}
	}
	nimbus_want_offers(n);
	if (all_retired(n))
		finish(n);
}

int nimbus_rebalance(struct nimbus *n, int workers)
{
	if (workers < 1 || workers > STM_MAX_WORKERS || n->killing)
		return -1;
	actor_info("storm %s: rebalancing from %d to %d workers", n->name, n->nworkers, workers);
	for (int i = workers; i < n->nslots; i++) {
		struct slot *s = &n->slots[i];
		if (s->state == SLOT_RUNNING || s->state == SLOT_LAUNCHED) {
			Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
			id.value = s->task_id;
			px_scheduler_driver_kill(n->driver, &id);
		}
		s->state = SLOT_RETIRED;
		s->address[0] = '\0';
	}
	int old = n->nworkers;
	n->nworkers = workers;
	for (int i = old; i < workers; i++) {
		if (i >= n->nslots) {
			memset(&n->slots[i], 0, sizeof(n->slots[i]));
			n->slots[i].state = SLOT_RETIRED;
			n->nslots = i + 1;
		}
		if (n->slots[i].state == SLOT_RETIRED)
			slot_reset(n, i); /* pending now; a task of it still ending is ignored */
	}
	assignment_changed(n);
	nimbus_want_offers(n);
	return 0;
}

/* ---- the program ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_signal;

/* SIGTERM/SIGINT end the nimbus but leave the framework to fail over: a nimbus
 * started again takes it over with its workers. */
static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: TOPOLOGY --stm-nimbus --master=HOST:PORT --name=NAME [flags]\n"
	             "  --state-dir=DIR            where the nimbus keeps its state "
	             "(default $PLEXUS_STORM_DIR or /tmp/plexus-storm)\n"
	             "  --conf=KEY=VALUE           topology configuration (repeatable)\n"
	             "  --worker-resources=R       each worker task's resources "
	             "(default cpus:0.5;mem:256)\n"
	             "  --failover-timeout=SECS    how long the master keeps the framework for a "
	             "restarted nimbus (default 604800)\n"
	             "  --http-port=N              the nimbus's HTTP port (default: ephemeral)\n");
}

static bool name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 40)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

int stm_nimbus_main(int argc, char **argv, stm_build_fn build, void *arg)
{
	static struct nimbus nimbus;
	struct nimbus *n = &nimbus;
	const char *state_dir = getenv("PLEXUS_STORM_DIR");
	int http_port = 0;
	char err[300];
	static const struct option opts[] = {{"master", required_argument, NULL, 'm'},
	                                     {"name", required_argument, NULL, 'n'},
	                                     {"state-dir", required_argument, NULL, 'd'},
	                                     {"conf", required_argument, NULL, 'c'},
	                                     {"worker-resources", required_argument, NULL, 'r'},
	                                     {"failover-timeout", required_argument, NULL, 'f'},
	                                     {"http-port", required_argument, NULL, 'p'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->done_cond, NULL);
	snprintf(n->resources, sizeof(n->resources), "cpus:0.5;mem:256");
	n->failover_timeout = 604800;
	n->conf_keys = calloc((size_t)argc + 1, sizeof(char *));
	n->conf_values = calloc((size_t)argc + 1, sizeof(char *));
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			snprintf(n->master, sizeof(n->master), "%s", optarg);
			break;
		case 'n':
			snprintf(n->name, sizeof(n->name), "%s", optarg);
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'c': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				fprintf(stderr, "storm nimbus: --conf wants KEY=VALUE, not '%s'\n",
				        optarg);
				return 2;
			}
			*eq = '\0';
			n->conf_keys[n->nconf] = optarg;
			n->conf_values[n->nconf++] = eq + 1;
			break;
		}
		case 'r':
			snprintf(n->resources, sizeof(n->resources), "%s", optarg);
			break;
		case 'f':
			n->failover_timeout = atof(optarg);
			break;
		case 'p':
			http_port = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (n->master[0] == '\0' || !name_ok(n->name)) {
		fprintf(stderr, "storm nimbus: needs --master and a --name of letters, digits, "
		                "'-' and '_'\n");
		usage(stderr);
		return 2;
	}
	size_t nres = 0;
	Plexus__Resource **res =
	    px_resources_from_text(n->resources, NULL, &nres, err, sizeof(err));
	if (res == NULL) {
		fprintf(stderr, "storm nimbus: bad --worker-resources: %s\n", err);
		return 2;
	}
	px_resources_free_array(res, nres);
	snprintf(n->dir, sizeof(n->dir), "%s/%s", state_dir ? state_dir : "/tmp/plexus-storm",
	         n->name);
	n->topo = stm_topology_alloc(n->conf_keys, n->conf_values, n->nconf);
	if (n->topo == NULL || stm_topology_build(n->topo, build, arg) != 0) {
		fprintf(stderr, "storm nimbus: the topology does not build: %s\n",
		        n->topo ? stm_topology_error(n->topo) : "out of memory");
		return 1;
	}
	if (n->topo->workers > STM_MAX_WORKERS) {
		fprintf(stderr, "storm nimbus: at most %d workers\n", STM_MAX_WORKERS);
		return 1;
	}
	int loaded = nimbus_state_load(n, err, sizeof(err));
	if (loaded < 0) {
		fprintf(stderr, "storm nimbus: %s\n", err);
		return 1;
	}
	if (loaded == 0) {
		n->nworkers = n->nslots = n->topo->workers;
		for (int i = 0; i < n->nworkers; i++) {
			n->slots[i].gen = 0;
			slot_reset(n, i);
		}
	}
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = http_port;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "storm nimbus: cannot start the actor runtime\n");
		return 1;
	}
	uint32_t ip = actor_runtime_ip();
	snprintf(n->http, sizeof(n->http), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255,
	         (ip >> 8) & 255, ip & 255, actor_runtime_http_port());
	if (nimbus_http_start(n) != 0) {
		fprintf(stderr, "storm nimbus: cannot serve HTTP\n");
		actor_runtime_fini();
		return 1;
	}
	Plexus__FrameworkInfo fi = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	char fname[96], webui[128];
	snprintf(fname, sizeof(fname), "storm-%s", n->name);
	snprintf(webui, sizeof(webui), "http://%s/storm/state", n->http);
	fi.user = (char *)"root";
	fi.name = fname;
	fi.webui_url = webui;
	fi.has_failover_timeout = true;
	fi.failover_timeout = n->failover_timeout;
	fi.has_checkpoint = true;
	fi.checkpoint = true;
	if (n->framework_id[0] != '\0') {
		fid.value = n->framework_id;
		fi.id = &fid;
	}
	const px_scheduler_callbacks cb = {.registered = registered,
	                                   .reregistered = reregistered,
	                                   .resource_offers = resource_offers,
	                                   .status_update = status_update,
	                                   .framework_message = framework_message,
	                                   .agent_lost = agent_lost,
	                                   .error = error_cb};
	pthread_mutex_lock(&n->lock);
	n->driver = px_scheduler_driver_alloc(&cb, n, &fi, n->master, NULL);
	nimbus_state_save(n);
	pthread_mutex_unlock(&n->lock);
	if (n->driver == NULL) {
		fprintf(stderr, "storm nimbus: cannot create the scheduler driver\n");
		actor_runtime_fini();
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	px_scheduler_driver_start(n->driver);
	pthread_mutex_lock(&n->lock);
	int64_t kill_waited = 0;
	while (!n->done && !stop_signal) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&n->done_cond, &n->lock, &ts);
		if (n->killing && (kill_waited += 200) > KILL_WAIT_MS && !n->done) {
			actor_warn("storm %s: workers did not end in time; leaving", n->name);
			finish(n);
		}
	}
	bool killed = n->killing;
	pthread_mutex_unlock(&n->lock);
	px_scheduler_driver_stop(n->driver, !killed);
	px_scheduler_driver_free(n->driver);
	actor_runtime_fini();
	for (int i = 0; i < n->nslots; i++)
		json_decref(n->slots[i].tasks);
	stm_topology_free(n->topo);
	free(n->conf_keys);
	free(n->conf_values);
	return 0;
}
