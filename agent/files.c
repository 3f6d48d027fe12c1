/* files.c — see files.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actor/libactor.h"
#include "agent/files.h"
#include "common/json_pb.h"

struct attachment {
	char *virt; /* without a trailing '/' */
	char *real; /* canonical */
};

/* The table is read by the actor's handlers and written by agents: a mutex, not the
 * actor's mailbox, keeps attach synchronous, so a sandbox is served as soon as the
 * agent has created it. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct attachment *table;
static size_t ntable;
static int refs;
static bool alive;

static char *strip_slashes(const char *p)
{
	char *s = strdup(p);
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int files_attach(const char *real, const char *virtual_path)
{
	char *canon = realpath(real, NULL);
	char *virt = strip_slashes(virtual_path);

	if (canon == NULL || virt == NULL) {
		int e = canon == NULL ? errno : ENOMEM;
		free(canon);
		free(virt);
		return e;
	}
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < ntable; i++)
		if (strcmp(table[i].virt, virt) == 0) {
			free(table[i].real);
			table[i].real = canon;
			free(virt);
			pthread_mutex_unlock(&mu);
			return 0;
		}
	struct attachment *t = realloc(table, (ntable + 1) * sizeof(*t));
	if (t == NULL) {
		pthread_mutex_unlock(&mu);
		free(canon);
		free(virt);
		return ENOMEM;
	}
	table = t;
	table[ntable++] = (struct attachment){.virt = virt, .real = canon};
	pthread_mutex_unlock(&mu);
	return 0;
}

void files_detach(const char *virtual_path, const char *real)
{
	char *virt = virtual_path ? strip_slashes(virtual_path) : NULL;
	char *canon = real ? realpath(real, NULL) : NULL;

	if (virt == NULL) {
		free(canon);
		return;
	}
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < ntable; i++)
		if (strcmp(table[i].virt, virt) == 0) {
			if (real != NULL && (canon == NULL || strcmp(table[i].real, canon) != 0))
				break;
			free(table[i].virt);
			free(table[i].real);
			table[i] = table[--ntable];
			break;
		}
	pthread_mutex_unlock(&mu);
	free(virt);
	free(canon);
}

/* ---- requests --------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The URL-decoded value of key in query (malloc'ed), or NULL when absent. */
static char *query_get(const char *query, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t vlen = len - klen - 1;
			char *out = malloc(vlen + 1), *o = out;
			if (out == NULL)
				return NULL;
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] == '%' && i + 2 < vlen && hexval(v[i + 1]) >= 0 &&
				    hexval(v[i + 2]) >= 0) {
					*o++ = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
					i += 2;
				} else {
					*o++ = v[i] == '+' ? ' ' : v[i];
				}
			}
			*o = '\0';
			return out;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static actor_future *reply_text(int status, const char *fmt, const char *arg)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), fmt, arg ? arg : "");
	return actor_http_reply(status, "text/plain", buf, (size_t)(n < 0 ? 0 : n));
}

static actor_future *reply_json(json_t *j)
{
	char *text = j ? json_dumps(j, PX_JSON_DUMP_FLAGS) : NULL;
	json_decref(j);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory\n", 14);
	actor_future *f = actor_http_reply(200, "application/json", text, strlen(text));
	free(text);
	return f;
}

/* Resolves a virtual path: 0 with *out (malloc'ed) on success, 404 when nothing is
 * there, 403 (why filled in) when it would leave its attached directory. */
static int resolve(const char *path, char **out, char *why, size_t whylen)
{
	char *p = strip_slashes(path);
	int status = 404;

	*out = NULL;
	if (p == NULL)
		return 500;
	pthread_mutex_lock(&mu);
	/* The longest attached prefix that ends at a component boundary. */
	const struct attachment *best = NULL;
	size_t bestlen = 0;
	for (size_t i = 0; i < ntable; i++) {
		size_t n = strlen(table[i].virt);
		if (strncmp(p, table[i].virt, n) == 0 && (p[n] == '\0' || p[n] == '/') &&
		    (best == NULL || n > bestlen)) {
			best = &table[i];
			bestlen = n;
		}
	}
	if (best == NULL)
		goto out;
	const char *suffix = p + bestlen;
	struct stat st;
	if (stat(best->real, &st) != 0)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		if (*suffix == '\0') {
			*out = strdup(best->real);
			status = *out ? 0 : 500;
		}
		goto out;
	}
	char joined[PATH_MAX * 2];
	snprintf(joined, sizeof(joined), "%s%s", best->real, suffix);
	char *canon = realpath(joined, NULL);
	if (canon == NULL)
		goto out; /* no such file */
	size_t rlen = strlen(best->real);
	if (strncmp(canon, best->real, rlen) != 0 || (canon[rlen] != '\0' && canon[rlen] != '/')) {
		snprintf(why, whylen, "'%s' is inaccessible: it is outside the sandbox", path);
		free(canon);
		status = 403;
		goto out;
	}
	*out = canon;
	status = 0;
out:
	pthread_mutex_unlock(&mu);
	free(p);
	return status;
}

/* Resolves the request's path= or answers for it. */
static actor_future *resolve_or_reply(const actor_http_request *req, char **path, char **real)
{
	char why[PATH_MAX + 128] = "";

	*path = query_get(req->query, "path");
	*real = NULL;
	if (*path == NULL || **path == '\0')
		return reply_text(400, "Expecting 'path=value' in query.\n", NULL);
	int status = resolve(*path, real, why, sizeof(why));
	if (status == 403)
		return reply_text(403, "%s\n", why);
	if (status == 404)
		return reply_text(404, "No file or directory found at path '%s'.\n", *path);
	if (status != 0)
		return reply_text(500, "out of memory\n", NULL);
	return NULL;
}

static bool parse_off(const char *text, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0)
		return false;
	*out = v;
	return true;
}

static json_t *json_bytes(const char *data, size_t n)
{
	json_t *s = json_stringn(data, n);
	if (s != NULL)
		return s;
	/* Not UTF-8 (a binary file): keep ASCII and mark the rest, as the bytes cannot
	 * travel in a JSON string as they are. */
	char *copy = malloc(n + 1);
	if (copy == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)data[i] < 0x80 ? data[i] : '?';
	s = json_stringn(copy, n);
	free(copy);
	return s;
}

static actor_future *files_read(actor_t *self, const actor_http_request *req, void *arg)
{
	char *path, *real, *s;
	long long offset = -1, length = -1;
	actor_future *f = resolve_or_reply(req, &path, &real);

	if (f != NULL)
		goto out;
	if ((s = query_get(req->query, "offset")) != NULL) {
		bool ok = parse_off(s, &offset) && offset >= -1;
		free(s);
		if (!ok) {
			f = reply_text(400, "Failed to parse offset: expected an integer >= -1.\n",
			               NULL);
			goto out;
		}
	}
	if ((s = query_get(req->query, "length")) != NULL) {
		bool ok = parse_off(s, &length) && length >= -1;
		free(s);
		if (!ok) {
			f = reply_text(400, "Failed to parse length: expected an integer >= -1.\n",
			               NULL);
			goto out;
		}
	}
	struct stat st;
	if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
		f = reply_text(400, "Cannot read a directory.\n", NULL);
		goto out;
	}
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		f = reply_text(500, "Failed to open file at '%s'.\n", path);
		goto out;
	}
	long long size = lseek(fd, 0, SEEK_END);
	if (offset == -1)
		offset = size;
	if (length == -1)
		length = size - offset;
	long long cap = sysconf(_SC_PAGESIZE) * 16;
	if (length > cap)
		length = cap;
	json_t *j;
	if (offset >= size || length <= 0) {
		j = json_pack("{s:s,s:I}", "data", "", "offset",
		              (json_int_t)(offset >= size ? size : offset));
	} else {
		char *buf = malloc((size_t)length);
		ssize_t got = buf ? pread(fd, buf, (size_t)length, offset) : -1;
		j = got < 0 ? NULL
		            : json_pack("{s:o,s:I}", "data", json_bytes(buf, (size_t)got), "offset",
		                        (json_int_t)offset);
		free(buf);
	}
	close(fd);
	f = reply_json(j);
out:
	free(path);
	free(real);
	return f;
}

static void mode_text(mode_t m, char out[11])
{
	out[0] = S_ISDIR(m)    ? 'd'
	         : S_ISLNK(m)  ? 'l'
	         : S_ISCHR(m)  ? 'c'
	         : S_ISBLK(m)  ? 'b'
	         : S_ISFIFO(m) ? 'p'
	         : S_ISSOCK(m) ? 's'
	                       : '-';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

static int cmp_path(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	return strcmp(json_string_value(json_object_get(a, "path")),
	              json_string_value(json_object_get(b, "path")));
}

static actor_future *files_browse(actor_t *self, const actor_http_request *req, void *arg)
{
	char *path, *real;
	actor_future *f = resolve_or_reply(req, &path, &real);

	if (f != NULL)
		goto out;
	DIR *d = opendir(real);
	if (d == NULL) {
		f = reply_text(404, "No directory found at path '%s'.\n", path);
		goto out;
	}
	json_t **items = NULL;
	size_t n = 0;
	struct dirent *e;
	char *base = strip_slashes(path);
	while (base != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char full[PATH_MAX * 2], virt[PATH_MAX * 2], mode[11];
		struct stat st;
		snprintf(full, sizeof(full), "%s/%s", real, e->d_name);
		if (stat(full, &st) != 0)
			continue;
		snprintf(virt, sizeof(virt), "%s/%s", strcmp(base, "/") == 0 ? "" : base,
		         e->d_name);
		mode_text(st.st_mode, mode);
		struct passwd *pw = getpwuid(st.st_uid);
		struct group *gr = getgrgid(st.st_gid);
		char uid[32], gid[32];
		snprintf(uid, sizeof(uid), "%u", (unsigned)st.st_uid);
		snprintf(gid, sizeof(gid), "%u", (unsigned)st.st_gid);
		json_t *item = json_pack("{s:s,s:I,s:I,s:f,s:s,s:s,s:s}", "path", virt, "nlink",
		                         (json_int_t)st.st_nlink, "size", (json_int_t)st.st_size,
		                         "mtime", (double)st.st_mtime, "mode", mode, "uid",
		                         pw ? pw->pw_name : uid, "gid", gr ? gr->gr_name : gid);
		json_t **grown = item ? realloc(items, (n + 1) * sizeof(*grown)) : NULL;
		if (grown == NULL) {
			json_decref(item);
			break;
		}
		items = grown;
		items[n++] = item;
	}
	closedir(d);
	free(base);
	qsort(items, n, sizeof(*items), cmp_path);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
	f = reply_json(list);
out:
	free(path);
	free(real);
	return f;
}

/* GET /files/download?path=P: the file's bytes as an attachment, for the web UI's
 * download links (Mesos serves the same endpoint). Up to DOWNLOAD_MAX bytes: an answer
 * is built whole in memory. */
#define DOWNLOAD_MAX ((off_t)256 << 20)

static actor_future *files_download(actor_t *self, const actor_http_request *req, void *arg)
{
	char *path, *real;
	actor_future *f = resolve_or_reply(req, &path, &real);
	struct stat st;

	if (f != NULL)
		goto out;
	if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
		f = reply_text(400, "Cannot download '%s': not a regular file.\n", path);
		goto out;
	}
	if (st.st_size > DOWNLOAD_MAX) {
		f = reply_text(413,
		               "'%s' is too large to download here; read it with "
		               "/files/read in pieces.\n",
		               path);
		goto out;
	}
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *buf = fd >= 0 ? malloc((size_t)st.st_size + 1) : NULL;
	size_t got = 0;
	while (buf != NULL && got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (buf == NULL) {
		f = reply_text(500, "Failed to read file at '%s'.\n", path);
		goto out;
	}
	actor_http_response *res =
	    actor_http_response_alloc(200, "application/octet-stream", buf, got);
	free(buf);
	const char *base = strrchr(path, '/');
	char disposition[512];
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"",
	         base ? base + 1 : path);
	for (char *c = disposition + 22; *c; c++)
		if (*c < ' ' || (*c == '"' && c[1] != '\0'))
			*c = '_';
	if (res != NULL)
		actor_http_response_header(res, "Content-Disposition", disposition);
	f = actor_http_respond(res);
out:
	free(path);
	free(real);
	return f;
}

/* ---- the actor -------------------------------------------------------------------- */

static int files_init(actor_t *self)
{
	int rc = actor_http_route(self, "/read", files_read, NULL);
	if (rc == 0)
		rc = actor_http_route(self, "/browse", files_browse, NULL);
	if (rc == 0)
		rc = actor_http_route(self, "/download", files_download, NULL);
	return rc;
}

static void files_fini(actor_t *self)
{
	pthread_mutex_lock(&mu);
	alive = false;
	for (size_t i = 0; i < ntable; i++) {
		free(table[i].virt);
		free(table[i].real);
	}
	free(table);
	table = NULL;
	ntable = 0;
	pthread_mutex_unlock(&mu);
}

static const actor_def files_def = {
    .name = "files",
    .init = files_init,
    .fini = files_fini,
};

int files_ref(void)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	if (!alive) {
		/* Spawned under the lock: init takes no lock of ours. */
		actor_pid pid;
		rc = actor_spawn(&files_def, NULL, &pid);
		if (rc == 0 && strcmp(pid.id, "files") != 0) {
			actor_warn("files: the id \"files\" is taken; serving under %s",
			           actor_pid_str(pid));
		}
		alive = rc == 0;
	}
	if (rc == 0)
		refs++;
	pthread_mutex_unlock(&mu);
	return rc;
}

void files_unref(void)
{
	pthread_mutex_lock(&mu);
	refs--;
	pthread_mutex_unlock(&mu);
}
