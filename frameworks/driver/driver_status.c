/* driver_status.c — names of driver states. */
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
	}
	return "DRIVER_UNKNOWN";
}
