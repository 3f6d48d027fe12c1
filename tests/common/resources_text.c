/* The text form of resources: good input, formatting, and exact error messages. */
#include "helpers.h"

/* Parses text that must fail; asserts the return code and the exact message. */
static void assert_parse_error(const char *text, int code, const char *message)
{
	char err[256] = "";
	px_resources *rs = (px_resources *)0x1;
	int rc = px_resources_parse(text, NULL, &rs, err, sizeof(err));
	cr_assert_eq(rc, code, "parse '%s': rc %d, want %d (%s)", text, rc, code, err);
	cr_assert_str_eq(err, message, "parse '%s'", text);
	cr_assert_eq(rs, (px_resources *)0x1, "output set on failure");
}

Test(text, parses_the_mesos_example)
{
	px_resources *rs = R("cpus:4;mem:8192;ports:[31000-32000];disks:{a,b}");
	cr_assert_eq(px_resources_size(rs), 4);
	cr_assert_eq(px_resources_scalar(rs, "cpus"), 4000);
	cr_assert_eq(px_resources_scalar(rs, "mem"), 8192000);
	assert_format(rs, "cpus:4; disks:{a, b}; mem:8192; ports:[31000-32000]");
	px_resources_free(rs);
}

Test(text, whitespace_roles_and_empty_tokens)
{
	px_resources *rs = R("  cpus ( web ) : 2 ;; mem:  1.5 ; ports:[ 1 - 2 , 4 ] ; ");
	assert_format(rs, "cpus(web):2; mem:1.5; ports:[1-2, 4-4]");
	px_resources_free(rs);
	rs = R("");
	cr_assert(px_resources_is_empty(rs));
	px_resources_free(rs);
	rs = R("ports:[];disks:{};cpus:0");
	cr_assert(px_resources_is_empty(rs));
	px_resources_free(rs);
}

Test(text, hierarchical_roles_and_star)
{
	px_resources *rs = R("cpus(eng/web):1;cpus(*):2");
	assert_format(rs, "cpus:2; cpus(eng/web):1");
	px_resources_free(rs);
}

Test(text, round_trip)
{
	const char *texts[] = {
	    "cpus:0.125; cpus(web):2; disks:{a, b}; mem:1024; ports:[1-5, 7-9]",
	    "gpus:1",
	    "",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		px_resources *rs = R(texts[i]);
		char *s = px_resources_format(rs);
		cr_assert_str_eq(s, texts[i]);
		px_resources *again = R(s);
		cr_assert(px_resources_equal(rs, again));
		free(s);
		px_resources_free(rs);
		px_resources_free(again);
	}
}

Test(text_errors, structure)
{
	assert_parse_error("cpus", PX_EINVAL, "resource 'cpus': missing ':' before the value");
	assert_parse_error("cpus:1;mem", PX_EINVAL, "resource 'mem': missing ':' before the value");
	assert_parse_error(":2", PX_EINVAL, "resource ':2': empty name");
	assert_parse_error("cpus:", PX_EINVAL, "resource 'cpus:': empty value");
	assert_parse_error("cpus(web:2", PX_EINVAL,
	                   "resource 'cpus(web:2': missing ')' after the role");
	assert_parse_error("cpus(web)x:2", PX_EINVAL,
	                   "resource 'cpus(web)x:2': expected ':' after ')'");
	assert_parse_error("cpus(web)", PX_EINVAL,
	                   "resource 'cpus(web)': missing ':' before the value");
	assert_parse_error("cpus)(:1", PX_EINVAL,
	                   "resource 'cpus)(:1': missing ')' after the role");
	assert_parse_error("cp)us(x):1", PX_EINVAL,
	                   "resource 'cp)us(x):1': invalid character ')' in name");
	assert_parse_error("c pu:1", PX_EINVAL, "resource 'c pu:1': invalid character ' ' in name");
	assert_parse_error(NULL, PX_EINVAL, "no resources text");
}

Test(text_errors, roles)
{
	assert_parse_error("cpus():1", PX_EINVAL,
	                   "resource 'cpus():1': invalid role '': role is empty");
	assert_parse_error(
	    "cpus(-a):1", PX_EINVAL,
	    "resource 'cpus(-a):1': invalid role '-a': role component cannot start with '-'");
	assert_parse_error(
	    "cpus(a//b):1", PX_EINVAL,
	    "resource 'cpus(a//b):1': invalid role 'a//b': role has an empty component");
	assert_parse_error(
	    "cpus(a/..):1", PX_EINVAL,
	    "resource 'cpus(a/..):1': invalid role 'a/..': role component cannot be '.' or '..'");
	assert_parse_error(
	    "cpus(a b):1", PX_EINVAL,
	    "resource 'cpus(a b):1': invalid role 'a b': role contains a blank, control "
	    "character or '\\'");
}

Test(text_errors, scalars)
{
	assert_parse_error("mem:abc", PX_EINVAL, "resource 'mem:abc': invalid scalar 'abc'");
	assert_parse_error("mem:1.2.3", PX_EINVAL, "resource 'mem:1.2.3': invalid scalar '1.2.3'");
	assert_parse_error("mem:nan", PX_EINVAL, "resource 'mem:nan': invalid scalar 'nan'");
	assert_parse_error("mem:-1", PX_EINVAL, "resource 'mem:-1': scalar '-1' is negative");
	assert_parse_error("mem:1e300", PX_EINVAL,
	                   "resource 'mem:1e300': scalar '1e300' is too large");
}

Test(text_errors, ranges)
{
	assert_parse_error("ports:[1-5", PX_EINVAL,
	                   "resource 'ports:[1-5': missing ']' at the end of ranges");
	assert_parse_error("ports:[1-x]", PX_EINVAL, "resource 'ports:[1-x]': invalid range '1-x'");
	assert_parse_error("ports:[-5]", PX_EINVAL, "resource 'ports:[-5]': invalid range '-5'");
	assert_parse_error("ports:[5-1]", PX_EINVAL,
	                   "resource 'ports:[5-1]': range '5-1' has begin greater than end");
	assert_parse_error("ports:[1-2,,3]", PX_EINVAL,
	                   "resource 'ports:[1-2,,3]': empty range in ranges");
	assert_parse_error(
	    "ports:[99999999999999999999]", PX_EINVAL,
	    "resource 'ports:[99999999999999999999]': invalid range '99999999999999999999'");
}

Test(text_errors, sets)
{
	assert_parse_error("disks:{a,b", PX_EINVAL,
	                   "resource 'disks:{a,b': missing '}' at the end of set");
	assert_parse_error("disks:{a,a}", PX_EINVAL,
	                   "resource 'disks:{a,a}': duplicate item 'a' in set");
	assert_parse_error("disks:{a,,b}", PX_EINVAL, "resource 'disks:{a,,b}': empty item in set");
	assert_parse_error("disks:{a b}", PX_EINVAL,
	                   "resource 'disks:{a b}': invalid character ' ' in set item 'a b'");
}

Test(text_errors, sum_too_large)
{
	assert_parse_error("cpus:9000000000000;cpus:9000000000000", PX_ERANGE,
	                   "resource 'cpus:9000000000000': sum is too large");
}

Test(text_errors, json_syntax)
{
	assert_parse_error(
	    "[{", PX_EINVAL,
	    "resources JSON, line 1 column 2: string or '}' expected near end of file");
}
