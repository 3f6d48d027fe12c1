/* harness.h — what the integration tests share: real `plexus` processes (master,
 * agents, local clusters, commands) on 127.0.0.1 with free ports, HTTP polling with
 * bounded deadlines, and a test framework on the scheduler driver that records what
 * it is told.
 *
 * Every process started here is killed and reaped by harness_fini(), even when a test
 * fails half-way: Criterion's assertions end the test through its teardown, which
 * calls it. The test process is a child subreaper, so executors whose agent was killed
 * are reaped too. */
#ifndef TESTS_INTEGRATION_HARNESS_H
#define TESTS_INTEGRATION_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "plexus/message.h"
#include "plexus/scheduler.h"

/* ---- processes ------------------------------------------------------------------ */

/* Sets up a scratch directory and the child subreaper; call from each test's init. */
void harness_init(void);
/* Kills every process started (and every orphan reparented to this one), reaps them,
 * stops a runtime started by fw_runtime_start, removes the scratch directory. */
void harness_fini(void);
/* The scratch directory of this test. */
const char *harness_dir(void);

/* A TCP port on 127.0.0.1 that nothing listens on now. */
int free_port(void);

/* Starts the plexus program with args (NULL-terminated; argv[0] is added), its stdout
 * and stderr in <scratch>/<name>.log. Returns the child's pid. */
pid_t plexus_spawn(const char *name, const char *const *args);
/* The same with a list of arguments. */
pid_t plexus_spawnl(const char *name, ...);
/* The log file of a process started as name (borrowed until the next call). */
const char *proc_log(const char *name);
/* Sends sig to pid and, for SIGKILL, reaps it. */
void proc_signal(pid_t pid, int sig);
/* Waits up to timeout_ms for pid to exit; its exit status (or 128 + signal) in
 * *status. false on timeout. */
bool proc_wait(pid_t pid, int timeout_ms, int *status);
/* Runs plexus with args to completion (bounded by timeout_ms); its stdout in *out
 * (malloc'ed) if out is not NULL. Returns the exit status, or -1 on timeout. */
int plexus_run(char **out, int timeout_ms, const char *const *args);

/* ---- a cluster of separate processes ---------------------------------------------- */

struct cluster {
	int master_port;    /* HTTP */
	int agent_ports[4]; /* HTTP */
	pid_t master;
	pid_t agents[4];
	int nagents;
	char master_addr[64]; /* "127.0.0.1:PORT" */
};

/* Starts a master with these extra flags (NULL-terminated list, may be NULL) and waits
 * for /health. The defaults keep the suite fast: allocation every 100ms, pings every
 * 200ms, 3 missed pings. */
void cluster_start_master(struct cluster *c, const char *const *extra);
/* Starts agent i with resources and extra flags, and waits until the master lists it. */
void cluster_start_agent(struct cluster *c, int i, const char *resources, const char *const *extra);
/* Master with two agents of cpus:1;mem:512. */
void cluster_start(struct cluster *c);

/* ---- HTTP ------------------------------------------------------------------------- */

/* GET http://127.0.0.1:port<path>: the status (0 when unreachable), body in *body if
 * not NULL (malloc'ed). */
int http_get(int port, const char *path, char **body);
int http_post(int port, const char *path, const char *content_type, const char *body, char **out);
/* GET as JSON; NULL when unreachable, not 200, or not JSON. */
json_t *http_json(int port, const char *path);

/* Calls pred(arg) every 20ms until it is true or timeout_ms passed; its last answer. */
bool wait_until(int timeout_ms, bool (*pred)(void *arg), void *arg);

/* The state of task_id in the master's /master/state ("TASK_RUNNING" ...), written
 * into out; false when the master does not know it. */
bool master_task_state(int port, const char *task_id, char *out, size_t outlen);
/* Waits until the master reports task_id in state; false on timeout. */
bool wait_master_task_state(int port, const char *task_id, const char *state, int timeout_ms);
/* The number of active agents the master lists. */
int master_active_agents(int port);

/* ---- a test framework on the scheduler driver ------------------------------------- */

/* One status update as the framework saw it. */
struct fw_update {
	char task_id[128];
	char agent_id[128];
	int state;
	int reason; /* -1: unset */
	char message[256];
	uint8_t uuid[16];
	bool has_uuid;
};

struct fw;

/* Starts this process's libactor runtime (listening on 127.0.0.1), once per test. */
void fw_runtime_start(void);

/* A framework named name registered with master ("127.0.0.1:PORT"). failover_timeout
 * in seconds (0: none). id: fail over to that framework id (NULL: a new one).
 * implicit_acks false: updates are acknowledged only by fw_ack. */
struct fw *fw_start(const char *master, const char *name, double failover_timeout, const char *id,
                    bool implicit_acks);
/* Stops the driver (failover: keep the framework for its failover_timeout) and frees
 * everything. NULL is a no-op. */
void fw_stop(struct fw *f, bool failover);
px_scheduler_driver *fw_driver(struct fw *f);
/* The role (also used as principal) of frameworks started afterwards, until changed;
 * NULL or "" for none (the default). */
void fw_set_role(const char *role);

/* Waits for the registration; the framework id (borrowed) or NULL on timeout. */
const char *fw_wait_registered(struct fw *f, int timeout_ms);
/* Waits for the next offer not yet taken and takes it (free with fw_offer_free);
 * NULL on timeout. */
Plexus__Offer *fw_next_offer(struct fw *f, int timeout_ms);
void fw_offer_free(Plexus__Offer *o);
/* Offers received so far. */
int fw_offers_received(struct fw *f);
/* Drops (declines with the default filter) every offer held and forgets them. */
void fw_decline_held(struct fw *f, double refuse_seconds);

/* The scalar cpus of an offer. */
double offer_cpus(const Plexus__Offer *o);

/* Launches tasks named/id'ed ids[i] running command on offer o, cpus and mem each. */
void fw_launch(struct fw *f, const Plexus__Offer *o, const char *const *ids, size_t n,
               const char *command, double cpus, double mem);
/* Launches on an offer id that may be invented (for validation tests). */
void fw_launch_on(struct fw *f, const char *offer_id, const char *agent_id, const char *task_id,
                  const char *command, double cpus, double mem);

/* Updates received so far (copies, up to max); the count. */
size_t fw_updates(struct fw *f, struct fw_update *out, size_t max);
/* Waits until task_id has had an update in state (-2: any); false on timeout. */
bool fw_wait_state(struct fw *f, const char *task_id, int state, int timeout_ms);
/* Waits until the latest update of task_id is in another state than not_state; that
 * state in *state. false on timeout. */
bool fw_wait_other_state(struct fw *f, const char *task_id, int not_state, int *state,
                         int timeout_ms);
/* Waits until task_id has had a terminal update; its latest update in *out. */
bool fw_wait_terminal(struct fw *f, const char *task_id, struct fw_update *out, int timeout_ms);
/* The number of updates of task_id in state received so far. */
int fw_count(struct fw *f, const char *task_id, int state);
/* Waits until task_id has had at least n updates in state; false on timeout. */
bool fw_wait_count(struct fw *f, const char *task_id, int state, int n, int timeout_ms);
/* Acknowledges the latest update of task_id (explicit acknowledgements). */
void fw_ack(struct fw *f, const char *task_id);
/* Counters of driver callbacks. */
int fw_agent_lost(struct fw *f);
int fw_disconnected(struct fw *f);
int fw_reregistered(struct fw *f);
bool fw_error(struct fw *f, char *out, size_t outlen);


#endif
