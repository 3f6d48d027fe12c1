/* harness.h — what the agent tests share: a runtime listening on 127.0.0.1, a "master"
 * actor that speaks the master's side of the agent protocol with real messages and
 * records what it receives, an agent under test, a scratch work dir and a tiny HTTP
 * client. */
#ifndef TESTS_AGENT_HARNESS_H
#define TESTS_AGENT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/libactor.h"
#include "actor/pb.h"
#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

/* One status update the master received. */
struct seen_update {
	char task_id[128];
	int state;  /* Plexus__TaskState */
	int reason; /* -1 when unset */
	int source; /* -1 when unset */
	char message[512];
	uint8_t uuid[16];
	int latest_state; /* -1 when unset */
};

struct harness {
	char work_dir[256];
	actor_pid master;
	actor_pid agent;
	uint16_t http_port;
	bool master_by_http;         /* --master=127.0.0.1:<http port> instead of the PID */
	const char *executor_path;   /* NULL: the plexus-executor of this build */
	uint64_t fetcher_cache_size; /* 0: the default */
};

/* Starts the runtime and the master actor (not the agent). */
void harness_start(struct harness *h);
/* Starts an agent with these --resources / --attributes (NULL: defaults/detected) and
 * waits for its registration. */
void harness_start_agent(struct harness *h, const char *resources, const char *attributes);
/* Stops the agent (if any), the runtime, removes the work dir. */
void harness_stop(struct harness *h);

/* Ends the master actor and starts a new one under the same PID (a master failover
 * as the agent sees it: `exited`, then the same PID answering again). */
void harness_restart_master(struct harness *h);

/* Whether the master acknowledges updates it receives (default true). */
void master_set_auto_ack(bool on);
/* Sends msg from the master actor to `to`. */
void master_send(actor_pid to, const ProtobufCMessage *msg);

/* Waits (real time) until the master has received at least n updates; false on
 * timeout. */
bool master_wait_updates(size_t n, int64_t timeout_ms);
size_t master_updates(struct seen_update *out, size_t max);
/* Waits until the master received a registration (1) or re-registration (2) message,
 * at least n of that kind in all. Returns the agent's resources as text (free it) of
 * the latest one, or NULL on timeout. */
char *master_wait_registration(int kind, size_t n, int64_t timeout_ms);
/* The number of re-registrations' tasks reported in the latest ReregisterAgentMessage. */
size_t master_last_reregistration_tasks(void);
size_t master_exited_executors(void);
/* Waits until the master heard of n executors' ends (ExitedExecutorMessage). */
bool master_wait_exited(size_t n, int64_t timeout_ms);
size_t master_pongs(void);
/* The attributes of the latest registration, as "name=value" joined with ';'. */
void master_last_attributes(char *buf, size_t len);

/* Sends RunTaskMessage for a command task of framework "fw-1". */
void run_command_task(struct harness *h, const char *task_id, const char *command);
/* The same with a framework's executor (then command is unused) and/or a kill policy
 * grace period (ms; negative: none). */
void run_task(struct harness *h, const char *task_id, const char *command,
              const Plexus__ExecutorInfo *executor, int64_t kill_grace_ms);
void kill_task(struct harness *h, const char *task_id);

/* GET http://127.0.0.1:port/target; returns the status and the body (free it). */
int http_get(uint16_t port, const char *target, char **body);

/* The sandbox directory of a command task's run (the agent's "latest" link), malloc'ed. */
char *sandbox_of(struct harness *h, const char *task_id);
/* Reads a whole file (NUL-terminated, free it), or NULL. */
char *read_file(const char *path);
/* Waits (real time) until a file exists and is not empty. */
bool wait_file(const char *path, int64_t timeout_ms);

#define AGENT_ID     "agent-S0"
#define FRAMEWORK_ID "fw-1"

#endif
