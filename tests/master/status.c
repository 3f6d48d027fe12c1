/* Status updates (agent -> master -> framework) and acknowledgements (framework ->
 * master -> agent); kills; reconciliation; framework messages both ways. */
#include <string.h>

#include "harness.h"

static probe *agent, *sched;
static char *agent_id, *fw_id;

/* A running task "t1" (1 cpu) of the framework on the agent. */
static void setup(void)
{
	h_start(NULL);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:4;mem:1024");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw", 0, NULL);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *res = h_resources_json("cpus:1;mem:64");
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"operations\": [{\"type\": \"LAUNCH\", \"launch\": {\"task_infos\": [{\"name\": "
	    "\"t\", \"task_id\": {\"value\": \"t1\"}, \"agent_id\": {\"value\": \"%s\"}, "
	    "\"resources\": %s, \"executor\": {\"executor_id\": {\"value\": \"e1\"}, "
	    "\"command\": {\"value\": \"./exec\"}}}]}}]}",
	    fw_id, o->offers[0]->id->value, agent_id, res);
	free(res);
	pb_done(o);
	pb_done(probe_expect(agent, &plexus__internal__run_task_message__descriptor));
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

TestSuite(status, .init = setup, .fini = teardown, .timeout = 60);

/* uuid is base64 (16 bytes). */
static void agent_update(probe *from, const char *task, const char *state, const char *uuid)
{
	probe_send_json(
	    from, h_master(), &plexus__internal__status_update_message__descriptor,
	    "{\"update\": {\"framework_id\": {\"value\": \"%s\"}, \"agent_id\": {\"value\": "
	    "\"%s\"}, \"executor_id\": {\"value\": \"e1\"}, \"status\": {\"task_id\": "
	    "{\"value\": \"%s\"}, \"state\": \"%s\", \"source\": \"SOURCE_EXECUTOR\", "
	    "\"uuid\": \"%s\"}, \"uuid\": \"%s\", \"timestamp\": 1}, \"pid\": \"%s\"}",
	    fw_id, agent_id, task, state, uuid, uuid, actor_pid_str(probe_pid(from)));
}

static void ack(const char *task, const char *uuid)
{
	probe_send_json(
	    sched, h_master(), &plexus__internal__status_update_acknowledgement_message__descriptor,
	    "{\"agent_id\": {\"value\": \"%s\"}, \"framework_id\": {\"value\": \"%s\"}, "
	    "\"task_id\": {\"value\": \"%s\"}, \"uuid\": \"%s\"}",
	    agent_id, fw_id, task, uuid);
}

static const char *task_state(json_t *state, const char *list)
{
	json_t *fw = json_array_get(json_object_get(state, "frameworks"), 0);
	json_t *t = json_array_get(json_object_get(fw, list), 0);
	return t ? json_string_value(json_object_get(t, "state")) : NULL;
}

#define UUID1 "AAECAwQFBgcICQoLDA0ODw=="
#define UUID2 "EBESExQVFhcYGRobHB0eHw=="

Test(status, an_update_reaches_the_framework_and_its_ack_the_agent)
{
	agent_update(agent, "t1", "TASK_RUNNING", UUID1);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_RUNNING, -1);
	/* The framework learns whom the ack is for. */
	cr_assert_str_eq(u->pid, actor_pid_str(probe_pid(agent)));
	cr_assert_eq(u->update->uuid.len, 16);
	pb_done(u);
	json_t *state = h_get_json("/master/state");
	cr_assert_str_eq(task_state(state, "tasks"), "TASK_RUNNING");
	json_decref(state);

	ack("t1", UUID1);
	Plexus__Internal__StatusUpdateAcknowledgementMessage *a = probe_expect(
	    agent, &plexus__internal__status_update_acknowledgement_message__descriptor);
	cr_assert_str_eq(a->task_id->value, "t1");
	cr_assert_eq(a->uuid.len, 16);
	cr_assert_eq(a->uuid.data[15], 15);
	pb_done(a);
}

Test(status, a_terminal_update_acked_completes_the_task_and_frees_resources)
{
	agent_update(agent, "t1", "TASK_FINISHED", UUID2);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_FINISHED, -1));
	json_t *state = h_get_json("/master/state");
	/* Resources are free at once; the task stays until the ack. */
	json_t *fw = json_array_get(json_object_get(state, "frameworks"), 0);
	cr_assert_eq(
	    json_number_value(json_object_get(json_object_get(fw, "used_resources"), "cpus")), 0.0);
	cr_assert_str_eq(task_state(state, "tasks"), "TASK_FINISHED");
	json_decref(state);
	ack("t1", UUID2);
	pb_done(probe_expect(agent,
	                     &plexus__internal__status_update_acknowledgement_message__descriptor));
	state = h_get_json("/master/state");
	cr_assert_null(task_state(state, "tasks"));
	cr_assert_str_eq(task_state(state, "completed_tasks"), "TASK_FINISHED");
	json_decref(state);
}

Test(status, updates_from_a_stranger_are_dropped)
{
	probe *stranger = probe_spawn("slave(9)");
	agent_update(stranger, "t1", "TASK_FAILED", UUID1);
	cr_assert_not(probe_has(sched, &plexus__internal__status_update_message__descriptor));
	json_t *state = h_get_json("/master/state");
	cr_assert_str_eq(task_state(state, "tasks"), "TASK_STAGING");
	json_decref(state);
}

Test(status, kill_goes_to_the_agent_and_an_unknown_task_is_reconciled)
{
	probe_send_json(sched, h_master(), &plexus__internal__kill_task_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}, \"task_id\": {\"value\": \"t1\"}}",
	                fw_id);
	Plexus__Internal__KillTaskMessage *k =
	    probe_expect(agent, &plexus__internal__kill_task_message__descriptor);
	cr_assert_str_eq(k->task_id->value, "t1");
	pb_done(k);
	probe_send_json(
	    sched, h_master(), &plexus__internal__kill_task_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"task_id\": {\"value\": \"nope\"}}", fw_id);
	pb_done(h_expect_update(sched, "nope", PLEXUS__TASK_STATE__TASK_LOST,
	                        PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION));
	cr_assert_not(probe_has(agent, &plexus__internal__kill_task_message__descriptor));
}

Test(status, implicit_and_explicit_reconciliation)
{
	agent_update(agent, "t1", "TASK_RUNNING", UUID1);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_RUNNING, -1));
	probe_send_json(sched, h_master(), &plexus__internal__reconcile_tasks_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}}", fw_id);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_RUNNING,
	                    PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION);
	/* The master's own updates are not acknowledged: no pid to ack to. */
	cr_assert_str_eq(u->pid, "");
	pb_done(u);
	probe_send_json(
	    sched, h_master(), &plexus__internal__reconcile_tasks_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"statuses\": [{\"task_id\": "
	    "{\"value\": \"t1\"}, \"state\": \"TASK_STAGING\"}, {\"task_id\": {\"value\": "
	    "\"ghost\"}, \"state\": \"TASK_RUNNING\"}]}",
	    fw_id);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_RUNNING,
	                        PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION));
	pb_done(h_expect_update(sched, "ghost", PLEXUS__TASK_STATE__TASK_LOST,
	                        PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION));
}

Test(status, framework_messages_go_through_the_master_both_ways)
{
	probe_send_json(
	    sched, h_master(), &plexus__internal__framework_to_executor_message__descriptor,
	    "{\"agent_id\": {\"value\": \"%s\"}, \"framework_id\": {\"value\": \"%s\"}, "
	    "\"executor_id\": {\"value\": \"e1\"}, \"data\": \"aGVsbG8=\"}",
	    agent_id, fw_id);
	Plexus__Internal__FrameworkToExecutorMessage *f =
	    probe_expect(agent, &plexus__internal__framework_to_executor_message__descriptor);
	cr_assert_eq(f->data.len, 5);
	cr_assert_eq(memcmp(f->data.data, "hello", 5), 0);
	pb_done(f);
	probe_send_json(
	    agent, h_master(), &plexus__internal__executor_to_framework_message__descriptor,
	    "{\"agent_id\": {\"value\": \"%s\"}, \"framework_id\": {\"value\": \"%s\"}, "
	    "\"executor_id\": {\"value\": \"e1\"}, \"data\": \"d29ybGQ=\"}",
	    agent_id, fw_id);
	Plexus__Internal__ExecutorToFrameworkMessage *e =
	    probe_expect(sched, &plexus__internal__executor_to_framework_message__descriptor);
	cr_assert_eq(memcmp(e->data.data, "world", 5), 0);
	pb_done(e);
}

Test(status, the_agent_is_named_for_the_ack_when_the_update_or_ack_leaves_it_out)
{
	probe_send_json(
	    agent, h_master(), &plexus__internal__status_update_message__descriptor,
	    "{\"update\": {\"framework_id\": {\"value\": \"%s\"}, \"status\": {\"task_id\": "
	    "{\"value\": \"t1\"}, \"state\": \"TASK_RUNNING\"}, \"uuid\": \"" UUID1 "\"}}",
	    fw_id);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_RUNNING, -1);
	cr_assert_not_null(u->update->agent_id);
	cr_assert_str_eq(u->update->agent_id->value, agent_id);
	pb_done(u);
	probe_send_json(sched, h_master(),
	                &plexus__internal__status_update_acknowledgement_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}, \"task_id\": {\"value\": \"t1\"}, "
	                "\"uuid\": \"" UUID1 "\"}",
	                fw_id);
	pb_done(probe_expect(agent,
	                     &plexus__internal__status_update_acknowledgement_message__descriptor));
}
