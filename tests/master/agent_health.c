/* Agents are health-checked with pings; after --max-agent-ping-timeouts missed pongs
 * they are lost, their tasks become TASK_LOST (TASK_UNREACHABLE when the framework is
 * PARTITION_AWARE) and frameworks get LostAgentMessage. */
#include <string.h>

#include "harness.h"

static probe *agent, *sched;
static char *agent_id, *fw_id;

static void start(const char *capabilities)
{
	h_start(NULL); /* 15 s pings, 5 misses */
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:2;mem:256");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw", 0, capabilities);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *res = h_resources_json("cpus:1");
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"operations\": [{\"type\": \"LAUNCH\", \"launch\": {\"task_infos\": [{\"name\": "
	    "\"t\", \"task_id\": {\"value\": \"t1\"}, \"agent_id\": {\"value\": \"%s\"}, "
	    "\"resources\": %s, \"command\": {\"value\": \"sleep 1000\"}}]}}]}",
	    fw_id, o->offers[0]->id->value, agent_id, res);
	free(res);
	pb_done(o);
	pb_done(probe_expect(agent, &plexus__internal__run_task_message__descriptor));
}

static void setup(void)
{
	start(NULL);
}

static void setup_pa(void)
{
	start("[{\"type\": \"PARTITION_AWARE\"}]");
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

TestSuite(health, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(health_pa, .init = setup_pa, .fini = teardown, .timeout = 60);

static json_int_t unreachable_slaves(void)
{
	json_t *state = h_get_json("/master/state");
	json_int_t n = json_integer_value(json_object_get(state, "unreachable_slaves"));
	json_decref(state);
	return n;
}

Test(health, a_silent_agent_is_lost_after_five_missed_pings)
{
	h_advance(74000);
	cr_assert_not(probe_has(sched, &plexus__internal__lost_agent_message__descriptor));
	cr_assert_eq(unreachable_slaves(), 0);
	h_advance(2000);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_LOST,
	                    PLEXUS__TASK_STATUS__REASON__REASON_AGENT_REMOVED);
	cr_assert_eq(u->update->status->source, PLEXUS__TASK_STATUS__SOURCE__SOURCE_MASTER);
	pb_done(u);
	Plexus__Internal__LostAgentMessage *l =
	    probe_expect(sched, &plexus__internal__lost_agent_message__descriptor);
	cr_assert_str_eq(l->agent_id->value, agent_id);
	pb_done(l);
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(state, "slaves")), 0);
	cr_assert_eq(json_integer_value(json_object_get(state, "unreachable_slaves")), 1);
	json_decref(state);
}

Test(health, an_agent_that_answers_stays)
{
	for (int i = 0; i < 10; i++) {
		pb_done(probe_expect(agent, &plexus__internal__ping_agent_message__descriptor));
		probe_send_json(agent, h_master(),
		                &plexus__internal__pong_agent_message__descriptor, "{}");
		h_advance(15000);
	}
	cr_assert_not(probe_has(sched, &plexus__internal__lost_agent_message__descriptor));
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_integer_value(json_object_get(state, "activated_slaves")), 1);
	json_decref(state);
}

Test(health, a_disconnected_agent_is_inactive_until_the_pings_decide)
{
	probe_kill(agent);
	actor_clock_settle();
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_integer_value(json_object_get(state, "deactivated_slaves")), 1);
	json_decref(state);
	h_advance(76000);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_LOST,
	                        PLEXUS__TASK_STATUS__REASON__REASON_AGENT_REMOVED));
}

Test(health_pa, partition_aware_tasks_become_unreachable)
{
	h_advance(76000);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_UNREACHABLE,
	                        PLEXUS__TASK_STATUS__REASON__REASON_AGENT_REMOVED));
	pb_done(probe_expect(sched, &plexus__internal__lost_agent_message__descriptor));
	json_t *state = h_get_json("/master/state");
	json_t *fw = json_array_get(json_object_get(state, "frameworks"), 0);
	cr_assert_eq(json_array_size(json_object_get(fw, "unreachable_tasks")), 1);
	json_decref(state);
}
