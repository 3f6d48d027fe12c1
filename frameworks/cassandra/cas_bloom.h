/* cas_bloom.h — the Bloom filter of a sorted table: which partitions it may hold, so a
 * read skips tables that certainly do not have the partition. About 1% false
 * positives at 10 bits per key and 7 hashes. */
#ifndef CAS_BLOOM_H
#define CAS_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits to allocate for n keys (a multiple of 64, at least 64). */
uint64_t cas_bloom_bits_for(size_t nkeys);
enum { CAS_BLOOM_HASHES = 7 };
/* Sets the key's bits in the bit array bits (nbits bits). */
void cas_bloom_add(uint8_t *bits, uint64_t nbits, const void *key, size_t len);
bool cas_bloom_may_contain(const uint8_t *bits, uint64_t nbits, const void *key, size_t len);

#endif
