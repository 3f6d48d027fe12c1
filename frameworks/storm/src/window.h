/* window.h — windowed bolts (stm_window_def): the tuples a window task holds and when
 * its windows fire, as Storm's WindowedBoltExecutor. Used by the executor only. */
#ifndef STM_WINDOW_H
#define STM_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "storm/storm.h"

struct stm_window {
	const stm_window_def *def;
	stm_tuple **items; /* kept copies, oldest first, from head */
	size_t head, count, cap;
	int64_t since_fire; /* count windows: tuples since the last fire */
	int64_t end;        /* time windows: the end of the last window fired (ms) */
};

/* Adds a received tuple (kept: the window acks it when it leaves), firing a count
 * window when its slide is reached. */
void stm_window_add(struct stm_window *w, stm_ctx *c, void *state, const stm_tuple *t,
                    int64_t now_ms);
/* A time window's slide: fires the window that ends one slide after the last one
 * (at now on the first call), with the tuples of (end - length, end], then acks the
 * tuples the next window will not hold. Windows end on a fixed schedule whatever the
 * timer's lateness, so no tuple falls between two windows. Returns the ms until the
 * next window ends. */
int64_t stm_window_slide(struct stm_window *w, stm_ctx *c, void *state, int64_t now_ms);
/* Frees the tuples held (not acked: they time out and are replayed). */
void stm_window_fini(struct stm_window *w);

#endif
