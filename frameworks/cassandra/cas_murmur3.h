/* cas_murmur3.h — Cassandra's Murmur3Partitioner: a partition key's token. */
#ifndef CAS_MURMUR3_H
#define CAS_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

/* The token of a key: the first 64 bits of MurmurHash3_x64_128 (seed 0), read as a
 * signed number, with INT64_MIN mapped to INT64_MAX so that INT64_MIN stays the ring's
 * minimum, as Cassandra does. Tail bytes are sign-extended as in Cassandra's Java code,
 * so tokens match the original's. */
int64_t cas_murmur3_token(const void *key, size_t len);

#endif
