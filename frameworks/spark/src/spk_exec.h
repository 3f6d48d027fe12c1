/* spk_exec.h — the executor's shared tables, used by its task threads and its actor:
 * the map outputs it serves, the partitions it keeps in memory (persist) and the
 * shuffle fetches in flight. One executor per OS process. */
#ifndef SPK_EXEC_H
#define SPK_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include <actor/actor.h>

#include "spark/spark.h"

typedef struct spk_exec spk_exec;

/* The executor's actor (it serves fetches and receives blocks) and its sandbox. */
actor_pid spk_exec_pid(const spk_exec *ex);
const char *spk_exec_dir(const spk_exec *ex);

/* Registers a written map output: path holds nreduce blocks, block r at
 * [offsets[r], offsets[r + 1]). Replaces an earlier attempt's. 0 or -1. */
int spk_exec_output_add(spk_exec *ex, int sid, int map, const char *path, const uint64_t *offsets,
                        int nreduce);
/* Where block `reduce` of map output (sid, map) is. false when this executor has none. */
bool spk_exec_output_find(spk_exec *ex, int sid, int map, int reduce, char *path, size_t pathlen,
                          uint64_t *off, uint64_t *len);

/* A copy of a persisted partition (rows encoded with spk_put_row) into out; false if
 * absent. */
bool spk_exec_cache_get(spk_exec *ex, int rdd, int part, spk_buf *out);
/* Keeps rows (takes over buf's bytes). */
void spk_exec_cache_put(spk_exec *ex, int rdd, int part, spk_buf *buf);

/* Fetch sessions: a reducer's task thread opens one, sends spk.fetch requests naming
 * its id, and waits for what the actor hands it (blocks, or the loss of an executor). */
typedef struct spk_fetch_reply {
	struct spk_fetch_reply *next;
	bool lost; /* the executor `pid` is gone */
	char pid[96];
	int input, map;
	uint64_t offset;
	bool ok;
	size_t len;
	char data[];
} spk_fetch_reply;

typedef struct spk_fetch_session spk_fetch_session;
spk_fetch_session *spk_fetch_open(spk_exec *ex, uint64_t *id);
void spk_fetch_close(spk_exec *ex, spk_fetch_session *s);
/* The next reply (the caller frees it), waiting up to timeout_ms; NULL on timeout. */
spk_fetch_reply *spk_fetch_wait(spk_fetch_session *s, int64_t timeout_ms);
/* Asks the actor to link to pid, so that its loss reaches the sessions. */
void spk_exec_watch(spk_exec *ex, const char *pid);

#endif
