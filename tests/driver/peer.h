/* peer.h — for the driver tests: a real actor that plays the master's or the agent's
 * side of the protocol. It records every message it receives (name, sender, body), so
 * that the test thread can wait for one and decode it, and it sends real messages on
 * the test's behalf from inside itself (so they carry its PID). */
#ifndef TESTS_DRIVER_PEER_H
#define TESTS_DRIVER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "actor/libactor.h"

typedef struct peer peer;

/* Spawns a recording actor named id ("master", "slave(1)"); its PID is peer_pid(). */
peer *peer_spawn(const char *id);
/* Ends the actor (waits for it) and frees the records. */
void peer_free(peer *p);
/* Ends the actor but keeps the records readable. */
void peer_kill(peer *p);
actor_pid peer_pid(const peer *p);
const char *peer_pid_text(const peer *p);

/* Waits (real time, at most timeout_ms) for the k-th (1-based) message called name and
 * returns it decoded with desc (free with protobuf_c_message_free_unpacked), or NULL on
 * timeout. *from (may be NULL) gets its sender. */
ProtobufCMessage *peer_wait(peer *p, const ProtobufCMessageDescriptor *desc, int k,
                            int64_t timeout_ms, actor_pid *from);
/* How many messages called desc->name have arrived so far. */
int peer_count(peer *p, const ProtobufCMessageDescriptor *desc);

/* Sends msg to `to` from inside the peer's actor (packed now, sent there). */
void peer_send(peer *p, actor_pid to, const ProtobufCMessage *msg);

/* The same, returning once the message is in the receiver's mailbox (local receivers):
 * anything sent afterwards, by anyone, is handled after it. */
void peer_send_sync(peer *p, actor_pid to, const ProtobufCMessage *msg);

/* A counter the test thread can wait on, bumped from callbacks. */
struct counter {
	int value;
};
void counter_add(struct counter *c, int n);
int counter_get(struct counter *c);
/* Waits until c reaches n (real time, at most timeout_ms). */
bool counter_wait(struct counter *c, int n, int64_t timeout_ms);

/* Starts a runtime for one test (2 workers; listening with an HTTP server when http). */
void test_runtime_start(bool http);
void test_runtime_stop(void);

#endif
