/* cas_commitlog.c — see cas_commitlog.h. */
#include "cas_commitlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <actor/log.h>

#include "cas_buf.h"

struct cas_commitlog {
	char *dir;
	int fd;
	int64_t seq;
	int dirty;
};

static void seg_path(const char *dir, int64_t seq, char *out, size_t n)
{
	snprintf(out, n, "%s/commitlog-%012lld.log", dir, (long long)seq);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The sequence numbers of the segments present, sorted; *n of them (caller frees). */
static int64_t *list_segments(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	int64_t *v = NULL;
	size_t cap = 0;
	*n = 0;
	if (d == NULL)
		return NULL;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		long long seq;
		char tail;
		if (sscanf(e->d_name, "commitlog-%lld.lo%c", &seq, &tail) != 2 || tail != 'g')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			int64_t *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
		}
		v[(*n)++] = seq;
	}
	closedir(d);
	if (v)
		qsort(v, *n, sizeof(*v), cmp_i64);
	return v;
}

static void replay_file(const char *path, void (*fn)(const uint8_t *, size_t, void *), void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && (buf = malloc((size_t)st.st_size)) != NULL) {
		size_t got = 0, size = (size_t)st.st_size;
		while (got < size) {
			ssize_t r = read(fd, buf + got, size - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		size_t off = 0, records = 0;
		while (off + 8 <= got) {
			uint32_t len = cas_be32_load(buf + off), crc = cas_be32_load(buf + off + 4);
			if (len > got - off - 8 || cas_crc32(buf + off + 8, len) != crc)
				break; /* torn tail: never acknowledged */
			fn(buf + off + 8, len, arg);
			off += 8 + len;
			records++;
		}
		if (off < got)
			actor_warn("cassandra: commit log %s: %zu bytes after record %zu do not form "
			           "a record (a write torn by a crash); ignored",
			           path, got - off, records);
	}
	free(buf);
	close(fd);
}

static int open_segment(cas_commitlog *l)
{
	char path[4096];
	seg_path(l->dir, l->seq, path, sizeof(path));
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (l->fd < 0)
		return -1;
	/* The new file's name must survive a crash as well as its records. */
	int dfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

cas_commitlog *cas_commitlog_open(const char *dir, void (*fn)(const uint8_t *, size_t, void *),
                                  void *arg, char *err, size_t errlen)
{
	cas_commitlog *l = calloc(1, sizeof(*l));
	size_t n = 0;
	if (l == NULL || (l->dir = strdup(dir)) == NULL) {
		free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int64_t *segs = list_segments(dir, &n);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		seg_path(dir, segs[i], path, sizeof(path));
		replay_file(path, fn, arg);
	}
	l->seq = n ? segs[n - 1] + 1 : 1;
	free(segs);
	if (open_segment(l) != 0) {
		snprintf(err, errlen, "cannot open a commit log segment in %s: %s", dir,
		         strerror(errno));
		free(l->dir);
		free(l);
		return NULL;
	}
	return l;
}

void cas_commitlog_close(cas_commitlog *l)
{
	if (l == NULL)
		return;
	cas_commitlog_sync(l);
	close(l->fd);
	free(l->dir);
	free(l);
}

int cas_commitlog_append(cas_commitlog *l, const void *p, size_t n)
{
	uint8_t hdr[8];
	cas_be32_store(hdr, (uint32_t)n);
	cas_be32_store(hdr + 4, cas_crc32(p, n));
	/* One write per record keeps the record whole in the file unless the OS dies. */
	uint8_t *rec = malloc(n + 8);
	if (rec == NULL)
		return -1;
	memcpy(rec, hdr, 8);
	memcpy(rec + 8, p, n);
	size_t off = 0;
	while (off < n + 8) {
		ssize_t w = write(l->fd, rec + off, n + 8 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			actor_error("cassandra: commit log write failed: %s", strerror(errno));
			free(rec);
			return -1;
		}
		off += (size_t)w;
	}
	free(rec);
	l->dirty = 1;
	return 0;
}

int cas_commitlog_sync(cas_commitlog *l)
{
	if (!l->dirty)
		return 0;
	if (fdatasync(l->fd) != 0) {
		actor_error("cassandra: commit log sync failed: %s", strerror(errno));
		return -1;
	}
	l->dirty = 0;
	return 0;
}

int cas_commitlog_dirty(const cas_commitlog *l)
{
	return l->dirty;
}

int64_t cas_commitlog_roll(cas_commitlog *l)
{
	if (cas_commitlog_sync(l) != 0)
		return -1;
	int64_t closed = l->seq;
	close(l->fd);
	l->seq++;
	if (open_segment(l) != 0) {
		actor_error("cassandra: cannot open commit log segment %lld: %s",
		            (long long)l->seq, strerror(errno));
		return -1;
	}
	return closed;
}

void cas_commitlog_discard(cas_commitlog *l, int64_t upto)
{
	size_t n = 0;
	int64_t *segs = list_segments(l->dir, &n);
	for (size_t i = 0; i < n; i++) {
		if (segs[i] > upto)
			continue;
		char path[4096];
		seg_path(l->dir, segs[i], path, sizeof(path));
		unlink(path);
	}
	free(segs);
}
