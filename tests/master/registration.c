/* Frameworks and agents register, re-register and unregister. */
#include <string.h>

#include "harness.h"

static void setup(void)
{
	h_start(NULL);
}

TestSuite(registration, .init = setup, .fini = h_stop, .timeout = 60);

Test(registration, framework_gets_an_id_and_the_master_info)
{
	probe *s = probe_spawn("scheduler-1");
	probe_send_json(s, h_master(), &plexus__internal__register_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"u\", \"name\": \"fw\"}}");
	Plexus__Internal__FrameworkRegisteredMessage *r =
	    probe_expect(s, &plexus__internal__framework_registered_message__descriptor);
	cr_assert_not_null(r->framework_id);
	cr_assert_gt(strlen(r->framework_id->value), 0);
	cr_assert_not_null(r->master_info);
	cr_assert_str_eq(r->master_info->pid, actor_pid_str(h_master()));
	cr_assert_eq(r->master_info->port, actor_runtime_http_port());
	/* The id starts with the master's id, as Mesos's do. */
	cr_assert_eq(
	    strncmp(r->framework_id->value, r->master_info->id, strlen(r->master_info->id)), 0);
	char *first = strdup(r->framework_id->value);
	pb_done(r);

	/* A retry from the same scheduler gets the same id, not a second framework. */
	probe_send_json(s, h_master(), &plexus__internal__register_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"u\", \"name\": \"fw\"}}");
	r = probe_expect(s, &plexus__internal__framework_registered_message__descriptor);
	cr_assert_str_eq(r->framework_id->value, first);
	pb_done(r);

	/* A second framework gets another id. */
	probe *s2 = probe_spawn("scheduler-2");
	char *id2 = h_register_framework(s2, "other", 0, NULL);
	cr_assert_str_neq(id2, first);
	free(id2);
	free(first);
}

Test(registration, invalid_framework_info_is_refused_with_a_reason)
{
	probe *s = probe_spawn("scheduler-1");
	probe_send_json(s, h_master(), &plexus__internal__register_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"\", \"name\": \"fw\"}}");
	Plexus__Internal__FrameworkErrorMessage *e =
	    probe_expect(s, &plexus__internal__framework_error_message__descriptor);
	cr_assert_not_null(strstr(e->message, "user"), "%s", e->message);
	pb_done(e);

	probe_send_json(s, h_master(), &plexus__internal__register_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"u\", \"name\": \"fw\", "
	                "\"failover_timeout\": -1}}");
	e = probe_expect(s, &plexus__internal__framework_error_message__descriptor);
	cr_assert_not_null(strstr(e->message, "failover_timeout"), "%s", e->message);
	pb_done(e);

	probe_send_json(s, h_master(), &plexus__internal__register_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"u\", \"name\": \"fw\", "
	                "\"roles\": [\"eng/../x\"]}}");
	e = probe_expect(s, &plexus__internal__framework_error_message__descriptor);
	cr_assert_not_null(strstr(e->message, "role"), "%s", e->message);
	pb_done(e);
	cr_assert_not(probe_has(s, &plexus__internal__framework_registered_message__descriptor));
}

Test(registration, agent_gets_an_id_and_the_ping_timeout)
{
	probe *a = probe_spawn("slave(1)");
	char *res = h_resources_json("cpus:4;mem:1024");
	probe_send_json(a, h_master(), &plexus__internal__register_agent_message__descriptor,
	                "{\"agent\": {\"hostname\": \"h1\", \"resources\": %s}}", res);
	free(res);
	Plexus__Internal__AgentRegisteredMessage *r =
	    probe_expect(a, &plexus__internal__agent_registered_message__descriptor);
	cr_assert_not_null(r->agent_id);
	cr_assert_not_null(strstr(r->agent_id->value, "-S"));
	cr_assert_not_null(r->ping_timeout);
	/* 15 s times 5 pings. */
	cr_assert_eq(r->ping_timeout->nanoseconds, 75LL * 1000 * 1000 * 1000);
	pb_done(r);
	/* The first health check follows at once. */
	pb_done(probe_expect(a, &plexus__internal__ping_agent_message__descriptor));
}

Test(registration, agent_with_bad_resources_is_refused)
{
	probe *a = probe_spawn("slave(1)");
	probe_send_json(a, h_master(), &plexus__internal__register_agent_message__descriptor,
	                "{\"agent\": {\"hostname\": \"h1\", \"resources\": [{\"name\": \"cpus\", "
	                "\"type\": \"SCALAR\", \"scalar\": {\"value\": -4}}]}}");
	Plexus__Internal__ShutdownMessage *sd =
	    probe_expect(a, &plexus__internal__shutdown_message__descriptor);
	cr_assert_not_null(sd->message);
	pb_done(sd);
	cr_assert_not(probe_has(a, &plexus__internal__agent_registered_message__descriptor));
}

Test(registration, agent_reregisters_under_its_id)
{
	probe *a = probe_spawn("slave(1)");
	char *id = h_register_agent(a, "h1", "cpus:2;mem:512");
	probe *a2 = probe_spawn("slave(2)"); /* the agent restarted with a new PID */
	char *res = h_resources_json("cpus:2;mem:512");
	probe_send_json(a2, h_master(), &plexus__internal__reregister_agent_message__descriptor,
	                "{\"agent\": {\"hostname\": \"h1\", \"id\": {\"value\": \"%s\"}, "
	                "\"resources\": %s}}",
	                id, res);
	free(res);
	Plexus__Internal__AgentReregisteredMessage *r =
	    probe_expect(a2, &plexus__internal__agent_reregistered_message__descriptor);
	cr_assert_str_eq(r->agent_id->value, id);
	pb_done(r);
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(state, "slaves")), 1);
	json_t *slave = json_array_get(json_object_get(state, "slaves"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(slave, "pid")),
	                 actor_pid_str(probe_pid(a2)));
	json_decref(state);
	free(id);
}

Test(registration, unregistering_framework_is_shut_down_on_agents)
{
	probe *a = probe_spawn("slave(1)");
	char *aid = h_register_agent(a, "h1", "cpus:2;mem:512");
	probe *s = probe_spawn("scheduler-1");
	char *fid = h_register_framework(s, "fw", 0, NULL);
	probe_send_json(s, h_master(), &plexus__internal__unregister_framework_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}}", fid);
	Plexus__Internal__ShutdownFrameworkMessage *sd =
	    probe_expect(a, &plexus__internal__shutdown_framework_message__descriptor);
	cr_assert_str_eq(sd->framework_id->value, fid);
	pb_done(sd);
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(state, "frameworks")), 0);
	cr_assert_eq(json_array_size(json_object_get(state, "completed_frameworks")), 1);
	json_decref(state);

	/* Re-registering a removed framework is an error, as in Mesos. */
	probe *s2 = probe_spawn("scheduler-2");
	probe_send_json(s2, h_master(), &plexus__internal__reregister_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"u\", \"name\": \"fw\", \"id\": {\"value\": "
	                "\"%s\"}}}",
	                fid);
	Plexus__Internal__FrameworkErrorMessage *e =
	    probe_expect(s2, &plexus__internal__framework_error_message__descriptor);
	cr_assert_not_null(strstr(e->message, "removed"), "%s", e->message);
	pb_done(e);
	free(aid);
	free(fid);
}

Test(registration, messages_from_a_stranger_are_ignored)
{
	probe *s = probe_spawn("scheduler-1");
	char *fid = h_register_framework(s, "fw", 0, NULL);
	probe *evil = probe_spawn("scheduler-evil");
	probe_send_json(evil, h_master(),
	                &plexus__internal__unregister_framework_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}}", fid);
	actor_clock_settle();
	json_t *state = h_get_json("/master/state");
	cr_assert_eq(json_array_size(json_object_get(state, "frameworks")), 1);
	json_decref(state);
	free(fid);
}
