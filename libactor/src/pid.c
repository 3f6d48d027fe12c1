/* pid.c — parsing, formatting, comparing and hashing PIDs ("id@a.b.c.d:port"). */
#include <stdio.h>
#include <string.h>

#include "actor/error.h"
#include "actor/pid.h"

const actor_pid actor_pid_none = {0};

static bool actor__pid_id_char_ok(unsigned char c)
{
	/* Printable ASCII other than space, '@' and '/'. */
	return c > 0x20 && c < 0x7f && c != '@' && c != '/';
}

/* Parses a decimal number of at most max_digits digits at *p, no sign, no leading '+'. */
static bool actor__parse_dec(const char **p, unsigned max_digits, unsigned long limit,
			     unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;
	unsigned n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > max_digits)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		s++;
	}
	if (n == 0 || v > limit)
		return false;
	/* "01" is ambiguous (octal to some readers): accept only canonical numbers. */
	if (n > 1 && **p == '0')
		return false;
	*p = s;
	*out = v;
	return true;
}

int actor_pid_parse(const char *text, actor_pid *out)
{
	actor_pid pid = {0};
	const char *at, *p;
	unsigned long v;
	size_t len;

	if (text == NULL || out == NULL)
		return ACTOR_EINVAL;
	at = strchr(text, '@');
	if (at == NULL)
		return ACTOR_EINVAL;
	len = (size_t)(at - text);
	if (len == 0 || len > ACTOR_PID_ID_MAX)
		return ACTOR_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!actor__pid_id_char_ok((unsigned char)text[i]))
			return ACTOR_EINVAL;
	p = at + 1;
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (*p != '.')
				return ACTOR_EINVAL;
			p++;
		}
		if (!actor__parse_dec(&p, 3, 255, &v))
			return ACTOR_EINVAL;
		pid.ip = (pid.ip << 8) | (uint32_t)v;
	}
	if (*p++ != ':')
		return ACTOR_EINVAL;
	if (!actor__parse_dec(&p, 5, 65535, &v) || *p != '\0')
		return ACTOR_EINVAL;
	pid.port = (uint16_t)v;
	pid.len = (uint16_t)len;
	memcpy(pid.id, text, len);
	*out = pid;
	return 0;
}

int actor_pid_make(const char *id, uint32_t ip, uint16_t port, actor_pid *out)
{
	actor_pid pid = {0};
	size_t len;

	if (id == NULL || out == NULL)
		return ACTOR_EINVAL;
	len = strlen(id);
	if (len == 0 || len > ACTOR_PID_ID_MAX)
		return ACTOR_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!actor__pid_id_char_ok((unsigned char)id[i]))
			return ACTOR_EINVAL;
	pid.ip = ip;
	pid.port = port;
	pid.len = (uint16_t)len;
	memcpy(pid.id, id, len);
	*out = pid;
	return 0;
}

int actor_pid_format(actor_pid pid, char *buf, size_t size)
{
	size_t len = pid.len <= ACTOR_PID_ID_MAX ? pid.len : ACTOR_PID_ID_MAX;

	return snprintf(buf, size, "%.*s@%u.%u.%u.%u:%u", (int)len, pid.id, pid.ip >> 24,
			(pid.ip >> 16) & 0xff, (pid.ip >> 8) & 0xff, pid.ip & 0xff, pid.port);
}

bool actor_pid_equal(actor_pid a, actor_pid b)
{
	return a.ip == b.ip && a.port == b.port && a.len == b.len &&
	       a.len <= ACTOR_PID_ID_MAX && memcmp(a.id, b.id, a.len) == 0;
}

bool actor_pid_is_none(actor_pid pid)
{
	return pid.len == 0;
}

uint64_t actor_pid_hash(actor_pid pid)
{
	/* FNV-1a over the id, then the address mixed in. */
	uint64_t h = 1469598103934665603ull;
	size_t len = pid.len <= ACTOR_PID_ID_MAX ? pid.len : ACTOR_PID_ID_MAX;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)pid.id[i];
		h *= 1099511628211ull;
	}
	h ^= ((uint64_t)pid.ip << 16) | pid.port;
	h *= 1099511628211ull;
	return h ^ (h >> 29);
}

const char *actor_pid_str(actor_pid pid)
{
	/* A few buffers in rotation, so one log line can name several PIDs. */
	static _Thread_local char bufs[ACTOR_PID_STR_SLOTS][ACTOR_PID_TEXT_MAX];
	static _Thread_local unsigned next;
	char *buf = bufs[next++ % ACTOR_PID_STR_SLOTS];

	actor_pid_format(pid, buf, ACTOR_PID_TEXT_MAX);
	return buf;
}
