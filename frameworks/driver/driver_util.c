/* driver_util.c — helpers shared by the drivers. */
#include "frameworks/driver/driver_util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "actor/future.h"
#include "actor/log.h"
#include "actor/pb.h"

int px_pb_send_with(actor_t *self, actor_pid to, ProtobufCMessage *m, const char *field,
                    const ProtobufCMessage *value)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, field);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    f->label == PROTOBUF_C_LABEL_REPEATED)
		return actor_send_pb(self, to, m);
	const ProtobufCMessage **slot = (const ProtobufCMessage **)((char *)m + f->offset);
	const ProtobufCMessage *saved = *slot;
	*slot = value;
	int rv = actor_send_pb(self, to, m);
	*slot = saved;
	return rv;
}

static pthread_mutex_t rng_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state;

int64_t px_random_upto(int64_t bound)
{
	if (bound <= 0)
		return 0;
	pthread_mutex_lock(&rng_mu);
	if (rng_state == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		rng_state = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
		            0x9e3779b97f4a7c15u;
	}
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	uint64_t r = rng_state * 2685821657736338717u;
	pthread_mutex_unlock(&rng_mu);
	return (int64_t)(r % ((uint64_t)bound + 1));
}

double px_wall_time(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool px_in_actor(actor_pid pid)
{
	actor_t *cur = actor_current();
	return cur != NULL && actor_pid_equal(actor_self(cur), pid);
}

struct run_in {
	actor_fn fn;
	void *arg;
};

static void *run_in_dispatch(actor_t *self, void *p, int *err)
{
	struct run_in *r = p;

	r->fn(self, r->arg);
	return NULL;
}

void px_run_in(actor_pid pid, actor_fn fn, void *arg, bool wait)
{
	if (px_in_actor(pid)) {
		fn(actor_current(), arg);
	} else if (wait && actor_current() == NULL) {
		/* On the stack: the await below outlives the dispatch that reads it. */
		struct run_in r = {fn, arg};
		actor_future *f = actor_dispatch(pid, run_in_dispatch, &r, NULL);
		actor_future_await(f, -1);
		actor_future_unref(f);
	} else {
		actor_call(pid, fn, arg);
	}
}

enum px_driver_status px_driver_join(pthread_mutex_t *mu, pthread_cond_t *cv,
                                     const enum px_driver_status *status, const char *who)
{
	enum px_driver_status s;

	pthread_mutex_lock(mu);
	if (actor_current() != NULL) {
		s = *status;
		pthread_mutex_unlock(mu);
		actor_error("%s: join called inside an actor; not waiting", who);
		return s;
	}
	while (*status == PX_DRIVER_RUNNING)
		pthread_cond_wait(cv, mu);
	s = *status;
	pthread_mutex_unlock(mu);
	return s;
}
