/* The scheduler driver against a real actor that plays the master: registration,
 * offers, accept/launch, decline, status updates and their acknowledgements
 * (implicit and explicit), reconciliation, messages from strangers, errors, stop,
 * and the loss of the master followed by re-registration under the same id. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plexus/scheduler.h"
#include "peer.h"
#include "proto/internal.pb-c.h"

#define WAIT_MS 10000

/* What the callbacks saw. Written inside the driver's actor, read by the test after
 * waiting on a counter (the counters' mutex orders the accesses). */
static struct {
	struct counter registered, reregistered, disconnected, offers, rescinded, updates, messages,
	    agent_lost, executor_lost, errors;
	char framework_id[64];
	char last_offer[64];
	char last_task[64];
	int last_state;
	bool last_has_uuid;
	uint8_t last_uuid[16];
	char last_agent[64];
	char error[128];
	int acks_seen_in_callback;
	bool launch_on_offer;
	peer *master;
} ev;

static px_scheduler_driver *driver;

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *mi, void *arg)
{
	snprintf(ev.framework_id, sizeof(ev.framework_id), "%s", id->value);
	counter_add(&ev.registered, 1);
}

static void on_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *mi, void *arg)
{
	counter_add(&ev.reregistered, 1);
}

static void on_disconnected(px_scheduler_driver *d, void *arg)
{
	counter_add(&ev.disconnected, 1);
}

static void on_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	if (n > 0)
		snprintf(ev.last_offer, sizeof(ev.last_offer), "%s", offers[0]->id->value);
	if (ev.launch_on_offer && n > 0) {
		/* Launch from inside the callback: the call runs in the driver's actor. */
		Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
		tid.value = "t-1";
		Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
		cmd.value = "true";
		Plexus__TaskInfo task = PLEXUS__TASK_INFO__INIT;
		task.name = "one";
		task.task_id = &tid;
		task.agent_id = offers[0]->agent_id;
		task.command = &cmd;
		const Plexus__TaskInfo *tasks[1] = {&task};
		const Plexus__OfferID *ids[1] = {offers[0]->id};
		Plexus__Filters f = PLEXUS__FILTERS__INIT;
		f.has_refuse_seconds = true;
		f.refuse_seconds = 7;
		cr_expect_eq(px_scheduler_driver_launch(d, ids, 1, tasks, 1, &f),
		             PX_DRIVER_RUNNING);
	}
	counter_add(&ev.offers, 1);
}

static void on_rescinded(px_scheduler_driver *d, const Plexus__OfferID *id, void *arg)
{
	counter_add(&ev.rescinded, 1);
}

static void on_update(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	snprintf(ev.last_task, sizeof(ev.last_task), "%s", s->task_id->value);
	ev.last_state = s->state;
	ev.last_has_uuid = s->has_uuid;
	if (s->has_uuid && s->uuid.len == 16)
		memcpy(ev.last_uuid, s->uuid.data, 16);
	snprintf(ev.last_agent, sizeof(ev.last_agent), "%s", s->agent_id ? s->agent_id->value : "");
	ev.acks_seen_in_callback =
	    ev.master
	        ? peer_count(ev.master,
	                     &plexus__internal__status_update_acknowledgement_message__descriptor)
	        : -1;
	counter_add(&ev.updates, 1);
}

static void on_message(px_scheduler_driver *d, const Plexus__ExecutorID *e,
                       const Plexus__AgentID *a, const uint8_t *data, size_t len, void *arg)
{
	counter_add(&ev.messages, 1);
}

static void on_agent_lost(px_scheduler_driver *d, const Plexus__AgentID *a, void *arg)
{
	counter_add(&ev.agent_lost, 1);
}

static void on_executor_lost(px_scheduler_driver *d, const Plexus__ExecutorID *e,
                             const Plexus__AgentID *a, int status, void *arg)
{
	counter_add(&ev.executor_lost, 1);
}

static void on_error(px_scheduler_driver *d, const char *message, void *arg)
{
	snprintf(ev.error, sizeof(ev.error), "%s", message);
	counter_add(&ev.errors, 1);
}

static const px_scheduler_callbacks callbacks = {
    .registered = on_registered,
    .reregistered = on_reregistered,
    .disconnected = on_disconnected,
    .resource_offers = on_offers,
    .offer_rescinded = on_rescinded,
    .status_update = on_update,
    .framework_message = on_message,
    .agent_lost = on_agent_lost,
    .executor_lost = on_executor_lost,
    .error = on_error,
};

static void setup(void)
{
	memset(&ev, 0, sizeof(ev));
	test_runtime_start(false);
}

static void teardown(void)
{
	px_scheduler_driver_free(driver);
	driver = NULL;
	peer_free(ev.master);
	ev.master = NULL;
	test_runtime_stop();
}

TestSuite(scheduler, .init = setup, .fini = teardown, .timeout = 60);

static px_scheduler_driver *make_driver(const char *master, bool implicit_acks,
                                        const char *framework_id)
{
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.user = "tester";
	fw.name = "test-framework";
	Plexus__FrameworkID id = PLEXUS__FRAMEWORK_ID__INIT;
	if (framework_id != NULL) {
		id.value = (char *)framework_id;
		fw.id = &id;
	}
	px_scheduler_options opts;
	px_scheduler_options_default(&opts);
	opts.implicit_acknowledgements = implicit_acks;
	px_scheduler_driver *d = px_scheduler_driver_alloc(&callbacks, NULL, &fw, master, &opts);
	cr_assert_not_null(d);
	return d;
}

/* Master side of a first registration: waits for RegisterFrameworkMessage, checks it,
 * answers FrameworkRegisteredMessage with id, and returns the driver's PID. */
static actor_pid register_framework(peer *master, const char *id)
{
	actor_pid from;
	Plexus__Internal__RegisterFrameworkMessage *reg = (void *)peer_wait(
	    master, &plexus__internal__register_framework_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(reg, "no RegisterFrameworkMessage reached the master");
	cr_assert_not_null(reg->framework);
	cr_expect_str_eq(reg->framework->name, "test-framework");
	cr_expect_str_eq(reg->framework->user, "tester");
	cr_expect_null(reg->framework->id, "a first registration carries no framework id");
	cr_expect_eq(strncmp(from.id, "scheduler-", 10), 0, "driver id '%s'", from.id);
	protobuf_c_message_free_unpacked(&reg->base, NULL);

	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = (char *)id;
	Plexus__MasterInfo mi = PLEXUS__MASTER_INFO__INIT;
	mi.id = "master-1";
	mi.ip = 0x7f000001;
	mi.port = 5050;
	Plexus__Internal__FrameworkRegisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	ok.master_info = &mi;
	peer_send(master, from, &ok.base);
	cr_assert(counter_wait(&ev.registered, 1, WAIT_MS), "registered callback never ran");
	cr_expect_str_eq(ev.framework_id, id);
	return from;
}

static actor_pid start_registered(bool implicit_acks)
{
	ev.master = peer_spawn("master");
	driver = make_driver(peer_pid_text(ev.master), implicit_acks, NULL);
	cr_assert_eq(px_scheduler_driver_start(driver), PX_DRIVER_RUNNING);
	return register_framework(ev.master, "fw-1");
}

static void send_offer(peer *master, actor_pid to, const char *offer_id, const char *agent_pid)
{
	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	oid.value = (char *)offer_id;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-1";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__Value__Scalar sc = PLEXUS__VALUE__SCALAR__INIT;
	sc.value = 2;
	Plexus__Resource cpus = PLEXUS__RESOURCE__INIT;
	cpus.name = "cpus";
	cpus.type = PLEXUS__VALUE__TYPE__SCALAR;
	cpus.scalar = &sc;
	Plexus__Resource *res[1] = {&cpus};
	Plexus__Offer offer = PLEXUS__OFFER__INIT;
	offer.id = &oid;
	offer.framework_id = &fid;
	offer.agent_id = &aid;
	offer.hostname = "host-1";
	offer.n_resources = 1;
	offer.resources = res;
	Plexus__Offer *offers[1] = {&offer};
	char *pids[1] = {(char *)agent_pid};
	Plexus__Internal__ResourceOffersMessage m = PLEXUS__INTERNAL__RESOURCE_OFFERS_MESSAGE__INIT;
	m.n_offers = 1;
	m.offers = offers;
	m.n_pids = 1;
	m.pids = pids;
	peer_send(master, to, &m.base);
}

/* An update as the master forwards it; pid set means "from an agent, acknowledge". */
static void send_update(peer *master, actor_pid to, const char *task, Plexus__TaskState state,
                        const uint8_t *uuid, const char *agent_pid)
{
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = (char *)task;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.state = state;
	st.agent_id = &aid;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-1";
	Plexus__Internal__StatusUpdate u = PLEXUS__INTERNAL__STATUS_UPDATE__INIT;
	u.framework_id = &fid;
	u.agent_id = &aid;
	u.status = &st;
	u.has_timestamp = true;
	u.timestamp = 1.5;
	if (uuid != NULL) {
		u.has_uuid = true;
		u.uuid.data = (uint8_t *)uuid;
		u.uuid.len = 16;
	}
	Plexus__Internal__StatusUpdateMessage m = PLEXUS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
	m.update = &u;
	m.pid = (char *)(agent_pid ? agent_pid : "");
	peer_send(master, to, &m.base);
}

/* A round trip through the driver's mailbox: anything the driver did before it has
 * reached the master once the ReconcileTasksMessage has (order per sender and
 * receiver). */
static void flush_driver(int nth_reconcile)
{
	cr_assert_eq(px_scheduler_driver_reconcile(driver, NULL, 0), PX_DRIVER_RUNNING);
	ProtobufCMessage *m =
	    peer_wait(ev.master, &plexus__internal__reconcile_tasks_message__descriptor,
	              nth_reconcile, WAIT_MS, NULL);
	cr_assert_not_null(m);
	protobuf_c_message_free_unpacked(m, NULL);
}

Test(scheduler, registers_and_reports_framework_id)
{
	start_registered(true);
	cr_expect_eq(counter_get(&ev.registered), 1);
	cr_expect_eq(counter_get(&ev.reregistered), 0);
	cr_expect_eq(px_scheduler_driver_status(driver), PX_DRIVER_RUNNING);
	char pid[ACTOR_PID_TEXT_MAX];
	px_scheduler_driver_pid(driver, pid, sizeof(pid));
	cr_expect_eq(strncmp(pid, "scheduler-", 10), 0, "pid %s", pid);
}

Test(scheduler, failover_registration_carries_framework_id)
{
	ev.master = peer_spawn("master");
	driver = make_driver(peer_pid_text(ev.master), true, "fw-old");
	cr_assert_eq(px_scheduler_driver_start(driver), PX_DRIVER_RUNNING);
	Plexus__Internal__ReregisterFrameworkMessage *m = (void *)peer_wait(
	    ev.master, &plexus__internal__reregister_framework_message__descriptor, 1, WAIT_MS,
	    NULL);
	cr_assert_not_null(m);
	cr_assert_not_null(m->framework->id);
	cr_expect_str_eq(m->framework->id->value, "fw-old");
	cr_expect(m->has_failover && m->failover, "a new scheduler instance fails over");
	cr_expect_eq(
	    peer_count(ev.master, &plexus__internal__register_framework_message__descriptor), 0);
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

Test(scheduler, ignores_registration_from_a_stranger)
{
	ev.master = peer_spawn("master");
	peer *stranger = peer_spawn("impostor");
	driver = make_driver(peer_pid_text(ev.master), true, NULL);
	cr_assert_eq(px_scheduler_driver_start(driver), PX_DRIVER_RUNNING);
	actor_pid from;
	ProtobufCMessage *reg =
	    peer_wait(ev.master, &plexus__internal__register_framework_message__descriptor, 1,
	              WAIT_MS, &from);
	cr_assert_not_null(reg);
	protobuf_c_message_free_unpacked(reg, NULL);

	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-bogus";
	Plexus__Internal__FrameworkRegisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	peer_send_sync(stranger, from, &ok.base);
	/* Garbage under a real message name from the master itself must not crash either. */
	cr_assert_eq(
	    actor_send(NULL, from, "plexus.internal.FrameworkRegisteredMessage", "\xff\xff", 2), 0);
	/* Then the real answer; the stranger's must not have counted. */
	fid.value = "fw-1";
	peer_send(ev.master, from, &ok.base);
	cr_assert(counter_wait(&ev.registered, 1, WAIT_MS));
	cr_expect_str_eq(ev.framework_id, "fw-1");
	cr_expect_eq(counter_get(&ev.registered), 1);
	peer_free(stranger);
}

Test(scheduler, offers_reach_resource_offers_and_launch_sends_accept)
{
	actor_pid d = start_registered(true);
	ev.launch_on_offer = true;
	send_offer(ev.master, d, "o-1", "slave(1)@127.0.0.1:1234");
	cr_assert(counter_wait(&ev.offers, 1, WAIT_MS), "resource_offers never ran");
	cr_expect_str_eq(ev.last_offer, "o-1");

	Plexus__Internal__AcceptOffersMessage *a = (void *)peer_wait(
	    ev.master, &plexus__internal__accept_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(a, "no AcceptOffersMessage");
	cr_assert_not_null(a->framework_id);
	cr_expect_str_eq(a->framework_id->value, "fw-1");
	cr_assert_eq(a->n_offer_ids, 1);
	cr_expect_str_eq(a->offer_ids[0]->value, "o-1");
	cr_assert_eq(a->n_operations, 1);
	cr_expect_eq(a->operations[0]->type, PLEXUS__OFFER__OPERATION__TYPE__LAUNCH);
	cr_assert_not_null(a->operations[0]->launch);
	cr_assert_eq(a->operations[0]->launch->n_task_infos, 1);
	Plexus__TaskInfo *t = a->operations[0]->launch->task_infos[0];
	cr_expect_str_eq(t->task_id->value, "t-1");
	cr_expect_str_eq(t->agent_id->value, "agent-1");
	cr_expect_str_eq(t->command->value, "true");
	cr_assert_not_null(a->filters);
	cr_expect_float_eq(a->filters->refuse_seconds, 7.0, 1e-9);
	protobuf_c_message_free_unpacked(&a->base, NULL);
}

Test(scheduler, decline_and_rescind)
{
	actor_pid d = start_registered(true);
	send_offer(ev.master, d, "o-2", "slave(1)@127.0.0.1:1234");
	cr_assert(counter_wait(&ev.offers, 1, WAIT_MS));
	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	oid.value = "o-2";
	cr_assert_eq(px_scheduler_driver_decline(driver, &oid, NULL), PX_DRIVER_RUNNING);
	Plexus__Internal__DeclineOffersMessage *m = (void *)peer_wait(
	    ev.master, &plexus__internal__decline_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(m);
	cr_expect_str_eq(m->framework_id->value, "fw-1");
	cr_assert_eq(m->n_offer_ids, 1);
	cr_expect_str_eq(m->offer_ids[0]->value, "o-2");
	protobuf_c_message_free_unpacked(&m->base, NULL);

	Plexus__Internal__RescindResourceOfferMessage r =
	    PLEXUS__INTERNAL__RESCIND_RESOURCE_OFFER_MESSAGE__INIT;
	oid.value = "o-3";
	r.offer_id = &oid;
	peer_send(ev.master, d, &r.base);
	cr_assert(counter_wait(&ev.rescinded, 1, WAIT_MS), "offer_rescinded never ran");
}

Test(scheduler, status_update_delivered_then_acknowledged)
{
	actor_pid d = start_registered(true);
	uint8_t uuid[16];
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(i * 7 + 1);
	send_update(ev.master, d, "t-9", PLEXUS__TASK_STATE__TASK_RUNNING, uuid,
	            "slave(1)@127.0.0.1:1234");
	cr_assert(counter_wait(&ev.updates, 1, WAIT_MS), "status_update never ran");
	cr_expect_str_eq(ev.last_task, "t-9");
	cr_expect_eq(ev.last_state, PLEXUS__TASK_STATE__TASK_RUNNING);
	cr_expect_str_eq(ev.last_agent, "agent-1");

	Plexus__Internal__StatusUpdateAcknowledgementMessage *ack = (void *)peer_wait(
	    ev.master, &plexus__internal__status_update_acknowledgement_message__descriptor, 1,
	    WAIT_MS, NULL);
	cr_assert_not_null(ack, "no acknowledgement reached the master");
	cr_expect_eq(ev.acks_seen_in_callback, 0, "acknowledged before the callback returned");
	cr_expect_str_eq(ack->framework_id->value, "fw-1");
	cr_expect_str_eq(ack->task_id->value, "t-9");
	cr_expect_str_eq(ack->agent_id->value, "agent-1");
	cr_assert_eq(ack->uuid.len, 16);
	cr_expect_arr_eq(ack->uuid.data, uuid, 16);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
}

Test(scheduler, master_generated_update_is_not_acknowledged)
{
	actor_pid d = start_registered(true);
	send_update(ev.master, d, "t-5", PLEXUS__TASK_STATE__TASK_LOST, NULL, NULL);
	cr_assert(counter_wait(&ev.updates, 1, WAIT_MS));
	cr_expect_not(ev.last_has_uuid);
	flush_driver(1);
	cr_expect_eq(
	    peer_count(ev.master,
	               &plexus__internal__status_update_acknowledgement_message__descriptor),
	    0);
}

Test(scheduler, explicit_acknowledgement)
{
	actor_pid d = start_registered(false);
	uint8_t uuid[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
	send_update(ev.master, d, "t-2", PLEXUS__TASK_STATE__TASK_FINISHED, uuid,
	            "slave(1)@127.0.0.1:1234");
	cr_assert(counter_wait(&ev.updates, 1, WAIT_MS));
	cr_assert(ev.last_has_uuid, "the status carries the uuid to acknowledge");
	cr_expect_arr_eq(ev.last_uuid, uuid, 16);
	flush_driver(1);
	cr_expect_eq(
	    peer_count(ev.master,
	               &plexus__internal__status_update_acknowledgement_message__descriptor),
	    0, "acknowledged without being asked");

	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-2";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.agent_id = &aid;
	st.state = PLEXUS__TASK_STATE__TASK_FINISHED;
	st.has_uuid = true;
	st.uuid.data = uuid;
	st.uuid.len = 16;
	cr_assert_eq(px_scheduler_driver_acknowledge(driver, &st), PX_DRIVER_RUNNING);
	Plexus__Internal__StatusUpdateAcknowledgementMessage *ack = (void *)peer_wait(
	    ev.master, &plexus__internal__status_update_acknowledgement_message__descriptor, 1,
	    WAIT_MS, NULL);
	cr_assert_not_null(ack);
	cr_expect_str_eq(ack->task_id->value, "t-2");
	cr_expect_str_eq(ack->framework_id->value, "fw-1");
	cr_expect_arr_eq(ack->uuid.data, uuid, 16);
	protobuf_c_message_free_unpacked(&ack->base, NULL);
}

Test(scheduler, reconcile_explicit_and_implicit)
{
	start_registered(true);
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-7";
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.state = PLEXUS__TASK_STATE__TASK_RUNNING;
	const Plexus__TaskStatus *sts[1] = {&st};
	cr_assert_eq(px_scheduler_driver_reconcile(driver, sts, 1), PX_DRIVER_RUNNING);
	cr_assert_eq(px_scheduler_driver_reconcile(driver, NULL, 0), PX_DRIVER_RUNNING);

	Plexus__Internal__ReconcileTasksMessage *a = (void *)peer_wait(
	    ev.master, &plexus__internal__reconcile_tasks_message__descriptor, 1, WAIT_MS, NULL);
	Plexus__Internal__ReconcileTasksMessage *b = (void *)peer_wait(
	    ev.master, &plexus__internal__reconcile_tasks_message__descriptor, 2, WAIT_MS, NULL);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_expect_str_eq(a->framework_id->value, "fw-1");
	cr_assert_eq(a->n_statuses, 1);
	cr_expect_str_eq(a->statuses[0]->task_id->value, "t-7");
	cr_expect_eq(b->n_statuses, 0, "implicit reconciliation lists no task");
	cr_expect_str_eq(b->framework_id->value, "fw-1");
	protobuf_c_message_free_unpacked(&a->base, NULL);
	protobuf_c_message_free_unpacked(&b->base, NULL);
}

Test(scheduler, kill_revive_suppress_and_messages)
{
	actor_pid d = start_registered(true);
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-3";
	cr_assert_eq(px_scheduler_driver_kill(driver, &tid), PX_DRIVER_RUNNING);
	const char *roles[1] = {"web"};
	cr_assert_eq(px_scheduler_driver_suppress(driver, roles, 1), PX_DRIVER_RUNNING);
	cr_assert_eq(px_scheduler_driver_revive(driver, NULL, 0), PX_DRIVER_RUNNING);

	Plexus__Internal__KillTaskMessage *k = (void *)peer_wait(
	    ev.master, &plexus__internal__kill_task_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(k);
	cr_expect_str_eq(k->task_id->value, "t-3");
	cr_expect_str_eq(k->framework_id->value, "fw-1");
	protobuf_c_message_free_unpacked(&k->base, NULL);
	Plexus__Internal__SuppressOffersMessage *s = (void *)peer_wait(
	    ev.master, &plexus__internal__suppress_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(s);
	cr_assert_eq(s->n_roles, 1);
	cr_expect_str_eq(s->roles[0], "web");
	protobuf_c_message_free_unpacked(&s->base, NULL);
	ProtobufCMessage *r = peer_wait(
	    ev.master, &plexus__internal__revive_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(r);
	protobuf_c_message_free_unpacked(r, NULL);

	/* Executor -> framework data reaches framework_message; lost agents and executors
	 * reach their callbacks. */
	Plexus__Internal__ExecutorToFrameworkMessage em =
	    PLEXUS__INTERNAL__EXECUTOR_TO_FRAMEWORK_MESSAGE__INIT;
	em.has_data = true;
	em.data.data = (uint8_t *)"hi";
	em.data.len = 2;
	peer_send(ev.master, d, &em.base);
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__Internal__LostAgentMessage lost = PLEXUS__INTERNAL__LOST_AGENT_MESSAGE__INIT;
	lost.agent_id = &aid;
	peer_send(ev.master, d, &lost.base);
	Plexus__Internal__ExitedExecutorMessage ex =
	    PLEXUS__INTERNAL__EXITED_EXECUTOR_MESSAGE__INIT;
	ex.agent_id = &aid;
	ex.has_status = true;
	ex.status = 256;
	peer_send(ev.master, d, &ex.base);
	cr_expect(counter_wait(&ev.messages, 1, WAIT_MS));
	cr_expect(counter_wait(&ev.agent_lost, 1, WAIT_MS));
	cr_expect(counter_wait(&ev.executor_lost, 1, WAIT_MS));

	/* Data for an executor on an agent the driver knows no PID of goes via the master. */
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	eid.value = "e-2";
	cr_assert_eq(px_scheduler_driver_send_message(driver, &eid, &aid, (const uint8_t *)"x", 1),
	             PX_DRIVER_RUNNING);
	Plexus__Internal__FrameworkToExecutorMessage *fm = (void *)peer_wait(
	    ev.master, &plexus__internal__framework_to_executor_message__descriptor, 1, WAIT_MS,
	    NULL);
	cr_assert_not_null(fm, "the message did not go through the master");
	cr_expect_str_eq(fm->framework_id->value, "fw-1");
	cr_expect_str_eq(fm->executor_id->value, "e-2");
	cr_expect_str_eq(fm->agent_id->value, "agent-1");
	protobuf_c_message_free_unpacked(&fm->base, NULL);
}

Test(scheduler, framework_message_goes_straight_to_the_offer_agent)
{
	actor_pid d = start_registered(true);
	peer *agent = peer_spawn("slave(1)");
	ev.launch_on_offer = true;
	send_offer(ev.master, d, "o-1", peer_pid_text(agent));
	cr_assert(counter_wait(&ev.offers, 1, WAIT_MS));
	ProtobufCMessage *acc = peer_wait(
	    ev.master, &plexus__internal__accept_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(acc);
	protobuf_c_message_free_unpacked(acc, NULL);

	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	eid.value = "e-1";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	cr_assert_eq(
	    px_scheduler_driver_send_message(driver, &eid, &aid, (const uint8_t *)"ping", 4),
	    PX_DRIVER_RUNNING);
	Plexus__Internal__FrameworkToExecutorMessage *m = (void *)peer_wait(
	    agent, &plexus__internal__framework_to_executor_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(m, "the message did not reach the agent");
	cr_expect_str_eq(m->framework_id->value, "fw-1");
	cr_expect_str_eq(m->executor_id->value, "e-1");
	cr_assert_eq(m->data.len, 4);
	cr_expect_eq(memcmp(m->data.data, "ping", 4), 0);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	peer_free(agent);
}

Test(scheduler, master_exit_then_reregistration_with_same_id)
{
	actor_clock_pause();
	start_registered(true);
	peer_kill(ev.master);
	cr_assert(counter_wait(&ev.disconnected, 1, WAIT_MS), "disconnected never ran");
	cr_expect_eq(px_scheduler_driver_status(driver), PX_DRIVER_RUNNING);

	/* A master comes back under the same PID; the driver's retries find it as the
	 * paused clock moves (at most the backoff bound per retry). */
	peer *second = peer_spawn("master");
	cr_assert_str_eq(peer_pid_text(second), peer_pid_text(ev.master));
	Plexus__Internal__ReregisterFrameworkMessage *m = NULL;
	actor_pid from;
	for (int i = 0; i < 200 && m == NULL; i++) {
		actor_clock_settle();
		if (peer_count(second,
		               &plexus__internal__reregister_framework_message__descriptor) > 0)
			m = (void *)peer_wait(
			    second, &plexus__internal__reregister_framework_message__descriptor, 1,
			    WAIT_MS, &from);
		else
			actor_clock_advance(1000);
	}
	cr_assert_not_null(m, "the driver never re-registered");
	cr_assert_not_null(m->framework->id);
	cr_expect_str_eq(m->framework->id->value, "fw-1");
	cr_expect(m->has_failover && !m->failover, "same scheduler: no failover");
	cr_expect_eq(peer_count(second, &plexus__internal__register_framework_message__descriptor),
	             0);
	protobuf_c_message_free_unpacked(&m->base, NULL);

	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-1";
	Plexus__Internal__FrameworkReregisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REREGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	peer_send(second, from, &ok.base);
	cr_assert(counter_wait(&ev.reregistered, 1, WAIT_MS), "reregistered never ran");
	cr_expect_eq(counter_get(&ev.registered), 1);

	/* Registered again: the retries have stopped. */
	int n = peer_count(second, &plexus__internal__reregister_framework_message__descriptor);
	for (int i = 0; i < 5; i++) {
		actor_clock_advance(60000);
		actor_clock_settle();
	}
	cr_expect_eq(
	    peer_count(second, &plexus__internal__reregister_framework_message__descriptor), n);

	/* Swap the records so that teardown frees both. */
	peer_free(ev.master);
	ev.master = second;
}

Test(scheduler, launch_while_disconnected_reports_lost_tasks)
{
	actor_clock_pause();
	start_registered(true);
	peer_kill(ev.master);
	cr_assert(counter_wait(&ev.disconnected, 1, WAIT_MS));
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-lost";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__TaskInfo task = PLEXUS__TASK_INFO__INIT;
	task.name = "x";
	task.task_id = &tid;
	task.agent_id = &aid;
	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	oid.value = "o-1";
	const Plexus__OfferID *ids[1] = {&oid};
	const Plexus__TaskInfo *tasks[1] = {&task};
	cr_assert_eq(px_scheduler_driver_launch(driver, ids, 1, tasks, 1, NULL), PX_DRIVER_RUNNING);
	cr_assert(counter_wait(&ev.updates, 1, WAIT_MS));
	cr_expect_str_eq(ev.last_task, "t-lost");
	cr_expect_eq(ev.last_state, PLEXUS__TASK_STATE__TASK_LOST);
}

Test(scheduler, master_error_aborts_and_reports)
{
	actor_pid d = start_registered(true);
	Plexus__Internal__FrameworkErrorMessage e = PLEXUS__INTERNAL__FRAMEWORK_ERROR_MESSAGE__INIT;
	e.message = "Framework has been removed";
	peer_send(ev.master, d, &e.base);
	cr_assert(counter_wait(&ev.errors, 1, WAIT_MS), "error never ran");
	cr_expect_str_eq(ev.error, "Framework has been removed");
	cr_expect_eq(px_scheduler_driver_join(driver), PX_DRIVER_ABORTED);
	/* Calls after an abort are refused. */
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t";
	cr_expect_eq(px_scheduler_driver_kill(driver, &tid), PX_DRIVER_ABORTED);
	/* The master was told to deactivate the framework. */
	Plexus__Internal__DeactivateFrameworkMessage *m = (void *)peer_wait(
	    ev.master, &plexus__internal__deactivate_framework_message__descriptor, 1, WAIT_MS,
	    NULL);
	cr_assert_not_null(m);
	cr_expect_str_eq(m->framework_id->value, "fw-1");
	protobuf_c_message_free_unpacked(&m->base, NULL);
	/* Stopping an aborted driver still unregisters, and says it was aborted (Mesos). */
	cr_expect_eq(px_scheduler_driver_stop(driver, false), PX_DRIVER_ABORTED);
	cr_expect_eq(px_scheduler_driver_status(driver), PX_DRIVER_STOPPED);
	ProtobufCMessage *u =
	    peer_wait(ev.master, &plexus__internal__unregister_framework_message__descriptor, 1,
	              WAIT_MS, NULL);
	cr_expect_not_null(u, "no UnregisterFrameworkMessage after stop");
	if (u != NULL)
		protobuf_c_message_free_unpacked(u, NULL);
}

static void *stopper(void *arg)
{
	px_scheduler_driver_stop(arg, false);
	return NULL;
}

Test(scheduler, stop_unregisters_and_wakes_join)
{
	start_registered(true);
	pthread_t t;
	pthread_create(&t, NULL, stopper, driver);
	cr_expect_eq(px_scheduler_driver_join(driver), PX_DRIVER_STOPPED);
	pthread_join(t, NULL);
	Plexus__Internal__UnregisterFrameworkMessage *m = (void *)peer_wait(
	    ev.master, &plexus__internal__unregister_framework_message__descriptor, 1, WAIT_MS,
	    NULL);
	cr_assert_not_null(m, "no UnregisterFrameworkMessage");
	cr_expect_str_eq(m->framework_id->value, "fw-1");
	protobuf_c_message_free_unpacked(&m->base, NULL);
	cr_expect_eq(px_scheduler_driver_stop(driver, false), PX_DRIVER_STOPPED);
}

Test(scheduler, stop_with_failover_keeps_framework)
{
	start_registered(true);
	cr_expect_eq(px_scheduler_driver_stop(driver, true), PX_DRIVER_STOPPED);
	cr_expect_eq(px_scheduler_driver_join(driver), PX_DRIVER_STOPPED);
	cr_expect_eq(
	    peer_count(ev.master, &plexus__internal__unregister_framework_message__descriptor), 0);
}
