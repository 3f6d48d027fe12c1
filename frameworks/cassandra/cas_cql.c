/* cas_cql.c — a hand-written lexer and recursive-descent parser for the subset in
 * cas_cql.h. */
#include "cas_cql.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef enum tok_kind {
	T_EOF,
	T_IDENT,  /* unquoted: keywords too */
	T_QIDENT, /* "quoted" */
	T_STRING,
	T_INT,
	T_FLOAT,
	T_BLOB,
	T_PUNCT, /* ( ) , ; . = < <= > >= * { } : */
	T_BAD,
} tok_kind;

typedef struct tok {
	tok_kind kind;
	char *text; /* owned: identifiers folded to lower case, strings unquoted */
	char *raw;  /* owned: the token as written, for error messages */
	int line, col;
} tok;

typedef struct parser {
	const char *s;
	size_t pos;
	int line, col;
	tok cur;
	char *err;
	size_t errlen;
	bool failed;
} parser;

/* ---- lexer ------------------------------------------------------------------------ */

static void advance_char(parser *p)
{
	if (p->s[p->pos] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->pos++;
}

static void skip_space(parser *p)
{
	for (;;) {
		char c = p->s[p->pos];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			advance_char(p);
		} else if ((c == '-' && p->s[p->pos + 1] == '-') || (c == '/' && p->s[p->pos + 1] == '/')) {
			while (p->s[p->pos] && p->s[p->pos] != '\n')
				advance_char(p);
		} else if (c == '/' && p->s[p->pos + 1] == '*') {
			advance_char(p);
			advance_char(p);
			while (p->s[p->pos] && !(p->s[p->pos] == '*' && p->s[p->pos + 1] == '/'))
				advance_char(p);
			if (p->s[p->pos]) {
				advance_char(p);
				advance_char(p);
			}
		} else {
			return;
		}
	}
}

static void next(parser *p)
{
	free(p->cur.text);
	free(p->cur.raw);
	p->cur = (tok){0};
	skip_space(p);
	p->cur.line = p->line;
	p->cur.col = p->col;
	const char *s = p->s + p->pos;
	size_t start = p->pos;
	char c = *s;
	if (c == '\0') {
		p->cur.kind = T_EOF;
		p->cur.text = strdup("<EOF>");
		return;
	}
	if (isalpha((unsigned char)c) || c == '_') {
		while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_')
			advance_char(p);
		p->cur.kind = T_IDENT;
		p->cur.text = strndup(s, p->pos - start);
		p->cur.raw = strndup(s, p->pos - start);
		for (char *q = p->cur.text; q && *q; q++)
			*q = (char)tolower((unsigned char)*q);
		return;
	}
	if (c == '0' && (s[1] == 'x' || s[1] == 'X')) {
		advance_char(p);
		advance_char(p);
		while (isxdigit((unsigned char)p->s[p->pos]))
			advance_char(p);
		p->cur.kind = T_BLOB;
		p->cur.text = strndup(s, p->pos - start);
		return;
	}
	if (isdigit((unsigned char)c) || (c == '-' && isdigit((unsigned char)s[1]))) {
		bool fl = false;
		advance_char(p);
		while (isdigit((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.' ||
		       p->s[p->pos] == 'e' || p->s[p->pos] == 'E' ||
		       ((p->s[p->pos] == '-' || p->s[p->pos] == '+') &&
		        (p->s[p->pos - 1] == 'e' || p->s[p->pos - 1] == 'E'))) {
			fl |= p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E';
			advance_char(p);
		}
		p->cur.kind = fl ? T_FLOAT : T_INT;
		p->cur.text = strndup(s, p->pos - start);
		return;
	}
	if (c == '\'' || c == '"') {
		/* A doubled quote inside stands for one quote. */
		char q = c;
		size_t cap = 16, n = 0;
		char *out = malloc(cap);
		advance_char(p);
		for (;;) {
			char d = p->s[p->pos];
			if (d == '\0') {
				free(out);
				p->cur.kind = T_BAD;
				p->cur.text = strdup(q == '\'' ? "unterminated string" : "unterminated name");
				return;
			}
			advance_char(p);
			if (d == q) {
				if (p->s[p->pos] != q)
					break;
				advance_char(p);
			}
			if (out && n + 2 > cap) {
				cap *= 2;
				char *o2 = realloc(out, cap);
				if (o2 == NULL) {
					free(out);
					out = NULL;
				}
				out = o2;
			}
			if (out)
				out[n++] = d;
		}
		if (out)
			out[n] = '\0';
		p->cur.kind = q == '\'' ? T_STRING : T_QIDENT;
		p->cur.text = out;
		return;
	}
	static const char *const two[] = {"<=", ">="};
	for (int i = 0; i < 2; i++) {
		if (strncmp(s, two[i], 2) == 0) {
			advance_char(p);
			advance_char(p);
			p->cur.kind = T_PUNCT;
			p->cur.text = strdup(two[i]);
			return;
		}
	}
	if (strchr("(),;.=<>*{}:", c)) {
		advance_char(p);
		p->cur.kind = T_PUNCT;
		p->cur.text = strndup(s, 1);
		return;
	}
	advance_char(p);
	p->cur.kind = T_BAD;
	p->cur.text = strndup(s, 1);
}

/* ---- errors ----------------------------------------------------------------------- */

/* The statement's line with a caret under the column, as a second part of errors. */
static void context(parser *p, int line, int col, char *out, size_t n)
{
	const char *s = p->s;
	for (int l = 1; l < line && *s; s++)
		if (*s == '\n')
			l++;
	const char *e = strchr(s, '\n');
	int len = e ? (int)(e - s) : (int)strlen(s);
	snprintf(out, n, "\n%.*s\n%*s^", len, s, col - 1, "");
}

static void fail_at(parser *p, int line, int col, const char *fmt, const char *a, const char *b)
{
	if (p->failed)
		return;
	p->failed = true;
	char what[256], ctx[600];
	snprintf(what, sizeof(what), fmt, a, b);
	context(p, line, col, ctx, sizeof(ctx));
	snprintf(p->err, p->errlen, "SyntaxException: line %d:%d %s%s", line, col - 1, what, ctx);
}

static void expected(parser *p, const char *what)
{
	if (p->cur.kind == T_BAD)
		fail_at(p, p->cur.line, p->cur.col, "%s (expecting %s)", p->cur.text, what);
	else
		fail_at(p, p->cur.line, p->cur.col, "mismatched input '%s' expecting %s",
		        p->cur.raw ? p->cur.raw : p->cur.text, what);
}

/* ---- helpers ------------------------------------------------------------------------ */

static bool is_kw(parser *p, const char *kw)
{
	return !p->failed && p->cur.kind == T_IDENT && strcasecmp(p->cur.text, kw) == 0;
}

static bool accept_kw(parser *p, const char *kw)
{
	if (!is_kw(p, kw))
		return false;
	next(p);
	return true;
}

static bool expect_kw(parser *p, const char *kw)
{
	if (accept_kw(p, kw))
		return true;
	char upper[32];
	size_t i = 0;
	for (; kw[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)toupper((unsigned char)kw[i]);
	upper[i] = '\0';
	expected(p, upper);
	return false;
}

static bool is_punct(parser *p, const char *s)
{
	return !p->failed && p->cur.kind == T_PUNCT && strcmp(p->cur.text, s) == 0;
}

static bool accept_punct(parser *p, const char *s)
{
	if (!is_punct(p, s))
		return false;
	next(p);
	return true;
}

static bool expect_punct(parser *p, const char *s)
{
	if (accept_punct(p, s))
		return true;
	char what[8];
	snprintf(what, sizeof(what), "'%s'", s);
	expected(p, what);
	return false;
}

static const char *const reserved[] = {"select", "from",   "where",  "and",    "insert",
                                       "into",   "values", "update", "set",    "delete",
                                       "create", "drop",   "table",  "keyspace", "use",
                                       "using",  "limit",  "order",  "by",     "primary",
                                       "key",    "with",   NULL};

/* A name: an identifier that is not a reserved word, or a quoted one. Owned copy. */
static char *name(parser *p, const char *what)
{
	if (p->failed)
		return NULL;
	if (p->cur.kind == T_IDENT) {
		for (int i = 0; reserved[i]; i++) {
			if (strcmp(p->cur.text, reserved[i]) == 0) {
				fail_at(p, p->cur.line, p->cur.col,
				        "no viable alternative at input '%s' (expecting %s)", p->cur.text,
				        what);
				return NULL;
			}
		}
	}
	if (p->cur.kind != T_IDENT && p->cur.kind != T_QIDENT) {
		expected(p, what);
		return NULL;
	}
	char *n = strdup(p->cur.text);
	next(p);
	return n;
}

static bool push(void **v, size_t *n, size_t size, const void *item)
{
	void *nv = realloc(*v, (*n + 1) * size);
	if (nv == NULL)
		return false;
	memcpy((char *)nv + *n * size, item, size);
	*v = nv;
	(*n)++;
	return true;
}

#define PUSH(arr, n, item) push((void **)&(arr), &(n), sizeof(*(arr)), &(item))

static void table_name(parser *p, cas_stmt *st)
{
	char *a = name(p, "a table name");
	if (a && accept_punct(p, ".")) {
		st->keyspace = a;
		st->table = name(p, "a table name");
	} else {
		st->table = a;
	}
}

static bool literal(parser *p, cas_literal *out)
{
	*out = (cas_literal){.line = p->cur.line, .col = p->cur.col};
	switch (p->cur.kind) {
	case T_STRING:
		out->kind = CAS_LIT_STRING;
		break;
	case T_INT:
		out->kind = CAS_LIT_INT;
		break;
	case T_FLOAT:
		out->kind = CAS_LIT_FLOAT;
		break;
	case T_BLOB:
		out->kind = CAS_LIT_BLOB;
		break;
	default:
		if (is_kw(p, "null")) {
			out->kind = CAS_LIT_NULL;
			break;
		}
		expected(p, "a constant");
		return false;
	}
	out->text = strdup(p->cur.text ? p->cur.text : "");
	next(p);
	return out->text != NULL;
}

static bool integer(parser *p, int64_t *out, const char *what)
{
	if (p->cur.kind != T_INT) {
		expected(p, what);
		return false;
	}
	errno = 0;
	char *end;
	long long v = strtoll(p->cur.text, &end, 10);
	if (errno || *end) {
		fail_at(p, p->cur.line, p->cur.col, "integer '%s' out of range for %s", p->cur.text,
		        what);
		return false;
	}
	*out = v;
	next(p);
	return true;
}

/* USING TIMESTAMP n [AND TTL n] | USING TTL n [AND TIMESTAMP n] */
static void using_clause(parser *p, cas_stmt *st, bool ttl_allowed)
{
	if (!accept_kw(p, "using"))
		return;
	do {
		int64_t v;
		if (accept_kw(p, "timestamp")) {
			if (integer(p, &v, "a timestamp")) {
				st->has_timestamp = true;
				st->timestamp = v;
			}
		} else if (ttl_allowed && is_kw(p, "ttl")) {
			int line = p->cur.line, col = p->cur.col;
			next(p);
			if (integer(p, &v, "a TTL")) {
				if (v < 0 || v > 630720000) {
					fail_at(p, line, col, "TTL %s%s must be between 0 and 630720000 (20 years)",
					        "", "");
					return;
				}
				st->has_ttl = true;
				st->ttl = (int32_t)v;
			}
		} else {
			expected(p, ttl_allowed ? "TIMESTAMP or TTL" : "TIMESTAMP");
		}
	} while (!p->failed && accept_kw(p, "and"));
}

static void where_clause(parser *p, cas_stmt *st, bool ranges)
{
	if (!expect_kw(p, "where"))
		return;
	do {
		cas_relation r = {.line = p->cur.line, .col = p->cur.col};
		r.column = name(p, "a column name");
		if (p->failed) {
			free(r.column);
			return;
		}
		static const char *const ops[] = {"=", "<", "<=", ">", ">="};
		int op = -1;
		for (int i = 0; i < 5 && p->cur.kind == T_PUNCT; i++)
			if (strcmp(p->cur.text, ops[i]) == 0)
				op = i;
		if (op < 0 || (!ranges && op != 0)) {
			expected(p, ranges ? "a relation (=, <, <=, >, >=)" : "'='");
			free(r.column);
			return;
		}
		next(p);
		r.op = (cas_op)op;
		if (!literal(p, &r.value) || !PUSH(st->where, st->nwhere, r)) {
			free(r.column);
			free(r.value.text);
			return;
		}
	} while (accept_kw(p, "and"));
}

/* ---- statements ---------------------------------------------------------------------- */

static void create_keyspace(parser *p, cas_stmt *st)
{
	st->kind = CAS_STMT_CREATE_KEYSPACE;
	if (accept_kw(p, "if")) {
		if (expect_kw(p, "not"))
			expect_kw(p, "exists");
		st->if_not_exists = true;
	}
	st->keyspace = name(p, "a keyspace name");
	if (!expect_kw(p, "with") || !expect_kw(p, "replication") || !expect_punct(p, "=") ||
	    !expect_punct(p, "{"))
		return;
	bool simple = false;
	do {
		int line = p->cur.line, col = p->cur.col;
		if (p->cur.kind != T_STRING) {
			expected(p, "a replication option name");
			return;
		}
		char *opt = strdup(p->cur.text);
		next(p);
		cas_literal v;
		if (!expect_punct(p, ":") || !literal(p, &v)) {
			free(opt);
			return;
		}
		if (opt && strcmp(opt, "class") == 0) {
			simple = strcmp(v.text, "SimpleStrategy") == 0 ||
			         strcmp(v.text, "org.apache.cassandra.locator.SimpleStrategy") == 0;
			if (!simple)
				fail_at(p, v.line, v.col,
				        "unsupported replication strategy '%s'%s (only SimpleStrategy)", v.text,
				        "");
		} else if (opt && strcmp(opt, "replication_factor") == 0) {
			char *end;
			long rf = strtol(v.text, &end, 10);
			if (*end || rf < 1 || rf > 16)
				fail_at(p, v.line, v.col,
				        "replication_factor must be an integer between 1 and 16, not '%s'%s",
				        v.text, "");
			st->rf = (int)rf;
		} else {
			fail_at(p, line, col, "unknown replication option '%s'%s", opt ? opt : "", "");
		}
		free(opt);
		free(v.text);
	} while (accept_punct(p, ","));
	if (!expect_punct(p, "}"))
		return;
	if (!p->failed && (!simple || st->rf == 0))
		fail_at(p, p->cur.line, p->cur.col,
		        "replication needs 'class': 'SimpleStrategy' and a 'replication_factor'%s%s", "",
		        "");
}

static void create_table(parser *p, cas_stmt *st)
{
	st->kind = CAS_STMT_CREATE_TABLE;
	if (accept_kw(p, "if")) {
		if (expect_kw(p, "not"))
			expect_kw(p, "exists");
		st->if_not_exists = true;
	}
	table_name(p, st);
	if (!expect_punct(p, "("))
		return;
	do {
		if (is_kw(p, "primary")) {
			next(p);
			if (!expect_kw(p, "key") || !expect_punct(p, "("))
				return;
			if (st->npartition) {
				fail_at(p, p->cur.line, p->cur.col, "multiple PRIMARY KEY definitions%s%s", "",
				        "");
				return;
			}
			if (accept_punct(p, "(")) {
				do {
					char *k = name(p, "a partition key column");
					if (!k || !PUSH(st->partition_key, st->npartition, k)) {
						free(k);
						return;
					}
				} while (accept_punct(p, ","));
				if (!expect_punct(p, ")"))
					return;
			} else {
				char *k = name(p, "a partition key column");
				if (!k || !PUSH(st->partition_key, st->npartition, k)) {
					free(k);
					return;
				}
			}
			while (accept_punct(p, ",")) {
				char *k = name(p, "a clustering column");
				if (!k || !PUSH(st->clustering, st->nclustering, k)) {
					free(k);
					return;
				}
			}
			if (!expect_punct(p, ")"))
				return;
			continue;
		}
		cas_column_def c = {0};
		c.name = name(p, "a column definition");
		if (c.name == NULL)
			return;
		int line = p->cur.line, col = p->cur.col;
		if (p->cur.kind != T_IDENT || !cas_type_parse(p->cur.text, &c.type)) {
			char *found = strdup(p->cur.text ? p->cur.text : "");
			free(c.name);
			if (p->cur.kind == T_IDENT && found &&
			    (strcmp(found, "counter") == 0 || strcmp(found, "uuid") == 0 ||
			     strcmp(found, "boolean") == 0 || strcmp(found, "float") == 0))
				fail_at(p, line, col, "type '%s' is not supported%s (text, int, bigint, "
				                      "double, blob, timestamp)",
				        found, "");
			else
				fail_at(p, line, col, "unknown type '%s'%s (expecting text, int, bigint, "
				                      "double, blob or timestamp)",
				        found ? found : "", "");
			free(found);
			return;
		}
		next(p);
		if (!PUSH(st->columns, st->ncolumns, c)) {
			free(c.name);
			return;
		}
		if (accept_kw(p, "primary")) {
			if (!expect_kw(p, "key"))
				return;
			if (st->npartition) {
				fail_at(p, line, col, "multiple PRIMARY KEY definitions%s%s", "", "");
				return;
			}
			char *k = strdup(c.name);
			if (!k || !PUSH(st->partition_key, st->npartition, k)) {
				free(k);
				return;
			}
		}
	} while (accept_punct(p, ","));
	if (!expect_punct(p, ")"))
		return;
	if (is_kw(p, "with"))
		fail_at(p, p->cur.line, p->cur.col, "table options (WITH ...) are not supported%s%s",
		        "", "");
	else if (!p->failed && st->npartition == 0)
		fail_at(p, p->cur.line, p->cur.col, "no PRIMARY KEY specified for table %s%s",
		        st->table ? st->table : "", "");
}

static void insert(parser *p, cas_stmt *st)
{
	st->kind = CAS_STMT_INSERT;
	if (!expect_kw(p, "into"))
		return;
	table_name(p, st);
	if (!expect_punct(p, "("))
		return;
	do {
		char *n = name(p, "a column name");
		if (!n || !PUSH(st->names, st->nnames, n)) {
			free(n);
			return;
		}
	} while (accept_punct(p, ","));
	if (!expect_punct(p, ")") || !expect_kw(p, "values") || !expect_punct(p, "("))
		return;
	do {
		cas_literal v;
		if (!literal(p, &v))
			return;
		if (!PUSH(st->values, st->nvalues, v)) {
			free(v.text);
			return;
		}
	} while (accept_punct(p, ","));
	int line = p->cur.line, col = p->cur.col;
	if (!expect_punct(p, ")"))
		return;
	if (st->nvalues != st->nnames) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "%zu", st->nnames);
		snprintf(b, sizeof(b), "%zu", st->nvalues);
		fail_at(p, line, col, "unmatched column names/values: %s names, %s values", a, b);
		return;
	}
	using_clause(p, st, true);
}

static void update(parser *p, cas_stmt *st)
{
	st->kind = CAS_STMT_UPDATE;
	table_name(p, st);
	using_clause(p, st, true);
	if (!expect_kw(p, "set"))
		return;
	do {
		char *n = name(p, "a column name");
		cas_literal v = {0};
		if (!n || !expect_punct(p, "=") || !literal(p, &v) || !PUSH(st->names, st->nnames, n)) {
			free(n);
			free(v.text);
			return;
		}
		if (!PUSH(st->values, st->nvalues, v)) {
			free(v.text);
			return;
		}
	} while (accept_punct(p, ","));
	where_clause(p, st, false);
}

static void delete_stmt(parser *p, cas_stmt *st)
{
	st->kind = CAS_STMT_DELETE;
	if (!is_kw(p, "from")) {
		do {
			char *n = name(p, "a column name or FROM");
			if (!n || !PUSH(st->names, st->nnames, n)) {
				free(n);
				return;
			}
		} while (accept_punct(p, ","));
	}
	if (!expect_kw(p, "from"))
		return;
	table_name(p, st);
	using_clause(p, st, false);
	where_clause(p, st, false);
}

static void select_stmt(parser *p, cas_stmt *st)
{
	st->kind = CAS_STMT_SELECT;
	if (accept_punct(p, "*")) {
		st->star = true;
	} else {
		do {
			char *n = name(p, "a column name or '*'");
			if (!n || !PUSH(st->names, st->nnames, n)) {
				free(n);
				return;
			}
		} while (accept_punct(p, ","));
	}
	if (!expect_kw(p, "from"))
		return;
	table_name(p, st);
	/* Without WHERE it parses; executing it says which key parts are missing. */
	if (is_kw(p, "where"))
		where_clause(p, st, true);
	if (accept_kw(p, "order")) {
		if (!expect_kw(p, "by"))
			return;
		st->order_column = name(p, "a clustering column");
		if (accept_kw(p, "desc"))
			st->order_desc = true;
		else
			accept_kw(p, "asc");
	}
	if (accept_kw(p, "limit")) {
		int line = p->cur.line, col = p->cur.col;
		int64_t v;
		if (integer(p, &v, "a limit") && v <= 0)
			fail_at(p, line, col, "LIMIT must be strictly positive%s%s", "", "");
		st->limit = v;
	}
}

static void statement(parser *p, cas_stmt *st)
{
	if (accept_kw(p, "create")) {
		if (accept_kw(p, "keyspace"))
			create_keyspace(p, st);
		else if (accept_kw(p, "table") || accept_kw(p, "columnfamily"))
			create_table(p, st);
		else
			expected(p, "KEYSPACE or TABLE");
	} else if (accept_kw(p, "drop")) {
		bool ks = false;
		if (accept_kw(p, "keyspace"))
			ks = true;
		else if (!accept_kw(p, "table")) {
			expected(p, "KEYSPACE or TABLE");
			return;
		}
		st->kind = ks ? CAS_STMT_DROP_KEYSPACE : CAS_STMT_DROP_TABLE;
		if (accept_kw(p, "if")) {
			expect_kw(p, "exists");
			st->if_exists = true;
		}
		if (ks)
			st->keyspace = name(p, "a keyspace name");
		else
			table_name(p, st);
	} else if (accept_kw(p, "use")) {
		st->kind = CAS_STMT_USE;
		st->keyspace = name(p, "a keyspace name");
	} else if (accept_kw(p, "insert")) {
		insert(p, st);
	} else if (accept_kw(p, "update")) {
		update(p, st);
	} else if (accept_kw(p, "delete")) {
		delete_stmt(p, st);
	} else if (accept_kw(p, "select")) {
		select_stmt(p, st);
	} else if (accept_kw(p, "consistency")) {
		st->kind = CAS_STMT_CONSISTENCY;
		if (p->cur.kind == T_IDENT) {
			if (!cas_consistency_parse(p->cur.text, &st->consistency)) {
				fail_at(p, p->cur.line, p->cur.col,
				        "improper CONSISTENCY level '%s'%s (expecting ONE, QUORUM or ALL)",
				        p->cur.text, "");
				return;
			}
			st->has_consistency = true;
			next(p);
		}
	} else {
		expected(p, "a statement (SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, USE, "
		            "CONSISTENCY)");
	}
}

int cas_cql_parse(const char *text, cas_stmt *st, char *err, size_t errlen)
{
	parser p = {.s = text, .line = 1, .col = 1, .err = err, .errlen = errlen};
	memset(st, 0, sizeof(*st));
	next(&p);
	statement(&p, st);
	if (!p.failed) {
		accept_punct(&p, ";");
		if (p.cur.kind != T_EOF)
			fail_at(&p, p.cur.line, p.cur.col, "extraneous input '%s' after the statement%s",
			        p.cur.text ? p.cur.text : "", "");
	}
	free(p.cur.text);
	free(p.cur.raw);
	if (p.failed || (st->kind != CAS_STMT_CONSISTENCY && st->kind != CAS_STMT_USE &&
	                 st->kind != CAS_STMT_CREATE_KEYSPACE && st->kind != CAS_STMT_DROP_KEYSPACE &&
	                 st->table == NULL) ||
	    ((st->kind == CAS_STMT_USE || st->kind == CAS_STMT_CREATE_KEYSPACE ||
	      st->kind == CAS_STMT_DROP_KEYSPACE) &&
	     st->keyspace == NULL)) {
		if (!p.failed)
			snprintf(err, errlen, "out of memory");
		cas_stmt_fini(st);
		return -1;
	}
	return 0;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void cas_stmt_fini(cas_stmt *st)
{
	free(st->keyspace);
	free(st->table);
	for (size_t i = 0; i < st->ncolumns; i++)
		free(st->columns[i].name);
	free(st->columns);
	free_strs(st->partition_key, st->npartition);
	free_strs(st->clustering, st->nclustering);
	free_strs(st->names, st->nnames);
	for (size_t i = 0; i < st->nvalues; i++)
		free(st->values[i].text);
	free(st->values);
	for (size_t i = 0; i < st->nwhere; i++) {
		free(st->where[i].column);
		free(st->where[i].value.text);
	}
	free(st->where);
	free(st->order_column);
	memset(st, 0, sizeof(*st));
}

/* ---- literals to values --------------------------------------------------------------- */

static bool parse_timestamp(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int frac = 0;
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return false;
	if (*end == ' ' || *end == 'T') {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);
		if (e2 == NULL)
			return false;
		end = e2;
		if (*end == '.') {
			int digits = 0;
			for (end++; isdigit((unsigned char)*end); end++)
				if (digits++ < 3)
					frac = frac * 10 + (*end - '0');
			while (digits > 0 && digits < 3) {
				frac *= 10;
				digits++;
			}
		}
	}
	if (strcmp(end, "Z") != 0 && strcmp(end, "+0000") != 0 && *end != '\0')
		return false;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return true;
}

bool cas_literal_to_value(const cas_literal *lit, cas_type t, const char *column, cas_value *out,
                          char *err, size_t errlen)
{
	*out = (cas_value){.type = t};
	if (lit->kind == CAS_LIT_NULL) {
		out->null = true;
		return true;
	}
	const char *kind = lit->kind == CAS_LIT_STRING ? "STRING"
	                   : lit->kind == CAS_LIT_INT  ? "INTEGER"
	                   : lit->kind == CAS_LIT_FLOAT ? "FLOAT"
	                                                : "HEX";
	bool ok = false;
	char *end = NULL;
	errno = 0;
	switch (t) {
	case CAS_INT:
	case CAS_BIGINT:
		if (lit->kind == CAS_LIT_INT) {
			long long v = strtoll(lit->text, &end, 10);
			ok = !errno && !*end && (t == CAS_BIGINT || (v >= INT32_MIN && v <= INT32_MAX));
			out->i = v;
		}
		break;
	case CAS_DOUBLE:
		if (lit->kind == CAS_LIT_INT || lit->kind == CAS_LIT_FLOAT) {
			out->d = strtod(lit->text, &end);
			ok = !errno && !*end;
		}
		break;
	case CAS_TIMESTAMP:
		if (lit->kind == CAS_LIT_INT) {
			out->i = strtoll(lit->text, &end, 10);
			ok = !errno && !*end;
		} else if (lit->kind == CAS_LIT_STRING) {
			ok = parse_timestamp(lit->text, &out->i);
		}
		break;
	case CAS_TEXT:
		if (lit->kind == CAS_LIT_STRING) {
			out->len = strlen(lit->text);
			out->bytes = (uint8_t *)strdup(lit->text);
			ok = out->bytes != NULL;
		}
		break;
	case CAS_BLOB:
		if (lit->kind == CAS_LIT_BLOB) {
			size_t digits = strlen(lit->text) - 2;
			if (digits % 2 == 0 && (out->bytes = malloc(digits / 2 + 1)) != NULL) {
				for (size_t i = 0; i < digits / 2; i++) {
					unsigned b;
					sscanf(lit->text + 2 + 2 * i, "%2x", &b);
					out->bytes[i] = (uint8_t)b;
				}
				out->len = digits / 2;
				ok = true;
			}
		}
		break;
	}
	if (!ok)
		snprintf(err, errlen,
		         "InvalidRequest: line %d:%d invalid %s constant (%s) for \"%s\" of type %s",
		         lit->line, lit->col - 1, kind, lit->text, column, cas_type_name(t));
	return ok;
}

/* ---- scripts ------------------------------------------------------------------------------ */

size_t cas_cql_split(const char *script, void (*fn)(const char *stmt, void *arg), void *arg)
{
	size_t start = 0, i = 0;
	char quote = 0;
	for (; script[i]; i++) {
		char c = script[i];
		if (quote) {
			if (c == quote)
				quote = 0;
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = c;
		} else if ((c == '-' && script[i + 1] == '-') || (c == '/' && script[i + 1] == '/')) {
			while (script[i + 1] && script[i + 1] != '\n')
				i++;
		} else if (c == ';') {
			char *s = strndup(script + start, i - start);
			if (s) {
				char *b = s;
				while (isspace((unsigned char)*b))
					b++;
				char *e = b + strlen(b);
				while (e > b && isspace((unsigned char)e[-1]))
					*--e = '\0';
				if (*b)
					fn(b, arg);
				free(s);
			}
			start = i + 1;
		}
	}
	/* An unfinished statement: only whitespace and comments count as finished. */
	for (size_t j = start; j < i; j++) {
		if (isspace((unsigned char)script[j]))
			continue;
		if (script[j] == '-' && script[j + 1] == '-') {
			while (script[j] && script[j] != '\n')
				j++;
			continue;
		}
		return start;
	}
	return i;
}
