/* log.c — one line per event on stderr. The level is read from ACTOR_LOG once, on
 * first use, so the check in ACTOR_LOG() is a single relaxed load afterwards. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actor/log.h"

static _Atomic int actor__log_level = -1;

static int actor__log_level_from_env(void)
{
	const char *s = getenv("ACTOR_LOG");

	if (s == NULL || *s == '\0')
		return ACTOR_LOG_INFO;
	if (strcasecmp(s, "error") == 0)
		return ACTOR_LOG_ERROR;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return ACTOR_LOG_WARN;
	if (strcasecmp(s, "debug") == 0)
		return ACTOR_LOG_DEBUG;
	return ACTOR_LOG_INFO;
}

void actor_log_set_level(enum actor_log_level level)
{
	atomic_store_explicit(&actor__log_level, (int)level, memory_order_relaxed);
}

enum actor_log_level actor_log_get_level(void)
{
	int l = atomic_load_explicit(&actor__log_level, memory_order_relaxed);

	if (l < 0) {
		l = actor__log_level_from_env();
		atomic_store_explicit(&actor__log_level, l, memory_order_relaxed);
	}
	return (enum actor_log_level)l;
}

void actor_log_write(enum actor_log_level level, const char *file, int line, const char *fmt, ...)
{
	static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	char buf[1024];
	struct timespec ts;
	struct tm tm;
	const char *base = strrchr(file, '/');
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%s:%d] ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000,
		     names[(unsigned)level < 4 ? (unsigned)level : 3], base ? base + 1 : file, line);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf)) {
		va_start(ap, fmt);
		int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n >= sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write per line, so lines from several threads do not interleave. */
	fwrite(buf, 1, (size_t)n, stderr);
}
