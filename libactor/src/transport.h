/* transport.h — the seam between the runtime core and the network (internal).
 *
 * The core decides whether a PID is local (its ip:port is this OS process's). A
 * message for any other PID goes to the transport. The transport hands messages
 * that arrive for local actors back to the core with actor__deliver_remote(), and
 * reports a lost peer with actor__peer_lost(). Links across OS processes ride on
 * three system messages that the core itself sends and interprets:
 *   "actor.link"    from linker to linkee's PID: "tell me when you end"
 *   "actor.unlink"  the reverse
 *   "actor.exited"  from the ended actor's PID to each remote linker
 * The transport knows nothing of them; it only carries messages. An in-process
 * transport for deterministic simulation can implement the same table later. */
#ifndef ACTOR_TRANSPORT_H
#define ACTOR_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "actor/pid.h"
#include "actor/runtime.h"

struct actor_transport_ops {
	const char *name;
	/* Starts listening as cfg says; writes the bound address and actual port.
	 * Called from actor_runtime_init before any actor runs. */
	int (*start)(const actor_config *cfg, uint32_t *ip, uint16_t *port);
	/* Closes the listener and every connection and joins the transport's threads.
	 * Called from actor_runtime_fini after every actor has ended. */
	void (*stop)(void);
	/* Queues a message for a PID in another OS process. Copies what it needs before
	 * returning. Messages from one sender to one receiver keep their order.
	 * Returns ACTOR_EMSGSIZE over the frame limit, ACTOR_ECLOSED when stopped. */
	int (*send)(const actor_pid *from, const actor_pid *to, const char *name,
		    size_t name_len, const void *data, size_t len);
	/* Called by the core on the thread that ran an actor's turn, when the turn ends.
	 * send may hold back what an actor sends during its turn and write it here, so
	 * that all of it goes to each peer in one write. May be NULL. */
	void (*flush)(void);
};

/* The transport in use, or NULL when the runtime does not listen. */
extern const struct actor_transport_ops *actor__transport;
/* The nng TCP transport (net/transport_nng.c). */
extern const struct actor_transport_ops actor__transport_nng;

/* Called by the transport, on its own threads. A message has arrived for a local
 * actor. data stays valid until the core calls release(owner) (once; it may do so
 * before returning), which lets the body stay in the network buffer (no copy). */
void actor__deliver_remote(const actor_pid *from, const actor_pid *to, const char *name,
			   size_t name_len, const uint8_t *data, size_t len,
			   void (*release)(void *owner), void *owner);

/* Optional brackets around a batch of actor__deliver_remote calls made on one thread
 * (the frames of one read). An actor that a delivery wakes takes its turn on the
 * delivering thread when that is no worker, so a message from another process costs
 * no wake-up: without brackets at once, within them at _done, when every message of
 * the batch is in its mailbox and one turn handles (and answers) them all. */
void actor__deliver_remote_begin(void);
void actor__deliver_remote_done(void);

/* Called by the transport when the connection to the OS process at ip:port was lost or
 * could not be made: every local actor linked to a PID there gets exited. */
void actor__peer_lost(uint32_t ip, uint16_t port);

#endif
