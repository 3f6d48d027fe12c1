/* probe.c — see probe.h. */
#include "probe.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QMAX 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static probe_item queue[QMAX];
static size_t qhead, qlen;
static actor_pid probe;

static void push(const char *name, actor_pid from, const uint8_t *data, size_t len)
{
	pthread_mutex_lock(&mu);
	if (qlen < QMAX) {
		probe_item *it = &queue[(qhead + qlen) % QMAX];
		snprintf(it->name, sizeof(it->name), "%s", name);
		it->from = from;
		it->data = malloc(len + 1);
		memcpy(it->data, data, len);
		it->data[len] = 0;
		it->len = len;
		qlen++;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
}

static void on_any(actor_t *self, const actor_msg *msg)
{
	push(msg->name, msg->from, msg->data, msg->len);
}

static void on_exited(actor_t *self, actor_pid who)
{
	push("exited", who, (const uint8_t *)"", 0);
}

static const actor_def probe_def = {
	.name = "probe",
	.exited = on_exited,
	.unhandled = on_any,
};

void probe_start(size_t max_frame)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.ip = "127.0.0.1";
	cfg.port = 0;
	cfg.http_port = 0;
	cfg.max_frame = max_frame;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	cr_assert_eq(actor_spawn(&probe_def, NULL, &probe), 0);
}

void probe_stop(void)
{
	actor_terminate(probe);
	actor_wait(probe, 10000);
	actor_runtime_fini();
	pthread_mutex_lock(&mu);
	while (qlen > 0) {
		free(queue[qhead].data);
		qhead = (qhead + 1) % QMAX;
		qlen--;
	}
	pthread_mutex_unlock(&mu);
}

actor_pid probe_pid(void)
{
	return probe;
}

bool probe_wait(const char *name, int64_t timeout_ms, probe_item *item)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mu);
	for (;;) {
		while (qlen > 0) {
			probe_item *it = &queue[qhead];
			qhead = (qhead + 1) % QMAX;
			qlen--;
			if (strcmp(it->name, name) == 0) {
				*item = *it;
				pthread_mutex_unlock(&mu);
				return true;
			}
			free(it->data);
		}
		if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT && qlen == 0) {
			pthread_mutex_unlock(&mu);
			return false;
		}
	}
}

struct send_req {
	actor_pid to;
	char name[128];
	size_t len;
	int rv;
	bool link;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	uint8_t data[];
};

static void do_send(actor_t *self, void *arg)
{
	struct send_req *r = arg;
	if (self != NULL) {
		if (r->link)
			actor_link(self, r->to);
		else
			r->rv = actor_send(self, r->to, r->name, r->data, r->len);
	} else {
		r->rv = ACTOR_ECLOSED;
	}
	pthread_mutex_lock(&r->mu);
	r->done = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static int call_probe(actor_pid to, const char *name, const void *data, size_t len, bool link)
{
	struct send_req *r = calloc(1, sizeof(*r) + len);
	r->to = to;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	if (len)
		memcpy(r->data, data, len);
	r->len = len;
	r->link = link;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	cr_assert_eq(actor_call(probe, do_send, r), 0);
	pthread_mutex_lock(&r->mu);
	while (!r->done)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	int rv = r->rv;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	return rv;
}

int probe_send(actor_pid to, const char *name, const void *data, size_t len)
{
	return call_probe(to, name, data, len, false);
}

void probe_link(actor_pid to)
{
	call_probe(to, NULL, NULL, 0, true);
}

void peer_start(peer_proc *p, const char *const *args)
{
	char self[ACTOR_PID_TEXT_MAX];
	actor_pid_format(probe, self, sizeof(self));
	/* argv: role, then the probe's PID, then the rest */
	const char *full[18];
	size_t k = 0;
	full[k++] = NET_PEER_PATH;
	full[k++] = args[0];
	full[k++] = self;
	for (size_t i = 1; args[i] != NULL && k < 17; i++)
		full[k++] = args[i];
	full[k] = NULL;

	int fds[2];
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(fds[0], 0);
		execv(NET_PEER_PATH, (char *const *)full);
		_exit(127);
	}
	close(fds[0]);
	p->pid = pid;
	p->stdin_fd = fds[1];

	probe_item it;
	if (!probe_wait("ready", 20000, &it)) {
		peer_kill(p);
		cr_assert_fail("peer %s did not report ready", args[0]);
	}
	p->actor = it.from;
	p->http_port = (uint16_t)atoi((const char *)it.data);
	free(it.data);
}

void peer_kill(peer_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	if (p->stdin_fd > 0) {
		close(p->stdin_fd);
		p->stdin_fd = 0;
	}
}

int peer_quit(peer_proc *p)
{
	int status = -1;
	if (p->stdin_fd > 0) {
		close(p->stdin_fd);
		p->stdin_fd = 0;
	}
	if (p->pid > 0) {
		if (waitpid(p->pid, &status, 0) != p->pid)
			status = -1;
		p->pid = 0;
	}
	return status;
}

bool peer_alive(peer_proc *p)
{
	return p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == 0;
}

int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

bool tcp_wait_closed(int fd, int timeout_ms)
{
	char buf[512];
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, timeout_ms);
		if (n <= 0)
			return false;
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			return true;
	}
}

static bool write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len > 0) {
		ssize_t n = send(fd, c, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		c += n;
		len -= (size_t)n;
	}
	return true;
}

int http_raw(uint16_t port, const char *raw, size_t raw_len, char **body)
{
	if (body)
		*body = NULL;
	int fd = tcp_connect(port);
	if (fd < 0)
		return -1;
	/* A peer may answer and close before reading all we send (413): ignore that. */
	write_all(fd, raw, raw_len);
	shutdown(fd, SHUT_WR);
	size_t cap = 4096, len = 0;
	char *resp = malloc(cap);
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 20000) <= 0)
			break;
		if (len + 1024 > cap)
			resp = realloc(resp, cap *= 2);
		ssize_t n = read(fd, resp + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	resp[len] = 0;
	int status = -1;
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	if (body) {
		char *b = strstr(resp, "\r\n\r\n");
		*body = strdup(b ? b + 4 : "");
	}
	free(resp);
	return status;
}

int http_call(uint16_t port, const char *method, const char *target, const char *headers,
	      const void *data, size_t len, char **body)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n%s\r\n",
			 method, target, len, headers ? headers : "");
	char *req = malloc((size_t)n + len);
	memcpy(req, head, (size_t)n);
	if (len)
		memcpy(req + n, data, len);
	int status = http_raw(port, req, (size_t)n + len, body);
	free(req);
	return status;
}
