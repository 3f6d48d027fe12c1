/* The executor driver against a real actor that plays the agent, in one process (the
 * environment the agent would set is set by the test): registration, tasks, status
 * updates (filled by the driver, kept until acknowledged), framework messages, kill,
 * shutdown, the agent's loss with recovery and with the recovery timeout. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plexus/executor.h"
#include "peer.h"
#include "proto/internal.pb-c.h"

#define WAIT_MS 10000

static struct {
	struct counter registered, reregistered, disconnected, launched, killed, messages,
	    shutdowns, errors;
	char executor_name[64];
	char task[64];
	char killed_task[64];
	char message[64];
	bool update_on_launch;
} ev;

static px_executor_driver *driver;
static peer *agent;

static void on_registered(px_executor_driver *d, const Plexus__ExecutorInfo *e,
                          const Plexus__FrameworkInfo *f, const Plexus__AgentInfo *a, void *arg)
{
	snprintf(ev.executor_name, sizeof(ev.executor_name), "%s", e && e->name ? e->name : "");
	counter_add(&ev.registered, 1);
}

static void on_reregistered(px_executor_driver *d, const Plexus__AgentInfo *a, void *arg)
{
	counter_add(&ev.reregistered, 1);
}

static void on_disconnected(px_executor_driver *d, void *arg)
{
	counter_add(&ev.disconnected, 1);
}

static void on_launch(px_executor_driver *d, const Plexus__TaskInfo *t, void *arg)
{
	snprintf(ev.task, sizeof(ev.task), "%s", t->task_id->value);
	if (ev.update_on_launch) {
		Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
		st.task_id = t->task_id;
		st.state = PLEXUS__TASK_STATE__TASK_RUNNING;
		st.message = "started";
		cr_expect_eq(px_executor_driver_send_status_update(d, &st), PX_DRIVER_RUNNING);
	}
	counter_add(&ev.launched, 1);
}

static void on_kill(px_executor_driver *d, const Plexus__TaskID *t, void *arg)
{
	snprintf(ev.killed_task, sizeof(ev.killed_task), "%s", t->value);
	counter_add(&ev.killed, 1);
}

static void on_message(px_executor_driver *d, const uint8_t *data, size_t len, void *arg)
{
	snprintf(ev.message, sizeof(ev.message), "%.*s", (int)len, (const char *)data);
	counter_add(&ev.messages, 1);
}

static void on_shutdown(px_executor_driver *d, void *arg)
{
	counter_add(&ev.shutdowns, 1);
}

static void on_error(px_executor_driver *d, const char *message, void *arg)
{
	counter_add(&ev.errors, 1);
}

static const px_executor_callbacks callbacks = {
    .registered = on_registered,
    .reregistered = on_reregistered,
    .disconnected = on_disconnected,
    .launch_task = on_launch,
    .kill_task = on_kill,
    .framework_message = on_message,
    .shutdown = on_shutdown,
    .error = on_error,
};

static void setup(void)
{
	memset(&ev, 0, sizeof(ev));
	test_runtime_start(false);
	unsetenv("PLEXUS_CHECKPOINT");
	unsetenv("PLEXUS_RECOVERY_TIMEOUT");
	unsetenv("PLEXUS_EXECUTOR_SHUTDOWN_GRACE_PERIOD");
	unsetenv("PLEXUS_AGENT_ID");
}

static void teardown(void)
{
	px_executor_driver_free(driver);
	driver = NULL;
	peer_free(agent);
	agent = NULL;
	test_runtime_stop();
}

TestSuite(executor, .init = setup, .fini = teardown, .timeout = 60);

static void set_env(const char *agent_pid)
{
	setenv("PLEXUS_AGENT_PID", agent_pid, 1);
	setenv("PLEXUS_FRAMEWORK_ID", "fw-1", 1);
	setenv("PLEXUS_EXECUTOR_ID", "exec-1", 1);
	setenv("PLEXUS_DIRECTORY", "/tmp/sandbox", 1);
}

/* Starts the driver against a fresh agent and completes the registration. Returns the
 * driver's PID. */
static actor_pid start_registered(void)
{
	agent = peer_spawn("slave(1)");
	set_env(peer_pid_text(agent));
	char err[256] = "";
	driver = px_executor_driver_alloc(&callbacks, NULL, err, sizeof(err));
	cr_assert_not_null(driver, "alloc: %s", err);
	cr_assert_eq(px_executor_driver_start(driver), PX_DRIVER_RUNNING);

	actor_pid from;
	Plexus__Internal__RegisterExecutorMessage *r = (void *)peer_wait(
	    agent, &plexus__internal__register_executor_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(r, "no RegisterExecutorMessage");
	cr_expect_str_eq(r->framework_id->value, "fw-1");
	cr_expect_str_eq(r->executor_id->value, "exec-1");
	cr_expect_eq(strncmp(from.id, "executor", 8), 0, "driver id %s", from.id);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	eid.value = "exec-1";
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	Plexus__ExecutorInfo ei = PLEXUS__EXECUTOR_INFO__INIT;
	ei.executor_id = &eid;
	ei.command = &cmd;
	ei.name = "my executor";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-7";
	Plexus__AgentInfo ai = PLEXUS__AGENT_INFO__INIT;
	ai.hostname = "host-1";
	ai.id = &aid;
	Plexus__Internal__ExecutorRegisteredMessage ok =
	    PLEXUS__INTERNAL__EXECUTOR_REGISTERED_MESSAGE__INIT;
	ok.executor_info = &ei;
	ok.agent_id = &aid;
	ok.agent_info = &ai;
	peer_send(agent, from, &ok.base);
	cr_assert(counter_wait(&ev.registered, 1, WAIT_MS), "registered never ran");
	cr_expect_str_eq(ev.executor_name, "my executor");
	return from;
}

static void run_task(actor_pid to, const char *task_id)
{
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = (char *)task_id;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-7";
	Plexus__TaskInfo task = PLEXUS__TASK_INFO__INIT;
	task.name = "task";
	task.task_id = &tid;
	task.agent_id = &aid;
	Plexus__Internal__RunTaskMessage m = PLEXUS__INTERNAL__RUN_TASK_MESSAGE__INIT;
	m.task = &task;
	peer_send(agent, to, &m.base);
}

Test(executor, missing_environment_is_an_error)
{
	unsetenv("PLEXUS_AGENT_PID");
	char err[256] = "";
	cr_expect_null(px_executor_driver_alloc(&callbacks, NULL, err, sizeof(err)));
	cr_expect(strstr(err, "PLEXUS_AGENT_PID") != NULL, "err: %s", err);
	setenv("PLEXUS_AGENT_PID", "not a pid", 1);
	cr_expect_null(px_executor_driver_alloc(&callbacks, NULL, err, sizeof(err)));
	cr_expect(strstr(err, "PLEXUS_AGENT_PID") != NULL, "err: %s", err);
	set_env("slave(1)@127.0.0.1:5051");
	unsetenv("PLEXUS_EXECUTOR_ID");
	cr_expect_null(px_executor_driver_alloc(&callbacks, NULL, err, sizeof(err)));
	cr_expect(strstr(err, "PLEXUS_EXECUTOR_ID") != NULL, "err: %s", err);
	set_env("slave(1)@127.0.0.1:5051");
	setenv("PLEXUS_RECOVERY_TIMEOUT", "soon", 1);
	cr_expect_null(px_executor_driver_alloc(&callbacks, NULL, err, sizeof(err)));
	cr_expect(strstr(err, "PLEXUS_RECOVERY_TIMEOUT") != NULL, "err: %s", err);
}

Test(executor, registers_launches_and_sends_filled_status_updates)
{
	actor_pid d = start_registered();
	ev.update_on_launch = true;
	run_task(d, "t-1");
	cr_assert(counter_wait(&ev.launched, 1, WAIT_MS), "launch_task never ran");
	cr_expect_str_eq(ev.task, "t-1");

	actor_pid from;
	Plexus__Internal__StatusUpdateMessage *m = (void *)peer_wait(
	    agent, &plexus__internal__status_update_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(m, "no StatusUpdateMessage reached the agent");
	Plexus__Internal__StatusUpdate *u = m->update;
	cr_assert_not_null(u);
	cr_expect_str_eq(u->framework_id->value, "fw-1");
	cr_expect_str_eq(u->executor_id->value, "exec-1");
	cr_assert_not_null(u->agent_id);
	cr_expect_str_eq(u->agent_id->value, "agent-7");
	cr_expect_eq(u->uuid.len, 16);
	cr_expect(u->has_timestamp && u->timestamp > 1e9, "timestamp %f", u->timestamp);
	cr_expect_str_eq(u->status->task_id->value, "t-1");
	cr_expect_eq(u->status->state, PLEXUS__TASK_STATE__TASK_RUNNING);
	cr_expect_eq(u->status->source, PLEXUS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR);
	cr_expect_str_eq(u->status->executor_id->value, "exec-1");
	cr_expect_str_eq(u->status->message, "started");
	cr_assert_eq(u->status->uuid.len, 16);
	cr_expect_arr_eq(u->status->uuid.data, u->uuid.data, 16);
	char dpid[ACTOR_PID_TEXT_MAX];
	actor_pid_format(d, dpid, sizeof(dpid));
	cr_expect_str_eq(m->pid, dpid, "the update names the executor to acknowledge");
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

Test(executor, kill_message_and_framework_data)
{
	actor_pid d = start_registered();
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-4";
	Plexus__Internal__KillTaskMessage k = PLEXUS__INTERNAL__KILL_TASK_MESSAGE__INIT;
	k.task_id = &tid;
	peer_send(agent, d, &k.base);
	Plexus__Internal__FrameworkToExecutorMessage fm =
	    PLEXUS__INTERNAL__FRAMEWORK_TO_EXECUTOR_MESSAGE__INIT;
	fm.has_data = true;
	fm.data.data = (uint8_t *)"hello";
	fm.data.len = 5;
	peer_send(agent, d, &fm.base);
	cr_assert(counter_wait(&ev.killed, 1, WAIT_MS));
	cr_expect_str_eq(ev.killed_task, "t-4");
	cr_assert(counter_wait(&ev.messages, 1, WAIT_MS));
	cr_expect_str_eq(ev.message, "hello");

	cr_assert_eq(px_executor_driver_send_message(driver, (const uint8_t *)"back", 4),
	             PX_DRIVER_RUNNING);
	Plexus__Internal__ExecutorToFrameworkMessage *m = (void *)peer_wait(
	    agent, &plexus__internal__executor_to_framework_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(m);
	cr_expect_str_eq(m->framework_id->value, "fw-1");
	cr_expect_str_eq(m->executor_id->value, "exec-1");
	cr_expect_str_eq(m->agent_id->value, "agent-7");
	cr_assert_eq(m->data.len, 4);
	cr_expect_eq(memcmp(m->data.data, "back", 4), 0);
	protobuf_c_message_free_unpacked(&m->base, NULL);
}

Test(executor, staging_update_is_refused)
{
	start_registered();
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-1";
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.state = PLEXUS__TASK_STATE__TASK_STAGING;
	cr_assert_eq(px_executor_driver_send_status_update(driver, &st), PX_DRIVER_RUNNING);
	cr_assert(counter_wait(&ev.errors, 1, WAIT_MS), "error never ran");
	cr_expect_eq(px_executor_driver_join(driver), PX_DRIVER_ABORTED);
	cr_expect_eq(peer_count(agent, &plexus__internal__status_update_message__descriptor), 0);
}

Test(executor, shutdown_from_agent_then_stop)
{
	actor_pid d = start_registered();
	Plexus__Internal__ShutdownExecutorMessage s =
	    PLEXUS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
	peer_send(agent, d, &s.base);
	cr_assert(counter_wait(&ev.shutdowns, 1, WAIT_MS), "shutdown never ran");
	cr_expect_eq(px_executor_driver_stop(driver), PX_DRIVER_STOPPED);
	cr_expect_eq(px_executor_driver_join(driver), PX_DRIVER_STOPPED);
}

Test(executor, agent_recovers_and_gets_unacknowledged_updates)
{
	actor_clock_pause();
	setenv("PLEXUS_RECOVERY_TIMEOUT", "10secs", 1);
	actor_pid d = start_registered();
	run_task(d, "t-1");
	cr_assert(counter_wait(&ev.launched, 1, WAIT_MS));
	/* Two updates; the agent acknowledges the first only. */
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "t-1";
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.state = PLEXUS__TASK_STATE__TASK_RUNNING;
	cr_assert_eq(px_executor_driver_send_status_update(driver, &st), PX_DRIVER_RUNNING);
	st.state = PLEXUS__TASK_STATE__TASK_FINISHED;
	cr_assert_eq(px_executor_driver_send_status_update(driver, &st), PX_DRIVER_RUNNING);
	Plexus__Internal__StatusUpdateMessage *first = (void *)peer_wait(
	    agent, &plexus__internal__status_update_message__descriptor, 1, WAIT_MS, NULL);
	Plexus__Internal__StatusUpdateMessage *second = (void *)peer_wait(
	    agent, &plexus__internal__status_update_message__descriptor, 2, WAIT_MS, NULL);
	cr_assert_not_null(first);
	cr_assert_not_null(second);
	Plexus__Internal__StatusUpdateAcknowledgementMessage ack =
	    PLEXUS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT_MESSAGE__INIT;
	ack.task_id = &tid;
	ack.has_uuid = true;
	ack.uuid = first->update->uuid;
	peer_send(agent, d, &ack.base);

	/* The agent goes away after the acknowledgement is delivered (same mailbox order:
	 * a message from the agent after the ack proves it was handled). */
	Plexus__Internal__FrameworkToExecutorMessage fm =
	    PLEXUS__INTERNAL__FRAMEWORK_TO_EXECUTOR_MESSAGE__INIT;
	peer_send(agent, d, &fm.base);
	cr_assert(counter_wait(&ev.messages, 1, WAIT_MS));
	peer_kill(agent);
	cr_assert(counter_wait(&ev.disconnected, 1, WAIT_MS), "disconnected never ran");
	cr_expect_eq(counter_get(&ev.shutdowns), 0);

	/* It comes back (within the recovery timeout) and asks the executor to reconnect. */
	actor_clock_advance(5000);
	peer *back = peer_spawn("slave(1)");
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-7";
	Plexus__Internal__ReconnectExecutorMessage rc =
	    PLEXUS__INTERNAL__RECONNECT_EXECUTOR_MESSAGE__INIT;
	rc.agent_id = &aid;
	peer_send(back, d, &rc.base);
	Plexus__Internal__ReregisterExecutorMessage *rr = (void *)peer_wait(
	    back, &plexus__internal__reregister_executor_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(rr, "no ReregisterExecutorMessage");
	cr_expect_str_eq(rr->executor_id->value, "exec-1");
	cr_expect_str_eq(rr->framework_id->value, "fw-1");
	cr_assert_eq(rr->n_updates, 1, "only the unacknowledged update is resent");
	cr_expect_eq(rr->updates[0]->status->state, PLEXUS__TASK_STATE__TASK_FINISHED);
	cr_expect_arr_eq(rr->updates[0]->uuid.data, second->update->uuid.data, 16);
	cr_expect_eq(rr->n_tasks, 0, "the acknowledged task is the agent's now");
	protobuf_c_message_free_unpacked(&rr->base, NULL);
	protobuf_c_message_free_unpacked(&first->base, NULL);
	protobuf_c_message_free_unpacked(&second->base, NULL);

	Plexus__Internal__ExecutorReregisteredMessage ok =
	    PLEXUS__INTERNAL__EXECUTOR_REREGISTERED_MESSAGE__INIT;
	ok.agent_id = &aid;
	peer_send(back, d, &ok.base);
	cr_assert(counter_wait(&ev.reregistered, 1, WAIT_MS), "reregistered never ran");

	/* Past the old recovery deadline nothing happens: the agent is back. */
	actor_clock_advance(20000);
	actor_clock_settle();
	cr_expect_eq(counter_get(&ev.shutdowns), 0);
	cr_expect_eq(px_executor_driver_status(driver), PX_DRIVER_RUNNING);
	peer_free(agent);
	agent = back;
}

Test(executor, agent_not_back_within_recovery_timeout_shuts_down)
{
	actor_clock_pause();
	setenv("PLEXUS_RECOVERY_TIMEOUT", "10secs", 1);
	setenv("PLEXUS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "3secs", 1);
	start_registered();
	peer_kill(agent);
	cr_assert(counter_wait(&ev.disconnected, 1, WAIT_MS));
	actor_clock_settle();
	actor_clock_advance(9000);
	actor_clock_settle();
	cr_expect_eq(counter_get(&ev.shutdowns), 0, "shut down before the recovery timeout");
	actor_clock_advance(1000);
	cr_assert(counter_wait(&ev.shutdowns, 1, WAIT_MS), "shutdown never ran");
	cr_expect_eq(px_executor_driver_status(driver), PX_DRIVER_RUNNING);
	/* The executor does not stop: the grace period ends the driver. */
	actor_clock_settle();
	actor_clock_advance(3000);
	cr_expect_eq(px_executor_driver_join(driver), PX_DRIVER_ABORTED);
}

Test(executor, without_checkpointing_agent_exit_shuts_down_at_once)
{
	setenv("PLEXUS_CHECKPOINT", "0", 1);
	start_registered();
	peer_kill(agent);
	cr_assert(counter_wait(&ev.shutdowns, 1, WAIT_MS), "shutdown never ran");
	cr_expect_eq(counter_get(&ev.disconnected), 0);
}

Test(executor, messages_from_a_stranger_are_ignored)
{
	actor_pid d = start_registered();
	peer *stranger = peer_spawn("slave(9)");
	Plexus__Internal__ShutdownExecutorMessage s =
	    PLEXUS__INTERNAL__SHUTDOWN_EXECUTOR_MESSAGE__INIT;
	peer_send_sync(stranger, d, &s.base);
	/* Garbage under a real name, then a real task from the agent: handled after both. */
	cr_assert_eq(actor_send(NULL, d, "plexus.internal.RunTaskMessage", "\x0a\xff", 2), 0);
	run_task(d, "t-1");
	cr_assert(counter_wait(&ev.launched, 1, WAIT_MS));
	cr_expect_eq(counter_get(&ev.shutdowns), 0);
	peer_free(stranger);
}
