/* spk_shuffle.h — the shuffle: map tasks write their output partitioned (by hash or by
 * range bounds) and sorted by key into one file in the executor's sandbox, reduce
 * tasks fetch their block of every map output, many at once and in chunks, from the
 * executors that wrote them (spk_shuffle_read.c), and executors serve those chunks. */
#ifndef SPK_SHUFFLE_H
#define SPK_SHUFFLE_H

#include "spk_eval.h"

typedef struct spk_shuffle_writer spk_shuffle_writer;

/* A sink that partitions what it is given (combining values of a key with the out
 * spec's function when it names one). NULL with spk_failure on a bad spec. */
spk_shuffle_writer *spk_shuffle_writer_alloc(spk_exec *ex, const spk_out_spec *out, int map);
spk_sink *spk_shuffle_writer_sink(spk_shuffle_writer *w);
/* Writes the file and registers it; sizes[r] of each block in *sizes (malloc'ed).
 * 0, or -1 with spk_failure. */
int spk_shuffle_writer_finish(spk_shuffle_writer *w, uint64_t **sizes, size_t *nsizes);
void spk_shuffle_writer_free(spk_shuffle_writer *w);

/* The partition of a key: hash modulo n, or the first range bound not below it. */
int spk_partition_of(spk_bytes key, int n, const spk_bytes *bounds, size_t nbounds);

/* Pushes the rows of a SHUFFLED node (see spk_eval). */
int spk_shuffle_read(spk_run *run, const spk_node *node, spk_sink *out);

/* The executor's server side: answers a spk.fetch message (from its actor). */
void spk_shuffle_serve(actor_t *self, spk_exec *ex, const actor_msg *msg);

/* Rows of an encoded buffer sorted by key (unkeyed rows by value), equal keys in
 * arrival order; the rows borrow rows' bytes. *out malloc'ed. -1 on out of memory. */
struct spk_sorted_row {
	spk_row row;
	size_t seq;
};
int spk_rows_sorted(const spk_buf *rows, struct spk_sorted_row **out, size_t *n);

/* Largest chunk of a block sent in one message. */
#define SPK_FETCH_CHUNK (512u * 1024u)

#endif
