/* error.c — error names and the message-buffer helper shared by common/. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *px_strerror(int err)
{
	switch (err) {
	case PX_OK:
		return "ok";
	case PX_ENOMEM:
		return "out of memory";
	case PX_EINVAL:
		return "invalid argument";
	case PX_ERANGE:
		return "value out of range";
	default:
		return "unknown error";
	}
}

int px_errorf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}
