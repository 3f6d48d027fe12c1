/* transport_nng.c — remote messages over nng's byte streams on tcp://.
 *
 * One listener per OS process and one TCP connection per pair of processes, used both
 * ways. The first message to a peer dials it; the peer adopts the connection it
 * accepted for its own messages back (the first frame names the sender's ip:port), so
 * replies ride the same stream and TCP acknowledgements ride the replies. Every
 * message from here to a peer goes over the one connection in use for it, which is
 * what keeps per-sender order. Frames queued for a peer are appended to its pending
 * buffer and go out as one write (one iov) when the previous write is done: under load
 * every write carries every frame queued since the last one.
 *
 * Threads and locks: send() runs on the caller's thread; callbacks run on nng's task
 * threads. One mutex (T.mu) guards the peer table, every peer and every connection's
 * flags and buffers. It is held only to append, swap buffers and change state, never
 * across I/O that can wait or a call into the core.
 *
 * Failure: an error on the connection in use for a peer (or a failed dial) closes it,
 * drops what was queued (at-most-once, like libprocess) and reports
 * actor__peer_lost(); the next send dials again. Bad bytes close the connection they
 * came on; a well-framed frame with bad contents is dropped alone. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "actor/actor.h"
#include "actor/error.h"
#include "actor/log.h"
#include "http/http_internal.h"
#include "metrics_internal.h"
#include "net/frame.h"
#include "transport.h"

#define CHUNK_SIZE (64u * 1024u)    /* default receive buffer */
#define KEEP_OUT_BUF (4u << 20)     /* write buffers above this are freed when drained */
#define PEER_BUCKETS 256u
#define DEFAULT_MAX_FRAME ((size_t)64 << 20)

/* A receive buffer. Frames decoded from it are handed to the core in place; each
 * holds a reference until the core releases it. */
struct chunk {
	_Atomic int refs;
	size_t cap;
	size_t len;
	uint8_t data[];
};

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct peer;

struct conn {
	struct peer *peer;       /* the peer whose messages this connection carries, or NULL
	                            (an accepted connection not adopted yet, or a spare) */
	nng_stream *s;
	nng_aio *tx, *rx;        /* background write; reads */
	nng_aio *txs;            /* write tried on the sender's thread (no callback) */
	bool closed, tx_busy, rx_busy;
	bool adopt_done;         /* accepted: the first frame with a sender has been seen */
	uint32_t remote_ip;
	struct buf out;          /* the bytes of the write in flight */
	size_t out_off;
	struct chunk *in;        /* current receive buffer */
	size_t in_off;           /* start of the first frame not yet decoded */
	char addr[32];           /* remote address, for logs */
	struct conn *next, *prev;
};

enum peer_state { PEER_IDLE, PEER_DIALING, PEER_UP };

struct peer {
	uint32_t ip;
	uint16_t port;
	enum peer_state state;
	struct conn *conn;       /* when PEER_UP */
	struct buf pending;      /* frames queued, not yet handed to a write */
	uint64_t pending_frames;
	nng_stream_dialer *dialer;
	nng_aio *dial;           /* the dial in flight (PEER_DIALING): one aio per dial, so
	                            a dial never reuses an aio whose callback still runs */
	struct peer *next;       /* hash chain */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stopping;
	uint32_t ip;
	uint16_t port;
	size_t max_frame;
	nng_stream_listener *listener;
	nng_aio *accept;
	struct peer *peers[PEER_BUCKETS];
	struct conn conns;       /* list head of live connections */
	size_t nconns;
	size_t ndials;           /* dials whose callback has not finished */
	struct conn *graves;     /* ended connections for the reaper thread to free */
	struct dead_aio *dead_aios; /* aios for the reaper thread to free */
	bool reaper_stop;
	pthread_cond_t reaper_cv;
	pthread_t reaper;
} T = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.reaper_cv = PTHREAD_COND_INITIALIZER,
};

static void conn_tx_cb(void *arg);
static void conn_rx_cb(void *arg);
static void dial_cb(void *arg);

static const char *ip_str(uint32_t ip, uint16_t port, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255, port);
	return buf;
}

/* ---- buffers ---------------------------------------------------------------- */

static int buf_reserve(struct buf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return ACTOR_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){0};
}

static struct chunk *chunk_alloc(size_t cap)
{
	struct chunk *ch = malloc(sizeof(*ch) + cap);
	if (ch == NULL)
		return NULL;
	atomic_init(&ch->refs, 1);
	ch->cap = cap;
	ch->len = 0;
	return ch;
}

static void chunk_unref(void *owner)
{
	struct chunk *ch = owner;
	if (ch != NULL && atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) == 1)
		free(ch);
}

/* ---- peers ------------------------------------------------------------------ */

/* The peer at ip:port, created on first use. NULL when stopping or out of memory.
 * Called with T.mu held. */
static struct peer *peer_get_locked(uint32_t ip, uint16_t port)
{
	uint32_t h = (ip * 2654435761u ^ port) % PEER_BUCKETS;
	struct peer *p;
	for (p = T.peers[h]; p != NULL; p = p->next)
		if (p->ip == ip && p->port == port)
			return p;
	if (T.stopping || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	char url[64], a[32];
	snprintf(url, sizeof(url), "tcp://%s", ip_str(ip, port, a, sizeof(a)));
	if (nng_stream_dialer_alloc(&p->dialer, url) != 0) {
		free(p);
		return NULL;
	}
	p->ip = ip;
	p->port = port;
	p->next = T.peers[h];
	T.peers[h] = p;
	return p;
}

/* The connection in use for p failed (c is it, or NULL for a failed dial): forgets it
 * and drops what was queued. Called with T.mu held. Returns true if the caller must
 * report the loss with actor__peer_lost() once it has unlocked (the core is never
 * called under our lock: it may send, and sending takes it). */
static bool peer_fail_locked(struct peer *p, struct conn *c, const char *why, int err)
{
	if (c != NULL && p->conn != c)
		return false; /* a spare connection: the peer is still served by another */
	uint64_t dropped = p->pending_frames;
	if (c != NULL)
		c->peer = NULL;
	p->conn = NULL;
	p->state = PEER_IDLE;
	p->pending.len = 0;
	p->pending_frames = 0;
	ACTOR__STAT_ADD(connections_failed, 1);
	if (dropped)
		ACTOR__STAT_ADD(frames_dropped, dropped);
	if (T.stopping)
		return false;
	char a[32];
	actor_info("transport: peer %s lost (%s: %s); %llu queued message(s) dropped",
		   ip_str(p->ip, p->port, a, sizeof(a)), why, err ? nng_strerror(err) : "closed",
		   (unsigned long long)dropped);
	return true;
}

/* ---- connections ------------------------------------------------------------ */

static struct conn *conn_alloc(nng_stream *s)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->s = s;
	if (nng_aio_alloc(&c->tx, conn_tx_cb, c) != 0 || nng_aio_alloc(&c->rx, conn_rx_cb, c) != 0 ||
	    nng_aio_alloc(&c->txs, NULL, NULL) != 0 || (c->in = chunk_alloc(CHUNK_SIZE)) == NULL) {
		nng_aio_free(c->tx);
		nng_aio_free(c->rx);
		nng_aio_free(c->txs);
		free(c);
		return NULL;
	}
	nng_stream_set_bool(s, NNG_OPT_TCP_NODELAY, true);
	nng_sockaddr sa;
	if (nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa) == 0 && sa.s_family == NNG_AF_INET) {
		c->remote_ip = ntohl(sa.s_in.sa_addr);
		ip_str(c->remote_ip, ntohs(sa.s_in.sa_port), c->addr, sizeof(c->addr));
	} else {
		snprintf(c->addr, sizeof(c->addr), "?");
	}
	pthread_mutex_lock(&T.mu);
	c->next = T.conns.next;
	c->prev = &T.conns;
	T.conns.next->prev = c;
	T.conns.next = c;
	T.nconns++;
	pthread_mutex_unlock(&T.mu);
	ACTOR__STAT_ADD(connections_open, 1);
	return c;
}

/* Closes the stream; the aio callbacks then see errors and the last one frees c.
 * Called with T.mu held. */
static void conn_close_locked(struct conn *c)
{
	if (!c->closed) {
		c->closed = true;
		nng_stream_close(c->s);
	}
}

/* Unlinks c if it is closed and no operation is in flight; the caller then calls
 * conn_free(c) after unlocking. Called with T.mu held. */
static bool conn_done_locked(struct conn *c)
{
	if (!c->closed || c->tx_busy || c->rx_busy)
		return false;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	return true; /* still counted in T.nconns until conn_free hands it to the reaper */
}

/* Frees an ended connection (conn_done_locked said so). Its buffers go at once; its
 * nng objects go on the reaper thread: this runs inside one of its aios' callbacks,
 * and nng may still touch the aio and the stream after a callback returns, so they are
 * freed only after nng_aio_stop has waited for every callback, which no callback can
 * do itself. Called without T.mu. */
static void conn_free(struct conn *c)
{
	ACTOR__STAT_ADD(connections_open, -1);
	buf_free(&c->out);
	chunk_unref(c->in);
	c->in = NULL;
	pthread_mutex_lock(&T.mu);
	c->next = T.graves;
	T.graves = c;
	T.nconns--;
	pthread_cond_broadcast(&T.cv);
	pthread_cond_signal(&T.reaper_cv);
	pthread_mutex_unlock(&T.mu);
}

struct dead_aio {
	nng_aio *aio;
	struct dead_aio *next;
};

void actor__net_aio_free_later(nng_aio *aio)
{
	struct dead_aio *d = malloc(sizeof(*d));
	if (d == NULL) {
		/* Better a small leak than freeing an aio nng may still touch. */
		actor_error("transport: out of memory freeing an aio; leaking it");
		return;
	}
	d->aio = aio;
	pthread_mutex_lock(&T.mu);
	d->next = T.dead_aios;
	T.dead_aios = d;
	pthread_cond_signal(&T.reaper_cv);
	pthread_mutex_unlock(&T.mu);
}

static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&T.mu);
	for (;;) {
		while (T.graves == NULL && T.dead_aios == NULL && !T.reaper_stop)
			pthread_cond_wait(&T.reaper_cv, &T.mu);
		struct conn *list = T.graves;
		struct dead_aio *aios = T.dead_aios;
		T.graves = NULL;
		T.dead_aios = NULL;
		if (list == NULL && aios == NULL)
			break; /* stopping, and nothing left */
		pthread_mutex_unlock(&T.mu);
		while (aios != NULL) {
			struct dead_aio *d = aios;
			aios = d->next;
			nng_aio_stop(d->aio);
			nng_aio_free(d->aio);
			free(d);
		}
		while (list != NULL) {
			struct conn *c = list;
			list = c->next;
			nng_aio_stop(c->tx);
			nng_aio_stop(c->rx);
			nng_aio_stop(c->txs);
			nng_stream_free(c->s);
			nng_aio_free(c->tx);
			nng_aio_free(c->rx);
			nng_aio_free(c->txs);
			free(c);
		}
		pthread_mutex_lock(&T.mu);
	}
	pthread_mutex_unlock(&T.mu);
	return NULL;
}

/* Hands the peer's pending frames to its connection as the next write if it is not
 * writing. Called with T.mu held; returns the connection whose write the caller must
 * start (conn_write or conn_write_async) after unlocking, or NULL. */
static struct conn *peer_kick_locked(struct peer *p)
{
	struct conn *c = p->conn;
	if (c == NULL || c->closed || c->tx_busy || p->pending.len == 0)
		return NULL;
	struct buf tmp = c->out;
	c->out = p->pending;
	c->out_off = 0;
	tmp.len = 0;
	if (tmp.cap > KEEP_OUT_BUF)
		buf_free(&tmp);
	p->pending = tmp;
	p->pending_frames = 0;
	c->tx_busy = true;
	return c;
}

/* nng 1.5 leaves an operation started on a stream that is already closed pending for
 * ever (closing fails only what is queued at that moment), and stop() would wait for
 * it. So every read and write starts under T.mu after a look at c->closed, and
 * conn_close_locked runs under the same lock. nng completes callback aios on its own
 * threads, never inside the starting call, so no callback runs under our lock. */

/* A write cannot start because c was closed: drop it, and free c if that was the
 * last operation. Called with T.mu held; unlocks it. */
static void conn_write_closed_unlock(struct conn *c)
{
	c->tx_busy = false;
	c->out.len = 0;
	c->out_off = 0;
	bool done = conn_done_locked(c);
	pthread_mutex_unlock(&T.mu);
	if (done)
		conn_free(c);
}

/* Writes the rest of c->out (from c->out_off) in the background: conn_tx_cb goes on.
 * Called without T.mu, with tx_busy set, so nobody else touches c->out meanwhile.
 * in_cb: called from c's own conn_tx_cb. From anywhere else the previous callback of
 * c->tx may still be returning (it cleared tx_busy just before), and an aio must not be
 * started again until its callback has returned: nng_aio_wait waits for that. */
static void conn_write_async(struct conn *c, bool in_cb)
{
	if (!in_cb)
		nng_aio_wait(c->tx);
	pthread_mutex_lock(&T.mu);
	if (c->closed) {
		conn_write_closed_unlock(c);
		return;
	}
	nng_iov iov = {.iov_buf = c->out.p + c->out_off, .iov_len = c->out.len - c->out_off};
	nng_aio_set_iov(c->tx, 1, &iov);
	nng_stream_send(c->s, c->tx);
	pthread_mutex_unlock(&T.mu);
}

/* What a write of c->out did (rv; n bytes written): goes on with the rest, or with
 * what was queued meanwhile, in the background; or, on an error, ends the connection.
 * Called without T.mu, with tx_busy set. in_cb: from c->tx's callback. */
static void conn_tx_done(struct conn *c, int rv, size_t n, bool in_cb)
{
	ACTOR__STAT_ADD(bytes_out, n);
	pthread_mutex_lock(&T.mu);
	struct peer *p = c->peer;
	if (rv != 0 || c->closed) {
		c->tx_busy = false;
		bool lost = false;
		if (!c->closed) {
			conn_close_locked(c);
			lost = p != NULL && peer_fail_locked(p, c, "write failed", rv);
		}
		/* Copied under the lock: once c is gone, stop() may free p. */
		uint32_t ip = p ? p->ip : 0;
		uint16_t port = p ? p->port : 0;
		bool done = conn_done_locked(c);
		pthread_mutex_unlock(&T.mu);
		if (done)
			conn_free(c);
		if (lost)
			actor__peer_lost(ip, port);
		return;
	}
	c->out_off += n;
	if (c->out_off < c->out.len) { /* a partial write: go on with the rest */
		pthread_mutex_unlock(&T.mu);
		conn_write_async(c, in_cb);
		return;
	}
	c->out.len = 0;
	c->out_off = 0;
	c->tx_busy = false;
	/* Frames queued while this write was going on: they go in the background. */
	struct conn *next = p != NULL ? peer_kick_locked(p) : NULL;
	pthread_mutex_unlock(&T.mu);
	if (next != NULL)
		conn_write_async(next, in_cb && next == c);
}

/* Writes c->out on the sender's thread as far as the socket takes it now, and the
 * rest in the background (same conditions as conn_write_async).
 *
 * nng completes an aio that has a callback on one of its task threads: a write done
 * only in the background costs a thread wake-up (and a thread competing for a core)
 * after the bytes are already out, on every remote message. But nng_stream_send does
 * the sendmsg inside the call, and a callback-less aio that it completes there needs
 * no thread at all. So the write goes through c->txs, which has no callback, and is
 * cancelled right after the call: if the socket took the bytes (all, or a part) the
 * aio is already complete and the cancel does nothing; if the socket was full nothing
 * was written (nng completes a write aio at its first sendmsg that writes anything)
 * and the cancel completes it with NNG_ECANCELED at once, so nng_aio_wait never waits
 * for the network. No timeout is involved: nng 1.5 corrupts an aio whose timeout
 * fires as it completes (it panicked under connection churn when we bounded this wait
 * with one). A cancel racing a completion by the poller thread is nng's ordinary cancel
 * path: both take the stream's lock, and the one that comes second does nothing.
 * Larger writes (a turn's batch) go to the background at once, as they always did:
 * one wake-up matters little to them, and a long sendmsg would hold the turn's thread. */
#define SYNC_WRITE_MAX (16u * 1024u)
static void conn_write(struct conn *c)
{
	if (c->out.len - c->out_off > SYNC_WRITE_MAX) {
		conn_write_async(c, false);
		return;
	}
	pthread_mutex_lock(&T.mu);
	if (c->closed) {
		conn_write_closed_unlock(c);
		return;
	}
	nng_iov iov = {.iov_buf = c->out.p + c->out_off, .iov_len = c->out.len - c->out_off};
	nng_aio_set_iov(c->txs, 1, &iov);
	nng_stream_send(c->s, c->txs);
	pthread_mutex_unlock(&T.mu);
	nng_aio_cancel(c->txs);
	nng_aio_wait(c->txs);
	int rv = nng_aio_result(c->txs);
	size_t n = nng_aio_count(c->txs);
	/* Cancelled: the socket was full and nothing went out; the background write
	 * takes over (conn_tx_done sees a partial write of n == 0 bytes). */
	conn_tx_done(c, rv == NNG_ECANCELED ? 0 : rv, n, false);
}

static void conn_tx_cb(void *arg)
{
	struct conn *c = arg;
	conn_tx_done(c, nng_aio_result(c->tx), nng_aio_count(c->tx), true);
}

/* ---- reading ---------------------------------------------------------------- */

/* Starts the next read into c->in. Called with T.mu held, c not closed (see above). */
static void post_recv_locked(struct conn *c)
{
	nng_iov iov = {.iov_buf = c->in->data + c->in->len, .iov_len = c->in->cap - c->in->len};
	nng_aio_set_iov(c->rx, 1, &iov);
	nng_stream_recv(c->s, c->rx);
}

/* An accepted connection carries the messages of the process that dialed it, whose
 * address its frames name. Unless we already have a way to that process, we answer on
 * the same connection. The sender's address must be the one the connection comes from:
 * a frame cannot take over the route to a third process. */
static void conn_adopt(struct conn *c, const actor_pid *from)
{
	c->adopt_done = true;
	if (from->ip != c->remote_ip)
		return;
	pthread_mutex_lock(&T.mu);
	struct peer *p = c->closed ? NULL : peer_get_locked(from->ip, from->port);
	struct conn *write = NULL;
	if (p != NULL && p->state == PEER_IDLE) {
		p->state = PEER_UP;
		p->conn = c;
		c->peer = p;
		write = peer_kick_locked(p);
	}
	pthread_mutex_unlock(&T.mu);
	if (write != NULL)
		conn_write_async(write, false);
}

/* Decodes every whole frame in c->in and hands it to the core. Returns 0, or an
 * error when the stream cannot be trusted any more (the caller closes it). Makes sure
 * c->in has room for more bytes afterwards. Runs on c's read callback only. */
static int conn_decode(struct conn *c)
{
	struct chunk *ch = c->in;
	for (;;) {
		size_t avail = ch->len - c->in_off;
		const uint8_t *at = ch->data + c->in_off;
		size_t total;
		int rv = actor__frame_peek(at, avail, T.max_frame, &total);
		if (rv == ACTOR_EMSGSIZE) {
			actor_error("transport: frame of %zu bytes from %s is over the limit of %zu; "
				    "closing the connection", total, c->addr, T.max_frame);
			ACTOR__STAT_ADD(frames_dropped, 1);
			return rv;
		}
		if (rv != 0) {
			actor_warn("transport: garbage from %s (bad frame header); closing the connection",
				   c->addr);
			ACTOR__STAT_ADD(frames_dropped, 1);
			return rv;
		}
		if (total == 0 || total > avail)
			break;
		struct actor__frame f;
		rv = actor__frame_decode(at, total, &f);
		c->in_off += total;
		if (rv != 0) {
			actor_warn("transport: malformed frame from %s dropped (%s)", c->addr,
				   actor_strerror(rv));
			ACTOR__STAT_ADD(frames_dropped, 1);
			continue;
		}
		if (f.to.ip != T.ip || f.to.port != T.port) {
			actor_warn("transport: frame from %s for %s, which is not this process; dropped",
				   c->addr, actor_pid_str(f.to));
			ACTOR__STAT_ADD(frames_dropped, 1);
			continue;
		}
		if (!c->adopt_done && c->peer == NULL && f.from.port != 0)
			conn_adopt(c, &f.from);
		ACTOR__STAT_ADD(frames_in, 1);
		atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
		actor__deliver_remote(&f.from, &f.to, f.name, f.name_len, f.body, f.body_len,
				      chunk_unref, ch);
	}

	/* Make room for what comes next. */
	size_t left = ch->len - c->in_off;
	size_t total = 0;
	(void)actor__frame_peek(ch->data + c->in_off, left, T.max_frame, &total);
	if (left == 0 && atomic_load_explicit(&ch->refs, memory_order_acquire) == 1) {
		ch->len = 0; /* nobody else holds it: reuse it from the start */
		c->in_off = 0;
		return 0;
	}
	/* Stay in this chunk while the frame being received fits in it. */
	size_t need = total ? total : ACTOR__FRAME_PREFIX;
	if (c->in_off + need <= ch->cap)
		return 0;
	size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
	struct chunk *n = chunk_alloc(cap);
	if (n == NULL) {
		actor_error("transport: out of memory for a %zu-byte receive buffer from %s", cap,
			    c->addr);
		return ACTOR_ENOMEM;
	}
	memcpy(n->data, ch->data + c->in_off, left);
	n->len = left;
	c->in = n;
	c->in_off = 0;
	chunk_unref(ch);
	return 0;
}

static void conn_rx_cb(void *arg)
{
	struct conn *c = arg;
	int rv = nng_aio_result(c->rx);
	if (rv == 0) {
		size_t n = nng_aio_count(c->rx);
		ACTOR__STAT_ADD(bytes_in, n);
		c->in->len += n;
		actor__deliver_remote_begin();
		rv = n == 0 ? NNG_ECLOSED : conn_decode(c);
		actor__deliver_remote_done();
	}

	pthread_mutex_lock(&T.mu);
	if (rv == 0 && !c->closed) {
		post_recv_locked(c);
		pthread_mutex_unlock(&T.mu);
		return;
	}
	c->rx_busy = false;
	struct peer *p = c->peer;
	bool lost = false;
	if (!c->closed) {
		conn_close_locked(c);
		lost = p != NULL && peer_fail_locked(p, c, "connection lost", rv);
	}
	/* Copied under the lock: once c is gone, stop() may free p. */
	uint32_t ip = p ? p->ip : 0;
	uint16_t port = p ? p->port : 0;
	bool done = conn_done_locked(c);
	pthread_mutex_unlock(&T.mu);
	if (done)
		conn_free(c);
	if (lost)
		actor__peer_lost(ip, port);
}

/* ---- dialing and accepting ---------------------------------------------------- */

static void dial_cb(void *arg)
{
	struct peer *p = arg;
	nng_aio *aio = p->dial; /* ours: no other dial starts while this one is in flight */
	int rv = nng_aio_result(aio);
	nng_stream *s = rv == 0 ? nng_aio_get_output(aio, 0) : NULL;
	struct conn *c = NULL, *write = NULL;
	bool lost = false;

	if (s != NULL && (c = conn_alloc(s)) == NULL) {
		nng_stream_free(s);
		rv = NNG_ENOMEM;
	}
	pthread_mutex_lock(&T.mu);
	uint32_t ip = p->ip;
	uint16_t port = p->port;
	if (rv != 0) {
		lost = peer_fail_locked(p, NULL, "connect failed", rv);
	} else if (T.stopping) {
		conn_close_locked(c);
		p->state = PEER_IDLE;
	} else {
		p->state = PEER_UP;
		p->conn = c;
		c->peer = p;
		c->adopt_done = true;
		c->rx_busy = true;
		post_recv_locked(c);
		write = peer_kick_locked(p);
	}
	p->dial = NULL;
	bool done = c != NULL && conn_done_locked(c);
	/* After this, stop() may free p: only copies are used below. */
	T.ndials--;
	pthread_cond_broadcast(&T.cv);
	pthread_mutex_unlock(&T.mu);
	actor__net_aio_free_later(aio); /* we are inside its callback */
	if (done)
		conn_free(c);
	if (write != NULL)
		conn_write_async(write, false);
	if (lost)
		actor__peer_lost(ip, port);
}

static void accept_cb(void *arg)
{
	(void)arg;
	int rv = nng_aio_result(T.accept);
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv != 0) {
		actor_warn("transport: accept failed: %s", nng_strerror(rv));
	} else {
		nng_stream *s = nng_aio_get_output(T.accept, 0);
		struct conn *c = conn_alloc(s);
		if (c == NULL) {
			actor_error("transport: out of memory accepting a connection");
			nng_stream_free(s);
		} else {
			pthread_mutex_lock(&T.mu);
			if (T.stopping) {
				conn_close_locked(c);
				bool done = conn_done_locked(c);
				pthread_mutex_unlock(&T.mu);
				if (done)
					conn_free(c);
				return;
			}
			c->rx_busy = true;
			post_recv_locked(c);
			pthread_mutex_unlock(&T.mu);
		}
	}
	nng_stream_listener_accept(T.listener, T.accept);
}

/* ---- the ops ---------------------------------------------------------------- */

/* Peers this thread queued frames for during the current actor turn without writing
 * them: the flush at the end of the turn writes them, so that everything one turn
 * sends to a peer (say, the answers to a batch of requests) is one write. A send made
 * inside a turn (or an actor's init) is held: the core calls flush on the same thread
 * when that turn (or the outermost init) ends, on every path. A send outside any
 * actor writes at once. Every turn holds, also a thread's first: small writes are done
 * on the sending thread (conn_write), so a turn whose sends were not held would make
 * one write per frame. */
#define HELD_MAX 8
static _Thread_local struct peer *held[HELD_MAX];
static _Thread_local int nheld;

/* Holds p's frames back until the end of the turn. False if there is no room to
 * remember p: the caller writes now. Called with T.mu held. */
static bool hold_locked(struct peer *p)
{
	for (int i = 0; i < nheld; i++)
		if (held[i] == p)
			return true;
	if (nheld == HELD_MAX)
		return false;
	held[nheld++] = p;
	return true;
}

static void nng_flush_op(void)
{
	if (nheld == 0)
		return;
	struct conn *write[HELD_MAX];
	int n = 0;
	pthread_mutex_lock(&T.mu);
	for (int i = 0; i < nheld; i++)
		if ((write[n] = peer_kick_locked(held[i])) != NULL)
			n++;
	pthread_mutex_unlock(&T.mu);
	nheld = 0;
	for (int i = 0; i < n; i++)
		conn_write(write[i]);
}

static int nng_send_op(const actor_pid *from, const actor_pid *to, const char *name,
		       size_t name_len, const void *data, size_t len)
{
	int show = name_len > 64 ? 64 : (int)name_len;
	size_t size = actor__frame_size(from, to, name_len, len);
	if (size == 0) {
		if (name_len > ACTOR__FRAME_NAME_MAX || len > ACTOR__FRAME_MAX) {
			actor_warn("transport: message %.*s of %zu bytes to %s is too large", show,
				   name, len, actor_pid_str(*to));
			ACTOR__STAT_ADD(frames_dropped, 1);
			return ACTOR_EMSGSIZE;
		}
		return ACTOR_EINVAL;
	}
	if (size > T.max_frame) {
		actor_warn("transport: message %.*s of %zu bytes to %s is over the frame limit of %zu",
			   show, name, len, actor_pid_str(*to), T.max_frame);
		ACTOR__STAT_ADD(frames_dropped, 1);
		return ACTOR_EMSGSIZE;
	}

	pthread_mutex_lock(&T.mu);
	if (!T.running || T.stopping) {
		pthread_mutex_unlock(&T.mu);
		return ACTOR_ECLOSED;
	}
	struct peer *p = peer_get_locked(to->ip, to->port);
	if (p == NULL || buf_reserve(&p->pending, size) != 0) {
		pthread_mutex_unlock(&T.mu);
		return ACTOR_ENOMEM;
	}
	uint8_t *at = p->pending.p + p->pending.len;
	size_t head = actor__frame_encode_head(at, from, to, name, name_len, len);
	if (len)
		memcpy(at + head, data, len);
	p->pending.len += size;
	p->pending_frames++;
	ACTOR__STAT_ADD(frames_out, 1);

	struct conn *write = NULL;
	nng_aio *dial = NULL;
	if (p->state == PEER_UP) {
		if (actor_current() == NULL || !hold_locked(p))
			write = peer_kick_locked(p);
	} else if (p->state == PEER_IDLE) {
		if (nng_aio_alloc(&p->dial, dial_cb, p) != 0) {
			p->pending.len -= size;
			p->pending_frames--;
			pthread_mutex_unlock(&T.mu);
			return ACTOR_ENOMEM;
		}
		p->state = PEER_DIALING;
		T.ndials++;
		dial = p->dial;
	}
	pthread_mutex_unlock(&T.mu);
	if (write != NULL)
		conn_write(write);
	if (dial != NULL)
		nng_stream_dialer_dial(p->dialer, dial);
	return 0;
}

static int nng_start_op(const actor_config *cfg, uint32_t *ip, uint16_t *port)
{
	const char *ip_text = cfg->ip ? cfg->ip : getenv("ACTOR_IP");
	if (ip_text == NULL || *ip_text == '\0')
		ip_text = "127.0.0.1";
	struct in_addr in;
	if (inet_pton(AF_INET, ip_text, &in) != 1) {
		actor_error("transport: '%s' is not an IPv4 address", ip_text);
		return ACTOR_EINVAL;
	}
	int want = cfg->port;
	if (want < 0) {
		const char *env = getenv("ACTOR_PORT");
		want = env ? atoi(env) : 0;
	}
	if (want < 0 || want > 65535) {
		actor_error("transport: port %d out of range", want);
		return ACTOR_EINVAL;
	}
	if (T.running)
		return ACTOR_ESTATE;

	T.stopping = false;
	T.conns.next = T.conns.prev = &T.conns;
	T.nconns = 0;
	T.ndials = 0;
	T.max_frame = cfg->max_frame ? cfg->max_frame : DEFAULT_MAX_FRAME;
	if (T.max_frame > ACTOR__FRAME_MAX)
		T.max_frame = ACTOR__FRAME_MAX;

	char url[64];
	snprintf(url, sizeof(url), "tcp://%s:%d", ip_text, want);
	int rv = nng_stream_listener_alloc(&T.listener, url);
	if (rv == 0)
		rv = nng_stream_listener_listen(T.listener);
	int bound = 0;
	if (rv == 0)
		rv = nng_stream_listener_get_int(T.listener, NNG_OPT_TCP_BOUND_PORT, &bound);
	if (rv == 0)
		rv = nng_aio_alloc(&T.accept, accept_cb, NULL);
	if (rv != 0) {
		actor_error("transport: cannot listen on %s: %s", url, nng_strerror(rv));
		nng_stream_listener_free(T.listener);
		T.listener = NULL;
		return rv == NNG_EADDRINUSE ? ACTOR_EEXIST : ACTOR_EIO;
	}
	T.ip = ntohl(in.s_addr);
	T.port = (uint16_t)bound;

	rv = actor__http_start(cfg, ip_text);
	if (rv != 0) {
		nng_aio_free(T.accept);
		nng_stream_listener_free(T.listener);
		T.accept = NULL;
		T.listener = NULL;
		return rv;
	}
	T.graves = NULL;
	T.reaper_stop = false;
	if (pthread_create(&T.reaper, NULL, reaper_main, NULL) != 0) {
		actor__http_stop();
		nng_aio_free(T.accept);
		nng_stream_listener_free(T.listener);
		T.accept = NULL;
		T.listener = NULL;
		return ACTOR_ENOMEM;
	}
	pthread_mutex_lock(&T.mu);
	T.running = true;
	pthread_mutex_unlock(&T.mu);
	nng_stream_listener_accept(T.listener, T.accept);
	actor_debug("transport: listening on %s (port %u)", url, T.port);
	*ip = T.ip;
	*port = T.port;
	return 0;
}

static void nng_stop_op(void)
{
	if (!T.running)
		return;
	actor__http_stop();

	pthread_mutex_lock(&T.mu);
	T.stopping = true;
	pthread_mutex_unlock(&T.mu);

	nng_stream_listener_close(T.listener);
	nng_aio_stop(T.accept);

	/* Dials in flight finish (and see `stopping`) before peers go away. */
	for (size_t i = 0; i < PEER_BUCKETS; i++)
		for (struct peer *p = T.peers[i]; p != NULL; p = p->next)
			nng_stream_dialer_close(p->dialer);

	pthread_mutex_lock(&T.mu);
	while (T.ndials > 0)
		pthread_cond_wait(&T.cv, &T.mu);
	for (struct conn *c = T.conns.next; c != &T.conns; c = c->next)
		conn_close_locked(c);
	while (T.nconns > 0)
		pthread_cond_wait(&T.cv, &T.mu);
	T.reaper_stop = true;
	pthread_cond_signal(&T.reaper_cv);
	pthread_mutex_unlock(&T.mu);
	pthread_join(T.reaper, NULL);

	for (size_t i = 0; i < PEER_BUCKETS; i++) {
		struct peer *p = T.peers[i];
		while (p != NULL) {
			struct peer *next = p->next;
			nng_stream_dialer_free(p->dialer);
			buf_free(&p->pending);
			free(p);
			p = next;
		}
		T.peers[i] = NULL;
	}
	nng_aio_free(T.accept);
	nng_stream_listener_free(T.listener);
	T.accept = NULL;
	T.listener = NULL;
	pthread_mutex_lock(&T.mu);
	T.running = false;
	pthread_mutex_unlock(&T.mu);
}

const struct actor_transport_ops actor__transport_nng = {
	.name = "nng",
	.start = nng_start_op,
	.stop = nng_stop_op,
	.send = nng_send_op,
	.flush = nng_flush_op,
};
