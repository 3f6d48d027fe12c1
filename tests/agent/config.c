/* config.c — what the agent advertises and how it reads its flags: --resources (text and
 * JSON, errors), detection of what is not given, --attributes, bad flags. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor/libactor.h"
#include "agent/agent.h"
#include "agent/detect.h"
#include "common/resources.h"

static char *fmt(px_resources *rs)
{
	char *s = px_resources_format(rs);
	px_resources_free(rs);
	return s;
}

Test(config, given_resources_are_kept_and_the_rest_detected)
{
	px_resources *rs = NULL;
	char err[256] = "";
	cr_assert_eq(
	    agent_resources("cpus:1.5;mem:100;disk:10;ports:[1-2]", "/tmp", &rs, err, sizeof(err)),
	    PX_OK, "%s", err);
	char *s = fmt(rs);
	cr_assert_str_eq(s, "cpus:1.5; disk:10; mem:100; ports:[1-2]");
	free(s);

	cr_assert_eq(agent_resources(NULL, "/tmp", &rs, err, sizeof(err)), PX_OK, "%s", err);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), cpus * 1000);
	cr_assert_gt(px_resources_scalar(rs, "mem"), 0);
	cr_assert_gt(px_resources_scalar(rs, "disk"), 0);
	px_resources_free(rs);
}

Test(config, json_resources)
{
	px_resources *rs = NULL;
	char err[256] = "";
	cr_assert_eq(
	    agent_resources("[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":"
	                    "4}},{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{"
	                    "\"value\":512}}]",
	                    "/tmp", &rs, err, sizeof(err)),
	    PX_OK, "%s", err);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 4000);
	cr_assert_eq(px_resources_scalar(rs, "mem"), 512000);
	px_resources_free(rs);
}

Test(config, resource_errors_name_the_culprit)
{
	px_resources *rs = NULL;
	char err[256] = "";
	cr_assert_eq(agent_resources("cpus:abc", "/tmp", &rs, err, sizeof(err)), PX_EINVAL);
	cr_assert_null(rs);
	cr_assert(strstr(err, "cpus:abc") != NULL, "%s", err);
	cr_assert_eq(agent_resources("ports:[5-1]", "/tmp", &rs, err, sizeof(err)), PX_EINVAL);
	cr_assert(strstr(err, "5-1") != NULL, "%s", err);
	cr_assert_eq(agent_resources("[{\"name\":\"cpus\"}", "/tmp", &rs, err, sizeof(err)),
	             PX_EINVAL);
}

Test(config, memory_and_disk_reserves_follow_mesos)
{
	const unsigned long long GiB = 1024ull * 1024 * 1024;
	cr_assert_eq(agent_mem_for_tasks(8 * GiB), 7 * 1024);
	cr_assert_eq(agent_mem_for_tasks(2 * GiB), 1024);
	cr_assert_eq(agent_mem_for_tasks(1 * GiB), 512);
	cr_assert_eq(agent_disk_for_tasks(100 * GiB), 95 * 1024);
	cr_assert_eq(agent_disk_for_tasks(4 * GiB), 2 * 1024);
}

Test(config, attributes)
{
	Plexus__Attribute **a = NULL;
	size_t n = 0;
	char err[256] = "";
	cr_assert_eq(agent_attributes_parse("rack:a; zone:1;ports:[1-5];tags:{x,y}", &a, &n, err,
	                                    sizeof(err)),
	             PX_OK, "%s", err);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(a[0]->name, "rack");
	cr_assert_eq(a[0]->type, PLEXUS__VALUE__TYPE__TEXT);
	cr_assert_str_eq(a[0]->text->value, "a");
	cr_assert_eq(a[1]->type, PLEXUS__VALUE__TYPE__SCALAR);
	cr_assert_float_eq(a[1]->scalar->value, 1.0, 1e-9);
	cr_assert_eq(a[2]->type, PLEXUS__VALUE__TYPE__RANGES);
	cr_assert_eq(a[2]->ranges->range[0]->end, 5);
	cr_assert_eq(a[3]->type, PLEXUS__VALUE__TYPE__SET);
	cr_assert_eq(a[3]->set->n_item, 2);
	agent_attributes_free(a, n);

	cr_assert_eq(agent_attributes_parse("rack", &a, &n, err, sizeof(err)), PX_EINVAL);
	cr_assert(strstr(err, "rack") != NULL, "%s", err);
	cr_assert_eq(agent_attributes_parse("ports:[9-1]", &a, &n, err, sizeof(err)), PX_EINVAL);
}

static int parse(const char *const *args)
{
	char *argv[16];
	int argc = 0;
	for (; args[argc] != NULL; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	struct agent_flags f;
	agent_flags_default(&f);
	return agent_flags_parse(&f, argc, argv);
}

Test(config, flags, .init = cr_redirect_stderr)
{
	const char *ok[] = {"agent",
	                    "--master=master@127.0.0.1:5050",
	                    "--port=5052",
	                    "--resources=cpus:2",
	                    "--attributes=rack:a",
	                    "--executor-shutdown-grace-period=3secs",
	                    NULL};
	cr_assert_eq(parse(ok), 0);
	const char *no_master[] = {"agent", NULL};
	cr_assert_eq(parse(no_master), 2);
	const char *bad_port[] = {"agent", "--master=m@1.2.3.4:5", "--port=70000", NULL};
	cr_assert_eq(parse(bad_port), 2);
	const char *bad_res[] = {"agent", "--master=m@1.2.3.4:5", "--resources=cpus:x", NULL};
	cr_assert_eq(parse(bad_res), 2);
	const char *bad_dur[] = {"agent", "--master=m@1.2.3.4:5",
	                         "--executor-shutdown-grace-period=soon", NULL};
	cr_assert_eq(parse(bad_dur), 2);
	const char *unknown[] = {"agent", "--master=m@1.2.3.4:5", "--frobnicate=1", NULL};
	cr_assert_eq(parse(unknown), 2);
}

Test(config, start_refuses_bad_resources)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = 1;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	struct agent_flags f;
	agent_flags_default(&f);
	char dir[] = "/tmp/plexus-agent-config-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	f.master = "master@127.0.0.1:1";
	f.work_dir = dir;
	f.resources = "mem:lots";
	actor_pid pid;
	char err[256] = "";
	cr_assert_neq(agent_start(&f, &pid, err, sizeof(err)), 0);
	cr_assert(strstr(err, "--resources") != NULL && strstr(err, "mem:lots") != NULL, "%s", err);
	actor_stats st;
	actor_runtime_stats(&st);
	cr_assert_eq(st.actors_alive, 0, "a failed start leaves nothing running");
	actor_runtime_fini();
	rmdir(dir);
}
