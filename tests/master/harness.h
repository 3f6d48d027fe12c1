/* harness.h — drives a real master actor in a real runtime from test actors that
 * speak the protocol as an agent and a scheduler would.
 *
 * A probe is a plain actor that records every message it receives (and every exited
 * event, under the name "exited") so the test's thread can wait for the next message
 * of a given type. Probes send from inside themselves, so the master sees them as the
 * senders. The runtime's clock is paused: timeouts happen only when a test advances
 * it. Messages are built from JSON (protobuf's JSON mapping) to keep tests readable. */
#ifndef TESTS_MASTER_HARNESS_H
#define TESTS_MASTER_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "actor/libactor.h"
#include "master/master.h"
#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

#define WAIT_MS 5000 /* real time to wait for a message that must come */

typedef struct probe probe;

/* ---- runtime and master ---- */

/* Starts a listening runtime (ephemeral ports, HTTP on), pauses the clock and starts a
 * master with f (NULL: defaults with 1 s allocation interval). */
void h_start(const master_flags *f);
/* Stops probes still running, the master and the runtime. */
void h_stop(void);
actor_pid h_master(void);
void h_master_restart(const master_flags *f);
/* Advances the paused clock by ms in steps of at most step_ms, settling after each. */
void h_advance(int64_t ms);

/* ---- probes ---- */

probe *probe_spawn(const char *name);
actor_pid probe_pid(const probe *p);
/* Ends the probe (the master sees `exited`) and waits for it. */
void probe_kill(probe *p);
/* Sends msg (borrowed) from inside the probe to `to`. */
void probe_send(probe *p, actor_pid to, const ProtobufCMessage *msg);
/* Builds a message of type d from JSON text (printf format) and sends it. Fails the
 * test if the JSON does not convert. */
void probe_send_json(probe *p, actor_pid to, const ProtobufCMessageDescriptor *d, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
/* Takes the oldest message of type d, waiting up to ms of real time; NULL on timeout.
 * Free with pb_done(). Messages of other types stay queued. */
void *probe_take(probe *p, const ProtobufCMessageDescriptor *d, int64_t ms);
/* As probe_take with WAIT_MS, failing the test when nothing comes. */
void *probe_expect(probe *p, const ProtobufCMessageDescriptor *d);
/* Settles the runtime and tells whether a message of type d is queued (not taken). */
bool probe_has(probe *p, const ProtobufCMessageDescriptor *d);
/* Waits for an exited event about who. */
bool probe_exited(probe *p, int64_t ms);
/* Drops everything queued. */
void probe_clear(probe *p);
void pb_done(void *msg);

/* ---- protocol steps ---- */

/* Registers a framework from p; returns its id (free()). capabilities is a JSON array
 * text or NULL. */
char *h_register_framework(probe *p, const char *name, double failover_timeout,
                           const char *capabilities);
/* Registers an agent from p with resources in text form; returns its id (free()). */
char *h_register_agent(probe *p, const char *hostname, const char *resources);
/* Waits for one offer at p; returns the ResourceOffersMessage (pb_done()). */
Plexus__Internal__ResourceOffersMessage *h_expect_offer(probe *p);
/* Resources text as a JSON array text (free()). */
char *h_resources_json(const char *text);
/* Waits for a status update at p and checks its task, state and (if >= 0) reason. */
Plexus__Internal__StatusUpdateMessage *h_expect_update(probe *p, const char *task_id,
                                                       Plexus__TaskState state, int reason);

/* ---- HTTP ---- */

/* One request to the runtime's HTTP server; returns the status and the body in *body
 * (NUL-terminated, free()). */
int h_http(const char *method, const char *target, const char *content_type, const char *data,
           char **body);
/* GET target, expect 200 and JSON; returns the parsed document (json_decref()). */
json_t *h_get_json(const char *target);

#endif
