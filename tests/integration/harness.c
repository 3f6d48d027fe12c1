/* harness.c — see harness.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "actor/libactor.h"
#include "cli/http_client.h"
#include "harness.h"

#define MAX_PROCS 64

struct proc {
	pid_t pid;
	bool alive;
	char name[32];
	char log[512];
};

static struct proc procs[MAX_PROCS];
static int nprocs;
static char scratch[256];
/* The agents' cgroup root: one per test process, removed at fini with whatever
 * containers agents killed with SIGKILL (which cannot clean up) left in it. */
static char cgroups_root[64];
static bool runtime_started;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* Scratch directories of test processes that died without their teardown (Criterion
 * skips a suite's fini when its init fails): /tmp/plexus-integ-<pid>-* of a dead pid. */
static void remove_stale_scratch(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		int pid = 0;
		char path[300];
		if (sscanf(e->d_name, "plexus-integ-%d-", &pid) != 1 || pid <= 0 ||
		    (kill(pid, 0) != 0 && errno == EPERM) || kill(pid, 0) == 0)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (d != NULL)
		closedir(d);
}

void harness_init(void)
{
	remove_stale_scratch();
	snprintf(scratch, sizeof(scratch), "/tmp/plexus-integ-%d-XXXXXX", (int)getpid());
	snprintf(cgroups_root, sizeof(cgroups_root), "plexus-integ-%d", (int)getpid());
	cr_assert_not_null(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
	/* Executors of a killed agent are reparented to us, so we can reap them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	nprocs = 0;
	signal(SIGPIPE, SIG_IGN);
}

const char *harness_dir(void)
{
	return scratch;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Children of this process that it did not start (orphaned executors). */
static int kill_orphans(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], line[256];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "PPid:", 5) == 0) {
				if (atoi(line + 5) == getpid()) {
					kill(atoi(e->d_name), SIGKILL);
					n++;
				}
				break;
			}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Sanitizer reports of the children (their logs, executors' sandbox stderr) are
 * copied into this test's output, where ctest's FAIL_REGULAR_EXPRESSION sees them. */
static int scan_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	size_t len = strlen(base);
	if (flag != FTW_F ||
	    !((len > 4 && strcmp(base + len - 4, ".log") == 0) || strcmp(base, "stderr") == 0))
		return 0;
	FILE *f = fopen(path, "r");
	char line[1024];
	bool reported = false;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (!reported &&
		    (strstr(line, "AddressSanitizer") || strstr(line, "LeakSanitizer") ||
		     strstr(line, "runtime error:"))) {
			fprintf(stderr, "== sanitizer report in %s:\n", path);
			reported = true;
		}
		if (reported)
			fputs(line, stderr);
	}
	if (f != NULL)
		fclose(f);
	return 0;
}

/* Removes <hierarchy>/<cgroups_root> and the empty containers in it. */
static void remove_cgroup_root(const char *hierarchy)
{
	char root[512];
	struct dirent *c;

	snprintf(root, sizeof(root), "%s/%s", hierarchy, cgroups_root);
	DIR *d = opendir(root);
	if (d == NULL)
		return;
	while ((c = readdir(d)) != NULL) {
		char sub[800];
		if (c->d_type != DT_DIR || c->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", root, c->d_name);
		rmdir(sub);
	}
	closedir(d);
	rmdir(root);
}

/* Removes this process's cgroup root from every hierarchy: cgroup v2 is the mount
 * itself, v1 mounts each controller under /sys/fs/cgroup/<name>. */
static void remove_cgroups(void)
{
	struct dirent *h;

	if (cgroups_root[0] == '\0')
		return;
	remove_cgroup_root("/sys/fs/cgroup");
	DIR *top = opendir("/sys/fs/cgroup");
	if (top == NULL)
		return;
	while ((h = readdir(top)) != NULL) {
		char hierarchy[300];
		if (h->d_name[0] == '.')
			continue;
		snprintf(hierarchy, sizeof(hierarchy), "/sys/fs/cgroup/%s", h->d_name);
		remove_cgroup_root(hierarchy);
	}
	closedir(top);
}

void harness_fini(void)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i].alive) {
			kill(procs[i].pid, SIGKILL);
			waitpid(procs[i].pid, NULL, 0);
			procs[i].alive = false;
		}
	/* Orphans may still be arriving from killed agents: sweep until none is left. */
	int64_t deadline = now_ms() + 5000;
	for (; scratch[0] != '\0';) {
		int n = kill_orphans();
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == 0 || now_ms() > deadline)
			break;
		nap_ms(10);
	}
	if (runtime_started) {
		actor_runtime_fini();
		runtime_started = false;
	}
	remove_cgroups();
	if (scratch[0] != '\0')
		nftw(scratch, scan_entry, 16, FTW_PHYS);
	if (scratch[0] != '\0' && getenv("PLEXUS_INTEG_KEEP") == NULL)
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	scratch[0] = '\0';
	nprocs = 0;
}

int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	cr_assert(s >= 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static struct proc *proc_find(pid_t pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

const char *proc_log(const char *name)
{
	for (int i = nprocs - 1; i >= 0; i--)
		if (strcmp(procs[i].name, name) == 0)
			return procs[i].log;
	return "";
}

static pid_t spawn(const char *name, const char *const *args, const char *out_path,
                   const char *err_path)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = PLEXUS_PATH;
	for (; args != NULL && args[n - 1] != NULL && n < 63; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* If the test process dies, so do its daemons. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out < 0 || err < 0)
			_exit(126);
		dup2(out, 1);
		dup2(err, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setenv("ACTOR_WORKERS", "2", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

pid_t plexus_spawn(const char *name, const char *const *args)
{
	cr_assert_lt(nprocs, MAX_PROCS);
	struct proc *p = &procs[nprocs++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", scratch, name);
	p->pid = spawn(name, args, p->log, p->log);
	p->alive = true;
	return p->pid;
}

pid_t plexus_spawnl(const char *name, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;

	va_start(ap, name);
	while (n < 63 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return plexus_spawn(name, args);
}

bool proc_wait(pid_t pid, int timeout_ms, int *status)
{
	int64_t deadline = now_ms() + timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			struct proc *p = proc_find(pid);
			if (p != NULL)
				p->alive = false;
			if (status != NULL)
				*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return true;
		}
		if (r < 0 || now_ms() > deadline)
			return false;
		nap_ms(5);
	}
}

void proc_signal(pid_t pid, int sig)
{
	kill(pid, sig);
	if (sig == SIGKILL)
		proc_wait(pid, 5000, NULL);
}

int plexus_run(char **out, int timeout_ms, const char *const *args)
{
	static int seq;
	char out_path[512], name[32];

	snprintf(name, sizeof(name), "run%d", ++seq);
	snprintf(out_path, sizeof(out_path), "%s/%s.out", scratch, name);
	cr_assert_lt(nprocs, MAX_PROCS);
	struct proc *p = &procs[nprocs++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", scratch, name);
	p->pid = spawn(name, args, out_path, p->log);
	p->alive = true;
	int status = -1;
	if (!proc_wait(p->pid, timeout_ms, &status)) {
		proc_signal(p->pid, SIGKILL);
		status = -1;
	}
	if (out != NULL) {
		FILE *f = fopen(out_path, "r");
		char *text = calloc(1, 1 << 20);
		size_t n = f ? fread(text, 1, (1 << 20) - 1, f) : 0;
		text[n] = '\0';
		if (f)
			fclose(f);
		*out = text;
	}
	return status;
}

/* ---- HTTP ------------------------------------------------------------------------- */

int http_post(int port, const char *path, const char *content_type, const char *body, char **out)
{
	char url[1024], err[256];
	struct cli_http_response res;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if (cli_http_request(body ? "POST" : "GET", url, content_type, body,
	                     body ? strlen(body) : 0, 3000, &res, err, sizeof(err)) != 0) {
		if (out)
			*out = NULL;
		return 0;
	}
	if (out != NULL)
		*out = res.body;
	else
		free(res.body);
	return res.status;
}

int http_get(int port, const char *path, char **body)
{
	return http_post(port, path, NULL, NULL, body);
}

json_t *http_json(int port, const char *path)
{
	char *body = NULL;
	json_t *j = NULL;

	if (http_get(port, path, &body) == 200)
		j = json_loads(body, 0, NULL);
	free(body);
	return j;
}

bool wait_until(int timeout_ms, bool (*pred)(void *arg), void *arg)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		if (pred(arg))
			return true;
		if (now_ms() > deadline)
			return false;
		nap_ms(20);
	}
}

bool master_task_state(int port, const char *task_id, char *out, size_t outlen)
{
	static const char *const fws[] = {"frameworks", "completed_frameworks"};
	static const char *const lists[] = {"tasks", "unreachable_tasks", "completed_tasks"};
	json_t *s = http_json(port, "/master/state");
	bool found = false;

	for (size_t i = 0; s != NULL && i < 2; i++) {
		size_t k, t;
		json_t *fw, *task;
		json_array_foreach(json_object_get(s, fws[i]), k, fw) for (size_t l = 0; l < 3; l++)
		    json_array_foreach(json_object_get(fw, lists[l]), t, task)
		{
			const char *id = json_string_value(json_object_get(task, "id"));
			if (id != NULL && strcmp(id, task_id) == 0) {
				snprintf(out, outlen, "%s",
				         json_string_value(json_object_get(task, "state")));
				found = true;
			}
		}
	}
	json_decref(s);
	return found;
}

struct task_state_arg {
	int port;
	const char *task_id, *state;
};

static bool task_state_is(void *arg)
{
	struct task_state_arg *a = arg;
	char st[64];
	return master_task_state(a->port, a->task_id, st, sizeof(st)) && strcmp(st, a->state) == 0;
}

bool wait_master_task_state(int port, const char *task_id, const char *state, int timeout_ms)
{
	struct task_state_arg a = {port, task_id, state};
	return wait_until(timeout_ms, task_state_is, &a);
}

int master_active_agents(int port)
{
	json_t *s = http_json(port, "/master/state");
	int n = s ? (int)json_integer_value(json_object_get(s, "activated_slaves")) : -1;
	json_decref(s);
	return n;
}

/* ---- a cluster of separate processes ---------------------------------------------- */

static bool healthy(void *arg)
{
	return http_get(*(int *)arg, "/health", NULL) == 200;
}

void cluster_start_master(struct cluster *c, const char *const *extra)
{
	char port[32];
	const char *args[48] = {"master", port, "--allocation-interval=100ms",
	                        "--agent-ping-timeout=500ms", "--max-agent-ping-timeouts=4"};
	size_t n = 5;

	if (c->master_port == 0)
		c->master_port = free_port();
	snprintf(port, sizeof(port), "--port=%d", c->master_port);
	snprintf(c->master_addr, sizeof(c->master_addr), "127.0.0.1:%d", c->master_port);
	for (; extra != NULL && *extra != NULL && n < 47; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	c->master = plexus_spawn("master", args);
	cr_assert(wait_until(10000, healthy, &c->master_port), "the master never answered /health");
}

struct agents_arg {
	int port, n;
};

static bool agents_active(void *arg)
{
	struct agents_arg *a = arg;
	return master_active_agents(a->port) >= a->n;
}

void cluster_start_agent(struct cluster *c, int i, const char *resources, const char *const *extra)
{
	char master[96], port[32], work[512], res[256], name[32], cgroups[96];
	const char *args[48] = {"agent",
	                        master,
	                        port,
	                        work,
	                        res,
	                        "--status-update-retry-interval-min=200ms",
	                        "--status-update-retry-interval-max=1secs",
	                        "--executor-shutdown-grace-period=1secs",
	                        "--registration-backoff-factor=100ms",
	                        cgroups};
	size_t n = 10;

	cr_assert_lt(i, 4);
	if (c->agent_ports[i] == 0)
		c->agent_ports[i] = free_port();
	snprintf(master, sizeof(master), "--master=%s", c->master_addr);
	snprintf(port, sizeof(port), "--port=%d", c->agent_ports[i]);
	snprintf(work, sizeof(work), "--work-dir=%s/agent%d", scratch, i + 1);
	snprintf(res, sizeof(res), "--resources=%s", resources);
	snprintf(cgroups, sizeof(cgroups), "--cgroups-root=%s", cgroups_root);
	snprintf(name, sizeof(name), "agent%d", i + 1);
	for (; extra != NULL && *extra != NULL && n < 47; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	int before = master_active_agents(c->master_port);
	c->agents[i] = plexus_spawn(name, args);
	if (i >= c->nagents)
		c->nagents = i + 1;
	struct agents_arg a = {c->master_port, (before > 0 ? before : 0) + 1};
	cr_assert(wait_until(10000, agents_active, &a), "agent %d never registered", i + 1);
}

void cluster_start(struct cluster *c)
{
	cluster_start_master(c, NULL);
	cluster_start_agent(c, 0, "cpus:1;mem:512;disk:1024", NULL);
	cluster_start_agent(c, 1, "cpus:1;mem:512;disk:1024", NULL);
}

/* ---- a test framework ------------------------------------------------------------- */

#define MAX_UPDATES 512

/* The role (and principal) of the frameworks fw_start makes from now on; "" = none. */
static char next_role[64];

void fw_set_role(const char *role)
{
	snprintf(next_role, sizeof(next_role), "%s", role ? role : "");
}
#define MAX_OFFERS  64

struct fw {
	px_scheduler_driver *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char id[128];
	char failover_id[128];             /* the id asked for, when failing over */
	Plexus__Offer *offers[MAX_OFFERS]; /* held, not taken yet */
	int noffers, offers_received;
	struct fw_update updates[MAX_UPDATES];
	size_t nupdates;
	int agent_lost, disconnected, reregistered;
	char error[256];
};

void fw_runtime_start(void)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.ip = "127.0.0.1";
	cfg.port = 0;
	cfg.listen = true;
	cfg.http_port = -1;
	cfg.workers = 2;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	runtime_started = true;
}

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *master, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	snprintf(f->id, sizeof(f->id), "%s", id->value);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void on_reregistered(px_scheduler_driver *d, const Plexus__MasterInfo *master, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	f->reregistered++;
	/* docs/drivers.md promises `registered` after a failover (as Mesos, whose master
	 * answers a failover with FrameworkRegisteredMessage); this master answers with
	 * FrameworkReregisteredMessage, so a failover may end here instead. */
	if (f->id[0] == '\0' && f->failover_id[0] != '\0')
		snprintf(f->id, sizeof(f->id), "%s", f->failover_id);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void on_disconnected(px_scheduler_driver *d, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	f->disconnected++;
	/* Offers held are void once the master is lost. */
	for (int i = 0; i < f->noffers; i++)
		plexus__offer__free_unpacked(f->offers[i], NULL);
	f->noffers = 0;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static Plexus__Offer *offer_copy(const Plexus__Offer *o)
{
	size_t n = protobuf_c_message_get_packed_size(&o->base);
	uint8_t *buf = malloc(n ? n : 1);
	protobuf_c_message_pack(&o->base, buf);
	Plexus__Offer *c = plexus__offer__unpack(NULL, n, buf);
	free(buf);
	return c;
}

static void on_offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < n; i++) {
		f->offers_received++;
		if (f->noffers < MAX_OFFERS)
			f->offers[f->noffers++] = offer_copy(offers[i]);
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void on_rescinded(px_scheduler_driver *d, const Plexus__OfferID *id, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < f->noffers; i++)
		if (strcmp(f->offers[i]->id->value, id->value) == 0) {
			plexus__offer__free_unpacked(f->offers[i], NULL);
			f->offers[i] = f->offers[--f->noffers];
			break;
		}
	pthread_mutex_unlock(&f->mu);
}

static void on_update(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	if (f->nupdates < MAX_UPDATES) {
		struct fw_update *u = &f->updates[f->nupdates++];
		memset(u, 0, sizeof(*u));
		snprintf(u->task_id, sizeof(u->task_id), "%s", s->task_id ? s->task_id->value : "");
		snprintf(u->agent_id, sizeof(u->agent_id), "%s",
		         s->agent_id ? s->agent_id->value : "");
		u->state = s->state;
		u->reason = s->has_reason ? (int)s->reason : -1;
		snprintf(u->message, sizeof(u->message), "%s", s->message ? s->message : "");
		if (s->has_uuid && s->uuid.len == 16) {
			memcpy(u->uuid, s->uuid.data, 16);
			u->has_uuid = true;
		}
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void on_agent_lost(px_scheduler_driver *d, const Plexus__AgentID *id, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	f->agent_lost++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void on_error(px_scheduler_driver *d, const char *message, void *arg)
{
	struct fw *f = arg;
	pthread_mutex_lock(&f->mu);
	snprintf(f->error, sizeof(f->error), "%s", message);
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

struct fw *fw_start(const char *master, const char *name, double failover_timeout, const char *id,
                    bool implicit_acks)
{
	struct fw *f = calloc(1, sizeof(*f));
	px_scheduler_callbacks cb = {
	    .registered = on_registered,
	    .reregistered = on_reregistered,
	    .disconnected = on_disconnected,
	    .resource_offers = on_offers,
	    .offer_rescinded = on_rescinded,
	    .status_update = on_update,
	    .agent_lost = on_agent_lost,
	    .error = on_error,
	};
	Plexus__FrameworkInfo info = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	px_scheduler_options opts;

	cr_assert_not_null(f);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	info.user = "integration";
	info.name = (char *)name;
	if (next_role[0] != '\0') {
		info.role = next_role;
		info.principal = next_role;
	}
	if (failover_timeout > 0) {
		info.has_failover_timeout = true;
		info.failover_timeout = failover_timeout;
	}
	if (id != NULL) {
		fid.value = (char *)id;
		info.id = &fid;
		snprintf(f->failover_id, sizeof(f->failover_id), "%s", id);
	}
	px_scheduler_options_default(&opts);
	opts.implicit_acknowledgements = implicit_acks;
	opts.backoff_factor_ms = 200;
	opts.backoff_max_ms = 1000;
	f->d = px_scheduler_driver_alloc(&cb, f, &info, master, &opts);
	cr_assert_not_null(f->d);
	cr_assert_eq(px_scheduler_driver_start(f->d), PX_DRIVER_RUNNING);
	return f;
}

px_scheduler_driver *fw_driver(struct fw *f)
{
	return f->d;
}

void fw_stop(struct fw *f, bool failover)
{
	if (f == NULL)
		return;
	px_scheduler_driver_stop(f->d, failover);
	px_scheduler_driver_free(f->d);
	for (int i = 0; i < f->noffers; i++)
		plexus__offer__free_unpacked(f->offers[i], NULL);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

/* Waits on f's condition until pred(f, arg) holds or the deadline passes; f->mu held. */
static bool fw_wait(struct fw *f, int timeout_ms, bool (*pred)(struct fw *, const void *),
                    const void *arg)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!pred(f, arg))
		if (pthread_cond_timedwait(&f->cv, &f->mu, &dl) == ETIMEDOUT)
			return pred(f, arg);
	return true;
}

static bool has_id(struct fw *f, const void *arg)
{
	return f->id[0] != '\0' || f->error[0] != '\0';
}

const char *fw_wait_registered(struct fw *f, int timeout_ms)
{
	pthread_mutex_lock(&f->mu);
	bool ok = fw_wait(f, timeout_ms, has_id, NULL) && f->id[0] != '\0';
	pthread_mutex_unlock(&f->mu);
	return ok ? f->id : NULL;
}

static bool has_offer(struct fw *f, const void *arg)
{
	return f->noffers > 0;
}

Plexus__Offer *fw_next_offer(struct fw *f, int timeout_ms)
{
	Plexus__Offer *o = NULL;
	pthread_mutex_lock(&f->mu);
	if (fw_wait(f, timeout_ms, has_offer, NULL)) {
		o = f->offers[0];
		memmove(f->offers, f->offers + 1, (size_t)(f->noffers - 1) * sizeof(f->offers[0]));
		f->noffers--;
	}
	pthread_mutex_unlock(&f->mu);
	return o;
}

void fw_offer_free(Plexus__Offer *o)
{
	if (o != NULL)
		plexus__offer__free_unpacked(o, NULL);
}

int fw_offers_received(struct fw *f)
{
	pthread_mutex_lock(&f->mu);
	int n = f->offers_received;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void fw_decline_held(struct fw *f, double refuse_seconds)
{
	Plexus__Offer *o;
	while ((o = fw_next_offer(f, 0)) != NULL) {
		Plexus__Filters filters = PLEXUS__FILTERS__INIT;
		filters.has_refuse_seconds = true;
		filters.refuse_seconds = refuse_seconds;
		px_scheduler_driver_decline(f->d, o->id, &filters);
		fw_offer_free(o);
	}
}

double offer_cpus(const Plexus__Offer *o)
{
	double v = 0;
	for (size_t i = 0; i < o->n_resources; i++)
		if (strcmp(o->resources[i]->name, "cpus") == 0 && o->resources[i]->scalar)
			v += o->resources[i]->scalar->value;
	return v;
}

static void scalar(Plexus__Resource *r, Plexus__Value__Scalar *s, const char *name, double v)
{
	plexus__resource__init(r);
	plexus__value__scalar__init(s);
	r->name = (char *)name;
	r->type = PLEXUS__VALUE__TYPE__SCALAR;
	s->value = v;
	r->scalar = s;
}

static void launch(struct fw *f, Plexus__OfferID *oid, Plexus__AgentID *aid, const char *const *ids,
                   size_t n, const char *command, double cpus, double mem)
{
	Plexus__TaskInfo *tasks = calloc(n, sizeof(*tasks));
	Plexus__TaskID *tids = calloc(n, sizeof(*tids));
	const Plexus__TaskInfo **tp = calloc(n, sizeof(*tp));
	Plexus__Resource res[2];
	Plexus__Resource *resp[2] = {&res[0], &res[1]};
	Plexus__Value__Scalar sc[2];
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	Plexus__Filters filters = PLEXUS__FILTERS__INIT;

	scalar(&res[0], &sc[0], "cpus", cpus);
	scalar(&res[1], &sc[1], "mem", mem);
	cmd.value = (char *)command;
	cmd.has_shell = true;
	cmd.shell = true;
	for (size_t i = 0; i < n; i++) {
		plexus__task_info__init(&tasks[i]);
		plexus__task_id__init(&tids[i]);
		tids[i].value = (char *)ids[i];
		tasks[i].name = (char *)ids[i];
		tasks[i].task_id = &tids[i];
		tasks[i].agent_id = aid;
		tasks[i].resources = resp;
		tasks[i].n_resources = 2;
		tasks[i].command = &cmd;
		tp[i] = &tasks[i];
	}
	/* What is left of the offer comes back at once, not after the default 5 s. */
	filters.has_refuse_seconds = true;
	filters.refuse_seconds = 0;
	const Plexus__OfferID *oids[1] = {oid};
	px_scheduler_driver_launch(f->d, oids, 1, tp, n, &filters);
	free(tasks);
	free(tids);
	free(tp);
}

void fw_launch(struct fw *f, const Plexus__Offer *o, const char *const *ids, size_t n,
               const char *command, double cpus, double mem)
{
	launch(f, o->id, o->agent_id, ids, n, command, cpus, mem);
}

void fw_launch_on(struct fw *f, const char *offer_id, const char *agent_id, const char *task_id,
                  const char *command, double cpus, double mem)
{
	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	oid.value = (char *)offer_id;
	aid.value = (char *)agent_id;
	launch(f, &oid, &aid, &task_id, 1, command, cpus, mem);
}

size_t fw_updates(struct fw *f, struct fw_update *out, size_t max)
{
	pthread_mutex_lock(&f->mu);
	size_t n = f->nupdates < max ? f->nupdates : max;
	memcpy(out, f->updates, n * sizeof(*out));
	n = f->nupdates;
	pthread_mutex_unlock(&f->mu);
	return n;
}

struct state_arg {
	const char *task_id;
	int state; /* -1: any terminal */
};

static const struct fw_update *latest(struct fw *f, const char *task_id, int state)
{
	for (size_t i = f->nupdates; i-- > 0;)
		if (strcmp(f->updates[i].task_id, task_id) == 0 &&
		    (state == -1 ? px_task_state_is_terminal(f->updates[i].state)
		                 : state == -2 || f->updates[i].state == state))
			return &f->updates[i];
	return NULL;
}

static bool has_state(struct fw *f, const void *arg)
{
	const struct state_arg *a = arg;
	return latest(f, a->task_id, a->state) != NULL;
}

bool fw_wait_state(struct fw *f, const char *task_id, int state, int timeout_ms)
{
	struct state_arg a = {task_id, state};
	pthread_mutex_lock(&f->mu);
	bool ok = fw_wait(f, timeout_ms, has_state, &a);
	pthread_mutex_unlock(&f->mu);
	return ok;
}

static bool has_other(struct fw *f, const void *arg)
{
	const struct state_arg *a = arg;
	const struct fw_update *u = latest(f, a->task_id, -2);
	return u != NULL && u->state != a->state;
}

bool fw_wait_other_state(struct fw *f, const char *task_id, int not_state, int *state,
                         int timeout_ms)
{
	struct state_arg a = {task_id, not_state};
	pthread_mutex_lock(&f->mu);
	bool ok = fw_wait(f, timeout_ms, has_other, &a);
	if (ok)
		*state = latest(f, task_id, -2)->state;
	pthread_mutex_unlock(&f->mu);
	return ok;
}

bool fw_wait_terminal(struct fw *f, const char *task_id, struct fw_update *out, int timeout_ms)
{
	struct state_arg a = {task_id, -1};
	pthread_mutex_lock(&f->mu);
	bool ok = fw_wait(f, timeout_ms, has_state, &a);
	if (ok && out != NULL)
		*out = *latest(f, task_id, -1);
	pthread_mutex_unlock(&f->mu);
	return ok;
}

int fw_count(struct fw *f, const char *task_id, int state)
{
	int n = 0;
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nupdates; i++)
		n += strcmp(f->updates[i].task_id, task_id) == 0 && f->updates[i].state == state;
	pthread_mutex_unlock(&f->mu);
	return n;
}

struct count_arg {
	const char *task_id;
	int state, n;
};

static bool has_count(struct fw *f, const void *arg)
{
	const struct count_arg *a = arg;
	int n = 0;
	for (size_t i = 0; i < f->nupdates; i++)
		n += strcmp(f->updates[i].task_id, a->task_id) == 0 &&
		     f->updates[i].state == a->state;
	return n >= a->n;
}

bool fw_wait_count(struct fw *f, const char *task_id, int state, int n, int timeout_ms)
{
	struct count_arg a = {task_id, state, n};
	pthread_mutex_lock(&f->mu);
	bool ok = fw_wait(f, timeout_ms, has_count, &a);
	pthread_mutex_unlock(&f->mu);
	return ok;
}

void fw_ack(struct fw *f, const char *task_id)
{
	pthread_mutex_lock(&f->mu);
	const struct fw_update *u = latest(f, task_id, -2);
	struct fw_update copy;
	bool ok = u != NULL && u->has_uuid;
	if (ok)
		copy = *u;
	pthread_mutex_unlock(&f->mu);
	cr_assert(ok, "no update of %s with a uuid to acknowledge", task_id);
	Plexus__TaskStatus s = PLEXUS__TASK_STATUS__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	tid.value = copy.task_id;
	aid.value = copy.agent_id;
	s.task_id = &tid;
	s.agent_id = &aid;
	s.state = copy.state;
	s.has_uuid = true;
	s.uuid.data = copy.uuid;
	s.uuid.len = 16;
	px_scheduler_driver_acknowledge(f->d, &s);
}

int fw_agent_lost(struct fw *f)
{
	pthread_mutex_lock(&f->mu);
	int n = f->agent_lost;
	pthread_mutex_unlock(&f->mu);
	return n;
}

int fw_disconnected(struct fw *f)
{
	pthread_mutex_lock(&f->mu);
	int n = f->disconnected;
	pthread_mutex_unlock(&f->mu);
	return n;
}

int fw_reregistered(struct fw *f)
{
	pthread_mutex_lock(&f->mu);
	int n = f->reregistered;
	pthread_mutex_unlock(&f->mu);
	return n;
}

bool fw_error(struct fw *f, char *out, size_t outlen)
{
	pthread_mutex_lock(&f->mu);
	bool has = f->error[0] != '\0';
	if (out != NULL)
		snprintf(out, outlen, "%s", f->error);
	pthread_mutex_unlock(&f->mu);
	return has;
}

