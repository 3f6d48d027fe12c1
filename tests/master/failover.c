/* A disconnected framework keeps its tasks for its failover_timeout: a new scheduler
 * that re-registers with the framework id in time takes over; after it, the framework
 * is removed and its tasks killed. A restarted master takes back frameworks too. */
#include <string.h>

#include "harness.h"

static probe *agent, *sched;
static char *agent_id, *fw_id;

static void setup(void)
{
	h_start(NULL);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:2;mem:256");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw", 60, NULL);
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

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

TestSuite(failover, .init = setup, .fini = teardown, .timeout = 60);

static void reregister(probe *p, bool failover)
{
	probe_send_json(
	    p, h_master(), &plexus__internal__reregister_framework_message__descriptor,
	    "{\"framework\": {\"user\": \"tester\", \"name\": \"fw\", \"failover_timeout\": "
	    "60, \"id\": {\"value\": \"%s\"}}, \"failover\": %s}",
	    fw_id, failover ? "true" : "false");
}

static json_t *framework0(json_t *state, const char *list)
{
	return json_array_get(json_object_get(state, list), 0);
}

Test(failover, a_new_scheduler_within_the_timeout_takes_over)
{
	probe_kill(sched); /* the master sees `exited` */
	actor_clock_settle();
	json_t *state = h_get_json("/master/state");
	json_t *fw = framework0(state, "frameworks");
	cr_assert_not(json_is_true(json_object_get(fw, "connected")));
	cr_assert_not(json_is_true(json_object_get(fw, "active")));
	json_decref(state);

	h_advance(25000);
	probe *s2 = probe_spawn("scheduler-2");
	reregister(s2, true);
	/* A scheduler that failed over is a new instance: it hears "registered", as Mesos. */
	Plexus__Internal__FrameworkRegisteredMessage *r =
	    probe_expect(s2, &plexus__internal__framework_registered_message__descriptor);
	cr_assert_str_eq(r->framework_id->value, fw_id);
	pb_done(r);
	cr_assert_not(probe_has(s2, &plexus__internal__framework_reregistered_message__descriptor));
	/* Past the old deadline (and before the silent agent is lost): nothing is shut
	 * down. */
	h_advance(40000);
	cr_assert_not(probe_has(agent, &plexus__internal__shutdown_framework_message__descriptor));
	state = h_get_json("/master/state");
	fw = framework0(state, "frameworks");
	cr_assert(json_is_true(json_object_get(fw, "active")));
	cr_assert_str_eq(json_string_value(json_object_get(fw, "pid")),
	                 actor_pid_str(probe_pid(s2)));
	cr_assert_eq(json_array_size(json_object_get(fw, "tasks")), 1);
	json_decref(state);
	/* And the new scheduler gets offers again (the agent's free cpu). */
	pb_done(h_expect_offer(s2));
}

Test(failover, after_the_timeout_the_framework_is_removed)
{
	probe_kill(sched);
	h_advance(59000);
	cr_assert_not(probe_has(agent, &plexus__internal__shutdown_framework_message__descriptor));
	h_advance(2000);
	Plexus__Internal__ShutdownFrameworkMessage *sd =
	    probe_expect(agent, &plexus__internal__shutdown_framework_message__descriptor);
	cr_assert_str_eq(sd->framework_id->value, fw_id);
	pb_done(sd);
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(state, "frameworks")), 0);
	json_t *done = framework0(state, "completed_frameworks");
	json_t *t = json_array_get(json_object_get(done, "completed_tasks"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t, "state")), "TASK_KILLED");
	json_decref(state);
	/* Too late to come back. */
	probe *s2 = probe_spawn("scheduler-2");
	reregister(s2, true);
	pb_done(probe_expect(s2, &plexus__internal__framework_error_message__descriptor));
}

Test(failover, the_old_scheduler_is_told_when_a_new_one_takes_over)
{
	probe *s2 = probe_spawn("scheduler-2");
	reregister(s2, true);
	pb_done(probe_expect(s2, &plexus__internal__framework_registered_message__descriptor));
	Plexus__Internal__FrameworkErrorMessage *e =
	    probe_expect(sched, &plexus__internal__framework_error_message__descriptor);
	cr_assert_not_null(strstr(e->message, "failed over"));
	pb_done(e);
}

Test(failover, frameworks_and_agents_come_back_to_a_restarted_master)
{
	h_master_restart(NULL);
	/* The agent comes back with its task and framework; then the scheduler. */
	char *res = h_resources_json("cpus:2;mem:256");
	char *used = h_resources_json("cpus:1");
	probe_send_json(
	    agent, h_master(), &plexus__internal__reregister_agent_message__descriptor,
	    "{\"agent\": {\"hostname\": \"h1\", \"id\": {\"value\": \"%s\"}, \"resources\": "
	    "%s}, \"tasks\": [{\"name\": \"t\", \"task_id\": {\"value\": \"t1\"}, "
	    "\"framework_id\": {\"value\": \"%s\"}, \"agent_id\": {\"value\": \"%s\"}, "
	    "\"state\": \"TASK_RUNNING\", \"resources\": %s}], \"frameworks\": [{\"user\": "
	    "\"tester\", \"name\": \"fw\", \"id\": {\"value\": \"%s\"}}]}",
	    agent_id, res, fw_id, agent_id, used, fw_id);
	free(res);
	free(used);
	pb_done(probe_expect(agent, &plexus__internal__agent_reregistered_message__descriptor));
	reregister(sched, false);
	Plexus__Internal__FrameworkReregisteredMessage *r =
	    probe_expect(sched, &plexus__internal__framework_reregistered_message__descriptor);
	cr_assert_str_eq(r->framework_id->value, fw_id);
	pb_done(r);
	json_t *state = h_get_json("/master/state");
	json_t *fw = framework0(state, "frameworks");
	json_t *t = json_array_get(json_object_get(fw, "tasks"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t, "state")), "TASK_RUNNING");
	cr_assert_eq(
	    json_number_value(json_object_get(json_object_get(fw, "used_resources"), "cpus")), 1.0);
	json_decref(state);
	/* Only the free cpu is offered. */
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	double cpus = 0;
	for (size_t i = 0; i < o->offers[0]->n_resources; i++)
		if (strcmp(o->offers[0]->resources[i]->name, "cpus") == 0)
			cpus += o->offers[0]->resources[i]->scalar->value;
	cr_assert_eq(cpus, 1.0);
	pb_done(o);
}

Test(failover, an_agent_reporting_tasks_of_a_removed_framework_is_told_to_shut_it_down)
{
	probe_send_json(sched, h_master(),
	                &plexus__internal__unregister_framework_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}}", fw_id);
	pb_done(probe_expect(agent, &plexus__internal__shutdown_framework_message__descriptor));
	/* The agent missed it (say it restarted) and comes back with the task. */
	char *res = h_resources_json("cpus:2;mem:256");
	probe_send_json(agent, h_master(), &plexus__internal__reregister_agent_message__descriptor,
	                "{\"agent\": {\"hostname\": \"h1\", \"id\": {\"value\": \"%s\"}, "
	                "\"resources\": %s}, \"tasks\": [{\"name\": \"t\", \"task_id\": {\"value\": "
	                "\"t1\"}, \"framework_id\": {\"value\": \"%s\"}, \"agent_id\": {\"value\": "
	                "\"%s\"}, \"state\": \"TASK_RUNNING\"}]}",
	                agent_id, res, fw_id, agent_id);
	free(res);
	pb_done(probe_expect(agent, &plexus__internal__agent_reregistered_message__descriptor));
	Plexus__Internal__ShutdownFrameworkMessage *sd =
	        probe_expect(agent, &plexus__internal__shutdown_framework_message__descriptor);
	cr_assert_str_eq(sd->framework_id->value, fw_id);
	pb_done(sd);
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(state, "frameworks")), 0);
	json_decref(state);
}
