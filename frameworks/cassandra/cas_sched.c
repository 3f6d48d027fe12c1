/* cas_sched.c — see cas_sched.h. */
#include "cas_sched.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actor/actor.h>
#include <actor/log.h>
#include <actor/runtime.h>
#include <plexus/message.h>
#include <plexus/scheduler.h>
#include <plexus/task.h>
#include <plexus/util.h>

#include "cas_res.h"

#define MAX_SLOTS 64

struct slot {
	char agent_id[128]; /* "" until the slot has a home */
	char host[128];
	uint64_t port;
	char persistence_id[96];
	char task_id[128];
	Plexus__TaskState state;
	bool active; /* a launch was sent and no terminal state came back */
	int failures;     /* launches in a row that ended before RUNNING */
	int64_t retry_at; /* no relaunch before (monotonic ms): backoff after failures */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sched {
	cas_sched_opts o;
	px_scheduler_driver *d;
	pthread_mutex_t lock;
	char framework_id[128];
	struct slot slots[MAX_SLOTS];
	int nslots;
	bool suppressed;
	bool torn_down;
};

/* ---- the state file ------------------------------------------------------------------- */

static void save(struct sched *s)
{
	json_t *root = json_object(), *arr = json_array();
	json_object_set_new(root, "framework_id", json_string(s->framework_id));
	json_object_set_new(root, "nodes", json_integer(s->nslots));
	for (int i = 0; i < s->nslots; i++) {
		struct slot *x = &s->slots[i];
		json_t *o = json_object();
		json_object_set_new(o, "agent_id", json_string(x->agent_id));
		json_object_set_new(o, "host", json_string(x->host));
		json_object_set_new(o, "port", json_integer((json_int_t)x->port));
		json_object_set_new(o, "persistence_id", json_string(x->persistence_id));
		json_object_set_new(o, "task_id", json_string(x->task_id));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "slots", arr);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->o.state);
	if (json_dump_file(root, tmp, JSON_INDENT(1)) != 0 || rename(tmp, s->o.state) != 0)
		actor_error("cassandra scheduler: cannot write the state file %s", s->o.state);
	json_decref(root);
}

static void load(struct sched *s)
{
	json_error_t je;
	json_t *root = json_load_file(s->o.state, 0, &je);
	if (root == NULL)
		return;
	const char *fw = json_string_value(json_object_get(root, "framework_id"));
	if (fw)
		snprintf(s->framework_id, sizeof(s->framework_id), "%s", fw);
	json_int_t n = json_integer_value(json_object_get(root, "nodes"));
	if (n > s->nslots && n <= MAX_SLOTS)
		s->nslots = (int)n;
	json_t *arr = json_object_get(root, "slots"), *o;
	size_t i;
	json_array_foreach(arr, i, o)
	{
		if (i >= MAX_SLOTS)
			break;
		struct slot *x = &s->slots[i];
		snprintf(x->agent_id, sizeof(x->agent_id), "%s",
		         json_string_value(json_object_get(o, "agent_id")) ?: "");
		snprintf(x->host, sizeof(x->host), "%s", json_string_value(json_object_get(o, "host")) ?: "");
		x->port = (uint64_t)json_integer_value(json_object_get(o, "port"));
		snprintf(x->persistence_id, sizeof(x->persistence_id), "%s",
		         json_string_value(json_object_get(o, "persistence_id")) ?: "");
		snprintf(x->task_id, sizeof(x->task_id), "%s",
		         json_string_value(json_object_get(o, "task_id")) ?: "");
		/* Until reconciliation says otherwise, a recorded node is taken to run. */
		x->active = x->task_id[0] != '\0';
		x->state = PLEXUS__TASK_STATE__TASK_STAGING;
	}
	json_decref(root);
}

/* ---- launching ----------------------------------------------------------------------------- */

/* The seeds of a node: the addresses of every other placed node. */
static void seeds_of(struct sched *s, int i, char *out, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (int k = 0; k < s->nslots; k++) {
		if (k == i || s->slots[k].agent_id[0] == '\0')
			continue;
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s:%llu", len ? "," : "",
		                        s->slots[k].host, (unsigned long long)s->slots[k].port);
	}
}

static Plexus__TaskInfo *node_task(struct sched *s, int i, const Plexus__Offer *offer,
                                   Plexus__Resource **res, size_t nres)
{
	struct slot *x = &s->slots[i];
	char name[256], args[2048], seeds[1536], err[256];
	uint8_t u[16];
	char uu[37];
	px_uuid_random(u);
	px_uuid_format(u, uu);
	snprintf(x->task_id, sizeof(x->task_id), "%s-node-%d-%.8s", s->o.name, i, uu);
	snprintf(name, sizeof(name), "%s-node-%d@%s:%llu", s->o.name, i, x->host,
	         (unsigned long long)x->port);
	seeds_of(s, i, seeds, sizeof(seeds));
	snprintf(args, sizeof(args), "node --port=%llu --ip=%s --data=%s%s%s %s",
	         (unsigned long long)x->port, x->host, CAS_VOLUME_PATH, seeds[0] ? " --seeds=" : "",
	         seeds, s->o.node_args ? s->o.node_args : "");
	Plexus__TaskInfo *t = px_task_command(name, offer->agent_id, "true", NULL, err, sizeof(err));
	Plexus__ExecutorInfo *ex = calloc(1, sizeof(*ex));
	Plexus__ExecutorID *eid = calloc(1, sizeof(*eid));
	Plexus__CommandInfo *cmd = calloc(1, sizeof(*cmd));
	if (t == NULL || ex == NULL || eid == NULL || cmd == NULL) {
		PX_FREE(t);
		free(ex), free(eid), free(cmd);
		return NULL;
	}
	free(t->task_id->value);
	t->task_id->value = strdup(x->task_id);
	plexus__executor_info__init(ex);
	plexus__executor_id__init(eid);
	plexus__command_info__init(cmd);
	eid->value = strdup(x->task_id);
	ex->executor_id = eid;
	ex->name = strdup(name);
	ex->command = cmd;
	if (px_command_add_self(cmd, args) != 0) {
		PX_FREE(ex);
		PX_FREE(t);
		return NULL;
	}
	/* The task is the node: it holds the reserved resources and the volume. */
	PX_FREE(t->command);
	t->command = NULL;
	t->executor = ex;
	px_resources_free_array(t->resources, t->n_resources);
	t->resources = res;
	t->n_resources = nres;
	return t;
}

static void filters_refuse(Plexus__Filters *f, double secs)
{
	plexus__filters__init(f);
	f->has_refuse_seconds = true;
	f->refuse_seconds = secs;
}

/* The IPv4 address of an agent's hostname, for the node's PID and its peers. */
static void resolve_host(const char *hostname, char *out, size_t n)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	snprintf(out, n, "%s", hostname);
	if (getaddrinfo(hostname, NULL, &hints, &ai) == 0 && ai != NULL) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, out, (socklen_t)n);
		freeaddrinfo(ai);
	}
}

/* Places a new slot on this offer: reserve, create the volume, launch. */
static bool place_new(struct sched *s, int i, const Plexus__Offer *offer)
{
	struct slot *x = &s->slots[i];
	uint64_t used[MAX_SLOTS];
	size_t nused = 0;
	char ip[128];
	resolve_host(offer->hostname, ip, sizeof(ip));
	/* Agents sharing an address (several on one machine) must not share a port. */
	for (int k = 0; k < s->nslots; k++)
		if (s->slots[k].agent_id[0] && strcmp(s->slots[k].host, ip) == 0)
			used[nused++] = s->slots[k].port;
	uint64_t port = cas_offer_free_port(offer, used, nused);
	if (port == 0 || cas_offer_unreserved(offer, "cpus") < s->o.cpus - 1e-9 ||
	    cas_offer_unreserved(offer, "mem") < s->o.mem - 1e-9 ||
	    cas_offer_unreserved(offer, "disk") < s->o.disk - 1e-9)
		return false;
	snprintf(x->agent_id, sizeof(x->agent_id), "%s", offer->agent_id->value);
	resolve_host(offer->hostname, x->host, sizeof(x->host));
	x->port = port;
	snprintf(x->persistence_id, sizeof(x->persistence_id), "%s-%.40s-node-%d", s->o.name,
	         s->framework_id, i);
	const char *ro = s->o.role, *pr = s->o.principal;
	Plexus__Resource *reserve[4] = {
	    cas_res_reserved("cpus", s->o.cpus, 0, ro, pr, NULL),
	    cas_res_reserved("mem", s->o.mem, 0, ro, pr, NULL),
	    cas_res_reserved("ports", 0, port, ro, pr, NULL),
	    cas_res_reserved("disk", s->o.disk, 0, ro, pr, NULL)};
	Plexus__Resource *volume = cas_res_reserved("disk", s->o.disk, 0, ro, pr, x->persistence_id);
	Plexus__Resource **task_res = calloc(4, sizeof(*task_res));
	if (task_res) {
		task_res[0] = cas_res_reserved("cpus", s->o.cpus, 0, ro, pr, NULL);
		task_res[1] = cas_res_reserved("mem", s->o.mem, 0, ro, pr, NULL);
		task_res[2] = cas_res_reserved("ports", 0, port, ro, pr, NULL);
		task_res[3] = cas_res_reserved("disk", s->o.disk, 0, ro, pr, x->persistence_id);
	}
	Plexus__TaskInfo *task = task_res ? node_task(s, i, offer, task_res, 4) : NULL;
	Plexus__Offer__Operation *ops[3] = {cas_op_reserve(reserve, 4), cas_op_create(&volume, 1),
	                                    task ? cas_op_launch(task) : NULL};
	bool ok = ops[0] && ops[1] && ops[2];
	if (ok) {
		Plexus__Filters f;
		filters_refuse(&f, 1);
		const Plexus__OfferID *ids[1] = {offer->id};
		actor_info("cassandra scheduler: node %d on agent %s (%s:%llu): reserving and "
		           "creating volume %s",
		           i, x->agent_id, x->host, (unsigned long long)port, x->persistence_id);
		px_scheduler_driver_accept(s->d, ids, 1, (const Plexus__Offer__Operation *const *)ops, 3,
		                           &f);
		x->active = true;
		x->state = PLEXUS__TASK_STATE__TASK_STAGING;
		save(s);
	} else {
		x->agent_id[0] = '\0';
		if (task == NULL && task_res) {
			for (int k = 0; k < 4; k++)
				PX_FREE(task_res[k]);
			free(task_res);
		}
	}
	for (int k = 0; k < 3; k++)
		PX_FREE(ops[k]);
	return ok;
}

/* Relaunches a slot's node on its own reservation and volume, found in this offer. */
static bool relaunch(struct sched *s, int i, const Plexus__Offer *offer)
{
	struct slot *x = &s->slots[i];
	Plexus__Resource **res = calloc(offer->n_resources + 1, sizeof(*res));
	size_t n = 0;
	bool volume = false;
	if (res == NULL)
		return false;
	for (size_t k = 0; k < offer->n_resources; k++) {
		const Plexus__Resource *r = offer->resources[k];
		if (!cas_res_is_reserved_for(r, s->o.role))
			continue;
		const char *pid = cas_res_persistence_id(r);
		if (strcmp(r->name, "disk") == 0 && (pid == NULL || strcmp(pid, x->persistence_id) != 0))
			continue; /* only our volume (a plain reserved disk stays unused) */
		volume |= pid != NULL;
		res[n++] = PX_COPY(Plexus__Resource, r);
	}
	if (!volume) {
		for (size_t k = 0; k < n; k++)
			PX_FREE(res[k]);
		free(res);
		return false;
	}
	Plexus__TaskInfo *task = node_task(s, i, offer, res, n);
	if (task == NULL) {
		for (size_t k = 0; k < n; k++)
			PX_FREE(res[k]);
		free(res);
		return false;
	}
	Plexus__Filters f;
	filters_refuse(&f, 1);
	const Plexus__OfferID *ids[1] = {offer->id};
	const Plexus__TaskInfo *tasks[1] = {task};
	actor_info("cassandra scheduler: relaunching node %d on agent %s with its volume %s", i,
	           x->agent_id, x->persistence_id);
	px_scheduler_driver_launch(s->d, ids, 1, tasks, 1, &f);
	PX_FREE(task);
	x->active = true;
	x->state = PLEXUS__TASK_STATE__TASK_STAGING;
	save(s);
	return true;
}

static bool all_active(const struct sched *s)
{
	for (int i = 0; i < s->nslots; i++)
		if (!s->slots[i].active)
			return false;
	return true;
}

static void sched_resource_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n,
                                  void *arg)
{
	struct sched *s = arg;
	pthread_mutex_lock(&s->lock);
	for (size_t k = 0; k < n; k++) {
		const Plexus__Offer *o = offers[k];
		bool used = false;
		/* A slot at home on this agent and not running: relaunch it there. */
		for (int i = 0; i < s->nslots && !used; i++)
			if (!s->slots[i].active && strcmp(s->slots[i].agent_id, o->agent_id->value) == 0 &&
			    mono_ms() >= s->slots[i].retry_at)
				used = relaunch(s, i, o);
		bool hosts_one = false;
		for (int i = 0; i < s->nslots; i++)
			hosts_one |= strcmp(s->slots[i].agent_id, o->agent_id->value) == 0;
		/* One node per agent, as a ring spreads its replicas over machines. */
		for (int i = 0; i < s->nslots && !used && !hosts_one; i++)
			if (s->slots[i].agent_id[0] == '\0')
				used = place_new(s, i, o);
		if (!used) {
			Plexus__Filters f;
			filters_refuse(&f, all_active(s) ? 30 : 2);
			px_scheduler_driver_decline(d, o->id, &f);
		}
	}
	if (all_active(s) && !s->suppressed) {
		px_scheduler_driver_suppress(d, NULL, 0);
		s->suppressed = true;
	}
	pthread_mutex_unlock(&s->lock);
}

static void want_offers(struct sched *s)
{
	if (s->suppressed) {
		px_scheduler_driver_revive(s->d, NULL, 0);
		s->suppressed = false;
	}
}

static void sched_status(px_scheduler_driver *d, const Plexus__TaskStatus *st, void *arg)
{
	struct sched *s = arg;
	(void)d;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nslots; i++) {
		struct slot *x = &s->slots[i];
		if (strcmp(x->task_id, st->task_id->value) != 0)
			continue;
		if (st->state == PLEXUS__TASK_STATE__TASK_RUNNING)
			x->failures = 0;
		else if (px_task_state_is_terminal(st->state) &&
		         x->state != PLEXUS__TASK_STATE__TASK_RUNNING) {
			/* It never got going: back off (1s, 2s ... 60s) before the next try. */
			x->failures++;
			int64_t delay = 500LL << (x->failures < 7 ? x->failures : 7);
			x->retry_at = mono_ms() + (delay < 60000 ? delay : 60000);
		}
		x->state = st->state;
		actor_info("cassandra scheduler: node %d (%s) is %s%s%s", i, x->task_id,
		           px_task_state_name(st->state), st->message ? ": " : "",
		           st->message ? st->message : "");
		if (px_task_state_is_terminal(st->state)) {
			x->active = false;
			want_offers(s);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static void sched_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                             const Plexus__MasterInfo *m, void *arg)
{
	struct sched *s = arg;
	(void)m;
	pthread_mutex_lock(&s->lock);
	snprintf(s->framework_id, sizeof(s->framework_id), "%s", id->value);
	save(s);
	actor_info("cassandra scheduler: registered as framework %s", s->framework_id);
	/* After a failover the master tells us what became of the nodes. */
	px_scheduler_driver_reconcile(d, NULL, 0);
	pthread_mutex_unlock(&s->lock);
}

static void sched_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *m, void *arg)
{
	(void)m;
	(void)arg;
	px_scheduler_driver_reconcile(d, NULL, 0);
}

static void sched_error(px_scheduler_driver *d, const char *message, void *arg)
{
	struct sched *s = arg;
	(void)d;
	actor_error("cassandra scheduler: %s", message);
	pthread_mutex_lock(&s->lock);
	s->torn_down = true;
	pthread_mutex_unlock(&s->lock);
}

/* ---- add-node, from `plexus cassandra add-node` -------------------------------------------- */

static void on_add(actor_t *self, const actor_msg *msg, void *arg)
{
	struct sched *s = arg;
	char reply[32];
	pthread_mutex_lock(&s->lock);
	if (s->nslots < MAX_SLOTS) {
		s->nslots++;
		save(s);
		want_offers(s);
	}
	snprintf(reply, sizeof(reply), "%d", s->nslots);
	pthread_mutex_unlock(&s->lock);
	actor_info("cassandra scheduler: adding a node: %s nodes", reply);
	actor_send(self, msg->from, CAS_MSG_SCHED_ADDED, reply, strlen(reply));
}

static struct sched *control_sched;

static int control_init(actor_t *self)
{
	actor_install(self, CAS_MSG_SCHED_ADD, on_add, control_sched);
	return 0;
}

static const actor_def control_def = {.name = CAS_SCHED_ACTOR, .init = control_init};

int cas_sched_run(const cas_sched_opts *opts)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return 1;
	s->o = *opts;
	s->nslots = opts->nodes > MAX_SLOTS ? MAX_SLOTS : opts->nodes;
	pthread_mutex_init(&s->lock, NULL);
	load(s);

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = -1;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "plexus cassandra: cannot start the runtime\n");
		free(s);
		return 1;
	}
	control_sched = s;
	actor_pid control;
	actor_spawn(&control_def, NULL, &control);

	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fw.user = (char *)"root";
	fw.name = (char *)s->o.name;
	fw.role = (char *)s->o.role;
	fw.principal = (char *)s->o.principal;
	fw.has_failover_timeout = true;
	fw.failover_timeout = 7 * 24 * 3600.0; /* the nodes outlive a scheduler restart */
	fw.has_checkpoint = true;
	fw.checkpoint = true;
	if (s->framework_id[0]) {
		fid.value = s->framework_id;
		fw.id = &fid;
		actor_info("cassandra scheduler: failing over to framework %s", s->framework_id);
	}
	px_scheduler_callbacks cb = {.registered = sched_registered,
	                             .reregistered = sched_reregistered,
	                             .resource_offers = sched_resource_offers,
	                             .status_update = sched_status,
	                             .error = sched_error};
	s->d = px_scheduler_driver_alloc(&cb, s, &fw, s->o.master, NULL);
	if (s->d == NULL || px_scheduler_driver_start(s->d) != PX_DRIVER_RUNNING) {
		fprintf(stderr, "plexus cassandra: cannot start the scheduler driver\n");
		px_scheduler_driver_free(s->d);
		actor_runtime_fini();
		free(s);
		return 1;
	}
	/* Wait for a signal or for the driver to end (teardown, abort). */
	int status = 0;
	for (;;) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000000};
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig > 0) {
			actor_info("cassandra scheduler: stopping for failover; the nodes keep running");
			px_scheduler_driver_stop(s->d, true);
			break;
		}
		pthread_mutex_lock(&s->lock);
		bool gone = s->torn_down;
		pthread_mutex_unlock(&s->lock);
		enum px_driver_status ds = px_scheduler_driver_status(s->d);
		if (gone || (ds != PX_DRIVER_RUNNING && ds != PX_DRIVER_NOT_STARTED)) {
			/* Removed by the master (teardown): the state no longer names a framework. */
			unlink(s->o.state);
			status = gone ? 0 : 1;
			break;
		}
	}
	px_scheduler_driver_free(s->d);
	actor_terminate(control);
	actor_wait(control, 5000);
	actor_runtime_fini();
	pthread_mutex_destroy(&s->lock);
	free(s);
	return status;
}
