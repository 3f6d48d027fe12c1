/* driver_util.h — helpers shared by the scheduler and executor drivers (internal). */
#ifndef PX_DRIVER_UTIL_H
#define PX_DRIVER_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "actor/actor.h"
#include "plexus/driver_status.h"

/* Sends m to `to` with its message field `field` (a singular message field, e.g.
 * "framework_id") set to value for the duration of the send; m is left as it was. */
int px_pb_send_with(actor_t *self, actor_pid to, ProtobufCMessage *m, const char *field,
                    const ProtobufCMessage *value);

/* A random integer in [0, bound] (bound >= 0) from a thread-safe generator. */
int64_t px_random_upto(int64_t bound);

/* Seconds since the epoch (wall clock): the timestamp of a status update, which is a
 * date for people and frameworks, not a time for timers. */
double px_wall_time(void);

/* Whether the calling thread is running inside the actor pid. */
bool px_in_actor(actor_pid pid);

/* Runs fn(self, arg) inside the actor pid: at once when the calling thread is already
 * there; otherwise queued, and with wait, awaited when the caller is a plain thread
 * (not an actor, which must never block). fn runs exactly once, with self == NULL when
 * pid has ended (so it can release arg). */
void px_run_in(actor_pid pid, actor_fn fn, void *arg, bool wait);

/* A driver's join: blocks the calling plain thread until *status (guarded by mu,
 * signalled on cv) is no longer RUNNING, and returns it. Inside an actor it logs and
 * returns at once, since blocking there could wait forever for that very actor. who
 * names the driver in the log. */
enum px_driver_status px_driver_join(pthread_mutex_t *mu, pthread_cond_t *cv,
                                     const enum px_driver_status *status, const char *who);

/* px_driver_error's message: set (printf-style; also logged as an error) or cleared,
 * for the calling thread. */
void px_driver_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void px_driver_error_clear(void);

#endif
