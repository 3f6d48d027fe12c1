/* cas_discover.c — see cas_discover.h. */
#include "cas_discover.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

char *cas_http(const char *master, const char *method, const char *path, const char *ctype,
               const char *body, int *status, char *err, size_t errlen)
{
	char host[256], port[16];
	const char *colon = strrchr(master, ':');
	if (colon == NULL || (size_t)(colon - master) >= sizeof(host) || strlen(colon + 1) >= sizeof(port)) {
		snprintf(err, errlen, "the master address '%s' is not HOST:PORT", master);
		return NULL;
	}
	memcpy(host, master, (size_t)(colon - master));
	host[colon - master] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return NULL;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 5};
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(err, errlen, "cannot reach the master at %s: %s", master, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	size_t blen = body ? strlen(body) : 0;
	char head[1024];
	int hl = snprintf(head, sizeof(head),
	                  "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                  "Connection: close\r\n\r\n",
	                  method, path, master, ctype ? ctype : "text/plain", blen);
	if (write(fd, head, (size_t)hl) != hl || (blen && write(fd, body, blen) != (ssize_t)blen)) {
		snprintf(err, errlen, "cannot send to the master: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	for (ssize_t r; buf && (r = read(fd, buf + n, cap - n - 1)) > 0;) {
		n += (size_t)r;
		if (cap - n < 2) {
			char *b2 = realloc(buf, cap * 2);
			if (b2 == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b2;
			cap *= 2;
		}
	}
	close(fd);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	buf[n] = '\0';
	char *sep = strstr(buf, "\r\n\r\n");
	if (sep == NULL || sscanf(buf, "HTTP/%*s %d", status) != 1) {
		snprintf(err, errlen, "the master at %s sent no valid HTTP answer", master);
		free(buf);
		return NULL;
	}
	char *out = strdup(sep + 4);
	free(buf);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}

int cas_discover(const char *master, const char *name, cas_discovery *out, char *err, size_t errlen)
{
	int status = 0;
	memset(out, 0, sizeof(*out));
	char *body = cas_http(master, "GET", "/master/state", NULL, NULL, &status, err, errlen);
	if (body == NULL)
		return -1;
	json_error_t je;
	json_t *root = status == 200 ? json_loads(body, 0, &je) : NULL;
	free(body);
	if (root == NULL) {
		snprintf(err, errlen, "the master's state could not be read (HTTP %d)", status);
		return -1;
	}
	json_t *fws = json_object_get(root, "frameworks"), *fw;
	size_t i;
	int rc = -1;
	size_t cap = 0, len = 0;
	json_array_foreach(fws, i, fw)
	{
		const char *fname = json_string_value(json_object_get(fw, "name"));
		if (fname == NULL || strcmp(fname, name) != 0)
			continue;
		snprintf(out->framework_id, sizeof(out->framework_id), "%s",
		         json_string_value(json_object_get(fw, "id")) ?: "");
		json_t *tasks = json_object_get(fw, "tasks"), *t;
		size_t k;
		json_array_foreach(tasks, k, t)
		{
			const char *tname = json_string_value(json_object_get(t, "name"));
			const char *state = json_string_value(json_object_get(t, "state"));
			const char *at = tname ? strchr(tname, '@') : NULL;
			if (at == NULL || state == NULL || strcmp(state, "TASK_RUNNING") != 0)
				continue;
			size_t need = len + strlen(at + 1) + 2;
			if (need > cap) {
				cap = need * 2;
				char *v = realloc(out->nodes, cap);
				if (v == NULL)
					break;
				out->nodes = v;
			}
			len += (size_t)sprintf(out->nodes + len, "%s%s", len ? "," : "", at + 1);
			out->nnodes++;
		}
		rc = 0;
		break;
	}
	json_decref(root);
	if (rc != 0)
		snprintf(err, errlen, "no framework called '%s' is registered with the master at %s",
		         name, master);
	return rc;
}

void cas_discovery_fini(cas_discovery *d)
{
	free(d->nodes);
	memset(d, 0, sizeof(*d));
}
