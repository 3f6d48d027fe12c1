/* cas_flags.c — see cas_flags.h. */
#include "cas_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cas_flag(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
			continue;
		if (a[2 + n] == '=')
			return a + 3 + n;
		if (a[2 + n] == '\0')
			return "";
	}
	return NULL;
}

bool cas_flag_int(int argc, char **argv, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out)
{
	const char *v = cas_flag(argc, argv, name);
	if (v == NULL) {
		*out = def;
		return true;
	}
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *v == '\0' || *end || x < min || x > max) {
		fprintf(stderr, "plexus cassandra: --%s must be an integer in [%lld, %lld], not '%s'\n",
		        name, (long long)min, (long long)max, v);
		return false;
	}
	*out = x;
	return true;
}

bool cas_flags_check(int argc, char **argv, const char *const *known)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool ok = false;
		for (int k = 0; known[k] && !ok; k++) {
			size_t n = strlen(known[k]);
			ok = strncmp(a, "--", 2) == 0 && strncmp(a + 2, known[k], n) == 0 &&
			     (a[2 + n] == '=' || a[2 + n] == '\0');
		}
		if (!ok) {
			fprintf(stderr, "plexus cassandra: unknown argument '%s'\n", a);
			return false;
		}
	}
	return true;
}
