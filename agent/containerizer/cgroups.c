/* cgroups.c — see cgroups.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/containerizer/cgroups.h"

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int rc = n == (ssize_t)len ? 0 : n < 0 ? errno : EIO;
	close(fd);
	return rc;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	size_t got = 0;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return 0;
}

/* Whether the cgroup2 mount at dir offers every controller named in want. */
static bool v2_has(const char *dir, const char *const *want)
{
	char path[512], buf[512];
	int n = snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (n < 0 || (size_t)n >= sizeof(path) || read_file(path, buf, sizeof(buf)) != 0)
		return false;
	for (; *want != NULL; want++) {
		bool found = false;
		size_t wl = strlen(*want);
		for (char *p = buf; (p = strstr(p, *want)) != NULL; p += wl)
			if ((p == buf || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || !p[wl]))
				found = true;
		if (!found)
			return false;
	}
	return true;
}

int cg_detect(const char *base, struct cg_system *sys, char *why, size_t whylen)
{
	static const char *const v2_need[] = {"cpu", "memory", NULL};
	char dir[1024];

	memset(sys, 0, sizeof(*sys));
	sys->layout = CG_NONE;
	if (base == NULL || strlen(base) >= sizeof(sys->base))
		return ENAMETOOLONG;
	snprintf(sys->base, sizeof(sys->base), "%s", base);
	/* v2: the unified mount at base itself, or at base/unified (hybrid), known by its
	 * cgroup.controllers (so that a fake tree of files serves the tests too). */
	const char *cands[] = {"", "/unified"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s%s", base, cands[i]);
		char ctl[1100];
		snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", dir);
		if (!exists(ctl))
			continue;
		if (v2_has(dir, v2_need)) {
			sys->layout = CG_V2;
			size_t dl = strlen(dir);
			if (dl >= sizeof(sys->unified))
				return ENAMETOOLONG;
			memcpy(sys->unified, dir, dl + 1);
			/* cgroup.kill (Linux 5.14+) is looked for at kill time: the root
			 * has none even on kernels that have it. */
			return 0;
		}
	}
	static const char *const v1_need[] = {"cpu", "cpuacct", "memory"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/%s/cgroup.procs", base, v1_need[i]);
		if (!exists(dir)) {
			snprintf(why, whylen,
			         "no cgroup v2 with cpu and memory controllers, and no cgroup v1 "
			         "'%s' hierarchy at %s/%s",
			         v1_need[i], base, v1_need[i]);
			return 0;
		}
	}
	snprintf(dir, sizeof(dir), "%s/freezer/cgroup.procs", base);
	sys->freezer = exists(dir);
	sys->layout = CG_V1;
	return 0;
}

const char *cg_layout_name(enum cg_layout layout)
{
	return layout == CG_V1 ? "v1" : layout == CG_V2 ? "v2" : "none";
}

int cg_path(const struct cg_system *sys, const char *controller, const char *cgroup, char *out,
            size_t outlen)
{
	int n;
	if (sys->layout == CG_V2)
		n = snprintf(out, outlen, "%s/%s", sys->unified, cgroup);
	else
		n = snprintf(out, outlen, "%s/%s/%s", sys->base, controller, cgroup);
	return n < 0 || (size_t)n >= outlen ? ENAMETOOLONG : 0;
}

static int file_path(const struct cg_system *sys, const char *controller, const char *cgroup,
                     const char *file, char *out, size_t outlen)
{
	char dir[1024];
	int rc = cg_path(sys, controller, cgroup, dir, sizeof(dir));
	if (rc != 0)
		return rc;
	int n = snprintf(out, outlen, "%s/%s", dir, file);
	return n < 0 || (size_t)n >= outlen ? ENAMETOOLONG : 0;
}

int cg_create(const struct cg_system *sys, const char *controller, const char *cgroup)
{
	char path[1024], root[1024];
	int rc = cg_path(sys, controller, "", root, sizeof(root));
	if (rc == 0)
		rc = cg_path(sys, controller, cgroup, path, sizeof(path));
	if (rc != 0)
		return rc;
	/* Walk down from the hierarchy's root, creating each level. */
	size_t rootlen = strlen(root);
	for (char *p = path + rootlen;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (strlen(path) > rootlen) {
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				return errno;
		}
		/* v2: controllers reach a child only when its parent enables them. */
		if (sys->layout == CG_V2 && c == '/') {
			char ctl[1100];
			snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", path);
			if (write_file(ctl, "+cpu +memory +pids") != 0)
				(void)write_file(ctl, "+cpu +memory");
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int cg_remove(const struct cg_system *sys, const char *controller, const char *cgroup)
{
	char path[1024];
	int rc = cg_path(sys, controller, cgroup, path, sizeof(path));
	if (rc != 0)
		return rc;
	if (rmdir(path) != 0 && errno != ENOENT)
		return errno;
	return 0;
}

int cg_write(const struct cg_system *sys, const char *controller, const char *cgroup,
             const char *file, const char *value)
{
	char path[1200];
	int rc = file_path(sys, controller, cgroup, file, path, sizeof(path));
	return rc ? rc : write_file(path, value);
}

int cg_read(const struct cg_system *sys, const char *controller, const char *cgroup,
            const char *file, char *buf, size_t buflen)
{
	char path[1200];
	int rc = file_path(sys, controller, cgroup, file, path, sizeof(path));
	return rc ? rc : read_file(path, buf, buflen);
}

int cg_read_u64(const struct cg_system *sys, const char *controller, const char *cgroup,
                const char *file, uint64_t *out)
{
	char buf[64], *end;
	int rc = cg_read(sys, controller, cgroup, file, buf, sizeof(buf));
	if (rc != 0)
		return rc;
	if (strncmp(buf, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (end == buf || errno != 0)
		return EINVAL;
	*out = v;
	return 0;
}

int cg_read_key(const struct cg_system *sys, const char *controller, const char *cgroup,
                const char *file, const char *key, uint64_t *out)
{
	char buf[8192];
	int rc = cg_read(sys, controller, cgroup, file, buf, sizeof(buf));
	if (rc != 0)
		return rc;
	size_t kl = strlen(key);
	for (char *line = buf; line != NULL && *line;) {
		char *next = strchr(line, '\n');
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			*out = strtoull(line + kl + 1, NULL, 10);
			return 0;
		}
		line = next ? next + 1 : NULL;
	}
	return ENOENT;
}

int cg_attach(const struct cg_system *sys, const char *controller, const char *cgroup, pid_t pid)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	return cg_write(sys, controller, cgroup, "cgroup.procs", v);
}

/* Calls fn on every pid listed in cgroup.procs; returns their number or -1. */
static int each_pid(const struct cg_system *sys, const char *controller, const char *cgroup,
                    void (*fn)(pid_t))
{
	char path[1200];
	if (file_path(sys, controller, cgroup, "cgroup.procs", path, sizeof(path)) != 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	int n = 0, pid;
	while (fscanf(f, "%d", &pid) == 1) {
		n++;
		if (fn != NULL)
			fn((pid_t)pid);
	}
	fclose(f);
	return n;
}

int cg_count(const struct cg_system *sys, const char *controller, const char *cgroup)
{
	return each_pid(sys, controller, cgroup, NULL);
}

static void kill9(pid_t pid)
{
	kill(pid, SIGKILL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cg_kill_all(const struct cg_system *sys, const char *controller, const char *cgroup,
                int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	bool frozen = false;

	if (sys->layout == CG_V2 && cg_write(sys, controller, cgroup, "cgroup.kill", "1") == 0) {
		/* The kernel kills every member, forks in flight included. */
	} else if (sys->layout == CG_V1 && sys->freezer) {
		/* A frozen process cannot fork, so no child escapes the sweep; SIGKILL
		 * still lands on frozen tasks once they are thawed. */
		frozen = cg_write(sys, "freezer", cgroup, "freezer.state", "FROZEN") == 0;
	}
	for (;;) {
		int n = each_pid(sys, controller, cgroup, kill9);
		if (frozen && n >= 0) {
			if (each_pid(sys, "freezer", cgroup, kill9) >= 0) {
				(void)cg_write(sys, "freezer", cgroup, "freezer.state", "THAWED");
				frozen = false;
			}
		}
		if (n <= 0)
			return n == 0 ? 0 : EIO;
		if (now_ms() >= deadline) {
			if (frozen)
				(void)cg_write(sys, "freezer", cgroup, "freezer.state", "THAWED");
			return ETIMEDOUT;
		}
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

bool cg_writable(const struct cg_system *sys, const char *controller, const char *root)
{
	char probe[300];
	if (sys->layout == CG_NONE)
		return false;
	snprintf(probe, sizeof(probe), "%s/.probe-%d", root, (int)getpid());
	if (cg_create(sys, controller, probe) != 0)
		return false;
	(void)cg_remove(sys, controller, probe);
	return true;
}

int cg_sweep_empty(const struct cg_system *sys, const char *controller, const char *root,
                   int min_age_s)
{
	char dir[1024], sub[1300];
	int removed = 0;
	if (cg_path(sys, controller, root, dir, sizeof(dir)) != 0)
		return 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode) || now - st.st_mtime < min_age_s)
			continue;
		char rel[600];
		snprintf(rel, sizeof(rel), "%s/%s", root, e->d_name);
		if (cg_count(sys, controller, rel) == 0 && rmdir(sub) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
