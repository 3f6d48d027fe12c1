/* frame.h — the wire format of remote messages (internal; no nng here, so it can be
 * tested alone and fuzzed).
 *
 * A frame is a fixed 24-byte header, then the sender's id, the receiver's id, the
 * message name and the body, back to back. All integers are little-endian.
 *
 *   off size field
 *     0    2 magic "PX"
 *     2    1 version (1)
 *     3    1 flags (0; reserved)
 *     4    4 total length of the frame, header included
 *     8    4 from.ip       12 2 from.port     14 1 from id length (0..63; 0 = none)
 *    15    4 to.ip         19 2 to.port       21 1 to id length (1..63)
 *    22    2 name length (1..65535)
 *    24      from id, to id, name, body (the rest of the frame)
 */
#ifndef ACTOR_NET_FRAME_H
#define ACTOR_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "actor/pid.h"

#define ACTOR__FRAME_HEADER 24u
/* Bytes needed to know a frame's total length. */
#define ACTOR__FRAME_PREFIX 8u
#define ACTOR__FRAME_VERSION 1u
#define ACTOR__FRAME_NAME_MAX 65535u
/* The length field is 32 bits: no frame is larger, whatever the configuration says. */
#define ACTOR__FRAME_MAX ((size_t)UINT32_MAX)

/* A decoded frame. name and body point into the buffer that was decoded. */
struct actor__frame {
	actor_pid from;
	actor_pid to;
	const char *name; /* not NUL-terminated */
	size_t name_len;
	const uint8_t *body;
	size_t body_len;
};

/* Bytes the frame for these parts takes, or 0 if a part is out of range (id longer
 * than 63 bytes, empty or too long a name). The caller compares it to its limit. */
size_t actor__frame_size(const actor_pid *from, const actor_pid *to, size_t name_len,
			 size_t body_len);

/* Writes the header, ids and name (everything but the body) into out, which has room
 * for actor__frame_size(...) - body_len bytes; returns the bytes written. The caller
 * appends the body right after. Parts must have passed actor__frame_size. */
size_t actor__frame_encode_head(uint8_t *out, const actor_pid *from, const actor_pid *to,
				const char *name, size_t name_len, size_t body_len);

/* Looks at the first bytes of a frame. With fewer than ACTOR__FRAME_PREFIX bytes it
 * returns 0 and sets *total to 0 (need more). Otherwise it checks magic and version
 * and sets *total: ACTOR_EPROTO for a bad magic, version or a length shorter than a
 * header; ACTOR_EMSGSIZE if the length is over max_frame. */
int actor__frame_peek(const uint8_t *buf, size_t avail, size_t max_frame, size_t *total);

/* Decodes one whole frame of exactly len bytes (len as actor__frame_peek said).
 * Checks every field: ACTOR_EPROTO on a bad id, bad name, or lengths that do not add
 * up. Never reads outside buf[0..len). The body is not copied. */
int actor__frame_decode(const uint8_t *buf, size_t len, struct actor__frame *out);

#endif
