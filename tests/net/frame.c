/* Frame codec: round trips, and every way bytes from the network can be wrong. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "actor/error.h"
#include "net/frame.h"

static actor_pid mkpid(const char *id, uint32_t ip, uint16_t port)
{
	actor_pid p = {0};
	p.ip = ip;
	p.port = port;
	p.len = (uint16_t)strlen(id);
	memcpy(p.id, id, p.len);
	return p;
}

/* Encodes a whole frame into a fresh buffer; *len gets its size. */
static uint8_t *encode(const actor_pid *from, const actor_pid *to, const char *name,
		       const void *body, size_t body_len, size_t *len)
{
	size_t size = actor__frame_size(from, to, strlen(name), body_len);
	cr_assert_gt(size, 0);
	uint8_t *buf = malloc(size);
	size_t head = actor__frame_encode_head(buf, from, to, name, strlen(name), body_len);
	cr_assert_eq(head + body_len, size);
	memcpy(buf + head, body, body_len);
	*len = size;
	return buf;
}

Test(frame, round_trip_keeps_every_field_and_does_not_copy_the_body)
{
	actor_pid from = mkpid("client(2)", 0x7f000001, 5051), to = mkpid("server", 0x0a000005, 5050);
	size_t len;
	uint8_t *buf = encode(&from, &to, "plexus.Ping", "hello", 5, &len);
	cr_assert_eq(len, ACTOR__FRAME_HEADER + 9 + 6 + 11 + 5);

	size_t total;
	cr_assert_eq(actor__frame_peek(buf, len, 1 << 20, &total), 0);
	cr_assert_eq(total, len);
	struct actor__frame f;
	cr_assert_eq(actor__frame_decode(buf, len, &f), 0);
	cr_assert_str_eq(f.from.id, "client(2)");
	cr_assert_eq(f.from.ip, 0x7f000001);
	cr_assert_eq(f.from.port, 5051);
	cr_assert_str_eq(f.to.id, "server");
	cr_assert_eq(f.to.ip, 0x0a000005);
	cr_assert_eq(f.to.port, 5050);
	cr_assert_eq(f.name_len, 11);
	cr_assert_eq(memcmp(f.name, "plexus.Ping", 11), 0);
	cr_assert_eq(f.body_len, 5);
	cr_assert_eq(f.body, buf + len - 5, "the body must point into the buffer");
	free(buf);
}

Test(frame, empty_sender_and_empty_body)
{
	actor_pid from = {0}, to = mkpid("x", 1, 2);
	size_t len;
	uint8_t *buf = encode(&from, &to, "n", "", 0, &len);
	struct actor__frame f;
	cr_assert_eq(actor__frame_decode(buf, len, &f), 0);
	cr_assert_eq(f.from.len, 0);
	cr_assert_eq(f.body_len, 0);
	free(buf);
}

Test(frame, size_rejects_bad_parts)
{
	actor_pid ok = mkpid("a", 1, 1), none = {0};
	cr_assert_eq(actor__frame_size(&ok, &none, 1, 0), 0, "empty receiver");
	cr_assert_eq(actor__frame_size(&ok, &ok, 0, 0), 0, "empty name");
	cr_assert_eq(actor__frame_size(&ok, &ok, 70000, 0), 0, "name too long");
	cr_assert_eq(actor__frame_size(&ok, &ok, 1, (size_t)UINT32_MAX), 0, "over 4 GiB");
}

Test(frame, peek_needs_a_prefix_and_checks_limits)
{
	actor_pid a = mkpid("a", 1, 1);
	size_t len, total = 99;
	uint8_t *buf = encode(&a, &a, "n", "0123456789", 10, &len);
	for (size_t i = 0; i < ACTOR__FRAME_PREFIX; i++) {
		cr_assert_eq(actor__frame_peek(buf, i, 1 << 20, &total), 0);
		cr_assert_eq(total, 0, "with %zu bytes the length is unknown", i);
	}
	cr_assert_eq(actor__frame_peek(buf, ACTOR__FRAME_PREFIX, 1 << 20, &total), 0);
	cr_assert_eq(total, len);
	cr_assert_eq(actor__frame_peek(buf, len, len - 1, &total), ACTOR_EMSGSIZE);
	cr_assert_eq(actor__frame_peek(buf, len, len, &total), 0);
	free(buf);
}

Test(frame, bad_magic_version_flags_and_short_length_are_protocol_errors)
{
	actor_pid a = mkpid("a", 1, 1);
	size_t len, total;
	uint8_t *buf = encode(&a, &a, "n", "", 0, &len);
	for (int i = 0; i < 4; i++) {
		uint8_t save = buf[i];
		buf[i] ^= 0x55;
		cr_assert_eq(actor__frame_peek(buf, len, 1 << 20, &total), ACTOR_EPROTO, "byte %d", i);
		buf[i] = save;
	}
	buf[4] = 10; /* shorter than any header */
	buf[5] = buf[6] = buf[7] = 0;
	cr_assert_eq(actor__frame_peek(buf, len, 1 << 20, &total), ACTOR_EPROTO);
	free(buf);
}

Test(frame, decode_rejects_inconsistent_lengths_and_bad_ids)
{
	actor_pid a = mkpid("abc", 1, 1);
	size_t len;
	uint8_t *buf = encode(&a, &a, "name", "body", 4, &len);
	struct actor__frame f;

	cr_assert_eq(actor__frame_decode(buf, len - 1, &f), ACTOR_EPROTO, "truncated");

	uint8_t *b = malloc(len);
	memcpy(b, buf, len);
	b[22] = 0xff; /* name length past the end */
	b[23] = 0xff;
	cr_assert_eq(actor__frame_decode(b, len, &f), ACTOR_EPROTO);

	memcpy(b, buf, len);
	b[21] = 0; /* empty receiver id */
	cr_assert_eq(actor__frame_decode(b, len, &f), ACTOR_EPROTO);

	memcpy(b, buf, len);
	b[21] = 64; /* receiver id too long */
	cr_assert_eq(actor__frame_decode(b, len, &f), ACTOR_EPROTO);

	memcpy(b, buf, len);
	b[ACTOR__FRAME_HEADER + 1] = '@'; /* bad character in the sender's id */
	cr_assert_eq(actor__frame_decode(b, len, &f), ACTOR_EPROTO);

	memcpy(b, buf, len);
	b[ACTOR__FRAME_HEADER + 3 + 3 + 1] = '\0'; /* NUL inside the name */
	cr_assert_eq(actor__frame_decode(b, len, &f), ACTOR_EPROTO);

	memcpy(b, buf, len);
	b[22] = 0; /* empty name */
	b[23] = 0;
	cr_assert_eq(actor__frame_decode(b, len, &f), ACTOR_EPROTO);
	free(b);
	free(buf);
}

/* Random bytes and every truncation of a valid frame: never a crash, never an
 * out-of-bounds read (ASan checks), and a valid frame decodes only when whole. */
Test(frame, random_bytes_and_truncations_never_crash)
{
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % 200);
		uint8_t *b = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rand();
		if (len >= 4 && round % 2) { /* a valid start makes the decoder go deeper */
			b[0] = 'P';
			b[1] = 'X';
			b[2] = 1;
			b[3] = 0;
		}
		if (len >= 8 && round % 4 == 1) {
			b[4] = (uint8_t)len;
			b[5] = b[6] = b[7] = 0;
		}
		size_t total;
		struct actor__frame f;
		int rv = actor__frame_peek(b, len, 1 << 20, &total);
		if (rv == 0 && total > 0 && total <= len)
			(void)actor__frame_decode(b, total, &f);
		(void)actor__frame_decode(b, len, &f);
		free(b);
	}

	actor_pid a = mkpid("sender", 1, 1), c = mkpid("receiver", 2, 2);
	size_t len;
	uint8_t *buf = encode(&a, &c, "some.name", "payload", 7, &len);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);
		memcpy(b, buf, cut);
		struct actor__frame f;
		cr_assert_neq(actor__frame_decode(b, cut, &f), 0, "cut at %zu", cut);
		free(b);
	}
	free(buf);
}
