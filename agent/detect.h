/* detect.h — what the agent advertises: resources (given, or detected as Mesos does)
 * and attributes. */
#ifndef PLEXUS_AGENT_DETECT_H
#define PLEXUS_AGENT_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "common/resources.h"
#include "proto/plexus.pb-c.h"

/* Memory Mesos leaves to the system: 1 GiB when the machine has at least 2 GiB,
 * otherwise half of it. Returns what remains for tasks, in MiB. */
int64_t agent_mem_for_tasks(uint64_t total_bytes);
/* Disk likewise: 5 GiB kept when there are at least 10 GiB, otherwise half. MiB. */
int64_t agent_disk_for_tasks(uint64_t total_bytes);

/* The agent's resources: text parses the --resources flag (text or JSON, NULL for
 * none); cpus, mem, disk and ports that it does not name are detected (cpus from the
 * online processors, mem from /proc/meminfo's MemTotal, disk from statvfs of work_dir,
 * ports [31000-32000]). On failure err says why. */
int agent_resources(const char *text, const char *work_dir, px_resources **out, char *err,
                    size_t errlen);

/* Parses "rack:a;zone:1;ports:[1-5];tags:{x,y}" into Attribute messages: a number is a
 * SCALAR, [..] RANGES, {..} a SET, anything else TEXT. *out is a new array of *n new
 * messages (free with agent_attributes_free). */
int agent_attributes_parse(const char *text, Plexus__Attribute ***out, size_t *n, char *err,
                           size_t errlen);
void agent_attributes_free(Plexus__Attribute **attrs, size_t n);

#endif
