/* checkpoint.c — the checkpoint files on their own: atomic replacement, the records of a
 * run file read back, and damaged files (truncated at every length, flipped bytes,
 * garbage) reported without a crash, keeping the records before the damage. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/checkpoint.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/plexus-ckpt-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	ckpt_remove_tree(dir);
}

TestSuite(checkpoint, .init = setup, .fini = teardown, .timeout = 30);

/* The CRC-32 (IEEE) of the type byte and the body, as checkpoint.h describes it. */
static uint32_t crc(uint8_t type, const char *body, size_t len)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i <= len; i++) {
		c ^= i == 0 ? type : (uint8_t)body[i - 1];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* A run file of three records and the end record, built by hand. */
static size_t build(uint8_t *out)
{
	static const char *const bodies[] = {"pid=42\n", "second record", "third", ""};
	size_t n = 8;
	memcpy(out, "PXCKPT1\n", 8);
	for (int r = 0; r < 4; r++) {
		size_t len = strlen(bodies[r]);
		uint8_t type = r < 3 ? (uint8_t)(r + 1) : 6;
		uint32_t c = crc(type, bodies[r], len);
		out[n] = type;
		for (int b = 0; b < 4; b++) {
			out[n + 1 + b] = (uint8_t)(len >> (8 * b));
			out[n + 5 + b] = (uint8_t)(c >> (8 * b));
		}
		memcpy(out + n + 9, bodies[r], len);
		n += 9 + len;
	}
	return n;
}

struct seen {
	int types[8];
	size_t n;
};

static int on_record(int type, const uint8_t *body, size_t len, void *arg)
{
	struct seen *s = arg;
	(void)body;
	(void)len;
	if (s->n < 8)
		s->types[s->n++] = type;
	return 0;
}

Test(checkpoint, an_atomic_write_replaces_the_file_and_leaves_no_temporary)
{
	char path[128], tmp[140];
	uint8_t *data;
	size_t len;
	snprintf(path, sizeof(path), "%s/a/b/file", dir);
	cr_assert_eq(ckpt_write_atomic(path, "first", 5), 0);
	cr_assert_eq(ckpt_write_atomic(path, "second", 6), 0);
	cr_assert_eq(ckpt_read_file(path, &data, &len), 0);
	cr_assert_eq(len, 6);
	cr_assert_str_eq((char *)data, "second");
	free(data);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0, "the temporary file is left behind");
}

Test(checkpoint, an_intact_file_reads_back_every_record)
{
	uint8_t buf[256];
	char damage[256];
	struct seen s = {0};
	size_t n = build(buf);
	cr_assert_eq(ckpt_parse(buf, n, on_record, &s, damage, sizeof(damage)), 3);
	cr_assert_str_eq(damage, "");
	cr_assert_eq(s.types[0], 1);
	cr_assert_eq(s.types[2], 3);
}

Test(checkpoint, a_truncated_file_keeps_what_came_before_the_cut)
{
	uint8_t buf[256];
	char damage[256];
	size_t n = build(buf);
	size_t first_end = 8 + 9 + strlen("pid=42\n");
	for (size_t cut = 0; cut < n; cut++) {
		struct seen s = {0};
		size_t got = ckpt_parse(buf, cut, on_record, &s, damage, sizeof(damage));
		cr_assert_neq(damage[0], '\0', "a file cut at %zu bytes is not reported", cut);
		cr_assert_eq(got, s.n);
		if (cut >= first_end)
			cr_assert_geq(got, 1, "the first record is lost when cut at %zu", cut);
		if (cut > 0 && cut < 8)
			cr_assert(strstr(damage, "magic") != NULL, "%s", damage);
	}
}

Test(checkpoint, flipped_bytes_and_garbage_are_reported)
{
	uint8_t buf[256];
	char damage[256];
	size_t n = build(buf);
	/* Every single flipped byte after the magic is noticed (checksums, lengths). */
	for (size_t i = 8; i < n; i++) {
		struct seen s = {0};
		buf[i] ^= 0x5a;
		(void)ckpt_parse(buf, n, on_record, &s, damage, sizeof(damage));
		cr_assert(damage[0] != '\0', "byte %zu flipped unnoticed", i);
		buf[i] ^= 0x5a;
	}
	/* Random garbage, with and without the magic, never crashes. */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		uint8_t junk[300];
		size_t len = (size_t)(rand() % (int)sizeof(junk));
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)rand();
		if (round % 2 == 0 && len >= 8)
			memcpy(junk, "PXCKPT1\n", 8);
		struct seen s = {0};
		(void)ckpt_parse(junk, len, on_record, &s, damage, sizeof(damage));
	}
}

Test(checkpoint, process_start_time_tells_a_live_process)
{
	cr_assert_gt(ckpt_process_start(getpid()), 0);
	cr_assert_eq(ckpt_process_start(0x7ffffff0), 0);
}
