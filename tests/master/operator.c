/* The allocator as its own actor and the operator's endpoints for it: role weights and
 * quota set over HTTP and kept in the registry across a restart, dynamic reservations
 * through /master/reserve and /master/unreserve, machines taken down for maintenance,
 * garbage refused with a 4xx, and the allocator's figures under /metrics/snapshot. */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/json_pb.h"
#include "common/resources.h"
#include "harness.h"

static char dir[64];
static master_flags flags;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/plexus-master-operator-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	master_flags_default(&flags);
	flags.work_dir = dir;
	flags.agent_reregister_timeout_ms = 600000;
	h_start(&flags);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	h_stop();
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(operator, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static char *register_in_role(probe *p, const char *name, const char *role)
{
	probe_send_json(
	    p, h_master(), &plexus__internal__register_framework_message__descriptor,
	    "{\"framework\": {\"user\": \"tester\", \"name\": \"%s\", \"role\": \"%s\"}}", name,
	    role);
	Plexus__Internal__FrameworkRegisteredMessage *r =
	    probe_expect(p, &plexus__internal__framework_registered_message__descriptor);
	char *id = strdup(r->framework_id->value);
	pb_done(r);
	return id;
}

/* Takes every offer message queued at p (after letting the runtime settle); returns the
 * number of offers and adds their scalar `name` (thousandths) to *sum if not NULL. */
static size_t drain_offers(probe *p, const char *name, int64_t *sum)
{
	size_t n = 0;

	h_advance(0);
	while (probe_has(p, &plexus__internal__resource_offers_message__descriptor)) {
		Plexus__Internal__ResourceOffersMessage *o =
		    probe_take(p, &plexus__internal__resource_offers_message__descriptor, 0);
		cr_assert_not_null(o);
		for (size_t i = 0; i < o->n_offers; i++) {
			px_resources *rs = NULL;
			cr_assert_eq(px_resources_from_pb(o->offers[i]->resources,
			                                  o->offers[i]->n_resources, &rs, NULL, 0),
			             PX_OK);
			if (sum != NULL)
				*sum += px_resources_scalar(rs, name);
			px_resources_free(rs);
		}
		n += o->n_offers;
		pb_done(o);
	}
	return n;
}

static int http(const char *method, const char *target, const char *data)
{
	char *body = NULL;
	int status = h_http(method, target, "application/json", data, &body);
	free(body);
	return status;
}

static double metric(const char *name)
{
	json_t *j = h_get_json("/metrics/snapshot");
	json_t *v = json_object_get(j, name);
	double d = v ? json_number_value(v) : -12345;
	json_decref(j);
	return d;
}

static json_t *registry_file(void)
{
	char path[128];
	json_error_t jerr;

	snprintf(path, sizeof(path), "%s/registry.json", dir);
	json_t *j = json_load_file(path, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", path, jerr.text);
	return j;
}

/* Registers four agents of one cpu each and counts the offers to a and b. */
static void four_agents(const char *first, size_t *na, size_t *nb, probe *a, probe *b)
{
	for (int i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s(%d)", first, i);
		probe *ag = probe_spawn(name);
		free(h_register_agent(ag, name, "cpus:1;mem:1024"));
	}
	*na = drain_offers(a, NULL, NULL);
	*nb = drain_offers(b, NULL, NULL);
}

/* ---- weights ---- */

Test(operator, weights_set_over_http_change_the_shares_and_survive_a_restart)
{
	cr_assert_eq(http("PUT", "/weights", "[{\"role\": \"a\", \"weight\": 4}]"), 200);
	json_t *w = h_get_json("/weights");
	cr_assert_eq(json_array_size(w), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(w, 0), "role")), "a");
	cr_assert_float_eq(json_number_value(json_object_get(json_array_get(w, 0), "weight")), 4.0,
	                   1e-9);
	json_decref(w);

	/* With weight 4 against 1, role a takes three agents of four in DRF order (equal
	 * weights give two each). */
	probe *a = probe_spawn("sched-a"), *b = probe_spawn("sched-b");
	free(register_in_role(a, "fa", "a"));
	free(register_in_role(b, "fb", "b"));
	size_t na, nb;
	four_agents("slave", &na, &nb, a, b);
	cr_assert_eq(na, 3, "role a got %zu agents, b %zu", na, nb);
	cr_assert_eq(nb, 1);

	json_t *file = registry_file();
	cr_assert_float_eq(
	    json_number_value(json_object_get(json_object_get(file, "weights"), "a")), 4.0, 1e-9);
	json_decref(file);

	h_master_restart(&flags);
	w = h_get_json("/weights");
	cr_assert_eq(json_array_size(w), 1);
	json_decref(w);
	free(register_in_role(a, "fa", "a"));
	free(register_in_role(b, "fb", "b"));
	four_agents("agent", &na, &nb, a, b);
	cr_assert_eq(na, 3, "after a restart role a got %zu agents, b %zu", na, nb);
	cr_assert_eq(nb, 1);
	cr_assert_float_eq(metric("allocator/mesos/roles/a/weight"), 4.0, 1e-9);
}

/* ---- quota ---- */

Test(operator, a_quota_limit_is_honoured_persisted_and_removed)
{
	cr_assert_eq(http("POST", "/quota",
	                  "{\"role\": \"r\", \"guarantee\": {\"cpus\": 1}, \"limit\": [{\"name\": "
	                  "\"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 1.5}}]}"),
	             200);
	json_t *q = h_get_json("/quota");
	json_t *info = json_array_get(json_object_get(q, "infos"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(info, "role")), "r");
	json_decref(q);

	probe *s = probe_spawn("sched-r");
	free(register_in_role(s, "fr", "r"));
	probe *ag = probe_spawn("slave(1)");
	char *agent_id = h_register_agent(ag, "h1", "cpus:4;mem:1024");
	int64_t cpus = 0;
	cr_assert_eq(drain_offers(s, "cpus", &cpus), 1);
	cr_assert_eq(cpus, 1500, "offered %lld milli-cpus past a limit of 1.5", (long long)cpus);
	cr_assert_float_eq(metric("allocator/mesos/quota/roles/r/resources/cpus/limit"), 1.5, 1e-9);
	cr_assert_float_eq(metric("allocator/mesos/quota/roles/r/resources/cpus/guarantee"), 1.0,
	                   1e-9);

	/* It is in the registry and holds after a restart. */
	json_t *file = registry_file();
	cr_assert_not_null(json_object_get(json_object_get(file, "quotas"), "r"));
	json_decref(file);
	h_master_restart(&flags);
	free(register_in_role(s, "fr", "r"));
	probe *ag2 = probe_spawn("slave(2)");
	free(h_register_agent(ag2, "h2", "cpus:4;mem:1024"));
	cpus = 0;
	drain_offers(s, "cpus", &cpus);
	cr_assert_eq(cpus, 1500, "after a restart %lld milli-cpus were offered", (long long)cpus);

	/* Removed, the rest of the agent follows in the next pass. */
	cr_assert_eq(http("DELETE", "/quota/r", NULL), 200);
	cpus = 0;
	drain_offers(s, "cpus", &cpus);
	cr_assert_eq(cpus, 2500, "after removal %lld more milli-cpus", (long long)cpus);
	q = h_get_json("/quota");
	cr_assert_eq(json_array_size(json_object_get(q, "infos")), 0);
	json_decref(q);
	file = registry_file();
	cr_assert_null(json_object_get(json_object_get(file, "quotas"), "r"));
	json_decref(file);
	free(agent_id);
}

Test(operator, a_quota_guarantee_is_met_first_even_against_a_heavier_role)
{
	/* Without the guarantee the older framework, of the role of weight 100, would take
	 * the whole agent in the one pass its registration makes. */
	cr_assert_eq(http("PUT", "/weights", "[{\"role\": \"heavy\", \"weight\": 100}]"), 200);
	cr_assert_eq(http("POST", "/quota", "{\"role\": \"g\", \"guarantees\": {\"cpus\": 2}}"),
	             200);
	probe *h = probe_spawn("sched-heavy"), *g = probe_spawn("sched-g");
	free(register_in_role(h, "fh", "heavy"));
	free(register_in_role(g, "fg", "g"));
	probe *ag = probe_spawn("slave(1)");
	free(h_register_agent(ag, "h1", "cpus:4;mem:1024"));
	int64_t gc = 0, hc = 0;
	drain_offers(g, "cpus", &gc);
	drain_offers(h, "cpus", &hc);
	cr_assert_eq(gc, 2000, "the guaranteed role got %lld milli-cpus", (long long)gc);
	cr_assert_eq(hc, 2000, "the heavy role got %lld milli-cpus", (long long)hc);
}

/* ---- reservations ---- */

static const char *reserved_cpus_json =
    "[{\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 2}, "
    "\"reservations\": [{\"type\": \"DYNAMIC\", \"role\": \"eng\", \"principal\": \"ops\"}]}]";

static double state_reserved_cpus(const char *role)
{
	json_t *st = h_get_json("/master/slaves");
	json_t *slave = json_array_get(json_object_get(st, "slaves"), 0);
	json_t *r = json_object_get(json_object_get(slave, "reserved_resources"), role);
	double v = r ? json_number_value(json_object_get(r, "cpus")) : 0;
	json_decref(st);
	return v;
}

Test(operator, reserved_resources_go_only_to_their_role_until_unreserved)
{
	probe *ag = probe_spawn("slave(1)");
	char *agent_id = h_register_agent(ag, "h1", "cpus:4;mem:1024");
	char data[1024];

	snprintf(data, sizeof(data), "{\"slaveId\": \"%s\", \"resources\": %s}", agent_id,
	         reserved_cpus_json);
	cr_assert_eq(http("POST", "/master/reserve", data), 202);
	cr_assert_float_eq(state_reserved_cpus("eng"), 2.0, 1e-9);
	Plexus__Internal__CheckpointResourcesMessage *ck =
	    probe_expect(ag, &plexus__internal__checkpoint_resources_message__descriptor);
	cr_assert_eq(ck->n_resources, 1);
	pb_done(ck);

	/* Another role sees only the unreserved half. */
	probe *ops = probe_spawn("sched-ops");
	free(register_in_role(ops, "fops", "ops"));
	int64_t cpus = 0;
	cr_assert_eq(drain_offers(ops, "cpus", &cpus), 1);
	cr_assert_eq(cpus, 2000);
	probe *eng = probe_spawn("sched-eng");
	free(register_in_role(eng, "feng", "eng"));
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(eng);
	px_resources *rs = NULL;
	cr_assert_eq(
	    px_resources_from_pb(o->offers[0]->resources, o->offers[0]->n_resources, &rs, NULL, 0),
	    PX_OK);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 2000);
	cr_assert(px_resource_is_dynamic(px_resources_at(rs, 0)));
	px_resources_free(rs);
	pb_done(o);

	/* Unreserving takes the offer back from eng and frees the cpus for anyone. */
	snprintf(data, sizeof(data), "slaveId=%s&resources=%s", agent_id, reserved_cpus_json);
	char *body = NULL;
	cr_assert_eq(
	    h_http("POST", "/master/unreserve", "application/x-www-form-urlencoded", data, &body),
	    202, "%s", body);
	free(body);
	pb_done(probe_expect(eng, &plexus__internal__rescind_resource_offer_message__descriptor));
	cr_assert_float_eq(state_reserved_cpus("eng"), 0.0, 1e-9);
	int64_t again = 0;
	drain_offers(eng, "cpus", &again);
	drain_offers(ops, "cpus", &again);
	cr_assert_eq(again, 2000, "the unreserved cpus were offered again: %lld", (long long)again);
	free(agent_id);
}

#define RESERVED_DISK                                                                              \
	"{\"name\": \"disk\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 512}, "                \
	"\"reservations\": [{\"type\": \"DYNAMIC\", \"role\": \"eng\"}]"
#define VOLUME                                                                                     \
	RESERVED_DISK ", \"disk\": {\"persistence\": {\"id\": \"v1\"}, \"volume\": "               \
	              "{\"container_path\": \"data\", \"mode\": \"RW\"}}}"

static bool state_has_volume(const char *id)
{
	json_t *st = h_get_json("/master/slaves");
	json_t *slave = json_array_get(json_object_get(st, "slaves"), 0);
	json_t *full = json_object_get(slave, "reserved_resources_full");
	bool found = false;
	for (size_t i = 0; i < json_array_size(full); i++) {
		json_t *p = json_object_get(json_object_get(json_array_get(full, i), "disk"),
		                            "persistence");
		found |= p && strcmp(json_string_value(json_object_get(p, "id")), id) == 0;
	}
	json_decref(st);
	return found;
}

Test(operator, volumes_are_created_and_destroyed_on_reserved_disk)
{
	probe *ag = probe_spawn("slave(1)");
	char *agent_id = h_register_agent(ag, "h1", "cpus:1;mem:256;disk:1024");
	char data[2048];

	snprintf(data, sizeof(data), "{\"slaveId\": \"%s\", \"volumes\": [" VOLUME "]}", agent_id);
	/* Not on reserved disk yet: nothing to make the volume from. */
	cr_assert_eq(http("POST", "/master/create-volumes", data), 409);
	char reserve[1024];
	snprintf(reserve, sizeof(reserve),
	         "{\"slaveId\": \"%s\", \"resources\": [" RESERVED_DISK "}]}", agent_id);
	cr_assert_eq(http("POST", "/master/reserve", reserve), 202);
	cr_assert_eq(http("POST", "/master/create-volumes", data), 202);
	cr_assert(state_has_volume("v1"));
	/* The role's framework is offered the volume. */
	probe *eng = probe_spawn("sched-eng");
	free(register_in_role(eng, "feng", "eng"));
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(eng);
	px_resources *rs = NULL;
	cr_assert_eq(
	    px_resources_from_pb(o->offers[0]->resources, o->offers[0]->n_resources, &rs, NULL, 0),
	    PX_OK);
	bool has = false;
	for (size_t i = 0; i < px_resources_size(rs); i++) {
		const char *pid = px_resource_persistence_id(px_resources_at(rs, i));
		has |= pid != NULL && strcmp(pid, "v1") == 0;
	}
	cr_assert(has, "the volume was not offered");
	px_resources_free(rs);
	pb_done(o);

	cr_assert_eq(http("POST", "/master/destroy-volumes", data), 202);
	cr_assert_not(state_has_volume("v1"));
	cr_assert_eq(http("POST", "/master/destroy-volumes", data), 409, "destroyed twice");
	snprintf(data, sizeof(data),
	         "{\"slaveId\": \"%s\", \"volumes\": [{\"name\": \"disk\", \"type\": "
	         "\"SCALAR\", \"scalar\": {\"value\": 1}, \"disk\": {\"persistence\": "
	         "{\"id\": \"v2\"}}}]}",
	         agent_id);
	cr_assert_eq(http("POST", "/master/create-volumes", data), 400, "unreserved disk");
	free(agent_id);
}

Test(operator, garbage_to_every_endpoint_gets_a_4xx_and_changes_nothing)
{
	probe *ag = probe_spawn("slave(1)");
	char *agent_id = h_register_agent(ag, "h1", "cpus:4;mem:1024");
	char data[1024];

	cr_assert_eq(http("PUT", "/weights", "nope"), 400);
	cr_assert_eq(http("PUT", "/weights", "{\"role\": \"a\"}"), 400);
	cr_assert_eq(http("PUT", "/weights", "[{\"role\": \"a b\", \"weight\": 2}]"), 400);
	cr_assert_eq(http("PUT", "/weights", "[{\"role\": \"a\", \"weight\": -1}]"), 400);
	cr_assert_eq(http("PUT", "/weights",
	                  "[{\"role\": \"ok\", \"weight\": 2}, {\"role\": \"x\", \"weight\": 0}]"),
	             400);
	json_t *w = h_get_json("/weights");
	cr_assert_eq(json_array_size(w), 0, "a refused PUT changed the weights");
	json_decref(w);

	cr_assert_eq(http("POST", "/quota", "{"), 400);
	cr_assert_eq(http("POST", "/quota", "{\"role\": \"*\", \"guarantee\": {\"cpus\": 1}}"),
	             400);
	cr_assert_eq(http("POST", "/quota", "{\"role\": \"r\"}"), 400);
	cr_assert_eq(http("POST", "/quota", "{\"role\": \"r\", \"guarantee\": {\"cpus\": -1}}"),
	             400);
	cr_assert_eq(
	    http("POST", "/quota",
	         "{\"role\": \"r\", \"guarantee\": {\"cpus\": 2}, \"limit\": {\"cpus\": 1}}"),
	    400);
	cr_assert_eq(http("POST", "/quota", "{\"role\": \"r\", \"guarantee\": [{\"name\": 3}]}"),
	             400);
	int st = http("DELETE", "/quota/nosuch", NULL);
	cr_assert(st >= 400 && st < 500, "DELETE of a missing quota: %d", st);
	json_t *q = h_get_json("/quota");
	cr_assert_eq(json_array_size(json_object_get(q, "infos")), 0);
	json_decref(q);

	cr_assert_eq(http("POST", "/master/reserve", "{bad"), 400);
	cr_assert_eq(http("POST", "/master/reserve", "slaveId=x"), 400);
	snprintf(data, sizeof(data), "{\"slaveId\": \"no-such-agent\", \"resources\": %s}",
	         reserved_cpus_json);
	cr_assert_eq(http("POST", "/master/reserve", data), 400);
	snprintf(data, sizeof(data),
	         "{\"slaveId\": \"%s\", \"resources\": [{\"name\": \"cpus\", \"type\": "
	         "\"SCALAR\", \"scalar\": {\"value\": 1}}]}",
	         agent_id);
	cr_assert_eq(http("POST", "/master/reserve", data), 400, "unreserved resources");
	snprintf(data, sizeof(data),
	         "{\"slaveId\": \"%s\", \"resources\": [{\"name\": \"cpus\", \"type\": "
	         "\"SCALAR\", \"scalar\": {\"value\": 9}, \"reservations\": [{\"type\": "
	         "\"DYNAMIC\", \"role\": \"eng\"}]}]}",
	         agent_id);
	cr_assert_eq(http("POST", "/master/reserve", data), 409, "more than the agent has");
	snprintf(data, sizeof(data), "{\"slaveId\": \"%s\", \"resources\": %s}", agent_id,
	         reserved_cpus_json);
	cr_assert_eq(http("POST", "/master/unreserve", data), 409, "nothing reserved");
	cr_assert_float_eq(state_reserved_cpus("eng"), 0.0, 1e-9);

	cr_assert_eq(http("POST", "/machine/down", "[]"), 400);
	cr_assert_eq(http("POST", "/machine/down", "[{\"port\": 1}]"), 400);
	cr_assert_eq(http("POST", "/machine/up", "]"), 400);
	cr_assert_eq(http("GET", "/machine/down", NULL), 405);

	/* The agent is still offered whole. */
	probe *s = probe_spawn("sched");
	free(register_in_role(s, "f", "eng"));
	int64_t cpus = 0;
	drain_offers(s, "cpus", &cpus);
	cr_assert_eq(cpus, 4000);
	cr_assert_geq(metric("master/http_bad_requests"), 20);
	free(agent_id);
}

/* ---- maintenance and removal ---- */

Test(operator, a_machine_down_or_an_agent_removed_stops_its_offers_at_once)
{
	probe *a1 = probe_spawn("slave(1)"), *a2 = probe_spawn("slave(2)");
	char *id1 = h_register_agent(a1, "h1", "cpus:1;mem:1024");
	char *id2 = h_register_agent(a2, "h2", "cpus:1;mem:1024");
	probe *s = probe_spawn("sched");
	free(register_in_role(s, "f", "eng"));
	cr_assert_eq(drain_offers(s, NULL, NULL), 2);

	cr_assert_eq(http("POST", "/machine/down", "[{\"hostname\": \"h1\"}]"), 200);
	Plexus__Internal__RescindResourceOfferMessage *r =
	    probe_expect(s, &plexus__internal__rescind_resource_offer_message__descriptor);
	pb_done(r);
	/* Passes go on; none offers h1. */
	h_advance(5000);
	cr_assert_eq(drain_offers(s, NULL, NULL), 0);
	json_t *file = registry_file();
	cr_assert_eq(json_array_size(json_object_get(file, "down_machines")), 1);
	json_decref(file);
	json_t *status = h_get_json("/maintenance/status");
	json_t *down = json_array_get(json_object_get(status, "down_machines"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(down, "hostname")), "h1");
	json_decref(status);

	/* An agent that registers on a machine that is down is not offered either. */
	probe *a3 = probe_spawn("slave(3)");
	free(h_register_agent(a3, "h1", "cpus:1;mem:1024"));
	h_advance(2000);
	cr_assert_eq(drain_offers(s, NULL, NULL), 0);

	cr_assert_eq(http("POST", "/machine/up", "[{\"hostname\": \"h1\"}]"), 200);
	/* Both agents of h1 come back, in one pass. */
	Plexus__Internal__ResourceOffersMessage *o = h_expect_offer(s);
	size_t back = o->n_offers;
	bool has1 = false;
	for (size_t i = 0; i < o->n_offers; i++)
		has1 |= strcmp(o->offers[i]->agent_id->value, id1) == 0;
	pb_done(o);
	back += drain_offers(s, NULL, NULL);
	cr_assert(has1);
	cr_assert_eq(back, 2);
	file = registry_file();
	cr_assert_eq(json_array_size(json_object_get(file, "down_machines")), 0);
	json_decref(file);

	/* An agent that leaves takes its offer with it. */
	probe_send_json(a2, h_master(), &plexus__internal__unregister_agent_message__descriptor,
	                "{\"agent_id\": {\"value\": \"%s\"}}", id2);
	r = probe_expect(s, &plexus__internal__rescind_resource_offer_message__descriptor);
	pb_done(r);
	h_advance(5000);
	cr_assert_eq(drain_offers(s, NULL, NULL), 0);
	free(id1);
	free(id2);
}

/* ---- the allocator actor ---- */

static void *whoami(actor_t *self, void *arg, int *err)
{
	return self ? strdup(actor_self(self).id) : NULL;
}

Test(operator, the_allocator_is_an_actor_of_its_own_and_counts_its_passes)
{
	actor_pid master = h_master(), alloc;
	cr_assert_eq(actor_pid_make("allocator", master.ip, master.port, &alloc), 0);
	actor_future *f = actor_dispatch(alloc, whoami, NULL, free);
	cr_assert_eq(actor_future_await(f, WAIT_MS), 0);
	cr_assert_eq(actor_future_state(f), ACTOR_FUTURE_READY, "no allocator actor");
	cr_assert_str_eq(actor_future_value(f), "allocator");
	cr_assert_not(actor_pid_equal(alloc, master));
	actor_future_unref(f);

	h_advance(1000);
	double runs = metric("allocator/mesos/allocation_runs");
	cr_assert_geq(runs, 1);
	/* One pass per --allocation-interval (1 s). */
	h_advance(3000);
	double later = metric("allocator/mesos/allocation_runs");
	cr_assert_geq(later, runs + 3, "runs %g then %g", runs, later);
	cr_assert_leq(later, runs + 4, "runs %g then %g", runs, later);

	/* Per-role figures. */
	probe *ag = probe_spawn("slave(1)");
	free(h_register_agent(ag, "h1", "cpus:2;mem:1024"));
	probe *s = probe_spawn("sched");
	free(register_in_role(s, "f", "eng"));
	cr_assert_eq(drain_offers(s, NULL, NULL), 1);
	h_advance(1000);
	cr_assert_float_eq(metric("allocator/mesos/roles/eng/shares/dominant"), 1.0, 1e-9);
	cr_assert_float_eq(metric("allocator/mesos/roles/eng/resources/cpus/offered"), 2.0, 1e-9);
	cr_assert_geq(metric("allocator/mesos/allocation_run_ms_count"), 1);

	json_t *roles = h_get_json("/master/roles");
	json_t *arr = json_object_get(roles, "roles");
	bool seen = false;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *r = json_array_get(arr, i);
		if (strcmp(json_string_value(json_object_get(r, "name")), "eng") != 0)
			continue;
		seen = true;
		cr_assert_eq(json_array_size(json_object_get(r, "frameworks")), 1);
		cr_assert_float_eq(
		    json_number_value(json_object_get(json_object_get(r, "resources"), "cpus")),
		    2.0, 1e-9);
	}
	cr_assert(seen, "no role eng in /master/roles");
	json_decref(roles);
}
