/* cql.c — the CQL parser: the statements of the subset parse into the right tree, and
 * bad statements get an error naming the line, the column and the mistake; key
 * encodings sort as CQL orders values. */
#include <criterion/criterion.h>
#include <string.h>

#include "cas_cql.h"
#include "cas_value.h"

static void parse_ok(const char *q, cas_stmt *st)
{
	char err[1024];
	cr_assert_eq(cas_cql_parse(q, st, err, sizeof(err)), 0, "%s: %s", q, err);
}

static void parse_err(const char *q, const char *want1, const char *want2)
{
	cas_stmt st;
	char err[1024] = "";
	cr_assert_neq(cas_cql_parse(q, &st, err, sizeof(err)), 0, "%s parsed", q);
	cr_assert(strstr(err, want1) != NULL, "%s: '%s' lacks '%s'", q, err, want1);
	if (want2)
		cr_assert(strstr(err, want2) != NULL, "%s: '%s' lacks '%s'", q, err, want2);
}

Test(cql, statements_parse_into_their_parts)
{
	cas_stmt st;
	parse_ok("CREATE KEYSPACE IF NOT EXISTS shop WITH replication = {'class': 'SimpleStrategy', "
	         "'replication_factor': 3};",
	         &st);
	cr_assert_eq(st.kind, CAS_STMT_CREATE_KEYSPACE);
	cr_assert(st.if_not_exists);
	cr_assert_str_eq(st.keyspace, "shop");
	cr_assert_eq(st.rf, 3);
	cas_stmt_fini(&st);

	parse_ok("create table Shop.Orders (cust text, day timestamp, n int, total double, "
	         "note blob, big bigint, PRIMARY KEY ((cust), day, n))",
	         &st);
	cr_assert_eq(st.kind, CAS_STMT_CREATE_TABLE);
	cr_assert_str_eq(st.keyspace, "shop");
	cr_assert_str_eq(st.table, "orders");
	cr_assert_eq(st.ncolumns, 6);
	cr_assert_eq(st.npartition, 1);
	cr_assert_eq(st.nclustering, 2);
	cr_assert_str_eq(st.clustering[1], "n");
	cr_assert_eq(st.columns[1].type, CAS_TIMESTAMP);
	cas_stmt_fini(&st);

	parse_ok("INSERT INTO t (a, b) VALUES ('it''s', 0xCAFE) USING TIMESTAMP 42 AND TTL 60", &st);
	cr_assert_eq(st.kind, CAS_STMT_INSERT);
	cr_assert_str_eq(st.values[0].text, "it's");
	cr_assert_eq(st.values[1].kind, CAS_LIT_BLOB);
	cr_assert(st.has_timestamp && st.timestamp == 42 && st.has_ttl && st.ttl == 60);
	cas_stmt_fini(&st);

	parse_ok("SELECT a, b FROM t WHERE a = 1 AND b >= 2 AND b < 9 ORDER BY b DESC LIMIT 3", &st);
	cr_assert_eq(st.nwhere, 3);
	cr_assert_eq(st.where[1].op, CAS_OP_GE);
	cr_assert(st.order_desc);
	cr_assert_eq(st.limit, 3);
	cas_stmt_fini(&st);

	parse_ok("DELETE v FROM ks.t USING TIMESTAMP 7 WHERE k = 'x' AND c = 1", &st);
	cr_assert_eq(st.kind, CAS_STMT_DELETE);
	cr_assert_eq(st.nnames, 1);
	cas_stmt_fini(&st);

	parse_ok("UPDATE t USING TTL 5 SET v = null, w = -1.5e3 WHERE k = 'x'", &st);
	cr_assert_eq(st.values[0].kind, CAS_LIT_NULL);
	cr_assert_eq(st.values[1].kind, CAS_LIT_FLOAT);
	cas_stmt_fini(&st);

	parse_ok("consistency quorum", &st);
	cr_assert(st.has_consistency && st.consistency == CAS_QUORUM);
	cas_stmt_fini(&st);
}

Test(cql, errors_point_at_the_mistake)
{
	parse_err("SELECT * FORM t", "line 1:9", "'FORM' expecting FROM");
	parse_err("SELECT * FROM t\nWHERE k = 'a' AND", "line 2:", "expecting a column name");
	parse_err("CREATE TABLE t (k text PRIMARY KEY, v counter)", "type 'counter' is not supported",
	          NULL);
	parse_err("CREATE TABLE t (k txt PRIMARY KEY)", "unknown type 'txt'", "line 1:18");
	parse_err("CREATE TABLE t (k text, v int)", "no PRIMARY KEY", NULL);
	parse_err("INSERT INTO t (a, b) VALUES (1)", "1 values", "2 names");
	parse_err("INSERT INTO t (a) VALUES ('x') USING TTL -5", "TTL", NULL);
	parse_err("SELECT * FROM t WHERE k = 'unterminated", "unterminated string", NULL);
	parse_err("CREATE KEYSPACE k WITH replication = {'class': 'NetworkTopologyStrategy'}",
	          "unsupported replication strategy", NULL);
	parse_err("SELECT * FROM t WHERE k = 1 LIMIT 0", "LIMIT must be strictly positive", NULL);
	parse_err("SELECT * FROM t; SELECT", "extraneous input", NULL);
	parse_err("CONSISTENCY TWO", "improper CONSISTENCY level 'two'", NULL);
	parse_err("FROB x", "expecting a statement", "line 1:0");
	/* The message shows the line with a caret under the mistake. */
	cas_stmt st;
	char err[1024];
	cr_assert_neq(cas_cql_parse("SELECT * FORM t", &st, err, sizeof(err)), 0);
	cr_assert(strstr(err, "\nSELECT * FORM t\n         ^") != NULL, "%s", err);
}

Test(cql, literals_convert_to_their_column_type_or_say_why_not)
{
	cas_literal lit = {.kind = CAS_LIT_STRING, .text = (char *)"abc", .line = 1, .col = 5};
	cas_value v;
	char err[256];
	cr_assert_not(cas_literal_to_value(&lit, CAS_INT, "age", &v, err, sizeof(err)));
	cr_assert(strstr(err, "invalid STRING constant (abc) for \"age\" of type int"), "%s", err);
	lit = (cas_literal){.kind = CAS_LIT_INT, .text = (char *)"4294967296"};
	cr_assert_not(cas_literal_to_value(&lit, CAS_INT, "n", &v, err, sizeof(err)));
	cr_assert(cas_literal_to_value(&lit, CAS_BIGINT, "n", &v, err, sizeof(err)));
	cr_assert_eq(v.i, 4294967296LL);
	lit = (cas_literal){.kind = CAS_LIT_STRING, .text = (char *)"2024-03-01 12:00:00.250"};
	cr_assert(cas_literal_to_value(&lit, CAS_TIMESTAMP, "ts", &v, err, sizeof(err)), "%s", err);
	cr_assert_eq(v.i, 1709294400250LL);
}

static int key_cmp(const cas_value *a, const cas_value *b)
{
	cas_wbuf x = {0}, y = {0};
	cas_value_put_key(&x, a);
	cas_value_put_key(&y, b);
	size_t n = x.len < y.len ? x.len : y.len;
	int c = memcmp(x.data, y.data, n);
	if (c == 0)
		c = x.len < y.len ? -1 : x.len > y.len;
	cas_wbuf_fini(&x);
	cas_wbuf_fini(&y);
	return c < 0 ? -1 : c > 0;
}

Test(cql, key_encodings_sort_as_cql_orders_values)
{
	int64_t ints[] = {INT32_MIN, -5, -1, 0, 1, 7, INT32_MAX};
	for (size_t i = 0; i + 1 < 7; i++) {
		cas_value a = {.type = CAS_INT, .i = ints[i]}, b = {.type = CAS_INT, .i = ints[i + 1]};
		cr_assert_eq(key_cmp(&a, &b), -1, "%lld vs %lld", (long long)ints[i], (long long)ints[i + 1]);
	}
	double ds[] = {-1e300, -2.5, -0.0, 0.5, 3, 1e300};
	for (size_t i = 0; i + 1 < 6; i++) {
		cas_value a = {.type = CAS_DOUBLE, .d = ds[i]}, b = {.type = CAS_DOUBLE, .d = ds[i + 1]};
		cr_assert_eq(key_cmp(&a, &b), -1, "%g vs %g", ds[i], ds[i + 1]);
	}
	const char *texts[] = {"", "a", "a\x01", "ab", "b"};
	for (size_t i = 0; i + 1 < 5; i++) {
		cas_value a = cas_value_text(texts[i]), b = cas_value_text(texts[i + 1]);
		cr_assert_eq(key_cmp(&a, &b), -1, "'%s' vs '%s'", texts[i], texts[i + 1]);
	}
	/* Key forms decode back to their values. */
	cas_value t = {.type = CAS_BLOB, .bytes = (uint8_t *)"a\0b", .len = 3}, back;
	cas_wbuf w = {0};
	cas_value_put_key(&w, &t);
	cas_rbuf r = cas_rbuf_of(w.data, w.len);
	cr_assert(cas_value_get_key(&r, CAS_BLOB, &back));
	cr_assert_eq(back.len, 3);
	cr_assert_eq(memcmp(back.bytes, "a\0b", 3), 0);
	cr_assert_eq(r.left, 0);
	cas_value_fini(&back);
	cas_wbuf_fini(&w);
}
