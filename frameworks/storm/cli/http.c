/* http.c — see http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

int stm_http(const char *method, const char *address, const char *path, int timeout_ms, char **body)
{
	char host[64];
	const char *colon = strrchr(address, ':');
	if (body != NULL)
		*body = NULL;
	if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
		return 0;
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return 0;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(s);
		return 0;
	}
	char req[1024];
	int n = snprintf(req, sizeof(req),
	                 "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: "
	                 "close\r\n\r\n",
	                 method, path, address);
	if (write(s, req, (size_t)n) != n) {
		close(s);
		return 0;
	}
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	for (;;) {
		if (buf == NULL)
			break;
		if (len + 4096 > cap) {
			char *more = realloc(buf, cap *= 2);
			if (more == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = more;
		}
		ssize_t r = read(s, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		/* Stop once Content-Length bytes of body are in. */
		char *end = strstr(buf, "\r\n\r\n");
		const char *cl = end ? strcasestr(buf, "content-length:") : NULL;
		if (end != NULL && cl != NULL && cl < end &&
		    len >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
			break;
	}
	close(s);
	if (buf == NULL)
		return 0;
	buf[len] = '\0';
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		free(buf);
		return 0;
	}
	char *start = strstr(buf, "\r\n\r\n");
	if (body != NULL)
		*body = strdup(start ? start + 4 : "");
	free(buf);
	return status;
}
