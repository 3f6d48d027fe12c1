/* gc.c — garbage collection of old sandboxes, as Mesos's agent does it: the sandbox of
 * an executor that is over is removed --gc-delay after that (1 week by default), on
 * the runtime clock. Every --disk-watch-interval the disk of the work dir is measured,
 * and when it fills up the sandboxes go sooner: what is due within
 *
 *     gc_delay - gc_delay * max(0, 1 - gc_disk_headroom - disk usage)
 *
 * is removed at once (Mesos's formula: with usage at 1 - headroom or above, every
 * scheduled sandbox). Sandboxes a previous run of the agent left behind are scheduled at
 * start, aged by their modification time; those of executors it recovered stay. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/internal.h"

struct gc_entry {
	char *path;
	int64_t due; /* runtime clock, ms */
	struct gc_entry *next;
};

struct agent_gc_state {
	struct gc_entry *entries;
	uint64_t timer; /* fires at the earliest due entry */
	int64_t timer_due;
	uint64_t disk_timer;
};

static void arm(struct agent *a);

/* Removes the run's directory, its "latest" link if that named it, and the executor's
 * (and framework's) directories once they are empty. */
static void remove_sandbox(struct agent *a, const char *path)
{
	int rc = ckpt_remove_tree(path);
	if (rc != 0 && rc != ENOENT) {
		actor_warn("agent %s: gc: cannot remove %s: %s", a->pid.id, path, strerror(rc));
		return;
	}
	actor_info("agent %s: gc: removed the sandbox %s", a->pid.id, path);
	char *runs = strdup(path);
	if (runs == NULL)
		return;
	char *slash = strrchr(runs, '/');
	if (slash != NULL) {
		const char *run = slash + 1;
		char link[PATH_MAX], *latest = NULL;
		*slash = '\0';
		if (asprintf(&latest, "%s/latest", runs) >= 0) {
			ssize_t n = readlink(latest, link, sizeof(link) - 1);
			if (n > 0) {
				link[n] = '\0';
				const char *base = strrchr(link, '/');
				if (strcmp(base ? base + 1 : link, run) == 0)
					unlink(latest);
			}
			free(latest);
		}
		/* runs, <executor>, executors, <framework>: each only when empty. */
		for (int up = 0; up < 4 && rmdir(runs) == 0; up++) {
			char *s = strrchr(runs, '/');
			if (s == NULL)
				break;
			*s = '\0';
		}
	}
	free(runs);
}

static void collect(struct agent *a, int64_t horizon)
{
	struct agent_gc_state *g = a->gc;
	for (struct gc_entry **pp = &g->entries; *pp != NULL;) {
		struct gc_entry *e = *pp;
		if (e->due <= horizon) {
			*pp = e->next;
			remove_sandbox(a, e->path);
			free(e->path);
			free(e);
			continue;
		}
		pp = &e->next;
	}
}

static void timer_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct agent *a = actor_state(self);
	if (a->gc == NULL)
		return;
	a->gc->timer = 0;
	collect(a, actor_clock_now());
	arm(a);
}

static void arm(struct agent *a)
{
	struct agent_gc_state *g = a->gc;
	int64_t first = INT64_MAX;
	for (struct gc_entry *e = g->entries; e != NULL; e = e->next)
		if (e->due < first)
			first = e->due;
	if (g->timer != 0 && g->timer_due == first)
		return;
	if (g->timer != 0) {
		actor_cancel(a->self, g->timer);
		g->timer = 0;
	}
	if (first == INT64_MAX)
		return;
	int64_t in = first - actor_clock_now();
	g->timer = actor_delay(a->self, in > 0 ? in : 0, timer_cb, NULL);
	g->timer_due = first;
}

/* The used fraction of the work dir's file system, or -1. */
static double disk_usage(const char *dir)
{
	struct statvfs st;
	if (statvfs(dir, &st) != 0 || st.f_blocks == 0)
		return -1;
	return 1.0 - (double)st.f_bavail / (double)st.f_blocks;
}

static void disk_cb(actor_t *self, void *arg)
{
	(void)arg;
	if (self == NULL)
		return;
	struct agent *a = actor_state(self);
	if (a->gc == NULL)
		return;
	double usage = disk_usage(a->work_dir);
	if (usage >= 0) {
		double keep = 1.0 - a->gc_headroom - usage;
		if (keep < 0)
			keep = 0;
		int64_t max_age = (int64_t)((double)a->gc_delay_ms * keep);
		if (max_age < a->gc_delay_ms) {
			actor_info("agent %s: gc: the disk is %.0f%% full; removing sandboxes due "
			           "within %lld ms",
			           a->pid.id, usage * 100, (long long)(a->gc_delay_ms - max_age));
			collect(a, actor_clock_now() + (a->gc_delay_ms - max_age));
			arm(a);
		}
	}
	a->gc->disk_timer = actor_delay(self, a->disk_watch_ms, disk_cb, NULL);
}

void agent_gc_schedule(struct agent *a, const char *dir, int64_t age_ms)
{
	if (a->gc == NULL || dir == NULL)
		return;
	for (struct gc_entry *e = a->gc->entries; e != NULL; e = e->next)
		if (strcmp(e->path, dir) == 0)
			return;
	struct gc_entry *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->path = strdup(dir)) == NULL) {
		free(e);
		actor_error("agent %s: gc: out of memory; %s stays", a->pid.id, dir);
		return;
	}
	int64_t delay = a->gc_delay_ms - (age_ms > 0 ? age_ms : 0);
	e->due = actor_clock_now() + (delay > 0 ? delay : 0);
	e->next = a->gc->entries;
	a->gc->entries = e;
	arm(a);
}

void agent_gc_unschedule(struct agent *a, const char *dir)
{
	if (a->gc == NULL)
		return;
	for (struct gc_entry **pp = &a->gc->entries; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->path, dir) == 0) {
			struct gc_entry *e = *pp;
			*pp = e->next;
			free(e->path);
			free(e);
			arm(a);
			return;
		}
}

static bool in_use(struct agent *a, const char *dir)
{
	for (struct agent_framework *fw = a->frameworks; fw; fw = fw->next)
		for (struct agent_executor *ex = fw->executors; ex; ex = ex->next)
			if (ex->directory != NULL && strcmp(ex->directory, dir) == 0)
				return true;
	return false;
}

/* Walks <work>/slaves/<A>/frameworks/<F>/executors/<E>/runs/<R> (depth counts the
 * levels below <work>/slaves) and schedules every run that is not in use. */
static void scan(struct agent *a, const char *dir, int depth, double now_wall)
{
	static const char *const fixed[] = {NULL, "frameworks", NULL, "executors", NULL, "runs"};
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "latest") == 0)
			continue;
		if (depth < 6 && fixed[depth] != NULL && strcmp(e->d_name, fixed[depth]) != 0)
			continue;
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			continue;
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (depth < 6)
				scan(a, p, depth + 1, now_wall);
			else if (!in_use(a, p)) {
				double age = now_wall - (double)st.st_mtime;
				agent_gc_schedule(a, p, age > 0 ? (int64_t)(age * 1000) : 0);
			}
		}
		free(p);
	}
	closedir(d);
}

void agent_gc_start(struct agent *a)
{
	a->gc = calloc(1, sizeof(*a->gc));
	if (a->gc == NULL) {
		actor_error("agent %s: gc: out of memory; sandboxes are not collected", a->pid.id);
		return;
	}
	char *slaves = NULL;
	if (asprintf(&slaves, "%s/slaves", a->work_dir) >= 0) {
		scan(a, slaves, 0, agent_wall_now());
		free(slaves);
	}
	a->gc->disk_timer = actor_delay(a->self, a->disk_watch_ms, disk_cb, NULL);
}

void agent_gc_stop(struct agent *a)
{
	struct agent_gc_state *g = a->gc;
	if (g == NULL)
		return;
	if (g->timer != 0)
		actor_cancel(a->self, g->timer);
	if (g->disk_timer != 0)
		actor_cancel(a->self, g->disk_timer);
	for (struct gc_entry *e = g->entries, *next; e != NULL; e = next) {
		next = e->next;
		free(e->path);
		free(e);
	}
	free(g);
	a->gc = NULL;
}
