/* cas_client.c — see cas_client.h. */
#include "cas_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <actor/actor.h>
#include <actor/future.h>
#include <actor/log.h>

#include "cas_buf.h"
#include "cas_ring.h"

#define SLOTS 1024
#define RING_REFRESH_MS 1000

struct request {
	uint64_t id;
	const char *name; /* CAS_MSG_WRITE / READ / RING */
	cas_wbuf body;    /* without the leading id */
	const uint8_t *part;
	size_t plen;
	char node[48]; /* ring requests: the node to ask ("" = route) */
	cas_client_cb cb;
	void (*ring_cb)(int status, const char *msg, cas_ring_info *ring, void *arg);
	void *arg;
	uint64_t timer;
	actor_pid to; /* the node it went to */
	int tries;
	struct request *next;
};

struct cas_client {
	actor_pid pid;
	actor_t *self;
	char **contacts;
	size_t ncontacts, next_contact;
	cas_ring_info info;
	cas_ring ring;
	struct request *slots[SLOTS];
	uint64_t next_id;
	int64_t timeout_ms;
	bool closing;
};

void cas_ring_info_fini(cas_ring_info *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].tokens);
	free(r->v);
	*r = (cas_ring_info){0};
}

int cas_ring_info_decode(cas_rbuf *r, cas_ring_info *out)
{
	uint32_t n = cas_get_u32(r);
	*out = (cas_ring_info){0};
	if (r->bad || n > 4096 || (out->v = calloc(n ? n : 1, sizeof(*out->v))) == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		cas_ring_node *x = &out->v[out->n++];
		char *addr = cas_get_str(r);
		x->up = cas_get_u8(r);
		x->load = cas_get_u64(r);
		uint32_t nt = cas_get_u32(r);
		if (addr == NULL || r->bad || strlen(addr) >= sizeof(x->addr) || nt > 4096 ||
		    (size_t)nt * 8 > r->left || (x->tokens = malloc((nt ? nt : 1) * 8)) == NULL) {
			free(addr);
			cas_ring_info_fini(out);
			return -1;
		}
		snprintf(x->addr, sizeof(x->addr), "%s", addr);
		free(addr);
		x->ntokens = nt;
		for (uint32_t t = 0; t < nt; t++)
			x->tokens[t] = (int64_t)cas_get_u64(r);
	}
	return 0;
}

static int node_pid(const char *addr, actor_pid *pid)
{
	char text[96];
	snprintf(text, sizeof(text), "%s@%s", CAS_NODE_ACTOR, addr);
	return actor_pid_parse(text, pid);
}

/* ---- inside the client's actor ---------------------------------------------------- */

static void unlink_request(struct cas_client *c, struct request *q)
{
	struct request **pp = &c->slots[q->id % SLOTS];
	while (*pp && *pp != q)
		pp = &(*pp)->next;
	if (*pp)
		*pp = q->next;
}

static void request_free(struct request *q)
{
	cas_wbuf_fini(&q->body);
	free(q);
}

static void complete(struct cas_client *c, struct request *q, int status, const char *msg,
                     cas_rbuf *payload)
{
	unlink_request(c, q);
	if (q->timer && c->self)
		actor_cancel(c->self, q->timer);
	if (q->ring_cb) {
		cas_ring_info ring = {0};
		if (status == CAS_OK && (payload == NULL || cas_ring_info_decode(payload, &ring) != 0)) {
			status = CAS_ERROR;
			msg = "malformed ring";
		}
		q->ring_cb(status, msg, status == CAS_OK ? &ring : NULL, q->arg);
		cas_ring_info_fini(&ring);
	} else {
		cas_cells cells = {0};
		if (status == CAS_OK && payload &&
		    (strcmp(q->name, CAS_MSG_READ) == 0 || strcmp(q->name, CAS_MSG_FETCH) == 0) &&
		    cas_cells_decode(payload, &cells) != 0) {
			status = CAS_ERROR;
			msg = "malformed result";
		}
		q->cb(status, msg, &cells, q->arg);
		cas_cells_fini(&cells);
	}
	request_free(q);
}

static void timeout_cb(actor_t *self, void *arg)
{
	struct request *q = arg;
	if (self == NULL)
		return;
	struct cas_client *c = actor_state(self);
	q->timer = 0;
	complete(c, q, CAS_TIMEOUT, "Client request timeout: no answer from the coordinator", NULL);
}

/* The node to send a request to: the first live owner of its token, else a contact. */
static bool route(struct cas_client *c, struct request *q, actor_pid *to)
{
	if (q->node[0])
		return node_pid(q->node, to) == 0;
	if (q->part && c->ring.n) {
		int owners[64];
		int64_t t = cas_partition_token(q->part, q->plen);
		size_t k = cas_ring_replicas(&c->ring, t, c->info.n < 64 ? c->info.n : 64, owners);
		for (size_t i = 0; i < k; i++)
			if (c->info.v[owners[i]].up)
				return node_pid(c->info.v[owners[i]].addr, to) == 0;
	}
	for (size_t i = 0; i < c->info.n; i++) {
		size_t j = (c->next_contact++ + i) % c->info.n;
		if (c->info.v[j].up)
			return node_pid(c->info.v[j].addr, to) == 0;
	}
	if (c->ncontacts == 0)
		return false;
	return node_pid(c->contacts[c->next_contact++ % c->ncontacts], to) == 0;
}

static void submit_cb(actor_t *self, void *arg)
{
	struct request *q = arg;
	if (self == NULL) {
		if (q->ring_cb)
			q->ring_cb(CAS_TIMEOUT, "the client is closed", NULL, q->arg);
		else
			q->cb(CAS_TIMEOUT, "the client is closed", &(cas_cells){0}, q->arg);
		request_free(q);
		return;
	}
	struct cas_client *c = actor_state(self);
	q->id = ++c->next_id;
	q->next = c->slots[q->id % SLOTS];
	c->slots[q->id % SLOTS] = q;
	actor_pid to;
	if (!route(c, q, &to)) {
		complete(c, q, CAS_UNAVAILABLE, "no node to send the request to", NULL);
		return;
	}
	cas_be64_store(q->body.data, q->id);
	q->to = to;
	q->tries++;
	/* A node whose connection drops is known at once (exited), not after a timeout. */
	actor_link(self, to);
	actor_send(self, to, q->name, q->body.data, q->body.len);
	q->timer = actor_delay(self, c->timeout_ms, timeout_cb, q);
}

/* A node went away: it is down for routing until a ring refresh says otherwise, and
 * what was sent to it goes to another coordinator (a write carries its timestamps, so
 * sending it twice is harmless). Requests aimed at that very node fail at once. */
static void client_exited(actor_t *self, actor_pid who)
{
	struct cas_client *c = actor_state(self);
	for (size_t i = 0; i < c->info.n; i++) {
		actor_pid p;
		if (node_pid(c->info.v[i].addr, &p) == 0 && actor_pid_equal(p, who))
			c->info.v[i].up = false;
	}
	struct request *moved = NULL;
	for (size_t i = 0; i < SLOTS; i++) {
		for (struct request **pp = &c->slots[i]; *pp;) {
			struct request *q = *pp;
			if (!actor_pid_equal(q->to, who)) {
				pp = &q->next;
				continue;
			}
			*pp = q->next;
			if (q->timer)
				actor_cancel(self, q->timer);
			q->timer = 0;
			q->next = moved;
			moved = q;
		}
	}
	while (moved) {
		struct request *q = moved;
		moved = q->next;
		if (q->node[0] || q->tries >= 3) {
			q->next = c->slots[q->id % SLOTS]; /* complete() unlinks it again */
			c->slots[q->id % SLOTS] = q;
			complete(c, q, CAS_UNAVAILABLE, "the coordinator's connection was lost", NULL);
		} else {
			submit_cb(self, q);
		}
	}
}

static void on_result(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_client *c = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	uint8_t status = cas_get_u8(&r);
	char *why = cas_get_str(&r);
	struct request *q = NULL;
	for (q = r.bad ? NULL : c->slots[id % SLOTS]; q && q->id != id; q = q->next)
		;
	if (q == NULL) {
		free(why);
		return; /* late, after a timeout */
	}
	complete(c, q, status, why ? why : "", &r);
	free(why);
}

/* Replies of replicas to replica-level requests: id, ok, then cells (fetch) or nothing. */
static void on_replica_reply(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_client *c = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	bool ok = cas_get_u8(&r);
	struct request *q = NULL;
	for (q = r.bad ? NULL : c->slots[id % SLOTS]; q && q->id != id; q = q->next)
		;
	if (q == NULL)
		return;
	complete(c, q, ok ? CAS_OK : CAS_ERROR, ok ? "" : "the replica failed", &r);
}

static void adopt_ring(struct cas_client *c, cas_ring_info *ring)
{
	cas_ring_info_fini(&c->info);
	cas_ring_fini(&c->ring);
	c->info = *ring;
	*ring = (cas_ring_info){0};
	for (size_t i = 0; i < c->info.n; i++)
		cas_ring_add(&c->ring, (int)i, c->info.v[i].tokens, c->info.v[i].ntokens);
	cas_ring_sort(&c->ring);
}

static void refresh_done(int status, const char *msg, cas_ring_info *ring, void *arg)
{
	struct cas_client *c = arg;
	(void)msg;
	if (status == CAS_OK && ring && ring->n > 0)
		adopt_ring(c, ring);
}

static struct request *ring_request(const char *node,
                                    void (*cb)(int, const char *, cas_ring_info *, void *),
                                    void *arg)
{
	struct request *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->name = CAS_MSG_RING;
	q->ring_cb = cb;
	q->arg = arg;
	if (node)
		snprintf(q->node, sizeof(q->node), "%s", node);
	cas_put_u64(&q->body, 0);
	if (q->body.oom) {
		request_free(q);
		return NULL;
	}
	return q;
}

static void refresh_cb(actor_t *self, void *arg)
{
	struct cas_client *c = arg;
	if (self == NULL)
		return;
	struct request *q = ring_request(NULL, refresh_done, c);
	if (q)
		submit_cb(self, q);
	actor_delay(self, RING_REFRESH_MS, refresh_cb, c);
}

static int client_init(actor_t *self)
{
	struct cas_client *c = actor_state(self);
	c->self = self;
	actor_install(self, CAS_MSG_RESULT, on_result, c);
	actor_install(self, CAS_MSG_FETCH_REPLY, on_replica_reply, c);
	actor_install(self, CAS_MSG_MUTATE_ACK, on_replica_reply, c);
	actor_delay(self, RING_REFRESH_MS, refresh_cb, c);
	return 0;
}

static void client_fini(actor_t *self)
{
	struct cas_client *c = actor_state(self);
	c->self = NULL;
	for (size_t i = 0; i < SLOTS; i++)
		while (c->slots[i])
			complete(c, c->slots[i], CAS_TIMEOUT, "the client is closed", NULL);
}

static const actor_def client_def = {
    .name = "cas-client",
    .init = client_init,
    .fini = client_fini,
    .exited = client_exited,
};

/* ---- the public calls ------------------------------------------------------------- */

static void set_ring_cb(actor_t *self, void *arg)
{
	cas_ring_info *ring = arg;
	if (self != NULL)
		adopt_ring(actor_state(self), ring);
	cas_ring_info_fini(ring);
	free(ring);
}

cas_client *cas_client_connect(const char *contacts, int64_t timeout_ms, char *err, size_t errlen)
{
	struct cas_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->timeout_ms = 5000;
	for (const char *s = contacts; s && *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char **v = realloc(c->contacts, (c->ncontacts + 1) * sizeof(*v));
		if (v != NULL) {
			c->contacts = v;
			if ((c->contacts[c->ncontacts] = strndup(s, len)) != NULL)
				c->ncontacts++;
		}
		s = e ? e + 1 : s + len;
	}
	if (c->ncontacts == 0 || actor_spawn(&client_def, c, &c->pid) != 0) {
		snprintf(err, errlen, c->ncontacts ? "cannot spawn the client actor" : "no contact point");
		for (size_t i = 0; i < c->ncontacts; i++)
			free(c->contacts[i]);
		free(c->contacts);
		free(c);
		return NULL;
	}
	int64_t budget = timeout_ms > 0 ? timeout_ms : 5000;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (size_t round = 0;; round++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= budget)
			break;
		const char *node = c->contacts[round % c->ncontacts];
		cas_ring_info *ring = calloc(1, sizeof(*ring));
		int64_t t = budget - spent < 1000 ? budget - spent : 1000;
		cas_client_set_timeout(c, t);
		int st = ring ? cas_client_ring(c, node, ring, err, errlen) : CAS_ERROR;
		if (st == CAS_OK && ring->n > 0) {
			actor_call(c->pid, set_ring_cb, ring);
			cas_client_set_timeout(c, 5000);
			return c;
		}
		if (ring)
			cas_ring_info_fini(ring);
		free(ring);
		/* A node still starting refuses the connection at once: pace the retries. */
		struct timespec pause = {0, 100 * 1000000};
		nanosleep(&pause, NULL);
	}
	snprintf(err, errlen, "no node answered at %s", contacts);
	cas_client_free(c);
	return NULL;
}

void cas_client_free(cas_client *c)
{
	if (c == NULL)
		return;
	actor_terminate(c->pid);
	actor_wait(c->pid, -1);
	for (size_t i = 0; i < c->ncontacts; i++)
		free(c->contacts[i]);
	free(c->contacts);
	cas_ring_info_fini(&c->info);
	cas_ring_fini(&c->ring);
	free(c);
}

static void set_timeout_cb(actor_t *self, void *arg)
{
	int64_t *ms = arg;
	if (self)
		((struct cas_client *)actor_state(self))->timeout_ms = *ms;
	free(ms);
}

void cas_client_set_timeout(cas_client *c, int64_t ms)
{
	int64_t *v = malloc(sizeof(*v));
	if (v == NULL)
		return;
	*v = ms;
	actor_call(c->pid, set_timeout_cb, v);
}

static struct request *data_request(const char *name, cas_consistency cl, const uint8_t *part,
                                    size_t plen, const cas_cells *cells, cas_client_cb cb,
                                    void *arg)
{
	struct request *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->name = name;
	q->cb = cb;
	q->arg = arg;
	cas_put_u64(&q->body, 0); /* the id, set by the actor */
	cas_put_u8(&q->body, (uint8_t)cl);
	cas_put_bytes(&q->body, part, plen);
	if (cells)
		cas_cells_encode(&q->body, cells);
	if (q->body.oom) {
		request_free(q);
		return NULL;
	}
	/* The partition, for routing: it sits in the body after id, level and length. */
	q->part = q->body.data + 8 + 1 + 4;
	q->plen = plen;
	return q;
}

int cas_client_write_async(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                           const cas_cells *cells, cas_client_cb cb, void *arg)
{
	struct request *q = data_request(CAS_MSG_WRITE, cl, part, plen, cells, cb, arg);
	if (q == NULL)
		return -1;
	return actor_call(c->pid, submit_cb, q) == 0 ? 0 : -1;
}

int cas_client_read_async(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                          cas_client_cb cb, void *arg)
{
	struct request *q = data_request(CAS_MSG_READ, cl, part, plen, NULL, cb, arg);
	if (q == NULL)
		return -1;
	return actor_call(c->pid, submit_cb, q) == 0 ? 0 : -1;
}

/* ---- synchronous forms -------------------------------------------------------------- */

struct waiter {
	actor_promise *done;
	int status;
	char *err;
	size_t errlen;
	cas_cells *out;
	cas_ring_info *ring;
};

static void wait_cb(int status, const char *message, const cas_cells *cells, void *arg)
{
	struct waiter *w = arg;
	w->status = status;
	if (status != CAS_OK && w->err)
		snprintf(w->err, w->errlen, "%s", message);
	if (status == CAS_OK && w->out && cells)
		for (size_t i = 0; i < cells->n; i++)
			cas_cells_push(w->out, cas_cell_dup(cells->v[i]));
	actor_promise_set(w->done, NULL, NULL);
}

static void wait_ring_cb(int status, const char *message, cas_ring_info *ring, void *arg)
{
	struct waiter *w = arg;
	w->status = status;
	if (status != CAS_OK && w->err)
		snprintf(w->err, w->errlen, "%s", message);
	if (status == CAS_OK && ring) {
		*w->ring = *ring;
		*ring = (cas_ring_info){0};
	}
	actor_promise_set(w->done, NULL, NULL);
}

static int wait_for(struct waiter *w)
{
	actor_future *f = actor_promise_future(w->done);
	actor_future_await(f, -1);
	actor_future_unref(f);
	actor_promise_free(w->done);
	return w->status;
}

int cas_client_write(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                     const cas_cells *cells, char *err, size_t errlen)
{
	struct waiter w = {actor_promise_alloc(), CAS_ERROR, err, errlen, NULL, NULL};
	if (w.done == NULL || cas_client_write_async(c, cl, part, plen, cells, wait_cb, &w) != 0) {
		actor_promise_free(w.done);
		snprintf(err, errlen, "out of memory");
		return CAS_ERROR;
	}
	return wait_for(&w);
}

int cas_client_read(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                    cas_cells *out, char *err, size_t errlen)
{
	struct waiter w = {actor_promise_alloc(), CAS_ERROR, err, errlen, out, NULL};
	if (w.done == NULL || cas_client_read_async(c, cl, part, plen, wait_cb, &w) != 0) {
		actor_promise_free(w.done);
		snprintf(err, errlen, "out of memory");
		return CAS_ERROR;
	}
	return wait_for(&w);
}

int cas_client_ring(cas_client *c, const char *node, cas_ring_info *out, char *err, size_t errlen)
{
	struct waiter w = {actor_promise_alloc(), CAS_ERROR, err, errlen, NULL, out};
	struct request *q = w.done ? ring_request(node, wait_ring_cb, &w) : NULL;
	if (q == NULL || actor_call(c->pid, submit_cb, q) != 0) {
		if (q)
			request_free(q);
		actor_promise_free(w.done);
		snprintf(err, errlen, "out of memory");
		return CAS_ERROR;
	}
	return wait_for(&w);
}

/* A replica-level request: [id][partition][cells?] to one node. */
static int local_request(cas_client *c, const char *name, const char *node, const uint8_t *part,
                         size_t plen, const cas_cells *cells, cas_cells *out, char *err,
                         size_t errlen)
{
	struct waiter w = {actor_promise_alloc(), CAS_ERROR, err, errlen, out, NULL};
	struct request *q = calloc(1, sizeof(*q));
	if (w.done == NULL || q == NULL) {
		free(q);
		actor_promise_free(w.done);
		snprintf(err, errlen, "out of memory");
		return CAS_ERROR;
	}
	q->name = name;
	q->cb = wait_cb;
	q->arg = &w;
	snprintf(q->node, sizeof(q->node), "%s", node);
	cas_put_u64(&q->body, 0);
	cas_put_bytes(&q->body, part, plen);
	if (cells)
		cas_cells_encode(&q->body, cells);
	if (q->body.oom || actor_call(c->pid, submit_cb, q) != 0) {
		request_free(q);
		actor_promise_free(w.done);
		snprintf(err, errlen, "out of memory");
		return CAS_ERROR;
	}
	return wait_for(&w);
}

int cas_client_fetch_local(cas_client *c, const char *node, const uint8_t *part, size_t plen,
                           cas_cells *out, char *err, size_t errlen)
{
	return local_request(c, CAS_MSG_FETCH, node, part, plen, NULL, out, err, errlen);
}

int cas_client_mutate_local(cas_client *c, const char *node, const uint8_t *part, size_t plen,
                            const cas_cells *cells, char *err, size_t errlen)
{
	return local_request(c, CAS_MSG_MUTATE, node, part, plen, cells, NULL, err, errlen);
}
