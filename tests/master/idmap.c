/* The master's id index: puts, gets and deletes agree with a plain array through
 * growth and many deletions. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "master/idmap.h"

#define N 5000

static char keys[N][32];
static int present[N];

Test(idmap, agrees_with_a_reference_through_growth_and_deletes)
{
	struct mst_idmap m = {0};

	cr_assert_null(mst_idmap_get(&m, "nothing"));
	mst_idmap_del(&m, "nothing");
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "fw-%04d-%d", i, i * 7919 % 113);
		cr_assert_eq(mst_idmap_put(&m, keys[i], &present[i]), 0);
		present[i] = 1;
	}
	cr_assert_eq(m.n, N);
	/* Delete two thirds, re-add a half of those, in a scattered order. */
	for (int i = 0; i < N; i++) {
		if (i % 3 != 0) {
			mst_idmap_del(&m, keys[i]);
			present[i] = 0;
		}
	}
	for (int i = 0; i < N; i += 2) {
		if (!present[i]) {
			cr_assert_eq(mst_idmap_put(&m, keys[i], &present[i]), 0);
			present[i] = 1;
		}
	}
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		void *v = mst_idmap_get(&m, keys[i]);
		if (present[i]) {
			live++;
			cr_assert_eq(v, &present[i], "%s", keys[i]);
		} else {
			cr_assert_null(v, "%s", keys[i]);
		}
	}
	cr_assert_eq(m.n, live);
	/* Replacing keeps one entry. */
	cr_assert_eq(mst_idmap_put(&m, keys[0], &present[1]), 0);
	cr_assert_eq(mst_idmap_get(&m, keys[0]), &present[1]);
	cr_assert_eq(m.n, live);
	mst_idmap_fini(&m);
	cr_assert_null(mst_idmap_get(&m, keys[0]));
}
