/* lam_dataset.c — see lam_dataset.h. */
#include "lam_dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

bool lam_url_valid(const char *url, size_t len)
{
	if (url == NULL || len == 0 || len >= LAM_URL_MAX || url[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= ' ' || ch >= 127 || ch == '\'' || ch == '"' || ch == '\\')
			return false;
	}
	return true;
}

bool lam_event_parse(const char *line, size_t len, lam_event *out)
{
	size_t i = 0;
	int64_t t = 0;
	if (len == 0 || line[0] < '0' || line[0] > '9')
		return false;
	while (i < len && line[i] >= '0' && line[i] <= '9') {
		if (t > (INT64_MAX - 9) / 10)
			return false;
		t = t * 10 + (line[i++] - '0');
	}
	if (i >= len || line[i++] != ' ')
		return false;
	size_t u = i;
	while (i < len && line[i] != ' ')
		i++;
	if (i >= len || !lam_url_valid(line + u, i - u))
		return false;
	out->time_ms = t;
	out->url = line + u;
	out->url_len = i - u;
	i++;
	out->user = line + i;
	out->user_len = len - i;
	return out->user_len > 0 && memchr(out->user, ' ', out->user_len) == NULL;
}

void lam_bucket_path(const char *dir, int64_t bucket, bool closed, char *out, size_t n)
{
	snprintf(out, n, "%s/events/%lld.%s", dir, (long long)bucket, closed ? "log" : "open");
}

static int cmp_bucket(const void *a, const void *b)
{
	const lam_bucket *x = a, *y = b;
	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return (int)x->closed - (int)y->closed;
}

int lam_buckets(const char *dir, lam_bucket **out)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/events", dir);
	DIR *d = opendir(path);
	*out = NULL;
	if (d == NULL)
		return -1;
	lam_bucket *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long long b = strtoll(e->d_name, &end, 10);
		if (end == e->d_name || b < 0)
			continue;
		bool closed = strcmp(end, ".log") == 0;
		if (!closed && strcmp(end, ".open") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			lam_bucket *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		v[n++] = (lam_bucket){.bucket = b, .closed = closed};
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_bucket);
	/* A bucket seen both ways (renamed between readdir calls) counts as closed. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && v[k - 1].bucket == v[i].bucket)
			v[k - 1].closed = true;
		else
			v[k++] = v[i];
	}
	*out = v;
	return (int)k;
}

int64_t lam_next_bucket(const char *dir, int64_t after)
{
	lam_bucket *v;
	int n = lam_buckets(dir, &v);
	int64_t best = -1;
	for (int i = 0; i < n; i++)
		if (v[i].bucket > after) {
			best = v[i].bucket;
			break;
		}
	free(v);
	return best;
}

int64_t lam_cutoff(const char *dir)
{
	lam_bucket *v;
	int n = lam_buckets(dir, &v);
	int64_t cut = 0;
	for (int i = 0; i < n; i++) {
		if (!v[i].closed) {
			cut = v[i].bucket;
			break;
		}
		cut = v[i].bucket + 1;
	}
	free(v);
	return cut;
}

int lam_write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int lam_dataset_write_meta(const char *dir, int64_t bucket_ms)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/_dataset.json", dir);
	json_t *j = json_pack("{s:I, s:I}", "bucket_ms", (json_int_t)bucket_ms, "created_ms",
	                      (json_int_t)lam_now_ms());
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	int rc = text ? lam_write_atomic(path, text, strlen(text)) : -1;
	free(text);
	return rc;
}

int64_t lam_dataset_bucket_ms(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/_dataset.json", dir);
	json_t *j = json_load_file(path, 0, NULL);
	json_t *b = json_object_get(j, "bucket_ms");
	int64_t ms = json_is_integer(b) && json_integer_value(b) > 0 ? json_integer_value(b) : -1;
	json_decref(j);
	return ms;
}

int64_t lam_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
