/* operator.h — what the operator commands (`plexus state`, `tasks`, `cat`) share:
 * their --master flag and reading JSON from the master's and agents' HTTP endpoints. */
#ifndef PLEXUS_CLI_OPERATOR_H
#define PLEXUS_CLI_OPERATOR_H

#include <stddef.h>

#include <jansson.h>

/* How long one request may take before the command gives up. */
#define OPERATOR_TIMEOUT_MS 10000

/* Turns a --master value ("host:port", "http://host:port", "host" for port 5050) into
 * a base URL without a trailing '/' ("http://host:port"). Returns 0, or -1 with the
 * reason in err. */
int operator_master_url(const char *master, char *url, size_t urllen, char *err, size_t errlen);

/* GETs url and parses the answer as JSON. Returns the JSON (new reference), or NULL
 * after printing "plexus CMD: <reason>" on stderr, naming the server as who ("the
 * master"): unreachable, a non-200 status (its body is printed), or not JSON. */
json_t *operator_get_json(const char *cmd, const char *who, const char *url);

#endif
