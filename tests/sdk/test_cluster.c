/* The SDK's in-process test cluster, used as a framework's test would use it, with
 * nothing but the public SDK: a scheduler runs real command tasks on the agents, a
 * paused clock moves the cluster only when the test advances it, and a lost agent is
 * seen by the framework. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <actor/clock.h>
#include <plexus/plexus.h>
#include <plexus/test_cluster.h>

struct seen {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int offers, finished, failed, agents_lost;
	char agents[2][128];
	int launched;
	int to_launch;
};

static struct seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void on_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&seen.mu);
		seen.offers++;
		int want = seen.to_launch - seen.launched;
		pthread_mutex_unlock(&seen.mu);
		Plexus__TaskInfo *tasks[8];
		size_t k = 0;
		/* At most half of the tasks on one agent, so both agents get some. */
		while (want > 0 && k < 8 && (int)k < (seen.to_launch + 1) / 2) {
			tasks[k++] = px_task_command("t", offers[i]->agent_id, "test -n \"$MESOS_SANDBOX$PLEXUS_SANDBOX\"",
			                             "cpus:0.1;mem:16", NULL, 0);
			want--;
		}
		const Plexus__OfferID *id[] = {offers[i]->id};
		px_scheduler_driver_launch(d, id, 1, (const Plexus__TaskInfo *const *)tasks, k, NULL);
		for (size_t j = 0; j < k; j++)
			PX_FREE(tasks[j]);
		pthread_mutex_lock(&seen.mu);
		seen.launched += (int)k;
		pthread_cond_broadcast(&seen.cv);
		pthread_mutex_unlock(&seen.mu);
	}
}

static void on_update(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	pthread_mutex_lock(&seen.mu);
	if (s->state == PLEXUS__TASK_STATE__TASK_FINISHED) {
		int slot = strcmp(seen.agents[0], s->agent_id->value) == 0 || seen.agents[0][0] == '\0'
		               ? 0
		               : 1;
		snprintf(seen.agents[slot], sizeof(seen.agents[slot]), "%s", s->agent_id->value);
		seen.finished++;
	} else if (px_task_state_is_terminal(s->state)) {
		seen.failed++;
	}
	pthread_cond_broadcast(&seen.cv);
	pthread_mutex_unlock(&seen.mu);
}

static void on_agent_lost(px_scheduler_driver *d, const Plexus__AgentID *a, void *arg)
{
	pthread_mutex_lock(&seen.mu);
	seen.agents_lost++;
	pthread_cond_broadcast(&seen.cv);
	pthread_mutex_unlock(&seen.mu);
}

/* Waits (real time) until *counter reaches n. */
static bool wait_for(int *counter, int n, int seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&seen.mu);
	while (*counter < n &&
	       pthread_cond_timedwait(&seen.cv, &seen.mu, &until) == 0)
		;
	bool ok = *counter >= n;
	pthread_mutex_unlock(&seen.mu);
	return ok;
}

static px_scheduler_driver *framework(px_test_cluster *c, int tasks)
{
	seen.to_launch = tasks;
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.name = "test";
	fw.user = "";
	px_scheduler_callbacks cb = {
	    .resource_offers = on_offers, .status_update = on_update, .agent_lost = on_agent_lost};
	px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, NULL, &fw, px_test_cluster_master(c),
	                                                   NULL);
	cr_assert_not_null(d, "%s", px_driver_error());
	cr_assert_eq(px_scheduler_driver_start(d), PX_DRIVER_RUNNING, "%s", px_driver_error());
	return d;
}

static void reset(void)
{
	seen.offers = seen.finished = seen.failed = seen.agents_lost = seen.launched = 0;
	memset(seen.agents, 0, sizeof(seen.agents));
}

TestSuite(test_cluster, .init = reset, .timeout = 90);

Test(test_cluster, one_call_brings_up_a_cluster_that_runs_tasks)
{
	px_test_cluster_options o;
	px_test_cluster_options_default(&o);
	o.agents = 2;
	char err[256];
	px_test_cluster *c = px_test_cluster_start(&o, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_expect_eq(px_test_cluster_agents(c), 2);
	cr_expect_eq(strncmp(px_test_cluster_master(c), "master@", 7), 0);

	px_scheduler_driver *d = framework(c, 6);
	cr_expect(wait_for(&seen.finished, 6, 60), "finished %d of 6 (failed %d)", seen.finished,
	          seen.failed);
	cr_expect_eq(seen.failed, 0);
	cr_expect(seen.agents[0][0] && seen.agents[1][0] && strcmp(seen.agents[0], seen.agents[1]),
	          "tasks ran on both agents");
	px_scheduler_driver_stop(d, false);
	px_scheduler_driver_free(d);
	px_test_cluster_stop(c);
	cr_expect(!actor_runtime_running(), "the cluster's own runtime ends with it");
}

/* Advances the paused clock by ms in steps, letting the cluster settle after each. */
static void advance(int64_t ms)
{
	for (int64_t done = 0; done < ms; done += 100) {
		actor_clock_advance(100);
		actor_clock_settle();
	}
}

Test(test_cluster, a_paused_clock_moves_the_cluster_only_when_advanced)
{
	char err[256];
	px_test_cluster *c = px_test_cluster_start(NULL, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	actor_clock_pause();
	/* Launching nothing declines the offer with Mesos's default filter of 5 s: the
	 * agent is offered again only once 5 s have passed on the runtime's clock. */
	px_scheduler_driver *d = framework(c, 0);
	for (int i = 0; i < 300 && seen.offers == 0; i++)
		advance(100);
	cr_assert_eq(seen.offers, 1, "one offer once registered");
	advance(4000);
	cr_expect_eq(seen.offers, 1, "the declined agent is filtered for 5 s of the clock");
	advance(1500);
	cr_expect_eq(seen.offers, 2, "offered again after the filter expired");
	actor_clock_resume();
	px_scheduler_driver_stop(d, false);
	px_scheduler_driver_free(d);
	px_test_cluster_stop(c);
}

Test(test_cluster, bad_options_are_explained)
{
	px_test_cluster_options o;
	px_test_cluster_options_default(&o);
	o.agents = 65;
	char err[256] = "";
	cr_expect_null(px_test_cluster_start(&o, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "64"), "'%s'", err);
	o.agents = 1;
	o.resources = "cpus:many";
	cr_expect_null(px_test_cluster_start(&o, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "cpus:many"), "'%s'", err);
	cr_expect(!actor_runtime_running(), "nothing left running");
}
