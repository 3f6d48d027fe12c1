/* chr_iso8601.c — see chr_iso8601.h.
 *
 * Time zone arithmetic goes through the C library (mktime/localtime_r) with TZ set to
 * the job's zone for the length of one call, under a mutex: glibc has no per-call
 * zone. Nothing else in the process reads local time (the log writes UTC), so the
 * brief switch is invisible elsewhere. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chr_iso8601.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Reads a non-negative decimal number of at most 9 digits at *p. */
static bool read_number(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;
	int n = 0;
	while (isdigit((unsigned char)*s)) {
		if (++n > 9)
			return false;
		v = v * 10 + (*s++ - '0');
	}
	if (n == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

bool chr_period_parse(const char *text, chr_period *out, char *err, size_t errlen)
{
	chr_period p = {0};
	const char *s = text;
	bool in_time = false, any = false;
	int last_rank = -1; /* parts must come in order, each at most once */

	if (s == NULL || *s != 'P') {
		set_err(err, errlen, "duration '%s' must start with 'P' (as PT1H or P1D)",
		        text ? text : "");
		return false;
	}
	s++;
	while (*s != '\0') {
		if (*s == 'T') {
			if (in_time) {
				set_err(err, errlen, "duration '%s' has two 'T's", text);
				return false;
			}
			in_time = true;
			s++;
			if (*s == '\0') {
				set_err(err, errlen, "duration '%s' has nothing after 'T'", text);
				return false;
			}
			continue;
		}
		int64_t v, frac = 0;
		int frac_digits = 0;
		if (!read_number(&s, &v)) {
			set_err(err, errlen, "duration '%s': expected a number at '%s'", text, s);
			return false;
		}
		if (*s == '.' || *s == ',') {
			s++;
			while (isdigit((unsigned char)*s)) {
				if (frac_digits < 3) {
					frac = frac * 10 + (*s - '0');
					frac_digits++;
				}
				s++;
			}
			if (frac_digits == 0 || *s != 'S' || !in_time) {
				set_err(err, errlen,
				        "duration '%s': only seconds may have a fraction", text);
				return false;
			}
			while (frac_digits++ < 3)
				frac *= 10;
		}
		int rank;
		int64_t *slot;
		switch (*s) {
		case 'Y':
			rank = 0, slot = &p.years;
			break;
		case 'M':
			rank = in_time ? 5 : 1, slot = in_time ? &p.minutes : &p.months;
			break;
		case 'W':
			rank = 2, slot = &p.weeks;
			break;
		case 'D':
			rank = 3, slot = &p.days;
			break;
		case 'H':
			rank = 4, slot = &p.hours;
			break;
		case 'S':
			rank = 6, slot = &p.millis;
			break;
		default:
			set_err(err, errlen,
			        "duration '%s': unknown unit at '%s' (use Y M W D, and "
			        "H M S after T)",
			        text, s);
			return false;
		}
		if ((rank <= 3) == in_time) {
			set_err(err, errlen, "duration '%s': '%c' belongs %s 'T'", text, *s,
			        in_time ? "before" : "after");
			return false;
		}
		if (rank <= last_rank) {
			set_err(err, errlen, "duration '%s': '%c' is out of order or repeated",
			        text, *s);
			return false;
		}
		last_rank = rank;
		*slot = rank == 6 ? v * 1000 + frac : v;
		any = true;
		s++;
	}
	if (!any) {
		set_err(err, errlen, "duration '%s' has no parts", text);
		return false;
	}
	*out = p;
	return true;
}

char *chr_period_format(const chr_period *p, char *out, size_t size)
{
	size_t n = 0;
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int w = snprintf(out + n, n < size ? size - n : 0, __VA_ARGS__);                   \
		if (w > 0)                                                                         \
			n += (size_t)w;                                                            \
	} while (0)
	PUT("P");
	if (p->years)
		PUT("%lldY", (long long)p->years);
	if (p->months)
		PUT("%lldM", (long long)p->months);
	if (p->weeks)
		PUT("%lldW", (long long)p->weeks);
	if (p->days)
		PUT("%lldD", (long long)p->days);
	if (p->hours || p->minutes || p->millis || chr_period_is_zero(p)) {
		PUT("T");
		if (p->hours)
			PUT("%lldH", (long long)p->hours);
		if (p->minutes)
			PUT("%lldM", (long long)p->minutes);
		if (p->millis % 1000)
			PUT("%lld.%03lldS", (long long)(p->millis / 1000),
			    (long long)(p->millis % 1000));
		else if (p->millis || chr_period_is_zero(p))
			PUT("%lldS", (long long)(p->millis / 1000));
	}
#undef PUT
	return out;
}

bool chr_period_is_zero(const chr_period *p)
{
	return !p->years && !p->months && !p->weeks && !p->days && !p->hours && !p->minutes &&
	       !p->millis;
}

int64_t chr_period_approx_ms(const chr_period *p)
{
	const int64_t day = 86400000;
	return p->years * 365 * day + p->months * 30 * day + p->weeks * 7 * day + p->days * day +
	       p->hours * 3600000 + p->minutes * 60000 + p->millis;
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m /* 1..12 */)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

bool chr_time_parse(const char *text, int64_t *ms, int *offset_min, char *err, size_t errlen)
{
	const char *s = text;
	int y, mo, d, h, mi, sec = 0, millis = 0, off = 0;

	if (s == NULL || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
	    !digits(&s, 2, &d) || *s++ != 'T' || !digits(&s, 2, &h) || *s++ != ':' ||
	    !digits(&s, 2, &mi))
		goto bad;
	if (*s == ':') {
		s++;
		if (!digits(&s, 2, &sec))
			goto bad;
		if (*s == '.' || *s == ',') {
			s++;
			int n = 0;
			while (isdigit((unsigned char)*s)) {
				if (n < 3)
					millis = millis * 10 + (*s - '0');
				n++, s++;
			}
			if (n == 0)
				goto bad;
			for (; n < 3; n++)
				millis *= 10;
		}
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om = 0;
		if (!digits(&s, 2, &oh))
			goto bad;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char)*s) && !digits(&s, 2, &om))
			goto bad;
		if (oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 60 + om);
	}
	if (*s != '\0')
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59) {
		set_err(err, errlen, "time '%s' is not a valid date and time", text);
		return false;
	}
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = sec};
	*ms = ((int64_t)timegm(&tm) - (int64_t)off * 60) * 1000 + millis;
	if (offset_min != NULL)
		*offset_min = off;
	return true;
bad:
	set_err(err, errlen, "time '%s' is not ISO 8601 (as 2026-01-01T00:00:00Z)",
	        text ? text : "");
	return false;
}

char *chr_time_format(int64_t ms, char *out, size_t size)
{
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int millis = (int)(ms - secs * 1000);
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
	return out;
}

bool chr_tz_valid(const char *zone)
{
	if (zone == NULL || *zone == '\0' || strstr(zone, "..") != NULL || zone[0] == '/' ||
	    strlen(zone) > 64)
		return false;
	for (const char *p = zone; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return false;
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Adds the calendar parts to broken-down wall-clock time, clamping the day to the
 * length of the month it lands in (Jan 31 + 1 month = Feb 28). */
static void add_calendar(struct tm *tm, const chr_period *p)
{
	int64_t total = (int64_t)(tm->tm_year + 1900) * 12 + tm->tm_mon + p->months + 12 * p->years;
	int64_t year = total / 12;
	int mon = (int)(total % 12);
	if (year > 9999)
		year = 9999;
	tm->tm_year = (int)(year - 1900);
	tm->tm_mon = mon;
	if (tm->tm_mday > month_days((int)year, mon + 1))
		tm->tm_mday = month_days((int)year, mon + 1);
	tm->tm_mday += (int)(p->weeks * 7 + p->days);
}

int64_t chr_time_add(int64_t ms, const chr_period *p, const char *zone, int offset_min)
{
	int64_t clock_ms = p->hours * 3600000 + p->minutes * 60000 + p->millis;
	if (!p->years && !p->months && !p->weeks && !p->days)
		return ms + clock_ms;

	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t frac = ms - secs * 1000;
	struct tm tm;
	time_t t;
	if (zone == NULL || *zone == '\0') {
		t = (time_t)(secs + (int64_t)offset_min * 60);
		gmtime_r(&t, &tm);
		add_calendar(&tm, p);
		secs = (int64_t)timegm(&tm) - (int64_t)offset_min * 60;
	} else {
		pthread_mutex_lock(&tz_lock);
		char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
		setenv("TZ", zone, 1);
		tzset();
		t = (time_t)secs;
		localtime_r(&t, &tm);
		add_calendar(&tm, p);
		tm.tm_isdst = -1; /* the zone says whether DST holds on the new date */
		secs = (int64_t)mktime(&tm);
		if (old != NULL)
			setenv("TZ", old, 1);
		else
			unsetenv("TZ");
		tzset();
		pthread_mutex_unlock(&tz_lock);
		free(old);
	}
	return secs * 1000 + frac + clock_ms;
}

int64_t chr_time_in_zone(int64_t ms, const char *zone)
{
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t frac = ms - secs * 1000;
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	pthread_mutex_lock(&tz_lock);
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", zone, 1);
	tzset();
	tm.tm_isdst = -1;
	secs = (int64_t)mktime(&tm);
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&tz_lock);
	free(old);
	return secs * 1000 + frac;
}

bool chr_schedule_parse(const char *text, int64_t now_ms, chr_schedule *out, char *err,
                        size_t errlen)
{
	chr_schedule s = {.repeat = -1};
	char buf[256];

	if (text == NULL || *text == '\0') {
		set_err(err, errlen,
		        "schedule is empty (expected R[n]/start/period, as "
		        "R/2026-01-01T00:00:00Z/PT1H)");
		return false;
	}
	if (strlen(text) >= sizeof(buf)) {
		set_err(err, errlen, "schedule is too long");
		return false;
	}
	strcpy(buf, text);
	char *start = strchr(buf, '/');
	char *period = start ? strchr(start + 1, '/') : NULL;
	if (buf[0] != 'R' || start == NULL || period == NULL || strchr(period + 1, '/') != NULL) {
		set_err(err, errlen,
		        "schedule '%s' must have three parts R[n]/start/period (as "
		        "R/2026-01-01T00:00:00Z/PT1H)",
		        text);
		return false;
	}
	*start++ = '\0';
	*period++ = '\0';
	if (buf[1] != '\0') {
		const char *p = buf + 1;
		if (!read_number(&p, &s.repeat) || *p != '\0') {
			set_err(err, errlen,
			        "schedule '%s': repetitions '%s' must be R or Rn with n "
			        "a whole number",
			        text, buf);
			return false;
		}
	}
	if (*start == '\0') {
		s.start_ms = now_ms;
	} else if (!chr_time_parse(start, &s.start_ms, &s.offset_min, err, errlen)) {
		return false;
	}
	char perr[192];
	if (!chr_period_parse(period, &s.period, perr, sizeof(perr))) {
		set_err(err, errlen, "schedule '%s': %s", text, perr);
		return false;
	}
	if (chr_period_is_zero(&s.period) && (s.repeat < 0 || s.repeat > 1)) {
		set_err(err, errlen, "schedule '%s': a zero period cannot repeat", text);
		return false;
	}
	*out = s;
	return true;
}

char *chr_schedule_format(const chr_schedule *s, char *out, size_t size)
{
	char when[40], period[96];
	chr_time_format(s->start_ms, when, sizeof(when));
	chr_period_format(&s->period, period, sizeof(period));
	if (s->repeat < 0)
		snprintf(out, size, "R/%s/%s", when, period);
	else
		snprintf(out, size, "R%lld/%s/%s", (long long)s->repeat, when, period);
	return out;
}

void chr_schedule_step(chr_schedule *s, const char *zone)
{
	if (s->repeat == 0)
		return;
	s->start_ms = chr_time_add(s->start_ms, &s->period, zone, s->offset_min);
	if (s->repeat > 0)
		s->repeat--;
}
