/* Bad input from the network never crashes the master: every message it handles, sent
 * empty, half-filled or as garbage bytes, from a stranger or from a registered
 * framework or agent, is refused or ignored, and the master goes on serving. */
#include <string.h>

#include "harness.h"

static const ProtobufCMessageDescriptor *const handled[] = {
    &plexus__internal__register_framework_message__descriptor,
    &plexus__internal__reregister_framework_message__descriptor,
    &plexus__internal__unregister_framework_message__descriptor,
    &plexus__internal__deactivate_framework_message__descriptor,
    &plexus__internal__accept_offers_message__descriptor,
    &plexus__internal__decline_offers_message__descriptor,
    &plexus__internal__launch_tasks_message__descriptor,
    &plexus__internal__revive_offers_message__descriptor,
    &plexus__internal__suppress_offers_message__descriptor,
    &plexus__internal__kill_task_message__descriptor,
    &plexus__internal__reconcile_tasks_message__descriptor,
    &plexus__internal__framework_to_executor_message__descriptor,
    &plexus__internal__executor_to_framework_message__descriptor,
    &plexus__internal__exited_executor_message__descriptor,
    &plexus__internal__status_update_message__descriptor,
    &plexus__internal__status_update_acknowledgement_message__descriptor,
    &plexus__internal__register_agent_message__descriptor,
    &plexus__internal__reregister_agent_message__descriptor,
    &plexus__internal__unregister_agent_message__descriptor,
    &plexus__internal__pong_agent_message__descriptor,
};
#define N_HANDLED (sizeof(handled) / sizeof(handled[0]))

static probe *agent, *sched;
static char *agent_id, *fw_id, *offer_id;

static void setup(void)
{
	h_start(NULL);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:2;mem:256");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw", 0, NULL);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	offer_id = strdup(o->offers[0]->id->value);
	pb_done(o);
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
	free(offer_id);
}

TestSuite(robustness, .init = setup, .fini = teardown, .timeout = 60);

static void still_serving(void)
{
	json_t *s = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(s, "slaves")), 1);
	json_decref(s);
}

Test(robustness, empty_messages_from_everyone)
{
	probe *stranger = probe_spawn("stranger");
	probe *senders[] = {stranger, sched, agent};

	for (size_t s = 0; s < 3; s++)
		for (size_t i = 0; i < N_HANDLED; i++)
			if (handled[i] != &plexus__internal__unregister_agent_message__descriptor &&
			    handled[i] !=
			        &plexus__internal__unregister_framework_message__descriptor)
				probe_send_json(senders[s], h_master(), handled[i], "{}");
	actor_clock_settle();
	still_serving();
}

Test(robustness, garbage_bytes_under_every_name)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x80, 0x01, 0x00};
	probe *stranger = probe_spawn("stranger");

	/* Sent raw from outside any actor and from inside the probes alike. */
	for (size_t i = 0; i < N_HANDLED; i++)
		actor_send(NULL, h_master(), handled[i]->name, junk, sizeof(junk));
	actor_send(NULL, h_master(), "no.such.Message", junk, sizeof(junk));
	(void)stranger;
	actor_clock_settle();
	still_serving();
}

Test(robustness, half_filled_messages_from_the_framework_and_agent)
{
	char fid[256];
	snprintf(fid, sizeof(fid), "{\"value\": \"%s\"}", fw_id);

	probe_send_json(sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	                "{\"framework_id\": %s, \"operations\": [{\"type\": \"LAUNCH\"}, "
	                "{\"type\": \"RESERVE\"}, {}]}",
	                fid);
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": %s, \"offer_ids\": [{\"value\": \"x\"}], \"operations\": "
	    "[{\"type\": \"LAUNCH_GROUP\"}, {\"type\": \"LAUNCH\", \"launch\": {}}]}",
	    fid);
	probe_send_json(sched, h_master(), &plexus__internal__kill_task_message__descriptor,
	                "{\"framework_id\": %s}", fid);
	probe_send_json(sched, h_master(),
	                &plexus__internal__status_update_acknowledgement_message__descriptor,
	                "{\"framework_id\": %s, \"agent_id\": {\"value\": \"%s\"}}", fid, agent_id);
	probe_send_json(sched, h_master(), &plexus__internal__reconcile_tasks_message__descriptor,
	                "{\"framework_id\": %s, \"statuses\": [{\"task_id\": {\"value\": \"\"}, "
	                "\"state\": \"TASK_RUNNING\", \"agent_id\": {\"value\": \"nope\"}}]}",
	                fid);
	probe_send_json(agent, h_master(), &plexus__internal__status_update_message__descriptor,
	                "{\"update\": {\"framework_id\": %s}}", fid);
	probe_send_json(agent, h_master(), &plexus__internal__status_update_message__descriptor,
	                "{\"update\": {\"framework_id\": {\"value\": \"other\"}, \"status\": "
	                "{\"task_id\": {\"value\": \"t\"}, \"state\": \"TASK_RUNNING\"}}}");
	probe_send_json(
	    agent, h_master(), &plexus__internal__reregister_agent_message__descriptor,
	    "{\"agent\": {\"hostname\": \"h1\", \"id\": {\"value\": \"%s\"}}, \"tasks\": "
	    "[{\"name\": \"t\", \"task_id\": {\"value\": \"t9\"}, \"framework_id\": "
	    "{\"value\": \"ghost\"}, \"agent_id\": {\"value\": \"%s\"}, \"state\": "
	    "\"TASK_RUNNING\"}], \"frameworks\": [{\"user\": \"u\", \"name\": \"n\"}]}",
	    agent_id, agent_id);
	probe_send_json(agent, h_master(),
	                &plexus__internal__executor_to_framework_message__descriptor,
	                "{\"framework_id\": %s}", fid);
	actor_clock_settle();
	still_serving();
	/* The framework still works: its offer comes back after a decline. */
	probe_clear(sched);
	probe_send_json(sched, h_master(), &plexus__internal__decline_offers_message__descriptor,
	                "{\"framework_id\": %s, \"offer_ids\": [{\"value\": \"%s\"}], "
	                "\"filters\": {\"refuse_seconds\": 0}}",
	                fid, offer_id);
	h_advance(1000);
	cr_assert(probe_has(sched, &plexus__internal__resource_offers_message__descriptor));
}
