/* error.h — the error codes of common/ (prefix px_).
 *
 * Every fallible function of common/ returns an int: 0 (PX_OK) on success or one of
 * the codes below. Functions that read user input (text, JSON, protobuf) also take a
 * caller-owned message buffer `char *err, size_t errlen` (either may be NULL/0); on
 * failure they write one line into it saying which token or field was wrong and why.
 * On failure no output parameter is set and nothing is leaked. */
#ifndef PX_ERROR_H
#define PX_ERROR_H

#include <stddef.h>

enum px_err {
	PX_OK = 0,
	PX_ENOMEM = 1, /* out of memory */
	PX_EINVAL = 2, /* bad input: syntax, type, or a value out of its domain */
	PX_ERANGE = 3, /* a value, or the result of arithmetic, does not fit */
};

/* The name of an error code as a static string ("out of memory"); never NULL. */
const char *px_strerror(int err);

/* Writes printf-style text into err (if err != NULL and errlen > 0), truncating.
 * Returns code, so that callers can write `return px_errorf(err, len, PX_EINVAL, ...)`. */
int px_errorf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
