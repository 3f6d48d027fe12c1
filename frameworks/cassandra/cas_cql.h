/* cas_cql.h — the CQL subset: one statement parsed into a tree.
 *
 *   CREATE KEYSPACE [IF NOT EXISTS] ks WITH replication =
 *       {'class': 'SimpleStrategy', 'replication_factor': N}
 *   DROP KEYSPACE [IF EXISTS] ks            USE ks
 *   CREATE TABLE [IF NOT EXISTS] [ks.]t (c type [PRIMARY KEY], ...,
 *       [PRIMARY KEY ((p1, p2), c1, c2)])   with types text, varchar, int, bigint,
 *                                           double, blob, timestamp
 *   DROP TABLE [IF EXISTS] [ks.]t
 *   INSERT INTO [ks.]t (c, ...) VALUES (v, ...) [USING TIMESTAMP n [AND TTL n]]
 *   UPDATE [ks.]t [USING ...] SET c = v, ... WHERE k = v AND ...
 *   DELETE [c, ...] FROM [ks.]t [USING TIMESTAMP n] WHERE k = v AND ...
 *   SELECT * | c, ... FROM [ks.]t WHERE k = v [AND c (=|<|<=|>|>=) v ...]
 *       [ORDER BY c [ASC|DESC]] [LIMIT n]
 *   CONSISTENCY [ONE | QUORUM | ALL]
 *
 * Keywords and unquoted names are case-insensitive (names are folded to lower case;
 * "quoted" names keep their case). A syntax error says where (line:column), what was
 * found and what was expected, as Cassandra's SyntaxException does. */
#ifndef CAS_CQL_H
#define CAS_CQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_proto.h"
#include "cas_value.h"

typedef enum cas_stmt_kind {
	CAS_STMT_CREATE_KEYSPACE,
	CAS_STMT_DROP_KEYSPACE,
	CAS_STMT_USE,
	CAS_STMT_CREATE_TABLE,
	CAS_STMT_DROP_TABLE,
	CAS_STMT_INSERT,
	CAS_STMT_UPDATE,
	CAS_STMT_DELETE,
	CAS_STMT_SELECT,
	CAS_STMT_CONSISTENCY,
} cas_stmt_kind;

typedef enum cas_lit_kind { CAS_LIT_STRING, CAS_LIT_INT, CAS_LIT_FLOAT, CAS_LIT_BLOB, CAS_LIT_NULL } cas_lit_kind;

typedef struct cas_literal {
	cas_lit_kind kind;
	char *text; /* the literal as written (strings unquoted) */
	int line, col;
} cas_literal;

typedef enum cas_op { CAS_OP_EQ, CAS_OP_LT, CAS_OP_LE, CAS_OP_GT, CAS_OP_GE } cas_op;

typedef struct cas_relation {
	char *column;
	cas_op op;
	cas_literal value;
	int line, col;
} cas_relation;

typedef struct cas_column_def {
	char *name;
	cas_type type;
} cas_column_def;

typedef struct cas_stmt {
	cas_stmt_kind kind;
	bool if_exists, if_not_exists;
	char *keyspace; /* NULL: the session's current keyspace */
	char *table;
	int rf;
	/* CREATE TABLE */
	cas_column_def *columns;
	size_t ncolumns;
	char **partition_key, **clustering;
	size_t npartition, nclustering;
	/* INSERT (names + values), UPDATE (SET names = values), DELETE and SELECT (names) */
	char **names;
	cas_literal *values;
	size_t nnames, nvalues;
	bool star;
	cas_relation *where;
	size_t nwhere;
	char *order_column;
	bool order_desc;
	int64_t limit; /* 0: none */
	bool has_timestamp, has_ttl;
	int64_t timestamp;
	int32_t ttl;
	bool has_consistency;
	cas_consistency consistency;
} cas_stmt;

/* Parses one statement (a trailing ';' is allowed). 0, or -1 with a message in err
 * that names the position and the mistake. stmt is filled on success: free it with
 * cas_stmt_fini. */
int cas_cql_parse(const char *text, cas_stmt *stmt, char *err, size_t errlen);
void cas_stmt_fini(cas_stmt *stmt);

/* Converts a literal for a column of type t. false (and err saying why, naming the
 * column) when it does not fit. Text and blob values are allocated: cas_value_fini. */
bool cas_literal_to_value(const cas_literal *lit, cas_type t, const char *column, cas_value *out,
                          char *err, size_t errlen);

/* Splits a script into statements at ';' outside quotes and comments: calls fn for
 * each (NUL-terminated, trimmed, without the ';'). Returns the text of an unfinished
 * last statement's start offset, or the length when everything was complete. */
size_t cas_cql_split(const char *script, void (*fn)(const char *stmt, void *arg), void *arg);

#endif
