/* clock.h — the runtime's clock. All time in libactor comes from here, so tests can
 * pause it and move it by hand: timeouts become instant and deterministic. */
#ifndef ACTOR_CLOCK_H
#define ACTOR_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds on the runtime's monotonic clock (frozen while paused). */
int64_t actor_clock_now(void);

void actor_clock_pause(void);
/* Moves a paused clock forward; timers that become due fire (inside their actors). */
void actor_clock_advance(int64_t ms);
/* Returns once no actor has work queued or running and no timer is due. */
void actor_clock_settle(void);
/* Lets the clock run with real time again, from where it was. */
void actor_clock_resume(void);
int actor_clock_paused(void);

#ifdef __cplusplus
}
#endif

#endif
