/* allocator_actor.h — the allocator as a libactor actor: the master talks to it by
 * dispatch, and it hands offers back through a callback given at spawn (as Mesos's
 * allocator calls the master's offer callback).
 *
 * It runs a pass every allocation_interval_ms of the runtime's clock, and also soon
 * after any call that may have freed resources or changed who should get them (a
 * recovered offer, an added agent, a revive ...): such events arm one timer of
 * batch_ms, so a burst of events costs one pass. All time is the runtime's clock
 * (actor_clock_now, actor_delay), so a paused clock drives it deterministically. */
#ifndef PLEXUS_ALLOCATOR_ACTOR_H
#define PLEXUS_ALLOCATOR_ACTOR_H

#include <stdint.h>

#include "actor/future.h"
#include "actor/pid.h"
#include "allocator.h"

/* Receives the offers of one pass (at least one offer). Runs inside the allocator
 * actor; the batch is the callee's to free with alloc_offers_free(). */
typedef void (*alloc_offer_cb)(alloc_offers *batch, void *arg);

typedef struct alloc_actor_config {
	int64_t allocation_interval_ms; /* 1000 */
	int64_t batch_ms;               /* 1: events this close share one pass */
	alloc_config core;              /* see allocator.h */
	alloc_offer_cb offer_cb;        /* required */
	void *offer_arg;
	/* Called with offer_arg when the actor ends (NULL: offer_arg stays the caller's).
	 * This is how a callback's state, such as the PID offers go to, lives exactly as long
	 * as the actor that uses it. */
	void (*offer_arg_free)(void *offer_arg);
} alloc_actor_config;

/* Fills cfg with the defaults above (offer_cb NULL). */
void alloc_actor_config_default(alloc_actor_config *cfg);

/* Spawns the allocator actor (id "allocator") in the running runtime. cfg is copied; on
 * success the actor owns cfg->offer_arg when offer_arg_free is set. The PID goes to *out
 * (may be NULL). Every pass is timed under allocator/mesos/allocation_run_ms (report.h).
 * Returns 0, ALLOC_EINVAL without offer_cb, or a libactor error code from actor_spawn; on
 * error nothing runs and offer_arg stays the caller's. */
int alloc_actor_spawn(const alloc_actor_config *cfg, actor_pid *out);

/* A call run inside the allocator actor with its core and the runtime's time. It
 * returns an alloc_err; it must not keep core. */
typedef int (*alloc_actor_fn)(alloc_core *core, int64_t now_ms, void *arg);

/* Runs fn(core, now, arg) inside the allocator actor. The future (new reference)
 * becomes READY (no value) when fn returns 0, FAILED with fn's alloc_err otherwise,
 * FAILED with ACTOR_ENOENT if the actor is gone (then fn does not run). arg stays the
 * caller's. If fn changed something that frees resources, a pass follows within
 * batch_ms. */
actor_future *alloc_actor_dispatch(actor_pid pid, alloc_actor_fn fn, void *arg);

/* Runs a pass now (e.g. for the master's /allocator endpoint or tests). */
actor_future *alloc_actor_run_now(actor_pid pid);

#endif
