/* clock.c — the runtime's clock: real monotonic time plus an offset, or frozen.
 *
 * Pausing freezes the value; advancing moves the frozen value and fires what became
 * due; resuming picks the offset so that time goes on from where it stood. */
#include <sched.h>
#include <time.h>

#include "core.h"

static struct {
	pthread_mutex_t lock;
	_Atomic int paused;
	_Atomic int64_t frozen;
	_Atomic int64_t offset;
} clk = {.lock = PTHREAD_MUTEX_INITIALIZER};

int64_t actor__real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void actor__clock_reset(void)
{
	pthread_mutex_lock(&clk.lock);
	atomic_store(&clk.paused, 0);
	atomic_store(&clk.offset, 0);
	atomic_store(&clk.frozen, 0);
	pthread_mutex_unlock(&clk.lock);
}

int64_t actor_clock_now(void)
{
	if (atomic_load_explicit(&clk.paused, memory_order_acquire))
		return atomic_load_explicit(&clk.frozen, memory_order_acquire);
	return actor__real_ms() + atomic_load_explicit(&clk.offset, memory_order_relaxed);
}

void actor_clock_pause(void)
{
	pthread_mutex_lock(&clk.lock);
	if (!atomic_load(&clk.paused)) {
		atomic_store(&clk.frozen, actor__real_ms() + atomic_load(&clk.offset));
		atomic_store(&clk.paused, 1);
	}
	pthread_mutex_unlock(&clk.lock);
	actor__timers_kick();
}

void actor_clock_advance(int64_t ms)
{
	if (ms < 0)
		ms = 0;
	pthread_mutex_lock(&clk.lock);
	if (atomic_load(&clk.paused))
		atomic_fetch_add(&clk.frozen, ms);
	else
		atomic_fetch_add(&clk.offset, ms);
	pthread_mutex_unlock(&clk.lock);
	actor__timers_fire_due();
	actor__timers_kick();
}

void actor_clock_resume(void)
{
	pthread_mutex_lock(&clk.lock);
	if (atomic_load(&clk.paused)) {
		atomic_store(&clk.offset, atomic_load(&clk.frozen) - actor__real_ms());
		atomic_store(&clk.paused, 0);
	}
	pthread_mutex_unlock(&clk.lock);
	actor__timers_kick();
}

int actor_clock_paused(void)
{
	return atomic_load_explicit(&clk.paused, memory_order_acquire);
}

void actor_clock_settle(void)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 20000};

	for (;;) {
		actor__timers_fire_due();
		if (!actor__timers_due() && actor__sched_quiet())
			return;
		nanosleep(&pause, NULL);
	}
}
