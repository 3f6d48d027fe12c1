/* api_operator.c — Mesos's v1 Operator HTTP API of the master, POST /api/v1.
 *
 * Each call is answered from the master's books in Mesos's Response message, as JSON
 * or protobuf (the Accept header). SUBSCRIBE opens a chunked RecordIO stream like the
 * scheduler API's: SUBSCRIBED with a snapshot of the whole state (GetState), then an
 * event per change — TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
 * FRAMEWORK_ADDED, FRAMEWORK_REMOVED — and a HEARTBEAT every 15 s. The master's files
 * call the mst_api_operator_* hooks where those changes happen. Events are encoded once
 * per media type and queued on every stream without waiting; a stream whose bounded
 * buffer is full is dropped, so a slow operator never slows the master.
 *
 * GET /master/flags and GET /version give the same facts in Mesos's v0 shapes.
 *
 * Messages here are built on top of the master's own objects (FrameworkInfo,
 * AgentInfo, the latest TaskStatus are borrowed, not copied); what is allocated for
 * one answer lives in a pool freed once the answer is packed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_pb.h"
#include "master/api_media.h"
#include "master/master_internal.h"
#include "master/recordio.h"
#include "proto/master.pb-c.h"

#define OP_HEARTBEAT_SECONDS  15.0
#define OP_STREAM_MAX_PENDING ((size_t)64 << 20) /* a snapshot of a big cluster fits */

struct op_sub {
	struct op_sub *next;
	uint64_t id;
	actor_http_stream *stream;
	enum px_mt mt;
};

struct mst_op_api {
	struct op_sub *subs;
	uint64_t next_id;
	uint64_t heartbeat_timer;
};

/* ---- the pool of one answer ---- */

struct pool_item {
	struct pool_item *next;
	void *ptr;
	Plexus__Resource **res; /* from px_resources_to_pb, with n entries */
	size_t n;
};

struct pool {
	struct pool_item *items;
};

static void *pool_add(struct pool *p, void *ptr, Plexus__Resource **res, size_t n)
{
	struct pool_item *it = calloc(1, sizeof(*it));
	if (it == NULL) {
		free(ptr);
		px_pb_resources_free(res, n);
		return NULL;
	}
	it->ptr = ptr;
	it->res = res;
	it->n = n;
	it->next = p->items;
	p->items = it;
	return ptr;
}

/* Zeroed memory owned by the pool; NULL when out of memory (the answer then fails). */
static void *palloc(struct pool *p, size_t n)
{
	return pool_add(p, calloc(1, n ? n : 1), NULL, 0);
}

static char *pstrdup(struct pool *p, const char *s)
{
	return pool_add(p, strdup(s ? s : ""), NULL, 0);
}

static void pool_free(struct pool *p)
{
	while (p->items != NULL) {
		struct pool_item *it = p->items;
		p->items = it->next;
		free(it->ptr);
		px_pb_resources_free(it->res, it->n);
		free(it);
	}
}

/* The IDs share one layout (a message with a string `value`). */
#define ID_PB(fn, Type, init)                                                                      \
	static Type *fn(struct pool *p, const char *value)                                         \
	{                                                                                          \
		Type *id = palloc(p, sizeof(Type));                                                \
		if (id != NULL) {                                                                  \
			init(id);                                                                  \
			id->value = (char *)value;                                                 \
		}                                                                                  \
		return id;                                                                         \
	}
ID_PB(task_id, Plexus__TaskID, plexus__task_id__init)
ID_PB(framework_id, Plexus__FrameworkID, plexus__framework_id__init)
ID_PB(agent_id, Plexus__AgentID, plexus__agent_id__init)
ID_PB(executor_id, Plexus__ExecutorID, plexus__executor_id__init)

static Plexus__TimeInfo *time_pb(struct pool *p, double seconds)
{
	if (seconds <= 0)
		return NULL;
	Plexus__TimeInfo *t = palloc(p, sizeof(*t));
	if (t != NULL) {
		plexus__time_info__init(t);
		t->nanoseconds = (int64_t)(seconds * 1e9);
	}
	return t;
}

static void resources_pb(struct pool *p, const px_resources *rs, size_t *n, Plexus__Resource ***out)
{
	*n = 0;
	*out = NULL;
	if (rs == NULL || px_resources_to_pb(rs, PX_PB_REFINED, out, n) != PX_OK) {
		*n = 0;
		*out = NULL;
		return;
	}
	pool_add(p, NULL, *out, *n);
}

static Plexus__Task *task_pb(struct pool *p, const struct mst_task *t)
{
	Plexus__Task *x = palloc(p, sizeof(*x));

	if (x == NULL)
		return NULL;
	plexus__task__init(x);
	x->name = t->name ? t->name : "";
	x->task_id = task_id(p, t->id);
	x->framework_id = framework_id(p, t->framework_id);
	x->agent_id = agent_id(p, t->agent_id);
	if (t->executor_id != NULL)
		x->executor_id = executor_id(p, t->executor_id);
	x->state = t->state;
	resources_pb(p, t->resources, &x->n_resources, &x->resources);
	if (t->status != NULL) {
		x->statuses = palloc(p, sizeof(*x->statuses));
		if (x->statuses != NULL) {
			x->statuses[0] = t->status;
			x->n_statuses = 1;
		}
		x->has_status_update_state = true;
		x->status_update_state = t->status->state;
	}
	return x;
}

static Plexus__Master__Response__GetAgents__Agent *agent_pb(struct pool *p,
                                                            const struct mst_agent *a)
{
	Plexus__Master__Response__GetAgents__Agent *x = palloc(p, sizeof(*x));

	if (x == NULL)
		return NULL;
	plexus__master__response__get_agents__agent__init(x);
	x->agent_info = a->info;
	x->active = a->active;
	x->version = a->version ? a->version : "";
	x->pid = pstrdup(p, actor_pid_str(a->pid));
	x->registered_time = time_pb(p, a->registered_time);
	x->reregistered_time = time_pb(p, a->reregistered_time);
	resources_pb(p, a->total, &x->n_total_resources, &x->total_resources);
	resources_pb(p, a->used, &x->n_allocated_resources, &x->allocated_resources);
	resources_pb(p, a->offered, &x->n_offered_resources, &x->offered_resources);
	return x;
}

static Plexus__Master__Response__GetFrameworks__Framework *
framework_pb(struct pool *p, const struct mst_framework *fw)
{
	Plexus__Master__Response__GetFrameworks__Framework *x = palloc(p, sizeof(*x));

	if (x == NULL)
		return NULL;
	plexus__master__response__get_frameworks__framework__init(x);
	x->framework_info = fw->info;
	x->active = fw->active;
	x->connected = fw->connected;
	x->recovered = fw->recovered;
	x->registered_time = time_pb(p, fw->registered_time);
	x->reregistered_time = time_pb(p, fw->reregistered_time);
	x->unregistered_time = time_pb(p, fw->unregistered_time);
	resources_pb(p, fw->used, &x->n_allocated_resources, &x->allocated_resources);
	resources_pb(p, fw->offered, &x->n_offered_resources, &x->offered_resources);
	return x;
}

static Plexus__Master__Response__GetAgents *get_agents(struct pool *p, struct master *m)
{
	Plexus__Master__Response__GetAgents *x = palloc(p, sizeof(*x));
	size_t n = 0;

	if (x == NULL)
		return NULL;
	plexus__master__response__get_agents__init(x);
	for (const struct mst_agent *a = m->agents; a; a = a->next)
		n++;
	x->agents = palloc(p, n * sizeof(*x->agents));
	for (const struct mst_agent *a = m->agents; a && x->agents; a = a->next)
		x->agents[x->n_agents++] = agent_pb(p, a);
	return x;
}

static Plexus__Master__Response__GetFrameworks *get_frameworks(struct pool *p, struct master *m)
{
	Plexus__Master__Response__GetFrameworks *x = palloc(p, sizeof(*x));
	size_t n = 0, c = 0;

	if (x == NULL)
		return NULL;
	plexus__master__response__get_frameworks__init(x);
	for (const struct mst_framework *f = m->frameworks; f; f = f->next)
		n++;
	for (const struct mst_framework *f = m->completed_frameworks; f; f = f->next)
		c++;
	x->frameworks = palloc(p, n * sizeof(*x->frameworks));
	x->completed_frameworks = palloc(p, c * sizeof(*x->completed_frameworks));
	for (const struct mst_framework *f = m->frameworks; f && x->frameworks; f = f->next)
		x->frameworks[x->n_frameworks++] = framework_pb(p, f);
	for (const struct mst_framework *f = m->completed_frameworks; f && x->completed_frameworks;
	     f = f->next)
		x->completed_frameworks[x->n_completed_frameworks++] = framework_pb(p, f);
	return x;
}

static Plexus__Master__Response__GetTasks *get_tasks(struct pool *p, struct master *m)
{
	Plexus__Master__Response__GetTasks *x = palloc(p, sizeof(*x));
	size_t n = 0, c = 0;

	if (x == NULL)
		return NULL;
	plexus__master__response__get_tasks__init(x);
	for (int pass = 0; pass < 2; pass++)
		for (const struct mst_framework *f = pass ? m->completed_frameworks : m->frameworks;
		     f; f = f->next) {
			for (const struct mst_task *t = f->tasks; t; t = t->next)
				n++;
			for (const struct mst_task *t = f->completed; t; t = t->next)
				c++;
		}
	x->tasks = palloc(p, n * sizeof(*x->tasks));
	x->completed_tasks = palloc(p, c * sizeof(*x->completed_tasks));
	if (x->tasks == NULL || x->completed_tasks == NULL)
		return x;
	/* Mesos lists the completed frameworks' tasks too: an operator looks for them. */
	for (int pass = 0; pass < 2; pass++)
		for (const struct mst_framework *f = pass ? m->completed_frameworks : m->frameworks;
		     f; f = f->next) {
			for (const struct mst_task *t = f->tasks; t; t = t->next)
				x->tasks[x->n_tasks++] = task_pb(p, t);
			for (const struct mst_task *t = f->completed; t; t = t->next)
				x->completed_tasks[x->n_completed_tasks++] = task_pb(p, t);
		}
	return x;
}

static Plexus__Master__Response__GetExecutors *get_executors(struct pool *p)
{
	/* The master keeps no executor books of its own yet (a task names its executor). */
	Plexus__Master__Response__GetExecutors *x = palloc(p, sizeof(*x));
	if (x != NULL)
		plexus__master__response__get_executors__init(x);
	return x;
}

static Plexus__Master__Response__GetState *get_state(struct pool *p, struct master *m)
{
	Plexus__Master__Response__GetState *x = palloc(p, sizeof(*x));

	if (x == NULL)
		return NULL;
	plexus__master__response__get_state__init(x);
	x->get_tasks = get_tasks(p, m);
	x->get_executors = get_executors(p);
	x->get_frameworks = get_frameworks(p, m);
	x->get_agents = get_agents(p, m);
	return x;
}

/* A duration as Mesos prints its flags ("15secs", "100ms", "10mins"). */
static char *duration_text(struct pool *p, int64_t ms)
{
	char buf[32];
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(buf, sizeof(buf), "%lldmins", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, sizeof(buf), "%lldsecs", (long long)(ms / 1000));
	else
		snprintf(buf, sizeof(buf), "%lldms", (long long)ms);
	return pstrdup(p, buf);
}

static Plexus__Master__Response__GetFlags *get_flags(struct pool *p, struct master *m)
{
	Plexus__Master__Response__GetFlags *x = palloc(p, sizeof(*x));
	const master_flags *f = &m->flags;
	char num[32];
	struct {
		const char *name;
		char *value;
	} all[16];
	size_t n = 0;

	if (x == NULL)
		return NULL;
	plexus__master__response__get_flags__init(x);
#define FLAG(nm, v) (all[n].name = (nm), all[n++].value = (v))
	snprintf(num, sizeof(num), "%d", f->port);
	FLAG("port", pstrdup(p, num));
	snprintf(num, sizeof(num), "%d", f->actor_port);
	FLAG("actor_port", pstrdup(p, num));
	FLAG("hostname", pstrdup(p, m->hostname));
	if (f->work_dir != NULL)
		FLAG("work_dir", pstrdup(p, f->work_dir));
	if (f->offer_timeout_ms > 0)
		FLAG("offer_timeout", duration_text(p, f->offer_timeout_ms));
	FLAG("agent_ping_timeout", duration_text(p, f->agent_ping_timeout_ms));
	snprintf(num, sizeof(num), "%d", f->max_agent_ping_timeouts);
	FLAG("max_agent_ping_timeouts", pstrdup(p, num));
	FLAG("allocation_interval", duration_text(p, f->allocation_interval_ms));
	FLAG("agent_reregister_timeout", duration_text(p, f->agent_reregister_timeout_ms));
	snprintf(num, sizeof(num), "%d", f->max_completed_frameworks);
	FLAG("max_completed_frameworks", pstrdup(p, num));
	snprintf(num, sizeof(num), "%d", f->max_completed_tasks_per_framework);
	FLAG("max_completed_tasks_per_framework", pstrdup(p, num));
#undef FLAG
	x->flags = palloc(p, n * sizeof(*x->flags));
	for (size_t i = 0; i < n && x->flags; i++) {
		Plexus__Flag *fl = palloc(p, sizeof(*fl));
		if (fl == NULL)
			break;
		plexus__flag__init(fl);
		fl->name = (char *)all[i].name;
		fl->value = all[i].value;
		x->flags[x->n_flags++] = fl;
	}
	return x;
}

static Plexus__Master__Response__GetMetrics *get_metrics(struct pool *p)
{
	Plexus__Master__Response__GetMetrics *x = palloc(p, sizeof(*x));
	char *text = actor_metrics_snapshot();
	json_t *snap = text ? json_loads(text, 0, NULL) : NULL;
	const char *key;
	json_t *v;

	free(text);
	if (x == NULL) {
		json_decref(snap);
		return NULL;
	}
	plexus__master__response__get_metrics__init(x);
	x->metrics = palloc(p, json_object_size(snap) * sizeof(*x->metrics));
	json_object_foreach(snap, key, v)
	{
		if (!json_is_number(v) || x->metrics == NULL)
			continue;
		Plexus__Metric *mt = palloc(p, sizeof(*mt));
		if (mt == NULL)
			break;
		plexus__metric__init(mt);
		mt->name = pstrdup(p, key);
		mt->has_value = true;
		mt->value = json_number_value(v);
		x->metrics[x->n_metrics++] = mt;
	}
	json_decref(snap);
	return x;
}

/* ---- answers ---- */

static actor_future *reply(struct master *m, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static actor_future *reply(struct master *m, int status, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (status >= 400) {
		actor_counter_inc(m->metrics.http_bad_requests);
		actor_info("operator API: %d %s", status, text);
	}
	actor_http_response *res =
	    actor_http_response_alloc(status, "text/plain", text, strlen(text));
	if (res != NULL && text[0] == '\0')
		actor_http_response_header(res, "Content-Length", "0");
	return actor_http_respond(res);
}

static actor_future *reply_msg(struct master *m, enum px_mt mt, const ProtobufCMessage *msg)
{
	size_t len = 0;
	uint8_t *bytes = px_media_encode(mt, msg, &len);

	if (bytes == NULL)
		return reply(m, 500, "out of memory");
	actor_future *f = actor_http_reply(
	    200, mt == PX_MT_PROTOBUF ? PX_MEDIA_PROTOBUF : PX_MEDIA_JSON, bytes, len);
	free(bytes);
	return f;
}

/* ---- SUBSCRIBE ---- */

static struct mst_op_api *op_of(struct master *m)
{
	if (m->op_api == NULL)
		m->op_api = calloc(1, sizeof(*m->op_api));
	return m->op_api;
}

static void sub_drop(struct master *m, uint64_t id)
{
	struct mst_op_api *api = m->op_api;
	for (struct op_sub **s = api ? &api->subs : NULL; s && *s; s = &(*s)->next)
		if ((*s)->id == id) {
			struct op_sub *dead = *s;
			*s = dead->next;
			actor_http_stream_close(dead->stream);
			free(dead);
			return;
		}
}

/* Writes one event to one stream; false when the stream must go. */
static bool sub_write(struct op_sub *s, const uint8_t *bytes, size_t len)
{
	size_t flen = 0;
	uint8_t *frame = px_recordio_frame(bytes, len, &flen);
	int rv = frame ? actor_http_stream_write(s->stream, frame, flen) : ACTOR_ENOMEM;
	free(frame);
	if (rv == ACTOR_EAGAIN)
		actor_warn("operator API: subscriber %llu cannot keep up; dropping it",
		           (unsigned long long)s->id);
	return rv == 0;
}

static void broadcast(struct master *m, const Plexus__Master__Event *ev)
{
	struct mst_op_api *api = m->op_api;
	uint8_t *enc[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};

	if (api == NULL || api->subs == NULL)
		return;
	for (struct op_sub **s = &api->subs; *s;) {
		enum px_mt mt = (*s)->mt;
		if (enc[mt] == NULL)
			enc[mt] = px_media_encode(mt, &ev->base, &len[mt]);
		if (enc[mt] != NULL && sub_write(*s, enc[mt], len[mt])) {
			s = &(*s)->next;
			continue;
		}
		struct op_sub *dead = *s;
		*s = dead->next;
		actor_http_stream_close(dead->stream);
		free(dead);
	}
	free(enc[1]);
	free(enc[2]);
}

static void op_heartbeat(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct master *m = actor_state(self);
	struct mst_op_api *api = m->op_api;
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;

	api->heartbeat_timer = 0;
	if (api->subs == NULL)
		return;
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__HEARTBEAT;
	broadcast(m, &ev);
	api->heartbeat_timer =
	    actor_delay(self, (int64_t)(OP_HEARTBEAT_SECONDS * 1000), op_heartbeat, NULL);
}

struct gone_arg {
	uint64_t id;
};

static void sub_gone(actor_t *self, void *arg)
{
	struct gone_arg *g = arg;
	if (self != NULL)
		sub_drop(actor_state(self), g->id);
	free(g);
}

static actor_future *subscribe(actor_t *self, struct master *m, enum px_mt mt)
{
	struct mst_op_api *api = op_of(m);
	struct op_sub *s = calloc(1, sizeof(*s));
	struct gone_arg *g = malloc(sizeof(*g));

	if (api == NULL || s == NULL || g == NULL) {
		free(s);
		free(g);
		return reply(m, 500, "out of memory");
	}
	actor_http_response *res = actor_http_response_stream(
	    200, mt == PX_MT_PROTOBUF ? PX_MEDIA_PROTOBUF : PX_MEDIA_JSON, OP_STREAM_MAX_PENDING,
	    &s->stream);
	if (res == NULL) {
		free(s);
		free(g);
		return reply(m, 500, "out of memory");
	}
	s->id = ++api->next_id;
	s->mt = mt;
	g->id = s->id;
	if (actor_http_stream_watch(s->stream, m->self, sub_gone, g) != 0)
		free(g);

	/* The snapshot, then a first heartbeat. */
	struct pool p = {NULL};
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__Subscribed sub = PLEXUS__MASTER__EVENT__SUBSCRIBED__INIT;
	mst_master_update_gauges(m);
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__SUBSCRIBED;
	sub.get_state = get_state(&p, m);
	sub.has_heartbeat_interval_seconds = true;
	sub.heartbeat_interval_seconds = OP_HEARTBEAT_SECONDS;
	ev.subscribed = &sub;
	size_t len = 0;
	uint8_t *bytes = px_media_encode(mt, &ev.base, &len);
	pool_free(&p);
	bool ok = bytes != NULL && sub_write(s, bytes, len);
	free(bytes);
	Plexus__Master__Event hb = PLEXUS__MASTER__EVENT__INIT;
	hb.has_type = true;
	hb.type = PLEXUS__MASTER__EVENT__TYPE__HEARTBEAT;
	bytes = ok ? px_media_encode(mt, &hb.base, &len) : NULL;
	ok = bytes != NULL && sub_write(s, bytes, len);
	free(bytes);
	if (!ok) {
		actor_http_response_free(res);
		actor_http_stream_close(s->stream);
		free(s);
		return reply(m, 500, "cannot write the snapshot");
	}
	s->next = api->subs;
	api->subs = s;
	if (api->heartbeat_timer == 0)
		api->heartbeat_timer =
		    actor_delay(self, (int64_t)(OP_HEARTBEAT_SECONDS * 1000), op_heartbeat, NULL);
	actor_info("operator API: SUBSCRIBE (subscriber %llu)", (unsigned long long)s->id);
	return actor_http_respond(res);
}

/* ---- hooks ---- */

static bool subscribed(struct master *m)
{
	return m->op_api != NULL && m->op_api->subs != NULL;
}

void mst_api_operator_task_added(struct master *m, const struct mst_task *t)
{
	if (!subscribed(m))
		return;
	struct pool p = {NULL};
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__TaskAdded x = PLEXUS__MASTER__EVENT__TASK_ADDED__INIT;
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__TASK_ADDED;
	x.task = task_pb(&p, t);
	ev.task_added = &x;
	if (x.task != NULL)
		broadcast(m, &ev);
	pool_free(&p);
}

void mst_api_operator_task_updated(struct master *m, const struct mst_task *t)
{
	if (!subscribed(m))
		return;
	struct pool p = {NULL};
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__TaskUpdated x = PLEXUS__MASTER__EVENT__TASK_UPDATED__INIT;
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__TASK_UPDATED;
	x.framework_id = framework_id(&p, t->framework_id);
	/* The latest status the master has; a bare one when the master made the change. */
	if (t->status != NULL && t->status->state == t->state) {
		x.status = t->status;
	} else {
		st.task_id = task_id(&p, t->id);
		st.state = t->state;
		st.agent_id = agent_id(&p, t->agent_id);
		x.status = &st;
	}
	x.state = t->state;
	ev.task_updated = &x;
	if (x.framework_id != NULL && x.status->task_id != NULL)
		broadcast(m, &ev);
	pool_free(&p);
}

void mst_api_operator_agent_added(struct master *m, const struct mst_agent *a)
{
	if (!subscribed(m))
		return;
	struct pool p = {NULL};
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__AgentAdded x = PLEXUS__MASTER__EVENT__AGENT_ADDED__INIT;
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__AGENT_ADDED;
	x.agent = agent_pb(&p, a);
	ev.agent_added = &x;
	if (x.agent != NULL)
		broadcast(m, &ev);
	pool_free(&p);
}

void mst_api_operator_agent_removed(struct master *m, const char *id)
{
	if (!subscribed(m))
		return;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__AgentRemoved x = PLEXUS__MASTER__EVENT__AGENT_REMOVED__INIT;
	aid.value = (char *)id;
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__AGENT_REMOVED;
	x.agent_id = &aid;
	ev.agent_removed = &x;
	broadcast(m, &ev);
}

void mst_api_operator_framework_added(struct master *m, const struct mst_framework *fw,
                                      bool updated)
{
	if (!subscribed(m))
		return;
	struct pool p = {NULL};
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__FrameworkAdded a = PLEXUS__MASTER__EVENT__FRAMEWORK_ADDED__INIT;
	Plexus__Master__Event__FrameworkUpdated u = PLEXUS__MASTER__EVENT__FRAMEWORK_UPDATED__INIT;
	ev.has_type = true;
	if (updated) {
		ev.type = PLEXUS__MASTER__EVENT__TYPE__FRAMEWORK_UPDATED;
		u.framework = framework_pb(&p, fw);
		ev.framework_updated = &u;
	} else {
		ev.type = PLEXUS__MASTER__EVENT__TYPE__FRAMEWORK_ADDED;
		a.framework = framework_pb(&p, fw);
		ev.framework_added = &a;
	}
	if (a.framework != NULL || u.framework != NULL)
		broadcast(m, &ev);
	pool_free(&p);
}

void mst_api_operator_framework_removed(struct master *m, const struct mst_framework *fw)
{
	if (!subscribed(m))
		return;
	Plexus__Master__Event ev = PLEXUS__MASTER__EVENT__INIT;
	Plexus__Master__Event__FrameworkRemoved x = PLEXUS__MASTER__EVENT__FRAMEWORK_REMOVED__INIT;
	ev.has_type = true;
	ev.type = PLEXUS__MASTER__EVENT__TYPE__FRAMEWORK_REMOVED;
	x.framework_info = fw->info;
	ev.framework_removed = &x;
	broadcast(m, &ev);
}

/* ---- the calls ---- */

static actor_future *teardown(actor_t *self, struct master *m, Plexus__Master__Call *call)
{
	if (call->teardown == NULL || call->teardown->framework_id == NULL)
		return reply(m, 400, "Expecting 'teardown' to be present");
	struct mst_framework *fw = mst_framework_find(m, call->teardown->framework_id->value);
	if (fw == NULL)
		return reply(m, 400, "No framework found with specified ID");
	if (fw->connected) {
		Plexus__Internal__FrameworkErrorMessage err =
		    PLEXUS__INTERNAL__FRAMEWORK_ERROR_MESSAGE__INIT;
		err.message = "Framework removed by the operator";
		actor_send_pb(self, fw->pid, &err.base);
	}
	mst_framework_remove(self, m, fw, "teardown by the operator (v1 API)");
	return reply(m, 200, "%s", "");
}

static actor_future *answer(actor_t *self, struct master *m, Plexus__Master__Call *call,
                            enum px_mt mt)
{
	struct pool p = {NULL};
	Plexus__Master__Response r = PLEXUS__MASTER__RESPONSE__INIT;
	Plexus__MasterInfo *info = NULL;

	r.has_type = true;
	switch (call->type) {
	case PLEXUS__MASTER__CALL__TYPE__GET_HEALTH: {
		Plexus__Master__Response__GetHealth *h = palloc(&p, sizeof(*h));
		if (h != NULL) {
			plexus__master__response__get_health__init(h);
			h->healthy = true;
		}
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_HEALTH;
		r.get_health = h;
		break;
	}
	case PLEXUS__MASTER__CALL__TYPE__GET_FLAGS:
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_FLAGS;
		r.get_flags = get_flags(&p, m);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_VERSION: {
		Plexus__Master__Response__GetVersion *v = palloc(&p, sizeof(*v));
		Plexus__VersionInfo *vi = palloc(&p, sizeof(*vi));
		if (v != NULL && vi != NULL) {
			plexus__master__response__get_version__init(v);
			plexus__version_info__init(vi);
			vi->version = MASTER_VERSION;
			vi->build_date = __DATE__ " " __TIME__;
			v->version_info = vi;
		}
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_VERSION;
		r.get_version = v;
		break;
	}
	case PLEXUS__MASTER__CALL__TYPE__GET_METRICS:
		mst_master_update_gauges(m);
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_METRICS;
		r.get_metrics = get_metrics(&p);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_STATE:
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_STATE;
		r.get_state = get_state(&p, m);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_AGENTS:
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_AGENTS;
		r.get_agents = get_agents(&p, m);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_FRAMEWORKS:
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS;
		r.get_frameworks = get_frameworks(&p, m);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_EXECUTORS:
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_EXECUTORS;
		r.get_executors = get_executors(&p);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_TASKS:
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_TASKS;
		r.get_tasks = get_tasks(&p, m);
		break;
	case PLEXUS__MASTER__CALL__TYPE__GET_MASTER: {
		Plexus__Master__Response__GetMaster *g = palloc(&p, sizeof(*g));
		info = mst_master_info_new(m);
		if (g != NULL) {
			plexus__master__response__get_master__init(g);
			g->master_info = info;
		}
		r.type = PLEXUS__MASTER__RESPONSE__TYPE__GET_MASTER;
		r.get_master = g;
		break;
	}
	default: {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		    &plexus__master__call__type__descriptor, (int)call->type);
		return reply(m, 501,
		             "%s is not served by the v1 operator API yet; see "
		             "docs/http-api.md for its v0 endpoint",
		             v ? v->name : "this call");
	}
	}
	actor_future *f = reply_msg(m, mt, &r.base);
	pool_free(&p);
	mst_pb_free(info);
	return f;
}

static actor_future *operator_api(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	char why[256];

	if (strcmp(req->path, "/") != 0)
		return reply(m, 404, "No such endpoint: /api/v1%s", req->path);
	if (strcmp(req->method, "POST") != 0)
		return reply(m, 405, "Expecting a 'POST' request, received '%s'", req->method);
	enum px_mt in = px_media_content_type(actor_http_header(req, "Content-Type"));
	if (in == PX_MT_NONE)
		return reply(m, 415, "Expecting 'Content-Type' of %s or %s", PX_MEDIA_JSON,
		             PX_MEDIA_PROTOBUF);
	enum px_mt out = px_media_accept(actor_http_header(req, "Accept"));
	if (out == PX_MT_NONE)
		return reply(m, 406, "Expecting 'Accept' to allow %s or %s", PX_MEDIA_JSON,
		             PX_MEDIA_PROTOBUF);
	Plexus__Master__Call *call = (Plexus__Master__Call *)px_media_decode(
	    in, req->body, req->body_len, &plexus__master__call__descriptor, why, sizeof(why));
	if (call == NULL)
		return reply(m, 400, "Failed to parse body into Call: %s", why);
	actor_future *f;
	if (!call->has_type || call->type == PLEXUS__MASTER__CALL__TYPE__UNKNOWN)
		f = reply(m, 400, "Expecting 'type' to be present");
	else if (protobuf_c_enum_descriptor_get_value(&plexus__master__call__type__descriptor,
	                                              (int)call->type) == NULL)
		f = reply(m, 400, "Unknown call type %d", (int)call->type);
	else if (call->type == PLEXUS__MASTER__CALL__TYPE__SUBSCRIBE)
		f = subscribe(self, m, out);
	else if (call->type == PLEXUS__MASTER__CALL__TYPE__TEARDOWN)
		f = teardown(self, m, call);
	else
		f = answer(self, m, call, out);
	protobuf_c_message_free_unpacked(&call->base, NULL);
	return f;
}

/* ---- the same facts on Mesos's v0 endpoints ---- */

static actor_future *reply_json_text(json_t *o)
{
	char *text = o ? json_dumps(o, PX_JSON_DUMP_FLAGS) : NULL;
	json_decref(o);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory", 13);
	actor_future *f = actor_http_reply(200, PX_MEDIA_JSON, text, strlen(text));
	free(text);
	return f;
}

/* GET /master/flags: {"flags": {"name": "value", ...}}, the strings GET_FLAGS has. */
static actor_future *flags_v0(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	struct pool p = {NULL};
	Plexus__Master__Response__GetFlags *f = get_flags(&p, m);
	json_t *flags = json_object();

	for (size_t i = 0; f != NULL && i < f->n_flags; i++)
		json_object_set_new(flags, f->flags[i]->name, json_string(f->flags[i]->value));
	pool_free(&p);
	json_t *o = json_object();
	json_object_set_new(o, "flags", flags);
	return reply_json_text(o);
}

/* GET /version: Mesos's {"version", "build_date", "build_time", "build_user"}. */
static actor_future *version_v0(actor_t *self, const actor_http_request *req, void *arg)
{
	if (strcmp(req->path, "/") != 0)
		return actor_http_reply(404, "text/plain", "use /version\n", 13);
	json_t *o = json_object();
	json_object_set_new(o, "version", json_string(MASTER_VERSION));
	json_object_set_new(o, "build_date", json_string(__DATE__ " " __TIME__));
	json_object_set_new(o, "build_time", json_real(0));
	json_object_set_new(o, "build_user", json_string(""));
	return reply_json_text(o);
}

int mst_api_operator_install(actor_t *self)
{
	int rv = actor_http_route_prefix(self, "/api/v1", operator_api, NULL);
	rv |= actor_http_route(self, "/flags", flags_v0, NULL);
	rv |= actor_http_route_prefix(self, "/version", version_v0, NULL);
	return rv;
}

void mst_api_operator_fini(struct master *m)
{
	struct mst_op_api *api = m->op_api;

	if (api == NULL)
		return;
	while (api->subs != NULL) {
		struct op_sub *s = api->subs;
		api->subs = s->next;
		actor_http_stream_close(s->stream);
		free(s);
	}
	free(api);
	m->op_api = NULL;
}
