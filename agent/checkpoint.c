/* checkpoint.c — atomic files, the run file's records, and the agent's own checkpoints.
 * See checkpoint.h for the layout. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/internal.h"
#include "agent/paths.h"

#define MAGIC     "PXCKPT1\n"
#define MAGIC_LEN 8
#define MAX_FILE  (64u << 20)

/* ---- files ------------------------------------------------------------------------ */

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ckpt_write_atomic(const char *path, const void *data, size_t len)
{
	char *dir = strdup(path), *tmp = NULL;
	int rc = 0, fd = -1;

	if (dir == NULL)
		return ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		free(dir);
		return EINVAL;
	}
	*slash = '\0';
	if ((rc = agent_mkdirs(dir)) != 0)
		goto out;
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		rc = ENOMEM;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = errno;
		goto out;
	}
	if ((rc = write_all(fd, data, len)) != 0 || (fsync(fd) != 0 && (rc = errno) != 0))
		goto out;
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = errno;
		goto out;
	}
	/* The rename itself is durable only once the directory is. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(dir);
	return rc;
}

int ckpt_read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size > MAX_FILE) {
		int rc = errno ? errno : EFBIG;
		close(fd);
		return rc;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int ckpt_remove_tree(const char *path)
{
	DIR *d = opendir(path);
	int rc = 0;

	if (d == NULL)
		return unlink(path) == 0 || errno == ENOENT ? 0 : errno;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *child = NULL;
		if (asprintf(&child, "%s/%s", path, e->d_name) < 0)
			continue;
		struct stat st;
		int r;
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			r = ckpt_remove_tree(child);
		else
			r = unlink(child) == 0 ? 0 : errno;
		if (rc == 0)
			rc = r;
		free(child);
	}
	closedir(d);
	if (rmdir(path) != 0 && rc == 0)
		rc = errno;
	return rc;
}

uint64_t ckpt_process_start(int pid)
{
	char path[64], buf[1024];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Field 2 (the command) may hold spaces and parentheses: count from its last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p++;
	/* A zombie has ended: only its parent has not collected it yet. */
	if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
		return 0;
	/* Field 3 is the first after it; field 22 is the start time. */
	for (int field = 3; field < 22 && *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return strtoull(p, NULL, 10);
}

/* ---- records ---------------------------------------------------------------------- */

/* CRC-32 (IEEE) of the type byte followed by the body: a flipped type is damage too. */
static uint32_t crc32(uint8_t type, const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i <= n; i++) {
		c ^= i == 0 ? type : p[i - 1];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t ckpt_parse(const uint8_t *data, size_t len, ckpt_record_fn fn, void *arg, char *damage,
                  size_t damagelen)
{
	size_t off = MAGIC_LEN, n = 0;

	if (damagelen > 0)
		damage[0] = '\0';
	if (len < MAGIC_LEN || memcmp(data, MAGIC, MAGIC_LEN) != 0) {
		snprintf(damage, damagelen, "%s",
		         len == 0 ? "the file is empty" : "not a checkpoint (bad magic)");
		return 0;
	}
	while (off < len) {
		if (len - off < 9) {
			snprintf(damage, damagelen, "truncated record header at byte %zu", off);
			return n;
		}
		int type = data[off];
		uint32_t blen = get32(data + off + 1), crc = get32(data + off + 5);
		if (blen > len - off - 9) {
			snprintf(damage, damagelen,
			         "truncated record at byte %zu (%u bytes announced, %zu there)",
			         off, blen, len - off - 9);
			return n;
		}
		const uint8_t *body = data + off + 9;
		if (crc32((uint8_t)type, body, blen) != crc) {
			snprintf(damage, damagelen, "bad checksum of the record at byte %zu", off);
			return n;
		}
		if (type == CKPT_END) {
			if (off + 9 + blen != len)
				snprintf(damage, damagelen, "%zu bytes after the end record",
				         len - off - 9 - blen);
			return n;
		}
		if (fn(type, body, blen, arg) != 0) {
			snprintf(damage, damagelen, "undecodable record (type %d) at byte %zu",
			         type, off);
			return n;
		}
		n++;
		off += 9 + blen;
	}
	snprintf(damage, damagelen, "the file ends at byte %zu without its end record (truncated)",
	         len);
	return n;
}

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	bool failed;
};

static uint8_t *wb_reserve(struct wbuf *b, size_t more)
{
	if (b->failed)
		return NULL;
	if (b->n + more > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + more)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->n;
}

/* Appends a record whose body is prefix (may be empty) then msg packed (may be NULL). */
static void wb_record(struct wbuf *b, int type, const void *prefix, size_t plen,
                      const ProtobufCMessage *msg)
{
	size_t mlen = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	uint8_t *p = wb_reserve(b, 9 + plen + mlen);
	if (p == NULL)
		return;
	p[0] = (uint8_t)type;
	put32(p + 1, (uint32_t)(plen + mlen));
	if (plen > 0)
		memcpy(p + 9, prefix, plen);
	if (msg != NULL)
		protobuf_c_message_pack(msg, p + 9 + plen);
	put32(p + 5, crc32(p[0], p + 9, plen + mlen));
	b->n += 9 + plen + mlen;
}

/* ---- the agent's checkpoints ------------------------------------------------------ */

char *ckpt_agent_dir(const char *work_dir, const char *agent_id)
{
	char *p = NULL;
	if (asprintf(&p, "%s/meta/slaves/%s", work_dir, agent_id) < 0)
		return NULL;
	return p;
}

static char *run_dir(struct agent *a, struct agent_executor *ex)
{
	char *p = NULL;
	if (asprintf(&p, "%s/meta/slaves/%s/frameworks/%s/executors/%s/runs/%s", a->work_dir,
	             a->agent_id, ex->fw->id, ex->id, ex->run_uuid) < 0)
		return NULL;
	return p;
}

void agent_checkpoint_agent(struct agent *a)
{
	if (!a->checkpoint || a->agent_id == NULL)
		return;
	char *latest = NULL, *dir = ckpt_agent_dir(a->work_dir, a->agent_id), *info_path = NULL;
	if (dir == NULL || asprintf(&latest, "%s/meta/slaves/latest", a->work_dir) < 0 ||
	    asprintf(&info_path, "%s/slave.info", dir) < 0) {
		actor_error("agent %s: out of memory checkpointing the agent id", a->pid.id);
		goto out;
	}
	Plexus__AgentInfo info;
	Plexus__Resource **res;
	size_t nres;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	agent_fill_info(a, &info, &res, &nres);
	aid.value = a->agent_id;
	info.id = &aid;
	size_t len = protobuf_c_message_get_packed_size(&info.base);
	uint8_t *buf = malloc(len ? len : 1);
	int rc = ENOMEM;
	if (buf != NULL) {
		protobuf_c_message_pack(&info.base, buf);
		rc = ckpt_write_atomic(info_path, buf, len);
	}
	free(buf);
	px_pb_resources_free(res, nres);
	/* The id last: a "latest" naming a directory means the directory is complete. */
	if (rc == 0)
		rc = ckpt_write_atomic(latest, a->agent_id, strlen(a->agent_id));
	if (rc != 0)
		actor_error("agent %s: cannot checkpoint the agent id under %s/meta: %s", a->pid.id,
		            a->work_dir, strerror(rc));
out:
	free(latest);
	free(info_path);
	free(dir);
}

void agent_checkpoint_forget_agent(struct agent *a)
{
	char *latest = NULL;
	if (asprintf(&latest, "%s/meta/slaves/latest", a->work_dir) < 0)
		return;
	if (unlink(latest) != 0 && errno != ENOENT)
		actor_warn("agent %s: cannot remove %s: %s", a->pid.id, latest, strerror(errno));
	free(latest);
	/* What was checkpointed under the old id will never be recovered. */
	char *dir = a->agent_id != NULL ? ckpt_agent_dir(a->work_dir, a->agent_id) : NULL;
	if (dir != NULL)
		(void)ckpt_remove_tree(dir);
	free(dir);
}

static void run_text(struct agent *a, struct agent_executor *ex, char *out, size_t len)
{
	char driver[ACTOR_PID_TEXT_MAX] = "";
	(void)a;
	if (ex->driver.id[0] != '\0')
		actor_pid_format(ex->driver, driver, sizeof(driver));
	snprintf(out, len,
	         "framework_id=%s\nexecutor_id=%s\nrun=%s\npid=%d\nstart=%llu\ncommand=%d\n"
	         "directory=%s\ndriver=%s\nframework_pid=%s\nterminated=%d\nwait_status=%d\n",
	         ex->fw->id, ex->id, ex->run_uuid, (int)ex->container.pid,
	         (unsigned long long)ex->start_ticks, ex->command ? 1 : 0,
	         ex->directory ? ex->directory : "", driver, ex->fw->pid ? ex->fw->pid : "",
	         ex->phase == EXECUTOR_TERMINATED ? 1 : 0, ex->wait_status);
}

static void tasks_records(struct agent *a, struct wbuf *b, struct agent_executor *ex,
                          struct agent_task *list, uint8_t which)
{
	for (struct agent_task *t = list; t != NULL; t = t->next) {
		uint8_t prefix[5];
		prefix[0] = which;
		put32(prefix + 1, (uint32_t)t->state);
		wb_record(b, CKPT_TASK, prefix, sizeof(prefix), &t->info->base);
		/* The task's unacknowledged updates, oldest first. */
		for (struct sum_stream *s = a->sum.streams; s != NULL; s = s->next) {
			if (strcmp(s->framework_id, ex->fw->id) != 0 ||
			    strcmp(s->task_id, t->info->task_id->value) != 0)
				continue;
			for (struct sum_update *u = s->head; u != NULL; u = u->next)
				wb_record(b, CKPT_UPDATE, NULL, 0, &u->u->base);
		}
	}
}

void agent_checkpoint_executor(struct agent *a, struct agent_executor *ex)
{
	if (!a->checkpoint || a->agent_id == NULL || ex == NULL || ex->run_uuid[0] == '\0' ||
	    (ex->container.pid <= 0 && ex->phase != EXECUTOR_TERMINATED))
		return;
	struct wbuf b = {0};
	char text[8192];
	uint8_t *m = wb_reserve(&b, MAGIC_LEN);
	if (m != NULL) {
		memcpy(m, MAGIC, MAGIC_LEN);
		b.n = MAGIC_LEN;
	}
	run_text(a, ex, text, sizeof(text));
	wb_record(&b, CKPT_RUN, text, strlen(text), NULL);
	if (ex->fw->info != NULL)
		wb_record(&b, CKPT_FRAMEWORK, NULL, 0, &ex->fw->info->base);
	wb_record(&b, CKPT_EXECUTOR, NULL, 0, &ex->info->base);
	tasks_records(a, &b, ex, ex->queued, 0);
	tasks_records(a, &b, ex, ex->launched, 1);
	wb_record(&b, CKPT_END, NULL, 0, NULL);
	char *dir = run_dir(a, ex), *path = NULL, *pidfile = NULL;
	int rc = ENOMEM;
	/* The process on its own, once, as Mesos's forked.pid: whatever happens to the run
	 * file, a restarted agent can still find (and kill) the executor. */
	if (dir != NULL && ex->container.pid > 0 && asprintf(&pidfile, "%s/forked.pid", dir) >= 0) {
		if (access(pidfile, F_OK) != 0) {
			char line[128];
			int n = snprintf(line, sizeof(line), "%d %llu %d\n", (int)ex->container.pid,
			                 (unsigned long long)ex->start_ticks, ex->command ? 1 : 0);
			(void)ckpt_write_atomic(pidfile, line, (size_t)n);
		}
		free(pidfile);
	}
	if (!b.failed && dir != NULL && asprintf(&path, "%s/run.ckpt", dir) >= 0)
		rc = ckpt_write_atomic(path, b.p, b.n);
	else
		path = NULL;
	if (rc != 0)
		actor_error("agent %s: cannot checkpoint executor %s of framework %s: %s",
		            a->pid.id, ex->id, ex->fw->id, strerror(rc));
	free(path);
	free(dir);
	free(b.p);
}

void agent_checkpoint_forget_executor(struct agent *a, struct agent_executor *ex)
{
	if (a->agent_id == NULL || ex->run_uuid[0] == '\0')
		return;
	char *dir = run_dir(a, ex);
	if (dir == NULL)
		return;
	int rc = ckpt_remove_tree(dir);
	if (rc != 0 && rc != ENOENT)
		actor_warn("agent %s: cannot remove the checkpoint %s: %s", a->pid.id, dir,
		           strerror(rc));
	free(dir);
	/* The executor's directory goes with its last run (best effort: rmdir of a
	 * non-empty directory fails harmlessly). */
	char *exdir = NULL;
	if (asprintf(&exdir, "%s/meta/slaves/%s/frameworks/%s/executors/%s/runs", a->work_dir,
	             a->agent_id, ex->fw->id, ex->id) >= 0) {
		if (rmdir(exdir) == 0) {
			char *s = strrchr(exdir, '/');
			*s = '\0';
			(void)rmdir(exdir);
		}
		free(exdir);
	}
}
