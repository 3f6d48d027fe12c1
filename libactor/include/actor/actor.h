/* actor.h — actors: spawn, messages, links, timers.
 *
 * An actor is a piece of state plus handlers. It runs on at most one thread at a
 * time, so its state needs no locks. It runs only when it has something to do: a
 * message, a dispatched call, a timer, an exited event.
 *
 * The one rule for callbacks: every callback handed to the runtime runs exactly once.
 * It runs inside the actor it was meant for; if that actor has ended first (or the
 * timer was cancelled), it runs with self == NULL so it can release its arg, and must
 * do nothing else. */
#ifndef ACTOR_ACTOR_H
#define ACTOR_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/error.h"
#include "actor/pid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actor actor_t; /* opaque; valid only inside that actor's callbacks */

typedef struct actor_msg {
	actor_pid from;           /* actor_pid_none when sent from outside any actor */
	actor_pid to;
	const char *name;         /* NUL-terminated, e.g. "plexus.internal.RunTask" */
	const uint8_t *data;      /* borrowed until the handler returns */
	size_t len;
} actor_msg;

typedef void (*actor_handler_fn)(actor_t *self, const actor_msg *msg, void *arg);
typedef void (*actor_fn)(actor_t *self, void *arg);

typedef struct actor_def {
	const char *name;                              /* id; "(N)" appended if taken */
	int (*init)(actor_t *self);                    /* install handlers; non-zero aborts the spawn */
	void (*fini)(actor_t *self);                   /* runs exactly once, last */
	void (*exited)(actor_t *self, actor_pid who);  /* a linked actor is gone */
	void (*unhandled)(actor_t *self, const actor_msg *msg); /* optional: no handler */
} actor_def;

/* Spawns an actor. def must outlive it (usually static). init runs inside the new
 * actor before any message. On error nothing was spawned and no callback ran.
 * The new PID is written to *out (may be NULL). */
int actor_spawn(const actor_def *def, void *state, actor_pid *out);

/* Asks an actor to end. Asynchronous; messages still queued for it are dropped
 * (counted), its pending callbacks run with self == NULL, fini runs, linked actors
 * get exited. Terminating an unknown PID does nothing. */
void actor_terminate(actor_pid pid);

/* For threads outside actors: waits until the actor has ended (fini has returned).
 * Returns 0 at once for a PID that does not exist, ACTOR_ETIMEDOUT after timeout_ms
 * of real time (negative: forever). */
int actor_wait(actor_pid pid, int64_t timeout_ms);

actor_pid actor_self(const actor_t *self);
void *actor_state(const actor_t *self);

/* Installs (or replaces) the handler for messages called name. Copies name. */
int actor_install(actor_t *self, const char *name, actor_handler_fn fn, void *arg);

/* Sends a message; self may be NULL outside actors. Copies data. Returns 0 when the
 * message was accepted; delivery is not confirmed (a message to an actor that does not
 * exist is dropped with a debug log line). Messages from one sender to one receiver
 * arrive in the order sent. A PID of another OS process needs the network transport:
 * without it (the runtime was started with listen false) the call fails with
 * ACTOR_ENOTRANSPORT and a warning, and nothing is sent. */
int actor_send(actor_t *self, actor_pid to, const char *name, const void *data, size_t len);

/* Runs fn(self, arg) inside the actor `to`, fire and forget (see the callback rule). */
int actor_call(actor_pid to, actor_fn fn, void *arg);

/* Links self to pid: when pid ends, or never existed, or its OS process is lost,
 * self's def->exited runs once with pid. Linking twice is one link. */
void actor_link(actor_t *self, actor_pid pid);
void actor_unlink(actor_t *self, actor_pid pid);

/* Runs fn inside self after ms of the runtime's clock (real or paused).
 * Returns a timer id (never 0). */
uint64_t actor_delay(actor_t *self, int64_t ms, actor_fn fn, void *arg);
/* Cancels a timer of self; its fn then runs with self == NULL. Returns false if it
 * had already fired or been cancelled. */
bool actor_cancel(actor_t *self, uint64_t timer);

/* The actor whose callback is running on this thread, or NULL. */
actor_t *actor_current(void);

#ifdef __cplusplus
}
#endif

#endif
