/* pb.h — protobuf-c messages between actors.
 *
 * A protobuf message travels as an ordinary message whose name is the descriptor's
 * full name ("plexus.internal.RunTask") and whose body is the packed message. The
 * receiving runtime unpacks it once, before the handler runs; a body that does not
 * unpack is logged, counted (actor/pb_decode_errors) and dropped, and the handler never
 * sees it. */
#ifndef ACTOR_PB_H
#define ACTOR_PB_H

#include <protobuf-c/protobuf-c.h>

#include "actor/actor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A typed handler. msg is the unpacked message (cast it to the generated type); it is
 * freed when fn returns, so copy what must outlive the call. */
typedef void (*actor_pb_fn)(actor_t *self, actor_pid from, const ProtobufCMessage *msg,
			    void *arg);

/* Installs fn for messages named desc->name, like actor_install. desc must outlive
 * the actor (generated descriptors are static). Returns what actor_install returns,
 * or ACTOR_EINVAL for a NULL desc or fn, ACTOR_ENOMEM. */
int actor_install_pb(actor_t *self, const ProtobufCMessageDescriptor *desc, actor_pb_fn fn,
		     void *arg);

/* Packs msg and sends it to `to` under msg->descriptor->name. Returns what actor_send
 * returns (ACTOR_EMSGSIZE over the frame limit for a remote PID), or ACTOR_ENOMEM. */
int actor_send_pb(actor_t *self, actor_pid to, const ProtobufCMessage *msg);

#ifdef __cplusplus
}
#endif

#endif
