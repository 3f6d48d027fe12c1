/* posix.c — the posix/cpu and posix/mem isolators: no containment at all, only
 * accounting. The container's processes are the executor's session (the launcher makes
 * the executor a session leader; tasks that move to groups of their own keep the
 * session), their cpu times and resident sizes are read from /proc. posix/mem also
 * reports a limitation when the container's resident memory passes its mem (the
 * monitor checks periodically and kills the container), since nothing else would. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/containerizer/isolator.h"

struct proc_stat {
	pid_t sid;
	uint64_t utime, stime; /* clock ticks */
	uint64_t rss_pages;
	uint64_t threads;
};

static int read_stat(pid_t pid, struct proc_stat *ps)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after its last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	char state;
	int ppid, pgrp, sid;
	unsigned long long utime, stime, threads, rss;
	/* fields 3..24: state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice num_threads itrealvalue
	 * starttime vsize rss */
	if (sscanf(p + 2,
	           "%c %d %d %d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %llu "
	           "%*d %*u %*u %llu",
	           &state, &ppid, &pgrp, &sid, &utime, &stime, &threads, &rss) != 8)
		return -1;
	ps->sid = sid;
	ps->utime = utime;
	ps->stime = stime;
	ps->threads = threads;
	ps->rss_pages = rss;
	return 0;
}

int ctr_posix_each(pid_t leader, void (*fn)(pid_t pid, void *arg), void *arg)
{
	DIR *d = opendir("/proc");
	int n = 0;
	if (d == NULL || leader <= 0) {
		if (d)
			closedir(d);
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		struct proc_stat ps;
		pid_t pid = (pid_t)atoi(e->d_name);
		if (read_stat(pid, &ps) == 0 && ps.sid == leader) {
			n++;
			if (fn)
				fn(pid, arg);
		}
	}
	closedir(d);
	return n;
}

struct sum {
	uint64_t utime, stime, rss_pages, threads, procs;
};

static void add(pid_t pid, void *arg)
{
	struct sum *s = arg;
	struct proc_stat ps;
	if (read_stat(pid, &ps) != 0)
		return;
	s->utime += ps.utime;
	s->stime += ps.stime;
	s->rss_pages += ps.rss_pages;
	s->threads += ps.threads;
	s->procs++;
}

static void posix_cpu_usage(const struct ctr *c, Plexus__ResourceStatistics *st)
{
	struct sum s = {0};
	double hz = (double)sysconf(_SC_CLK_TCK);

	ctr_posix_each(c->pid, add, &s);
	st->has_cpus_user_time_secs = st->has_cpus_system_time_secs = true;
	st->cpus_user_time_secs = (double)s.utime / hz;
	st->cpus_system_time_secs = (double)s.stime / hz;
	st->has_processes = st->has_threads = true;
	st->processes = (uint32_t)s.procs;
	st->threads = (uint32_t)s.threads;
	if (c->res.cpus > 0) {
		st->has_cpus_limit = true;
		st->cpus_limit = c->res.cpus;
	}
}

static uint64_t rss_bytes(const struct ctr *c)
{
	struct sum s = {0};
	ctr_posix_each(c->pid, add, &s);
	return s.rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void posix_mem_usage(const struct ctr *c, Plexus__ResourceStatistics *st)
{
	st->has_mem_rss_bytes = true;
	st->mem_rss_bytes = rss_bytes(c);
	if (c->res.mem_bytes > 0) {
		st->has_mem_limit_bytes = true;
		st->mem_limit_bytes = c->res.mem_bytes;
	}
}

static bool posix_mem_limitation(struct ctr *c, struct ctr_limitation *out)
{
	if (c->res.mem_bytes == 0 || c->pid <= 0)
		return false;
	uint64_t rss = rss_bytes(c);
	if (rss <= c->res.mem_bytes)
		return false;
	out->reason = PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY;
	snprintf(out->message, sizeof(out->message),
	         "container memory limit: %" PRIu64 " bytes exceeded (resident %" PRIu64 " bytes)",
	         c->res.mem_bytes, rss);
	return true;
}

static int posix_update(struct ctr *c, const struct ctr_resources *r)
{
	return 0; /* the containerizer keeps c->res; nothing to apply */
}

const struct isolator_ops isolator_posix_cpu = {
    .name = "posix/cpu",
    .update = posix_update,
    .usage = posix_cpu_usage,
};

const struct isolator_ops isolator_posix_mem = {
    .name = "posix/mem",
    .update = posix_update,
    .usage = posix_mem_usage,
    .limitation = posix_mem_limitation,
};
