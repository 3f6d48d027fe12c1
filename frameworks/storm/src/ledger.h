/* ledger.h — the two tables of at-least-once processing, both open-addressing hashes
 * keyed by a spout tuple's 64-bit root id (never 0):
 *
 * - a spout's pending table: root -> (message id, emit time), bounded by
 *   max_spout_pending; what is still there after the message timeout has failed;
 * - an acker's ledger: root -> (xor value, spout task), as Storm's acker: the spout's
 *   init and every bolt's ack xor their edge ids into the value, and the tree is
 *   complete when the value returns to 0 after the init was seen. */
#ifndef STM_LEDGER_H
#define STM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stm_entry {
	uint64_t root;    /* 0: free slot */
	uint64_t val;     /* pending: message id; acker: xor value */
	int64_t since_ms; /* runtime clock: when it was added */
	int64_t since_us; /* monotonic microseconds (latency metrics) */
	int32_t task;     /* acker: the spout task, -1 until the init arrives */
	uint32_t failed;  /* acker: a bolt failed the tree before the init arrived */
};

struct stm_ledger {
	struct stm_entry *slots;
	size_t cap; /* a power of two */
	size_t count;
};

void stm_ledger_fini(struct stm_ledger *l);
/* The entry of root, or NULL. */
struct stm_entry *stm_ledger_find(struct stm_ledger *l, uint64_t root);
/* The entry of root, added (zeroed but for root, task -1) if absent; NULL on out of
 * memory. Pointers into the table are valid until the next add or remove. */
struct stm_entry *stm_ledger_add(struct stm_ledger *l, uint64_t root, bool *added);
/* Removes the entry (a pointer from find/add). */
void stm_ledger_remove(struct stm_ledger *l, struct stm_entry *e);
/* Calls fn on every entry added before cutoff_ms and removes it (fn may not touch the
 * ledger). Returns how many. */
size_t stm_ledger_expire(struct stm_ledger *l, int64_t cutoff_ms,
                         void (*fn)(const struct stm_entry *e, void *arg), void *arg);

#endif
