/* cas_murmur3.c — MurmurHash3_x64_128 (Austin Appleby, public domain), the h1 half. */
#include "cas_murmur3.h"

#include <string.h>

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static uint64_t block(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* little-endian hosts, as the reference code */
	return v;
}

int64_t cas_murmur3_token(const void *key, size_t len)
{
	const uint8_t *data = key;
	const size_t nblocks = len / 16;
	const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
	uint64_t h1 = 0, h2 = 0;

	for (size_t i = 0; i < nblocks; i++) {
		uint64_t k1 = block(data + i * 16), k2 = block(data + i * 16 + 8);
		k1 *= c1;
		k1 = rotl(k1, 31);
		k1 *= c2;
		h1 ^= k1;
		h1 = rotl(h1, 27);
		h1 += h2;
		h1 = h1 * 5 + 0x52dce729;
		k2 *= c2;
		k2 = rotl(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		h2 = rotl(h2, 31);
		h2 += h1;
		h2 = h2 * 5 + 0x38495ab5;
	}
	const uint8_t *tail = data + nblocks * 16;
	uint64_t k1 = 0, k2 = 0;
	/* Cassandra reads tail bytes as signed Java bytes: keep its sign extension. */
#define T(i) ((uint64_t)(int64_t)(int8_t)tail[i])
	switch (len & 15) {
	case 15: k2 ^= T(14) << 48; /* fall through */
	case 14: k2 ^= T(13) << 40; /* fall through */
	case 13: k2 ^= T(12) << 32; /* fall through */
	case 12: k2 ^= T(11) << 24; /* fall through */
	case 11: k2 ^= T(10) << 16; /* fall through */
	case 10: k2 ^= T(9) << 8; /* fall through */
	case 9:
		k2 ^= T(8);
		k2 *= c2;
		k2 = rotl(k2, 33);
		k2 *= c1;
		h2 ^= k2;
		/* fall through */
	case 8: k1 ^= T(7) << 56; /* fall through */
	case 7: k1 ^= T(6) << 48; /* fall through */
	case 6: k1 ^= T(5) << 40; /* fall through */
	case 5: k1 ^= T(4) << 32; /* fall through */
	case 4: k1 ^= T(3) << 24; /* fall through */
	case 3: k1 ^= T(2) << 16; /* fall through */
	case 2: k1 ^= T(1) << 8; /* fall through */
	case 1:
		k1 ^= T(0);
		k1 *= c1;
		k1 = rotl(k1, 31);
		k1 *= c2;
		h1 ^= k1;
	}
#undef T
	h1 ^= len;
	h2 ^= len;
	h1 += h2;
	h2 += h1;
	h1 = fmix(h1);
	h2 = fmix(h2);
	h1 += h2;
	int64_t token = (int64_t)h1;
	return token == INT64_MIN ? INT64_MAX : token;
}
