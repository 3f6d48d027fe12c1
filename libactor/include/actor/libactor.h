/* libactor.h — everything public, in one include, except actor/pb.h (protobuf-c typed
 * handlers, library actor_pb / pkg-config libactor-pb), which is opt-in. */
#ifndef ACTOR_LIBACTOR_H
#define ACTOR_LIBACTOR_H

#include "actor/actor.h"
#include "actor/clock.h"
#include "actor/error.h"
#include "actor/filter.h"
#include "actor/future.h"
#include "actor/http.h"
#include "actor/log.h"
#include "actor/metrics.h"
#include "actor/pid.h"
#include "actor/reap.h"
#include "actor/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
