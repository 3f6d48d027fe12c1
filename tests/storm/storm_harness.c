/* storm_harness.c — see storm_harness.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <signal.h>
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

#include "http.h"
#include "storm_harness.h"
#include "wordcount_gen.h"

#define MAX_PROCS 32

static pid_t procs[MAX_PROCS];
static int nprocs;
static char scratch[256];

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

void sh_init(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/plexus-storm-test-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(scratch));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	nprocs = 0;
	char path[300];
	snprintf(path, sizeof(path), "%s/out", scratch);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/state", scratch);
	mkdir(path, 0755);
	setenv("PLEXUS_STORM_DIR", path, 1);
}

const char *sh_dir(void)
{
	return scratch;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Kills the children of this process (orphans included); how many there were. */
static int kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
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
	if (d != NULL)
		closedir(d);
	return n;
}

/* Copies sanitizer reports of the children (logs, sandbox stderr) into the output. */
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

void sh_fini(void)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i] > 0) {
			kill(procs[i], SIGKILL);
			waitpid(procs[i], NULL, 0);
		}
	nprocs = 0;
	int64_t deadline = now_ms() + 5000;
	while (scratch[0] != '\0') {
		int n = kill_children();
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == 0 || now_ms() > deadline)
			break;
		nap_ms(20);
	}
	if (scratch[0] != '\0') {
		nftw(scratch, scan_entry, 16, FTW_PHYS);
		if (getenv("PLEXUS_STORM_KEEP") == NULL)
			nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	scratch[0] = '\0';
}

int sh_free_port(void)
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

/* daemon: a cluster process, which dies with the test process even when a timeout
 * ends it before its teardown (a command's children, the nimbus, must outlive it). */
static pid_t start(const char *const *argv, const char *out_path, const char *err_path,
                   bool daemon)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (daemon)
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out < 0 || err < 0)
			_exit(126);
		dup2(out, 1);
		dup2(err, 2);
		setenv("ACTOR_WORKERS", "2", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

pid_t sh_spawn(const char *name, const char *const *argv)
{
	char log[400];
	cr_assert_lt(nprocs, MAX_PROCS);
	snprintf(log, sizeof(log), "%s/%s.log", scratch, name);
	pid_t pid = start(argv, log, log, true);
	procs[nprocs++] = pid;
	return pid;
}

int sh_run(char **out, int timeout_ms, const char *const *argv)
{
	static int seq;
	char out_path[400], err_path[400];
	snprintf(out_path, sizeof(out_path), "%s/run%d.out", scratch, ++seq);
	snprintf(err_path, sizeof(err_path), "%s/run%d.log", scratch, seq);
	pid_t pid = start(argv, out_path, err_path, false);
	int64_t deadline = now_ms() + timeout_ms;
	int st, status = -1;
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		nap_ms(10);
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

bool sh_alive(pid_t pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i] > 0 && waitpid(procs[i], NULL, WNOHANG) == procs[i])
			procs[i] = 0;
	/* Orphans (nimbuses, workers of dead agents) are ours to reap too. */
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	bool alive = true;
	if (fgets(line, sizeof(line), f) != NULL) {
		const char *paren = strrchr(line, ')');
		alive = paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
	}
	fclose(f);
	if (!alive)
		waitpid(pid, NULL, WNOHANG);
	return alive;
}

void sh_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	for (int i = 0; i < nprocs; i++)
		if (procs[i] == pid) {
			waitpid(pid, NULL, 0);
			procs[i] = 0;
		}
}

bool sh_wait(int timeout_ms, bool (*pred)(void *arg), void *arg)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		if (pred(arg))
			return true;
		if (now_ms() > deadline)
			return pred(arg);
		nap_ms(50);
	}
}

/* ---- clusters ---- */

json_t *sh_master_state(int port)
{
	char addr[32], *body = NULL;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	if (stm_http("GET", addr, "/master/state", 3000, &body) != 200) {
		free(body);
		return NULL;
	}
	json_t *o = json_loads(body, 0, NULL);
	free(body);
	return o;
}

struct agents_wait {
	int port, n;
};

static bool agents_up(void *arg)
{
	struct agents_wait *w = arg;
	json_t *st = sh_master_state(w->port);
	json_t *agents = json_object_get(st, "slaves");
	if (agents == NULL)
		agents = json_object_get(st, "agents");
	bool ok = json_array_size(agents) >= (size_t)w->n;
	json_decref(st);
	return ok;
}

int sh_local_start(int nagents)
{
	int port = sh_free_port();
	char p[32], a[32], w[400];
	snprintf(p, sizeof(p), "--port=%d", port);
	snprintf(a, sizeof(a), "--agents=%d", nagents);
	snprintf(w, sizeof(w), "--work-dir=%s/work", scratch);
	const char *argv[] = {PLEXUS_PATH,
	                      "local",
	                      p,
	                      a,
	                      w,
	                      "--ip=127.0.0.1",
	                      "--resources=cpus:2;mem:2048",
	                      "--allocation-interval=100ms",
	                      NULL};
	sh_spawn("local", argv);
	struct agents_wait aw = {port, nagents};
	cr_assert(sh_wait(60000, agents_up, &aw), "plexus local did not come up");
	return port;
}

int sh_master_start(void)
{
	int port = sh_free_port();
	char p[32];
	snprintf(p, sizeof(p), "--port=%d", port);
	const char *argv[] = {PLEXUS_PATH,
	                      "master",
	                      p,
	                      "--ip=127.0.0.1",
	                      "--allocation-interval=100ms",
	                      "--agent-ping-timeout=500ms",
	                      "--max-agent-ping-timeouts=4",
	                      NULL};
	sh_spawn("master", argv);
	struct agents_wait aw = {port, 0};
	cr_assert(sh_wait(60000, agents_up, &aw), "the master did not come up");
	return port;
}

pid_t sh_agent_start(int master_port, int i)
{
	char m[64], p[32], w[400], name[32];
	snprintf(m, sizeof(m), "--master=127.0.0.1:%d", master_port);
	snprintf(p, sizeof(p), "--port=%d", sh_free_port());
	snprintf(w, sizeof(w), "--work-dir=%s/agent%d", scratch, i);
	snprintf(name, sizeof(name), "agent%d", i);
	const char *argv[] = {PLEXUS_PATH,
	                      "agent",
	                      m,
	                      p,
	                      w,
	                      "--ip=127.0.0.1",
	                      "--resources=cpus:2;mem:2048",
	                      "--isolation=posix/cpu,posix/mem",
	                      "--registration-backoff-factor=100ms",
	                      NULL};
	pid_t pid = sh_spawn(name, argv);
	struct agents_wait aw = {master_port, i + 1};
	cr_assert(sh_wait(60000, agents_up, &aw), "agent %d did not register", i);
	return pid;
}

/* ---- storm ---- */

int sh_storm(char **out, const char *const *args)
{
	const char *argv[40] = {PLEXUS_PATH, "storm"};
	int n = 2;
	for (int i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return sh_run(out, 90000, argv);
}

void sh_submit_wordcount(int master_port, const char *name, const char *const *confs)
{
	char m[64], out[400];
	const char *args[40] = {"submit", m};
	int n = 2;
	snprintf(m, sizeof(m), "--master=127.0.0.1:%d", master_port);
	snprintf(out, sizeof(out), "--conf=wc.out=%s/out", scratch);
	args[n++] = out;
	static char confbuf[16][200];
	for (int i = 0; confs != NULL && confs[i] != NULL && i < 16; i++) {
		snprintf(confbuf[i], sizeof(confbuf[i]), "--conf=%s", confs[i]);
		args[n++] = confbuf[i];
	}
	args[n++] = WORDCOUNT_PATH;
	args[n++] = name;
	args[n] = NULL;
	char *text = NULL;
	int rc = sh_storm(&text, args);
	cr_assert_eq(rc, 0, "plexus storm submit failed (%d): %s", rc, text);
	free(text);
}

static json_t *state_file(const char *name)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/state/%s/nimbus.json", scratch, name);
	return json_load_file(path, 0, NULL);
}

json_t *sh_nimbus(const char *name)
{
	json_t *st = state_file(name);
	const char *http = json_string_value(json_object_get(st, "http"));
	char *body = NULL;
	json_t *o = NULL;
	if (http != NULL && stm_http("GET", http, "/storm/state", 3000, &body) == 200)
		o = json_loads(body, 0, NULL);
	free(body);
	json_decref(st);
	return o;
}

pid_t sh_nimbus_pid(const char *name)
{
	json_t *st = state_file(name);
	pid_t pid = (pid_t)json_integer_value(json_object_get(st, "nimbus_pid"));
	json_decref(st);
	return pid;
}

int64_t sh_component(json_t *view, const char *component, const char *counter)
{
	json_t *c = json_object_get(json_object_get(view, "components"), component);
	return json_integer_value(json_object_get(c, counter));
}

json_t *sh_worker(json_t *view, int index)
{
	return json_array_get(json_object_get(view, "worker_list"), (size_t)index);
}

int sh_worker_of(json_t *view, const char *component)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(view, "task_list"), i, t)
	{
		const char *c = json_string_value(json_object_get(t, "component"));
		if (c != NULL && strcmp(c, component) == 0)
			return (int)json_integer_value(json_object_get(t, "worker"));
	}
	return -1;
}

/* ---- word count ---- */

int64_t wc_lines(const char *dir)
{
	char pattern[400];
	glob_t g;
	int64_t n = 0;
	snprintf(pattern, sizeof(pattern), "%s/sink-*.txt", dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		int c;
		while (f != NULL && (c = getc(f)) != EOF)
			n += c == '\n';
		if (f)
			fclose(f);
	}
	globfree(&g);
	return n;
}

void wc_check(const char *dir, uint64_t sentences, struct wc_result *r)
{
	int64_t ref[WC_VOCABULARY] = {0}, got[WC_VOCABULARY] = {0};
	int task_of[WC_VOCABULARY];
	uint8_t *seen = calloc((size_t)sentences * 12 / 8 + 1, 1);
	char pattern[400], text[160];
	glob_t g;

	memset(r, 0, sizeof(*r));
	r->one_task_per_word = true;
	for (int k = 0; k < WC_VOCABULARY; k++)
		task_of[k] = -1;
	for (uint64_t id = 0; id < sentences; id++) {
		wc_sentence(id, text, sizeof(text));
		for (char *w = strtok(text, " "); w != NULL; w = strtok(NULL, " ")) {
			ref[atoi(w + 1)]++;
			r->expected++;
		}
	}
	snprintf(pattern, sizeof(pattern), "%s/sink-*.txt", dir);
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			FILE *f = fopen(g.gl_pathv[i], "r");
			char word[64];
			long long id, index, count;
			int task;
			while (f != NULL && fscanf(f, "%63s %lld %lld %lld %d", word, &id, &index,
			                           &count, &task) == 5) {
				r->lines++;
				int k = atoi(word + 1);
				if (word[0] != 'w' || k < 0 || k >= WC_VOCABULARY || id < 0 ||
				    (uint64_t)id >= sentences || index < 0 || index >= 12)
					continue;
				if (task_of[k] < 0)
					task_of[k] = task;
				else if (task_of[k] != task)
					r->one_task_per_word = false;
				size_t bit = (size_t)id * 12 + (size_t)index;
				if (seen[bit / 8] & (1u << (bit % 8)))
					continue;
				seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
				r->distinct++;
				got[k]++;
			}
			if (f)
				fclose(f);
		}
		globfree(&g);
	}
	r->duplicates = r->lines - r->distinct;
	r->exact = memcmp(ref, got, sizeof(ref)) == 0;
	free(seen);
}
