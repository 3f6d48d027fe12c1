/* containerizer.c — see containerizer.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actor/clock.h"
#include "actor/log.h"
#include "agent/containerizer/container.h"
#include "agent/containerizer/launcher_linux.h"
#include "agent/containerizer/monitor.h"

#define DEFAULT_ISOLATION_CGROUPS "cgroups/cpu,cgroups/mem,disk/du"
#define DEFAULT_ISOLATION_POSIX   "posix/cpu,posix/mem,disk/du"
#define DEFAULT_DISK_WATCH_MS     15000
/* An empty container cgroup this old is nobody's launch under way. */
#define ORPHAN_MIN_AGE_S 30
/* How often the monitor reads the containers' limits at least. */
#define LIMIT_CHECK_MS 1000

static const struct {
	const char *name;
	const struct isolator_ops *ops; /* NULL: namespaces/pid, a launcher option */
	bool cgroups;
} known[] = {
    {"cgroups/cpu", &isolator_cgroups_cpu, true}, {"cgroups/mem", &isolator_cgroups_mem, true},
    {"posix/cpu", &isolator_posix_cpu, false},    {"posix/mem", &isolator_posix_mem, false},
    {"disk/du", &isolator_disk_du, false},        {"namespaces/pid", NULL, false},
};

/* Calls fn for each name of the comma-separated list; stops at the first error. */
static int each_name(const char *list, int (*fn)(const char *name, void *arg), void *arg, char *err,
                     size_t errlen)
{
	char buf[512];
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "--isolation is too long");
		return EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *n = strtok_r(buf, ",", &save); n != NULL; n = strtok_r(NULL, ",", &save)) {
		while (*n == ' ')
			n++;
		int rc = fn(n, arg);
		if (rc != 0) {
			snprintf(err, errlen,
			         "--isolation: unknown isolator '%s' (known: "
			         "cgroups/cpu, cgroups/mem, posix/cpu, posix/mem, disk/du, "
			         "namespaces/pid)",
			         n);
			return rc;
		}
	}
	return 0;
}

static int find(const char *name)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].name, name) == 0)
			return (int)i;
	return -1;
}

struct seen {
	unsigned mask;
};

static int note(const char *name, void *arg)
{
	struct seen *s = arg;
	int i = find(name);
	if (i < 0)
		return EINVAL;
	s->mask |= 1u << i;
	return 0;
}

int containerizer_flags_check(const struct containerizer_flags *f, char *err, size_t errlen)
{
	struct seen s = {0};
	if (f->isolation == NULL)
		return 0;
	int rc = each_name(f->isolation, note, &s, err, errlen);
	if (rc != 0)
		return rc;
	if (((s.mask & 1) && (s.mask & 4)) || ((s.mask & 2) && (s.mask & 8))) {
		snprintf(err, errlen, "--isolation: cgroups/X and posix/X are alternatives");
		return EINVAL;
	}
	return 0;
}

/* Fills z's isolators from list; with use_cgroups false the cgroups isolators become
 * their posix counterparts. */
static void choose(struct containerizer *z, const char *list, bool use_cgroups, bool can_ns)
{
	struct seen s = {0};
	char err[256];
	(void)each_name(list, note, &s, err, sizeof(err));
	if (!use_cgroups) {
		if (s.mask & 1)
			s.mask = (s.mask & ~1u) | 4u;
		if (s.mask & 2)
			s.mask = (s.mask & ~2u) | 8u;
	}
	if (!can_ns)
		s.mask &= ~(1u << 5);
	z->isolation[0] = '\0';
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!(s.mask & (1u << i)))
			continue;
		size_t len = strlen(z->isolation);
		snprintf(z->isolation + len, sizeof(z->isolation) - len, "%s%s", len ? "," : "",
		         known[i].name);
		if (known[i].ops == NULL)
			z->pid_namespace = true;
		else if (z->niso < MAX_ISOLATORS)
			z->iso[z->niso++] = known[i].ops;
		z->cgroups |= known[i].cgroups;
	}
	z->kill_hier = (s.mask & 1u) ? "cpu" : "memory";
}

int containerizer_create(const struct containerizer_flags *f, struct containerizer **out, char *err,
                         size_t errlen)
{
	char why[256] = "";
	int rc = containerizer_flags_check(f, err, errlen);
	if (rc != 0)
		return rc;
	struct containerizer *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	const char *root = f->cgroups_root && *f->cgroups_root ? f->cgroups_root : "plexus";
	if (strlen(root) >= sizeof(z->cfg.cgroups_root) || strstr(root, "..") != NULL) {
		snprintf(err, errlen, "--cgroups-root: '%s' is too long or leaves the hierarchy",
		         root);
		free(z);
		return EINVAL;
	}
	snprintf(z->cfg.cgroups_root, sizeof(z->cfg.cgroups_root), "%s", root);
	z->cfg.enable_cfs = f->enable_cfs;
	z->cfg.enforce_disk = f->enforce_disk;
	z->cfg.disk_watch_ms = f->disk_watch_ms > 0 ? f->disk_watch_ms : DEFAULT_DISK_WATCH_MS;

	bool root_user = geteuid() == 0;
	bool wants_cgroups = f->isolation == NULL || strstr(f->isolation, "cgroups/") != NULL;
	bool use_cgroups = false;
	if (wants_cgroups) {
		const char *base = f->cgroups_base ? f->cgroups_base : "/sys/fs/cgroup";
		(void)cg_detect(base, &z->cfg.cg, why, sizeof(why));
		if (!root_user)
			snprintf(why, sizeof(why), "the agent is not root");
		else if (z->cfg.cg.layout == CG_NONE)
			; /* why says what is missing */
		else if (!cg_writable(&z->cfg.cg, "memory", z->cfg.cgroups_root) ||
		         !cg_writable(&z->cfg.cg, "cpu", z->cfg.cgroups_root))
			snprintf(why, sizeof(why), "cannot create cgroups under '%s' (%s layout)",
			         z->cfg.cgroups_root, cg_layout_name(z->cfg.cg.layout));
		else
			use_cgroups = true;
	}
	if (!use_cgroups)
		z->cfg.cg.layout = CG_NONE;
	if (use_cgroups) {
		/* There is no recovery of containers yet: the empty cgroups of agents that
		 * died without cleaning up are only removed. */
		static const char *const hier[] = {"cpu", "cpuacct", "memory", "freezer"};
		int swept = 0;
		for (size_t i = 0; i < (z->cfg.cg.layout == CG_V2 ? 1u : 4u); i++)
			if (strcmp(hier[i], "freezer") != 0 || z->cfg.cg.freezer)
				swept += cg_sweep_empty(&z->cfg.cg, hier[i], z->cfg.cgroups_root,
				                        ORPHAN_MIN_AGE_S);
		if (swept > 0)
			actor_info("containerizer: removed %d empty cgroup(s) left under %s", swept,
			           z->cfg.cgroups_root);
	}
	const char *list = f->isolation  ? f->isolation
	                   : use_cgroups ? DEFAULT_ISOLATION_CGROUPS
	                                 : DEFAULT_ISOLATION_POSIX;
	choose(z, list, use_cgroups, root_user);
	snprintf(z->kind, sizeof(z->kind), "%s",
	         z->cgroups ? (z->cfg.cg.layout == CG_V2 ? "cgroups v2" : "cgroups v1") : "posix");
	if (wants_cgroups && !use_cgroups)
		actor_warn("containerizer: cgroups cannot be used (%s): falling back to posix "
		           "isolation",
		           why);
	actor_info("containerizer: isolation %s (%s%s)", z->isolation, z->kind,
	           z->pid_namespace ? ", pid namespace" : "");
	/* The monitor ticks at least every second: an OOM kill takes the rest of its
	 * container down within a second, whatever the disk interval. */
	if ((rc = monitor_ref(z->cfg.disk_watch_ms < LIMIT_CHECK_MS ? z->cfg.disk_watch_ms
	                                                            : LIMIT_CHECK_MS)) != 0) {
		snprintf(err, errlen, "cannot start the monitor actor: %d", rc);
		free(z);
		return EINVAL;
	}
	*out = z;
	return 0;
}

void containerizer_free(struct containerizer *z)
{
	if (z == NULL)
		return;
	monitor_unref();
	free(z);
}

const char *containerizer_isolation(const struct containerizer *z)
{
	return z ? z->isolation : "posix";
}

const char *containerizer_kind(const struct containerizer *z)
{
	return z ? z->kind : "posix";
}

void containerizer_sum_resources(Plexus__Resource *const *res, size_t n, double *cpus,
                                 double *mem_mb, double *disk_mb)
{
	for (size_t i = 0; i < n; i++) {
		const Plexus__Resource *r = res[i];
		if (r == NULL || r->name == NULL || r->scalar == NULL)
			continue;
		if (strcmp(r->name, "cpus") == 0)
			*cpus += r->scalar->value;
		else if (strcmp(r->name, "mem") == 0)
			*mem_mb += r->scalar->value;
		else if (strcmp(r->name, "disk") == 0)
			*disk_mb += r->scalar->value;
	}
}

/* ---- the launcher ops ------------------------------------------------------------- */

static struct ctr_resources resources_of(double cpus, double mem_mb, double disk_mb)
{
	struct ctr_resources r = {
	    .cpus = cpus > 0 ? cpus : 0,
	    .mem_bytes = mem_mb > 0 ? (uint64_t)(mem_mb * 1024 * 1024) : 0,
	    .disk_bytes = disk_mb > 0 ? (uint64_t)(disk_mb * 1024 * 1024) : 0,
	};
	return r;
}

static void container_free(struct container *k)
{
	free(k->c.directory);
	free(k->framework_id);
	free(k->executor_id);
	free(k->source);
	free(k);
}

/* Removes what prepare made; the processes must be gone. */
static void release(struct container *k, size_t nprepared)
{
	struct containerizer *z = k->z;
	for (size_t i = nprepared; i-- > 0;)
		if (z->iso[i]->cleanup)
			z->iso[i]->cleanup(&k->c);
	if (z->cgroups && z->cfg.cg.layout == CG_V1 && z->cfg.cg.freezer)
		(void)cg_remove(&z->cfg.cg, "freezer", k->c.cgroup);
}

static int isolate_all(void *arg, pid_t pid, char *err, size_t errlen)
{
	struct container *k = arg;
	struct containerizer *z = k->z;
	int rc;

	k->c.pid = pid;
	if (z->cgroups && z->cfg.cg.layout == CG_V1 && z->cfg.cg.freezer &&
	    (rc = cg_attach(&z->cfg.cg, "freezer", k->c.cgroup, pid)) != 0) {
		snprintf(err, errlen, "cannot move pid %d into freezer cgroup %s: %s", (int)pid,
		         k->c.cgroup, strerror(rc));
		return rc;
	}
	for (size_t i = 0; i < z->niso; i++)
		if (z->iso[i]->isolate && (rc = z->iso[i]->isolate(&k->c, pid, err, errlen)) != 0)
			return rc;
	return 0;
}

static int launch(const struct agent_launch *l, struct agent_container *c, char *err, size_t errlen)
{
	struct containerizer *z = l->ctx;
	size_t prepared = 0;
	int rc = 0;

	if (z == NULL) {
		snprintf(err, errlen, "containerizer: launch without a containerizer");
		return EINVAL;
	}
	struct container *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	k->z = z;
	k->c.cfg = &z->cfg;
	snprintf(k->c.id, sizeof(k->c.id), "%s", l->container_id ? l->container_id : "unnamed");
	snprintf(k->c.cgroup, sizeof(k->c.cgroup), "%s/%s", z->cfg.cgroups_root, k->c.id);
	k->c.directory = strdup(l->directory);
	k->framework_id = strdup(l->framework_id ? l->framework_id : "");
	k->executor_id = strdup(l->executor_id ? l->executor_id : "");
	k->source = strdup(l->source ? l->source : "");
	k->c.res = resources_of(l->cpus, l->mem_mb, l->disk_mb);
	if (!k->c.directory || !k->framework_id || !k->executor_id || !k->source) {
		snprintf(err, errlen, "out of memory");
		container_free(k);
		return ENOMEM;
	}
	if (z->cgroups && z->cfg.cg.layout == CG_V1 && z->cfg.cg.freezer &&
	    (rc = cg_create(&z->cfg.cg, "freezer", k->c.cgroup)) != 0) {
		snprintf(err, errlen, "cannot create freezer cgroup %s: %s", k->c.cgroup,
		         strerror(rc));
		goto fail;
	}
	for (; prepared < z->niso; prepared++)
		if (z->iso[prepared]->prepare &&
		    (rc = z->iso[prepared]->prepare(&k->c, err, errlen)) != 0) {
			prepared++; /* it may have made part of its cgroups */
			goto fail;
		}
	pid_t pid = 0;
	rc = ctr_launch(l, z->pid_namespace, isolate_all, k, &pid, err, errlen);
	if (rc != 0)
		goto fail;
	k->c.pid = pid;
	k->next_check = actor_clock_now() + z->cfg.disk_watch_ms;
	c->pid = pid;
	c->exited = false;
	c->state = k;
	monitor_add(k);
	return 0;
fail:
	release(k, prepared);
	container_free(k);
	return rc;
}

static int signal_op(const struct agent_container *c, int sig)
{
	const struct container *k = c->state;
	if (c->pid <= 0)
		return ESRCH;
	/* In a pid namespace the init hands the signal on to the executor: signalling the
	 * group as well would deliver it twice. */
	if (k != NULL && k->z->pid_namespace)
		return kill(c->pid, sig) == 0 ? 0 : errno;
	return kill(-c->pid, sig) == 0 ? 0 : errno;
}

void container_kill(struct container *k)
{
	struct containerizer *z = k->z;
	if (z->cgroups) {
		(void)cg_kill_all(&z->cfg.cg, z->kill_hier, k->c.cgroup, 0);
	}
}

static void destroy(const struct agent_container *c)
{
	struct container *k = c->state;
	if (c->pid <= 0)
		return;
	if (k != NULL)
		container_kill(k);
	/* The session sweep finds what is outside any cgroup (posix isolation) and is
	 * harmless where the cgroup kill found everything. */
	agent_posix_launcher.destroy(c);
}

struct set_res {
	struct container *k;
	struct ctr_resources r;
};

static void set_res_locked(void *arg)
{
	struct set_res *s = arg;
	s->k->c.res = s->r;
}

static int update(const struct agent_container *c, double cpus, double mem_mb, double disk_mb)
{
	struct container *k = c->state;
	int rc = 0;
	if (k == NULL)
		return 0;
	struct ctr_resources r = resources_of(cpus, mem_mb, disk_mb);
	for (size_t i = 0; i < k->z->niso; i++)
		if (k->z->iso[i]->update) {
			int e = k->z->iso[i]->update(&k->c, &r);
			rc = rc ? rc : e;
		}
	struct set_res set = {.k = k, .r = r};
	monitor_locked(set_res_locked, &set); /* the monitor reads it */
	return rc;
}

bool container_check(struct container *k, bool walk)
{
	struct containerizer *z = k->z;
	if (k->limited)
		return false;
	for (size_t i = 0; walk && i < z->niso; i++)
		if (z->iso[i] == &isolator_disk_du) {
			k->c.disk_used = ctr_du(k->c.directory);
			k->c.disk_measured = true;
		}
	for (size_t i = 0; i < z->niso; i++)
		if (z->iso[i]->limitation && z->iso[i]->limitation(&k->c, &k->limit)) {
			k->limited = true;
			actor_warn("containerizer: container %s reached a limit: %s; killing it",
			           k->c.id, k->limit.message);
			container_kill(k);
			if (k->c.pid > 0)
				kill(-k->c.pid, SIGKILL), kill(k->c.pid, SIGKILL);
			return true;
		}
	return false;
}

struct limit_query {
	struct container *k;
	bool found;
};

static void query_locked(void *arg)
{
	struct limit_query *q = arg;
	struct container *k = q->k;
	if (!k->limited) {
		/* Not seen by the periodic check: ask the isolators now (the kernel's OOM
		 * killer acts at once, the monitor only on its ticks). */
		for (size_t i = 0; i < k->z->niso && !k->limited; i++)
			if (k->z->iso[i]->limitation && k->z->iso[i] != &isolator_disk_du &&
			    k->z->iso[i]->limitation(&k->c, &k->limit))
				k->limited = true;
	}
	q->found = k->limited;
}

static bool limitation(const struct agent_container *c, int *reason, char *msg, size_t msglen)
{
	struct container *k = c->state;
	if (k == NULL)
		return false;
	struct limit_query q = {.k = k};
	monitor_locked(query_locked, &q);
	if (!q.found)
		return false;
	*reason = (int)k->limit.reason;
	snprintf(msg, msglen, "%s", k->limit.message);
	return true;
}

static void cleanup(struct agent_container *c)
{
	struct container *k = c->state;
	if (k == NULL)
		return;
	monitor_remove(k);
	c->state = NULL;
	struct containerizer *z = k->z;
	if (z->cgroups) {
		/* A cgroup with processes cannot be removed: kill the stragglers first. */
		int rc = cg_kill_all(&z->cfg.cg, z->kill_hier, k->c.cgroup, 2000);
		if (rc != 0)
			actor_warn("containerizer: processes of %s did not die: %s", k->c.id,
			           strerror(rc));
	} else if (c->pid > 0) {
		agent_posix_launcher.destroy(c);
	}
	release(k, z->niso);
	container_free(k);
}

void container_usage(const struct container *k, Plexus__ResourceStatistics *st)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	st->timestamp = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->z->niso; i++)
		if (k->z->iso[i]->usage)
			k->z->iso[i]->usage(&k->c, st);
}

void containerizer_usage(const struct agent_container *c, Plexus__ResourceStatistics *st)
{
	container_usage(c->state, st);
}

const struct agent_launcher_ops containerizer_launcher = {
    .name = "containerizer",
    .launch = launch,
    .signal = signal_op,
    .destroy = destroy,
    .update = update,
    .limitation = limitation,
    .cleanup = cleanup,
};
