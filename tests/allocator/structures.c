/* The core's building blocks against simple models: the hash maps under random
 * inserts and deletes (backward-shift deletion must keep every key reachable), and
 * the skip-list sorter under random inserts, removals and re-keying. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "master/allocator/maps.h"
#include "master/allocator/sorter.h"

static uint64_t rng = 42;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#define KEYS 500

Test(structures, strmap_matches_a_model)
{
	struct strmap m = {0};
	int model[KEYS];
	memset(model, 0, sizeof(model));
	for (int step = 0; step < 50000; step++) {
		int k = (int)rnd(KEYS);
		char key[16];
		snprintf(key, sizeof(key), "k%d", k);
		if (rnd(3) == 0) {
			void *v = strmap_del(&m, key);
			cr_assert_eq(v, model[k] ? (void *)(intptr_t)model[k] : NULL, "del %s",
			             key);
			model[k] = 0;
		} else {
			int v = step + 1;
			cr_assert_eq(strmap_put(&m, key, (void *)(intptr_t)v), 0);
			model[k] = v;
		}
		if (step % 997 == 0) {
			size_t n = 0;
			for (int i = 0; i < KEYS; i++) {
				snprintf(key, sizeof(key), "k%d", i);
				void *v = strmap_get(&m, key);
				cr_assert_eq(v, model[i] ? (void *)(intptr_t)model[i] : NULL,
				             "get %s", key);
				n += model[i] != 0;
			}
			cr_assert_eq(m.n, n);
		}
	}
	strmap_fini(&m);
}

Test(structures, u64map_matches_a_model)
{
	struct u64map m = {0};
	int model[KEYS];
	memset(model, 0, sizeof(model));
	for (int step = 0; step < 50000; step++) {
		uint64_t k = 1 + rnd(KEYS - 1);
		if (rnd(3) == 0) {
			void *v = u64map_del(&m, k);
			cr_assert_eq(v, model[k] ? (void *)(intptr_t)model[k] : NULL);
			model[k] = 0;
		} else {
			int v = step + 1;
			cr_assert_eq(u64map_put(&m, k, (void *)(intptr_t)v), 0);
			model[k] = v;
		}
		if (step % 997 == 0)
			for (uint64_t i = 1; i < KEYS; i++)
				cr_assert_eq(u64map_get(&m, i),
				             model[i] ? (void *)(intptr_t)model[i] : NULL);
	}
	u64map_fini(&m);
}

static void check_sorted(const struct sorter *s, size_t expect)
{
	size_t n = 0;
	const struct slot *prev = NULL;
	for (const struct slot *x = sorter_first(s); x != NULL; x = x->next[0], n++) {
		cr_assert(x->in);
		if (prev != NULL)
			cr_assert(prev->share < x->share ||
			              (prev->share == x->share &&
			               (prev->allocs < x->allocs ||
			                (prev->allocs == x->allocs && prev->seq < x->seq))),
			          "out of order at %zu", n);
		prev = x;
	}
	cr_assert_eq(n, expect);
	cr_assert_eq(s->n, expect);
}

Test(structures, sorter_keeps_order_under_rekeying)
{
	enum { N = 300 };
	static struct slot slots[N];
	struct sorter s;
	sorter_init(&s, 7);
	memset(slots, 0, sizeof(slots));
	size_t in = 0;
	for (int i = 0; i < N; i++)
		slots[i].seq = (uint64_t)i + 1;
	for (int step = 0; step < 20000; step++) {
		struct slot *x = &slots[rnd(N)];
		if (!x->in) {
			x->share = rnd(50) / 50.0; /* many ties */
			x->allocs = rnd(3);
			sorter_insert(&s, x);
			in++;
		} else if (rnd(4) == 0) {
			sorter_remove(&s, x);
			in--;
		} else {
			sorter_remove(&s, x);
			x->share = rnd(50) / 50.0;
			x->allocs += 1;
			sorter_insert(&s, x);
		}
		if (step % 101 == 0)
			check_sorted(&s, in);
	}
	check_sorted(&s, in);
}
