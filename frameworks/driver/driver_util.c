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

ProtobufCMessage *px_pb_copy(const ProtobufCMessage *m)
{
	if (m == NULL)
		return NULL;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t small[512];
	uint8_t *buf = len <= sizeof(small) ? small : malloc(len);
	if (buf == NULL)
		return NULL;
	protobuf_c_message_pack(m, buf);
	ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	if (buf != small)
		free(buf);
	return copy;
}

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

void px_uuid_bytes(uint8_t out[16])
{
	size_t got = 0;
	while (got < 16) {
		ssize_t n = getrandom(out + got, 16 - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No entropy source: fall back on the generator below. */
			for (; got < 16; got++)
				out[got] = (uint8_t)px_random_upto(255);
			break;
		}
		got += (size_t)n;
	}
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

void px_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
	         u[13], u[14], u[15]);
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

bool px_parse_duration_ms(const char *text, int64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
	    {"ns", 1e-6},  {"us", 1e-3},      {"ms", 1},        {"secs", 1000},      {"sec", 1000},
	    {"s", 1000},   {"mins", 60e3},    {"min", 60e3},    {"hrs", 3600e3},     {"hr", 3600e3},
	    {"h", 3600e3}, {"days", 86400e3}, {"day", 86400e3}, {"weeks", 604800e3},
	};
	if (text == NULL || *text == '\0')
		return false;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end == text || errno != 0 || !isfinite(v) || v < 0)
		return false;
	double scale = 1000;
	if (*end != '\0') {
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].unit) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return false;
		scale = units[i].ms;
	}
	double total = v * scale;
	if (total > 9.2e18)
		return false;
	*ms = (int64_t)total;
	return true;
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
