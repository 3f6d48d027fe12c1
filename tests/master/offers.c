/* Offers: made from an agent's resources, declined with filters, rescinded on timeout
 * and when the agent goes away, suppressed and revived. */
#include <string.h>

#include "common/resources.h"
#include "harness.h"

static probe *agent, *sched;
static char *agent_id, *fw_id;

static void start(int64_t offer_timeout_ms)
{
	master_flags f;

	master_flags_default(&f);
	f.offer_timeout_ms = offer_timeout_ms;
	h_start(&f);
	agent = probe_spawn("slave(1)");
	agent_id = h_register_agent(agent, "h1", "cpus:4;mem:1024;ports:[31000-32000]");
	sched = probe_spawn("scheduler-1");
	fw_id = h_register_framework(sched, "fw", 0, NULL);
}

static void setup(void)
{
	start(0);
}

static void teardown(void)
{
	h_stop();
	free(agent_id);
	free(fw_id);
}

TestSuite(offers, .init = setup, .fini = teardown, .timeout = 60);

static char *offer_id_of(Plexus__Internal__ResourceOffersMessage *o)
{
	return strdup(o->offers[0]->id->value);
}

Test(offers, an_offer_holds_the_agents_resources)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	Plexus__Offer *offer = o->offers[0];
	px_resources *rs = NULL;

	cr_assert_str_eq(offer->agent_id->value, agent_id);
	cr_assert_str_eq(offer->framework_id->value, fw_id);
	cr_assert_str_eq(offer->hostname, "h1");
	cr_assert_str_eq(o->pids[0], actor_pid_str(probe_pid(agent)));
	cr_assert_eq(px_resources_from_pb(offer->resources, offer->n_resources, &rs, NULL, 0),
	             PX_OK);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 4000);
	cr_assert_eq(px_resources_scalar(rs, "mem"), 1024000);
	/* Offers carry the role they are made to. */
	cr_assert_str_eq(px_resource_allocation_role(px_resources_at(rs, 0)), "*");
	px_resources_free(rs);
	pb_done(o);
	/* Everything is offered: nothing more comes on later allocations. */
	h_advance(3000);
	cr_assert_not(probe_has(sched, &plexus__internal__resource_offers_message__descriptor));
}

Test(offers, a_decline_filter_holds_for_refuse_seconds)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *oid = offer_id_of(o);
	pb_done(o);
	probe_send_json(
	    sched, h_master(), &plexus__internal__decline_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"filters\": {\"refuse_seconds\": 10}}",
	    fw_id, oid);
	h_advance(9000);
	cr_assert_not(probe_has(sched, &plexus__internal__resource_offers_message__descriptor),
	              "offered again within the filter");
	h_advance(2000);
	o = h_expect_offer(sched);
	cr_assert_str_neq(o->offers[0]->id->value, oid);
	pb_done(o);
	free(oid);
}

Test(offers, a_decline_without_filters_refuses_for_five_seconds)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *oid = offer_id_of(o);
	pb_done(o);
	probe_send_json(
	    sched, h_master(), &plexus__internal__decline_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}]}", fw_id,
	    oid);
	h_advance(4000);
	cr_assert_not(probe_has(sched, &plexus__internal__resource_offers_message__descriptor));
	h_advance(2000);
	pb_done(h_expect_offer(sched));
	free(oid);
}

Test(offers, the_agent_going_away_rescinds_its_offers)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *oid = offer_id_of(o);
	pb_done(o);
	probe_kill(agent);
	Plexus__Internal__RescindResourceOfferMessage *r =
	    probe_expect(sched, &plexus__internal__rescind_resource_offer_message__descriptor);
	cr_assert_str_eq(r->offer_id->value, oid);
	pb_done(r);
	free(oid);
}

Test(offers, suppress_stops_offers_until_revive)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *oid = offer_id_of(o);
	pb_done(o);
	probe_send_json(sched, h_master(), &plexus__internal__suppress_offers_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}}", fw_id);
	probe_send_json(
	    sched, h_master(), &plexus__internal__decline_offers_message__descriptor,
	    "{\"framework_id\": {\"value\": \"%s\"}, \"offer_ids\": [{\"value\": \"%s\"}], "
	    "\"filters\": {\"refuse_seconds\": 0}}",
	    fw_id, oid);
	h_advance(3000);
	cr_assert_not(probe_has(sched, &plexus__internal__resource_offers_message__descriptor));
	probe_send_json(sched, h_master(), &plexus__internal__revive_offers_message__descriptor,
	                "{\"framework_id\": {\"value\": \"%s\"}}", fw_id);
	pb_done(h_expect_offer(sched));
	free(oid);
}

static void setup_timeout(void)
{
	start(30000);
}

TestSuite(offer_timeout, .init = setup_timeout, .fini = teardown, .timeout = 60);

Test(offer_timeout, offers_are_rescinded_after_the_offer_timeout)
{
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(sched);
	char *oid = offer_id_of(o);
	pb_done(o);
	h_advance(29000);
	cr_assert_not(
	    probe_has(sched, &plexus__internal__rescind_resource_offer_message__descriptor));
	h_advance(2000);
	Plexus__Internal__RescindResourceOfferMessage *r =
	    probe_expect(sched, &plexus__internal__rescind_resource_offer_message__descriptor);
	cr_assert_str_eq(r->offer_id->value, oid);
	pb_done(r);
	/* The resources go back and are offered again. */
	h_advance(1000);
	pb_done(h_expect_offer(sched));
	free(oid);
}
