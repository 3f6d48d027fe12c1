/* explain.c — why a request finds no offer, asked of a real master (and its allocator)
 * by real frameworks: through the scheduler driver's debug call, and as `plexus execute`
 * says it while it waits. The cluster: a master and two agents of cpus:1;mem:512. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actor/error.h"
#include "harness.h"

static struct cluster c;
static struct fw *hog, *late;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	hog = late = NULL;
	harness_init();
	fw_runtime_start();
	cluster_start(&c);
}

static void teardown(void)
{
	fw_stop(late, false);
	fw_stop(hog, false);
	late = hog = NULL;
	harness_fini();
}

TestSuite(explain, .init = setup, .fini = teardown, .timeout = 90);

/* One answer of px_scheduler_driver_explain, waited for by the test's thread. */
struct answer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int err;
	char text[1024];
};

static void explained(px_scheduler_driver *d, int err, const char *text, void *arg)
{
	struct answer *a = arg;
	pthread_mutex_lock(&a->mu);
	a->err = err;
	snprintf(a->text, sizeof(a->text), "%s", text);
	a->done = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* Asks f's driver why no offer holds request; the text goes to out, the error code is
 * returned. Fails the test if no answer comes within 15 s. */
static int explain(struct fw *f, const char *request, char *out, size_t len)
{
	struct answer a = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	cr_assert_eq(px_scheduler_driver_explain(fw_driver(f), request, explained, &a),
	             PX_DRIVER_RUNNING);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 15;
	pthread_mutex_lock(&a.mu);
	while (!a.done && pthread_cond_timedwait(&a.cv, &a.mu, &dl) == 0)
		;
	bool done = a.done;
	pthread_mutex_unlock(&a.mu);
	cr_assert(done, "no answer to explain(%s)", request);
	snprintf(out, len, "%s", a.text);
	return a.err;
}

Test(explain, a_request_larger_than_every_agent)
{
	char text[1024];
	late = fw_start(c.master_addr, "integration-explain", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(late, 10000));
	cr_assert_eq(explain(late, "cpus:4;mem:64", text, sizeof(text)), 0, "%s", text);
	cr_assert_str_eq(text, "no agent has cpus:4; the largest has cpus:1");
	cr_assert_eq(explain(late, "cpus:1;mem:2048", text, sizeof(text)), 0, "%s", text);
	cr_assert_str_eq(text, "no agent has mem:2048; the largest has mem:512");

	/* A request that does not parse is refused at once, naming the resource. */
	cr_assert_eq(px_scheduler_driver_explain(fw_driver(late), "cpus:lots", explained, NULL),
	             PX_DRIVER_INVALID_CALL);
	cr_assert(strstr(px_driver_error(), "cpus:lots") != NULL, "names the resource: %s",
	          px_driver_error());
}

Test(explain, every_agent_held_by_another_framework_then_suppressed)
{
	char text[1024];
	hog = fw_start(c.master_addr, "integration-hog", 0, NULL, true);
	const char *hog_id = fw_wait_registered(hog, 10000);
	cr_assert_not_null(hog_id);
	/* The hog takes an offer of each agent and sits on them. */
	Plexus__Offer *o1 = fw_next_offer(hog, 10000), *o2 = fw_next_offer(hog, 10000);
	cr_assert(o1 != NULL && o2 != NULL, "the hog got both agents");
	cr_assert_str_neq(o1->agent_id->value, o2->agent_id->value);

	late = fw_start(c.master_addr, "integration-late", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(late, 10000));
	char want[512];
	snprintf(want, sizeof(want),
	         "all 2 agents with cpus:1; mem:64 are allocated to other frameworks: %s", hog_id);
	cr_assert_eq(explain(late, "cpus:1;mem:64", text, sizeof(text)), 0, "%s", text);
	cr_assert_str_eq(text, want);

	/* Suppressed, it is told that first. The suppression reaches the allocator through
	 * the master, from another actor than the question: ask until it has arrived. */
	cr_assert_eq(px_scheduler_driver_suppress(fw_driver(late), NULL, 0), PX_DRIVER_RUNNING);
	bool suppressed = false;
	for (int i = 0; i < 100 && !suppressed; i++) {
		cr_assert_eq(explain(late, "cpus:1;mem:64", text, sizeof(text)), 0, "%s", text);
		suppressed = strstr(text, "suppressed") != NULL;
		if (!suppressed)
			nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
	}
	cr_assert_str_eq(text, "the framework is suppressed in role *: it gets no offers until "
	                       "it revives (2 agents could hold cpus:1; mem:64)");
	fw_offer_free(o1);
	fw_offer_free(o2);
}

static bool log_has(void *arg)
{
	const char *want = arg;
	FILE *f = fopen(proc_log("execute-big"), "r");
	if (f == NULL)
		return false;
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

Test(explain, plexus_execute_says_why_it_waits)
{
	char master[96];
	snprintf(master, sizeof(master), "--master=%s", c.master_addr);
	pid_t pid = plexus_spawnl("execute-big", "execute", master, "--name=big", "--command=true",
	                          "--resources=cpus:4;mem:64", "--explain-after=500ms", NULL);
	const char *want = "plexus execute: no offer fits cpus:4;mem:64 yet: no agent has cpus:4; "
	                   "the largest has cpus:1";
	cr_assert(wait_until(20000, log_has, (void *)want), "not said; its log: %s",
	          proc_log("execute-big"));
	/* It keeps waiting; interrupted, it unregisters and exits 128 + SIGTERM. */
	proc_signal(pid, SIGTERM);
	int status = -1;
	cr_assert(proc_wait(pid, 10000, &status));
	cr_assert_eq(status, 128 + SIGTERM);

	/* A bad duration is a bad flag. */
	const char *bad[] = {
	    "execute", master, "--name=x", "--command=true", "--explain-after=soon", NULL};
	cr_assert_eq(plexus_run(NULL, 10000, bad), 2);
}
