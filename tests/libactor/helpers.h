/* helpers.h — shared by the libactor tests: a counter that test threads can wait on. */
#ifndef TESTS_LIBACTOR_HELPERS_H
#define TESTS_LIBACTOR_HELPERS_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <criterion/criterion.h>

#include "actor/libactor.h"

struct latch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long count;
};

static inline void latch_init(struct latch *l)
{
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->count = 0;
}

static inline void latch_add(struct latch *l, long n)
{
	pthread_mutex_lock(&l->mu);
	l->count += n;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static inline long latch_get(struct latch *l)
{
	pthread_mutex_lock(&l->mu);
	long n = l->count;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* Waits (real time, at most ms) until the count reaches n. */
static inline bool latch_wait(struct latch *l, long n, long ms)
{
	struct timespec d;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &d);
	d.tv_sec += ms / 1000;
	d.tv_nsec += (ms % 1000) * 1000000L;
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	while (l->count < n) {
		if (pthread_cond_timedwait(&l->cv, &l->mu, &d) == ETIMEDOUT) {
			ok = l->count >= n;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

static inline void rt_start(int workers)
{
	actor_config cfg;

	actor_config_default(&cfg);
	cfg.workers = workers;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
}

#endif
