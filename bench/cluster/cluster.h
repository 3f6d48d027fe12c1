/* cluster.h — what the cluster benchmarks share (header-only: every .c of this folder
 * is a program of its own).
 *
 *   - ports for a master peer: its actor transport on P, its HTTP server on P+1;
 *   - a blocking HTTP GET against 127.0.0.1 (to poll a master's metrics and state);
 *   - the master peer: a runtime that listens and the real master actor in it;
 *   - a simulated agent (cl_simagent): an actor that speaks the agent's side of the
 *     master protocol (proto/internal.proto) — RegisterAgentMessage, PongAgentMessage,
 *     RunTaskMessage answered by StatusUpdateMessages, acknowledgements — but runs no
 *     executor. The agent library has no seam to replace its launcher (agent_start
 *     always takes the containerizer, and executors must be processes that register
 *     through the executor driver, which reads its identity from the environment), so
 *     the launch and state benchmarks use this actor in place of executors that finish
 *     (or keep running) every task at once. Like the real agent's status update
 *     manager it sends a task's next update only once the previous one was
 *     acknowledged: TASK_RUNNING at once, TASK_FINISHED when RUNNING is acknowledged.
 *
 * Every process arms alarm(): a hung run ends by itself, and peers die with their
 * parent (bench_peer_spawn sets PR_SET_PDEATHSIG). */
#ifndef BENCH_CLUSTER_H
#define BENCH_CLUSTER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "actor/libactor.h"
#include "actor/pb.h"
#include "bench.h"
#include "bench_actor.h"
#include "common/resources.h"
#include "plexus/scheduler.h"
#include "master/master.h"
#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

/* What every simulated or real agent of these benchmarks has (as cluster.allocator_cycle). */
#define CL_AGENT_RESOURCES "cpus:24;mem:98304;disk:1048576;ports:[31000-32000]"

/* ---- ports --------------------------------------------------------------------- */

static inline int cl_port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* A port P with P and P+1 free (the master's actor and HTTP ports). */
static inline int cl_port_pair(void)
{
	srand((unsigned)(getpid() ^ time(NULL)));
	for (int i = 0; i < 200; i++) {
		int p = 20000 + rand() % 20000;
		if (cl_port_free(p) && cl_port_free(p + 1))
			return p;
	}
	bench_fail("no free pair of ports");
}

/* ---- HTTP GET ---------------------------------------------------------------- */

/* GET http://127.0.0.1:port/path; the body (malloc'd, NUL-terminated) in *body and its
 * length in *len. Returns the status code, or -1 (connection refused, timeout). */
static inline int cl_http_call(int port, const char *method, const char *path,
                               const char *content_type, const char *req_body, char **body,
                               size_t *len, int timeout_ms);
static inline int cl_http_get(int port, const char *path, char **body, size_t *len, int timeout_ms)
{
	return cl_http_call(port, "GET", path, NULL, NULL, body, len, timeout_ms);
}

/* The same with any method and, when req_body is not NULL, a body of content_type. */
static inline int cl_http_call(int port, const char *method, const char *path,
                               const char *content_type, const char *req_body, char **body,
                               size_t *len, int timeout_ms)
{
	*body = NULL;
	*len = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	char req[1024];
	int n = snprintf(req, sizeof(req),
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
	                 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
	                 method, path, port, content_type ? content_type : "text/plain",
	                 req_body ? strlen(req_body) : 0, req_body ? req_body : "");
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap + 1);
	long clen = -1;
	size_t hdr = 0;
	for (;;) {
		if (used == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (nb == NULL)
				break;
			buf = nb;
		}
		ssize_t r = read(fd, buf + used, cap - used);
		if (r <= 0)
			break;
		used += (size_t)r;
		buf[used] = '\0';
		if (hdr == 0) {
			char *e = strstr(buf, "\r\n\r\n");
			if (e != NULL) {
				hdr = (size_t)(e - buf) + 4;
				char *cl = strcasestr(buf, "content-length:");
				if (cl != NULL && cl < e)
					clen = strtol(cl + 15, NULL, 10);
			}
		}
		if (hdr != 0 && clen >= 0 && used >= hdr + (size_t)clen)
			break;
	}
	close(fd);
	buf[used] = '\0';
	int status = -1;
	if (hdr == 0 || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		free(buf);
		return -1;
	}
	size_t blen = used - hdr;
	if (clen >= 0 && (size_t)clen < blen)
		blen = (size_t)clen;
	if (clen >= 0 && blen < (size_t)clen) { /* cut short: timed out */
		free(buf);
		return -1;
	}
	memmove(buf, buf + hdr, blen);
	buf[blen] = '\0';
	*body = buf;
	*len = blen;
	return status;
}

/* A numeric metric of GET /metrics/snapshot on port, or -1 when unreadable. */
static inline double cl_metric(int port, const char *name)
{
	char *body;
	size_t len;
	double v = -1;
	if (cl_http_get(port, "/metrics/snapshot", &body, &len, 5000) != 200)
		return -1;
	json_t *j = json_loadb(body, len, 0, NULL);
	json_t *x = j ? json_object_get(j, name) : NULL;
	if (json_is_number(x))
		v = json_number_value(x);
	json_decref(j);
	free(body);
	return v;
}

/* Waits up to timeout_ms for the HTTP server on port to answer /health. */
static inline void cl_wait_http(int port, int64_t timeout_ms, const char *what)
{
	uint64_t end = bench_now_ns() + (uint64_t)timeout_ms * 1000000;
	while (bench_now_ns() < end) {
		char *body;
		size_t len;
		int st = cl_http_get(port, "/metrics/snapshot", &body, &len, 1000);
		free(body);
		if (st == 200)
			return;
		usleep(20000);
	}
	bench_fail("%s did not answer on port %d", what, port);
}

/* Resident set of another process in bytes (VmRSS), or 0. */
static inline size_t cl_rss_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	size_t kb = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* Ends a peer this process started: SIGTERM, then bench_peer_wait kills what is left. */
static inline void cl_peer_end(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		bench_peer_wait(pid, 10000);
	}
}

/* Ends the master and agents peers together (SIGKILL: neither side should spend the
 * end logging the other's loss); reaps both. */
static inline void cl_peers_kill(pid_t master, pid_t agents)
{
	if (agents > 0)
		kill(agents, SIGKILL);
	if (master > 0)
		kill(master, SIGKILL);
	if (agents > 0)
		bench_peer_wait(agents, 10000);
	if (master > 0)
		bench_peer_wait(master, 10000);
}

/* ---- runtime ------------------------------------------------------------------- */

/* Starts this process's runtime listening on 127.0.0.1:actor_port (0: ephemeral) with
 * its HTTP server on http_port (-1: none). Logs at warn and above only. */
static inline void cl_runtime_start(int64_t workers, int actor_port, int http_port)
{
	actor_log_set_level(ACTOR_LOG_WARN);
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = (int)workers;
	cfg.ip = "127.0.0.1";
	cfg.port = actor_port;
	cfg.listen = true;
	cfg.http_port = http_port;
	int rc = actor_runtime_init(&cfg);
	if (rc != 0)
		bench_fail("actor_runtime_init: %s", actor_strerror(rc));
}

/* The master's PID text for the master peer on port. */
static inline void cl_master_pid(int port, char *buf, size_t size)
{
	snprintf(buf, size, "master@127.0.0.1:%d", port);
}

/* The master peer: the real master in a runtime of its own on ports (port, port+1),
 * until SIGTERM (or its parent's end). */
static inline int cl_master_peer(int port, int64_t allocation_interval_ms)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	cl_runtime_start(0, port, port + 1);
	master_flags f;
	master_flags_default(&f);
	f.ip = "127.0.0.1";
	f.port = port + 1;
	f.actor_port = port;
	if (allocation_interval_ms > 0)
		f.allocation_interval_ms = allocation_interval_ms;
	actor_pid pid;
	int rc = master_start(&f, &pid);
	if (rc != 0)
		bench_fail("master_start: %s", actor_strerror(rc));
	int sig;
	sigwait(&sigs, &sig);
	master_stop(pid);
	actor_runtime_fini();
	return 0;
}

/* ---- the simulated agent ------------------------------------------------------ */

struct cl_sim_shared {
	Plexus__Resource **res; /* CL_AGENT_RESOURCES, read-only, shared by all */
	size_t nres;
	actor_pid master;
	bool finish;                /* TASK_FINISHED once RUNNING is acknowledged */
	_Atomic int64_t registered; /* agents registered */
	_Atomic int64_t running;    /* RUNNING updates sent */
	_Atomic int64_t finished;   /* FINISHED updates sent */
};

struct cl_sim {
	BENCH_CACHELINE_ALIGNED char pad_;
	struct cl_sim_shared *sh;
	actor_t *self;
	char pidtext[ACTOR_PID_TEXT_MAX];
	char name[32];
	char *agent_id;
	int64_t backoff_ms;
	actor_def def;
};

static inline void cl_sim_register(struct cl_sim *s)
{
	Plexus__AgentInfo info = PLEXUS__AGENT_INFO__INIT;
	Plexus__Internal__RegisterAgentMessage m = PLEXUS__INTERNAL__REGISTER_AGENT_MESSAGE__INIT;
	info.hostname = s->name;
	info.has_port = true;
	info.port = 5051;
	info.resources = s->sh->res;
	info.n_resources = s->sh->nres;
	m.agent = &info;
	m.version = (char *)"0.1.0";
	actor_send_pb(s->self, s->sh->master, &m.base);
}

static inline void cl_sim_retry(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct cl_sim *s = actor_state(self);
	if (s->agent_id != NULL)
		return;
	cl_sim_register(s);
	s->backoff_ms = s->backoff_ms * 2 > 60000 ? 60000 : s->backoff_ms * 2;
	actor_delay(self, s->backoff_ms, cl_sim_retry, NULL);
}

static inline void cl_sim_registered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	(void)from;
	(void)arg;
	struct cl_sim *s = actor_state(self);
	const Plexus__Internal__AgentRegisteredMessage *m = (const void *)msg;
	if (s->agent_id != NULL || m->agent_id == NULL || m->agent_id->value == NULL)
		return;
	s->agent_id = strdup(m->agent_id->value);
	atomic_fetch_add(&s->sh->registered, 1);
}

static inline void cl_sim_ping(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	(void)msg;
	(void)arg;
	Plexus__Internal__PongAgentMessage pong = PLEXUS__INTERNAL__PONG_AGENT_MESSAGE__INIT;
	actor_send_pb(self, from, &pong.base);
}

/* Sends the update of task_id (of framework_id) to state. The uuid's first byte is the
 * state, so the acknowledgement says which update it was without a table. */
static inline void cl_sim_update(struct cl_sim *s, const char *framework_id, const char *task_id,
                          Plexus__TaskState state)
{
	Plexus__Internal__StatusUpdateMessage m = PLEXUS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
	Plexus__Internal__StatusUpdate u = PLEXUS__INTERNAL__STATUS_UPDATE__INIT;
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	uint8_t uuid[16];
	struct timespec ts;

	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)rand();
	uuid[0] = (uint8_t)state;
	clock_gettime(CLOCK_REALTIME, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	tid.value = (char *)task_id;
	fid.value = (char *)framework_id;
	aid.value = s->agent_id;
	st.task_id = &tid;
	st.state = state;
	st.has_source = true;
	st.source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
	st.agent_id = &aid;
	st.has_uuid = true;
	st.uuid.data = uuid;
	st.uuid.len = 16;
	st.has_timestamp = true;
	st.timestamp = now;
	u.framework_id = &fid;
	u.agent_id = &aid;
	u.status = &st;
	u.has_timestamp = true;
	u.timestamp = now;
	u.has_uuid = true;
	u.uuid.data = uuid;
	u.uuid.len = 16;
	u.has_latest_state = true;
	u.latest_state = state;
	m.update = &u;
	m.pid = s->pidtext;
	actor_send_pb(s->self, s->sh->master, &m.base);
}

static inline void cl_sim_run_task(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	(void)arg;
	(void)from;
	struct cl_sim *s = actor_state(self);
	const Plexus__Internal__RunTaskMessage *m = (const void *)msg;
	if (s->agent_id == NULL || m->task == NULL || m->task->task_id == NULL ||
	    m->framework_id == NULL)
		return;
	cl_sim_update(s, m->framework_id->value, m->task->task_id->value,
	              PLEXUS__TASK_STATE__TASK_RUNNING);
	atomic_fetch_add(&s->sh->running, 1);
}

static inline void cl_sim_ack(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	(void)arg;
	(void)from;
	struct cl_sim *s = actor_state(self);
	const Plexus__Internal__StatusUpdateAcknowledgementMessage *m = (const void *)msg;
	if (!s->sh->finish || m->task_id == NULL || m->framework_id == NULL || m->uuid.len != 16 ||
	    m->uuid.data[0] != PLEXUS__TASK_STATE__TASK_RUNNING)
		return;
	cl_sim_update(s, m->framework_id->value, m->task_id->value,
	              PLEXUS__TASK_STATE__TASK_FINISHED);
	atomic_fetch_add(&s->sh->finished, 1);
}

static inline int cl_sim_init(actor_t *self)
{
	struct cl_sim *s = actor_state(self);
	s->self = self;
	actor_pid_format(actor_self(self), s->pidtext, sizeof(s->pidtext));
	/* arg NULL: the handlers find their agent through actor_state. actor_install_pb
	 * interns each (descriptor, function, arg) in one process-wide list that it
	 * searches linearly, so a per-agent arg would make starting 10,000 agents
	 * quadratic (it does for the real agent, see docs/benchmarks.md). */
	actor_install_pb(self, &plexus__internal__agent_registered_message__descriptor,
	                 cl_sim_registered, NULL);
	actor_install_pb(self, &plexus__internal__ping_agent_message__descriptor, cl_sim_ping,
	                 NULL);
	actor_install_pb(self, &plexus__internal__run_task_message__descriptor, cl_sim_run_task,
	                 NULL);
	actor_install_pb(self,
	                 &plexus__internal__status_update_acknowledgement_message__descriptor,
	                 cl_sim_ack, NULL);
	cl_sim_register(s);
	s->backoff_ms = 1000;
	actor_delay(self, s->backoff_ms, cl_sim_retry, NULL);
	return 0;
}

static inline void cl_sim_fini(actor_t *self)
{
	struct cl_sim *s = actor_state(self);
	free(s->agent_id);
	s->agent_id = NULL;
}

/* Starts n simulated agents registering with master_pid (all at once); returns them. */
static inline struct cl_sim *cl_sims_start(struct cl_sim_shared *sh, const char *master_pid, int64_t n,
                                    bool finish)
{
	px_resources *rs = NULL;
	char err[256];
	if (px_resources_parse(CL_AGENT_RESOURCES, NULL, &rs, err, sizeof(err)) != 0 ||
	    px_resources_to_pb(rs, PX_PB_REFINED, &sh->res, &sh->nres) != 0)
		bench_fail("agent resources: %s", err);
	px_resources_free(rs);
	if (actor_pid_parse(master_pid, &sh->master) != 0)
		bench_fail("bad master pid %s", master_pid);
	sh->finish = finish;
	struct cl_sim *v = bench_alloc_aligned((size_t)n, sizeof(*v));
	for (int64_t i = 0; i < n; i++) {
		struct cl_sim *s = &v[i];
		s->sh = sh;
		snprintf(s->name, sizeof(s->name), "sim-%06lld", (long long)i);
		s->def.name = "slave";
		s->def.init = cl_sim_init;
		s->def.fini = cl_sim_fini;
		int rc = actor_spawn(&s->def, s, NULL);
		if (rc != 0)
			bench_fail("spawn simulated agent %lld: %s", (long long)i, actor_strerror(rc));
	}
	return v;
}

/* A peer that runs n simulated agents until SIGTERM (or its parent's end). */
static inline int cl_sims_peer(int master_port, int64_t n, bool finish, int64_t workers)
{
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	cl_wait_http(master_port + 1, 30000, "the master");
	cl_runtime_start(workers, 0, -1);
	static struct cl_sim_shared sh;
	char mp[64];
	cl_master_pid(master_port, mp, sizeof(mp));
	cl_sims_start(&sh, mp, n, finish);
	int sig;
	sigwait(&sigs, &sig);
	bench_log("simulated agents: %lld registered, %lld RUNNING and %lld FINISHED sent",
	          (long long)atomic_load(&sh.registered), (long long)atomic_load(&sh.running),
	          (long long)atomic_load(&sh.finished));
	_exit(0); /* the actors' state is not freed one by one: the process ends */
}

/* ---- the framework ------------------------------------------------------------- */

/* A scheduler that launches `total` tasks (cpus, mem each; command `cmd`) on the offers
 * as they come, at most `per_offer` per offer (0: all that fit), and counts their
 * updates. Done when `total` tasks reached `until` (TASK_RUNNING or TASK_FINISHED) or
 * ended otherwise. */
struct cl_fw {
	int64_t total, per_offer;
	double cpus, mem;
	const char *cmd;
	Plexus__TaskState until;
	/* Inside the driver's actor. */
	int64_t launched;
	Plexus__Resource **res;
	size_t nres;
	bool suppressed;
	/* Read from outside. */
	_Atomic uint64_t t_first, t_last;
	_Atomic int64_t reached, bad, offers;
	bench_latch *done;
};

static inline double cl_scalar(const Plexus__Offer *o, const char *name)
{
	double v = 0;
	for (size_t i = 0; i < o->n_resources; i++) {
		const Plexus__Resource *r = o->resources[i];
		if (r->name != NULL && strcmp(r->name, name) == 0 && r->scalar != NULL)
			v += r->scalar->value;
	}
	return v;
}

static inline void cl_fw_task_resources(struct cl_fw *f, const Plexus__Offer *o)
{
	px_resources *have = NULL, *need = NULL, *alloc = NULL;
	char err[256], text[128];
	const char *role = NULL;
	if (px_resources_from_pb(o->resources, o->n_resources, &have, err, sizeof(err)) != 0)
		bench_fail("offer resources: %s", err);
	for (size_t i = 0; i < px_resources_size(have) && role == NULL; i++)
		role = px_resource_allocation_role(px_resources_at(have, i));
	snprintf(text, sizeof(text), "cpus:%g;mem:%g", f->cpus, f->mem);
	if (px_resources_parse(text, NULL, &need, err, sizeof(err)) != 0 ||
	    px_resources_allocate(need, role, &alloc) != 0 ||
	    px_resources_to_pb(alloc, PX_PB_REFINED, &f->res, &f->nres) != 0)
		bench_fail("task resources: %s", err);
	px_resources_free(have);
	px_resources_free(need);
	px_resources_free(alloc);
}

static inline void cl_fw_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	struct cl_fw *f = arg;
	Plexus__Filters again = PLEXUS__FILTERS__INIT, never = PLEXUS__FILTERS__INIT;
	again.has_refuse_seconds = true;
	again.refuse_seconds = 0;
	never.has_refuse_seconds = true;
	never.refuse_seconds = 3600;
	atomic_fetch_add(&f->offers, (int64_t)n);
	for (size_t i = 0; i < n; i++) {
		const Plexus__Offer *o = offers[i];
		int64_t left = f->total - f->launched;
		int64_t k = (int64_t)(cl_scalar(o, "cpus") / f->cpus + 1e-6);
		int64_t km = (int64_t)(cl_scalar(o, "mem") / f->mem + 1e-6);
		if (km < k)
			k = km;
		if (f->per_offer > 0 && f->per_offer < k)
			k = f->per_offer;
		if (left < k)
			k = left;
		if (k <= 0) {
			px_scheduler_driver_decline(d, o->id, left > 0 ? &again : &never);
			continue;
		}
		if (f->res == NULL)
			cl_fw_task_resources(f, o);
		Plexus__TaskInfo *tasks = calloc((size_t)k, sizeof(*tasks));
		Plexus__TaskID *ids = calloc((size_t)k, sizeof(*ids));
		const Plexus__TaskInfo **tp = calloc((size_t)k, sizeof(*tp));
		char (*names)[24] = calloc((size_t)k, sizeof(*names));
		Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
		cmd.value = (char *)f->cmd;
		cmd.has_shell = true;
		cmd.shell = true;
		if (tasks == NULL || ids == NULL || tp == NULL || names == NULL)
			bench_fail("out of memory");
		for (int64_t j = 0; j < k; j++) {
			snprintf(names[j], sizeof(names[j]), "t-%lld", (long long)(f->launched + j));
			plexus__task_id__init(&ids[j]);
			ids[j].value = names[j];
			plexus__task_info__init(&tasks[j]);
			tasks[j].name = names[j];
			tasks[j].task_id = &ids[j];
			tasks[j].agent_id = o->agent_id;
			tasks[j].resources = f->res;
			tasks[j].n_resources = f->nres;
			tasks[j].command = &cmd;
			tp[j] = &tasks[j];
		}
		uint64_t zero = 0;
		atomic_compare_exchange_strong(&f->t_first, &zero, bench_now_ns());
		const Plexus__OfferID *oid[1] = {o->id};
		px_scheduler_driver_launch(d, oid, 1, tp, (size_t)k, &again);
		f->launched += k;
		free(tasks);
		free(ids);
		free(tp);
		free(names);
	}
	if (f->launched >= f->total && !f->suppressed) {
		px_scheduler_driver_suppress(d, NULL, 0);
		f->suppressed = true;
	}
}

static inline bool cl_terminal(Plexus__TaskState s)
{
	switch (s) {
	case PLEXUS__TASK_STATE__TASK_FINISHED:
	case PLEXUS__TASK_STATE__TASK_FAILED:
	case PLEXUS__TASK_STATE__TASK_KILLED:
	case PLEXUS__TASK_STATE__TASK_LOST:
	case PLEXUS__TASK_STATE__TASK_ERROR:
	case PLEXUS__TASK_STATE__TASK_DROPPED:
	case PLEXUS__TASK_STATE__TASK_GONE:
	case PLEXUS__TASK_STATE__TASK_GONE_BY_OPERATOR:
	case PLEXUS__TASK_STATE__TASK_UNKNOWN:
		return true;
	default:
		return false;
	}
}

static inline void cl_fw_status(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	(void)d;
	struct cl_fw *f = arg;
	if (s->state == f->until) {
		if (atomic_fetch_add(&f->reached, 1) + 1 == f->total) {
			atomic_store(&f->t_last, bench_now_ns());
			bench_latch_count_down(f->done);
		}
	} else if (cl_terminal(s->state)) {
		if (atomic_fetch_add(&f->bad, 1) < 5)
			bench_log("task %s ended %s: %s", s->task_id->value,
			          protobuf_c_enum_descriptor_get_value(&plexus__task_state__descriptor,
			                                               s->state)
			              ->name,
			          s->message ? s->message : "");
	}
}

static inline void cl_fw_error(px_scheduler_driver *d, const char *message, void *arg)
{
	(void)d;
	(void)arg;
	bench_fail("framework error: %s", message);
}

/* Registers the framework with master_pid and starts launching. */
static inline px_scheduler_driver *cl_fw_start(struct cl_fw *f, const char *master_pid)
{
	px_scheduler_callbacks cb = {0};
	cb.resource_offers = cl_fw_offers;
	cb.status_update = cl_fw_status;
	cb.error = cl_fw_error;
	Plexus__FrameworkInfo fi = PLEXUS__FRAMEWORK_INFO__INIT;
	fi.user = (char *)"bench";
	fi.name = (char *)"cluster-bench";
	f->done = bench_latch_alloc(1);
	px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, f, &fi, master_pid, NULL);
	if (d == NULL || px_scheduler_driver_start(d) != PX_DRIVER_RUNNING)
		bench_fail("cannot start the scheduler driver");
	return d;
}

/* Waits until the framework is done (fails after timeout_s, or as soon as tasks ended
 * other than as asked). */
static inline void cl_fw_wait(struct cl_fw *f, int64_t timeout_s)
{
	uint64_t end = bench_now_ns() + (uint64_t)timeout_s * 1000000000ull;
	int64_t last = -1;
	uint64_t last_log = bench_now_ns();
	while (bench_latch_wait(f->done, 200) != 0) {
		if (atomic_load(&f->bad) > 0)
			bench_fail("%lld tasks ended other than as expected",
			           (long long)atomic_load(&f->bad));
		if (bench_now_ns() > end)
			bench_fail("timed out after %lld s: %lld of %lld tasks done, %lld offers",
			           (long long)timeout_s, (long long)atomic_load(&f->reached),
			           (long long)f->total, (long long)atomic_load(&f->offers));
		if (bench_now_ns() - last_log > 5000000000ull &&
		    atomic_load(&f->reached) != last) {
			last = atomic_load(&f->reached);
			last_log = bench_now_ns();
			bench_log("%lld of %lld tasks done", (long long)last, (long long)f->total);
		}
	}
	if (atomic_load(&f->bad) > 0)
		bench_fail("%lld tasks ended other than as expected", (long long)atomic_load(&f->bad));
}

/* Waits until the master on port has `want` active agents; returns the seconds it took. */
static inline double cl_wait_agents(int port, int64_t want, int64_t timeout_s, int64_t poll_ms)
{
	uint64_t t0 = bench_now_ns(), end = t0 + (uint64_t)timeout_s * 1000000000ull;
	double have = -1;
	while (bench_now_ns() < end) {
		have = cl_metric(port + 1, "master/slaves_active");
		if (have >= (double)want)
			return (double)(bench_now_ns() - t0) / 1e9;
		usleep((useconds_t)poll_ms * 1000);
	}
	bench_fail("only %.0f of %lld agents registered after %lld s", have, (long long)want,
	           (long long)timeout_s);
}

#endif
