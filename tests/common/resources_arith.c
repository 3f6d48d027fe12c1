/* Arithmetic of resource sets: precision, add, subtract, contains, roles, views. */
#include "helpers.h"

/* a op= b where both are given as text; returns a. */
static px_resources *added(const char *a, const char *b)
{
	px_resources *x = R(a), *y = R(b);
	cr_assert_eq(px_resources_add(x, y), PX_OK);
	px_resources_free(y);
	return x;
}

static px_resources *subtracted(const char *a, const char *b)
{
	px_resources *x = R(a), *y = R(b);
	cr_assert_eq(px_resources_subtract(x, y), PX_OK);
	px_resources_free(y);
	return x;
}

static bool contains(const char *a, const char *b)
{
	px_resources *x = R(a), *y = R(b);
	bool c = px_resources_contains(x, y);
	px_resources_free(x);
	px_resources_free(y);
	return c;
}

Test(precision, tenths_add_exactly)
{
	px_resources *rs = added("cpus:0.1", "cpus:0.2");
	px_resources *want = R("cpus:0.3");
	cr_assert(px_resources_equal(rs, want));
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 300);
	assert_format(rs, "cpus:0.3");
	px_resources_free(rs);
	px_resources_free(want);
}

Test(precision, many_small_additions_do_not_drift)
{
	px_resources *rs = px_resources_new();
	px_resources *tenth = R("cpus:0.1");
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(px_resources_add(rs, tenth), PX_OK);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 100000);
	for (int i = 0; i < 999; i++)
		cr_assert_eq(px_resources_subtract(rs, tenth), PX_OK);
	assert_format(rs, "cpus:0.1");
	px_resources_free(rs);
	px_resources_free(tenth);
}

Test(precision, rounds_to_three_decimals)
{
	px_resources *rs = R("cpus:0.0004;mem:1.0005;disk:2.12345");
	/* 0.0004 rounds to zero and is dropped. */
	assert_format(rs, "disk:2.123; mem:1.001");
	px_resources_free(rs);
	int64_t m;
	cr_assert_eq(px_scalar_from_double(0.1 + 0.2, &m), PX_OK);
	cr_assert_eq(m, 300);
	cr_assert_eq(px_scalar_from_double(-1, &m), PX_EINVAL);
	cr_assert_eq(px_scalar_from_double(1e300, &m), PX_ERANGE);
}

Test(precision, scalar_format)
{
	char buf[32];
	cr_assert_str_eq(px_scalar_format(2000, buf, sizeof(buf)), "2");
	cr_assert_str_eq(px_scalar_format(500, buf, sizeof(buf)), "0.5");
	cr_assert_str_eq(px_scalar_format(125, buf, sizeof(buf)), "0.125");
	cr_assert_str_eq(px_scalar_format(8192010, buf, sizeof(buf)), "8192.01");
}

Test(add, merges_same_identity_and_keeps_order)
{
	px_resources *rs = added("mem:1024;cpus:1", "cpus:2;disk:10");
	assert_format(rs, "cpus:3; disk:10; mem:1024");
	cr_assert_eq(px_resources_size(rs), 3);
	px_resources_free(rs);
}

Test(add, ranges_coalesce)
{
	px_resources *rs = added("ports:[1-3, 10-12]", "ports:[4-6, 11-20, 30]");
	assert_format(rs, "ports:[1-6, 10-20, 30-30]");
	px_resources_free(rs);
}

Test(add, sets_union)
{
	px_resources *rs = added("disks:{b,a}", "disks:{c, a}");
	assert_format(rs, "disks:{a, b, c}");
	px_resources_free(rs);
}

Test(add, to_itself_doubles)
{
	px_resources *rs = R("cpus:1.5;ports:[1-2]");
	cr_assert_eq(px_resources_add(rs, rs), PX_OK);
	assert_format(rs, "cpus:3; ports:[1-2]");
	px_resources_free(rs);
}

Test(add, overflow_is_an_error)
{
	px_resources *rs = px_resources_new();
	cr_assert_eq(px_resources_add_scalar(rs, "cpus", NULL, PX_SCALAR_MAX), PX_OK);
	px_resources *one = R("cpus:1");
	cr_assert_eq(px_resources_add(rs, one), PX_ERANGE);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), PX_SCALAR_MAX);
	px_resources_free(rs);
	px_resources_free(one);
}

Test(add, add_scalar_validates)
{
	px_resources *rs = px_resources_new();
	cr_assert_eq(px_resources_add_scalar(rs, "cpus", "web", 2000), PX_OK);
	cr_assert_eq(px_resources_add_scalar(rs, "cpus", "*", 1000), PX_OK);
	cr_assert_eq(px_resources_add_scalar(rs, "", NULL, 1), PX_EINVAL);
	cr_assert_eq(px_resources_add_scalar(rs, "cpus", "-bad", 1), PX_EINVAL);
	cr_assert_eq(px_resources_add_scalar(rs, "cpus", NULL, -1), PX_EINVAL);
	assert_format(rs, "cpus:1; cpus(web):2");
	px_resources_free(rs);
}

Test(subtract, scalars_and_removal_of_empty)
{
	px_resources *rs = subtracted("cpus:4;mem:1024", "cpus:4;mem:24");
	assert_format(rs, "mem:1000");
	cr_assert_eq(px_resources_size(rs), 1);
	px_resources_free(rs);
}

Test(subtract, saturates_at_zero_like_mesos)
{
	px_resources *rs = subtracted("cpus:1;mem:10", "cpus:2;gpus:1");
	assert_format(rs, "mem:10");
	px_resources_free(rs);
}

Test(subtract, ranges_split)
{
	px_resources *rs = subtracted("ports:[31000-32000]", "ports:[31000, 31500-31600, 32000]");
	assert_format(rs, "ports:[31001-31499, 31601-31999]");
	px_resources_free(rs);
	rs = subtracted("ports:[1-10]", "ports:[1-10]");
	cr_assert(px_resources_is_empty(rs));
	px_resources_free(rs);
}

Test(subtract, ranges_many_intervals_past_stack_buffer)
{
	px_resources *rs = px_resources_new(), *holes = px_resources_new();
	char buf[64];
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "ports:[%d-%d]", i * 10, i * 10 + 5);
		px_resources *a = R(buf);
		cr_assert_eq(px_resources_add(rs, a), PX_OK);
		px_resources_free(a);
		snprintf(buf, sizeof(buf), "ports:[%d]", i * 10 + 2);
		a = R(buf);
		cr_assert_eq(px_resources_add(holes, a), PX_OK);
		px_resources_free(a);
	}
	cr_assert_eq(px_resources_subtract(rs, holes), PX_OK);
	size_t n;
	const struct px_range *r = px_resource_ranges(px_resources_at(rs, 0), &n);
	cr_assert_eq(n, 200);
	cr_assert_eq(r[0].begin, 0);
	cr_assert_eq(r[0].end, 1);
	cr_assert_eq(r[1].begin, 3);
	cr_assert_eq(r[1].end, 5);
	cr_assert(!px_resources_contains(rs, holes));
	px_resources_free(rs);
	px_resources_free(holes);
}

Test(subtract, sets)
{
	px_resources *rs = subtracted("disks:{a,b,c}", "disks:{b,z}");
	assert_format(rs, "disks:{a, c}");
	px_resources_free(rs);
}

Test(subtract, from_itself_empties)
{
	px_resources *rs = R("cpus:1;disks:{a}");
	cr_assert_eq(px_resources_subtract(rs, rs), PX_OK);
	cr_assert(px_resources_is_empty(rs));
	px_resources_free(rs);
}

Test(contains, scalars)
{
	cr_assert(contains("cpus:2;mem:1024", "cpus:2"));
	cr_assert(contains("cpus:2;mem:1024", "cpus:1.999;mem:1024"));
	cr_assert(!contains("cpus:2;mem:1024", "cpus:2.001"));
	cr_assert(!contains("cpus:2", "gpus:1"));
	cr_assert(contains("cpus:2", ""));
	cr_assert(contains("", ""));
}

Test(contains, ranges)
{
	cr_assert(contains("ports:[1-10, 20-30]", "ports:[2-3, 25, 30]"));
	cr_assert(!contains("ports:[1-10, 20-30]", "ports:[9-21]"));
	cr_assert(!contains("ports:[1-10]", "ports:[11]"));
	cr_assert(!contains("ports:[5-10]", "ports:[4]"));
}

Test(contains, sets)
{
	cr_assert(contains("disks:{a,b,c}", "disks:{a,c}"));
	cr_assert(!contains("disks:{a,b,c}", "disks:{a,d}"));
}

Test(roles, reserved_and_unreserved_never_merge)
{
	px_resources *rs = added("cpus(web):2", "cpus:2");
	cr_assert_eq(px_resources_size(rs), 2);
	assert_format(rs, "cpus:2; cpus(web):2");
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 4000);
	px_resources_free(rs);

	cr_assert(!contains("cpus:4", "cpus(web):1"));
	cr_assert(!contains("cpus(web):4", "cpus:1"));
	cr_assert(!contains("cpus(web):4", "cpus(db):1"));
	cr_assert(contains("cpus(web):4;cpus:1", "cpus(web):3;cpus:1"));

	rs = subtracted("cpus(web):2;cpus:2", "cpus:2");
	assert_format(rs, "cpus(web):2");
	px_resources_free(rs);
}

Test(roles, default_role_applies_to_text)
{
	char err[128];
	px_resources *rs;
	cr_assert_eq(px_resources_parse("cpus:1;mem(*):5", "web", &rs, err, sizeof(err)), PX_OK);
	assert_format(rs, "cpus(web):1; mem:5");
	px_resources_free(rs);
}

Test(views, reserved_unreserved_allocatable)
{
	px_resources *rs = R("cpus:1;cpus(eng):2;cpus(eng/web):3;cpus(ops):4");
	px_resources *v;
	cr_assert_eq(px_resources_unreserved(rs, &v), PX_OK);
	assert_format(v, "cpus:1");
	px_resources_free(v);
	cr_assert_eq(px_resources_reserved(rs, "eng", &v), PX_OK);
	assert_format(v, "cpus(eng):2");
	px_resources_free(v);
	cr_assert_eq(px_resources_reserved(rs, NULL, &v), PX_OK);
	cr_assert_eq(px_resources_size(v), 3);
	px_resources_free(v);
	cr_assert_eq(px_resources_allocatable_to(rs, "eng/web", &v), PX_OK);
	assert_format(v, "cpus:1; cpus(eng):2; cpus(eng/web):3");
	px_resources_free(v);
	cr_assert_eq(px_resources_allocatable_to(rs, "engine", &v), PX_OK);
	assert_format(v, "cpus:1");
	px_resources_free(v);
	px_resources_free(rs);
}

Test(views, flatten_and_quantities)
{
	px_resources *rs = R("cpus:1;cpus(eng):2;mem(ops):10;ports(ops):[1-5];ports:[6-7]");
	px_resources *v;
	cr_assert_eq(px_resources_flatten(rs, &v), PX_OK);
	assert_format(v, "cpus:3; mem:10; ports:[1-7]");
	px_resources_free(v);
	cr_assert_eq(px_resources_quantities(rs, &v), PX_OK);
	assert_format(v, "cpus:3; mem:10");
	px_resources_free(v);
	cr_assert_eq(px_resources_named(rs, "ports", &v), PX_OK);
	assert_format(v, "ports:[6-7]; ports(ops):[1-5]");
	px_resources_free(v);
	px_resources_free(rs);
}

Test(views, accessors)
{
	px_resources *rs = R("cpus(web):2;disks:{x};ports:[1-2]");
	const struct px_resource *r = px_resources_at(rs, 0);
	cr_assert_str_eq(px_resource_name(r), "cpus");
	cr_assert_eq(px_resource_type(r), PX_SCALAR);
	cr_assert_eq(px_resource_scalar(r), 2000);
	cr_assert_str_eq(px_resource_role(r), "web");
	cr_assert(px_resource_is_reserved(r));
	cr_assert(!px_resource_is_dynamic(r));
	size_t n;
	cr_assert_null(px_resource_ranges(r, &n));
	cr_assert_eq(n, 0);
	r = px_resources_at(rs, 1);
	const char *const *items = px_resource_items(r, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(items[0], "x");
	cr_assert_str_eq(px_resource_role(r), "*");
	cr_assert_null(px_resources_at(rs, 3));
	px_resources_free(rs);
}

Test(equal, canonical_regardless_of_input_order)
{
	px_resources *a = R("mem:1;cpus:1;ports:[5-6,1-2];disks:{b,a}");
	px_resources *b = R("disks:{a};ports:[1-2];cpus:0.5;disks:{b};cpus:0.5;mem:1;ports:[5-6]");
	cr_assert(px_resources_equal(a, b));
	px_resources *c = px_resources_copy(a);
	cr_assert(px_resources_equal(a, c));
	px_resources *one = R("cpus:0.001");
	cr_assert_eq(px_resources_add(c, one), PX_OK);
	cr_assert(!px_resources_equal(a, c));
	px_resources_free(a);
	px_resources_free(b);
	px_resources_free(c);
	px_resources_free(one);
}
