/* master_discovery.c — a master's PID from a PID or from GET /master/info.
 *
 * The HTTP request goes through nng's HTTP client: one transaction per discovery,
 * completed on nng's threads, where the promise is completed and everything freed. */
#include "common/master_discovery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "actor/error.h"

#define DISCOVERY_DEFAULT_TIMEOUT_MS 5000

bool px_master_spec_is_pid(const char *spec)
{
	actor_pid pid;
	return spec != NULL && actor_pid_parse(spec, &pid) == 0;
}

/* Splits "[http://]host:port" (nothing after the port but an optional '/'). */
static int split_address(const char *spec, char *host, size_t hostlen, unsigned *port, char *err,
                         size_t errlen)
{
	const char *s = spec;
	if (strncmp(s, "http://", 7) == 0)
		s += 7;
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s) {
		snprintf(err, errlen, "'%s' is neither a PID (master@ip:port) nor host:port", spec);
		return ACTOR_EINVAL;
	}
	if ((size_t)(colon - s) >= hostlen || memchr(s, '@', (size_t)(colon - s)) != NULL ||
	    memchr(s, '/', (size_t)(colon - s)) != NULL) {
		snprintf(err, errlen, "'%s' is neither a PID (master@ip:port) nor host:port", spec);
		return ACTOR_EINVAL;
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || errno != 0 || p == 0 || p > 65535 ||
	    (*end != '\0' && strcmp(end, "/") != 0)) {
		snprintf(err, errlen, "'%s': invalid port '%s'", spec, colon + 1);
		return ACTOR_EINVAL;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (unsigned)p;
	return 0;
}

int px_master_spec_check(const char *spec, char *err, size_t errlen)
{
	char buf[256], host[256];
	unsigned port;
	if (err == NULL || errlen == 0) {
		err = buf;
		errlen = sizeof(buf);
	}
	if (spec == NULL || spec[0] == '\0') {
		snprintf(err, errlen, "no master given");
		return ACTOR_EINVAL;
	}
	if (px_master_spec_is_pid(spec))
		return 0;
	return split_address(spec, host, sizeof(host), &port, err, errlen);
}

/* One HTTP discovery in flight; freed by its completion callback. */
struct discovery {
	char url_text[300];
	nng_url *url;
	nng_http_client *client;
	nng_http_req *req;
	nng_http_res *res;
	nng_aio *aio;
	actor_promise *promise;
};

static void discovery_free(struct discovery *q)
{
	if (q->client != NULL)
		nng_http_client_free(q->client);
	if (q->req != NULL)
		nng_http_req_free(q->req);
	if (q->res != NULL)
		nng_http_res_free(q->res);
	if (q->url != NULL)
		nng_url_free(q->url);
	if (q->aio != NULL)
		nng_aio_reap(q->aio); /* we may be inside its callback */
	actor_promise_free(q->promise);
	free(q);
}

/* Reads {"pid": "..."} from the body; completes the promise either way. */
static void discovery_answer(struct discovery *q)
{
	char why[512];
	uint16_t status = nng_http_res_get_status(q->res);
	if (status != 200) {
		snprintf(why, sizeof(why), "%s answered HTTP %u %s", q->url_text, status,
		         nng_http_res_get_reason(q->res));
		actor_promise_fail(q->promise, ACTOR_ECONN, why);
		return;
	}
	void *body;
	size_t len;
	nng_http_res_get_data(q->res, &body, &len);
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, 0, &jerr);
	const char *text = doc != NULL ? json_string_value(json_object_get(doc, "pid")) : NULL;
	actor_pid *pid = malloc(sizeof(*pid));
	if (pid == NULL) {
		actor_promise_fail(q->promise, ACTOR_ENOMEM, "out of memory");
	} else if (text == NULL || actor_pid_parse(text, pid) != 0) {
		snprintf(why, sizeof(why), "%s: the answer has no valid \"pid\"%s%s", q->url_text,
		         doc == NULL ? ": " : "", doc == NULL ? jerr.text : "");
		free(pid);
		actor_promise_fail(q->promise, ACTOR_EPROTO, why);
	} else {
		actor_promise_set(q->promise, pid, free);
	}
	json_decref(doc);
}

static void discovery_done(void *arg)
{
	struct discovery *q = arg;
	int rv = nng_aio_result(q->aio);
	if (rv == 0) {
		discovery_answer(q);
	} else {
		char why[512];
		snprintf(why, sizeof(why), "cannot reach the master at %s: %s", q->url_text,
		         nng_strerror(rv));
		actor_promise_fail(q->promise, rv == NNG_ETIMEDOUT ? ACTOR_ETIMEDOUT : ACTOR_ECONN,
		                   why);
	}
	discovery_free(q);
}

actor_future *px_master_discover(const char *spec, int64_t timeout_ms)
{
	char err[512], host[256];
	unsigned port;

	if (spec == NULL || spec[0] == '\0')
		return actor_future_failed(ACTOR_EINVAL, "no master given");
	actor_pid parsed;
	if (actor_pid_parse(spec, &parsed) == 0) {
		actor_pid *pid = malloc(sizeof(*pid));
		if (pid == NULL)
			return actor_future_failed(ACTOR_ENOMEM, "out of memory");
		*pid = parsed;
		return actor_future_ready(pid, free);
	}
	if (split_address(spec, host, sizeof(host), &port, err, sizeof(err)) != 0)
		return actor_future_failed(ACTOR_EINVAL, err);

	struct discovery *q = calloc(1, sizeof(*q));
	if (q == NULL || (q->promise = actor_promise_alloc()) == NULL) {
		free(q);
		return actor_future_failed(ACTOR_ENOMEM, "out of memory");
	}
	snprintf(q->url_text, sizeof(q->url_text), "http://%s:%u/master/info", host, port);
	actor_future *f = actor_promise_future(q->promise);
	int rv;
	if ((rv = nng_url_parse(&q->url, q->url_text)) != 0 ||
	    (rv = nng_http_client_alloc(&q->client, q->url)) != 0 ||
	    (rv = nng_http_req_alloc(&q->req, q->url)) != 0 ||
	    (rv = nng_http_res_alloc(&q->res)) != 0 ||
	    (rv = nng_aio_alloc(&q->aio, discovery_done, q)) != 0) {
		snprintf(err, sizeof(err), "cannot reach the master at %s: %s", q->url_text,
		         nng_strerror(rv));
		actor_promise_fail(q->promise, rv == NNG_ENOMEM ? ACTOR_ENOMEM : ACTOR_EINVAL, err);
		discovery_free(q);
		return f;
	}
	nng_aio_set_timeout(q->aio, timeout_ms > 0 ? (nng_duration)timeout_ms
	                                           : DISCOVERY_DEFAULT_TIMEOUT_MS);
	nng_http_client_transact(q->client, q->req, q->res, q->aio);
	return f;
}
