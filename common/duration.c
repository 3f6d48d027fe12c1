/* duration.c — the one duration parser of Plexus (include/plexus/util.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plexus/util.h"

static const struct {
	const char *unit;
	double ms;
} units[] = {
    {"ns", 1e-6},     {"us", 1e-3},        {"ms", 1},          {"secs", 1e3},
    {"sec", 1e3},     {"mins", 60e3},      {"min", 60e3},      {"hrs", 3600e3},
    {"hr", 3600e3},   {"days", 86400e3},   {"day", 86400e3},   {"weeks", 604800e3},
    {"week", 604800e3},
};

bool px_duration_parse(const char *text, int64_t *ms)
{
	if (text == NULL || *text == '\0')
		return false;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end == text || errno != 0 || !isfinite(v) || v < 0)
		return false;
	double scale = 1e3; /* a bare number is seconds */
	if (*end != '\0') {
		size_t i, n = sizeof(units) / sizeof(units[0]);
		for (i = 0; i < n; i++)
			if (strcmp(end, units[i].unit) == 0)
				break;
		if (i == n)
			return false;
		scale = units[i].ms;
	}
	double total = v * scale;
	if (total >= 9.2e18)
		return false;
	*ms = (int64_t)total;
	return true;
}

char *px_duration_format(int64_t ms, char *out, unsigned size)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} big[] = {{"weeks", 604800000}, {"days", 86400000}, {"hrs", 3600000},
	           {"mins", 60000},      {"secs", 1000}};
	if (ms != 0) {
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			if (ms % big[i].ms == 0) {
				snprintf(out, size, "%lld%s", (long long)(ms / big[i].ms), big[i].unit);
				return out;
			}
		}
	}
	snprintf(out, size, "%lldms", (long long)ms);
	return out;
}
