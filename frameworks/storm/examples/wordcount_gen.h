/* wordcount_gen.h — the sentences of the word-count example, a pure function of their
 * id, so that a test can compute the exact reference counts. */
#ifndef STM_WORDCOUNT_GEN_H
#define STM_WORDCOUNT_GEN_H

#include <stdint.h>
#include <stdio.h>

#define WC_VOCABULARY 200

/* Writes sentence id (4 to 11 words "w<k>" separated by single spaces) into out and
 * returns its length. size >= 128 is enough. */
static inline int wc_sentence(uint64_t id, char *out, size_t size)
{
	uint64_t x = id * 6364136223846793005ULL + 1442695040888963407ULL;
	int words = 4 + (int)((x >> 33) % 8), len = 0;
	for (int i = 0; i < words && (size_t)len + 8 < size; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		len += snprintf(out + len, size - (size_t)len, i ? " w%d" : "w%d",
		                (int)((x >> 33) % WC_VOCABULARY));
	}
	return len;
}

#endif
