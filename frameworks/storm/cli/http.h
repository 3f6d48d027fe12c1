/* http.h — a small blocking HTTP/1.1 client for `plexus storm` (one request per
 * connection), enough to talk to a nimbus. */
#ifndef STM_CLI_HTTP_H
#define STM_CLI_HTTP_H

#include <stddef.h>

/* Sends method (GET/POST, empty body) to http://address/path ("ip:port") and waits
 * up to timeout_ms. Returns the status code and the body in *body (malloc'ed, NUL-
 * terminated; NULL allowed), or 0 when the server cannot be reached. */
int stm_http(const char *method, const char *address, const char *path, int timeout_ms,
             char **body);

#endif
