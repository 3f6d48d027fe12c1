/* filter.h — for tests: one process-wide filter sees every message before it is
 * delivered to a local actor and may drop it (libprocess's DROP_MESSAGE and
 * FUTURE_MESSAGE). Runs on the sending or receiving thread: keep it quick and
 * thread-safe. */
#ifndef ACTOR_FILTER_H
#define ACTOR_FILTER_H

#include "actor/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ACTOR_FILTER_PASS, ACTOR_FILTER_DROP } actor_filter_verdict;
typedef actor_filter_verdict (*actor_filter_fn)(const actor_msg *msg, void *arg);

/* Installs fn (NULL removes the filter). Returns once no old filter call is running. */
void actor_filter_install(actor_filter_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
