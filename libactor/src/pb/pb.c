/* pb.c — protobuf-c messages on top of actor_install/actor_send (see pb.h).
 *
 * A typed handler needs three things (descriptor, function, argument) but a message
 * handler carries one pointer: each install allocates the triple and hands it to the
 * actor, which frees it when the handler is replaced or the actor ends. No state is
 * shared between actors, so installing costs the same however many actors exist. */
#include <stdlib.h>
#include <string.h>

#include "actor/error.h"
#include "actor/log.h"
#include "actor/pb.h"
#include "core.h"
#include "metrics_internal.h"

#define STACK_PACK 512

struct pb_install {
	const ProtobufCMessageDescriptor *desc;
	actor_pb_fn fn;
	void *arg;
};

static void pb_handler(actor_t *self, const actor_msg *msg, void *arg)
{
	struct pb_install *pi = arg;
	ProtobufCMessage *m = protobuf_c_message_unpack(pi->desc, NULL, msg->len, msg->data);
	if (m == NULL) {
		ACTOR__STAT_ADD(pb_decode_errors, 1);
		actor_warn("pb: %zu-byte body of %s from %s does not decode; dropped", msg->len,
			   msg->name, actor_pid_str(msg->from));
		return;
	}
	pi->fn(self, msg->from, m, pi->arg);
	protobuf_c_message_free_unpacked(m, NULL);
}

int actor_install_pb(actor_t *self, const ProtobufCMessageDescriptor *desc, actor_pb_fn fn,
		     void *arg)
{
	if (self == NULL || desc == NULL || fn == NULL ||
	    desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
		return ACTOR_EINVAL;
	struct pb_install *pi = malloc(sizeof(*pi));
	if (pi == NULL)
		return ACTOR_ENOMEM;
	*pi = (struct pb_install){.desc = desc, .fn = fn, .arg = arg};
	int rv = actor__install_owned(self, desc->name, pb_handler, pi, free);
	if (rv != 0)
		free(pi);
	return rv;
}

int actor_send_pb(actor_t *self, actor_pid to, const ProtobufCMessage *msg)
{
	if (msg == NULL || msg->descriptor == NULL)
		return ACTOR_EINVAL;
	size_t size = protobuf_c_message_get_packed_size(msg);
	uint8_t stack[STACK_PACK];
	uint8_t *buf = size <= sizeof(stack) ? stack : malloc(size);
	if (buf == NULL)
		return ACTOR_ENOMEM;
	protobuf_c_message_pack(msg, buf);
	int rv = actor_send(self, to, msg->descriptor->name, buf, size);
	if (buf != stack)
		free(buf);
	return rv;
}
