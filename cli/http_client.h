/* http_client.h — one blocking HTTP request through nng's HTTP client, for the
 * operator commands (`plexus state`, `tasks`, `cat`) and the integration tests.
 * It runs on nng's own threads and needs no libactor runtime. */
#ifndef PLEXUS_CLI_HTTP_CLIENT_H
#define PLEXUS_CLI_HTTP_CLIENT_H

#include <stddef.h>

struct cli_http_response {
	int status; /* the HTTP status code */
	char *body; /* malloc'ed and NUL-terminated (the NUL is not counted in len) */
	size_t len;
};

/* Sends method to url ("http://host:port/path?query") with body (may be NULL when len
 * is 0) and waits at most timeout_ms for the whole answer. On success returns 0 and
 * fills *res (free its body with cli_http_response_fini), whatever the status code.
 * On failure (a malformed url, nothing listening, a timeout) returns non-zero, leaves
 * *res empty and writes the reason into err. */
int cli_http_request(const char *method, const char *url, const char *content_type,
                     const void *body, size_t len, int timeout_ms, struct cli_http_response *res,
                     char *err, size_t errlen);

/* GET url: cli_http_request("GET", url, NULL, NULL, 0, ...). */
int cli_http_get(const char *url, int timeout_ms, struct cli_http_response *res, char *err,
                 size_t errlen);

/* Frees the body of res. */
void cli_http_response_fini(struct cli_http_response *res);

/* Appends text to out (of size outlen) with every byte other than unreserved ones
 * percent-encoded, for a query value. Returns 0, or -1 when it does not fit. */
int cli_url_encode(const char *text, char *out, size_t outlen);

#endif
