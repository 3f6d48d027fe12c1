/* The registry of admitted agents is a file under --work-dir that survives a master
 * restart: a restarted master re-admits its agents when they re-register and, after
 * --agent-reregister-timeout, marks the ones that never came back lost. */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char dir[] = "/tmp/plexus-master-registry-XXXXXX";
static master_flags flags;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	master_flags_default(&flags);
	flags.work_dir = dir;
	/* Shorter than the 75 s after which the silent test agents would be lost. */
	flags.agent_reregister_timeout_ms = 30000;
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

TestSuite(registry, .init = setup, .fini = teardown, .timeout = 60);

static json_t *registry_file(void)
{
	char path[256];
	json_error_t jerr;

	snprintf(path, sizeof(path), "%s/registry.json", dir);
	json_t *j = json_load_file(path, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", path, jerr.text);
	return j;
}

static bool file_has(const char *agent_id)
{
	json_t *j = registry_file();
	json_t *agents = json_object_get(j, "agents");
	bool found = false;
	for (size_t i = 0; i < json_array_size(agents); i++) {
		json_t *id = json_object_get(json_array_get(agents, i), "id");
		found |= strcmp(json_string_value(json_object_get(id, "value")), agent_id) == 0;
	}
	json_decref(j);
	return found;
}

Test(registry, admitted_agents_survive_a_restart)
{
	probe *a1 = probe_spawn("slave(1)");
	probe *a2 = probe_spawn("slave(2)");
	char *id1 = h_register_agent(a1, "h1", "cpus:1");
	char *id2 = h_register_agent(a2, "h2", "cpus:1");
	cr_assert(file_has(id1));
	cr_assert(file_has(id2));

	h_master_restart(&flags);
	char *res = h_resources_json("cpus:1");
	probe_send_json(a1, h_master(), &plexus__internal__reregister_agent_message__descriptor,
	                "{\"agent\": {\"hostname\": \"h1\", \"id\": {\"value\": \"%s\"}, "
	                "\"resources\": %s}}",
	                id1, res);
	free(res);
	Plexus__Internal__AgentReregisteredMessage *r =
	    probe_expect(a1, &plexus__internal__agent_reregistered_message__descriptor);
	cr_assert_str_eq(r->agent_id->value, id1);
	pb_done(r);

	/* The second agent never comes back: lost after the re-registration timeout. */
	h_advance(flags.agent_reregister_timeout_ms - 1000);
	cr_assert(file_has(id2));
	h_advance(2000);
	cr_assert_not(file_has(id2));
	cr_assert(file_has(id1));
	json_t *s = h_get_json("/master/state");
	cr_assert_eq(json_integer_value(json_object_get(s, "unreachable_slaves")), 1);
	cr_assert_eq(json_array_size(json_object_get(s, "slaves")), 1);
	json_decref(s);
	free(id1);
	free(id2);
}

Test(registry, a_registry_file_that_does_not_parse_stops_the_start)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/registry.json", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"agents\": [{\"hostname\": 3}]}", f);
	fclose(f);
	master_stop(h_master());
	actor_pid pid;
	cr_assert_neq(master_start(&flags, &pid), 0);
	/* A good file again: the master starts. */
	f = fopen(path, "w");
	fputs("{\"agents\": []}", f);
	fclose(f);
	h_master_restart(&flags);
}
