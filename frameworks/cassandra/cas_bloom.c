/* cas_bloom.c — double hashing (Kirsch and Mitzenmacher) over the two halves of one
 * 64-bit Murmur3 value mixed with a second FNV pass. */
#include "cas_bloom.h"

#include "cas_murmur3.h"

uint64_t cas_bloom_bits_for(size_t nkeys)
{
	uint64_t bits = (uint64_t)nkeys * 10;
	if (bits < 64)
		bits = 64;
	return (bits + 63) / 64 * 64;
}

static void hashes(const void *key, size_t len, uint64_t *h1, uint64_t *h2)
{
	uint64_t h = (uint64_t)cas_murmur3_token(key, len);
	const uint8_t *p = key;
	uint64_t f = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		f = (f ^ p[i]) * 0x100000001b3ULL;
	*h1 = h;
	*h2 = f | 1;
}

void cas_bloom_add(uint8_t *bits, uint64_t nbits, const void *key, size_t len)
{
	uint64_t h1, h2;
	hashes(key, len, &h1, &h2);
	for (int i = 0; i < CAS_BLOOM_HASHES; i++) {
		uint64_t b = (h1 + (uint64_t)i * h2) % nbits;
		bits[b / 8] |= (uint8_t)(1u << (b % 8));
	}
}

bool cas_bloom_may_contain(const uint8_t *bits, uint64_t nbits, const void *key, size_t len)
{
	uint64_t h1, h2;
	hashes(key, len, &h1, &h2);
	for (int i = 0; i < CAS_BLOOM_HASHES; i++) {
		uint64_t b = (h1 + (uint64_t)i * h2) % nbits;
		if (!(bits[b / 8] & (1u << (b % 8))))
			return false;
	}
	return true;
}
