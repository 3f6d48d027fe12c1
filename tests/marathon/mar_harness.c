/* mar_harness.c — see mar_harness.h. */
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
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "mar_harness.h"

#define MAX_PROCS 32

static struct {
	pid_t pid;
	bool alive;
} procs[MAX_PROCS];
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

void mh_init(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/plexus-marathon-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(scratch), "mkdtemp: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	nprocs = 0;
}

const char *mh_dir(void)
{
	return scratch;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Children of this process it did not start itself (executors of a killed agent). */
static int kill_orphans(void)
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

/* Sanitizer reports in the children's logs and sandboxes go to this test's output,
 * where ctest's FAIL_REGULAR_EXPRESSION sees them. */
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

void mh_fini(void)
{
	/* The schedulers first (SIGTERM: they stop cleanly and leave their tasks), then
	 * the clusters. */
	for (int i = nprocs - 1; i >= 0; i--)
		if (procs[i].alive) {
			kill(procs[i].pid, SIGKILL);
			waitpid(procs[i].pid, NULL, 0);
			procs[i].alive = false;
		}
	for (int64_t deadline = now_ms() + 5000; scratch[0] != '\0';) {
		int n = kill_orphans();
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == 0 || now_ms() > deadline)
			break;
		nap_ms(10);
	}
	if (scratch[0] != '\0') {
		nftw(scratch, scan_entry, 16, FTW_PHYS);
		if (getenv("PLEXUS_TEST_KEEP") == NULL)
			nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	scratch[0] = '\0';
	nprocs = 0;
}

int mh_free_port(void)
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

pid_t mh_spawn(const char *name, ...)
{
	const char *argv[32];
	char log[512];
	size_t n = 0;
	va_list ap;

	argv[n++] = PLEXUS_PATH;
	va_start(ap, name);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/%s.log", scratch, name);
	cr_assert_lt(nprocs, MAX_PROCS);
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
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
	procs[nprocs].pid = pid;
	procs[nprocs].alive = true;
	nprocs++;
	return pid;
}

static void forget(pid_t pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			procs[i].alive = false;
}

void mh_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	forget(pid);
}

bool mh_term(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int64_t deadline = now_ms() + 10000; now_ms() < deadline; nap_ms(10))
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			forget(pid);
			return true;
		}
	mh_kill(pid);
	return false;
}

/* ---- HTTP ------------------------------------------------------------------------- */

int mh_http(const char *method, int port, const char *path, const char *body, char **out)
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
	    nng_aio_alloc(&aio, NULL, NULL) != 0)
		goto out;
	nng_http_req_set_method(req, method);
	if (body != NULL) {
		nng_http_req_copy_data(req, body, strlen(body));
		nng_http_req_set_header(req, "Content-Type", "application/json");
	}
	nng_aio_set_timeout(aio, 5000);
	nng_http_client_transact(client, req, res, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0)
		goto out;
	status = nng_http_res_get_status(res);
	if (out != NULL) {
		void *data;
		size_t n;
		nng_http_res_get_data(res, &data, &n);
		*out = calloc(1, n + 1);
		memcpy(*out, data, n);
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

json_t *mh_json(const char *method, int port, const char *path, const char *body, int *status)
{
	char *text = NULL;
	int st = mh_http(method, port, path, body, &text);
	if (status != NULL)
		*status = st;
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	free(text);
	return j;
}

bool mh_wait(int timeout_ms, bool (*pred)(void *arg), void *arg)
{
	for (int64_t deadline = now_ms() + timeout_ms;; nap_ms(20)) {
		if (pred(arg))
			return true;
		if (now_ms() > deadline)
			return pred(arg);
	}
}

/* ---- clusters --------------------------------------------------------------------- */

struct agents_wait {
	int port, n;
};

static bool agents_listed(void *arg)
{
	struct agents_wait *w = arg;
	json_t *st = mh_json("GET", w->port, "/master/state", NULL, NULL);
	int n = 0;
	json_t *agents = json_object_get(st, "slaves"), *a;
	size_t i;
	json_array_foreach(agents, i, a)
	{
		json_t *active = json_object_get(a, "active");
		n += active == NULL || json_is_true(active);
	}
	json_decref(st);
	return n >= w->n;
}

int mh_local(int agents, const char *resources)
{
	char port[16], agents_arg[32], work[300], res[300], pf[32];
	int p = mh_free_port();
	snprintf(port, sizeof(port), "--port=%d", p);
	snprintf(pf, sizeof(pf), "%d", p);
	snprintf(agents_arg, sizeof(agents_arg), "--agents=%d", agents);
	snprintf(work, sizeof(work), "--work-dir=%s/local", scratch);
	snprintf(res, sizeof(res), "--resources=%s", resources);
	mh_spawn("local", "local", port, agents_arg, work, res, "--ip=127.0.0.1",
	         "--allocation-interval=100ms", (char *)NULL);
	struct agents_wait w = {p, agents};
	cr_assert(mh_wait(60000, agents_listed, &w), "plexus local did not start");
	return p;
}

int mh_master(void)
{
	char port[16], work[300];
	int p = mh_free_port();
	snprintf(port, sizeof(port), "--port=%d", p);
	snprintf(work, sizeof(work), "--work-dir=%s/master", scratch);
	mh_spawn("master", "master", port, work, "--ip=127.0.0.1", "--allocation-interval=100ms",
	         "--agent-ping-timeout=1secs", "--max-agent-ping-timeouts=5", (char *)NULL);
	struct agents_wait w = {p, 0};
	cr_assert(mh_wait(60000, agents_listed, &w), "plexus master did not start");
	return p;
}

pid_t mh_agent(int master_port, const char *hostname, const char *attributes, const char *resources,
               int expect)
{
	char master[64], port[16], work[300], host[128], attrs[256], res[256], name[64];
	snprintf(master, sizeof(master), "--master=127.0.0.1:%d", master_port);
	snprintf(port, sizeof(port), "--port=%d", mh_free_port());
	snprintf(work, sizeof(work), "--work-dir=%s/agent-%s", scratch, hostname);
	snprintf(host, sizeof(host), "--hostname=%s", hostname);
	snprintf(attrs, sizeof(attrs), "--attributes=%s", attributes ? attributes : "");
	snprintf(res, sizeof(res), "--resources=%s", resources);
	snprintf(name, sizeof(name), "agent-%s", hostname);
	pid_t pid =
	    attributes ? mh_spawn(name, "agent", master, port, work, host, attrs, res,
	                          "--ip=127.0.0.1", "--isolation=posix/cpu,posix/mem", (char *)NULL)
	               : mh_spawn(name, "agent", master, port, work, host, res, "--ip=127.0.0.1",
	                          "--isolation=posix/cpu,posix/mem", (char *)NULL);
	struct agents_wait w = {master_port, expect};
	cr_assert(mh_wait(60000, agents_listed, &w), "agent %s did not register", hostname);
	return pid;
}

static bool registered(void *arg)
{
	int port = *(int *)arg;
	json_t *info = mh_json("GET", port, "/v2/info", NULL, NULL);
	const char *id = json_string_value(json_object_get(info, "frameworkId"));
	bool ok = id != NULL && id[0] != '\0';
	json_decref(info);
	return ok;
}

int mh_marathon_on(int master_port, const char *state_file, int http_port, pid_t *pid)
{
	char master[64], port[32], state[512];
	snprintf(master, sizeof(master), "--master=127.0.0.1:%d", master_port);
	snprintf(port, sizeof(port), "--http-port=%d", http_port);
	snprintf(state, sizeof(state), "--state-file=%s", state_file ? state_file : "");
	pid_t p = state_file ? mh_spawn("marathon", "marathon", master, port, state,
	                                "--health-tick=100ms", (char *)NULL)
	                     : mh_spawn("marathon", "marathon", master, port, "--health-tick=100ms",
	                                (char *)NULL);
	if (pid != NULL)
		*pid = p;
	cr_assert(mh_wait(60000, registered, &http_port), "plexus marathon did not register");
	return http_port;
}

int mh_marathon(int master_port, const char *state_file, pid_t *pid)
{
	return mh_marathon_on(master_port, state_file, mh_free_port(), pid);
}

json_t *mh_app(int port, const char *id)
{
	char path[512];
	snprintf(path, sizeof(path), "/v2/apps%s", id);
	json_t *j = mh_json("GET", port, path, NULL, NULL);
	json_t *app = json_incref(json_object_get(j, "app"));
	json_decref(j);
	return app;
}

int mh_app_count(int port, const char *id, const char *field)
{
	json_t *app = mh_app(port, id);
	int n = app ? (int)json_integer_value(json_object_get(app, field)) : -1;
	json_decref(app);
	return n;
}

struct count_wait {
	int port;
	const char *id, *field;
	int n;
};

static bool count_is(void *arg)
{
	struct count_wait *w = arg;
	return mh_app_count(w->port, w->id, w->field) == w->n;
}

bool mh_wait_count(int port, const char *id, const char *field, int n, int timeout_ms)
{
	struct count_wait w = {port, id, field, n};
	return mh_wait(timeout_ms, count_is, &w);
}

static bool deployed(void *arg)
{
	struct count_wait *w = arg;
	json_t *app = mh_app(w->port, w->id);
	bool done = app != NULL && json_array_size(json_object_get(app, "deployments")) == 0;
	json_decref(app);
	return done;
}

bool mh_wait_deployed(int port, const char *id, int timeout_ms)
{
	struct count_wait w = {port, id, NULL, 0};
	return mh_wait(timeout_ms, deployed, &w);
}

/* ---- events ----------------------------------------------------------------------- */

struct mh_event {
	char type[64];
	json_t *data;
	struct mh_event *next;
};

struct mh_events {
	nng_http_client *client;
	nng_http_conn *conn;
	nng_url *url;
	nng_aio *aio;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mh_event *head, **tail;
	volatile bool closing;
	char *buf;
	size_t len;
};

/* Takes every complete "event: ...\ndata: ...\n\n" frame out of the buffer. */
static void parse_frames(struct mh_events *ev)
{
	char *end;
	while ((end = strstr(ev->buf, "\n\n")) != NULL) {
		*end = '\0';
		struct mh_event *e = calloc(1, sizeof(*e));
		char *line = ev->buf;
		while (line != NULL && *line != '\0') {
			char *nl = strchr(line, '\n');
			if (nl != NULL)
				*nl = '\0';
			if (strncmp(line, "event: ", 7) == 0)
				snprintf(e->type, sizeof(e->type), "%s", line + 7);
			else if (strncmp(line, "data: ", 6) == 0)
				e->data = json_loads(line + 6, 0, NULL);
			line = nl ? nl + 1 : NULL;
		}
		pthread_mutex_lock(&ev->mu);
		*ev->tail = e;
		ev->tail = &e->next;
		pthread_cond_broadcast(&ev->cv);
		pthread_mutex_unlock(&ev->mu);
		size_t used = (size_t)(end + 2 - ev->buf);
		memmove(ev->buf, end + 2, ev->len - used + 1);
		ev->len -= used;
	}
}

static void *reader(void *arg)
{
	struct mh_events *ev = arg;
	char chunk[8192];
	while (!ev->closing) {
		nng_iov iov = {.iov_buf = chunk, .iov_len = sizeof(chunk)};
		nng_aio_set_iov(ev->aio, 1, &iov);
		/* No timeout: a timed-out read would close the connection. mh_events_close
		 * closes it to end this read. */
		nng_aio_set_timeout(ev->aio, NNG_DURATION_INFINITE);
		nng_http_conn_read(ev->conn, ev->aio);
		nng_aio_wait(ev->aio);
		if (nng_aio_result(ev->aio) != 0)
			break;
		size_t n = nng_aio_count(ev->aio);
		ev->buf = realloc(ev->buf, ev->len + n + 1);
		memcpy(ev->buf + ev->len, chunk, n);
		ev->len += n;
		ev->buf[ev->len] = '\0';
		parse_frames(ev);
	}
	return NULL;
}

struct mh_events *mh_events_open(int port)
{
	char url[128];
	struct mh_events *ev = calloc(1, sizeof(*ev));
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/events", port);
	ev->tail = &ev->head;
	ev->buf = calloc(1, 1);
	pthread_mutex_init(&ev->mu, NULL);
	pthread_cond_init(&ev->cv, NULL);
	if (nng_url_parse(&ev->url, url) != 0 || nng_http_client_alloc(&ev->client, ev->url) != 0 ||
	    nng_aio_alloc(&ev->aio, NULL, NULL) != 0)
		goto fail;
	nng_aio_set_timeout(ev->aio, 5000);
	nng_http_client_connect(ev->client, ev->aio);
	nng_aio_wait(ev->aio);
	if (nng_aio_result(ev->aio) != 0)
		goto fail;
	ev->conn = nng_aio_get_output(ev->aio, 0);
	if (nng_http_req_alloc(&req, ev->url) != 0 || nng_http_res_alloc(&res) != 0)
		goto fail;
	nng_http_req_set_header(req, "Accept", "text/event-stream");
	nng_http_conn_write_req(ev->conn, req, ev->aio);
	nng_aio_wait(ev->aio);
	if (nng_aio_result(ev->aio) != 0)
		goto fail;
	nng_http_conn_read_res(ev->conn, res, ev->aio);
	nng_aio_wait(ev->aio);
	if (nng_aio_result(ev->aio) != 0 || nng_http_res_get_status(res) != 200)
		goto fail;
	nng_http_req_free(req);
	nng_http_res_free(res);
	pthread_create(&ev->thread, NULL, reader, ev);
	return ev;
fail:
	if (req != NULL)
		nng_http_req_free(req);
	if (res != NULL)
		nng_http_res_free(res);
	if (ev->conn != NULL)
		nng_http_conn_close(ev->conn);
	nng_aio_free(ev->aio);
	if (ev->client != NULL)
		nng_http_client_free(ev->client);
	nng_url_free(ev->url);
	free(ev->buf);
	free(ev);
	return NULL;
}

json_t *mh_events_next(struct mh_events *ev, char type[64], int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ev->mu);
	while (ev->head == NULL)
		if (pthread_cond_timedwait(&ev->cv, &ev->mu, &until) != 0)
			break;
	struct mh_event *e = ev->head;
	if (e != NULL) {
		ev->head = e->next;
		if (ev->head == NULL)
			ev->tail = &ev->head;
	}
	pthread_mutex_unlock(&ev->mu);
	if (e == NULL)
		return NULL;
	snprintf(type, 64, "%s", e->type);
	json_t *data = e->data ? e->data : json_object();
	free(e);
	return data;
}

void mh_events_close(struct mh_events *ev)
{
	if (ev == NULL)
		return;
	ev->closing = true;
	nng_http_conn_close(ev->conn);
	pthread_join(ev->thread, NULL);
	nng_aio_free(ev->aio);
	nng_http_client_free(ev->client);
	nng_url_free(ev->url);
	while (ev->head != NULL) {
		struct mh_event *e = ev->head;
		ev->head = e->next;
		json_decref(e->data);
		free(e);
	}
	free(ev->buf);
	pthread_mutex_destroy(&ev->mu);
	pthread_cond_destroy(&ev->cv);
	free(ev);
}
