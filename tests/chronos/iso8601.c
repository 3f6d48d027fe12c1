/* iso8601.c — Chronos's ISO 8601: durations, instants, repeating intervals, calendar
 * arithmetic in a time zone, and the errors that bad text gets. No cluster. */
#include <criterion/criterion.h>
#include <string.h>

#include "chr_iso8601.h"

#define H     (3600 * 1000LL)
#define D     (24 * H)
#define T2026 1767225600000LL /* 2026-01-01T00:00:00Z */

static chr_period period(const char *text)
{
	chr_period p;
	char err[256];
	cr_assert(chr_period_parse(text, &p, err, sizeof(err)), "%s: %s", text, err);
	return p;
}

static int64_t at(const char *text)
{
	int64_t ms;
	char err[256];
	cr_assert(chr_time_parse(text, &ms, NULL, err, sizeof(err)), "%s: %s", text, err);
	return ms;
}

Test(iso8601, durations_keep_every_part)
{
	chr_period p = period("P1Y2M3W4DT5H6M7.5S");
	cr_assert_eq(p.years, 1);
	cr_assert_eq(p.months, 2);
	cr_assert_eq(p.weeks, 3);
	cr_assert_eq(p.days, 4);
	cr_assert_eq(p.hours, 5);
	cr_assert_eq(p.minutes, 6);
	cr_assert_eq(p.millis, 7500);
	cr_assert_eq(period("PT10M").minutes, 10, "M after T is minutes");
	cr_assert_eq(period("P10M").months, 10, "M before T is months");
	cr_assert_eq(chr_period_approx_ms(&(chr_period){.hours = 1, .minutes = 30}), 90 * 60000);
	char buf[64];
	cr_assert_str_eq(chr_period_format(&p, buf, sizeof(buf)), "P1Y2M3W4DT5H6M7.500S");
	p = period("PT1H");
	cr_assert_str_eq(chr_period_format(&p, buf, sizeof(buf)), "PT1H");
	p = period("P1D");
	cr_assert_str_eq(chr_period_format(&p, buf, sizeof(buf)), "P1D");
}

Test(iso8601, bad_durations_say_why)
{
	const char *bad[][2] = {
	    {"1H", "must start with 'P'"},
	    {"P", "has no parts"},
	    {"PT", "nothing after 'T'"},
	    {"PT1X", "unknown unit"},
	    {"P1H", "belongs after 'T'"},
	    {"PT1D", "belongs before 'T'"},
	    {"PT1M1H", "out of order"},
	    {"P1.5D", "only seconds"},
	    {"PTH", "expected a number"},
	    {"P1DT1H1H", "out of order or repeated"},
	    {"PT9999999999S", "expected a number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chr_period p;
		char err[256] = "";
		cr_assert_not(chr_period_parse(bad[i][0], &p, err, sizeof(err)), "%s parsed",
		              bad[i][0]);
		cr_assert_not_null(strstr(err, bad[i][1]), "%s: '%s' lacks '%s'", bad[i][0], err,
		                   bad[i][1]);
	}
}

Test(iso8601, instants_with_fractions_and_offsets)
{
	cr_assert_eq(at("2026-01-01T00:00:00Z"), T2026);
	cr_assert_eq(at("2026-01-01T00:00:00.250Z"), T2026 + 250);
	cr_assert_eq(at("2026-01-01T01:00:00+01:00"), T2026);
	cr_assert_eq(at("2025-12-31T19:00:00-05:00"), T2026);
	cr_assert_eq(at("2026-01-01T00:00"), T2026, "seconds and designator may be left out");
	char buf[40];
	cr_assert_str_eq(chr_time_format(T2026 + 1500, buf, sizeof(buf)),
	                 "2026-01-01T00:00:01.500Z");
	const char *bad[] = {"2026-13-01T00:00:00Z",
	                     "2026-02-30T00:00:00Z",
	                     "2026-01-01",
	                     "2026-01-01T24:00:00Z",
	                     "2026-01-01T00:00:00Q",
	                     "yesterday",
	                     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms;
		char err[256] = "";
		cr_assert_not(chr_time_parse(bad[i], &ms, NULL, err, sizeof(err)), "%s parsed",
		              bad[i]);
		cr_assert_neq(err[0], '\0');
	}
}

Test(iso8601, schedules_parse_step_and_print_as_chronos_does)
{
	chr_schedule s;
	char err[256], buf[128];
	cr_assert(chr_schedule_parse("R5/2026-01-01T00:00:00Z/PT1H", 0, &s, err, sizeof(err)));
	cr_assert_eq(s.repeat, 5);
	cr_assert_eq(s.start_ms, T2026);
	chr_schedule_step(&s, NULL);
	cr_assert_str_eq(chr_schedule_format(&s, buf, sizeof(buf)),
	                 "R4/2026-01-01T01:00:00.000Z/PT1H");
	for (int i = 0; i < 10; i++)
		chr_schedule_step(&s, NULL);
	cr_assert_eq(s.repeat, 0, "a finite schedule stops at R0");
	cr_assert_eq(s.start_ms, T2026 + 5 * H, "and moves no further");

	cr_assert(chr_schedule_parse("R/2026-01-01T00:00:00Z/P1W", 0, &s, err, sizeof(err)));
	cr_assert_eq(s.repeat, -1);
	chr_schedule_step(&s, NULL);
	cr_assert_eq(s.start_ms, T2026 + 7 * D);
	cr_assert_str_eq(chr_schedule_format(&s, buf, sizeof(buf)),
	                 "R/2026-01-08T00:00:00.000Z/P1W");

	cr_assert(chr_schedule_parse("R//PT30M", 12345, &s, err, sizeof(err)));
	cr_assert_eq(s.start_ms, 12345, "an empty start is now");
}

Test(iso8601, bad_schedules_say_which_part)
{
	const char *bad[][2] = {
	    {"", "empty"},
	    {"2026-01-01T00:00:00Z/PT1H", "three parts"},
	    {"R/2026-01-01T00:00:00Z", "three parts"},
	    {"X/2026-01-01T00:00:00Z/PT1H", "three parts"},
	    {"Rx/2026-01-01T00:00:00Z/PT1H", "repetitions"},
	    {"R-1/2026-01-01T00:00:00Z/PT1H", "repetitions"},
	    {"R/2026-01-32T00:00:00Z/PT1H", "not a valid date"},
	    {"R/tomorrow/PT1H", "not ISO 8601"},
	    {"R/2026-01-01T00:00:00Z/1H", "must start with 'P'"},
	    {"R/2026-01-01T00:00:00Z/PT0S", "zero period cannot repeat"},
	    {"R/2026-01-01T00:00:00Z/PT1H/extra", "three parts"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chr_schedule s;
		char err[256] = "";
		cr_assert_not(chr_schedule_parse(bad[i][0], 0, &s, err, sizeof(err)), "'%s' parsed",
		              bad[i][0]);
		cr_assert_not_null(strstr(err, bad[i][1]), "'%s': '%s' lacks '%s'", bad[i][0], err,
		                   bad[i][1]);
	}
}

Test(iso8601, calendar_parts_fall_on_the_wall_clock)
{
	/* A month after Jan 31 is the last day of February; a year after Feb 29 is Feb 28. */
	cr_assert_eq(chr_time_add(at("2026-01-31T10:00:00Z"), &(chr_period){.months = 1}, NULL, 0),
	             at("2026-02-28T10:00:00Z"));
	cr_assert_eq(chr_time_add(at("2028-02-29T10:00:00Z"), &(chr_period){.years = 1}, NULL, 0),
	             at("2029-02-28T10:00:00Z"));
	cr_assert_eq(chr_time_add(at("2026-12-15T00:00:00Z"), &(chr_period){.months = 2}, NULL, 0),
	             at("2027-02-15T00:00:00Z"));
	/* Across Berlin's spring change (2026-03-29): a day keeps 09:00 local, an hour is
	 * an hour of real time. */
	int64_t nine_cet = at("2026-03-28T08:00:00Z");
	cr_assert_eq(chr_time_add(nine_cet, &(chr_period){.days = 1}, "Europe/Berlin", 0),
	             at("2026-03-29T07:00:00Z"));
	cr_assert_eq(chr_time_add(nine_cet, &(chr_period){.hours = 24}, "Europe/Berlin", 0),
	             at("2026-03-29T08:00:00Z"));
	/* A fixed offset moves a month boundary as its wall clock does. */
	cr_assert_eq(
	    chr_time_add(at("2026-01-31T23:30:00-02:00"), &(chr_period){.months = 1}, NULL, -120),
	    at("2026-02-28T23:30:00-02:00"));
	/* The zone's wall-clock reading: 09:00 "Z" read in Berlin in winter is 08:00Z. */
	cr_assert_eq(chr_time_in_zone(at("2026-03-28T09:00:00Z"), "Europe/Berlin"), nine_cet);
	cr_assert(chr_tz_valid("Europe/Berlin"));
	cr_assert(chr_tz_valid("UTC"));
	cr_assert_not(chr_tz_valid("Mars/Olympus"));
	cr_assert_not(chr_tz_valid("../etc/passwd"));
	cr_assert_not(chr_tz_valid(""));
}
