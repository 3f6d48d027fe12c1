/* operator.c — see operator.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "operator.h"

int operator_master_url(const char *master, char *url, size_t urllen, char *err, size_t errlen)
{
	const char *p = master;

	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	if (strchr(p, '@') != NULL) {
		/* A PID names the actor port, which speaks no HTTP. */
		snprintf(err, errlen,
		         "'%s' is a PID; --master wants the master's HTTP address (host:port)",
		         master);
		return -1;
	}
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || memchr(p, '/', n) != NULL || memchr(p, '?', n) != NULL) {
		snprintf(err, errlen, "'%s' is not an HTTP address (host:port)", master);
		return -1;
	}
	const char *colon = memchr(p, ':', n);
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (colon == p || end != p + n || colon + 1 == end || port <= 0 || port > 65535) {
			snprintf(err, errlen, "'%s' is not an HTTP address (host:port)", master);
			return -1;
		}
	}
	int w = snprintf(url, urllen, "http://%.*s%s", (int)n, p, colon ? "" : ":5050");
	if (w < 0 || (size_t)w >= urllen) {
		snprintf(err, errlen, "'%s' is too long", master);
		return -1;
	}
	return 0;
}

json_t *operator_get_json(const char *cmd, const char *who, const char *url)
{
	struct cli_http_response res;
	char err[512];

	if (cli_http_get(url, OPERATOR_TIMEOUT_MS, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "plexus %s: cannot reach %s at %s: %s\n", cmd, who, url, err);
		return NULL;
	}
	if (res.status != 200) {
		fprintf(stderr, "plexus %s: %s (%s) answered %d%s%.*s\n", cmd, who, url, res.status,
		        res.len ? ": " : "", (int)(res.len > 500 ? 500 : res.len), res.body);
		cli_http_response_fini(&res);
		return NULL;
	}
	json_error_t jerr;
	json_t *j = json_loadb(res.body, res.len, 0, &jerr);
	if (j == NULL)
		fprintf(stderr, "plexus %s: %s (%s) did not answer JSON: %s\n", cmd, who, url,
		        jerr.text);
	cli_http_response_fini(&res);
	return j;
}
