/* registrar.h — the registry: admitted agents, role weights, quotas and machines down
 * for maintenance, persisted to one file.
 *
 * The registry is what a restarted master needs to tell a re-registering agent it
 * admitted before from an impostor: the AgentInfo of each admitted agent. It lives in
 * <work_dir>/registry.json, written whole on each change: to a temporary file, fsync,
 * rename over the old one, fsync of the directory, so a crash leaves either the old or
 * the new registry. Without a work dir the registry lives in memory only.
 *
 * Mutations return 0 once the change is durable, or an errno value (the in-memory
 * registry is then unchanged). */
#ifndef PLEXUS_MASTER_REGISTRAR_H
#define PLEXUS_MASTER_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "proto/plexus.pb-c.h"

struct mst_registrar;

/* Opens (and reads, if present) the registry under work_dir (NULL: in memory).
 * Returns NULL with *err set to an errno value (EINVAL for a file that does not
 * parse; why gets a message). */
struct mst_registrar *mst_registrar_open(const char *work_dir, int *err, char *why, size_t whylen);
void mst_registrar_close(struct mst_registrar *r);

/* Admits an agent (info borrowed, its id set); replaces an entry of the same id. */
int mst_registrar_admit(struct mst_registrar *r, const Plexus__AgentInfo *info);
/* Removes an agent; 0 also when it was not there. */
int mst_registrar_remove(struct mst_registrar *r, const char *agent_id);
/* The admitted agent of that id (borrowed), or NULL. */
const Plexus__AgentInfo *mst_registrar_find(const struct mst_registrar *r, const char *agent_id);
size_t mst_registrar_count(const struct mst_registrar *r);
const Plexus__AgentInfo *mst_registrar_at(const struct mst_registrar *r, size_t i);

/* The operator's settings kept beside the agents, each a JSON value under its key:
 *   "weights"        {"<role>": <weight>, ...}
 *   "quotas"         {"<role>": {"guarantee": [Resource...], "limit": [Resource...]}, ...}
 *   "down_machines"  [{"hostname": "...", "ip": "..."}, ...]
 * mst_registrar_get returns the value (borrowed until the next change), or NULL when never
 * set. mst_registrar_put replaces it with value (taken over, also on error) once the whole
 * registry with it is durable; 0 or an errno value (EINVAL for another key). The caller
 * validates values; a registry file whose values do not have these shapes does not
 * open. */
const json_t *mst_registrar_get(const struct mst_registrar *r, const char *key);
int mst_registrar_put(struct mst_registrar *r, const char *key, json_t *value);

#endif
