/* paths.h — where the agent keeps things under its work directory, as Mesos lays it out:
 *
 *   <work>/slaves/<agent-id>/frameworks/<framework-id>/executors/<executor-id>/runs/<run>
 *
 * with a "latest" symlink beside the runs pointing at the newest one. Checkpoints live
 * under <work>/meta (agent/checkpoint.h). */
#ifndef PLEXUS_AGENT_PATHS_H
#define PLEXUS_AGENT_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* True when id may be one path component: non-empty, at most 255 bytes, not "." or
 * "..", no '/' and no control characters (Mesos's rule for task and executor ids). */
bool agent_path_id_valid(const char *id);

/* mkdir -p with mode 0755. Returns 0 or an errno code. */
int agent_mkdirs(const char *path);

/* Creates the run's sandbox and the runs/latest link; returns the new malloc'ed path
 * in *out. Returns 0 or an errno code (EINVAL for an id that is not a valid component),
 * with err saying why. */
int agent_sandbox_create(const char *work_dir, const char *agent_id, const char *framework_id,
                         const char *executor_id, const char *run, char **out, char *err,
                         size_t errlen);

/* The sandbox's virtual path for /files: "/frameworks/F/executors/E/runs/latest". */
char *agent_sandbox_virtual(const char *framework_id, const char *executor_id);

#endif
