/* PIDs, errors and the log level. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "actor/libactor.h"

Test(pid, parse_and_format_round_trip)
{
	actor_pid p;
	char buf[ACTOR_PID_TEXT_MAX];

	cr_assert_eq(actor_pid_parse("master@10.0.0.5:5050", &p), 0);
	cr_assert_str_eq(p.id, "master");
	cr_assert_eq(p.len, 6);
	cr_assert_eq(p.ip, (10u << 24) | 5u);
	cr_assert_eq(p.port, 5050);
	cr_assert_eq(actor_pid_format(p, buf, sizeof(buf)), (int)strlen("master@10.0.0.5:5050"));
	cr_assert_str_eq(buf, "master@10.0.0.5:5050");
	cr_assert_str_eq(actor_pid_str(p), "master@10.0.0.5:5050");

	cr_assert_eq(actor_pid_parse("slave(3)@255.255.255.255:65535", &p), 0);
	cr_assert_str_eq(p.id, "slave(3)");
	cr_assert_eq(p.ip, 0xffffffffu);
	cr_assert_eq(p.port, 65535);
	cr_assert_eq(actor_pid_parse("a@0.0.0.0:0", &p), 0);
}

Test(pid, str_buffers_rotate_so_one_line_can_name_several)
{
	actor_pid a, b;
	char line[256];

	cr_assert_eq(actor_pid_parse("master@10.0.0.5:5050", &a), 0);
	cr_assert_eq(actor_pid_parse("slave(1)@10.0.0.6:5051", &b), 0);
	snprintf(line, sizeof(line), "%s -> %s", actor_pid_str(a), actor_pid_str(b));
	cr_assert_str_eq(line, "master@10.0.0.5:5050 -> slave(1)@10.0.0.6:5051");
}

Test(pid, format_truncates_like_snprintf)
{
	actor_pid p;
	char buf[8];

	cr_assert_eq(actor_pid_make("worker", 0x7f000001, 80, &p), 0);
	cr_assert_eq(actor_pid_format(p, buf, sizeof(buf)), (int)strlen("worker@127.0.0.1:80"));
	cr_assert_str_eq(buf, "worker@");
}

Test(pid, malformed_is_einval_and_untouched)
{
	static const char *bad[] = {
		"", "@1.2.3.4:5", "noat", "a@1.2.3:5", "a@1.2.3.4", "a@1.2.3.4:", "a@1.2.3.4:65536",
		"a@256.1.1.1:1", "a@1.2.3.4:5x", "a b@1.2.3.4:5", "a/b@1.2.3.4:5", "a@b@1.2.3.4:5",
		"a@1.2.3.4.5:6", "a@-1.2.3.4:5", "a@1.2.3.4:-5", "a@01.2.3.4:5", "a@1.2.3.4:05",
		"a@ 1.2.3.4:5", "a@1.2.3.4:5 ", "a@1..3.4:5",
		"0123456789012345678901234567890123456789012345678901234567890123@1.2.3.4:5",
	};
	actor_pid p, orig;

	memset(&p, 0x5a, sizeof(p));
	orig = p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(actor_pid_parse(bad[i], &p), ACTOR_EINVAL, "accepted '%s'", bad[i]);
		cr_assert(memcmp(&p, &orig, sizeof(p)) == 0, "touched *out for '%s'", bad[i]);
	}
	cr_assert_eq(actor_pid_parse(NULL, &p), ACTOR_EINVAL);
	/* 63 bytes is the longest id. */
	cr_assert_eq(actor_pid_parse(
			     "012345678901234567890123456789012345678901234567890123456789012@1.2.3.4:5",
			     &p),
		     0);
	cr_assert_eq(p.len, 63);
}

Test(pid, make_validates_id)
{
	actor_pid p;

	cr_assert_eq(actor_pid_make("ok", 1, 2, &p), 0);
	cr_assert_eq(actor_pid_make("", 1, 2, &p), ACTOR_EINVAL);
	cr_assert_eq(actor_pid_make("a@b", 1, 2, &p), ACTOR_EINVAL);
	cr_assert_eq(actor_pid_make("a b", 1, 2, &p), ACTOR_EINVAL);
	cr_assert_eq(actor_pid_make(NULL, 1, 2, &p), ACTOR_EINVAL);
}

Test(pid, equal_and_hash_ignore_hint)
{
	actor_pid a, b, c;

	cr_assert_eq(actor_pid_parse("x@1.2.3.4:5", &a), 0);
	b = a;
	b.hint = 12345;
	cr_assert(actor_pid_equal(a, b));
	cr_assert_eq(actor_pid_hash(a), actor_pid_hash(b));
	cr_assert_eq(actor_pid_parse("x@1.2.3.4:6", &c), 0);
	cr_assert(!actor_pid_equal(a, c));
	cr_assert_neq(actor_pid_hash(a), actor_pid_hash(c));
	cr_assert_eq(actor_pid_parse("y@1.2.3.4:5", &c), 0);
	cr_assert(!actor_pid_equal(a, c));
	cr_assert(actor_pid_is_none(actor_pid_none));
	cr_assert(!actor_pid_is_none(a));
}

Test(error, strings_come_from_one_table)
{
	cr_assert_str_eq(actor_strerror(0), "success");
	cr_assert_str_eq(actor_strerror(ACTOR_ENOENT), "no such actor");
	cr_assert_str_eq(actor_errname(ACTOR_ENOENT), "ACTOR_ENOENT");
	cr_assert_str_eq(actor_errname(ACTOR_EFAILED), "ACTOR_EFAILED");
	cr_assert_str_eq(actor_strerror(-1), "unknown error");
	cr_assert_str_eq(actor_strerror(ACTOR__ERR_COUNT), "unknown error");
}

Test(log, level_can_be_set)
{
	actor_log_set_level(ACTOR_LOG_ERROR);
	cr_assert_eq(actor_log_get_level(), ACTOR_LOG_ERROR);
	actor_log_set_level(ACTOR_LOG_DEBUG);
	cr_assert_eq(actor_log_get_level(), ACTOR_LOG_DEBUG);
	actor_debug("a debug line from the log test: %d", 42);
}
