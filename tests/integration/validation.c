/* validation.c — bad input from a framework or an HTTP client is refused with a
 * reason and breaks nothing: launches that ask too much, reuse a task id or name an
 * unknown offer; garbage to the master's and agent's HTTP endpoints. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static struct cluster c;
static struct fw *fw;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	fw = NULL;
	harness_init();
	fw_runtime_start();
	cluster_start(&c);
}

static void teardown(void)
{
	fw_stop(fw, false);
	fw = NULL;
	harness_fini();
}

TestSuite(validation, .init = setup, .fini = teardown, .timeout = 60);

static void start_fw(const char *name)
{
	fw = fw_start(c.master_addr, name, 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000), "the framework never registered");
}

Test(validation, launch_with_more_resources_than_offered_is_refused)
{
	struct fw_update u;
	const char *id = "greedy";

	start_fw("integration-greedy");
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o);
	fw_launch(fw, o, &id, 1, "true", 100, 16);
	fw_offer_free(o);
	cr_assert(fw_wait_terminal(fw, id, &u, 10000), "no answer to the launch");
	cr_expect_eq(u.state, PLEXUS__TASK_STATE__TASK_ERROR, "ended %s", px_task_state_name(u.state));
	cr_expect(strstr(u.message, "more resources") != NULL, "reason: '%s'", u.message);
	/* The refused resources are offered again. */
	o = fw_next_offer(fw, 10000);
	cr_expect_not_null(o, "no offer after the refused launch");
	fw_offer_free(o);
}

Test(validation, launch_with_a_duplicate_task_id_is_refused)
{
	const char *id = "twin";
	char st[64];

	start_fw("integration-duplicate");
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o);
	fw_launch(fw, o, &id, 1, "sleep 60", 0.1, 16);
	fw_offer_free(o);
	cr_assert(fw_wait_state(fw, id, PLEXUS__TASK_STATE__TASK_RUNNING, 20000));
	o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o);
	fw_launch(fw, o, &id, 1, "true", 0.1, 16);
	fw_offer_free(o);
	cr_assert(fw_wait_state(fw, id, PLEXUS__TASK_STATE__TASK_ERROR, 10000),
	          "the duplicate launch was not refused");
	struct fw_update ups[64];
	size_t n = fw_updates(fw, ups, 64);
	bool said = false;
	for (size_t i = 0; i < n && i < 64; i++)
		said = said || (ups[i].state == PLEXUS__TASK_STATE__TASK_ERROR &&
		                strstr(ups[i].message, "duplicate") != NULL);
	cr_expect(said, "no TASK_ERROR naming the duplicate id");
	/* The first task is untouched. */
	cr_assert(master_task_state(c.master_port, id, st, sizeof(st)));
	cr_expect_str_eq(st, "TASK_RUNNING");
}

Test(validation, launch_on_an_unknown_offer_is_refused)
{
	struct fw_update u;

	start_fw("integration-unknown-offer");
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o);
	fw_launch_on(fw, "no-such-offer", o->agent_id->value, "stray", "true", 0.1, 16);
	fw_offer_free(o);
	cr_assert(fw_wait_terminal(fw, "stray", &u, 10000), "no answer to the launch");
	cr_expect(u.state == PLEXUS__TASK_STATE__TASK_LOST ||
	              u.state == PLEXUS__TASK_STATE__TASK_DROPPED,
	          "ended %s", px_task_state_name(u.state));
	cr_expect_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_INVALID_OFFERS);
	cr_expect(strstr(u.message, "no-such-offer") != NULL, "reason: '%s'", u.message);
}

/* Sends raw bytes to port and returns the first line of the answer ("" if none). */
static char *raw_exchange(int port, const char *bytes, char *line, size_t linelen)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 3};

	line[0] = '\0';
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(write(s, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	ssize_t n = read(s, line, linelen - 1);
	line[n > 0 ? n : 0] = '\0';
	char *eol = strpbrk(line, "\r\n");
	if (eol != NULL)
		*eol = '\0';
	close(s);
	return line;
}

Test(validation, garbage_to_the_http_api_gets_400s)
{
	int m = c.master_port, a = c.agent_ports[0];
	char *body = NULL, line[512];

	cr_expect_eq(http_post(m, "/master/teardown", "application/json", "{{{ not json", &body),
	             400);
	cr_expect(body != NULL && strstr(body, "JSON") != NULL, "reason: '%s'", body);
	free(body);
	cr_expect_eq(http_post(m, "/master/teardown", "application/x-www-form-urlencoded",
	                       "frameworkId=no-such-framework", NULL),
	             400);
	cr_expect_eq(http_post(m, "/master/teardown", "text/plain", "\x01\x02\xff garbage", NULL),
	             400);
	cr_expect_eq(http_get(m, "/master/tasks?limit=lots", NULL), 400);
	cr_expect_eq(http_get(a, "/files/read", NULL), 400);
	cr_expect_eq(http_get(a, "/files/read?path=", NULL), 400);
	/* Malformed requests: 400 from the server itself. */
	/* (nng takes a request line with junk after the version; "/" is the web UI.) */
	raw_exchange(m, "GET /master/state HTTP/9.9\r\n\r\n", line, sizeof(line));
	cr_expect(strstr(line, " 505") != NULL, "answer: '%s'", line);
	raw_exchange(m, "GET nopath HTTP/1.1\r\n\r\n", line, sizeof(line));
	cr_expect(strstr(line, " 400") != NULL, "answer: '%s'", line);
	raw_exchange(m, "GET /master/state HTTP/1.1\r\nContent-Length: -5\r\n\r\n", line,
	             sizeof(line));
	cr_expect(strstr(line, " 400") != NULL, "answer: '%s'", line);
	/* Not HTTP at all: nng hangs up (or answers an error); nothing else happens. */
	raw_exchange(m, "\x01\x02\xff GARBAGE\r\n\r\n", line, sizeof(line));
	cr_expect(line[0] == '\0' || strstr(line, "HTTP/1.1 4") != NULL ||
	              strstr(line, "HTTP/1.1 5") != NULL,
	          "answer: '%s'", line);
	/* Still healthy and consistent afterwards. */
	cr_expect_eq(http_get(m, "/health", NULL), 200);
	cr_expect_eq(master_active_agents(m), 2);
}
