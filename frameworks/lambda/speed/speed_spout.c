/* speed_spout.c — the tail spout: the master dataset's buckets read in order, as a
 * consumer reads a log. A tuple's message id is its event's place in the log (bucket in
 * the high 32 bits, the line's byte offset in the low 32), so a failed tuple is replayed
 * by reading its line again. The spout commits the place of its oldest unacked event to
 * DIR/_speed/tail.pos; a restarted spout resumes there, so what it replays after a
 * restart is what was in flight, not the whole log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lam_dataset.h"
#include "speed.h"

#define READ_SIZE     (256 * 1024)
#define RING_MAX      (4u << 20) /* events tracked for the commit point */
#define COMMIT_MS     200

struct tail {
	char dir[1024];
	int64_t bucket_ms;
	/* reading */
	int64_t bucket; /* -1: none yet */
	int fd;
	bool closed; /* the bucket's file is a .log: EOF is its end */
	char *buf;
	size_t blen, bpos;
	int64_t buf_off; /* file offset of buf[0] */
	/* events in flight and acked behind the oldest unacked one, ascending ids */
	uint64_t *ids;
	bool *acked;
	size_t head, count, cap;
	/* failed, to be read again */
	uint64_t *replay;
	size_t nreplay, capreplay;
	int64_t replay_bucket;
	int replay_fd;
	/* commit */
	uint64_t committed;
	int64_t last_commit_ms;
};

static uint64_t make_id(int64_t bucket, int64_t off)
{
	return (uint64_t)bucket << 32 | (uint64_t)(uint32_t)off;
}

static int open_bucket_file(const char *dir, int64_t bucket, bool *closed)
{
	char path[1100];
	/* .open first: a bucket is renamed to .log once; after the rename the .log exists. */
	lam_bucket_path(dir, bucket, false, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (closed)
			*closed = false;
		return fd;
	}
	lam_bucket_path(dir, bucket, true, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (closed)
		*closed = fd >= 0;
	return fd;
}

static bool bucket_closed(const char *dir, int64_t bucket)
{
	char path[1100];
	struct stat st;
	lam_bucket_path(dir, bucket, true, path, sizeof(path));
	return stat(path, &st) == 0;
}

static void start_at(struct tail *t, int64_t bucket, int64_t off)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = open_bucket_file(t->dir, bucket, &t->closed);
	t->bucket = t->fd >= 0 ? bucket : -1;
	t->blen = t->bpos = 0;
	t->buf_off = off;
	if (t->fd >= 0 && off > 0 && lseek(t->fd, off, SEEK_SET) < 0)
		t->buf_off = 0;
}

static void *tail_open(stm_ctx *c, void *arg)
{
	(void)arg;
	struct tail *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->buf = malloc(READ_SIZE)) == NULL)
		abort();
	snprintf(t->dir, sizeof(t->dir), "%s", stm_ctx_conf(c, SPEED_CONF_DATASET, "."));
	t->fd = t->replay_fd = -1;
	t->bucket = t->replay_bucket = -1;
	t->bucket_ms = -1;
	char path[1100];
	snprintf(path, sizeof(path), "%s/_speed", t->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/_speed/tail.pos", t->dir);
	FILE *f = fopen(path, "r");
	long long b, o;
	if (f != NULL) {
		if (fscanf(f, "%lld %lld", &b, &o) == 2 && b >= 0 && o >= 0) {
			start_at(t, b, o);
			t->committed = make_id(b, o);
			fprintf(stderr, "tail: resuming at bucket %lld offset %lld\n", b, o);
		}
		fclose(f);
	}
	return t;
}

/* Returns the next complete line (without '\n') and its file offset; false when none
 * is there yet. */
static bool next_line(struct tail *t, const char **line, size_t *len, int64_t *off)
{
	for (;;) {
		if (t->bpos < t->blen) {
			char *nl = memchr(t->buf + t->bpos, '\n', t->blen - t->bpos);
			if (nl != NULL) {
				*line = t->buf + t->bpos;
				*len = (size_t)(nl - (t->buf + t->bpos));
				*off = t->buf_off + (int64_t)t->bpos;
				t->bpos += *len + 1;
				return true;
			}
		}
		/* Keep the partial line, read more behind it. */
		size_t rest = t->blen - t->bpos;
		if (rest == READ_SIZE) {
			/* A line longer than the buffer: drop it (its tail fails to parse). */
			t->bpos = t->blen;
			rest = 0;
		}
		memmove(t->buf, t->buf + t->bpos, rest);
		t->buf_off += (int64_t)t->bpos;
		t->bpos = 0;
		t->blen = rest;
		/* Whether the file was closed is read before the read, so a read that
		 * returns 0 after it really is the end of the bucket. */
		bool closed = t->closed || bucket_closed(t->dir, t->bucket);
		ssize_t r = read(t->fd, t->buf + rest, READ_SIZE - rest);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			t->blen += (size_t)r;
			continue;
		}
		if (!closed)
			return false; /* the generator has not written more yet */
		int64_t next = lam_next_bucket(t->dir, t->bucket);
		if (next < 0)
			return false;
		start_at(t, next, 0);
		if (t->fd < 0)
			return false;
	}
}

static void track(struct tail *t, uint64_t id)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		uint64_t *ids = malloc(cap * sizeof(*ids));
		bool *acked = malloc(cap * sizeof(*acked));
		if (ids == NULL || acked == NULL)
			abort();
		for (size_t i = 0; i < t->count; i++) {
			ids[i] = t->ids[(t->head + i) % t->cap];
			acked[i] = t->acked[(t->head + i) % t->cap];
		}
		free(t->ids);
		free(t->acked);
		t->ids = ids;
		t->acked = acked;
		t->head = 0;
		t->cap = cap;
	}
	size_t at = (t->head + t->count) % t->cap;
	t->ids[at] = id;
	t->acked[at] = false;
	t->count++;
}

/* The ring's index of id (ids ascend from head), or -1. */
static long find(const struct tail *t, uint64_t id)
{
	size_t lo = 0, hi = t->count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		uint64_t v = t->ids[(t->head + mid) % t->cap];
		if (v == id)
			return (long)((t->head + mid) % t->cap);
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void commit(struct tail *t, int64_t now)
{
	uint64_t pos = t->count > 0 ? t->ids[t->head]
	                            : make_id(t->bucket < 0 ? 0 : t->bucket, t->buf_off + (int64_t)t->bpos);
	if (t->bucket < 0 && t->count == 0)
		return;
	t->last_commit_ms = now;
	if (pos == t->committed)
		return;
	char path[1100], text[64];
	snprintf(path, sizeof(path), "%s/_speed/tail.pos", t->dir);
	int n = snprintf(text, sizeof(text), "%llu %llu\n", (unsigned long long)(pos >> 32),
	                 (unsigned long long)(pos & 0xffffffffu));
	if (lam_write_atomic(path, text, (size_t)n) == 0)
		t->committed = pos;
}

static void emit_line(stm_ctx *c, struct tail *t, const char *line, size_t len, uint64_t id)
{
	lam_event e;
	if (!lam_event_parse(line, len, &e)) {
		fprintf(stderr, "tail: skipping a malformed line at bucket %llu offset %llu\n",
		        (unsigned long long)(id >> 32), (unsigned long long)(id & 0xffffffffu));
		long i = find(t, id);
		if (i >= 0)
			t->acked[i] = true;
		return;
	}
	stm_value v[3] = {stm_strn(e.url, e.url_len), stm_int(e.time_ms / t->bucket_ms),
	                  stm_int(e.time_ms)};
	stm_spout_emit(c, STM_DEFAULT_STREAM, v, 3, true, id);
}

/* Reads the line of a failed event again and emits it. */
static void replay_one(stm_ctx *c, struct tail *t, uint64_t id)
{
	int64_t bucket = (int64_t)(id >> 32), off = (int64_t)(id & 0xffffffffu);
	if (bucket != t->replay_bucket) {
		if (t->replay_fd >= 0)
			close(t->replay_fd);
		t->replay_fd = open_bucket_file(t->dir, bucket, NULL);
		t->replay_bucket = bucket;
	}
	char line[512];
	ssize_t n = t->replay_fd >= 0 ? pread(t->replay_fd, line, sizeof(line), off) : -1;
	char *nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
	if (nl == NULL) {
		fprintf(stderr, "tail: cannot read event at bucket %lld offset %lld again\n",
		        (long long)bucket, (long long)off);
		return;
	}
	emit_line(c, t, line, (size_t)(nl - line), id);
}

static void tail_next(stm_ctx *c, void *state)
{
	struct tail *t = state;
	int64_t now = lam_now_ms();
	if (now - t->last_commit_ms >= COMMIT_MS)
		commit(t, now);
	if (t->bucket_ms < 0 && (t->bucket_ms = lam_dataset_bucket_ms(t->dir)) < 0)
		return; /* no dataset yet */
	if (t->nreplay > 0) {
		replay_one(c, t, t->replay[--t->nreplay]);
		return;
	}
	if (t->count >= RING_MAX)
		return; /* the oldest event is stuck: wait for its replay to complete */
	if (t->bucket < 0) {
		int64_t first = lam_next_bucket(t->dir, -1);
		if (first < 0)
			return;
		start_at(t, first, 0);
		if (t->fd < 0)
			return;
	}
	const char *line;
	size_t len;
	int64_t off;
	if (!next_line(t, &line, &len, &off))
		return;
	if (off > UINT32_MAX) {
		fprintf(stderr, "tail: bucket %lld is larger than 4 GiB; use shorter buckets\n",
		        (long long)t->bucket);
		return;
	}
	uint64_t id = make_id(t->bucket, off);
	track(t, id);
	emit_line(c, t, line, len, id);
}

static void tail_ack(stm_ctx *c, void *state, uint64_t id)
{
	(void)c;
	struct tail *t = state;
	long i = find(t, id);
	if (i < 0)
		return;
	t->acked[i] = true;
	while (t->count > 0 && t->acked[t->head]) {
		t->head = (t->head + 1) % t->cap;
		t->count--;
	}
}

static void tail_fail(stm_ctx *c, void *state, uint64_t id)
{
	(void)c;
	struct tail *t = state;
	if (find(t, id) < 0)
		return;
	if (t->nreplay == t->capreplay) {
		size_t cap = t->capreplay ? t->capreplay * 2 : 1024;
		uint64_t *r = realloc(t->replay, cap * sizeof(*r));
		if (r == NULL)
			return; /* it stays unacked: committed position holds, a restart replays it */
		t->replay = r;
		t->capreplay = cap;
	}
	t->replay[t->nreplay++] = id;
}

static void tail_close(stm_ctx *c, void *state)
{
	(void)c;
	struct tail *t = state;
	commit(t, lam_now_ms());
	if (t->fd >= 0)
		close(t->fd);
	if (t->replay_fd >= 0)
		close(t->replay_fd);
	free(t->buf);
	free(t->ids);
	free(t->acked);
	free(t->replay);
	free(t);
}

const stm_spout_def speed_tail_spout = {.open = tail_open,
                                        .next_tuple = tail_next,
                                        .ack = tail_ack,
                                        .fail = tail_fail,
                                        .close = tail_close};
