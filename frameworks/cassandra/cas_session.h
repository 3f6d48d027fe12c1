/* cas_session.h — running CQL against the cluster: a session holds a client, the
 * current keyspace, the consistency level (ONE by default, as cqlsh) and a cache of the
 * schema, and turns each statement into reads and writes of cells.
 * Not thread-safe: one thread uses a session (it blocks on each statement). */
#ifndef CAS_SESSION_H
#define CAS_SESSION_H

#include <stdio.h>

#include "cas_client.h"
#include "cas_value.h"

typedef struct cas_result {
	size_t ncols, nrows;
	char **names;
	cas_value *values; /* nrows x ncols, row-major; text and blob owned */
	char *message;     /* for statements without rows: what happened ("" when nothing to say) */
	bool rows;         /* a SELECT: print as a table */
} cas_result;

void cas_result_fini(cas_result *r);

typedef struct cas_session cas_session;

/* The session borrows c, which must outlive it. NULL on out of memory. */
cas_session *cas_session_alloc(cas_client *c);
void cas_session_free(cas_session *s);

/* Runs one statement. 0 with out filled, or -1 with err saying what went wrong
 * ("SyntaxException: line 1:9 ...", "InvalidRequest: ...", "Unavailable: ..."). */
int cas_session_execute(cas_session *s, const char *cql, cas_result *out, char *err, size_t errlen);

void cas_session_set_consistency(cas_session *s, cas_consistency cl);
cas_consistency cas_session_consistency(const cas_session *s);

/* Prints a result as cqlsh does (rows as a table, then "(N rows)"). */
void cas_result_print(const cas_result *r, FILE *out);

#endif
