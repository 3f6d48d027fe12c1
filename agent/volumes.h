/* volumes.h — persistent volumes in sandboxes, as Mesos's POSIX disk isolation does it.
 *
 * A persistent volume (disk with DiskInfo.persistence and a volume) lives at
 *   <work>/volumes/roles/<role>/<persistence id>
 * created the first time a task uses it and never removed with a sandbox, so the data
 * outlives the task and its executor; each task that holds the volume gets it at
 * <sandbox>/<container path> as a symbolic link (sandbox removal unlinks the link only). */
#ifndef PLEXUS_AGENT_VOLUMES_H
#define PLEXUS_AGENT_VOLUMES_H

#include <stddef.h>

#include "plexus/plexus.pb-c.h"

/* Makes each persistent volume among res (n of them) exist and linked into sandbox.
 * 0, or -1 with err saying which volume could not be attached and why (an invalid
 * persistence id or container path, an I/O error). */
int agent_volumes_attach(const char *work_dir, Plexus__Resource *const *res, size_t n,
                         const char *sandbox, char *err, size_t errlen);

#endif
