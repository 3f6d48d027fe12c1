/* status_updates.h — the status update manager: every task status update the agent
 * receives (from an executor) or makes (for a lost executor, a kill before launch ...)
 * goes to the master, again and again, until the master acknowledges it, as Mesos's
 * status update manager does.
 *
 * Updates are kept per task in a stream. Only the head of a stream is in flight: the
 * next update of a task is sent only after the previous one was acknowledged, so the
 * framework sees a task's states in order. An unacknowledged head is sent again after
 * min_ms, then after twice as long each time up to max_ms (Mesos: 10 s to 10 min), on
 * the runtime clock. While the agent has no master the manager is paused: nothing is
 * sent, and on resume every head goes out at once.
 *
 * It runs inside the agent actor (its timers are the agent's). */
#ifndef PLEXUS_AGENT_STATUS_UPDATES_H
#define PLEXUS_AGENT_STATUS_UPDATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor/actor.h"
#include "proto/internal.pb-c.h"

struct sum_update {
	Plexus__Internal__StatusUpdate *u; /* owned */
	struct sum_update *next;
};

struct sum_stream {
	char *framework_id;
	char *task_id;
	uint64_t serial; /* names the stream in timer callbacks */
	struct sum_update *head, *tail;
	uint64_t timer;      /* retry timer of the head, 0 when none */
	int64_t interval_ms; /* the next retry's delay */
	struct sum_stream *next;
};

/* Sends one update to the master; the update stays owned by the manager. */
typedef void (*sum_forward_fn)(actor_t *self, Plexus__Internal__StatusUpdate *u, void *arg);

struct status_update_manager {
	struct sum_stream *streams;
	uint64_t next_serial;
	int64_t min_ms, max_ms;
	bool paused;
	sum_forward_fn forward;
	void *arg;
	uint64_t sent, retried, acked; /* for metrics and tests */
};

void sum_init(struct status_update_manager *m, int64_t min_ms, int64_t max_ms,
              sum_forward_fn forward, void *arg);
/* Frees every stream (their timers are cancelled). */
void sum_fini(struct status_update_manager *m, actor_t *self);

/* Takes over u (it must carry framework_id, status.task_id and a 16-byte uuid) and
 * queues it on its task's stream; sends it now if it is the head and the manager runs.
 * Returns 0, or EINVAL (u is freed) for an update without those fields. */
int sum_update(struct status_update_manager *m, actor_t *self, Plexus__Internal__StatusUpdate *u);

/* The master acknowledged (framework_id, task_id, uuid). On a match the head is
 * removed and handed to *acked (the caller frees it with agent_pb_free; acked may be
 * NULL to free it here), and the next update of the task is sent. Returns 0 on a match,
 * ENOENT for an unknown stream, EINVAL when uuid is not the head's (a duplicate or stale
 * acknowledgement; nothing changes). */
int sum_ack(struct status_update_manager *m, actor_t *self, const char *framework_id,
            const char *task_id, const uint8_t *uuid, size_t uuid_len,
            Plexus__Internal__StatusUpdate **acked);

/* Pause: stop sending (the master is gone). Resume: send every head now. */
void sum_pause(struct status_update_manager *m, actor_t *self);
void sum_resume(struct status_update_manager *m, actor_t *self);

/* Drops every stream of a framework (it was removed). */
void sum_cleanup(struct status_update_manager *m, actor_t *self, const char *framework_id);

/* Unacknowledged updates of a task (0 if none); the latest one, if any, in *latest. */
size_t sum_pending(const struct status_update_manager *m, const char *framework_id,
                   const char *task_id, const Plexus__Internal__StatusUpdate **latest);

#endif
