/* message.h — the public messages (plexus.pb-c.h, Mesos's types and names): copies,
 * frees and task states.
 *
 * Every message a driver callback receives is borrowed until the callback returns;
 * px_message_copy is how a framework keeps one. */
#ifndef PLEXUS_MESSAGE_H
#define PLEXUS_MESSAGE_H

#include <stdbool.h>

#include "plexus/plexus.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A deep copy of m, owned by the caller (free it with px_message_free). NULL when m is
 * NULL, on out of memory, or when m lacks a required field (it cannot be encoded). */
ProtobufCMessage *px_message_copy(const ProtobufCMessage *m);

/* Frees a message made by px_message_copy, by unpacking, or by a px_ builder. NULL is
 * a no-op. */
void px_message_free(ProtobufCMessage *m);

/* Checks that m can be encoded: every required field, in m and in every message it
 * holds, is set. 0, or -1 with err naming the first missing field by its path
 * ("task_infos[1].agent_id is required but not set"). */
int px_message_check(const ProtobufCMessage *m, char *err, size_t errlen);

/* Typed shorthands: PX_COPY(Plexus__TaskStatus, status) and PX_FREE(task). */
#define PX_COPY(type, m) ((type *)px_message_copy((const ProtobufCMessage *)(m)))
#define PX_FREE(m) px_message_free((ProtobufCMessage *)(m))

/* A task state's name as Mesos spells it ("TASK_RUNNING"); "TASK_UNKNOWN" for a value
 * that is not a state. Static string. */
const char *px_task_state_name(Plexus__TaskState state);

/* Parses a state's name ("TASK_FAILED", or without the prefix: "failed", any case).
 * false when it is not one. */
bool px_task_state_parse(const char *name, Plexus__TaskState *out);

/* Whether a task in this state will never change state again: FINISHED, FAILED,
 * KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR (as Mesos's isTerminalState). */
bool px_task_state_is_terminal(Plexus__TaskState state);

/* The name of a status update's reason ("REASON_COMMAND_EXECUTOR_FAILED") and source
 * ("SOURCE_EXECUTOR"); "REASON_UNKNOWN" / "SOURCE_UNKNOWN" otherwise. */
const char *px_task_reason_name(Plexus__TaskStatus__Reason reason);
const char *px_task_source_name(Plexus__TaskStatus__Source source);

#ifdef __cplusplus
}
#endif

#endif
