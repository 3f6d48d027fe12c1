/* disk_du.c — the disk/du isolator: the sandbox's usage, measured by walking it (as
 * `du` does) periodically on the runtime clock by the monitor, and a limitation when
 * it passes the container's disk while enforcement is on
 * (--enforce-container-disk-quota). */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/containerizer/isolator.h"

/* nftw has no user argument: the walk's total lives here, one walk at a time. */
static pthread_mutex_t walk_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t walk_total;
/* Hard links counted once: remember (dev, ino) of multiply-linked files. */
static struct {
	dev_t dev;
	ino_t ino;
} * seen;
static size_t nseen, capseen;

static int walk_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
		for (size_t i = 0; i < nseen; i++)
			if (seen[i].dev == st->st_dev && seen[i].ino == st->st_ino)
				return 0;
		if (nseen == capseen) {
			size_t cap = capseen ? capseen * 2 : 64;
			void *p = realloc(seen, cap * sizeof(*seen));
			if (p != NULL) {
				seen = p;
				capseen = cap;
			}
		}
		if (nseen < capseen) {
			seen[nseen].dev = st->st_dev;
			seen[nseen].ino = st->st_ino;
			nseen++;
		}
	}
	walk_total += (uint64_t)st->st_blocks * 512;
	return 0;
}

uint64_t ctr_du(const char *dir)
{
	uint64_t total;
	pthread_mutex_lock(&walk_mu);
	walk_total = 0;
	nseen = 0;
	(void)nftw(dir, walk_entry, 32, FTW_PHYS | FTW_MOUNT);
	total = walk_total;
	free(seen);
	seen = NULL;
	capseen = 0;
	pthread_mutex_unlock(&walk_mu);
	return total;
}

static void du_usage(const struct ctr *c, Plexus__ResourceStatistics *st)
{
	if (c->disk_measured) {
		st->has_disk_used_bytes = true;
		st->disk_used_bytes = c->disk_used;
	}
	if (c->res.disk_bytes > 0) {
		st->has_disk_limit_bytes = true;
		st->disk_limit_bytes = c->res.disk_bytes;
	}
}

static bool du_limitation(struct ctr *c, struct ctr_limitation *out)
{
	if (!c->cfg->enforce_disk || c->res.disk_bytes == 0 || !c->disk_measured ||
	    c->disk_used <= c->res.disk_bytes)
		return false;
	out->reason = PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_DISK;
	snprintf(out->message, sizeof(out->message),
	         "container disk limit: %" PRIu64 " bytes exceeded (sandbox uses %" PRIu64
	         " bytes)",
	         c->res.disk_bytes, c->disk_used);
	return true;
}

static int du_update(struct ctr *c, const struct ctr_resources *r)
{
	return 0;
}

const struct isolator_ops isolator_disk_du = {
    .name = "disk/du",
    .update = du_update,
    .usage = du_usage,
    .limitation = du_limitation,
};
