/* spk_executor.c — a coarse-grained executor: the job's own binary in executor mode.
 *
 * The framework starts it as the executor of one Mesos task (its resources are the
 * executor's cores and memory) with `--spk-executor --driver=PID --cores=N`. It
 * registers with the driver's actor and then runs the driver's tasks, up to N at once
 * on its task threads, for as long as the driver wants it: the Mesos task ends when
 * the driver releases it (spk.stop), when the driver is gone, or when Mesos kills it.
 * Its actor serves its map outputs to reducers and receives the blocks it fetched. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actor/actor.h>
#include <actor/log.h>
#include <actor/runtime.h>
#include <plexus/executor.h>
#include <plexus/message.h>

#include "spk_eval.h"
#include "spk_exec.h"
#include "spk_proto.h"
#include "spk_shuffle.h"

struct output {
	int sid, map, nreduce;
	char *path;
	uint64_t *offsets;
};

struct cached {
	int rdd, part;
	spk_buf rows;
};

struct spk_fetch_session {
	uint64_t id;
	spk_fetch_reply *head, *tail;
	struct spk_fetch_session *next;
};

struct queued {
	struct queued *next;
	size_t len;
	uint8_t data[];
};

struct spk_exec {
	px_executor_driver *driver;
	actor_pid self, driver_pid;
	char dir[4096];
	char mesos_task[256];
	int cores;

	pthread_mutex_t mu; /* everything below */
	pthread_cond_t work, replies;
	struct queued *queue_head, *queue_tail;
	bool stopping, task_done;
	struct output *outputs;
	size_t noutputs;
	struct cached *cache;
	size_t ncache;
	struct spk_fetch_session *sessions;
	uint64_t next_session;
	pthread_t *threads;
	int nthreads;
};

static spk_exec executor = {.mu = PTHREAD_MUTEX_INITIALIZER,
                            .work = PTHREAD_COND_INITIALIZER,
                            .replies = PTHREAD_COND_INITIALIZER};

actor_pid spk_exec_pid(const spk_exec *ex)
{
	return ex->self;
}

const char *spk_exec_dir(const spk_exec *ex)
{
	return ex->dir;
}

int spk_exec_output_add(spk_exec *ex, int sid, int map, const char *path, const uint64_t *offsets,
                        int nreduce)
{
	uint64_t *copy = malloc(((size_t)nreduce + 1) * sizeof(uint64_t));
	char *p = strdup(path);
	if (copy == NULL || p == NULL) {
		free(copy);
		free(p);
		return -1;
	}
	memcpy(copy, offsets, ((size_t)nreduce + 1) * sizeof(uint64_t));
	pthread_mutex_lock(&ex->mu);
	struct output *o = NULL;
	for (size_t i = 0; i < ex->noutputs; i++)
		if (ex->outputs[i].sid == sid && ex->outputs[i].map == map)
			o = &ex->outputs[i];
	if (o == NULL) {
		struct output *grown = realloc(ex->outputs, (ex->noutputs + 1) * sizeof(*grown));
		if (grown == NULL) {
			pthread_mutex_unlock(&ex->mu);
			free(copy);
			free(p);
			return -1;
		}
		ex->outputs = grown;
		o = &ex->outputs[ex->noutputs++];
	} else {
		free(o->path);
		free(o->offsets);
	}
	*o = (struct output){sid, map, nreduce, p, copy};
	pthread_mutex_unlock(&ex->mu);
	return 0;
}

bool spk_exec_output_find(spk_exec *ex, int sid, int map, int reduce, char *path, size_t pathlen,
                          uint64_t *off, uint64_t *len)
{
	bool found = false;
	pthread_mutex_lock(&ex->mu);
	for (size_t i = 0; i < ex->noutputs && !found; i++) {
		struct output *o = &ex->outputs[i];
		if (o->sid != sid || o->map != map || reduce < 0 || reduce >= o->nreduce)
			continue;
		snprintf(path, pathlen, "%s", o->path);
		*off = o->offsets[reduce];
		*len = o->offsets[reduce + 1] - o->offsets[reduce];
		found = true;
	}
	pthread_mutex_unlock(&ex->mu);
	return found;
}

bool spk_exec_cache_get(spk_exec *ex, int rdd, int part, spk_buf *out)
{
	bool found = false;
	pthread_mutex_lock(&ex->mu);
	for (size_t i = 0; i < ex->ncache && !found; i++)
		if (ex->cache[i].rdd == rdd && ex->cache[i].part == part)
			found =
			    spk_buf_append(out, ex->cache[i].rows.data, ex->cache[i].rows.len) == 0;
	pthread_mutex_unlock(&ex->mu);
	return found;
}

void spk_exec_cache_put(spk_exec *ex, int rdd, int part, spk_buf *buf)
{
	pthread_mutex_lock(&ex->mu);
	for (size_t i = 0; i < ex->ncache; i++)
		if (ex->cache[i].rdd == rdd && ex->cache[i].part == part) {
			pthread_mutex_unlock(&ex->mu);
			return; /* another attempt got there first */
		}
	struct cached *grown = realloc(ex->cache, (ex->ncache + 1) * sizeof(*grown));
	if (grown != NULL) {
		ex->cache = grown;
		ex->cache[ex->ncache++] = (struct cached){rdd, part, *buf};
		*buf = (spk_buf){0};
	}
	pthread_mutex_unlock(&ex->mu);
}

spk_fetch_session *spk_fetch_open(spk_exec *ex, uint64_t *id)
{
	spk_fetch_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	pthread_mutex_lock(&ex->mu);
	s->id = ++ex->next_session;
	s->next = ex->sessions;
	ex->sessions = s;
	pthread_mutex_unlock(&ex->mu);
	*id = s->id;
	return s;
}

void spk_fetch_close(spk_exec *ex, spk_fetch_session *s)
{
	pthread_mutex_lock(&ex->mu);
	for (spk_fetch_session **p = &ex->sessions; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	pthread_mutex_unlock(&ex->mu);
	while (s->head != NULL) {
		spk_fetch_reply *next = s->head->next;
		free(s->head);
		s->head = next;
	}
	free(s);
}

spk_fetch_reply *spk_fetch_wait(spk_fetch_session *s, int64_t timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&executor.mu);
	while (s->head == NULL && !executor.stopping)
		if (pthread_cond_timedwait(&executor.replies, &executor.mu, &deadline) == ETIMEDOUT)
			break;
	spk_fetch_reply *r = s->head;
	if (r != NULL) {
		s->head = r->next;
		if (s->head == NULL)
			s->tail = NULL;
	}
	pthread_mutex_unlock(&executor.mu);
	return r;
}

/* Under mu. */
static void session_push(spk_fetch_session *s, spk_fetch_reply *r)
{
	r->next = NULL;
	if (s->tail != NULL)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;
}

static void watch_cb(actor_t *self, void *arg)
{
	actor_pid *pid = arg;
	if (self != NULL)
		actor_link(self, *pid);
	free(pid);
}

void spk_exec_watch(spk_exec *ex, const char *pid)
{
	actor_pid *p = malloc(sizeof(*p));
	if (p == NULL || actor_pid_parse(pid, p) != 0) {
		free(p);
		return;
	}
	actor_call(ex->self, watch_cb, p);
}

/* ---- the actor ---------------------------------------------------------------------- */

static void on_block(actor_t *self, const actor_msg *msg, void *arg)
{
	(void)self;
	(void)arg;
	spk_rd rd;
	spk_rd_init(&rd, msg->data, msg->len);
	uint64_t session = spk_get_varint(&rd);
	int input = spk_get_u8(&rd);
	int map = (int)spk_get_varint(&rd);
	bool ok = spk_get_u8(&rd) != 0;
	uint64_t offset = spk_get_varint(&rd);
	spk_bytes data = spk_get_bytes(&rd);
	if (!spk_rd_done(&rd)) {
		actor_warn("spark executor: malformed block from %s dropped",
		           actor_pid_str(msg->from));
		return;
	}
	spk_fetch_reply *r = malloc(sizeof(*r) + data.len);
	if (r == NULL)
		return;
	memset(r, 0, sizeof(*r));
	r->input = input;
	r->map = map;
	r->ok = ok;
	r->offset = offset;
	r->len = data.len;
	memcpy(r->data, data.data, data.len);
	pthread_mutex_lock(&executor.mu);
	spk_fetch_session *s = executor.sessions;
	while (s != NULL && s->id != session)
		s = s->next;
	if (s != NULL) {
		session_push(s, r);
		r = NULL;
		pthread_cond_broadcast(&executor.replies);
	}
	pthread_mutex_unlock(&executor.mu);
	free(r); /* the session ended (its task failed) */
}

static void on_fetch(actor_t *self, const actor_msg *msg, void *arg)
{
	(void)arg;
	spk_shuffle_serve(self, &executor, msg);
}

static void enqueue(const uint8_t *data, size_t len)
{
	struct queued *q = malloc(sizeof(*q) + len);
	if (q == NULL)
		return;
	q->next = NULL;
	q->len = len;
	memcpy(q->data, data, len);
	pthread_mutex_lock(&executor.mu);
	if (executor.queue_tail != NULL)
		executor.queue_tail->next = q;
	else
		executor.queue_head = q;
	executor.queue_tail = q;
	pthread_cond_signal(&executor.work);
	pthread_mutex_unlock(&executor.mu);
}

static void on_launch(actor_t *self, const actor_msg *msg, void *arg)
{
	(void)self;
	(void)arg;
	enqueue(msg->data, msg->len);
}

/* Ends the Mesos task (once) and the executor driver, which ends the process. */
static void finish(Plexus__TaskState state, const char *why)
{
	pthread_mutex_lock(&executor.mu);
	bool first = !executor.task_done;
	executor.task_done = true;
	executor.stopping = true;
	pthread_cond_broadcast(&executor.work);
	pthread_cond_broadcast(&executor.replies);
	pthread_mutex_unlock(&executor.mu);
	if (!first)
		return;
	actor_info("spark executor: %s", why);
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = executor.mesos_task;
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.state = state;
	st.message = (char *)why;
	if (executor.mesos_task[0] != '\0')
		px_executor_driver_send_status_update(executor.driver, &st);
	px_executor_driver_stop(executor.driver);
}

static void on_stop(actor_t *self, const actor_msg *msg, void *arg)
{
	(void)self;
	(void)arg;
	if (actor_pid_equal(msg->from, executor.driver_pid))
		finish(PLEXUS__TASK_STATE__TASK_FINISHED, "released by the driver");
}

static void exited(actor_t *self, actor_pid who)
{
	(void)self;
	if (actor_pid_equal(who, executor.driver_pid)) {
		finish(PLEXUS__TASK_STATE__TASK_FINISHED, "the driver is gone");
		return;
	}
	/* Every session hears of it; those that wait on that executor fail their fetch. */
	pthread_mutex_lock(&executor.mu);
	for (spk_fetch_session *s = executor.sessions; s != NULL; s = s->next) {
		spk_fetch_reply *r = calloc(1, sizeof(*r));
		if (r == NULL)
			continue;
		r->lost = true;
		actor_pid_format(who, r->pid, sizeof(r->pid));
		session_push(s, r);
	}
	pthread_cond_broadcast(&executor.replies);
	pthread_mutex_unlock(&executor.mu);
}

static int exec_init(actor_t *self)
{
	actor_install(self, SPK_MSG_LAUNCH, on_launch, NULL);
	actor_install(self, SPK_MSG_STOP, on_stop, NULL);
	actor_install(self, SPK_MSG_FETCH, on_fetch, NULL);
	actor_install(self, SPK_MSG_BLOCK, on_block, NULL);
	actor_link(self, executor.driver_pid);
	spk_buf m = {0};
	spk_put_str(&m, executor.mesos_task);
	spk_put_varint(&m, (uint64_t)executor.cores);
	actor_send(self, executor.driver_pid, SPK_MSG_REGISTER, m.data, m.len);
	spk_buf_fini(&m);
	return 0;
}

static const actor_def exec_def = {.name = "spark-executor", .init = exec_init, .exited = exited};

/* ---- task threads ----------------------------------------------------------------- */

static void *task_thread(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&executor.mu);
		while (executor.queue_head == NULL && !executor.stopping)
			pthread_cond_wait(&executor.work, &executor.mu);
		struct queued *q = executor.queue_head;
		if (executor.stopping || q == NULL) {
			pthread_mutex_unlock(&executor.mu);
			return NULL;
		}
		executor.queue_head = q->next;
		if (executor.queue_head == NULL)
			executor.queue_tail = NULL;
		pthread_mutex_unlock(&executor.mu);

		char err[256] = "";
		spk_task_desc *t = spk_task_desc_decode(q->data, q->len, err, sizeof(err));
		spk_task_status st = {0};
		spk_buf value = {0};
		if (t == NULL) {
			/* Without an id the driver cannot be told; it sees the task lost with
			 * the executor if ever. Log it. */
			actor_error("spark executor: %s", err);
			spk_rd rd;
			spk_rd_init(&rd, q->data, q->len);
			st.task_id = spk_get_varint(&rd);
			st.result = SPK_TASK_FAILED;
			st.message = strdup(err);
		} else {
			spk_task_run(&executor, t, &st, &value);
		}
		st.value = (spk_bytes){value.data ? value.data : "", value.len};
		spk_buf m = {0};
		if (spk_task_status_encode(&st, &m) == 0)
			actor_send(NULL, executor.driver_pid, SPK_MSG_STATUS, m.data, m.len);
		spk_buf_fini(&m);
		spk_buf_fini(&value);
		spk_task_status_fini(&st);
		spk_task_desc_free(t);
		free(q);
	}
}

/* ---- the executor driver's side ---------------------------------------------------- */

static void launch_task(px_executor_driver *d, const Plexus__TaskInfo *task, void *arg)
{
	(void)arg;
	if (executor.mesos_task[0] != '\0') {
		/* One Mesos task per executor: a second one is refused. */
		Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
		st.task_id = task->task_id;
		st.state = PLEXUS__TASK_STATE__TASK_FAILED;
		st.message = "a spark executor runs one task";
		px_executor_driver_send_status_update(d, &st);
		return;
	}
	snprintf(executor.mesos_task, sizeof(executor.mesos_task), "%s", task->task_id->value);
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = task->task_id;
	st.state = PLEXUS__TASK_STATE__TASK_RUNNING;
	px_executor_driver_send_status_update(d, &st);
	if (actor_spawn(&exec_def, &executor, &executor.self) != 0)
		finish(PLEXUS__TASK_STATE__TASK_FAILED, "cannot spawn the executor's actor");
}

static void kill_task(px_executor_driver *d, const Plexus__TaskID *task_id, void *arg)
{
	(void)d;
	(void)task_id;
	(void)arg;
	finish(PLEXUS__TASK_STATE__TASK_KILLED, "killed");
}

static void shutdown_cb(px_executor_driver *d, void *arg)
{
	(void)d;
	(void)arg;
	finish(PLEXUS__TASK_STATE__TASK_KILLED, "shut down by the agent");
}

static void free_tables(void)
{
	for (size_t i = 0; i < executor.noutputs; i++) {
		free(executor.outputs[i].path);
		free(executor.outputs[i].offsets);
	}
	free(executor.outputs);
	for (size_t i = 0; i < executor.ncache; i++)
		spk_buf_fini(&executor.cache[i].rows);
	free(executor.cache);
	while (executor.queue_head != NULL) {
		struct queued *next = executor.queue_head->next;
		free(executor.queue_head);
		executor.queue_head = next;
	}
}

/* Executor mode: never returns. */
static void run_executor(int argc, char **argv)
{
	const char *driver = NULL;
	executor.cores = 1;
	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], "--driver=", 9) == 0)
			driver = argv[i] + 9;
		else if (strncmp(argv[i], "--cores=", 8) == 0)
			executor.cores = atoi(argv[i] + 8);
	}
	if (driver == NULL || actor_pid_parse(driver, &executor.driver_pid) != 0 ||
	    executor.cores < 1 || executor.cores > 256) {
		fprintf(stderr, "spark executor: usage: %s --driver=PID --cores=N\n", argv[0]);
		exit(2);
	}
	const char *dir = getenv("PLEXUS_DIRECTORY");
	if (dir == NULL || getcwd(executor.dir, sizeof(executor.dir)) == NULL)
		snprintf(executor.dir, sizeof(executor.dir), "%s", dir ? dir : ".");
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.http_port = -1;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "spark executor: cannot start the runtime\n");
		exit(1);
	}
	px_executor_callbacks cb = {
	    .launch_task = launch_task, .kill_task = kill_task, .shutdown = shutdown_cb};
	char err[256] = "";
	executor.driver = px_executor_driver_alloc(&cb, NULL, err, sizeof(err));
	if (executor.driver == NULL) {
		fprintf(stderr, "spark executor: %s\n", err);
		actor_runtime_fini();
		exit(1);
	}
	executor.threads = calloc((size_t)executor.cores, sizeof(pthread_t));
	for (int i = 0; executor.threads != NULL && i < executor.cores; i++)
		if (pthread_create(&executor.threads[i], NULL, task_thread, NULL) == 0)
			executor.nthreads++;
	px_executor_driver_run(executor.driver);
	pthread_mutex_lock(&executor.mu);
	executor.stopping = true;
	pthread_cond_broadcast(&executor.work);
	pthread_mutex_unlock(&executor.mu);
	for (int i = 0; i < executor.nthreads; i++)
		pthread_join(executor.threads[i], NULL);
	free(executor.threads);
	px_executor_driver_free(executor.driver);
	actor_runtime_fini();
	free_tables();
	exit(0);
}

void spk_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], SPK_EXECUTOR_FLAG) == 0)
		run_executor(argc, argv);
}
