/* master_discovery.h — finding the master from a `--master=` flag.
 *
 * Used by the scheduler driver (frameworks/driver/) and by the agent (agent/): link
 * plexus_common (it brings libactor and nng). The flag is either
 *   - a PID: "master@10.0.0.5:41234", used as it is, or
 *   - the master's HTTP address: "10.0.0.5:5050" or "host:5050" (an optional "http://"
 *     prefix is allowed), then GET http://host:port/master/info answers JSON with the
 *     master's PID under "pid" ({"id", "pid", "hostname", "ip", "port", "version"}).
 * The HTTP form is how a restarted master, whose actor port changed, is found again:
 * discover anew each time the master's PID sends `exited`. */
#ifndef PX_MASTER_DISCOVERY_H
#define PX_MASTER_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/future.h"
#include "actor/pid.h"

/* True when spec parses as a PID (no HTTP request is needed). */
bool px_master_spec_is_pid(const char *spec);

/* Checks the form of spec without any I/O: a PID, or [http://]host:port with a port
 * 1..65535. Returns 0 or ACTOR_EINVAL, with a reason in err (may be NULL). */
int px_master_spec_check(const char *spec, char *err, size_t errlen);

/* Finds the master. Returns a future (new reference) whose value is an actor_pid *
 * (owned by the future, freed with it). It fails with:
 *   ACTOR_EINVAL  spec is neither form (the failure text says why)
 *   ACTOR_ECONN   the HTTP address could not be reached, or answered a non-200 status
 *   ACTOR_ETIMEDOUT no answer within timeout_ms of real time (<= 0: 5000)
 *   ACTOR_EPROTO  the answer is not JSON with a valid "pid"
 * A PID spec gives an already-READY future. May be called from any thread or actor;
 * the HTTP request runs on nng's threads, never blocking the caller. */
actor_future *px_master_discover(const char *spec, int64_t timeout_ms);

#endif
