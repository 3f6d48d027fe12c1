/* cas_flags.h — "--name=value" command-line flags of plexus-cassandra. */
#ifndef CAS_FLAGS_H
#define CAS_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

/* The value of --name=value (or "" for a bare --name) among argv[from..argc), or NULL. */
const char *cas_flag(int argc, char **argv, const char *name);
/* The same parsed as an integer; def when absent; false (and a message on stderr)
 * when present but not an integer in [min, max]. */
bool cas_flag_int(int argc, char **argv, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out);
/* Every argument is one of the known flags (a NULL-terminated list); otherwise prints
 * which is not and returns false. */
bool cas_flags_check(int argc, char **argv, const char *const *known);

#endif
