/* probe.h — test helpers for tests/net: a "probe" actor that records what it receives so
 * the test's main thread can wait for it, and peer OS processes started from net_peer. */
#ifndef TESTS_NET_PROBE_H
#define TESTS_NET_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actor/libactor.h"
#include "actor/pb.h"

/* Something the probe received: a message, or an exited event (name "exited"). */
typedef struct probe_item {
	char name[128];
	actor_pid from;     /* sender, or who ended for "exited" */
	uint8_t *data;
	size_t len;
} probe_item;

/* Starts the runtime (listening on 127.0.0.1, ephemeral ports) and spawns the probe. */
void probe_start(size_t max_frame);
/* Ends the probe and the runtime. */
void probe_stop(void);
actor_pid probe_pid(void);

/* Waits up to timeout_ms for the next item named name (items of other names that come
 * before it are dropped). Returns false on timeout. Free item->data with free(). */
bool probe_wait(const char *name, int64_t timeout_ms, probe_item *item);
/* Sends from inside the probe (so replies come back to it). Returns actor_send's code. */
int probe_send(actor_pid to, const char *name, const void *data, size_t len);
void probe_link(actor_pid to);

/* A peer OS process running net_peer. */
typedef struct peer_proc {
	pid_t pid;
	int stdin_fd;       /* closing it asks the peer to exit */
	actor_pid actor;    /* the peer's main actor, from its "ready" message */
	uint16_t http_port;
} peer_proc;

/* Starts net_peer with args (NULL-terminated; role first, the probe's PID is added) and
 * waits for its "ready". Fails the test if it does not come. */
void peer_start(peer_proc *p, const char *const *args);
/* SIGKILLs the peer and reaps it. Safe to call twice. */
void peer_kill(peer_proc *p);
/* Asks the peer to exit and reaps it; returns its exit status (or -1). */
int peer_quit(peer_proc *p);
bool peer_alive(peer_proc *p);

/* A minimal HTTP/1.1 client for tests: sends one request (Connection: close) to
 * 127.0.0.1:port and reads the whole answer. Returns the status code (or -1), and the
 * body in *body (NUL-terminated, free() it) when body is not NULL. raw, when not NULL,
 * is sent instead of a request built from method/target/data. */
int http_call(uint16_t port, const char *method, const char *target, const char *headers,
	      const void *data, size_t len, char **body);
int http_raw(uint16_t port, const char *raw, size_t raw_len, char **body);

/* Opens a TCP connection to 127.0.0.1:port (blocking); -1 on failure. */
int tcp_connect(uint16_t port);
/* Waits (up to timeout_ms) until the other side closes fd; true if it did. */
bool tcp_wait_closed(int fd, int timeout_ms);
#endif
