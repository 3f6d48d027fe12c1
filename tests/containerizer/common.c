/* common.c — see common.h. */
#include "common.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/resources.h"

int64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *test_cgroups_root(void)
{
	static char root[64];
	if (root[0] == '\0')
		snprintf(root, sizeof(root), "plexus-test-%d", (int)getpid());
	return root;
}

bool test_have_cgroups(void)
{
	struct stat st;
	return geteuid() == 0 && (stat("/sys/fs/cgroup/memory/cgroup.procs", &st) == 0 ||
	                          stat("/sys/fs/cgroup/cgroup.subtree_control", &st) == 0);
}

static void kill_procs(const char *dir)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int round = 0; round < 200; round++) {
		FILE *f = fopen(path, "re");
		int pid, n = 0;
		if (f == NULL)
			return;
		while (fscanf(f, "%d", &pid) == 1) {
			kill(pid, SIGKILL);
			n++;
		}
		fclose(f);
		if (n == 0)
			return;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Removes dir's child cgroups (one level: the containers), then dir. */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	char sub[1200];
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		kill_procs(sub);
		rmdir(sub);
	}
	closedir(d);
	/* A frozen freezer cgroup left by a failed test must thaw for SIGKILL to land. */
	snprintf(sub, sizeof(sub), "%s/freezer.state", dir);
	kill_procs(dir);
	rmdir(dir);
}

void test_remove_cgroups(void)
{
	static const char *const hier[] = {"cpu", "cpuacct", "memory", "freezer", "unified", ""};
	char dir[512];
	for (size_t i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s%s", hier[i], *hier[i] ? "/" : "",
		         test_cgroups_root());
		/* Thaw first: SIGKILL waits for a frozen task to thaw. */
		if (strcmp(hier[i], "freezer") == 0) {
			DIR *d = opendir(dir);
			struct dirent *e;
			while (d != NULL && (e = readdir(d)) != NULL) {
				if (e->d_type != DT_DIR || e->d_name[0] == '.')
					continue;
				char st[1200];
				snprintf(st, sizeof(st), "%s/%s/freezer.state", dir, e->d_name);
				int fd = open(st, O_WRONLY | O_CLOEXEC);
				if (fd >= 0) {
					(void)!write(fd, "THAWED", 6);
					close(fd);
				}
			}
			if (d)
				closedir(d);
		}
		remove_tree(dir);
	}
}

void test_start_agent(struct harness *h, const char *resources, const char *isolation,
                      bool enforce_disk, int64_t disk_watch_ms)
{
	struct agent_flags f;
	char master[ACTOR_PID_TEXT_MAX], err[512] = "";
	agent_flags_default(&f);
	actor_pid_format(h->master, master, sizeof(master));
	f.master = master;
	f.work_dir = h->work_dir;
	f.resources = resources;
	f.executor_path = PLEXUS_EXECUTOR_PATH;
	f.port = h->http_port;
	f.isolation = isolation;
	f.cgroups_root = test_cgroups_root();
	f.enforce_container_disk_quota = enforce_disk;
	f.container_disk_watch_ms = disk_watch_ms;
	cr_assert_eq(agent_start(&f, &h->agent, err, sizeof(err)), 0, "agent_start: %s", err);
	char *r = master_wait_registration(1, 1, 10000);
	cr_assert_not_null(r, "the agent did not register");
	free(r);
}

void test_run_task(struct harness *h, const char *task_id, const char *command,
                   const char *resources)
{
	Plexus__Internal__RunTaskMessage m = PLEXUS__INTERNAL__RUN_TASK_MESSAGE__INIT;
	Plexus__FrameworkInfo fi = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__TaskInfo t = PLEXUS__TASK_INFO__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	px_resources *rs = NULL;
	Plexus__Resource **res = NULL;
	size_t nres = 0;
	char err[256];

	cr_assert_eq(px_resources_parse(resources, NULL, &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(px_resources_to_pb(rs, PX_PB_REFINED, &res, &nres), 0);
	px_resources_free(rs);
	fid.value = (char *)FRAMEWORK_ID;
	fi.user = (char *)"tester";
	fi.name = (char *)"containerizer-tests";
	fi.id = &fid;
	tid.value = (char *)task_id;
	aid.value = (char *)AGENT_ID;
	cmd.value = (char *)command;
	t.name = (char *)task_id;
	t.task_id = &tid;
	t.agent_id = &aid;
	t.command = &cmd;
	t.resources = res;
	t.n_resources = nres;
	m.framework_id = &fid;
	m.framework = &fi;
	m.framework_pid = (char *)"scheduler-test@127.0.0.1:1";
	m.task = &t;
	master_send(h->agent, &m.base);
	px_pb_resources_free(res, nres);
}

bool test_wait_state(const char *task_id, int state, struct seen_update *out, int64_t ms)
{
	int64_t deadline = test_now_ms() + ms;
	struct seen_update got[64];
	for (size_t want = 1;; want++) {
		int64_t left = deadline - test_now_ms();
		if (left <= 0 || !master_wait_updates(want, left))
			return false;
		size_t n = master_updates(got, 64);
		for (size_t i = 0; i < n; i++)
			if (strcmp(got[i].task_id, task_id) == 0 && got[i].state == state) {
				if (out != NULL)
					*out = got[i];
				return true;
			}
		want = n;
	}
}

/* 'Z' (zombie) or 'X' counts as gone: only a reaper can remove those. */
static bool alive(pid_t pid)
{
	char path[64], buf[512];
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p == NULL || !(p[2] == 'Z' || p[2] == 'X');
}

bool test_wait_gone(pid_t pid, int64_t ms)
{
	int64_t deadline = test_now_ms() + ms;
	while (alive(pid)) {
		if (test_now_ms() > deadline)
			return false;
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return true;
}

void test_kill_strays(const char *dir)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char link[300], target[4096];
	size_t len = strlen(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/cwd", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, len) == 0 &&
		    (target[len] == '/' || target[len] == '\0' || target[len] == ' '))
			kill((pid_t)atoi(e->d_name), SIGKILL);
	}
	if (d)
		closedir(d);
}

int test_count_cgroups(void)
{
	static const char *const hier[] = {"cpu", "memory", "unified"};
	int n = 0;
	for (size_t i = 0; i < 3; i++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/%s", hier[i], test_cgroups_root());
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL)
			if (e->d_type == DT_DIR && e->d_name[0] != '.')
				n++;
		if (d)
			closedir(d);
	}
	return n;
}
