/* mar_events.h — the /v2/events subscribers (mar_event itself is in mar_state.h). */
#ifndef MAR_EVENTS_H
#define MAR_EVENTS_H

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

struct mar_state;

/* Adds a subscriber on conn, whose response headers are written (the marathon actor's
 * state is `state`); takes conn over. Inside the actor. */
void mar_events_subscribe(void *state, nng_http_conn *conn);

/* Closes and frees every subscriber (when the scheduler stops). */
void mar_events_fini(struct mar_state *st);

#endif
