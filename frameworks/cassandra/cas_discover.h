/* cas_discover.h — finding a running cassandra framework through the master's HTTP
 * API (GET /master/state): its framework id and the address of each node, which the
 * scheduler writes into the node task's name ("cassandra-node-<i>@<ip>:<port>"). */
#ifndef CAS_DISCOVER_H
#define CAS_DISCOVER_H

#include <stddef.h>

typedef struct cas_discovery {
	char framework_id[128];
	char *nodes; /* "ip:port,ip:port" of the RUNNING nodes, for cas_client_connect */
	size_t nnodes;
} cas_discovery;

/* One blocking HTTP/1.0 request to master ("host:port") for path; the body (caller
 * frees) and its status in *status; NULL with err on failure. */
char *cas_http(const char *master, const char *method, const char *path, const char *ctype,
               const char *body, int *status, char *err, size_t errlen);

/* Looks the framework called name up. 0, or -1 with err (no master, no such framework). */
int cas_discover(const char *master, const char *name, cas_discovery *out, char *err, size_t errlen);
void cas_discovery_fini(cas_discovery *d);

#endif
