/* log.h — one line per event on stderr: "time level [file:line] text".
 * The level comes from the ACTOR_LOG environment variable (error, warn, info, debug;
 * default info) or actor_log_set_level(). */
#ifndef ACTOR_LOG_H
#define ACTOR_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum actor_log_level { ACTOR_LOG_ERROR, ACTOR_LOG_WARN, ACTOR_LOG_INFO, ACTOR_LOG_DEBUG };

void actor_log_set_level(enum actor_log_level level);
enum actor_log_level actor_log_get_level(void);
void actor_log_write(enum actor_log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ACTOR_LOG(level, ...)                                                  \
	do {                                                                   \
		if ((level) <= actor_log_get_level())                          \
			actor_log_write((level), __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)
#define actor_error(...) ACTOR_LOG(ACTOR_LOG_ERROR, __VA_ARGS__)
#define actor_warn(...) ACTOR_LOG(ACTOR_LOG_WARN, __VA_ARGS__)
#define actor_info(...) ACTOR_LOG(ACTOR_LOG_INFO, __VA_ARGS__)
#define actor_debug(...) ACTOR_LOG(ACTOR_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
