/* chr_iso8601.h — ISO 8601 as Chronos reads it: instants, durations and repeating
 * intervals ("R5/2026-01-01T00:00:00Z/PT1H").
 *
 * Times are milliseconds since the Unix epoch (UTC). A duration keeps its calendar
 * parts (years, months, weeks, days) apart from its clock parts (hours, minutes,
 * seconds): calendar parts are added on the wall clock of a time zone (a month after
 * Jan 31 is Feb 28; a day after 18:00 stays 18:00 across a DST change), clock parts
 * to the instant, as Joda-Time (Chronos's library) adds a Period to a DateTime. */
#ifndef CHR_ISO8601_H
#define CHR_ISO8601_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct chr_period {
	int64_t years, months, weeks, days; /* calendar parts */
	int64_t hours, minutes;
	int64_t millis; /* the seconds part, with its fraction, in milliseconds */
} chr_period;

/* Parses a duration "P[nY][nM][nW][nD][T[nH][nM][n[.f]S]]" (at least one part; a
 * fraction only on seconds). false, with err saying what is wrong, otherwise. */
bool chr_period_parse(const char *text, chr_period *out, char *err, size_t errlen);

/* Writes p in the same form ("PT1H", "P1DT12H", "PT0S" for zero). Returns out. */
char *chr_period_format(const chr_period *p, char *out, size_t size);

/* Whether p is zero (every part 0). */
bool chr_period_is_zero(const chr_period *p);

/* p as a fixed length, for epsilons: a day is 24 hours, a week 7 days, a month 30
 * days, a year 365 days. */
int64_t chr_period_approx_ms(const chr_period *p);

/* Parses "YYYY-MM-DDThh:mm[:ss[.s+]][Z|±hh[:mm]]" (no designator: UTC) into *ms and
 * the designator's offset from UTC in minutes into *offset_min (may be NULL). */
bool chr_time_parse(const char *text, int64_t *ms, int *offset_min, char *err, size_t errlen);

/* Writes ms as "YYYY-MM-DDThh:mm:ss.sssZ". Returns out (size >= 32 always fits). */
char *chr_time_format(int64_t ms, char *out, size_t size);

/* Whether zone names a time zone of the system's tz database ("Europe/Berlin",
 * "UTC"): a file under /usr/share/zoneinfo, with no ".." in the name. */
bool chr_tz_valid(const char *zone);

/* ms + p: calendar parts on the wall clock of zone (a tz database name) or, when zone
 * is NULL or "", of the fixed offset offset_min; clock parts added to the instant. */
int64_t chr_time_add(int64_t ms, const chr_period *p, const char *zone, int offset_min);

/* The instant whose wall-clock reading in zone is what ms reads in UTC: how a
 * scheduleTimeZone takes precedence over the designator of a schedule's start. */
int64_t chr_time_in_zone(int64_t ms, const char *zone);

/* A repeating interval: `repeat` more runs (-1: forever) from `start_ms`, one every
 * `period`. */
typedef struct chr_schedule {
	int64_t repeat;
	int64_t start_ms;
	int offset_min; /* the start's designator, kept to write it back */
	chr_period period;
} chr_schedule;

/* Parses "R[n]/[start]/period". An empty start means now_ms. The period must not be
 * zero unless the schedule runs once at most (R0 or R1). err says which part is
 * wrong. */
bool chr_schedule_parse(const char *text, int64_t now_ms, chr_schedule *out, char *err,
                        size_t errlen);

/* Writes s as Chronos shows it: "R4/2026-01-01T01:00:00.000Z/PT1H" ("R/..." forever). */
char *chr_schedule_format(const chr_schedule *s, char *out, size_t size);

/* Moves s one run on: start advances by its period (in zone, see chr_time_add) and a
 * finite repeat count drops by one. Does nothing when no run is left. */
void chr_schedule_step(chr_schedule *s, const char *zone);

#endif
