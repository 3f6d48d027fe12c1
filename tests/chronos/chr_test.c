/* chr_test.c — see chr_test.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <actor/clock.h>
#include <actor/http.h>
#include <actor/runtime.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "chr_test.h"

#define MAX_PROCS 8

static char scratch[256];
static char master[64];
static int master_port;
static pid_t procs[MAX_PROCS];
static int nprocs;
static bool runtime_up;
static int64_t wall_offset;
static chr_service *svc;

static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

const char *chr_test_dir(void)
{
	return scratch;
}

const char *chr_test_master(void)
{
	return master;
}

int chr_free_port(void)
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

int chr_spawn(const char *name, const char *const *args)
{
	const char *argv[32];
	size_t n = 0;
	char log[512];
	cr_assert_lt(nprocs, MAX_PROCS);
	snprintf(log, sizeof(log), "%s/%s.log", scratch, name);
	argv[n++] = PLEXUS_PATH;
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* if the test dies, so does the cluster */
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setenv("ACTOR_WORKERS", "2", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	procs[nprocs++] = pid;
	return pid;
}

int chr_http_port(int port, const char *method, const char *path, const char *body, char **out)
{
	char url[1024];
	nng_url *u = NULL;
	nng_http_client *client = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	int status = 0;

	if (out != NULL)
		*out = NULL;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if (nng_url_parse(&u, url) != 0 || nng_http_client_alloc(&client, u) != 0 ||
	    nng_http_req_alloc(&req, u) != 0 || nng_http_res_alloc(&res) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0 || nng_http_req_set_method(req, method) != 0)
		goto out;
	if (body != NULL && (nng_http_req_copy_data(req, body, strlen(body)) != 0 ||
	                     nng_http_req_set_header(req, "Content-Type", "application/json") != 0))
		goto out;
	nng_aio_set_timeout(aio, 10000);
	nng_http_client_transact(client, req, res, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0)
		goto out;
	status = nng_http_res_get_status(res);
	if (out != NULL) {
		void *data;
		size_t n;
		nng_http_res_get_data(res, &data, &n);
		*out = malloc(n + 1);
		cr_assert_not_null(*out);
		if (n > 0)
			memcpy(*out, data, n);
		(*out)[n] = '\0';
	}
out:
	nng_aio_free(aio);
	if (res != NULL)
		nng_http_res_free(res);
	if (req != NULL)
		nng_http_req_free(req);
	if (client != NULL)
		nng_http_client_free(client);
	nng_url_free(u);
	return status;
}

int chr_http(const char *method, const char *path, const char *body, char **out)
{
	return chr_http_port(actor_runtime_http_port(), method, path, body, out);
}

static int active_agents(void)
{
	char *body;
	int n = -1;
	if (chr_http_port(master_port, "GET", "/master/state", NULL, &body) == 200) {
		json_t *s = json_loads(body, 0, NULL);
		if (s != NULL)
			n = (int)json_integer_value(json_object_get(s, "activated_slaves"));
		json_decref(s);
	}
	free(body);
	return n;
}

void chr_test_init(int nagents)
{
	char port_flag[32], agents_flag[32], work[512];
	snprintf(scratch, sizeof(scratch), "/tmp/plexus-chronos-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1); /* executors of the cluster are reaped here too */
	signal(SIGPIPE, SIG_IGN);
	nprocs = 0;
	svc = NULL;
	master_port = chr_free_port();
	snprintf(master, sizeof(master), "127.0.0.1:%d", master_port);
	snprintf(port_flag, sizeof(port_flag), "--port=%d", master_port);
	snprintf(agents_flag, sizeof(agents_flag), "--agents=%d", nagents);
	snprintf(work, sizeof(work), "--work-dir=%s/cluster", scratch);
	const char *args[] = {"local",
	                      agents_flag,
	                      port_flag,
	                      work,
	                      "--resources=cpus:2;mem:2048;disk:4096",
	                      "--allocation-interval=50ms",
	                      "--status-update-retry-interval-min=1secs",
	                      NULL};
	chr_spawn("local", args);
	int64_t deadline = real_ms() + 60000;
	while (active_agents() != nagents) {
		cr_assert_lt(real_ms(), deadline, "plexus local never had %d agents up", nagents);
		nap();
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

void chr_test_fini(void)
{
	chr_test_scheduler_end(false);
	if (runtime_up) {
		actor_runtime_fini();
		runtime_up = false;
	}
	for (int i = 0; i < nprocs; i++)
		kill(procs[i], SIGTERM);
	for (int i = 0; i < nprocs; i++) {
		int64_t deadline = real_ms() + 10000;
		while (waitpid(procs[i], NULL, WNOHANG) == 0) {
			if (real_ms() > deadline) {
				kill(procs[i], SIGKILL);
				waitpid(procs[i], NULL, 0);
				break;
			}
			nap();
		}
	}
	nprocs = 0;
	/* Orphaned executors were reparented here: reap what is left. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	/* CHR_TEST_KEEP=1 keeps the scratch directory (the cluster's log, the sandboxes)
	 * for a look after a failure. */
	if (scratch[0] != '\0' && getenv("CHR_TEST_KEEP") == NULL)
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	scratch[0] = '\0';
}

void chr_test_runtime(int64_t wall_ms)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = 0;
	cfg.workers = 2;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	runtime_up = true;
	actor_clock_pause();
	wall_offset = wall_ms - actor_clock_now();
}

int64_t chr_test_now(void)
{
	return wall_offset + actor_clock_now();
}

chr_service *chr_test_scheduler(int64_t retry_ms)
{
	char state[512], err[512];
	snprintf(state, sizeof(state), "%s/state.json", scratch);
	chr_config cfg = {
	    .master = master,
	    .state_file = state,
	    .wall_offset_set = true,
	    .wall_offset_ms = wall_offset,
	    .failure_retry_ms = retry_ms,
	};
	svc = chr_service_start(&cfg, err, sizeof(err));
	cr_assert_not_null(svc, "the scheduler did not start: %s", err);
	int64_t deadline = real_ms() + 60000;
	while (!chr_service_registered(svc)) {
		cr_assert_lt(real_ms(), deadline, "the scheduler never registered");
		nap();
	}
	return svc;
}

void chr_test_scheduler_end(bool crash)
{
	if (svc == NULL)
		return;
	if (crash)
		chr_service_crash(svc);
	else
		chr_service_stop(svc);
	svc = NULL;
}

json_t *chr_job_get(int port, const char *name)
{
	char *body;
	json_t *found = NULL;
	if (chr_http_port(port, "GET", "/v1/scheduler/jobs", NULL, &body) != 200) {
		free(body);
		return NULL;
	}
	json_t *list = json_loads(body, 0, NULL);
	free(body);
	size_t i;
	json_t *j;
	json_array_foreach(list, i, j)
	{
		if (strcmp(json_string_value(json_object_get(j, "name")), name) == 0) {
			found = json_incref(j);
			break;
		}
	}
	json_decref(list);
	return found;
}

int64_t chr_job_int(int port, const char *name, const char *field)
{
	json_t *j = chr_job_get(port, name);
	int64_t v = j ? json_integer_value(json_object_get(j, field)) : -1;
	json_decref(j);
	return v;
}

bool chr_wait_count(int port, const char *name, const char *field, int64_t want, int timeout_ms)
{
	int64_t deadline = real_ms() + timeout_ms;
	while (chr_job_int(port, name, field) < want) {
		if (real_ms() > deadline)
			return false;
		nap();
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **chr_lines(const char *path, bool sorted, size_t *n)
{
	char **lines = NULL, buf[512];
	size_t cap = 0;
	*n = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			lines = realloc(lines, cap * sizeof(*lines));
			cr_assert_not_null(lines);
		}
		lines[(*n)++] = strdup(buf);
	}
	fclose(f);
	if (sorted && *n > 0)
		qsort(lines, *n, sizeof(*lines), cmp_str);
	return lines;
}

void chr_lines_free(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

const char *chr_master_task_state(const char *job, char *buf, size_t size)
{
	char *body, name[300];
	buf[0] = '\0';
	snprintf(name, sizeof(name), "ChronosTask:%s", job);
	if (chr_http_port(master_port, "GET", "/master/state", NULL, &body) != 200) {
		free(body);
		return buf;
	}
	json_t *st = json_loads(body, 0, NULL);
	free(body);
	size_t i, k;
	json_t *fw, *t;
	json_array_foreach(json_object_get(st, "frameworks"), i, fw)
	{
		const char *lists[] = {"tasks", "completed_tasks"};
		for (int l = 0; l < 2 && buf[0] == '\0'; l++)
			json_array_foreach(json_object_get(fw, lists[l]), k, t)
			{
				if (strcmp(json_string_value(json_object_get(t, "name")), name) ==
				    0) {
					snprintf(buf, size, "%s",
					         json_string_value(json_object_get(t, "state")));
					break;
				}
			}
	}
	json_decref(st);
	return buf;
}
