/* tuple.h — tuples in memory and on the wire, and the batch buffers that carry them.
 *
 * A batch ("stm.batch" message, one per destination task and flush) is a sequence of
 * records, each a kind byte and a fixed layout, integers little-endian:
 *   'T' tuple  u32 source task, u16 stream, u8 n, n x (u64 root, u64 edge),
 *              u8 m, m x value (u8 type; int/double: 8 bytes; string/bytes: u32 len, bytes)
 *   'I' init   u64 root, u64 xor of the spout's edges, u32 spout task   (to an acker)
 *   'A' ack    u64 root, u64 xor value                                 (to an acker)
 *   'F' fail   u64 root                                                (to an acker)
 *   'D' done   u64 root, u8 ok                                         (acker to spout)
 * A received tuple points into the batch: decoding allocates nothing. */
#ifndef STM_TUPLE_H
#define STM_TUPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storm/storm.h"
#include "topology.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the tuple wire format is written for little-endian hosts"
#endif

#define STM_REC_TUPLE 'T'
#define STM_REC_INIT  'I'
#define STM_REC_ACK   'A'
#define STM_REC_FAIL  'F'
#define STM_REC_DONE  'D'

struct stm_anchor {
	uint64_t root; /* the spout tuple this one descends from */
	uint64_t edge; /* this tuple's id in root's tree */
	uint64_t acc;  /* xor of the edges emitted anchored on this tuple (receiver side) */
};

struct stm_tuple {
	const struct stm_component *source;
	int stream;
	int source_task;
	int nvalues;
	int nanchors;
	stm_value values[STM_MAX_FIELDS];
	struct stm_anchor anchors[STM_MAX_ANCHORS];
	bool done;          /* acked or failed */
	bool kept;          /* a copy was kept: its owner acks */
	bool heap;          /* made by stm_tuple_keep: freed with stm_tuple_free */
	int64_t arrived_ms; /* runtime clock, for time windows */
};

/* A growable byte buffer of records for one destination. */
struct stm_buf {
	uint8_t *p;
	size_t len, cap;
	uint32_t records;
};

/* Makes room for n more bytes. 0, or -1 on out of memory. */
int stm_buf_reserve(struct stm_buf *b, size_t n);
void stm_buf_fini(struct stm_buf *b);

/* Appends a tuple record. anchors may be NULL when nanchors is 0. -1 on out of memory
 * or a string longer than 4 GiB. */
int stm_buf_put_tuple(struct stm_buf *b, int source_task, int stream,
                      const struct stm_anchor *anchors, int nanchors, const stm_value *values,
                      int nvalues);
/* Appends an acker record (init: val and spout task; ack: val; fail). */
int stm_buf_put_ack(struct stm_buf *b, uint8_t kind, uint64_t root, uint64_t val,
                    uint32_t spout_task);
/* Appends a done record for a spout. */
int stm_buf_put_done(struct stm_buf *b, uint64_t root, bool ok);

/* One decoded record. For a tuple, t is filled (its values point into the batch). */
struct stm_record {
	uint8_t kind;
	uint64_t root, val;
	uint32_t spout_task;
	bool ok;
};

/* Reads records from a batch in order. */
struct stm_reader {
	const uint8_t *p, *end;
};

/* Decodes the next record into rec (and t for a tuple, checked against topo: known
 * source task and stream, at most the stream's fields). 1 when a record was read, 0
 * at the end, -1 on a malformed batch (the rest is to be dropped). */
int stm_reader_next(struct stm_reader *r, const struct stm_topology *topo, struct stm_record *rec,
                    struct stm_tuple *t);

/* A 64-bit hash of values (the fields grouping): the same on every host. */
uint64_t stm_values_hash(const stm_value *values, const int *keys, int nkeys);

#endif
