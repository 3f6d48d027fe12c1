/* http_client.c — see http_client.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "http_client.h"

void cli_http_response_fini(struct cli_http_response *res)
{
	free(res->body);
	res->body = NULL;
	res->len = 0;
}

int cli_http_request(const char *method, const char *url, const char *content_type,
                     const void *body, size_t len, int timeout_ms, struct cli_http_response *res,
                     char *err, size_t errlen)
{
	nng_url *u = NULL;
	nng_http_client *client = NULL;
	nng_http_req *req = NULL;
	nng_http_res *hres = NULL;
	nng_aio *aio = NULL;
	int rv;
	const char *what = "cannot parse the URL";

	*res = (struct cli_http_response){0};
	if ((rv = nng_url_parse(&u, url)) != 0)
		goto fail;
	what = "out of memory";
	if ((rv = nng_http_client_alloc(&client, u)) != 0 ||
	    (rv = nng_http_req_alloc(&req, u)) != 0 || (rv = nng_http_res_alloc(&hres)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		goto fail;
	if ((rv = nng_http_req_set_method(req, method)) != 0)
		goto fail;
	if (len > 0) {
		if ((rv = nng_http_req_copy_data(req, body, len)) != 0)
			goto fail;
		if (content_type != NULL &&
		    (rv = nng_http_req_set_header(req, "Content-Type", content_type)) != 0)
			goto fail;
	}
	nng_aio_set_timeout(aio, timeout_ms);
	nng_http_client_transact(client, req, hres, aio);
	nng_aio_wait(aio);
	what = "request failed";
	if ((rv = nng_aio_result(aio)) != 0)
		goto fail;
	void *data = NULL;
	size_t n = 0;
	nng_http_res_get_data(hres, &data, &n);
	res->body = malloc(n + 1);
	if (res->body == NULL) {
		what = "out of memory";
		rv = NNG_ENOMEM;
		goto fail;
	}
	if (n > 0)
		memcpy(res->body, data, n);
	res->body[n] = '\0';
	res->len = n;
	res->status = nng_http_res_get_status(hres);
	rv = 0;
	goto out;
fail:
	if (strcmp(what, "request failed") == 0)
		snprintf(err, errlen, "%s", nng_strerror(rv));
	else
		snprintf(err, errlen, "%s: %s", what, nng_strerror(rv));
out:
	nng_aio_free(aio);
	if (hres != NULL)
		nng_http_res_free(hres);
	if (req != NULL)
		nng_http_req_free(req);
	if (client != NULL)
		nng_http_client_free(client);
	nng_url_free(u);
	return rv;
}

int cli_http_get(const char *url, int timeout_ms, struct cli_http_response *res, char *err,
                 size_t errlen)
{
	return cli_http_request("GET", url, NULL, NULL, 0, timeout_ms, res, err, errlen);
}

int cli_url_encode(const char *text, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr("-_.~/", *p) != NULL;
		if (n + (plain ? 1 : 3) >= outlen)
			return -1;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}
