/* helpers.h — shared helpers of the tests of common/. */
#ifndef TESTS_COMMON_HELPERS_H
#define TESTS_COMMON_HELPERS_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "common/resources.h"

/* Parses text that must be valid; the test fails with the parser's message if not. */
static inline px_resources *R(const char *text)
{
	char err[256] = "";
	px_resources *rs = NULL;
	int rc = px_resources_parse(text, NULL, &rs, err, sizeof(err));
	cr_assert_eq(rc, PX_OK, "parse '%s' failed: %s", text, err);
	return rs;
}

/* Asserts that rs formats as expected. */
#define assert_format(rs, expected)                                                                \
	do {                                                                                       \
		char *s_ = px_resources_format(rs);                                                \
		cr_assert_not_null(s_);                                                            \
		cr_assert_str_eq(s_, expected);                                                    \
		free(s_);                                                                          \
	} while (0)

#endif
