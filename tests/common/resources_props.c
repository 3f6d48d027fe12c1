/* Properties of the arithmetic on random sets, and robustness of the decoders on
 * random input. A fixed seed keeps every run the same. */
#include <stdio.h>
#include <string.h>

#include "common/json_pb.h"
#include "helpers.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random set in text form over a few names, roles and value types. */
static void random_text(char *buf, size_t len)
{
	static const char *roles[] = {"", "(web)", "(eng/x)"};
	size_t n = 0;
	buf[0] = '\0';
	int count = (int)(rnd() % 6);
	for (int i = 0; i < count; i++) {
		const char *role = roles[rnd() % 3];
		switch (rnd() % 3) {
		case 0:
			n += (size_t)snprintf(buf + n, len - n, "cpus%s:%u.%03u;", role,
			                      (unsigned)(rnd() % 8), (unsigned)(rnd() % 1000));
			break;
		case 1: {
			unsigned b = (unsigned)(rnd() % 100), e = b + (unsigned)(rnd() % 20);
			unsigned b2 = (unsigned)(rnd() % 100), e2 = b2 + (unsigned)(rnd() % 5);
			n += (size_t)snprintf(buf + n, len - n, "ports%s:[%u-%u,%u-%u];", role, b,
			                      e, b2, e2);
			break;
		}
		default:
			n += (size_t)snprintf(buf + n, len - n, "disks%s:{d%u,e%u};", role,
			                      (unsigned)(rnd() % 4), (unsigned)(rnd() % 4));
			break;
		}
	}
}

Test(properties, add_subtract_contains)
{
	char ta[512], tb[512];
	for (int iter = 0; iter < 2000; iter++) {
		random_text(ta, sizeof(ta));
		random_text(tb, sizeof(tb));
		px_resources *a = R(ta), *b = R(tb);

		px_resources *sum = px_resources_copy(a);
		cr_assert_eq(px_resources_add(sum, b), PX_OK);
		cr_assert(px_resources_contains(sum, a), "%s + %s does not contain %s", ta, tb, ta);
		cr_assert(px_resources_contains(sum, b), "%s + %s does not contain %s", ta, tb, tb);

		/* Addition commutes. */
		px_resources *sum2 = px_resources_copy(b);
		cr_assert_eq(px_resources_add(sum2, a), PX_OK);
		cr_assert(px_resources_equal(sum, sum2), "%s + %s is not commutative", ta, tb);

		/* (a - b) + b covers a; a - b is inside a. */
		px_resources *diff = px_resources_copy(a);
		cr_assert_eq(px_resources_subtract(diff, b), PX_OK);
		cr_assert(px_resources_contains(a, diff), "%s - %s not inside %s", ta, tb, ta);
		cr_assert_eq(px_resources_add(diff, b), PX_OK);
		cr_assert(px_resources_contains(diff, a), "(%s - %s) + %s does not cover it", ta,
		          tb, tb);

		/* contains both ways is equality. */
		cr_assert_eq(px_resources_contains(a, b) && px_resources_contains(b, a),
		             px_resources_equal(a, b), "%s vs %s", ta, tb);

		/* Text and JSON round trips. */
		char *s = px_resources_format(sum);
		px_resources *back = R(s);
		cr_assert(px_resources_equal(sum, back), "text round trip of %s", s);
		json_t *j = px_resources_to_json(sum);
		char err[256] = "";
		px_resources *back2 = NULL;
		cr_assert_eq(px_resources_from_json(j, &back2, err, sizeof(err)), PX_OK, "%s", err);
		cr_assert(px_resources_equal(sum, back2), "JSON round trip of %s", s);
		json_decref(j);
		free(s);

		px_resources *all[] = {a, b, sum, sum2, diff, back, back2};
		for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			px_resources_free(all[k]);
	}
}

Test(robustness, random_text_never_crashes)
{
	static const char alphabet[] = "cpus:;()[]{},-.0123456789 a*/e";
	char buf[48];
	int ok = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % (sizeof(buf) - 1);
		for (size_t i = 0; i < n; i++)
			buf[i] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		buf[n] = '\0';
		char err[256] = "";
		px_resources *rs = NULL;
		int rc = px_resources_parse(buf, NULL, &rs, err, sizeof(err));
		if (rc == PX_OK) {
			ok++;
			char *s = px_resources_format(rs);
			px_resources *again = R(s);
			cr_assert(px_resources_equal(rs, again), "'%s' -> '%s'", buf, s);
			free(s);
			px_resources_free(again);
			px_resources_free(rs);
		} else {
			cr_assert_neq(err[0], '\0', "no message for '%s'", buf);
			cr_assert_null(rs);
		}
	}
	cr_assert_gt(ok, 0);
}

Test(robustness, random_protobuf_bytes_never_crash)
{
	px_resources *rs = R("cpus(web):1;ports:[1-9];disks:{a,b}");
	Plexus__Resource **v;
	size_t n;
	cr_assert_eq(px_resources_to_pb(rs, PX_PB_REFINED, &v, &n), PX_OK);
	uint8_t good[256];
	size_t len = plexus__resource__pack(v[2], good);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t buf[256];
		memcpy(buf, good, len);
		int flips = 1 + (int)(rnd() % 4);
		for (int k = 0; k < flips; k++)
			buf[rnd() % len] = (uint8_t)rnd();
		Plexus__Resource *r = plexus__resource__unpack(NULL, len, buf);
		if (r == NULL)
			continue;
		char err[256] = "";
		px_resources *out = NULL;
		if (px_resources_from_pb(&r, 1, &out, err, sizeof(err)) == PX_OK) {
			json_t *j = px_resources_to_json(out);
			cr_assert_not_null(j);
			json_decref(j);
			px_resources_free(out);
		} else {
			cr_assert_neq(err[0], '\0');
		}
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	px_pb_resources_free(v, n);
	px_resources_free(rs);
}
