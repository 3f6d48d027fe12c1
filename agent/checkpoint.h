/* checkpoint.h — what the agent writes under <work>/meta so that a restarted agent can
 * find its executors again, as Mesos's agent checkpoints under its meta directory:
 *
 *   <work>/meta/slaves/latest                       the agent id (text)
 *   <work>/meta/slaves/<agent-id>/slave.info        AgentInfo (protobuf)
 *   <work>/meta/slaves/<agent-id>/frameworks/<framework-id>/executors/<executor-id>
 *       /runs/<run-uuid>/run.ckpt                   everything about one executor run
 *       /runs/<run-uuid>/forked.pid                 "pid start-ticks command(0|1)", once
 *
 * Every file is replaced atomically: written to a temporary file beside it, fsync'ed,
 * renamed over the old one, and the directory fsync'ed, so a crash leaves either the old
 * or the new content. A run file is a sequence of records, each
 *
 *   u8 type | u32 length (little endian) | u32 crc32 of type and body | body
 *
 * after the 8-byte magic "PXCKPT1\n". The run record (pids, paths, the run's identity)
 * comes first, so that even a file damaged further on names the process to kill. A
 * reader stops at the first damaged record (short, bad checksum, undecodable) and keeps
 * what came before it. */
#ifndef PLEXUS_AGENT_CHECKPOINT_H
#define PLEXUS_AGENT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent;
struct agent_executor;

enum ckpt_record {
	CKPT_RUN = 1,       /* text "key=value" lines: see checkpoint.c */
	CKPT_FRAMEWORK = 2, /* FrameworkInfo */
	CKPT_EXECUTOR = 3,  /* ExecutorInfo */
	CKPT_TASK = 4,      /* u8 list (0 queued, 1 launched) | u32 state | TaskInfo */
	CKPT_UPDATE = 5,    /* an unacknowledged StatusUpdate, oldest first per task */
	CKPT_END = 6,       /* empty, last: a file cut at a record boundary lacks it */
};

/* Writes len bytes to path atomically (temporary file, fsync, rename, directory fsync);
 * creates missing parent directories. Returns 0 or an errno code. */
int ckpt_write_atomic(const char *path, const void *data, size_t len);

/* Reads a whole file (at most 64 MiB) into *out (malloc'ed, NUL-terminated, *len without
 * the NUL). Returns 0 or an errno code. */
int ckpt_read_file(const char *path, uint8_t **out, size_t *len);

/* Calls fn for each intact record of a run file's bytes, in order. Returns the number of
 * records read; when the data is damaged, damage (not NULL) says where and why (else it
 * is set to ""). fn returning non-zero stops the walk and counts as damage. */
typedef int (*ckpt_record_fn)(int type, const uint8_t *body, size_t len, void *arg);
size_t ckpt_parse(const uint8_t *data, size_t len, ckpt_record_fn fn, void *arg, char *damage,
                  size_t damagelen);

/* The start time of a process in clock ticks since boot (field 22 of /proc/pid/stat),
 * which tells a process from a later one that reuses its pid; 0 when unknown or when
 * the process has ended (a zombie). */
uint64_t ckpt_process_start(int pid);

/* ---- the agent's checkpoints (inside the agent actor) ----------------------------- */

/* The meta directory of the agent's id: <work>/meta/slaves/<id> (malloc'ed). */
char *ckpt_agent_dir(const char *work_dir, const char *agent_id);
/* Records the agent id and AgentInfo once registered. No-op without --checkpoint. */
void agent_checkpoint_agent(struct agent *a);
/* Forgets the agent id and removes what was checkpointed under it (the master removed
 * the agent, or --recover=cleanup). */
void agent_checkpoint_forget_agent(struct agent *a);
/* Rewrites the executor's run file from what the agent knows now: its framework, its
 * info, the run, its tasks and their unacknowledged updates. No-op without
 * --checkpoint or before the agent has an id. */
void agent_checkpoint_executor(struct agent *a, struct agent_executor *ex);
/* Removes the run's directory: the executor is over and every update of its tasks was
 * acknowledged. */
void agent_checkpoint_forget_executor(struct agent *a, struct agent_executor *ex);

/* Removes a directory tree (best effort). Returns 0 or the first errno met. */
int ckpt_remove_tree(const char *path);

#endif
