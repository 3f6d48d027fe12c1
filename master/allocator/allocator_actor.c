/* allocator_actor.c — the allocator core inside an actor (see allocator_actor.h).
 *
 * The actor owns the core; the core never sees threads or clocks. Passes come from
 * two timers: the interval timer, always armed, and the batch timer, armed by the
 * first event after a pass. Events that arrive while the batch timer is armed only
 * bump a counter, which is how a burst of recoveries turns into one pass. */
#include <stdlib.h>
#include <time.h>

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/log.h"
#include "allocator_actor.h"
#include "report.h"

struct alloc_actor {
	alloc_actor_config cfg;
	alloc_core *core;
	uint64_t seen_events; /* the core's event count at the last pass */
	uint64_t batch_timer; /* 0: not armed */
};

void alloc_actor_config_default(alloc_actor_config *cfg)
{
	cfg->allocation_interval_ms = 1000;
	cfg->batch_ms = 1;
	alloc_config_default(&cfg->core);
	cfg->offer_cb = NULL;
	cfg->offer_arg = NULL;
	cfg->offer_arg_free = NULL;
}

static uint64_t core_events(const alloc_core *core)
{
	alloc_counters c;
	alloc_counters_get(core, &c);
	return c.events;
}

static double ms_between(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) * 1e3 + (double)(t1->tv_nsec - t0->tv_nsec) / 1e6;
}

/* Every pass, whoever asked for it, is timed (allocator/mesos/allocation_run_ms). The
 * duration is real time, not the runtime's clock: a paused clock would make it 0. */
static void run_pass(struct alloc_actor *s)
{
	alloc_offers *b = NULL;
	struct timespec t0, t1;
	s->seen_events = core_events(s->core);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = alloc_run(s->core, actor_clock_now(), &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alloc_metrics_pass(ms_between(&t0, &t1));
	if (rc != ALLOC_OK)
		actor_error("allocator: pass failed: %s", alloc_strerror(rc));
	if (b != NULL && alloc_offers_count(b) > 0)
		s->cfg.offer_cb(b, s->cfg.offer_arg);
	else
		alloc_offers_free(b);
}

static void on_interval(actor_t *self, void *arg)
{
	struct alloc_actor *s = arg;
	if (self == NULL)
		return;
	run_pass(s);
	actor_delay(self, s->cfg.allocation_interval_ms, on_interval, s);
}

static void on_batch(actor_t *self, void *arg)
{
	struct alloc_actor *s = arg;
	if (self == NULL)
		return;
	s->batch_timer = 0;
	run_pass(s);
}

/* Arms the batch timer when the core saw events since the last pass. */
static void maybe_schedule(actor_t *self, struct alloc_actor *s)
{
	if (s->batch_timer != 0 || core_events(s->core) == s->seen_events)
		return;
	s->batch_timer = actor_delay(self, s->cfg.batch_ms, on_batch, s);
}

static int actor_init(actor_t *self)
{
	struct alloc_actor *s = actor_state(self);
	actor_delay(self, s->cfg.allocation_interval_ms, on_interval, s);
	return 0;
}

static void actor_fini(actor_t *self)
{
	struct alloc_actor *s = actor_state(self);
	alloc_core_free(s->core);
	if (s->cfg.offer_arg_free != NULL)
		s->cfg.offer_arg_free(s->cfg.offer_arg);
	free(s);
}

static const actor_def alloc_actor_def = {
    .name = "allocator",
    .init = actor_init,
    .fini = actor_fini,
};

int alloc_actor_spawn(const alloc_actor_config *cfg, actor_pid *out)
{
	if (cfg == NULL || cfg->offer_cb == NULL || cfg->allocation_interval_ms <= 0 ||
	    cfg->batch_ms < 0) {
		actor_warn(
		    "allocator: spawn: an offer callback and a positive interval are needed");
		return ALLOC_EINVAL;
	}
	struct alloc_actor *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ALLOC_ENOMEM;
	s->cfg = *cfg;
	s->core = alloc_core_new(&cfg->core);
	if (s->core == NULL) {
		free(s);
		return ALLOC_ENOMEM;
	}
	alloc_metrics_init();
	int rc = actor_spawn(&alloc_actor_def, s, out);
	if (rc != 0) {
		/* The caller keeps offer_arg: an error return means nothing was taken. */
		alloc_core_free(s->core);
		free(s);
	}
	return rc;
}

struct call {
	alloc_actor_fn fn;
	void *arg;
};

static void *do_call(actor_t *self, void *arg, int *err)
{
	struct call *c = arg;
	if (self != NULL) {
		struct alloc_actor *s = actor_state(self);
		int rc = c->fn ? c->fn(s->core, actor_clock_now(), c->arg) : ALLOC_OK;
		if (c->fn == NULL) {
			run_pass(s);
		} else {
			maybe_schedule(self, s);
		}
		if (rc != ALLOC_OK)
			*err = rc;
	}
	free(c);
	return NULL;
}

actor_future *alloc_actor_dispatch(actor_pid pid, alloc_actor_fn fn, void *arg)
{
	struct call *c = malloc(sizeof(*c));
	if (c == NULL)
		return actor_future_failed(ALLOC_ENOMEM, "out of memory");
	c->fn = fn;
	c->arg = arg;
	return actor_dispatch(pid, do_call, c, NULL);
}

actor_future *alloc_actor_run_now(actor_pid pid)
{
	return alloc_actor_dispatch(pid, NULL, NULL);
}
