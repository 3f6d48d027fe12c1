/* version.c — the library's own version (include/plexus/version.h). */
#include "plexus/version.h"

const char *px_version(void)
{
	return PLEXUS_VERSION;
}
