/* frame.c — encoding and checking of remote message frames (see frame.h).
 *
 * Everything here reads bytes that came from the network, so every length is checked
 * against what is actually there before it is used, and nothing is trusted to be
 * NUL-terminated. */
#include "net/frame.h"

#include <string.h>

#include "actor/error.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

size_t actor__frame_size(const actor_pid *from, const actor_pid *to, size_t name_len,
			 size_t body_len)
{
	if (from->len > ACTOR_PID_ID_MAX || to->len == 0 || to->len > ACTOR_PID_ID_MAX)
		return 0;
	if (name_len == 0 || name_len > ACTOR__FRAME_NAME_MAX)
		return 0;
	size_t head = ACTOR__FRAME_HEADER + from->len + to->len + name_len;
	if (body_len > ACTOR__FRAME_MAX - head)
		return 0;
	return head + body_len;
}

size_t actor__frame_encode_head(uint8_t *out, const actor_pid *from, const actor_pid *to,
				const char *name, size_t name_len, size_t body_len)
{
	size_t head = ACTOR__FRAME_HEADER + from->len + to->len + name_len;

	out[0] = 'P';
	out[1] = 'X';
	out[2] = ACTOR__FRAME_VERSION;
	out[3] = 0;
	put32(out + 4, (uint32_t)(head + body_len));
	put32(out + 8, from->ip);
	put16(out + 12, from->port);
	out[14] = (uint8_t)from->len;
	put32(out + 15, to->ip);
	put16(out + 19, to->port);
	out[21] = (uint8_t)to->len;
	put16(out + 22, (uint16_t)name_len);
	uint8_t *p = out + ACTOR__FRAME_HEADER;
	memcpy(p, from->id, from->len);
	p += from->len;
	memcpy(p, to->id, to->len);
	p += to->len;
	memcpy(p, name, name_len);
	return head;
}

int actor__frame_peek(const uint8_t *buf, size_t avail, size_t max_frame, size_t *total)
{
	*total = 0;
	if (avail < ACTOR__FRAME_PREFIX)
		return 0;
	if (buf[0] != 'P' || buf[1] != 'X' || buf[2] != ACTOR__FRAME_VERSION || buf[3] != 0)
		return ACTOR_EPROTO;
	size_t len = get32(buf + 4);
	if (len < ACTOR__FRAME_HEADER + 1 + 1) /* a to id and a name at least */
		return ACTOR_EPROTO;
	*total = len;
	if (len > max_frame)
		return ACTOR_EMSGSIZE;
	return 0;
}

/* Same rule as actor_pid_parse: printable ASCII other than '@', '/' and space. */
static int id_ok(const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = id[i];
		if (c <= ' ' || c >= 0x7f || c == '@' || c == '/')
			return 0;
	}
	return 1;
}

static void pid_fill(actor_pid *pid, uint32_t ip, uint16_t port, const uint8_t *id, size_t len)
{
	memset(pid, 0, sizeof(*pid));
	pid->ip = ip;
	pid->port = port;
	pid->len = (uint16_t)len;
	memcpy(pid->id, id, len);
}

int actor__frame_decode(const uint8_t *buf, size_t len, struct actor__frame *out)
{
	size_t total;
	int rv = actor__frame_peek(buf, len, ACTOR__FRAME_MAX, &total);
	if (rv != 0)
		return rv;
	if (total != len || len < ACTOR__FRAME_HEADER)
		return ACTOR_EPROTO;

	size_t from_len = buf[14], to_len = buf[21], name_len = get16(buf + 22);
	if (from_len > ACTOR_PID_ID_MAX || to_len == 0 || to_len > ACTOR_PID_ID_MAX ||
	    name_len == 0)
		return ACTOR_EPROTO;
	size_t head = ACTOR__FRAME_HEADER + from_len + to_len + name_len;
	if (head > len)
		return ACTOR_EPROTO;

	const uint8_t *from_id = buf + ACTOR__FRAME_HEADER;
	const uint8_t *to_id = from_id + from_len;
	const uint8_t *name = to_id + to_len;
	if (!id_ok(from_id, from_len) || !id_ok(to_id, to_len))
		return ACTOR_EPROTO;
	/* Names become C strings in the core: an embedded NUL would change the name. */
	if (memchr(name, 0, name_len) != NULL)
		return ACTOR_EPROTO;

	pid_fill(&out->from, get32(buf + 8), get16(buf + 12), from_id, from_len);
	pid_fill(&out->to, get32(buf + 15), get16(buf + 19), to_id, to_len);
	out->name = (const char *)name;
	out->name_len = name_len;
	out->body = buf + head;
	out->body_len = len - head;
	return 0;
}
