/* spk_context.c — the context: configuration, the framework's scheduler (offers and
 * executors' Mesos statuses), the driver's actor (executors register with it and send
 * task statuses to it; it serves the jobs as JSON), and the blocking actions. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <actor/actor.h>
#include <actor/http.h>
#include <actor/log.h>
#include <actor/runtime.h>
#include <plexus/message.h>
#include <plexus/scheduler.h>
#include <plexus/util.h>

#include "spk_driver.h"
#include "spk_registry.h"

void spk_conf_default(spk_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->app_name = "spark";
	c->role = "*";
	c->executor_cores = 2;
	c->executor_mem_mb = 512;
	c->idle_timeout_ms = 60000;
	c->task_max_failures = 4;
	c->decline_seconds = 120;
	c->locality_wait_ms = 3000;
	c->http_port = 0;
}

static bool int_flag(const char *v, int min, int max, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return false;
	*out = (int)n;
	return true;
}

int spk_conf_from_args(spk_conf *c, int *argc, char **argv)
{
	int kept = 1, rc = 0;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		bool ok = true, mine = true;
		int64_t ms;
		if (strncmp(a, "--master=", 9) == 0)
			c->master = a + 9;
		else if (strncmp(a, "--name=", 7) == 0)
			c->app_name = a + 7;
		else if (strncmp(a, "--role=", 7) == 0)
			c->role = a + 7;
		else if (strncmp(a, "--max-cores=", 12) == 0)
			ok = int_flag(a + 12, 0, 1 << 20, &c->max_cores);
		else if (strncmp(a, "--executor-cores=", 17) == 0)
			ok = int_flag(a + 17, 1, 256, &c->executor_cores);
		else if (strncmp(a, "--executor-memory=", 18) == 0)
			ok = int_flag(a + 18, 32, 1 << 24, &c->executor_mem_mb);
		else if (strncmp(a, "--idle-timeout=", 15) == 0)
			ok = px_duration_parse(a + 15, &ms) && (c->idle_timeout_ms = ms, true);
		else if (strcmp(a, "--progress") == 0)
			c->progress = true;
		else if (strncmp(a, "--http-port=", 12) == 0)
			ok = int_flag(a + 12, -1, 65535, &c->http_port);
		else
			mine = false;
		if (!ok) {
			fprintf(stderr, "spark: bad value in %s\n", a);
			rc = -1;
		}
		if (!mine)
			argv[kept++] = argv[i];
	}
	*argc = kept;
	argv[kept] = NULL;
	return rc;
}

/* ---- the driver's actor ------------------------------------------------------------ */

static int find_exec_by_pid(spk_context *sc, actor_pid pid)
{
	for (int i = 0; i < sc->nexecs; i++)
		if (sc->execs[i].registered && actor_pid_equal(sc->execs[i].pid, pid))
			return i;
	return -1;
}

static void on_register(actor_t *self, const actor_msg *msg, void *arg)
{
	spk_context *sc = arg;
	spk_rd rd;
	spk_rd_init(&rd, msg->data, msg->len);
	char *id = spk_get_str(&rd);
	uint64_t cores = spk_get_varint(&rd);
	if (!spk_rd_done(&rd) || id == NULL || cores < 1 || cores > 256) {
		actor_warn("spark: malformed registration from %s dropped",
		           actor_pid_str(msg->from));
		free(id);
		return;
	}
	pthread_mutex_lock(&sc->mu);
	int found = -1;
	for (int i = 0; i < sc->nexecs; i++)
		if (strcmp(sc->execs[i].id, id) == 0 && sc->execs[i].alive &&
		    !sc->execs[i].registered)
			found = i;
	if (found < 0) {
		actor_warn("spark: registration of unknown executor %s from %s refused", id,
		           actor_pid_str(msg->from));
		actor_send(self, msg->from, SPK_MSG_STOP, NULL, 0);
	} else {
		struct spk_exec_ref *e = &sc->execs[found];
		e->pid = msg->from;
		e->registered = true;
		e->cores = (int)cores;
		e->idle_since_ms = spk_now_ms();
		actor_link(self, msg->from);
		actor_info("spark: executor %s registered from %s with %d cores", id,
		           actor_pid_str(msg->from), e->cores);
		spk_tasks_schedule(sc);
		pthread_cond_broadcast(&sc->changed);
	}
	pthread_mutex_unlock(&sc->mu);
	free(id);
}

static void on_status(actor_t *self, const actor_msg *msg, void *arg)
{
	(void)self;
	spk_context *sc = arg;
	spk_task_status st;
	if (!spk_task_status_decode(msg->data, msg->len, &st)) {
		actor_warn("spark: malformed task status dropped (%zu bytes)", msg->len);
		return;
	}
	pthread_mutex_lock(&sc->mu);
	spk_tasks_status(sc, &st);
	pthread_cond_broadcast(&sc->changed);
	pthread_mutex_unlock(&sc->mu);
	spk_task_status_fini(&st);
}

static void driver_exited(actor_t *self, actor_pid who)
{
	spk_context *sc = actor_state(self);
	pthread_mutex_lock(&sc->mu);
	int e = find_exec_by_pid(sc, who);
	if (e >= 0)
		spk_tasks_exec_lost(sc, e, "its connection was lost");
	pthread_cond_broadcast(&sc->changed);
	pthread_mutex_unlock(&sc->mu);
}

/* Executors idle for idle_timeout_ms while no job runs are released. */
static void idle_tick(actor_t *self, void *arg)
{
	spk_context *sc = arg;
	if (self == NULL)
		return;
	pthread_mutex_lock(&sc->mu);
	int64_t now = spk_now_ms();
	bool idle = sc->job == NULL || sc->job->finished;
	for (int i = 0; idle && i < sc->nexecs; i++) {
		struct spk_exec_ref *e = &sc->execs[i];
		if (e->registered && e->alive && e->busy == 0 &&
		    now - e->idle_since_ms >= sc->conf.idle_timeout_ms) {
			actor_info("spark: releasing idle executor %s", e->id);
			actor_send(self, e->pid, SPK_MSG_STOP, NULL, 0);
			spk_tasks_exec_lost(sc, i, "released after being idle");
		}
	}
	/* Tasks held back by delay scheduling may go elsewhere now. */
	if (!idle && sc->pending_live > 0)
		spk_tasks_schedule(sc);
	if (idle)
		spk_tasks_suppress(sc);
	pthread_mutex_unlock(&sc->mu);
	sc->idle_timer = actor_delay(self, 250, idle_tick, sc);
}

static void json_str(spk_buf *b, const char *s)
{
	spk_buf_append(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			spk_buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			spk_buf_printf(b, "\\u%04x", *s);
		else
			spk_buf_append(b, s, 1);
	}
	spk_buf_append(b, "\"", 1);
}

static void json_job(spk_buf *b, const spk_job *j)
{
	spk_buf_printf(b, "{\"id\":%d,\"stage\":%d,\"dataset\":", j->id, j->stage);
	json_str(b, j->rdd->op);
	spk_buf_printf(b, ",\"status\":\"%s\",\"tasks_done\":%d,\"tasks_total\":%d,\"error\":",
	               !j->finished ? "RUNNING"
	               : j->failed  ? "FAILED"
	                            : "SUCCEEDED",
	               j->ndone, j->nparts);
	json_str(b, j->error);
	spk_buf_printf(b, ",\"duration_ms\":%" PRId64 "}",
	               (j->finished ? j->ended_ms : spk_now_ms()) - j->started_ms);
}

static actor_future *http_jobs(actor_t *self, const actor_http_request *req, void *arg)
{
	(void)self;
	(void)req;
	spk_context *sc = arg;
	spk_buf b = {0};
	pthread_mutex_lock(&sc->mu);
	spk_buf_append(&b, "{\"jobs\":[", 9);
	for (int i = 0; i < sc->njobs; i++) {
		if (i > 0)
			spk_buf_append(&b, ",", 1);
		json_job(&b, sc->history[i]);
	}
	if (sc->job != NULL && !sc->job->finished) {
		if (sc->njobs > 0)
			spk_buf_append(&b, ",", 1);
		json_job(&b, sc->job);
	}
	spk_buf_append(&b, "],\"stages\":[", 12);
	bool first = true;
	for (spk_shuffle *s = sc->shuffles; s != NULL; s = s->next) {
		int done = 0, attempts = 0;
		for (int m = 0; m < s->nmaps; m++) {
			done += s->maps[m].exec >= 0;
			attempts += s->attempts[m];
		}
		spk_buf_printf(&b, "%s{\"id\":%d,\"shuffle\":%d,\"dataset\":", first ? "" : ",",
		               s->stage, s->id);
		json_str(&b, s->parent->op);
		spk_buf_printf(&b, ",\"tasks_done\":%d,\"tasks_total\":%d,\"attempts\":%d}", done,
		               s->nmaps, attempts);
		first = false;
	}
	spk_buf_printf(&b,
	               "],\"tasks\":{\"pending\":%zu,\"running\":%zu,\"launched\":%" PRIu64
	               ",\"finished\":%" PRIu64 "},\"executors\":[",
	               sc->pending_live, sc->nrunning, sc->tasks_launched, sc->tasks_finished);
	b.len -= strlen(",\"executors\":[");
	spk_buf_printf(&b,
	               ",\"offers\":{\"received\":%" PRIu64 ",\"declined\":%" PRIu64
	               ",\"suppressed\":%s,\"suppress_calls\":%" PRIu64 ",\"revive_calls\":%" PRIu64
	               ",\"decline_seconds\":%" PRId64 "},\"executors\":[",
	               sc->offers_received, sc->offers_declined, sc->suppressed ? "true" : "false",
	               sc->suppress_calls, sc->revive_calls, sc->conf.decline_seconds);
	for (int i = 0; i < sc->nexecs; i++) {
		const struct spk_exec_ref *e = &sc->execs[i];
		spk_buf_printf(&b, "%s{\"id\":", i ? "," : "");
		json_str(&b, e->id);
		spk_buf_append(&b, ",\"agent\":", 9);
		json_str(&b, e->agent);
		spk_buf_printf(&b,
		               ",\"registered\":%s,\"alive\":%s,\"cores\":%d,\"busy\":%d,"
		               "\"tasks_done\":%" PRIu64 "}",
		               e->registered ? "true" : "false", e->alive ? "true" : "false",
		               e->cores, e->busy, e->tasks_done);
	}
	spk_buf_append(&b, "]}", 2);
	pthread_mutex_unlock(&sc->mu);
	actor_future *f = actor_http_reply(200, "application/json", b.data, b.len);
	spk_buf_fini(&b);
	return f;
}

static int driver_init(actor_t *self)
{
	spk_context *sc = actor_state(self);
	actor_install(self, SPK_MSG_REGISTER, on_register, sc);
	actor_install(self, SPK_MSG_STATUS, on_status, sc);
	actor_http_route(self, "/jobs", http_jobs, sc);
	sc->idle_timer = actor_delay(self, 250, idle_tick, sc);
	return 0;
}

static const actor_def driver_def = {.name = "spark", .init = driver_init, .exited = driver_exited};

/* ---- the scheduler's side ---------------------------------------------------------- */

static void registered_cb(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *m, void *arg)
{
	(void)d;
	(void)m;
	spk_context *sc = arg;
	pthread_mutex_lock(&sc->mu);
	snprintf(sc->framework_id, sizeof(sc->framework_id), "%s", id->value);
	sc->registered_fw = true;
	/* Nothing to run yet: no offers until a job needs them. */
	if (!spk_tasks_want_executors(sc))
		spk_tasks_suppress(sc);
	pthread_mutex_unlock(&sc->mu);
	actor_info("spark: registered as framework %s", id->value);
}

static void offers_cb(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	(void)d;
	spk_context *sc = arg;
	pthread_mutex_lock(&sc->mu);
	spk_tasks_offers(sc, offers, n);
	pthread_mutex_unlock(&sc->mu);
}

static void status_cb(px_scheduler_driver *d, const Plexus__TaskStatus *st, void *arg)
{
	(void)d;
	spk_context *sc = arg;
	pthread_mutex_lock(&sc->mu);
	spk_tasks_exec_update(sc, st);
	pthread_cond_broadcast(&sc->changed);
	pthread_mutex_unlock(&sc->mu);
}

static void agent_lost_cb(px_scheduler_driver *d, const Plexus__AgentID *agent, void *arg)
{
	(void)d;
	spk_context *sc = arg;
	pthread_mutex_lock(&sc->mu);
	for (int i = 0; i < sc->nexecs; i++)
		if (strcmp(sc->execs[i].agent, agent->value) == 0)
			spk_tasks_exec_lost(sc, i, "its agent was lost");
	pthread_cond_broadcast(&sc->changed);
	pthread_mutex_unlock(&sc->mu);
}

static void error_cb(px_scheduler_driver *d, const char *message, void *arg)
{
	(void)d;
	spk_context *sc = arg;
	pthread_mutex_lock(&sc->mu);
	snprintf(sc->error, sizeof(sc->error), "the master refused the framework: %s", message);
	spk_dag_fail(sc, "%s", sc->error);
	pthread_mutex_unlock(&sc->mu);
}

spk_context *spk_context_start(const spk_conf *conf, char *err, size_t errlen)
{
	if (conf == NULL || conf->master == NULL || conf->master[0] == '\0') {
		snprintf(err, errlen, "no master (--master=HOST:PORT)");
		return NULL;
	}
	if (conf->executor_cores < 1 || conf->executor_mem_mb < 1 || conf->task_max_failures < 1) {
		snprintf(err, errlen,
		         "executor cores, memory and task_max_failures must be positive");
		return NULL;
	}
	spk_context *sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&sc->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sc->changed, &ca);
	pthread_condattr_destroy(&ca);
	sc->conf = *conf;
	snprintf(sc->master, sizeof(sc->master), "%s", conf->master);
	snprintf(sc->app, sizeof(sc->app), "%s", conf->app_name ? conf->app_name : "spark");
	snprintf(sc->role, sizeof(sc->role), "%s", conf->role ? conf->role : "*");
	sc->conf.master = sc->master;
	sc->conf.app_name = sc->app;
	sc->conf.role = sc->role;
	if (!actor_runtime_running()) {
		actor_config cfg;
		actor_config_default(&cfg);
		cfg.listen = true;
		cfg.http_port = conf->http_port;
		if (actor_runtime_init(&cfg) != 0) {
			snprintf(err, errlen, "cannot start the actor runtime");
			free(sc);
			return NULL;
		}
		sc->runtime_owned = true;
	}
	sc->http_port = actor_runtime_http_port();
	if (actor_spawn(&driver_def, sc, &sc->self) != 0) {
		snprintf(err, errlen, "cannot spawn the driver's actor");
		spk_context_stop(sc);
		return NULL;
	}
	actor_pid_format(sc->self, sc->self_text, sizeof(sc->self_text));
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	const char *user = getenv("USER");
	fw.user = (char *)(user ? user : "root");
	fw.name = sc->app;
	char *roles[1] = {sc->role};
	fw.roles = roles;
	fw.n_roles = 1;
	px_scheduler_callbacks cb = {.registered = registered_cb,
	                             .resource_offers = offers_cb,
	                             .status_update = status_cb,
	                             .agent_lost = agent_lost_cb,
	                             .error = error_cb};
	sc->driver = px_scheduler_driver_alloc(&cb, sc, &fw, sc->master, NULL);
	if (sc->driver == NULL || px_scheduler_driver_start(sc->driver) != PX_DRIVER_RUNNING) {
		snprintf(err, errlen, "cannot start the scheduler driver for %s", sc->master);
		spk_context_stop(sc);
		return NULL;
	}
	return sc;
}

void spk_context_stop(spk_context *sc)
{
	if (sc == NULL)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stopping = true;
	for (int i = 0; i < sc->nexecs; i++)
		if (sc->execs[i].registered && sc->execs[i].alive)
			actor_send(NULL, sc->execs[i].pid, SPK_MSG_STOP, NULL, 0);
	pthread_mutex_unlock(&sc->mu);
	if (sc->driver != NULL) {
		px_scheduler_driver_stop(sc->driver, false);
		px_scheduler_driver_free(sc->driver);
		sc->driver = NULL;
	}
	if (sc->self.id[0] != '\0') {
		actor_terminate(sc->self);
		actor_wait(sc->self, -1);
	}
	spk_tasks_clear(sc);
	for (int i = 0; i < sc->njobs; i++) {
		spk_job *j = sc->history[i];
		for (int p = 0; p < j->nparts; p++)
			spk_buf_fini(&j->results[p]);
		free(j->results);
		free(j->parts);
		free(j->done);
		free(j->active);
		free(j->failures);
		free(j->out.fn);
		free(j->out.arg);
		free(j->out.dir);
		free(j);
	}
	free(sc->history);
	free(sc->pending);
	free(sc->running);
	free(sc->execs);
	spk_lineage_free(sc);
	if (sc->runtime_owned)
		actor_runtime_fini();
	pthread_cond_destroy(&sc->changed);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}

const char *spk_context_error(spk_context *sc)
{
	return sc ? sc->error : "";
}

int spk_context_http_port(spk_context *sc)
{
	return sc ? sc->http_port : 0;
}

int spk_context_executors(spk_context *sc)
{
	int n = 0;
	pthread_mutex_lock(&sc->mu);
	for (int i = 0; i < sc->nexecs; i++)
		n += sc->execs[i].registered && sc->execs[i].alive;
	pthread_mutex_unlock(&sc->mu);
	return n;
}

int spk_context_shuffle_attempts(spk_context *sc, int shuffle_id, int *counts, int n)
{
	int rc = -1;
	pthread_mutex_lock(&sc->mu);
	for (spk_shuffle *s = sc->shuffles; s != NULL; s = s->next)
		if (s->id == shuffle_id) {
			for (int m = 0; m < s->nmaps && m < n; m++)
				counts[m] = s->attempts[m];
			rc = s->nmaps;
		}
	pthread_mutex_unlock(&sc->mu);
	return rc;
}

int spk_context_map_location(spk_context *sc, int shuffle_id, int map, char *out, size_t len)
{
	int rc = -1;
	pthread_mutex_lock(&sc->mu);
	for (spk_shuffle *s = sc->shuffles; s != NULL; s = s->next)
		if (s->id == shuffle_id && map >= 0 && map < s->nmaps && s->maps[map].exec >= 0) {
			snprintf(out, len, "%s", sc->execs[s->maps[map].exec].id);
			rc = 0;
		}
	pthread_mutex_unlock(&sc->mu);
	return rc;
}

int spk_context_tasks_running(spk_context *sc)
{
	pthread_mutex_lock(&sc->mu);
	int n = (int)sc->nrunning;
	pthread_mutex_unlock(&sc->mu);
	return n;
}

/* ---- jobs -------------------------------------------------------------------------- */

static void progress_line(spk_context *sc, bool last)
{
	char line[512];
	size_t len = 0;
	spk_job *j = sc->job;
	for (spk_shuffle *s = sc->shuffles; s != NULL && len < 400; s = s->next) {
		int done = 0;
		for (int m = 0; m < s->nmaps; m++)
			done += s->maps[m].exec >= 0;
		if (done < s->nmaps || last)
			len +=
			    (size_t)snprintf(line + len, sizeof(line) - len, "[stage %d %s %d/%d] ",
			                     s->stage, s->parent->op, done, s->nmaps);
	}
	snprintf(line + len, sizeof(line) - len, "[job %d stage %d: %d/%d]", j->id, j->stage,
	         j->ndone, j->nparts);
	fprintf(stderr, "\r%s%s", line, last ? "\n" : "");
}

/* Runs the job over parts of r (all when parts is NULL) and returns it, ended; it stays
 * in the history. Holds mu while waiting (condition waits release it). */
static spk_job *run_job(spk_rdd *r, const spk_out_spec *out, const int *parts, int nparts)
{
	spk_context *sc = r->sc;
	spk_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->rdd = r;
	j->out = *out;
	j->out.fn = out->fn ? strdup(out->fn) : NULL;
	j->out.arg = out->arg ? strdup(out->arg) : NULL;
	j->out.dir = out->dir ? strdup(out->dir) : NULL;
	j->nparts = parts ? nparts : r->nparts;
	j->parts = calloc((size_t)j->nparts + 1, sizeof(int));
	j->done = calloc((size_t)j->nparts + 1, sizeof(bool));
	j->active = calloc((size_t)j->nparts + 1, sizeof(bool));
	j->failures = calloc((size_t)j->nparts + 1, sizeof(int));
	j->results = calloc((size_t)j->nparts + 1, sizeof(spk_buf));
	for (int i = 0; j->parts != NULL && i < j->nparts; i++)
		j->parts[i] = parts ? parts[i] : i;
	pthread_mutex_lock(&sc->mu);
	spk_job **grown = realloc(sc->history, (size_t)(sc->njobs + 1) * sizeof(*grown));
	if (grown != NULL)
		sc->history = grown;
	if (grown == NULL || !j->parts || !j->done || !j->active || !j->failures || !j->results) {
		pthread_mutex_unlock(&sc->mu);
		free(j->parts);
		free(j->done);
		free(j->active);
		free(j->failures);
		free(j->results);
		free(j);
		return NULL;
	}
	sc->history[sc->njobs++] = j;
	j->id = sc->njobs;
	j->stage = sc->next_stage++;
	j->started_ms = spk_now_ms();
	sc->job = j;
	sc->error[0] = '\0';
	spk_dag_advance(sc);
	if (spk_tasks_want_executors(sc))
		spk_tasks_revive(sc);
	spk_tasks_schedule(sc);
	while (!j->finished) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sc->changed, &sc->mu, &ts);
		if (sc->conf.progress && !j->finished)
			progress_line(sc, false);
	}
	if (sc->conf.progress)
		progress_line(sc, true);
	if (j->failed)
		snprintf(sc->error, sizeof(sc->error), "%s", j->error);
	sc->job = NULL;
	pthread_mutex_unlock(&sc->mu);
	return j;
}

int spk_count(spk_rdd *r, uint64_t *out)
{
	if (r == NULL)
		return -1;
	spk_out_spec o = {.kind = SPK_OUT_COUNT};
	spk_job *j = run_job(r, &o, NULL, 0);
	if (j == NULL || j->failed)
		return -1;
	uint64_t sum = 0;
	for (int i = 0; i < j->nparts; i++)
		sum += j->results[i].data ? strtoull(j->results[i].data, NULL, 10) : 0;
	*out = sum;
	return 0;
}

static int rows_append(spk_rows *rows, size_t *cap, const spk_buf *b, size_t limit)
{
	spk_rd rd;
	spk_row row;
	spk_rd_init(&rd, b->data, b->len);
	while (rows->n < limit && spk_get_row(&rd, &row)) {
		if (rows->n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			spk_row *grown = realloc(rows->rows, c * sizeof(*grown));
			if (grown == NULL)
				return -1;
			rows->rows = grown;
			*cap = c;
		}
		/* One allocation per row: key, NUL, value, NUL. */
		char *mem = malloc(row.key.len + row.value.len + 2);
		if (mem == NULL)
			return -1;
		memcpy(mem, row.key.data, row.key.len);
		mem[row.key.len] = '\0';
		memcpy(mem + row.key.len + 1, row.value.data, row.value.len);
		mem[row.key.len + 1 + row.value.len] = '\0';
		rows->rows[rows->n++] = (spk_row){.key = {mem, row.key.len},
		                                  .value = {mem + row.key.len + 1, row.value.len},
		                                  .keyed = row.keyed};
	}
	return 0;
}

void spk_rows_free(spk_rows *rows)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < rows->n; i++)
		free((char *)rows->rows[i].key.data);
	free(rows->rows);
	free(rows);
}

int spk_collect(spk_rdd *r, spk_rows **out)
{
	if (r == NULL)
		return -1;
	spk_out_spec o = {.kind = SPK_OUT_COLLECT};
	spk_job *j = run_job(r, &o, NULL, 0);
	if (j == NULL || j->failed)
		return -1;
	spk_rows *rows = calloc(1, sizeof(*rows));
	size_t cap = 0;
	for (int i = 0; rows != NULL && i < j->nparts; i++)
		if (rows_append(rows, &cap, &j->results[i], SIZE_MAX) != 0) {
			spk_rows_free(rows);
			return -1;
		}
	*out = rows;
	return rows ? 0 : -1;
}

int spk_take(spk_rdd *r, size_t n, spk_rows **out)
{
	if (r == NULL)
		return -1;
	spk_rows *rows = calloc(1, sizeof(*rows));
	size_t cap = 0;
	int next = 0, batch = 1;
	/* As Spark's take: one partition first, then four times more each round. */
	while (rows != NULL && rows->n < n && next < r->nparts) {
		int count = batch < r->nparts - next ? batch : r->nparts - next;
		int *parts = malloc((size_t)count * sizeof(int));
		for (int i = 0; parts != NULL && i < count; i++)
			parts[i] = next + i;
		spk_out_spec o = {.kind = SPK_OUT_TAKE, .take = n - rows->n};
		spk_job *j = parts ? run_job(r, &o, parts, count) : NULL;
		free(parts);
		if (j == NULL || j->failed) {
			spk_rows_free(rows);
			return -1;
		}
		for (int i = 0; i < j->nparts; i++)
			rows_append(rows, &cap, &j->results[i], n);
		next += count;
		batch *= 4;
	}
	*out = rows;
	return rows ? 0 : -1;
}

int spk_reduce(spk_rdd *r, const char *fn, const char *arg, char **out, size_t *outlen)
{
	spk_reduce_fn f = fn ? spk_registry_find(fn, SPK_FN_REDUCE) : NULL;
	if (r == NULL || f == NULL) {
		if (r != NULL)
			snprintf(r->sc->error, sizeof(r->sc->error), "no reduce function '%s'",
			         fn ? fn : "(null)");
		return -1;
	}
	spk_out_spec o = {.kind = SPK_OUT_REDUCE, .fn = (char *)fn, .arg = (char *)arg};
	spk_job *j = run_job(r, &o, NULL, 0);
	if (j == NULL || j->failed)
		return -1;
	spk_buf acc = {0};
	bool has = false;
	for (int i = 0; i < j->nparts; i++) {
		spk_buf *b = &j->results[i];
		if (b->len < 1 || b->data[0] != 1)
			continue;
		spk_bytes v = {b->data + 1, b->len - 1};
		if (!has) {
			spk_buf_append(&acc, v.data, v.len);
			has = true;
			continue;
		}
		spk_buf next = {0};
		spk_failure_clear();
		if (f((spk_bytes){acc.data, acc.len}, v, arg, &next) != 0) {
			snprintf(r->sc->error, sizeof(r->sc->error),
			         "reduce in the driver failed: %s", spk_failure());
			spk_buf_fini(&next);
			spk_buf_fini(&acc);
			return -1;
		}
		spk_buf_fini(&acc);
		acc = next;
	}
	if (!has) {
		snprintf(r->sc->error, sizeof(r->sc->error), "reduce of an empty dataset");
		return -1;
	}
	*outlen = acc.len;
	*out = acc.data ? acc.data : strdup("");
	return 0;
}

int spk_save_as_text_files(spk_rdd *r, const char *dir)
{
	if (r == NULL || dir == NULL)
		return -1;
	char abs[PATH_MAX];
	mkdir(dir, 0755);
	if (realpath(dir, abs) == NULL) {
		snprintf(r->sc->error, sizeof(r->sc->error), "cannot create %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	dir = abs;
	spk_out_spec o = {.kind = SPK_OUT_SAVE, .dir = (char *)dir};
	spk_job *j = run_job(r, &o, NULL, 0);
	if (j == NULL || j->failed)
		return -1;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/_SUCCESS", dir);
	FILE *f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const spk_bytes *x = a, *y = b;
	return spk_bytes_cmp(*x, *y);
}

spk_rdd *spk_sort_by_key(spk_rdd *r, int nparts)
{
	if (r == NULL)
		return NULL;
	if (nparts < 1)
		nparts = r->nparts;
	/* Range partitioning from a sample of keys (Spark's RangePartitioner). */
	spk_out_spec o = {.kind = SPK_OUT_SAMPLE, .take = 20 * (uint64_t)nparts / r->nparts + 20};
	spk_job *j = nparts > 1 ? run_job(r, &o, NULL, 0) : NULL;
	if (nparts > 1 && (j == NULL || j->failed))
		return NULL;
	size_t nkeys = 0, cap = 0;
	spk_bytes *keys = NULL;
	for (int i = 0; j != NULL && i < j->nparts; i++) {
		spk_bytes list = {j->results[i].data, j->results[i].len}, k;
		for (size_t pos = 0; spk_list_next(list, &pos, &k);) {
			if (nkeys == cap) {
				cap = cap ? cap * 2 : 256;
				spk_bytes *grown = realloc(keys, cap * sizeof(*keys));
				if (grown == NULL)
					break;
				keys = grown;
			}
			keys[nkeys++] = k;
		}
	}
	if (nkeys > 1)
		qsort(keys, nkeys, sizeof(*keys), key_cmp);
	spk_bytes *bounds = calloc((size_t)nparts, sizeof(spk_bytes));
	size_t nb = 0;
	for (int i = 1; bounds != NULL && nkeys > 0 && i < nparts; i++)
		bounds[nb++] = keys[(size_t)i * nkeys / (size_t)nparts];
	spk_rdd *s = spk_lineage_sorted(r, nparts, bounds, nkeys > 0 ? nb : 0);
	free(bounds);
	free(keys);
	return s;
}
