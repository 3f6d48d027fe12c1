/* driver_status.c — names of driver states. */
#include <stdarg.h>
#include <stdio.h>

#include "actor/log.h"
#include "frameworks/driver/driver_util.h"
#include "plexus/driver_status.h"

const char *px_driver_status_name(enum px_driver_status status)
{
	switch (status) {
	case PX_DRIVER_NOT_STARTED:
		return "DRIVER_NOT_STARTED";
	case PX_DRIVER_RUNNING:
		return "DRIVER_RUNNING";
	case PX_DRIVER_ABORTED:
		return "DRIVER_ABORTED";
	case PX_DRIVER_STOPPED:
		return "DRIVER_STOPPED";
	case PX_DRIVER_INVALID_CALL:
		return "DRIVER_INVALID_CALL";
	}
	return "DRIVER_UNKNOWN";
}

static _Thread_local char last_error[512];

const char *px_driver_error(void)
{
	return last_error;
}

void px_driver_error_clear(void)
{
	last_error[0] = '\0';
}

void px_driver_error_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	actor_error("%s", last_error);
}
