/* recovery.c — an agent restarted on the work dir of a previous run (killed, crashed,
 * upgraded) takes over what that run left, as Mesos's agent recovers:
 *
 *  - the agent id from <work>/meta/slaves/latest: the agent re-registers under it
 *    (ReregisterAgentMessage with the recovered tasks), so the master keeps its tasks;
 *  - each executor run's checkpoint: its framework, executor, tasks and the status
 *    updates not yet acknowledged, which go out again after re-registration;
 *  - executors still running are watched again (they are no longer our children: the
 *    reaper watches them through a pidfd) and asked to reconnect
 *    (ReconnectExecutorMessage); their drivers answer ReregisterExecutorMessage with
 *    the updates the agent may have missed. One that does not re-register within
 *    --executor-reregistration-timeout is destroyed;
 *  - executors that ended while the agent was down end their tasks (TASK_FAILED for a
 *    command executor, TASK_LOST for a framework's) with REASON_EXECUTOR_TERMINATED
 *    and a message saying so.
 *
 * A damaged checkpoint is logged and what it still holds is used: a run whose executor
 * is known but whose records are damaged is destroyed (its state cannot be trusted).
 * With --recover=cleanup every executor of the previous run is killed, the checkpoint
 * is removed and the agent registers as a new agent. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/containerizer/hooks.h"
#include "agent/files.h"
#include "agent/internal.h"
#include "agent/paths.h"

#define DIED_MESSAGE "Executor terminated while the agent was down"

/* What one run file holds. */
struct rec_task {
	Plexus__TaskInfo *info;
	Plexus__TaskState state;
	bool launched;
	Plexus__Internal__StatusUpdate **updates;
	size_t nupdates;
};

struct rec_run {
	bool has_run;
	char framework_id[256], executor_id[256], run[64], directory[4096], driver[256],
	    framework_pid[256];
	int pid;
	unsigned long long start;
	bool command, terminated;
	int wait_status;
	Plexus__FrameworkInfo *framework;
	Plexus__ExecutorInfo *executor;
	struct rec_task *tasks;
	size_t ntasks;
};

static void rec_free(struct rec_run *r)
{
	for (size_t i = 0; i < r->ntasks; i++) {
		agent_pb_free(r->tasks[i].info);
		for (size_t k = 0; k < r->tasks[i].nupdates; k++)
			agent_pb_free(r->tasks[i].updates[k]);
		free(r->tasks[i].updates);
	}
	free(r->tasks);
	agent_pb_free(r->framework);
	agent_pb_free(r->executor);
}

static void kv(const char *text, size_t len, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;

	out[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = (size_t)(nl - p) - klen - 1;
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return;
		}
		p = nl + 1;
	}
}

static int on_record(int type, const uint8_t *body, size_t len, void *arg)
{
	struct rec_run *r = arg;
	char v[64];

	switch (type) {
	case CKPT_RUN:
		kv((const char *)body, len, "framework_id", r->framework_id,
		   sizeof(r->framework_id));
		kv((const char *)body, len, "executor_id", r->executor_id, sizeof(r->executor_id));
		kv((const char *)body, len, "run", r->run, sizeof(r->run));
		kv((const char *)body, len, "directory", r->directory, sizeof(r->directory));
		kv((const char *)body, len, "driver", r->driver, sizeof(r->driver));
		kv((const char *)body, len, "framework_pid", r->framework_pid,
		   sizeof(r->framework_pid));
		kv((const char *)body, len, "pid", v, sizeof(v));
		r->pid = atoi(v);
		kv((const char *)body, len, "start", v, sizeof(v));
		r->start = strtoull(v, NULL, 10);
		kv((const char *)body, len, "command", v, sizeof(v));
		r->command = strcmp(v, "1") == 0;
		kv((const char *)body, len, "terminated", v, sizeof(v));
		r->terminated = strcmp(v, "1") == 0;
		kv((const char *)body, len, "wait_status", v, sizeof(v));
		r->wait_status = atoi(v);
		if ((r->pid <= 0 && !r->terminated) || !agent_path_id_valid(r->framework_id) ||
		    !agent_path_id_valid(r->executor_id) || !agent_path_id_valid(r->run))
			return -1;
		r->has_run = true;
		return 0;
	case CKPT_FRAMEWORK:
		agent_pb_free(r->framework);
		r->framework = plexus__framework_info__unpack(NULL, len, body);
		return r->framework == NULL ? -1 : 0;
	case CKPT_EXECUTOR:
		agent_pb_free(r->executor);
		r->executor = plexus__executor_info__unpack(NULL, len, body);
		return r->executor == NULL || r->executor->executor_id == NULL ? -1 : 0;
	case CKPT_TASK: {
		if (len < 5)
			return -1;
		Plexus__TaskInfo *info = plexus__task_info__unpack(NULL, len - 5, body + 5);
		if (info == NULL || info->task_id == NULL || info->task_id->value == NULL) {
			agent_pb_free(info);
			return -1;
		}
		struct rec_task *t = realloc(r->tasks, (r->ntasks + 1) * sizeof(*t));
		if (t == NULL) {
			agent_pb_free(info);
			return -1;
		}
		r->tasks = t;
		t = &r->tasks[r->ntasks++];
		memset(t, 0, sizeof(*t));
		t->info = info;
		t->launched = body[0] != 0;
		t->state = (Plexus__TaskState)((uint32_t)body[1] | (uint32_t)body[2] << 8 |
		                               (uint32_t)body[3] << 16 | (uint32_t)body[4] << 24);
		return 0;
	}
	case CKPT_UPDATE: {
		if (r->ntasks == 0)
			return -1;
		Plexus__Internal__StatusUpdate *u =
		    plexus__internal__status_update__unpack(NULL, len, body);
		struct rec_task *t = &r->tasks[r->ntasks - 1];
		if (u == NULL || u->status == NULL || u->status->task_id == NULL ||
		    strcmp(u->status->task_id->value, t->info->task_id->value) != 0) {
			agent_pb_free(u);
			return -1;
		}
		Plexus__Internal__StatusUpdate **us =
		    realloc(t->updates, (t->nupdates + 1) * sizeof(*us));
		if (us == NULL) {
			agent_pb_free(u);
			return -1;
		}
		t->updates = us;
		t->updates[t->nupdates++] = u;
		return 0;
	}
	default:
		return -1; /* written by a newer agent, or garbage that passed the checksum */
	}
}

/* Whether the checkpointed process still runs (the same process: its start time). */
static bool alive(const struct rec_run *r)
{
	if (r->pid <= 0 || r->terminated)
		return false;
	uint64_t start = ckpt_process_start(r->pid);
	return start != 0 && (r->start == 0 || start == r->start);
}

/* SIGKILLs what is left of a run we will not take over. */
static void kill_run(struct agent *a, const struct rec_run *r)
{
	struct agent_container c = {.pid = r->pid};
	a->launcher->destroy(&c);
}

/* ---- rebuilding the agent's state ------------------------------------------------- */

static struct agent_framework *framework_of(struct agent *a, struct rec_run *r)
{
	struct agent_framework *fw = agent_framework_find(a, r->framework_id);
	if (fw != NULL)
		return fw;
	fw = calloc(1, sizeof(*fw));
	if (fw == NULL || (fw->id = strdup(r->framework_id)) == NULL) {
		free(fw);
		return NULL;
	}
	fw->info = r->framework;
	r->framework = NULL;
	if (r->framework_pid[0] != '\0')
		fw->pid = strdup(r->framework_pid);
	fw->next = a->frameworks;
	a->frameworks = fw;
	actor_gauge_add(a->m.frameworks_active, 1);
	return fw;
}

static void append_task(struct agent_task **list, struct agent_task *t)
{
	while (*list != NULL)
		list = &(*list)->next;
	t->next = NULL;
	*list = t;
}

static void recovered_reaped(actor_t *self, pid_t pid, int status, void *arg)
{
	struct agent *a = actor_state(self);
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
			if (ex->container.pid == pid && !ex->container.exited) {
				if (ex->end_message == NULL && ex->recovered) {
					ex->has_end_reason = true;
					ex->end_reason =
					    PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
					ex->end_message = strdup(
					    "Executor terminated before it re-registered with the "
					    "restarted agent");
				}
				agent_executor_ended(a, ex, status);
				return;
			}
}

/* Builds the executor of a run; returns NULL when the run cannot be taken over. */
static struct agent_executor *rebuild(struct agent *a, struct rec_run *r)
{
	struct agent_framework *fw = framework_of(a, r);
	if (fw == NULL)
		return NULL;
	struct agent_executor *ex = calloc(1, sizeof(*ex));
	if (ex == NULL || (ex->id = strdup(r->executor_id)) == NULL) {
		free(ex);
		return NULL;
	}
	ex->fw = fw;
	ex->info = r->executor;
	r->executor = NULL;
	ex->command = r->command;
	size_t rl = strnlen(r->run, sizeof(ex->run_uuid) - 1);
	memcpy(ex->run_uuid, r->run, rl);
	ex->run_uuid[rl] = '\0';
	ex->directory = r->directory[0] ? strdup(r->directory) : NULL;
	ex->serial = ++a->next_serial;
	ex->grace_ms = a->shutdown_grace_ms;
	if (ex->info->shutdown_grace_period != NULL &&
	    ex->info->shutdown_grace_period->nanoseconds >= 0)
		ex->grace_ms = ex->info->shutdown_grace_period->nanoseconds / 1000000;
	ex->container.pid = r->pid;
	ex->start_ticks = r->start;
	ex->recovered = true;
	ex->phase = EXECUTOR_RUNNING;
	if (r->driver[0] == '\0' || actor_pid_parse(r->driver, &ex->driver) != 0)
		memset(&ex->driver, 0, sizeof(ex->driver));
	ex->next = fw->executors;
	fw->executors = ex;
	if (ex->directory != NULL) {
		char *virt = agent_sandbox_virtual(fw->id, ex->id);
		files_attach(ex->directory, ex->directory);
		if (virt != NULL)
			files_attach(ex->directory, virt);
		free(virt);
	}
	for (size_t i = 0; i < r->ntasks; i++) {
		struct rec_task *rt = &r->tasks[i];
		struct agent_task *t = calloc(1, sizeof(*t));
		if (t == NULL)
			continue;
		t->info = rt->info;
		rt->info = NULL;
		agent_task_transition(a, t, rt->state);
		append_task(rt->launched ? &ex->launched : &ex->queued, t);
		for (size_t k = 0; k < rt->nupdates; k++) {
			/* The manager is paused until re-registration, then sends them. */
			sum_update(&a->sum, a->self, rt->updates[k]);
			rt->updates[k] = NULL;
		}
	}
	return ex;
}

/* A minimal ExecutorInfo for a command executor whose info was lost. */
static Plexus__ExecutorInfo *command_info(const char *executor_id)
{
	Plexus__ExecutorInfo info = PLEXUS__EXECUTOR_INFO__INIT;
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;

	eid.value = (char *)executor_id;
	info.executor_id = &eid;
	return (void *)px_message_copy(&info.base);
}

/* A damaged checkpoint may have lost the task of a command executor; its id is the
 * executor's, so the task can still be ended. */
static void adopt_command_task(struct agent *a, struct agent_executor *ex)
{
	Plexus__TaskInfo info = PLEXUS__TASK_INFO__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	struct agent_task *t = calloc(1, sizeof(*t));

	tid.value = ex->id;
	aid.value = a->agent_id;
	info.task_id = &tid;
	info.agent_id = &aid; /* required: a copy without it would not decode */
	info.name = ex->id;
	if (t == NULL || (t->info = (void *)px_message_copy(&info.base)) == NULL) {
		free(t);
		return;
	}
	agent_task_transition(a, t, PLEXUS__TASK_STATE__TASK_STAGING);
	append_task(&ex->launched, t);
}

/* The identity of a run whose run record is lost: the ids from its path
 * (.../frameworks/F/executors/E/runs/R/run.ckpt), the process from forked.pid. */
static void run_from_path(const char *path, struct rec_run *r)
{
	char *copy = strdup(path), *parts[8] = {0};
	int n = 0;

	if (copy == NULL)
		return;
	/* The last components, from the end: run.ckpt R runs E executors F frameworks. */
	for (char *s = strrchr(copy, '/'); s != NULL && n < 7; s = strrchr(copy, '/')) {
		parts[n++] = s + 1;
		*s = '\0';
	}
	if (n == 7 && strcmp(parts[2], "runs") == 0 && strcmp(parts[4], "executors") == 0 &&
	    strcmp(parts[6], "frameworks") == 0 && agent_path_id_valid(parts[1]) &&
	    agent_path_id_valid(parts[3]) && agent_path_id_valid(parts[5]) &&
	    strlen(parts[1]) < sizeof(r->run) && strlen(parts[3]) < sizeof(r->executor_id) &&
	    strlen(parts[5]) < sizeof(r->framework_id)) {
		char *pidfile = NULL;
		uint8_t *text = NULL;
		size_t len = 0;
		int pid = 0, command = 0;
		unsigned long long start = 0;
		if (asprintf(&pidfile, "%s/forked.pid", path) >= 0) {
			char *slash = strrchr(pidfile, '/');
			/* path ends in run.ckpt: make it <run dir>/forked.pid. */
			*slash = '\0';
			slash = strrchr(pidfile, '/');
			memmove(slash + 1, "forked.pid", sizeof("forked.pid"));
			if (ckpt_read_file(pidfile, &text, &len) == 0 &&
			    sscanf((char *)text, "%d %llu %d", &pid, &start, &command) == 3 &&
			    pid > 0) {
				strcpy(r->run, parts[1]);
				strcpy(r->executor_id, parts[3]);
				strcpy(r->framework_id, parts[5]);
				r->pid = pid;
				r->start = start;
				r->command = command == 1;
				r->has_run = true;
			}
			free(text);
			free(pidfile);
		}
	}
	free(copy);
}

/* One run file. */
static void recover_run(struct agent *a, const char *path)
{
	struct rec_run r;
	uint8_t *data = NULL;
	size_t len = 0;
	char damage[256] = "";

	memset(&r, 0, sizeof(r));
	int rc = ckpt_read_file(path, &data, &len);
	if (rc != 0) {
		actor_error("agent %s: recovery: cannot read %s: %s; that run is gone", a->pid.id,
		            path, strerror(rc));
		return;
	}
	ckpt_parse(data, len, on_record, &r, damage, sizeof(damage));
	free(data);
	if (!r.has_run && damage[0] != '\0')
		run_from_path(path, &r);
	if (!r.has_run) {
		actor_error("agent %s: recovery: the checkpoint %s is damaged (%s) and names no "
		            "executor; that run is gone",
		            a->pid.id, path, damage[0] ? damage : "no run record");
		goto out;
	}
	bool live = alive(&r);
	const char *why = NULL;
	if (damage[0] != '\0')
		why = damage;
	else if (r.executor == NULL)
		why = "it has no executor info";
	if (why != NULL) {
		actor_error("agent %s: recovery: the checkpoint %s is damaged (%s); executor %s "
		            "of framework %s (pid %d) is treated as gone%s",
		            a->pid.id, path, why, r.executor_id, r.framework_id, r.pid,
		            live ? " and killed" : "");
		if (live)
			kill_run(a, &r);
		if (r.executor == NULL && r.command && !a->recover_cleanup)
			r.executor = command_info(r.executor_id);
		if (r.executor == NULL)
			goto out;
		/* What is known of its tasks still gets a terminal update below. */
		live = false;
	}
	if (a->recover_cleanup) {
		if (live) {
			actor_info(
			    "agent %s: recovery: killing executor %s of framework %s (pid %d): "
			    "--recover=cleanup",
			    a->pid.id, r.executor_id, r.framework_id, r.pid);
			kill_run(a, &r);
		}
		goto out;
	}
	struct agent_executor *ex = rebuild(a, &r);
	if (ex == NULL) {
		actor_error("agent %s: recovery: out of memory rebuilding executor %s", a->pid.id,
		            r.executor_id);
		if (live)
			kill_run(a, &r);
		goto out;
	}
	actor_gauge_add(a->m.executors_running, 1);
	if (why != NULL && ex->command && ex->queued == NULL && ex->launched == NULL)
		adopt_command_task(a, ex);
	if (r.terminated || !live) {
		/* It ended while the agent was down (or the agent saw it end but had not
		 * finished with it): its tasks end now. */
		ex->has_end_reason = true;
		ex->end_reason = PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
		ex->end_message = strdup(why != NULL    ? "Executor terminated: its checkpoint was "
		                                          "damaged while the agent was down"
		                         : r.terminated ? "Executor killed when the agent stopped"
		                                        : DIED_MESSAGE);
		/* Its session may still hold its tasks: they go with it (destroy), unless
		 * another process has its pid now. */
		uint64_t now_start = r.pid > 0 ? ckpt_process_start(r.pid) : 0;
		if (r.terminated || (now_start != 0 && now_start != r.start))
			ex->container.pid = 0;
		actor_warn("agent %s: recovery: executor %s of framework %s %s", a->pid.id, ex->id,
		           ex->fw->id,
		           r.terminated ? "had ended already" : "ended while the agent was down");
		agent_executor_ended(a, ex, r.terminated ? r.wait_status : ACTOR_REAP_UNKNOWN);
		goto out;
	}
	rc = actor_reap_watch_any(ex->container.pid, a->pid, recovered_reaped, NULL);
	if (rc != 0) {
		actor_error("agent %s: recovery: cannot watch executor %s (pid %d): %s; killing it",
		            a->pid.id, ex->id, r.pid, actor_strerror(rc));
		kill_run(a, &r);
		ex->end_message = strdup("Executor killed: the restarted agent cannot watch it");
		ex->has_end_reason = true;
		ex->end_reason = PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
		agent_executor_ended(a, ex, ACTOR_REAP_UNKNOWN);
		goto out;
	}
	if (ex->driver.id[0] == '\0') {
		/* It never registered: there is nobody to reconnect to (Mesos kills it too). */
		actor_warn("agent %s: recovery: executor %s of framework %s had not registered; "
		           "killing it",
		           a->pid.id, ex->id, ex->fw->id);
		ex->has_end_reason = true;
		ex->end_reason =
		    PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_REREGISTRATION_TIMEOUT;
		ex->end_message = strdup("Executor had not registered when the agent restarted");
		ex->phase = EXECUTOR_TERMINATING;
		a->launcher->destroy(&ex->container);
		goto out;
	}
	actor_info("agent %s: recovery: reconnecting to executor %s of framework %s (pid %d) "
	           "at %s",
	           a->pid.id, ex->id, ex->fw->id, r.pid, actor_pid_str(ex->driver));
	Plexus__Internal__ReconnectExecutorMessage m =
	    PLEXUS__INTERNAL__RECONNECT_EXECUTOR_MESSAGE__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = a->agent_id;
	m.agent_id = &aid;
	actor_send_pb(a->self, ex->driver, &m.base);
	/* Its updates may have changed on disk form only (damage repaired): rewrite. */
	agent_checkpoint_executor(a, ex);
out:
	rec_free(&r);
}

/* Calls fn for every <dir>/<name> that is a directory. */
static void each_dir(const char *dir, void (*fn)(struct agent *, const char *), struct agent *a)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			continue;
		fn(a, p);
		free(p);
	}
	closedir(d);
}

static void each_run(struct agent *a, const char *run_dir)
{
	char *p = NULL;
	if (asprintf(&p, "%s/run.ckpt", run_dir) < 0)
		return;
	if (access(p, F_OK) == 0)
		recover_run(a, p);
	else
		actor_warn("agent %s: recovery: %s has no run.ckpt; ignored", a->pid.id, run_dir);
	free(p);
}

static void each_executor(struct agent *a, const char *ex_dir)
{
	char *p = NULL;
	if (asprintf(&p, "%s/runs", ex_dir) >= 0)
		each_dir(p, each_run, a);
	free(p);
}

static void each_framework(struct agent *a, const char *fw_dir)
{
	char *p = NULL;
	if (asprintf(&p, "%s/executors", fw_dir) >= 0)
		each_dir(p, each_executor, a);
	free(p);
}

static void reregister_timeout_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct agent *a = actor_state(self);
	a->reregister_timer = 0;
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next) {
			if (!ex->recovered || ex->phase != EXECUTOR_RUNNING)
				continue;
			actor_warn(
			    "agent %s: executor %s of framework %s did not re-register within "
			    "%lld ms; destroying it",
			    a->pid.id, ex->id, fw->id, (long long)a->reregister_timeout_ms);
			ex->has_end_reason = true;
			ex->end_reason =
			    PLEXUS__TASK_STATUS__REASON__REASON_EXECUTOR_REREGISTRATION_TIMEOUT;
			free(ex->end_message);
			ex->end_message =
			    strdup("Executor did not re-register with the restarted agent in time");
			ex->phase = EXECUTOR_TERMINATING;
			a->launcher->destroy(&ex->container);
		}
}

void agent_recover(struct agent *a)
{
	char *latest = NULL, *dir = NULL, *path = NULL;
	uint8_t *id = NULL;
	size_t len = 0;

	if (!a->checkpoint)
		return;
	if (asprintf(&latest, "%s/meta/slaves/latest", a->work_dir) < 0)
		return;
	int rc = ckpt_read_file(latest, &id, &len);
	if (rc == ENOENT) {
		actor_info("agent %s: nothing to recover in %s/meta", a->pid.id, a->work_dir);
		goto out;
	}
	if (rc != 0 || !agent_path_id_valid((char *)id) || strlen((char *)id) != len) {
		actor_error("agent %s: recovery: %s is damaged (%s); starting as a new agent",
		            a->pid.id, latest, rc ? strerror(rc) : "not an agent id");
		goto out;
	}
	dir = ckpt_agent_dir(a->work_dir, (char *)id);
	uint8_t *info = NULL;
	size_t ilen = 0;
	if (dir != NULL && asprintf(&path, "%s/slave.info", dir) >= 0) {
		Plexus__AgentInfo *ai = NULL;
		if (ckpt_read_file(path, &info, &ilen) != 0 ||
		    (ai = plexus__agent_info__unpack(NULL, ilen, info)) == NULL)
			actor_warn(
			    "agent %s: recovery: %s is missing or damaged; recovering agent %s "
			    "from its id alone",
			    a->pid.id, path, (char *)id);
		agent_pb_free(ai);
		free(info);
	}
	actor_info("agent %s: recovering agent %s from %s%s", a->pid.id, (char *)id, dir,
	           a->recover_cleanup ? " (--recover=cleanup: killing its executors)" : "");
	a->agent_id = strdup((char *)id);
	char *fws = NULL;
	if (dir != NULL && asprintf(&fws, "%s/frameworks", dir) >= 0)
		each_dir(fws, each_framework, a);
	free(fws);
	if (a->recover_cleanup) {
		/* A new agent: nothing of the old one is kept. */
		free(a->agent_id);
		a->agent_id = NULL;
		agent_checkpoint_forget_agent(a);
		if (dir != NULL)
			(void)ckpt_remove_tree(dir);
		goto out;
	}
	for (struct agent_framework *fw = a->frameworks; fw != NULL;) {
		struct agent_framework *next = fw->next;
		agent_gc(a, fw);
		fw = next;
	}
	a->reregister_timer =
	    actor_delay(a->self, a->reregister_timeout_ms, reregister_timeout_cb, NULL);
out:
	free(latest);
	free(dir);
	free(path);
	free(id);
}

/* ---- executors re-registering ----------------------------------------------------- */

static bool update_known(struct agent *a, const Plexus__Internal__StatusUpdate *u,
                         const struct agent_task *t)
{
	for (struct sum_stream *s = a->sum.streams; s != NULL; s = s->next) {
		if (strcmp(s->task_id, u->status->task_id->value) != 0 ||
		    strcmp(s->framework_id, u->framework_id->value) != 0)
			continue;
		for (struct sum_update *p = s->head; p != NULL; p = p->next)
			if (p->u->uuid.len == 16 && memcmp(p->u->uuid.data, u->uuid.data, 16) == 0)
				return true;
	}
	/* Acknowledged by the master already (the task is past it): the driver merely had
	 * not heard the agent's acknowledgement before the restart. */
	for (size_t i = 0; i < t->nstatus; i++)
		if (t->states[i] == u->status->state)
			return true;
	return false;
}

static void on_reregister_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
                                   void *arg)
{
	struct agent *a = arg;
	const Plexus__Internal__ReregisterExecutorMessage *m = (const void *)msg;
	struct agent_framework *fw =
	    m->framework_id ? agent_framework_find(a, m->framework_id->value) : NULL;
	struct agent_executor *ex =
	    fw && m->executor_id ? agent_executor_find(fw, m->executor_id->value) : NULL;

	if (ex == NULL || !ex->recovered || ex->phase != EXECUTOR_RUNNING) {
		actor_warn("agent %s: executor %s re-registers, but %s; shutting it down",
		           a->pid.id,
		           m->executor_id && m->executor_id->value ? m->executor_id->value : "?",
		           ex == NULL ? "it is unknown" : "it is not being recovered");
		agent_executor_refuse(self, a, from, m->framework_id, m->executor_id);
		return;
	}
	ex->driver = from;
	ex->recovered = false;
	actor_link(self, from);
	ex->linked = true;

	Plexus__Internal__ExecutorReregisteredMessage r =
	    PLEXUS__INTERNAL__EXECUTOR_REREGISTERED_MESSAGE__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__AgentInfo info;
	Plexus__Resource **res;
	size_t nres;
	agent_fill_info(a, &info, &res, &nres);
	aid.value = a->agent_id;
	info.id = &aid;
	r.agent_id = &aid;
	r.agent_info = &info;
	actor_send_pb(self, from, &r.base);
	px_pb_resources_free(res, nres);
	actor_info("agent %s: executor %s of framework %s re-registered as %s (%zu updates)",
	           a->pid.id, ex->id, fw->id, actor_pid_str(from), m->n_updates);

	/* What the executor sent while the agent was down, in its order. */
	for (size_t i = 0; i < m->n_updates; i++) {
		const Plexus__Internal__StatusUpdate *u = m->updates[i];
		if (u == NULL || u->status == NULL || u->status->task_id == NULL ||
		    u->framework_id == NULL || !u->has_uuid || u->uuid.len != 16)
			continue;
		struct agent_task *t = agent_task_find(fw, u->status->task_id->value, NULL);
		if (t != NULL && update_known(a, u, t)) {
			/* Acknowledge it again, so the driver forgets it. */
			Plexus__Internal__StatusUpdateAcknowledgementMessage ack =
			    PLEXUS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
			ack.agent_id = &aid;
			ack.framework_id = u->framework_id;
			ack.task_id = u->status->task_id;
			ack.has_uuid = true;
			ack.uuid = u->uuid;
			actor_send_pb(self, from, &ack.base);
			continue;
		}
		agent_executor_update(a, from, u);
	}
	agent_checkpoint_executor(a, ex);
}

void agent_recovery_install(struct agent *a)
{
	actor_install_pb(a->self, &plexus__internal__reregister_executor_message__descriptor,
	                 on_reregister_executor, a);
}
