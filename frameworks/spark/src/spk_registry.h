/* spk_registry.h — user functions by name: the table the driver and its executors
 * share because they are the same binary, filled by the same registrations. */
#ifndef SPK_REGISTRY_H
#define SPK_REGISTRY_H

#include "spark/spark.h"

enum spk_fn_kind {
	SPK_FN_MAP = 1,
	SPK_FN_FILTER,
	SPK_FN_REDUCE,
	SPK_FN_PARTITIONS,
	SPK_FN_PARTITIONER,
	SPK_FN_UPDATE
};

/* The builtin "sum" (the hash table adds integers itself when it sees it). */
int spk_builtin_sum(spk_bytes a, spk_bytes b, const char *arg, spk_buf *out);

/* The function registered under name with that kind, or NULL. */
void *spk_registry_find(const char *name, enum spk_fn_kind kind);

/* The task thread's failure message (set by spk_fail); "" when none. */
const char *spk_failure(void);
void spk_failure_clear(void);
/* Sets the failure message unless one is set already. */
void spk_failure_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
