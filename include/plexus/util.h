/* util.h — durations and UUIDs, as the rest of Plexus reads and writes them. */
#ifndef PLEXUS_UTIL_H
#define PLEXUS_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a duration with Mesos's units — "ns", "us", "ms", "secs", "mins", "hrs",
 * "days", "weeks" (and the singulars "sec", "min", "hr", "day", "week") — or a bare
 * number of seconds: "15mins", "1days", "0.5secs", "30". Into whole milliseconds
 * (rounded down; a positive duration below 1 ms gives 0). false for anything else
 * (negative, not finite, an unknown unit, too large). Every flag and environment
 * variable of Plexus that takes a duration uses this parser. */
bool px_duration_parse(const char *text, int64_t *ms);

/* Writes ms as Mesos does ("15secs", "1mins", "500ms", "2days"): the largest unit
 * that divides it exactly. Returns out. size >= 32 is always enough. */
char *px_duration_format(int64_t ms, char *out, unsigned size);

/* 16 random bytes forming a version 4 UUID (a thread-safe source). */
void px_uuid_random(uint8_t out[16]);

/* Its text form, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (37 bytes with the NUL). */
void px_uuid_format(const uint8_t uuid[16], char out[37]);

#ifdef __cplusplus
}
#endif

#endif
