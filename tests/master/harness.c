/* harness.c — see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/json_pb.h"
#include "common/resources.h"

struct item {
	struct item *next;
	char name[128];
	uint8_t *data;
	size_t len;
};

struct probe {
	actor_def def;
	char name[64];
	actor_pid pid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *head;
	bool ended;
};

#define MAX_PROBES 16
static probe *probes[MAX_PROBES];
static size_t n_probes;
static actor_pid master_pid;

/* ---- probes ---- */

static void push(probe *p, const char *name, const uint8_t *data, size_t len)
{
	struct item *it = calloc(1, sizeof(*it));

	cr_assert_not_null(it);
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->data = malloc(len ? len : 1);
	cr_assert_not_null(it->data);
	if (len)
		memcpy(it->data, data, len);
	it->len = len;
	pthread_mutex_lock(&p->mu);
	struct item **pp = &p->head;
	while (*pp)
		pp = &(*pp)->next;
	*pp = it;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void probe_unhandled(actor_t *self, const actor_msg *msg)
{
	push(actor_state(self), msg->name, msg->data, msg->len);
}

static void probe_exited_cb(actor_t *self, actor_pid who)
{
	push(actor_state(self), "exited", (const uint8_t *)who.id, strlen(who.id));
}

probe *probe_spawn(const char *name)
{
	probe *p = calloc(1, sizeof(*p));

	cr_assert_not_null(p);
	cr_assert_lt(n_probes, MAX_PROBES);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->def =
	    (actor_def){.name = p->name, .unhandled = probe_unhandled, .exited = probe_exited_cb};
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	cr_assert_eq(actor_spawn(&p->def, p, &p->pid), 0);
	probes[n_probes++] = p;
	return p;
}

actor_pid probe_pid(const probe *p)
{
	return p->pid;
}

void probe_kill(probe *p)
{
	if (p->ended)
		return;
	actor_terminate(p->pid);
	actor_wait(p->pid, -1);
	p->ended = true;
}

struct send_arg {
	actor_pid to;
	char name[128];
	size_t len;
	uint8_t data[];
};

static void send_fn(actor_t *self, void *arg)
{
	struct send_arg *a = arg;

	if (self != NULL)
		actor_send(self, a->to, a->name, a->data, a->len);
	free(a);
}

void probe_send(probe *p, actor_pid to, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	struct send_arg *a = malloc(sizeof(*a) + len + 1);

	cr_assert_not_null(a);
	a->to = to;
	snprintf(a->name, sizeof(a->name), "%s", msg->descriptor->name);
	a->len = protobuf_c_message_pack(msg, a->data);
	cr_assert_eq(actor_call(p->pid, send_fn, a), 0);
}

void probe_send_json(probe *p, actor_pid to, const ProtobufCMessageDescriptor *d, const char *fmt,
                     ...)
{
	va_list ap;
	char *text = NULL;
	json_error_t jerr;
	ProtobufCMessage *msg = NULL;
	char err[512];

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&text, fmt, ap), 0);
	va_end(ap);
	json_t *j = json_loads(text, 0, &jerr);
	cr_assert_not_null(j, "bad JSON in test: %s: %s", jerr.text, text);
	cr_assert_eq(px_json_to_pb(j, d, &msg, err, sizeof(err)), PX_OK, "%s: %s", err, text);
	probe_send(p, to, msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	json_decref(j);
	free(text);
}

static struct item *take_named(probe *p, const char *name, int64_t ms)
{
	struct timespec deadline;
	struct item *found = NULL;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (struct item **pp = &p->head; *pp; pp = &(*pp)->next) {
			if (strcmp((*pp)->name, name) == 0) {
				found = *pp;
				*pp = found->next;
				break;
			}
		}
		if (found != NULL || pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&p->mu);
	return found;
}

void *probe_take(probe *p, const ProtobufCMessageDescriptor *d, int64_t ms)
{
	struct item *it = take_named(p, d->name, ms);

	if (it == NULL)
		return NULL;
	ProtobufCMessage *msg = protobuf_c_message_unpack(d, NULL, it->len, it->data);
	free(it->data);
	free(it);
	cr_assert_not_null(msg, "a %s that does not unpack", d->name);
	return msg;
}

void *probe_expect(probe *p, const ProtobufCMessageDescriptor *d)
{
	void *msg = probe_take(p, d, WAIT_MS);

	cr_assert_not_null(msg, "%s expected a %s, none came", p->name, d->name);
	return msg;
}

bool probe_has(probe *p, const ProtobufCMessageDescriptor *d)
{
	bool has = false;

	actor_clock_settle();
	pthread_mutex_lock(&p->mu);
	for (struct item *it = p->head; it; it = it->next)
		has |= strcmp(it->name, d->name) == 0;
	pthread_mutex_unlock(&p->mu);
	return has;
}

bool probe_exited(probe *p, int64_t ms)
{
	struct item *it = take_named(p, "exited", ms);

	if (it == NULL)
		return false;
	free(it->data);
	free(it);
	return true;
}

void probe_clear(probe *p)
{
	actor_clock_settle();
	pthread_mutex_lock(&p->mu);
	while (p->head) {
		struct item *it = p->head;
		p->head = it->next;
		free(it->data);
		free(it);
	}
	pthread_mutex_unlock(&p->mu);
}

static void probe_free(probe *p)
{
	probe_kill(p);
	while (p->head) {
		struct item *it = p->head;
		p->head = it->next;
		free(it->data);
		free(it);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

void pb_done(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

/* ---- runtime and master ---- */

void h_start(const master_flags *f)
{
	actor_config cfg;
	master_flags dflt;

	actor_config_default(&cfg);
	cfg.workers = 2;
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = 0;
	cr_assert_eq(actor_runtime_init(&cfg), 0);
	actor_clock_pause();
	if (f == NULL) {
		master_flags_default(&dflt);
		f = &dflt;
	}
	cr_assert_eq(master_start(f, &master_pid), 0);
}

void h_master_restart(const master_flags *f)
{
	master_flags dflt;

	master_stop(master_pid);
	if (f == NULL) {
		master_flags_default(&dflt);
		f = &dflt;
	}
	int rv = master_start(f, &master_pid);
	cr_assert_eq(rv, 0, "master_start: %s", actor_strerror(rv));
}

void h_stop(void)
{
	for (size_t i = 0; i < n_probes; i++)
		probe_free(probes[i]);
	n_probes = 0;
	master_stop(master_pid);
	actor_runtime_fini();
}

actor_pid h_master(void)
{
	return master_pid;
}

void h_advance(int64_t ms)
{
	const int64_t step = 1000;

	actor_clock_settle();
	while (ms > 0) {
		int64_t d = ms < step ? ms : step;
		actor_clock_advance(d);
		actor_clock_settle();
		ms -= d;
	}
}

/* ---- protocol steps ---- */

char *h_register_framework(probe *p, const char *name, double failover_timeout,
                           const char *capabilities)
{
	probe_send_json(p, h_master(), &plexus__internal__register_framework_message__descriptor,
	                "{\"framework\": {\"user\": \"tester\", \"name\": \"%s\", "
	                "\"failover_timeout\": %g, \"capabilities\": %s}}",
	                name, failover_timeout, capabilities ? capabilities : "[]");
	Plexus__Internal__FrameworkRegisteredMessage *r =
	    probe_expect(p, &plexus__internal__framework_registered_message__descriptor);
	cr_assert_not_null(r->framework_id);
	cr_assert_not_null(r->master_info);
	char *id = strdup(r->framework_id->value);
	pb_done(r);
	return id;
}

char *h_resources_json(const char *text)
{
	px_resources *rs = NULL;
	char err[256];

	cr_assert_eq(px_resources_parse(text, NULL, &rs, err, sizeof(err)), PX_OK, "%s", err);
	json_t *j = px_resources_to_json(rs);
	char *s = json_dumps(j, PX_JSON_DUMP_FLAGS);
	json_decref(j);
	px_resources_free(rs);
	return s;
}

char *h_register_agent(probe *p, const char *hostname, const char *resources)
{
	char *res = h_resources_json(resources);

	probe_send_json(p, h_master(), &plexus__internal__register_agent_message__descriptor,
	                "{\"agent\": {\"hostname\": \"%s\", \"resources\": %s}, "
	                "\"version\": \"0.1.0\"}",
	                hostname, res);
	free(res);
	Plexus__Internal__AgentRegisteredMessage *r =
	    probe_expect(p, &plexus__internal__agent_registered_message__descriptor);
	cr_assert_not_null(r->agent_id);
	char *id = strdup(r->agent_id->value);
	pb_done(r);
	return id;
}

Plexus__Internal__ResourceOffersMessage *h_expect_offer(probe *p)
{
	Plexus__Internal__ResourceOffersMessage *r =
	    probe_expect(p, &plexus__internal__resource_offers_message__descriptor);
	cr_assert_geq(r->n_offers, 1);
	cr_assert_eq(r->n_pids, r->n_offers);
	return r;
}

Plexus__Internal__StatusUpdateMessage *h_expect_update(probe *p, const char *task_id,
                                                       Plexus__TaskState state, int reason)
{
	Plexus__Internal__StatusUpdateMessage *u =
	    probe_expect(p, &plexus__internal__status_update_message__descriptor);
	const Plexus__TaskStatus *st = u->update->status;

	cr_assert_str_eq(st->task_id->value, task_id);
	cr_assert_eq(st->state, state, "task %s: state %d, expected %d (%s)", task_id, st->state,
	             state, st->message ? st->message : "");
	if (reason >= 0) {
		cr_assert(st->has_reason, "task %s: no reason", task_id);
		cr_assert_eq((int)st->reason, reason, "task %s: reason %d, expected %d (%s)",
		             task_id, st->reason, reason, st->message ? st->message : "");
	}
	return u;
}

/* ---- HTTP ---- */

int h_http(const char *method, const char *target, const char *content_type, const char *data,
           char **body)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(actor_runtime_http_port()),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	size_t dlen = data ? strlen(data) : 0;
	char *req = NULL;

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	int n = asprintf(&req,
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	                 "Content-Length: %zu\r\n%s%s%s\r\n",
	                 method, target, dlen, content_type ? "Content-Type: " : "",
	                 content_type ? content_type : "", content_type ? "\r\n" : "");
	cr_assert_gt(n, 0);
	cr_assert_eq(write(fd, req, (size_t)n), n);
	if (dlen)
		cr_assert_eq(write(fd, data, dlen), (ssize_t)dlen);
	free(req);

	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		cr_assert_not_null(buf);
		ssize_t k = read(fd, buf + len, cap - len - 1);
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	int status = -1;
	sscanf(buf, "HTTP/1.%*d %d", &status);
	char *sep = strstr(buf, "\r\n\r\n");
	if (body != NULL)
		*body = strdup(sep ? sep + 4 : "");
	free(buf);
	return status;
}

json_t *h_get_json(const char *target)
{
	char *body = NULL;
	json_error_t jerr;

	int status = h_http("GET", target, NULL, NULL, &body);
	cr_assert_eq(status, 200, "GET %s: %d %s", target, status, body);
	json_t *j = json_loads(body, 0, &jerr);
	cr_assert_not_null(j, "GET %s: not JSON (%s): %s", target, jerr.text, body);
	free(body);
	return j;
}
