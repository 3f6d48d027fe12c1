/* cas_schema.h — keyspaces and tables as the cluster stores them, in the table
 * system.schema (one partition, replicated to every node): a row per keyspace
 * (clustering (keyspace, ""), column "rf") and a row per table (clustering
 * (keyspace, table), column "def"). A table's definition text is
 * "<id>|<partition key columns>|<clustering columns>|name:type,name:type,..." with the
 * columns in CQL order (partition key, clustering, the rest by name). The id, fresh at
 * every CREATE TABLE, is part of the table's partitions, so a dropped and recreated
 * table starts empty, as in Cassandra. */
#ifndef CAS_SCHEMA_H
#define CAS_SCHEMA_H

#include <stddef.h>

#include "cas_buf.h"
#include "cas_cell.h"
#include "cas_cql.h"
#include "cas_value.h"

typedef struct cas_table {
	char keyspace[64], name[64], id[24];
	cas_column_def *cols;
	size_t ncols, npk, nck; /* cols[0..npk) partition key, then nck clustering */
} cas_table;

typedef struct cas_keyspace {
	char name[64];
	int rf;
} cas_keyspace;

typedef struct cas_schema {
	cas_keyspace *ks;
	size_t nks;
	cas_table *tables;
	size_t ntables;
} cas_schema;

/* The partition (as cas_proto.h) of system.schema. */
void cas_schema_partition(cas_wbuf *w);
/* The storage key of a schema cell: row (keyspace, table) and column. */
void cas_schema_key(cas_wbuf *w, const char *keyspace, const char *table, const char *column);

/* Builds the schema from the cells of system.schema (replacing what s held). 0 or -1. */
int cas_schema_load(cas_schema *s, const cas_cells *cells, uint32_t now_s);
void cas_schema_fini(cas_schema *s);

const cas_keyspace *cas_schema_keyspace(const cas_schema *s, const char *name);
const cas_table *cas_schema_table(const cas_schema *s, const char *ks, const char *name);
/* Index of a column in t, -1 if none. */
int cas_table_column(const cas_table *t, const char *name);

/* A table from a CREATE TABLE statement (fresh id). NULL and err when it is not valid
 * (unknown key column, duplicate names ...). Free with cas_table_free. */
cas_table *cas_table_from_stmt(const cas_stmt *st, const char *keyspace, char *err, size_t errlen);
void cas_table_free(cas_table *t);
/* The definition text; caller frees. */
char *cas_table_def(const cas_table *t);

/* The partition of a table row: table id and the partition key values (t->npk of
 * them, in order). */
void cas_table_partition(cas_wbuf *w, const cas_table *t, const cas_value *pk);

#endif
