/* api_scheduler.c — Mesos's v1 Scheduler HTTP API, POST /api/v1/scheduler.
 *
 * An HTTP framework is, to the rest of the master, a driver framework like any other:
 * each SUBSCRIBE spawns a proxy actor ("scheduler-http") that registers the framework
 * with the master exactly as a scheduler driver does (RegisterFrameworkMessage, or
 * ReregisterFrameworkMessage with failover when the FrameworkInfo has an id), so the
 * framework's PID is the proxy's. The proxy turns what the master sends a scheduler
 * (offers, rescinds, status updates, framework messages, lost agents, errors) into v1
 * Events, written on the SUBSCRIBE response as a chunked RecordIO stream; the other
 * calls come on their own POSTs with the Mesos-Stream-Id header, are checked here in
 * the master, and go to the master as the same internal messages a driver would send,
 * sent from the proxy's PID. Offers, DRF, failover, reconciliation and the failover
 * timeout therefore behave the same for both kinds of framework.
 *
 * When the stream ends (the client went away, or could not keep up: the stream's
 * buffer is bounded and a full one drops the subscriber) the proxy ends, and the
 * master sees its scheduler PID exit: the framework is disconnected and its failover
 * timeout starts, as for a driver whose process died. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/json_pb.h"
#include "master/api_media.h"
#include "master/master_internal.h"
#include "master/recordio.h"
#include "plexus/util.h"
#include "proto/scheduler.pb-c.h"

#define HEARTBEAT_SECONDS 15.0
/* Events that may wait unwritten for one subscriber before it is dropped. */
#define STREAM_MAX_PENDING ((size_t)16 << 20)

/* One SUBSCRIBE stream, as the master knows it. */
struct mst_sched_sub {
	struct mst_sched_sub *next;
	actor_pid proxy;
	char stream_id[37];
};

struct mst_sched_api {
	struct mst_sched_sub *subs;
};

/* ---- the proxy actor ---- */

struct proxy {
	actor_pid master;
	actor_http_stream *stream;
	bool protobuf; /* events as application/x-protobuf, else JSON */
	Plexus__FrameworkInfo *info;
	uint64_t heartbeat_timer;
	bool subscribed;
	bool closing;
	char stream_id[37];
};

static void proxy_close(actor_t *self, struct proxy *p)
{
	if (!p->closing) {
		p->closing = true;
		actor_terminate(actor_self(self));
	}
}

/* Writes one event on the stream; a full buffer or a gone client ends the proxy. */
static void proxy_emit(actor_t *self, struct proxy *p, const Plexus__Scheduler__Event *ev)
{
	uint8_t *bytes = NULL;
	size_t len = 0;

	if (p->closing)
		return;
	bytes = px_media_encode(p->protobuf ? PX_MT_PROTOBUF : PX_MT_JSON, &ev->base, &len);
	size_t flen = 0;
	uint8_t *frame = bytes ? px_recordio_frame(bytes, len, &flen) : NULL;
	free(bytes);
	int rv = frame ? actor_http_stream_write(p->stream, frame, flen) : ACTOR_ENOMEM;
	free(frame);
	if (rv == ACTOR_EAGAIN)
		actor_warn("scheduler API: subscriber %s cannot keep up (%zu bytes waiting); "
		           "dropping it",
		           p->stream_id, actor_http_stream_pending(p->stream));
	else if (rv != 0)
		actor_info("scheduler API: stream %s is gone (%s)", p->stream_id,
		           actor_strerror(rv));
	if (rv != 0)
		proxy_close(self, p);
}

static void heartbeat(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct proxy *p = actor_state(self);
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;

	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__HEARTBEAT;
	proxy_emit(self, p, &ev);
	p->heartbeat_timer =
	    actor_delay(self, (int64_t)(HEARTBEAT_SECONDS * 1000), heartbeat, NULL);
}

static void on_registered(actor_t *self, Plexus__FrameworkID *id, Plexus__MasterInfo *mi)
{
	struct proxy *p = actor_state(self);
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Subscribed sub = PLEXUS__SCHEDULER__EVENT__SUBSCRIBED__INIT;

	if (id == NULL)
		return;
	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__SUBSCRIBED;
	sub.framework_id = id;
	sub.has_heartbeat_interval_seconds = true;
	sub.heartbeat_interval_seconds = HEARTBEAT_SECONDS;
	sub.master_info = mi;
	ev.subscribed = &sub;
	proxy_emit(self, p, &ev);
	/* The first heartbeat at once: a client sees the stream is alive before any offer. */
	if (!p->subscribed) {
		p->subscribed = true;
		heartbeat(self, NULL);
	}
}

static void registered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__FrameworkRegisteredMessage *r = (const void *)msg;
	on_registered(self, r->framework_id, r->master_info);
}

static void reregistered(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__FrameworkReregisteredMessage *r = (const void *)msg;
	on_registered(self, r->framework_id, r->master_info);
}

static void offers(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__ResourceOffersMessage *r = (const void *)msg;
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Offers o = PLEXUS__SCHEDULER__EVENT__OFFERS__INIT;

	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__OFFERS;
	o.n_offers = r->n_offers;
	o.offers = r->offers;
	ev.offers = &o;
	proxy_emit(self, actor_state(self), &ev);
}

static void rescind(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__RescindResourceOfferMessage *r = (const void *)msg;
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Rescind o = PLEXUS__SCHEDULER__EVENT__RESCIND__INIT;

	if (r->offer_id == NULL)
		return;
	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__RESCIND;
	o.offer_id = r->offer_id;
	ev.rescind = &o;
	proxy_emit(self, actor_state(self), &ev);
}

static void update(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__StatusUpdateMessage *r = (const void *)msg;
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Update u = PLEXUS__SCHEDULER__EVENT__UPDATE__INIT;

	if (r->update == NULL || r->update->status == NULL)
		return;
	Plexus__TaskStatus *st = r->update->status;
	/* As Mesos: the status carries the update's uuid when it needs an acknowledgement,
	 * and the agent and executor of the update. Changed in place: msg is ours until the
	 * handler returns. */
	if (r->update->has_uuid && !st->has_uuid) {
		st->has_uuid = true;
		st->uuid = r->update->uuid;
	}
	if (st->agent_id == NULL)
		st->agent_id = r->update->agent_id;
	if (st->executor_id == NULL)
		st->executor_id = r->update->executor_id;
	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__UPDATE;
	u.status = st;
	ev.update = &u;
	proxy_emit(self, actor_state(self), &ev);
	/* Give the borrowed pointers back before the runtime frees msg. */
	if (st->uuid.data == r->update->uuid.data) {
		st->has_uuid = false;
		st->uuid.data = NULL;
		st->uuid.len = 0;
	}
	if (st->agent_id == r->update->agent_id)
		st->agent_id = NULL;
	if (st->executor_id == r->update->executor_id)
		st->executor_id = NULL;
}

static void message(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__ExecutorToFrameworkMessage *r = (const void *)msg;
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Message m = PLEXUS__SCHEDULER__EVENT__MESSAGE__INIT;

	if (r->agent_id == NULL || r->executor_id == NULL)
		return;
	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__MESSAGE;
	m.agent_id = r->agent_id;
	m.executor_id = r->executor_id;
	m.data = r->data;
	ev.message = &m;
	proxy_emit(self, actor_state(self), &ev);
}

static void failure(actor_t *self, Plexus__AgentID *agent, Plexus__ExecutorID *executor,
                    bool has_status, int32_t status)
{
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Failure f = PLEXUS__SCHEDULER__EVENT__FAILURE__INIT;

	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__FAILURE;
	f.agent_id = agent;
	f.executor_id = executor;
	f.has_status = has_status;
	f.status = status;
	ev.failure = &f;
	proxy_emit(self, actor_state(self), &ev);
}

static void lost_agent(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__LostAgentMessage *r = (const void *)msg;
	failure(self, r->agent_id, NULL, false, 0);
}

static void exited_executor(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__ExitedExecutorMessage *r = (const void *)msg;
	failure(self, r->agent_id, r->executor_id, r->has_status, r->status);
}

static void proxy_error(actor_t *self, const char *text)
{
	struct proxy *p = actor_state(self);
	Plexus__Scheduler__Event ev = PLEXUS__SCHEDULER__EVENT__INIT;
	Plexus__Scheduler__Event__Error e = PLEXUS__SCHEDULER__EVENT__ERROR__INIT;

	ev.has_type = true;
	ev.type = PLEXUS__SCHEDULER__EVENT__TYPE__ERROR;
	e.message = (char *)text;
	ev.error = &e;
	proxy_emit(self, p, &ev);
	proxy_close(self, p);
}

static void framework_error(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	const Plexus__Internal__FrameworkErrorMessage *r = (const void *)msg;
	proxy_error(self, r->message ? r->message : "error");
}

/* The stream is over: the client went away or a write failed. */
static void stream_over(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	struct proxy *p = actor_state(self);
	if (!p->closing)
		actor_info("scheduler API: stream %s closed by the client", p->stream_id);
	proxy_close(self, p);
}

static int proxy_init(actor_t *self)
{
	struct proxy *p = actor_state(self);
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		actor_pb_fn fn;
	} handlers[] = {
	    {&plexus__internal__framework_registered_message__descriptor, registered},
	    {&plexus__internal__framework_reregistered_message__descriptor, reregistered},
	    {&plexus__internal__resource_offers_message__descriptor, offers},
	    {&plexus__internal__rescind_resource_offer_message__descriptor, rescind},
	    {&plexus__internal__status_update_message__descriptor, update},
	    {&plexus__internal__executor_to_framework_message__descriptor, message},
	    {&plexus__internal__lost_agent_message__descriptor, lost_agent},
	    {&plexus__internal__exited_executor_message__descriptor, exited_executor},
	    {&plexus__internal__framework_error_message__descriptor, framework_error},
	};

	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (actor_install_pb(self, handlers[i].desc, handlers[i].fn, NULL) != 0)
			return ACTOR_ENOMEM;
	actor_link(self, p->master);
	if (actor_http_stream_watch(p->stream, actor_self(self), stream_over, NULL) != 0)
		return ACTOR_ESTATE;
	/* Register as a driver would: with an id, this is a failover of that framework. */
	if (p->info->id != NULL) {
		Plexus__Internal__ReregisterFrameworkMessage r =
		    PLEXUS__INTERNAL__REREGISTER_FRAMEWORK_MESSAGE__INIT;
		r.framework = p->info;
		r.has_failover = true;
		r.failover = true;
		actor_send_pb(self, p->master, &r.base);
	} else {
		Plexus__Internal__RegisterFrameworkMessage r =
		    PLEXUS__INTERNAL__REGISTER_FRAMEWORK_MESSAGE__INIT;
		r.framework = p->info;
		actor_send_pb(self, p->master, &r.base);
	}
	return 0;
}

struct forget_arg {
	actor_pid proxy;
};

static void forget_sub(actor_t *self, void *arg);

static void proxy_fini(actor_t *self)
{
	struct proxy *p = actor_state(self);
	struct forget_arg *a = malloc(sizeof(*a));

	if (a != NULL) {
		a->proxy = actor_self(self);
		if (actor_call(p->master, forget_sub, a) != 0)
			free(a);
	}
	actor_http_stream_close(p->stream);
	if (p->info != NULL)
		protobuf_c_message_free_unpacked(&p->info->base, NULL);
	free(p);
}

static void proxy_exited(actor_t *self, actor_pid who)
{
	struct proxy *p = actor_state(self);
	if (actor_pid_equal(who, p->master))
		proxy_error(self, "The master is gone");
}

static const actor_def proxy_def = {
    .name = "scheduler-http",
    .init = proxy_init,
    .fini = proxy_fini,
    .exited = proxy_exited,
};

/* A call's internal message, sent by the proxy as its own. */
struct proxy_send {
	char name[128];
	uint8_t *data;
	size_t len;
	bool then_close; /* TEARDOWN: the stream ends after it */
};

static void proxy_send_fn(actor_t *self, void *arg)
{
	struct proxy_send *s = arg;

	if (self != NULL) {
		struct proxy *p = actor_state(self);
		actor_send(self, p->master, s->name, s->data, s->len);
		if (s->then_close)
			proxy_close(self, p);
	}
	free(s->data);
	free(s);
}

/* ---- the master's side ---- */

static struct mst_sched_api *api_of(struct master *m)
{
	if (m->sched_api == NULL)
		m->sched_api = calloc(1, sizeof(*m->sched_api));
	return m->sched_api;
}

static void forget_sub(actor_t *self, void *arg)
{
	struct forget_arg *a = arg;

	if (self != NULL) {
		struct master *m = actor_state(self);
		struct mst_sched_api *api = m->sched_api;
		for (struct mst_sched_sub **s = api ? &api->subs : NULL; s && *s; s = &(*s)->next)
			if (actor_pid_equal((*s)->proxy, a->proxy)) {
				struct mst_sched_sub *dead = *s;
				*s = dead->next;
				free(dead);
				break;
			}
	}
	free(a);
}

static struct mst_sched_sub *sub_find(struct master *m, actor_pid proxy)
{
	for (struct mst_sched_sub *s = m->sched_api ? m->sched_api->subs : NULL; s; s = s->next)
		if (actor_pid_equal(s->proxy, proxy))
			return s;
	return NULL;
}

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
		actor_info("scheduler API: %d %s", status, text);
	}
	actor_http_response *res =
	    actor_http_response_alloc(status, "text/plain", text, strlen(text));
	if (res != NULL && text[0] == '\0')
		actor_http_response_header(res, "Content-Length", "0");
	return actor_http_respond(res);
}

static actor_future *subscribe(actor_t *self, struct master *m, Plexus__Scheduler__Call *call,
                               bool protobuf)
{
	Plexus__Scheduler__Call__Subscribe *sub = call->subscribe;

	if (sub == NULL || sub->framework_info == NULL)
		return reply(m, 400, "Expecting 'subscribe' to be present");
	Plexus__FrameworkInfo *fi = sub->framework_info;
	if (call->framework_id != NULL &&
	    (fi->id == NULL || strcmp(fi->id->value, call->framework_id->value) != 0))
		return reply(m, 400, "'framework_id' differs from 'subscribe.framework_info.id'");
	if (call->framework_id == NULL && fi->id != NULL)
		return reply(m, 400,
		             "'framework_id' must be set when "
		             "'subscribe.framework_info.id' is");
	struct proxy *p = calloc(1, sizeof(*p));
	struct mst_sched_sub *entry = calloc(1, sizeof(*entry));
	struct mst_sched_api *api = api_of(m);
	if (p == NULL || entry == NULL || api == NULL) {
		free(p);
		free(entry);
		return reply(m, 500, "out of memory");
	}
	uint8_t uuid[16];
	px_uuid_random(uuid);
	px_uuid_format(uuid, p->stream_id);
	memcpy(entry->stream_id, p->stream_id, sizeof(entry->stream_id));
	p->master = m->self;
	p->protobuf = protobuf;
	/* The call is freed when the handler returns: the proxy keeps the FrameworkInfo. */
	p->info = (Plexus__FrameworkInfo *)fi;
	sub->framework_info = NULL;
	actor_http_response *res = actor_http_response_stream(
	    200, protobuf ? PX_MEDIA_PROTOBUF : PX_MEDIA_JSON, STREAM_MAX_PENDING, &p->stream);
	if (res == NULL || actor_http_response_header(res, "Mesos-Stream-Id", p->stream_id) != 0) {
		actor_http_response_free(res);
		actor_http_stream_close(p->stream);
		protobuf_c_message_free_unpacked(&p->info->base, NULL);
		free(p);
		free(entry);
		return reply(m, 500, "out of memory");
	}
	if (actor_spawn(&proxy_def, p, &entry->proxy) != 0) {
		/* init did not run, so p is still ours */
		actor_http_response_free(res);
		actor_http_stream_close(p->stream);
		protobuf_c_message_free_unpacked(&p->info->base, NULL);
		free(p);
		free(entry);
		return reply(m, 503, "cannot start the subscription");
	}
	entry->next = api->subs;
	api->subs = entry;
	actor_info("scheduler API: SUBSCRIBE of '%s' (stream %s, %s)", p->info->name,
	           entry->stream_id, protobuf ? "protobuf" : "JSON");
	return actor_http_respond(res);
}

/* Packs msg for the proxy to send; NULL on out of memory. */
static struct proxy_send *packed(const ProtobufCMessage *msg)
{
	struct proxy_send *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", msg->descriptor->name);
	s->len = protobuf_c_message_get_packed_size(msg);
	s->data = malloc(s->len ? s->len : 1);
	if (s->data == NULL) {
		free(s);
		return NULL;
	}
	protobuf_c_message_pack(msg, s->data);
	return s;
}

/* The internal message a driver would send for call (not SUBSCRIBE), packed; or a
 * reason in *why when the call lacks what it needs. *none when the call has nothing to
 * send (accepted and ignored). */
static struct proxy_send *translate(actor_t *self, struct master *m, Plexus__Scheduler__Call *call,
                                    const char **why, bool *none)
{
	Plexus__FrameworkID *fid = call->framework_id;

	*none = false;
	switch (call->type) {
	case PLEXUS__SCHEDULER__CALL__TYPE__TEARDOWN: {
		Plexus__Internal__UnregisterFrameworkMessage r =
		    PLEXUS__INTERNAL__UNREGISTER_FRAMEWORK_MESSAGE__INIT;
		r.framework_id = fid;
		struct proxy_send *s = packed(&r.base);
		if (s != NULL)
			s->then_close = true;
		return s;
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__ACCEPT: {
		if (call->accept == NULL)
			return *why = "Expecting 'accept' to be present", NULL;
		Plexus__Internal__AcceptOffersMessage r =
		    PLEXUS__INTERNAL__ACCEPT_OFFERS_MESSAGE__INIT;
		r.framework_id = fid;
		r.n_offer_ids = call->accept->n_offer_ids;
		r.offer_ids = call->accept->offer_ids;
		r.n_operations = call->accept->n_operations;
		r.operations = call->accept->operations;
		r.filters = call->accept->filters;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__DECLINE: {
		if (call->decline == NULL)
			return *why = "Expecting 'decline' to be present", NULL;
		Plexus__Internal__DeclineOffersMessage r =
		    PLEXUS__INTERNAL__DECLINE_OFFERS_MESSAGE__INIT;
		r.framework_id = fid;
		r.n_offer_ids = call->decline->n_offer_ids;
		r.offer_ids = call->decline->offer_ids;
		r.filters = call->decline->filters;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__REVIVE: {
		Plexus__Internal__ReviveOffersMessage r =
		    PLEXUS__INTERNAL__REVIVE_OFFERS_MESSAGE__INIT;
		r.framework_id = fid;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__SUPPRESS: {
		Plexus__Internal__SuppressOffersMessage r =
		    PLEXUS__INTERNAL__SUPPRESS_OFFERS_MESSAGE__INIT;
		r.framework_id = fid;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__KILL: {
		if (call->kill == NULL || call->kill->task_id == NULL)
			return *why = "Expecting 'kill' to be present", NULL;
		Plexus__Internal__KillTaskMessage r = PLEXUS__INTERNAL__KILL_TASK_MESSAGE__INIT;
		r.framework_id = fid;
		r.task_id = call->kill->task_id;
		r.kill_policy = call->kill->kill_policy;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__SHUTDOWN: {
		/* The master forwards it to the agent itself: no driver message for it. */
		if (call->shutdown == NULL)
			return *why = "Expecting 'shutdown' to be present", NULL;
		struct mst_agent *ag = mst_agent_find(m, call->shutdown->agent_id->value);
		if (ag == NULL || !ag->connected)
			return *why = "Agent is not registered or not connected", NULL;
		Plexus__Internal__ShutdownExecutorMessage r =
		    PLEXUS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
		r.framework_id = fid;
		r.executor_id = call->shutdown->executor_id;
		actor_send_pb(self, ag->pid, &r.base);
		*none = true;
		return NULL;
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__ACKNOWLEDGE: {
		if (call->acknowledge == NULL)
			return *why = "Expecting 'acknowledge' to be present", NULL;
		if (call->acknowledge->uuid.len != 16)
			return *why = "'acknowledge.uuid' is not a valid UUID", NULL;
		Plexus__Internal__StatusUpdateAcknowledgementMessage r =
		    PLEXUS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
		r.framework_id = fid;
		r.agent_id = call->acknowledge->agent_id;
		r.task_id = call->acknowledge->task_id;
		r.has_uuid = true;
		r.uuid = call->acknowledge->uuid;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__RECONCILE: {
		Plexus__Internal__ReconcileTasksMessage r =
		    PLEXUS__INTERNAL__RECONCILE_TASKS_MESSAGE__INIT;
		size_t n = call->reconcile ? call->reconcile->n_tasks : 0;
		Plexus__TaskStatus *st = calloc(n ? n : 1, sizeof(*st));
		Plexus__TaskStatus **sp = calloc(n ? n : 1, sizeof(*sp));
		if (st == NULL || sp == NULL) {
			free(st);
			free(sp);
			return NULL;
		}
		for (size_t i = 0; i < n; i++) {
			plexus__task_status__init(&st[i]);
			st[i].task_id = call->reconcile->tasks[i]->task_id;
			st[i].agent_id = call->reconcile->tasks[i]->agent_id;
			st[i].state = PLEXUS__TASK_STATE__TASK_STAGING; /* required; unused */
			sp[i] = &st[i];
		}
		r.framework_id = fid;
		r.n_statuses = n;
		r.statuses = sp;
		struct proxy_send *s = packed(&r.base);
		free(st);
		free(sp);
		return s;
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__MESSAGE: {
		if (call->message == NULL)
			return *why = "Expecting 'message' to be present", NULL;
		Plexus__Internal__FrameworkToExecutorMessage r =
		    PLEXUS__INTERNAL__FRAMEWORK_TO_EXECUTOR_MESSAGE__INIT;
		r.framework_id = fid;
		r.agent_id = call->message->agent_id;
		r.executor_id = call->message->executor_id;
		r.has_data = true;
		r.data = call->message->data;
		return packed(&r.base);
	}
	case PLEXUS__SCHEDULER__CALL__TYPE__REQUEST:
	case PLEXUS__SCHEDULER__CALL__TYPE__ACCEPT_INVERSE_OFFERS:
	case PLEXUS__SCHEDULER__CALL__TYPE__DECLINE_INVERSE_OFFERS:
		/* As Mesos's hierarchical allocator: requests are ignored, and this master
		 * makes no inverse offers to answer. */
		*none = true;
		return NULL;
	default:
		return *why = "Unknown call type", NULL;
	}
}

static actor_future *scheduler_api(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	char why[256];

	if (strcmp(req->path, "/") != 0)
		return reply(m, 404, "No such endpoint: /api/v1/scheduler%s", req->path);
	if (strcmp(req->method, "POST") != 0)
		return reply(m, 405, "Expecting a 'POST' request, received '%s'", req->method);
	enum px_mt in = px_media_content_type(actor_http_header(req, "Content-Type"));
	if (in == PX_MT_NONE)
		return reply(m, 415, "Expecting 'Content-Type' of %s or %s", PX_MEDIA_JSON,
		             PX_MEDIA_PROTOBUF);
	Plexus__Scheduler__Call *call = (Plexus__Scheduler__Call *)px_media_decode(
	    in, req->body, req->body_len, &plexus__scheduler__call__descriptor, why, sizeof(why));
	if (call == NULL)
		return reply(m, 400, "Failed to parse body into Call: %s", why);
	actor_future *f;
	if (!call->has_type || call->type == PLEXUS__SCHEDULER__CALL__TYPE__UNKNOWN) {
		f = reply(m, 400, "Expecting 'type' to be present");
	} else if (protobuf_c_enum_descriptor_get_value(&plexus__scheduler__call__type__descriptor,
	                                                (int)call->type) == NULL) {
		f = reply(m, 400, "Unknown call type %d", (int)call->type);
	} else if (call->type == PLEXUS__SCHEDULER__CALL__TYPE__SUBSCRIBE) {
		enum px_mt out = px_media_accept(actor_http_header(req, "Accept"));
		if (out == PX_MT_NONE)
			f = reply(m, 406, "Expecting 'Accept' to allow %s or %s", PX_MEDIA_JSON,
			          PX_MEDIA_PROTOBUF);
		else
			f = subscribe(self, m, call, out == PX_MT_PROTOBUF);
	} else {
		const char *stream = actor_http_header(req, "Mesos-Stream-Id");
		struct mst_framework *fw =
		    call->framework_id ? mst_framework_find(m, call->framework_id->value) : NULL;
		struct mst_sched_sub *sub = fw ? sub_find(m, fw->pid) : NULL;
		if (call->framework_id == NULL) {
			f = reply(m, 400, "Expecting 'framework_id' to be present");
		} else if (stream == NULL) {
			f = reply(m, 400,
			          "All non-subscribe calls should include the "
			          "'Mesos-Stream-Id' header");
		} else if (fw == NULL || sub == NULL || !fw->connected) {
			f = reply(m, 403, "Framework cannot be found or is not subscribed");
		} else if (strcmp(stream, sub->stream_id) != 0) {
			f = reply(m, 400,
			          "The stream ID '%s' included in this request didn't match the "
			          "stream ID currently associated with framework ID %s",
			          stream, fw->id);
		} else {
			const char *bad = NULL;
			bool none = false;
			struct proxy_send *s = translate(self, m, call, &bad, &none);
			if (bad != NULL) {
				f = reply(m, 400, "%s", bad);
			} else if (s == NULL && !none) {
				f = reply(m, 500, "out of memory");
			} else {
				if (s != NULL && actor_call(sub->proxy, proxy_send_fn, s) != 0) {
					free(s->data);
					free(s);
				}
				f = reply(m, 202, "%s", "");
			}
		}
	}
	protobuf_c_message_free_unpacked(&call->base, NULL);
	return f;
}

int mst_api_scheduler_install(actor_t *self)
{
	return actor_http_route_prefix(self, "/api/v1/scheduler", scheduler_api, NULL);
}

void mst_api_scheduler_fini(struct master *m)
{
	struct mst_sched_api *api = m->sched_api;

	if (api == NULL)
		return;
	while (api->subs != NULL) {
		struct mst_sched_sub *s = api->subs;
		api->subs = s->next;
		free(s);
	}
	free(api);
	m->sched_api = NULL;
}
