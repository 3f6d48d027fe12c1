/* filter.c — the test filter. The hot path is one acquire load of a pointer that is
 * NULL in production; only while a filter is installed do deliveries count themselves
 * in and out, so that installing a new filter can wait for calls of the old one. */
#include <sched.h>
#include <stdlib.h>

#include "core.h"

struct actor__filter {
	actor_filter_fn fn;
	void *arg;
};

_Atomic(void *) actor__filter_cur;
static _Atomic long actor__filter_inflight;
static pthread_mutex_t actor__filter_mu = PTHREAD_MUTEX_INITIALIZER;

actor_filter_verdict actor__filter_run(const actor_msg *m)
{
	actor_filter_verdict v = ACTOR_FILTER_PASS;
	struct actor__filter *f;

	atomic_fetch_add_explicit(&actor__filter_inflight, 1, memory_order_seq_cst);
	f = atomic_load_explicit(&actor__filter_cur, memory_order_seq_cst);
	if (f != NULL)
		v = f->fn(m, f->arg);
	atomic_fetch_sub_explicit(&actor__filter_inflight, 1, memory_order_release);
	return v;
}

void actor_filter_install(actor_filter_fn fn, void *arg)
{
	struct actor__filter *f = NULL, *old;

	if (fn != NULL) {
		f = malloc(sizeof(*f));
		if (f == NULL) {
			actor_error("out of memory installing a filter");
			return;
		}
		f->fn = fn;
		f->arg = arg;
	}
	pthread_mutex_lock(&actor__filter_mu);
	old = atomic_exchange_explicit(&actor__filter_cur, f, memory_order_seq_cst);
	while (atomic_load_explicit(&actor__filter_inflight, memory_order_seq_cst) != 0)
		sched_yield();
	pthread_mutex_unlock(&actor__filter_mu);
	free(old);
}
