/* cas_session.c — CQL statements as cell reads and writes (see cas_key.h for the
 * layout of a row's cells). */
#include "cas_session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cas_cql.h"
#include "cas_key.h"
#include "cas_schema.h"

struct cas_session {
	cas_client *client;
	char keyspace[64];
	cas_consistency cl;
	cas_schema schema;
	bool schema_loaded;
	int64_t last_ts;
};

cas_session *cas_session_alloc(cas_client *c)
{
	cas_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->client = c;
	s->cl = CAS_ONE;
	return s;
}

void cas_session_free(cas_session *s)
{
	if (s == NULL)
		return;
	cas_schema_fini(&s->schema);
	free(s);
}

void cas_session_set_consistency(cas_session *s, cas_consistency cl)
{
	s->cl = cl;
}

cas_consistency cas_session_consistency(const cas_session *s)
{
	return s->cl;
}

void cas_result_fini(cas_result *r)
{
	for (size_t i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->names);
	for (size_t i = 0; i < r->ncols * r->nrows; i++)
		if (!r->values[i].null)
			cas_value_fini(&r->values[i]);
	free(r->values);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

/* Microseconds now, strictly rising within the session (a later statement always
 * wins over an earlier one of the same session). */
static int64_t next_ts(cas_session *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (now <= s->last_ts)
		now = s->last_ts + 1;
	s->last_ts = now;
	return now;
}

static const char *status_prefix(int st)
{
	switch (st) {
	case CAS_UNAVAILABLE:
		return "Unavailable";
	case CAS_TIMEOUT:
		return "Timeout";
	case CAS_INVALID:
	case CAS_NO_KEYSPACE:
		return "InvalidRequest";
	default:
		return "ServerError";
	}
}

static int fail_status(int st, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", status_prefix(st), why);
	return -1;
}

/* ---- schema ----------------------------------------------------------------------- */

static int load_schema(cas_session *s, char *err, size_t errlen)
{
	cas_wbuf p = {0};
	cas_cells cells = {0};
	char why[256] = "";
	cas_schema_partition(&p);
	/* The schema lives on every node: QUORUM sees the last DDL despite a node down. */
	int st = cas_client_read(s->client, CAS_QUORUM, p.data, p.len, &cells, why, sizeof(why));
	if (st == CAS_UNAVAILABLE)
		st = cas_client_read(s->client, CAS_ONE, p.data, p.len, &cells, why, sizeof(why));
	cas_wbuf_fini(&p);
	if (st != CAS_OK) {
		cas_cells_fini(&cells);
		return fail_status(st, why, err, errlen);
	}
	cas_schema_load(&s->schema, &cells, (uint32_t)time(NULL));
	cas_cells_fini(&cells);
	s->schema_loaded = true;
	return 0;
}

static int write_schema_cells(cas_session *s, cas_cells *cells, char *err, size_t errlen)
{
	cas_wbuf p = {0};
	char why[256] = "";
	cas_schema_partition(&p);
	int st = cas_client_write(s->client, CAS_QUORUM, p.data, p.len, cells, why, sizeof(why));
	cas_wbuf_fini(&p);
	s->schema_loaded = false;
	return st == CAS_OK ? 0 : fail_status(st, why, err, errlen);
}

static int push_schema_cell(cas_cells *cells, const char *ks, const char *table, const char *col,
                            int64_t ts, bool tombstone, const void *val, size_t vlen)
{
	cas_wbuf k = {0};
	cas_schema_key(&k, ks, table, col);
	int rc = k.oom ? -1
	               : cas_cells_push(cells, cas_cell_alloc(k.data, (uint32_t)k.len, ts,
	                                                      tombstone ? CAS_CELL_TOMBSTONE : 0,
	                                                      (uint32_t)time(NULL), val,
	                                                      (uint32_t)vlen));
	cas_wbuf_fini(&k);
	return rc;
}

static const char *keyspace_of(cas_session *s, const cas_stmt *st, char *err, size_t errlen)
{
	const char *ks = st->keyspace ? st->keyspace : s->keyspace[0] ? s->keyspace : NULL;
	if (ks == NULL)
		snprintf(err, errlen, "InvalidRequest: No keyspace has been specified. USE a keyspace, "
		                      "or explicitly specify keyspace.tablename");
	return ks;
}

/* The table a statement names, reloading the schema once if it is not known. */
static const cas_table *table_of(cas_session *s, const cas_stmt *st, char *err, size_t errlen)
{
	const char *ks = keyspace_of(s, st, err, errlen);
	if (ks == NULL)
		return NULL;
	const cas_table *t = s->schema_loaded ? cas_schema_table(&s->schema, ks, st->table) : NULL;
	if (t == NULL) {
		if (load_schema(s, err, errlen) != 0)
			return NULL;
		t = cas_schema_table(&s->schema, ks, st->table);
	}
	if (t == NULL) {
		if (cas_schema_keyspace(&s->schema, ks) == NULL)
			snprintf(err, errlen, "InvalidRequest: Keyspace %s does not exist", ks);
		else
			snprintf(err, errlen, "InvalidRequest: unconfigured table %s", st->table);
	}
	return t;
}

static void set_message(cas_result *out, const char *m)
{
	out->message = strdup(m);
}

static int ddl(cas_session *s, const cas_stmt *st, cas_result *out, char *err, size_t errlen)
{
	cas_cells cells = {0};
	int64_t ts = next_ts(s);
	int rc = -1;
	if (load_schema(s, err, errlen) != 0)
		return -1;
	const char *ks = st->kind == CAS_STMT_CREATE_KEYSPACE || st->kind == CAS_STMT_DROP_KEYSPACE
	                     ? st->keyspace
	                     : keyspace_of(s, st, err, errlen);
	if (ks == NULL)
		return -1;
	if (strlen(ks) >= 48 || strcmp(ks, "system") == 0) {
		snprintf(err, errlen, "InvalidRequest: keyspace name '%s' is reserved or too long", ks);
		return -1;
	}
	const cas_keyspace *k = cas_schema_keyspace(&s->schema, ks);
	switch (st->kind) {
	case CAS_STMT_CREATE_KEYSPACE: {
		if (k) {
			if (st->if_not_exists) {
				set_message(out, "");
				return 0;
			}
			snprintf(err, errlen, "AlreadyExists: Keyspace '%s' already exists", ks);
			return -1;
		}
		uint8_t rf[4];
		cas_be32_store(rf, (uint32_t)st->rf);
		if (push_schema_cell(&cells, ks, "", "rf", ts, false, rf, 4) != 0)
			goto oom;
		break;
	}
	case CAS_STMT_DROP_KEYSPACE:
		if (k == NULL) {
			if (st->if_exists) {
				set_message(out, "");
				return 0;
			}
			snprintf(err, errlen, "InvalidRequest: Cannot drop non existing keyspace '%s'.", ks);
			return -1;
		}
		if (push_schema_cell(&cells, ks, "", "rf", ts, true, NULL, 0) != 0)
			goto oom;
		for (size_t i = 0; i < s->schema.ntables; i++)
			if (strcmp(s->schema.tables[i].keyspace, ks) == 0 &&
			    push_schema_cell(&cells, ks, s->schema.tables[i].name, "def", ts, true, NULL, 0) != 0)
				goto oom;
		if (strcmp(s->keyspace, ks) == 0)
			s->keyspace[0] = '\0';
		break;
	case CAS_STMT_CREATE_TABLE:
	case CAS_STMT_DROP_TABLE: {
		if (k == NULL) {
			snprintf(err, errlen, "InvalidRequest: Keyspace %s does not exist", ks);
			return -1;
		}
		const cas_table *old = cas_schema_table(&s->schema, ks, st->table);
		if (st->kind == CAS_STMT_DROP_TABLE) {
			if (old == NULL) {
				if (st->if_exists) {
					set_message(out, "");
					return 0;
				}
				snprintf(err, errlen, "InvalidRequest: Table '%s.%s' doesn't exist", ks,
				         st->table);
				return -1;
			}
			if (push_schema_cell(&cells, ks, st->table, "def", ts, true, NULL, 0) != 0)
				goto oom;
			break;
		}
		if (old) {
			if (st->if_not_exists) {
				set_message(out, "");
				return 0;
			}
			snprintf(err, errlen, "AlreadyExists: Table '%s.%s' already exists", ks, st->table);
			return -1;
		}
		cas_table *t = cas_table_from_stmt(st, ks, err, errlen);
		char *def = t ? cas_table_def(t) : NULL;
		cas_table_free(t);
		if (def == NULL)
			return -1;
		rc = push_schema_cell(&cells, ks, st->table, "def", ts, false, def, strlen(def));
		free(def);
		if (rc != 0)
			goto oom;
		break;
	}
	default:
		return -1;
	}
	rc = write_schema_cells(s, &cells, err, errlen);
	cas_cells_fini(&cells);
	if (rc == 0)
		set_message(out, "");
	return rc;
oom:
	cas_cells_fini(&cells);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ---- key columns from WHERE --------------------------------------------------------- */

struct key_values {
	cas_value v[32]; /* the table's key columns, in order; null = not given */
	bool given[32];
};

static void key_values_fini(struct key_values *k)
{
	for (int i = 0; i < 32; i++)
		if (k->given[i])
			cas_value_fini(&k->v[i]);
}

/* Takes the '=' relations on key columns from the statement's WHERE; others are left
 * for the caller (ranges) or refused (regular columns). */
static int where_keys(const cas_table *t, const cas_stmt *st, struct key_values *k,
                      bool ranges_ok, char *err, size_t errlen)
{
	memset(k, 0, sizeof(*k));
	size_t nkey = t->npk + t->nck;
	if (nkey > 32) {
		snprintf(err, errlen, "InvalidRequest: too many key columns");
		return -1;
	}
	for (size_t i = 0; i < st->nwhere; i++) {
		const cas_relation *r = &st->where[i];
		int c = cas_table_column(t, r->column);
		if (c < 0) {
			snprintf(err, errlen, "InvalidRequest: line %d:%d Undefined column name %s", r->line,
			         r->col - 1, r->column);
			return -1;
		}
		if ((size_t)c >= nkey) {
			snprintf(err, errlen,
			         "InvalidRequest: line %d:%d Cannot restrict non-primary-key column %s "
			         "(this would need ALLOW FILTERING, which is not supported)",
			         r->line, r->col - 1, r->column);
			return -1;
		}
		if (r->op != CAS_OP_EQ) {
			if ((size_t)c < t->npk) {
				snprintf(err, errlen,
				         "InvalidRequest: line %d:%d Only EQ relations are supported on the "
				         "partition key %s",
				         r->line, r->col - 1, r->column);
				return -1;
			}
			if (!ranges_ok) {
				snprintf(err, errlen,
				         "InvalidRequest: line %d:%d Invalid operator for clustering column %s "
				         "here: only = is allowed",
				         r->line, r->col - 1, r->column);
				return -1;
			}
			continue;
		}
		if (k->given[c]) {
			snprintf(err, errlen, "InvalidRequest: line %d:%d %s cannot be restricted by more "
			                      "than one relation if it includes an Equal",
			         r->line, r->col - 1, r->column);
			return -1;
		}
		if (r->value.kind == CAS_LIT_NULL) {
			snprintf(err, errlen, "InvalidRequest: line %d:%d Invalid null value for %s",
			         r->line, r->col - 1, r->column);
			return -1;
		}
		if (!cas_literal_to_value(&r->value, t->cols[c].type, r->column, &k->v[c], err, errlen))
			return -1;
		k->given[c] = true;
	}
	for (size_t i = 0; i < t->npk; i++) {
		if (!k->given[i]) {
			snprintf(err, errlen,
			         "InvalidRequest: Some partition key parts are missing: %s (every partition "
			         "key column needs an = relation)",
			         t->cols[i].name);
			return -1;
		}
	}
	return 0;
}

/* How many leading clustering columns are given, and whether they are all given. */
static size_t clustering_given(const cas_table *t, const struct key_values *k)
{
	size_t n = 0;
	while (n < t->nck && k->given[t->npk + n])
		n++;
	return n;
}

/* ---- writes ----------------------------------------------------------------------------- */

struct writer {
	const cas_table *t;
	cas_wbuf prefix; /* [u16][partition] */
	cas_wbuf part;
	cas_cells cells;
	int64_t ts;
	uint32_t ttl, now;
	bool oom;
};

static void writer_init(struct writer *w, const cas_table *t, const struct key_values *k,
                        int64_t ts, uint32_t ttl)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->ts = ts;
	w->ttl = ttl;
	w->now = (uint32_t)time(NULL);
	cas_table_partition(&w->part, t, k->v);
	cas_put_u16(&w->prefix, (uint16_t)w->part.len);
	cas_put_raw(&w->prefix, w->part.data, w->part.len);
}

static void writer_fini(struct writer *w)
{
	cas_wbuf_fini(&w->prefix);
	cas_wbuf_fini(&w->part);
	cas_cells_fini(&w->cells);
}

/* Adds the cell at prefix + clustering (nck given values) + suffix. */
static void writer_cell(struct writer *w, const struct key_values *k, size_t nck, uint8_t kind,
                        const char *col, const cas_value *v, bool tombstone)
{
	cas_wbuf key = {0}, val = {0};
	cas_put_raw(&key, w->prefix.data, w->prefix.len);
	for (size_t i = 0; i < nck; i++) {
		cas_put_u8(&key, CAS_KIND_CLUSTERING);
		cas_value_put_key(&key, &k->v[w->t->npk + i]);
	}
	cas_put_u8(&key, kind);
	if (col)
		cas_put_raw(&key, col, strlen(col));
	if (v && !v->null)
		cas_value_put_cell(&val, v);
	uint8_t flags = tombstone ? CAS_CELL_TOMBSTONE : w->ttl ? CAS_CELL_EXPIRING : 0;
	uint32_t ldt = tombstone ? w->now : w->ttl ? w->now + w->ttl : 0;
	if (key.oom || val.oom || key.len > 65535 ||
	    cas_cells_push(&w->cells, cas_cell_alloc(key.data, (uint32_t)key.len, w->ts, flags, ldt,
	                                             val.data, (uint32_t)val.len)) != 0)
		w->oom = true;
	cas_wbuf_fini(&key);
	cas_wbuf_fini(&val);
}

static int writer_send(cas_session *s, struct writer *w, cas_result *out, char *err,
                       size_t errlen)
{
	if (w->oom || w->part.oom || w->part.len > CAS_PARTITION_MAX) {
		snprintf(err, errlen, w->oom ? "out of memory" : "InvalidRequest: the key is too long");
		return -1;
	}
	char why[256] = "";
	int st = cas_client_write(s->client, s->cl, w->part.data, w->part.len, &w->cells, why,
	                          sizeof(why));
	if (st != CAS_OK)
		return fail_status(st, why, err, errlen);
	set_message(out, "");
	return 0;
}

static int insert(cas_session *s, const cas_stmt *st, cas_result *out, char *err, size_t errlen)
{
	const cas_table *t = table_of(s, st, err, errlen);
	if (t == NULL)
		return -1;
	struct key_values k;
	memset(&k, 0, sizeof(k));
	cas_value vals[256];
	int cols[256];
	size_t nvals = 0;
	int rc = -1;
	if (st->nnames > 256) {
		snprintf(err, errlen, "InvalidRequest: too many columns");
		return -1;
	}
	for (size_t i = 0; i < st->nnames; i++) {
		int c = cas_table_column(t, st->names[i]);
		if (c < 0) {
			snprintf(err, errlen, "InvalidRequest: Undefined column name %s", st->names[i]);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(st->names[j], st->names[i]) == 0) {
				snprintf(err, errlen, "InvalidRequest: The column names contains duplicates");
				goto out;
			}
		cas_value v;
		if (!cas_literal_to_value(&st->values[i], t->cols[c].type, st->names[i], &v, err, errlen))
			goto out;
		if ((size_t)c < t->npk + t->nck) {
			if (v.null) {
				snprintf(err, errlen, "InvalidRequest: Invalid null value in condition for "
				                      "column %s",
				         st->names[i]);
				goto out;
			}
			k.v[c] = v;
			k.given[c] = true;
		} else {
			vals[nvals] = v;
			cols[nvals++] = c;
		}
	}
	for (size_t i = 0; i < t->npk + t->nck; i++) {
		if (!k.given[i]) {
			snprintf(err, errlen, "InvalidRequest: Some %s are missing: %s",
			         i < t->npk ? "partition key parts" : "clustering keys", t->cols[i].name);
			goto out;
		}
	}
	struct writer w;
	writer_init(&w, t, &k, st->has_timestamp ? st->timestamp : next_ts(s),
	            st->has_ttl ? (uint32_t)st->ttl : 0);
	writer_cell(&w, &k, t->nck, CAS_KIND_ROW_MARKER, NULL, NULL, false);
	for (size_t i = 0; i < nvals; i++)
		writer_cell(&w, &k, t->nck, CAS_KIND_COLUMN, t->cols[cols[i]].name, &vals[i], vals[i].null);
	rc = writer_send(s, &w, out, err, errlen);
	writer_fini(&w);
out:
	for (size_t i = 0; i < nvals; i++)
		if (!vals[i].null)
			cas_value_fini(&vals[i]);
	key_values_fini(&k);
	return rc;
}

static int update(cas_session *s, const cas_stmt *st, cas_result *out, char *err, size_t errlen)
{
	const cas_table *t = table_of(s, st, err, errlen);
	struct key_values k;
	if (t == NULL || where_keys(t, st, &k, false, err, errlen) != 0) {
		if (t)
			key_values_fini(&k);
		return -1;
	}
	int rc = -1;
	struct writer w;
	writer_init(&w, t, &k, st->has_timestamp ? st->timestamp : next_ts(s),
	            st->has_ttl ? (uint32_t)st->ttl : 0);
	if (clustering_given(t, &k) != t->nck) {
		snprintf(err, errlen, "InvalidRequest: Some clustering keys are missing: %s",
		         t->cols[t->npk + clustering_given(t, &k)].name);
		goto out;
	}
	for (size_t i = 0; i < st->nnames; i++) {
		int c = cas_table_column(t, st->names[i]);
		if (c < 0) {
			snprintf(err, errlen, "InvalidRequest: Undefined column name %s", st->names[i]);
			goto out;
		}
		if ((size_t)c < t->npk + t->nck) {
			snprintf(err, errlen, "InvalidRequest: PRIMARY KEY part %s found in SET part",
			         st->names[i]);
			goto out;
		}
		cas_value v;
		if (!cas_literal_to_value(&st->values[i], t->cols[c].type, st->names[i], &v, err, errlen))
			goto out;
		writer_cell(&w, &k, t->nck, CAS_KIND_COLUMN, st->names[i], &v, v.null);
		if (!v.null)
			cas_value_fini(&v);
	}
	rc = writer_send(s, &w, out, err, errlen);
out:
	writer_fini(&w);
	key_values_fini(&k);
	return rc;
}

static int delete_stmt(cas_session *s, const cas_stmt *st, cas_result *out, char *err,
                       size_t errlen)
{
	const cas_table *t = table_of(s, st, err, errlen);
	struct key_values k;
	if (t == NULL || where_keys(t, st, &k, false, err, errlen) != 0) {
		if (t)
			key_values_fini(&k);
		return -1;
	}
	int rc = -1;
	struct writer w;
	writer_init(&w, t, &k, st->has_timestamp ? st->timestamp : next_ts(s), 0);
	size_t nck = clustering_given(t, &k);
	if (nck != 0 && nck != t->nck) {
		snprintf(err, errlen, "InvalidRequest: Range deletions are not supported: give every "
		                      "clustering column or none (missing %s)",
		         t->cols[t->npk + nck].name);
		goto out;
	}
	if (st->nnames == 0) {
		if (nck == 0) {
			cas_wbuf key = {0};
			cas_put_raw(&key, w.prefix.data, w.prefix.len);
			cas_put_u8(&key, CAS_KIND_PARTITION_DEL);
			if (key.oom || cas_cells_push(&w.cells, cas_cell_alloc(key.data, (uint32_t)key.len,
			                                                       w.ts, CAS_CELL_TOMBSTONE,
			                                                       w.now, NULL, 0)) != 0)
				w.oom = true;
			cas_wbuf_fini(&key);
		} else {
			writer_cell(&w, &k, t->nck, CAS_KIND_ROW_DEL, NULL, NULL, true);
		}
	} else {
		if (nck != t->nck) {
			snprintf(err, errlen, "InvalidRequest: Some clustering keys are missing: %s",
			         t->cols[t->npk + nck].name);
			goto out;
		}
		for (size_t i = 0; i < st->nnames; i++) {
			int c = cas_table_column(t, st->names[i]);
			if (c < 0 || (size_t)c < t->npk + t->nck) {
				snprintf(err, errlen,
				         c < 0 ? "InvalidRequest: Undefined column name %s"
				               : "InvalidRequest: Invalid identifier %s for deletion (should "
				                 "not be a PRIMARY KEY part)",
				         st->names[i]);
				goto out;
			}
			writer_cell(&w, &k, t->nck, CAS_KIND_COLUMN, st->names[i], NULL, true);
		}
	}
	rc = writer_send(s, &w, out, err, errlen);
out:
	writer_fini(&w);
	key_values_fini(&k);
	return rc;
}

/* ---- reads ---------------------------------------------------------------------------------- */

struct row {
	cas_value *v; /* t->ncols values; null when absent */
	bool live;
};

struct rows {
	struct row *v;
	size_t n;
};

static void rows_fini(struct rows *r, size_t ncols)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t c = 0; c < ncols; c++)
			if (!r->v[i].v[c].null)
				cas_value_fini(&r->v[i].v[c]);
		free(r->v[i].v);
	}
	free(r->v);
}

static bool dup_value(const cas_value *in, cas_value *out)
{
	*out = *in;
	if (in->null || (in->type != CAS_TEXT && in->type != CAS_BLOB))
		return true;
	out->bytes = malloc(in->len + 1);
	if (out->bytes == NULL)
		return false;
	memcpy(out->bytes, in->bytes, in->len);
	out->bytes[in->len] = 0;
	return true;
}

/* Builds the live rows of a partition from its reconciled cells. */
static int assemble(const cas_table *t, const struct key_values *k, const cas_cells *cells,
                    struct rows *out)
{
	uint32_t now = (uint32_t)time(NULL);
	int64_t part_del = INT64_MIN, row_del = INT64_MIN;
	size_t plen = 0;
	const uint8_t *rowkey = NULL; /* the current row's clustering bytes */
	size_t rowkeylen = 0;
	struct row cur = {0};
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i <= cells->n; i++) {
		const cas_cell *c = i < cells->n ? cells->v[i] : NULL;
		const uint8_t *part;
		if (c && !cas_key_partition(CAS_CELL_KEY(c), c->klen, &part, &plen))
			continue;
		const uint8_t *suffix = c ? CAS_CELL_KEY(c) + 2 + plen : NULL;
		size_t slen = c ? c->klen - 2 - plen : 0;
		if (c && slen == 1 && suffix[0] == CAS_KIND_PARTITION_DEL) {
			if (c->flags & CAS_CELL_TOMBSTONE)
				part_del = c->ts > part_del ? c->ts : part_del;
			continue;
		}
		/* Decode the clustering part to find where the row's key ends. */
		cas_value ck[32];
		size_t nck = 0, cklen = 0;
		bool okkey = true;
		if (c) {
			cas_rbuf r = cas_rbuf_of(suffix, slen);
			for (; nck < t->nck && okkey; nck++) {
				okkey = cas_get_u8(&r) == CAS_KIND_CLUSTERING &&
				        cas_value_get_key(&r, t->cols[t->npk + nck].type, &ck[nck]);
				if (!okkey)
					break;
			}
			cklen = slen - r.left;
			if (!okkey || r.left == 0) {
				for (size_t j = 0; j < nck; j++)
					cas_value_fini(&ck[j]);
				continue; /* a cell of another shape (an older schema): skipped */
			}
		}
		bool new_row = c == NULL || rowkey == NULL || rowkeylen != cklen ||
		               memcmp(rowkey, suffix, cklen) != 0;
		if (new_row && cur.v) {
			if (cur.live) {
				struct row *v = realloc(out->v, (out->n + 1) * sizeof(*v));
				if (v == NULL)
					return -1;
				out->v = v;
				out->v[out->n++] = cur;
			} else {
				for (size_t j = 0; j < t->ncols; j++)
					if (!cur.v[j].null)
						cas_value_fini(&cur.v[j]);
				free(cur.v);
			}
			cur = (struct row){0};
		}
		if (c == NULL)
			break;
		if (new_row) {
			rowkey = suffix;
			rowkeylen = cklen;
			row_del = INT64_MIN;
			cur.v = calloc(t->ncols, sizeof(*cur.v));
			if (cur.v == NULL)
				return -1;
			for (size_t j = 0; j < t->ncols; j++)
				cur.v[j] = (cas_value){.type = t->cols[j].type, .null = true};
			for (size_t j = 0; j < t->npk; j++)
				dup_value(&k->v[j], &cur.v[j]);
			for (size_t j = 0; j < t->nck; j++)
				cur.v[t->npk + j] = ck[j];
		} else {
			for (size_t j = 0; j < nck; j++)
				cas_value_fini(&ck[j]);
		}
		uint8_t kind = suffix[cklen];
		int64_t shadow = part_del > row_del ? part_del : row_del;
		bool alive = !cas_cell_dead(c, now) && c->ts > shadow;
		if (kind == CAS_KIND_ROW_DEL) {
			if (c->flags & CAS_CELL_TOMBSTONE)
				row_del = c->ts > row_del ? c->ts : row_del;
		} else if (kind == CAS_KIND_ROW_MARKER) {
			cur.live |= alive;
		} else if (kind == CAS_KIND_COLUMN && alive) {
			char name[128];
			size_t nl = slen - cklen - 1;
			if (nl >= sizeof(name))
				continue;
			memcpy(name, suffix + cklen + 1, nl);
			name[nl] = '\0';
			int col = cas_table_column(t, name);
			if (col >= (int)(t->npk + t->nck)) {
				cas_value v;
				if (cas_value_from_cell(t->cols[col].type, CAS_CELL_VAL(c), c->vlen, &v) &&
				    dup_value(&v, &cur.v[col]))
					cur.live = true;
			}
		}
	}
	return 0;
}

static bool relation_holds(const cas_value *v, cas_op op, const cas_value *bound)
{
	int c = cas_value_cmp(v, bound);
	switch (op) {
	case CAS_OP_EQ:
		return c == 0;
	case CAS_OP_LT:
		return c < 0;
	case CAS_OP_LE:
		return c <= 0;
	case CAS_OP_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

static int select_stmt(cas_session *s, const cas_stmt *st, cas_result *out, char *err,
                       size_t errlen)
{
	const cas_table *t = table_of(s, st, err, errlen);
	struct key_values k;
	if (t == NULL || where_keys(t, st, &k, true, err, errlen) != 0) {
		if (t)
			key_values_fini(&k);
		return -1;
	}
	int rc = -1;
	int sel[256];
	size_t nsel = 0;
	cas_value bounds[32];
	size_t nbounds = 0;
	struct rows rows = {0};
	cas_cells cells = {0};
	cas_wbuf part = {0};
	if (st->star) {
		for (size_t i = 0; i < t->ncols && i < 256; i++)
			sel[nsel++] = (int)i;
	} else {
		for (size_t i = 0; i < st->nnames && nsel < 256; i++) {
			int c = cas_table_column(t, st->names[i]);
			if (c < 0) {
				snprintf(err, errlen, "InvalidRequest: Undefined column name %s", st->names[i]);
				goto out;
			}
			sel[nsel++] = c;
		}
	}
	if (st->order_column) {
		int c = cas_table_column(t, st->order_column);
		if (t->nck == 0 || c != (int)t->npk) {
			snprintf(err, errlen,
			         t->nck == 0 ? "InvalidRequest: ORDER BY is only supported when the "
			                       "partition key is restricted by an EQ or an IN."
			                     : "InvalidRequest: Order by is currently only supported on the "
			                       "clustered columns of the PRIMARY KEY, got %s",
			         st->order_column);
			goto out;
		}
	}
	/* Clustering relations other than '=' are checked on each row. */
	for (size_t i = 0; i < st->nwhere && nbounds < 32; i++) {
		const cas_relation *r = &st->where[i];
		int c = cas_table_column(t, r->column);
		if (r->op == CAS_OP_EQ || c < (int)t->npk)
			continue;
		if (!cas_literal_to_value(&r->value, t->cols[c].type, r->column, &bounds[nbounds], err,
		                          errlen))
			goto out;
		nbounds++;
	}
	cas_table_partition(&part, t, k.v);
	char why[256] = "";
	int status = part.oom ? CAS_ERROR
	                      : cas_client_read(s->client, s->cl, part.data, part.len, &cells, why,
	                                        sizeof(why));
	if (status != CAS_OK) {
		fail_status(status, part.oom ? "out of memory" : why, err, errlen);
		goto out;
	}
	if (assemble(t, &k, &cells, &rows) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	out->rows = true;
	out->ncols = nsel;
	out->names = calloc(nsel ? nsel : 1, sizeof(*out->names));
	out->values = calloc(rows.n * nsel + 1, sizeof(*out->values));
	if (out->names == NULL || out->values == NULL)
		goto out;
	for (size_t i = 0; i < nsel; i++)
		out->names[i] = strdup(t->cols[sel[i]].name);
	for (size_t ri = 0; ri < rows.n; ri++) {
		size_t r = st->order_desc ? rows.n - 1 - ri : ri;
		struct row *row = &rows.v[r];
		bool keep = true;
		for (size_t i = 0, b = 0; i < st->nwhere && keep; i++) {
			const cas_relation *rel = &st->where[i];
			int c = cas_table_column(t, rel->column);
			if (c < (int)t->npk)
				continue;
			if (rel->op == CAS_OP_EQ)
				keep = cas_value_cmp(&row->v[c], &k.v[c]) == 0;
			else
				keep = relation_holds(&row->v[c], rel->op, &bounds[b++]);
		}
		if (!keep)
			continue;
		if (st->limit > 0 && out->nrows >= (size_t)st->limit)
			break;
		for (size_t i = 0; i < nsel; i++)
			dup_value(&row->v[sel[i]], &out->values[out->nrows * nsel + i]);
		out->nrows++;
	}
	rc = 0;
out:
	if (rc != 0)
		cas_result_fini(out);
	for (size_t i = 0; i < nbounds; i++)
		cas_value_fini(&bounds[i]);
	rows_fini(&rows, t->ncols);
	cas_cells_fini(&cells);
	cas_wbuf_fini(&part);
	key_values_fini(&k);
	return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

int cas_session_execute(cas_session *s, const char *cql, cas_result *out, char *err, size_t errlen)
{
	cas_stmt st;
	memset(out, 0, sizeof(*out));
	if (cas_cql_parse(cql, &st, err, errlen) != 0)
		return -1;
	int rc = -1;
	switch (st.kind) {
	case CAS_STMT_CREATE_KEYSPACE:
	case CAS_STMT_DROP_KEYSPACE:
	case CAS_STMT_CREATE_TABLE:
	case CAS_STMT_DROP_TABLE:
		rc = ddl(s, &st, out, err, errlen);
		break;
	case CAS_STMT_USE:
		if (load_schema(s, err, errlen) != 0)
			break;
		if (cas_schema_keyspace(&s->schema, st.keyspace) == NULL) {
			snprintf(err, errlen, "InvalidRequest: Keyspace '%s' does not exist", st.keyspace);
			break;
		}
		snprintf(s->keyspace, sizeof(s->keyspace), "%s", st.keyspace);
		set_message(out, "");
		rc = 0;
		break;
	case CAS_STMT_INSERT:
		rc = insert(s, &st, out, err, errlen);
		break;
	case CAS_STMT_UPDATE:
		rc = update(s, &st, out, err, errlen);
		break;
	case CAS_STMT_DELETE:
		rc = delete_stmt(s, &st, out, err, errlen);
		break;
	case CAS_STMT_SELECT:
		rc = select_stmt(s, &st, out, err, errlen);
		break;
	case CAS_STMT_CONSISTENCY: {
		char m[96];
		if (st.has_consistency) {
			s->cl = st.consistency;
			snprintf(m, sizeof(m), "Consistency level set to %s.", cas_consistency_name(s->cl));
		} else {
			snprintf(m, sizeof(m), "Current consistency level is %s.",
			         cas_consistency_name(s->cl));
		}
		set_message(out, m);
		rc = 0;
		break;
	}
	}
	cas_stmt_fini(&st);
	if (rc != 0)
		cas_result_fini(out);
	return rc;
}

/* ---- printing ------------------------------------------------------------------------------------ */

void cas_result_print(const cas_result *r, FILE *out)
{
	if (!r->rows) {
		if (r->message && *r->message)
			fprintf(out, "%s\n", r->message);
		return;
	}
	size_t n = r->ncols;
	size_t *w = calloc(n ? n : 1, sizeof(*w));
	char *cellbuf = malloc(n * (r->nrows + 1) * 256 + 1);
	if (w == NULL || cellbuf == NULL) {
		free(w);
		free(cellbuf);
		return;
	}
	for (size_t c = 0; c < n; c++)
		w[c] = strlen(r->names[c] ? r->names[c] : "");
	for (size_t i = 0; i < r->nrows; i++) {
		for (size_t c = 0; c < n; c++) {
			char *b = cellbuf + (i * n + c) * 256;
			cas_value_format(&r->values[i * n + c], b, 256);
			if (strlen(b) > w[c])
				w[c] = strlen(b);
		}
	}
	/* cqlsh: a blank line, the header, a rule, the rows right-aligned, the count. */
	fprintf(out, "\n");
	for (size_t c = 0; c < n; c++)
		fprintf(out, "%s %*s ", c ? "|" : "", (int)w[c], r->names[c] ? r->names[c] : "");
	fprintf(out, "\n");
	for (size_t c = 0; c < n; c++) {
		fprintf(out, "%s", c ? "+" : "");
		for (size_t k = 0; k < w[c] + 2; k++)
			fputc('-', out);
	}
	fprintf(out, "\n");
	for (size_t i = 0; i < r->nrows; i++) {
		for (size_t c = 0; c < n; c++)
			fprintf(out, "%s %*s ", c ? "|" : "", (int)w[c], cellbuf + (i * n + c) * 256);
		fprintf(out, "\n");
	}
	fprintf(out, "\n(%zu rows)\n", r->nrows);
	free(w);
	free(cellbuf);
}
