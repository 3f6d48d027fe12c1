/* Accepting offers: valid launches reach the agent; invalid ones are refused with
 * TASK_ERROR / TASK_LOST / TASK_DROPPED and a Mesos reason, harming nothing else. */
#include <string.h>

#include "common/resources.h"
#include "harness.h"

static probe *agent, *sched;
static char *agent_id, *fw_id;

static void start(const char *capabilities)
{
	h_start(NULL);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:4;mem:1024");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw", 0, capabilities);
}

static void setup(void)
{
	start(NULL);
}

static void setup_pa(void)
{
	start("[{\"type\": \"PARTITION_AWARE\"}]");
}

/* A framework of role "web", which may reserve for its role. */
static void setup_web(void)
{
	h_start(NULL);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:4;mem:1024");
	sched = probe_spawn("scheduler-1");
	probe_send_json(
	    sched, h_master(), &plexus__internal__register_framework_message__descriptor,
	    "{\"framework\": {\"user\": \"u\", \"name\": \"web\", \"roles\": [\"web\"], "
	    "\"capabilities\": [{\"type\": \"MULTI_ROLE\"}]}}");
	Plexus__Internal__FrameworkRegisteredMessage *r =
	    probe_expect(sched, &plexus__internal__framework_registered_message__descriptor);
	fw_id = strdup(r->framework_id->value);
	pb_done(r);
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

TestSuite(launch, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(launch_pa, .init = setup_pa, .fini = teardown, .timeout = 60);
TestSuite(launch_web, .init = setup_web, .fini = teardown, .timeout = 60);

/* A TaskInfo as JSON text (free()). */
static char *task(const char *id, const char *on_agent, const char *resources)
{
	char *res = h_resources_json(resources), *out = NULL;

	cr_assert_gt(asprintf(&out,
	                      "{\"name\": \"t-%s\", \"task_id\": {\"value\": \"%s\"}, "
	                      "\"agent_id\": {\"value\": \"%s\"}, \"resources\": %s, "
	                      "\"command\": {\"value\": \"sleep 100\"}}",
	                      id, id, on_agent, res),
	             0);
	free(res);
	return out;
}

static char *take_offer(void)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *id = strdup(o->offers[0]->id->value);
	pb_done(o);
	return id;
}

/* Accepts the offers (a JSON array of OfferIDs) with one LAUNCH of tasks (JSON array). */
static void accept(const char *offer_ids, const char *tasks)
{
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": %s, "
	    "\"operations\": [{\"type\": \"LAUNCH\", \"launch\": {\"task_infos\": %s}}]}",
	    fw_id, offer_ids, tasks);
}

static void accept_one(const char *offer, const char *tasks)
{
	char ids[256];

	snprintf(ids, sizeof(ids), "[{\"value\": \"%s\"}]", offer);
	accept(ids, tasks);
}

static void expect_run(const char *task_id)
{
	Plexus__Internal__RunTaskMessage *run =
	    probe_expect(agent, &plexus__internal__run_task_message__descriptor);
	cr_assert_str_eq(run->task->task_id->value, task_id);
	cr_assert_str_eq(run->framework_id->value, fw_id);
	cr_assert_str_eq(run->framework_pid, actor_pid_str(probe_pid(sched)));
	cr_assert_not_null(run->framework);
	pb_done(run);
}

Test(launch, a_valid_task_reaches_the_agent)
{
	char *oid = take_offer();
	char *t = task("t1", agent_id, "cpus:1;mem:128");
	char tasks[2048];
	snprintf(tasks, sizeof(tasks), "[%s]", t);
	accept_one(oid, tasks);
	expect_run("t1");
	json_t *state = h_get_json("/master/state");
	json_t *fw = json_array_get(json_object_get(state, "frameworks"), 0);
	json_t *t0 = json_array_get(json_object_get(fw, "tasks"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(t0, "state")), "TASK_STAGING");
	cr_assert_eq(
	    json_number_value(json_object_get(json_object_get(fw, "used_resources"), "cpus")), 1.0);
	json_decref(state);
	/* The rest (3 cpus) is declined for the default 5 s, then offered again. */
	h_advance(6000);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	px_resources *rs = NULL;
	cr_assert_eq(
	    px_resources_from_pb(o->offers[0]->resources, o->offers[0]->n_resources, &rs, NULL, 0),
	    PX_OK);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 3000);
	px_resources_free(rs);
	pb_done(o);
	free(t);
	free(oid);
}

Test(launch, too_many_resources_is_task_error_and_the_rest_still_launches)
{
	char *oid = take_offer();
	char *big = task("big", agent_id, "cpus:8;mem:128");
	char *ok = task("ok", agent_id, "cpus:1;mem:128");
	char tasks[4096];
	snprintf(tasks, sizeof(tasks), "[%s, %s]", big, ok);
	accept_one(oid, tasks);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "big", PLEXUS__TASK_STATE__TASK_ERROR,
	                    PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID);
	cr_assert_not_null(strstr(u->update->status->message, "more resources"), "%s",
	                   u->update->status->message);
	cr_assert_eq(u->update->status->source, PLEXUS__TASK_STATUS__SOURCE__SOURCE_MASTER);
	pb_done(u);
	expect_run("ok");
	cr_assert_not(probe_has(agent, &plexus__internal__run_task_message__descriptor));
	free(big);
	free(ok);
	free(oid);
}

Test(launch, duplicate_task_ids_are_refused)
{
	char *oid = take_offer();
	char *a = task("dup", agent_id, "cpus:1;mem:64");
	char tasks[4096];
	snprintf(tasks, sizeof(tasks), "[%s, %s]", a, a);
	accept_one(oid, tasks);
	expect_run("dup");
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "dup", PLEXUS__TASK_STATE__TASK_ERROR,
	                    PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID);
	cr_assert_not_null(strstr(u->update->status->message, "duplicate"));
	pb_done(u);
	free(oid);

	/* Against a task that already runs, too. */
	h_advance(6000);
	oid = take_offer();
	snprintf(tasks, sizeof(tasks), "[%s]", a);
	accept_one(oid, tasks);
	pb_done(h_expect_update(sched, "dup", PLEXUS__TASK_STATE__TASK_ERROR,
	                        PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID));
	cr_assert_not(probe_has(agent, &plexus__internal__run_task_message__descriptor));
	free(a);
	free(oid);
}

Test(launch, an_unknown_offer_is_task_lost_with_invalid_offers)
{
	char *oid = take_offer();
	char *t = task("t1", agent_id, "cpus:1;mem:64");
	char tasks[2048];
	snprintf(tasks, sizeof(tasks), "[%s]", t);
	accept_one("no-such-offer", tasks);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_LOST,
	                    PLEXUS__TASK_STATUS__REASON__REASON_INVALID_OFFERS);
	cr_assert_not_null(strstr(u->update->status->message, "no-such-offer"));
	pb_done(u);
	cr_assert_not(probe_has(agent, &plexus__internal__run_task_message__descriptor));
	/* The real offer is untouched and still usable. */
	accept_one(oid, tasks);
	expect_run("t1");
	free(t);
	free(oid);
}

Test(launch, one_offer_twice_is_invalid)
{
	char *oid = take_offer();
	char *t = task("t1", agent_id, "cpus:1;mem:64");
	char tasks[2048], ids[512];
	snprintf(tasks, sizeof(tasks), "[%s]", t);
	snprintf(ids, sizeof(ids), "[{\"value\": \"%s\"}, {\"value\": \"%s\"}]", oid, oid);
	accept(ids, tasks);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_LOST,
	                    PLEXUS__TASK_STATUS__REASON__REASON_INVALID_OFFERS);
	cr_assert_not_null(strstr(u->update->status->message, "Duplicate"));
	pb_done(u);
	cr_assert_not(probe_has(agent, &plexus__internal__run_task_message__descriptor));
	free(t);
	free(oid);
}

Test(launch, a_task_without_command_or_executor_is_invalid)
{
	char *oid = take_offer();
	char *res = h_resources_json("cpus:1");
	char tasks[2048];
	snprintf(tasks, sizeof(tasks),
	         "[{\"name\": \"n\", \"task_id\": {\"value\": \"bare\"}, \"agent_id\": "
	         "{\"value\": \"%s\"}, \"resources\": %s}]",
	         agent_id, res);
	accept_one(oid, tasks);
	Plexus__Internal__StatusUpdateMessage *u =
	    h_expect_update(sched, "bare", PLEXUS__TASK_STATE__TASK_ERROR,
	                    PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID);
	cr_assert_not_null(strstr(u->update->status->message, "CommandInfo or ExecutorInfo"));
	pb_done(u);
	free(res);
	free(oid);
}

Test(launch, a_task_on_another_agent_than_the_offer_is_invalid)
{
	char *oid = take_offer();
	char *t = task("t1", "some-other-agent", "cpus:1");
	char tasks[2048];
	snprintf(tasks, sizeof(tasks), "[%s]", t);
	accept_one(oid, tasks);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_ERROR,
	                        PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID));
	free(t);
	free(oid);
}

Test(launch_pa, partition_aware_frameworks_get_task_dropped)
{
	char *oid = take_offer();
	char *t = task("t1", agent_id, "cpus:1");
	char tasks[2048];
	snprintf(tasks, sizeof(tasks), "[%s]", t);
	accept_one("gone", tasks);
	pb_done(h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_DROPPED,
	                        PLEXUS__TASK_STATUS__REASON__REASON_INVALID_OFFERS));
	free(t);
	free(oid);
}

Test(launch_web, reserve_is_applied_and_checkpointed_on_the_agent)
{
	char *oid = take_offer();
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"operations\": [{\"type\": \"RESERVE\", \"reserve\": {\"resources\": "
	    "[{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 1}, "
	    "\"allocation_info\": {\"role\": \"web\"}, \"reservations\": [{\"type\": "
	    "\"DYNAMIC\", \"role\": \"web\", \"principal\": \"p\"}]}]}}]}",
	    fw_id, oid);
	Plexus__Internal__CheckpointResourcesMessage *ck =
	    probe_expect(agent, &plexus__internal__checkpoint_resources_message__descriptor);
	cr_assert_eq(ck->n_resources, 1);
	cr_assert_str_eq(ck->resources[0]->name, "cpus");
	pb_done(ck);
	json_t *state = h_get_json("/master/state");
	json_t *slave = json_array_get(json_object_get(state, "slaves"), 0);
	json_t *web = json_object_get(json_object_get(slave, "reserved_resources"), "web");
	cr_assert_not_null(web);
	cr_assert_eq(json_number_value(json_object_get(web, "cpus")), 1.0);
	cr_assert_eq(json_number_value(
	                 json_object_get(json_object_get(slave, "unreserved_resources"), "cpus")),
	             3.0);
	json_decref(state);
	free(oid);
}

Test(launch, reserving_for_another_role_is_dropped)
{
	char *oid = take_offer();
	probe_send_json(
	    sched, h_master(), &plexus__internal__accept_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"operations\": [{\"type\": \"RESERVE\", \"reserve\": {\"resources\": "
	    "[{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 1}, "
	    "\"reservations\": [{\"type\": \"DYNAMIC\", \"role\": \"web\"}]}]}}]}",
	    fw_id, oid);
	cr_assert_not(
	    probe_has(agent, &plexus__internal__checkpoint_resources_message__descriptor));
	json_t *state = h_get_json("/master/state");
	json_t *slave = json_array_get(json_object_get(state, "slaves"), 0);
	cr_assert_eq(json_object_size(json_object_get(slave, "reserved_resources")), 0);
	json_decref(state);
	free(oid);
}

Test(launch, launch_tasks_is_an_accept_with_one_launch)
{
	char *oid = take_offer();
	char *t = task("lt", agent_id, "cpus:2;mem:64");
	probe_send_json(
	    sched, h_master(), &plexus__internal__launch_tasks_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"tasks\": [%s], \"filters\": {\"refuse_seconds\": 1}}",
	    fw_id, oid, t);
	expect_run("lt");
	/* The rest is filtered for the 1 s asked, then offered again. */
	h_advance(2000);
	pb_done(h_expect_offer(sched));
	free(t);
	free(oid);
}

Test(launch, offers_of_two_agents_cannot_be_combined)
{
	char *o1 = take_offer();
	probe *agent2 = probe_spawn("slave(2)");
	char *agent2_id = h_register_agent(agent2, "h2", "cpus:4;mem:1024");
	char *o2 = take_offer();
	char *t = task("t1", agent_id, "cpus:1");
	char tasks[2048], ids[512];
	snprintf(tasks, sizeof(tasks), "[%s]", t);
	snprintf(ids, sizeof(ids), "[{\"value\": \"%s\"}, {\"value\": \"%s\"}]", o1, o2);
	accept(ids, tasks);
	Plexus__Internal__StatusUpdateMessage *u =
	        h_expect_update(sched, "t1", PLEXUS__TASK_STATE__TASK_LOST,
	                        PLEXUS__TASK_STATUS__REASON__REASON_INVALID_OFFERS);
	cr_assert_not_null(strstr(u->update->status->message, "single agent"), "%s",
	                   u->update->status->message);
	pb_done(u);
	cr_assert_not(probe_has(agent, &plexus__internal__run_task_message__descriptor));
	cr_assert_not(probe_has(agent2, &plexus__internal__run_task_message__descriptor));
	/* Both offers went back to the allocator: offered again on the next pass, in one
	 * message (a framework gets its offers of a pass together). */
	h_advance(1000);
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	cr_assert_eq(o->n_offers, 2);
	cr_assert_str_neq(o->offers[0]->agent_id->value, o->offers[1]->agent_id->value);
	cr_assert_eq(o->n_pids, 2);
	pb_done(o);
	free(t);
	free(o1);
	free(o2);
	free(agent2_id);
}
