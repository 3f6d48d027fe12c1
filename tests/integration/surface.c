/* surface.c — the operator's HTTP surface of separate daemons as a Mesos user finds it:
 * an agent's /health and /slave(N)/health answer 200 with an empty body that ends
 * (Content-Length: 0, so a client does not wait for the connection to close), and a
 * master's v1 APIs, web UI and files endpoints are where a Mesos user looks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "v1_client.h"

static struct cluster c;

static void setup(void)
{
	harness_init();
	cluster_start(&c);
}

static void teardown(void)
{
	harness_fini();
}

TestSuite(surface, .init = setup, .fini = teardown, .timeout = 90);

Test(surface, agent_health_answers_and_ends)
{
	char *body = NULL;
	size_t n = 0;

	for (int i = 0; i < c.nagents; i++) {
		/* libcurl gives up after 10 s: an answer that never ends fails here. */
		long code =
		    v1_post_accept(c.agent_ports[i], "/health", NULL, NULL, NULL, "", 0, &body, &n);
		cr_expect_eq(code, 200, "agent %d: /health answered %ld", i, code);
		cr_expect_eq(n, 0);
		free(body);
		cr_expect_eq(http_get(c.agent_ports[i], "/slave(1)/health", NULL), 200);
	}
	cr_expect_eq(http_get(c.master_port, "/health", NULL), 200);
}

Test(surface, master_serves_the_v1_apis_and_the_web_ui)
{
	char *out = NULL;
	long code =
	    v1_post_json(c.master_port, "/api/v1", NULL, &out, "{\"type\": \"GET_AGENTS\"}");
	cr_expect_eq(code, 200, "%s", out);
	cr_expect(strstr(out, "\"agents\"") != NULL, "%s", out);
	free(out);
	cr_expect_eq(http_get(c.master_port, "/", NULL), 200);
	code =
	    v1_post_json(c.master_port, "/api/v1/scheduler", NULL, &out, "{\"type\": \"REVIVE\"}");
	cr_expect_eq(code, 400, "%s", out);
	free(out);
}
