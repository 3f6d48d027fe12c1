/* pageviews_gen.h — the URL of each generated page view, a pure function of its id so
 * that a test can compute the reference counts. */
#ifndef STM_PAGEVIEWS_GEN_H
#define STM_PAGEVIEWS_GEN_H

#include <stdint.h>

/* The URL index (0 .. urls-1) of event id: a skewed choice, low URLs more popular. */
static inline int pv_url(uint64_t id, int urls)
{
	uint64_t x = (id + 1) * 0x9E3779B97F4A7C15ULL;
	x ^= x >> 31;
	int a = (int)(x % (uint64_t)urls), b = (int)((x >> 20) % (uint64_t)urls);
	return a < b ? a : b;
}

#endif
