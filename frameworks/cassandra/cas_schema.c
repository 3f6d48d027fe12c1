/* cas_schema.c — see cas_schema.h. */
#include "cas_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plexus/util.h>

#include "cas_key.h"

void cas_schema_partition(cas_wbuf *w)
{
	static const char table[] = "system.schema";
	cas_put_u8(w, sizeof(table) - 1);
	cas_put_raw(w, table, sizeof(table) - 1);
	cas_value empty = cas_value_text("");
	cas_value_put_key(w, &empty);
}

void cas_schema_key(cas_wbuf *w, const char *keyspace, const char *table, const char *column)
{
	cas_wbuf p = {0};
	cas_schema_partition(&p);
	cas_put_u16(w, (uint16_t)p.len);
	cas_put_raw(w, p.data, p.len);
	cas_wbuf_fini(&p);
	cas_value k = cas_value_text(keyspace), t = cas_value_text(table);
	cas_put_u8(w, CAS_KIND_CLUSTERING);
	cas_value_put_key(w, &k);
	cas_put_u8(w, CAS_KIND_CLUSTERING);
	cas_value_put_key(w, &t);
	cas_put_u8(w, CAS_KIND_COLUMN);
	cas_put_raw(w, column, strlen(column));
}

void cas_table_free(cas_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	free(t);
}

static void table_fini(cas_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
}

void cas_schema_fini(cas_schema *s)
{
	for (size_t i = 0; i < s->ntables; i++)
		table_fini(&s->tables[i]);
	free(s->tables);
	free(s->ks);
	memset(s, 0, sizeof(*s));
}

/* Parses a definition text into t (names copied). false when malformed. */
static bool parse_def(const char *def, size_t len, cas_table *t)
{
	char *d = strndup(def, len), *save = NULL;
	if (d == NULL)
		return false;
	char *id = strtok_r(d, "|", &save), *npk = strtok_r(NULL, "|", &save),
	     *nck = strtok_r(NULL, "|", &save), *cols = strtok_r(NULL, "|", &save);
	bool ok = id && npk && nck && cols && strlen(id) < sizeof(t->id);
	if (ok) {
		snprintf(t->id, sizeof(t->id), "%s", id);
		t->npk = strtoul(npk, NULL, 10);
		t->nck = strtoul(nck, NULL, 10);
		char *s2 = NULL;
		for (char *c = strtok_r(cols, ",", &s2); c && ok; c = strtok_r(NULL, ",", &s2)) {
			char *colon = strchr(c, ':');
			cas_column_def *v = realloc(t->cols, (t->ncols + 1) * sizeof(*v));
			if (colon == NULL || v == NULL) {
				ok = false;
				break;
			}
			t->cols = v;
			*colon = '\0';
			cas_column_def *cd = &t->cols[t->ncols];
			ok = cas_type_parse(colon + 1, &cd->type) && (cd->name = strdup(c)) != NULL;
			if (ok)
				t->ncols++;
		}
		ok = ok && t->npk >= 1 && t->npk + t->nck <= t->ncols;
	}
	free(d);
	return ok;
}

int cas_schema_load(cas_schema *s, const cas_cells *cells, uint32_t now_s)
{
	cas_schema_fini(s);
	for (size_t i = 0; i < cells->n; i++) {
		const cas_cell *c = cells->v[i];
		const uint8_t *part;
		size_t plen;
		if (cas_cell_dead(c, now_s) || !cas_key_partition(CAS_CELL_KEY(c), c->klen, &part, &plen))
			continue;
		cas_rbuf r = cas_rbuf_of(CAS_CELL_KEY(c) + 2 + plen, c->klen - 2 - plen);
		cas_value ks, tb;
		if (cas_get_u8(&r) != CAS_KIND_CLUSTERING || !cas_value_get_key(&r, CAS_TEXT, &ks))
			continue;
		if (cas_get_u8(&r) != CAS_KIND_CLUSTERING || !cas_value_get_key(&r, CAS_TEXT, &tb)) {
			cas_value_fini(&ks);
			continue;
		}
		uint8_t kind = cas_get_u8(&r);
		const char *col = (const char *)r.p;
		size_t collen = r.left;
		if (kind == CAS_KIND_COLUMN && tb.len == 0 && collen == 2 && memcmp(col, "rf", 2) == 0 &&
		    c->vlen == 4 && ks.len < 64) {
			cas_keyspace *v = realloc(s->ks, (s->nks + 1) * sizeof(*v));
			if (v) {
				s->ks = v;
				snprintf(v[s->nks].name, 64, "%s", (char *)ks.bytes);
				v[s->nks++].rf = (int32_t)cas_be32_load(CAS_CELL_VAL(c));
			}
		} else if (kind == CAS_KIND_COLUMN && tb.len > 0 && collen == 3 &&
		           memcmp(col, "def", 3) == 0 && ks.len < 64 && tb.len < 64) {
			cas_table t = {0};
			cas_table *v = realloc(s->tables, (s->ntables + 1) * sizeof(*v));
			if (v)
				s->tables = v;
			if (v && parse_def((const char *)CAS_CELL_VAL(c), c->vlen, &t)) {
				snprintf(t.keyspace, sizeof(t.keyspace), "%s", (char *)ks.bytes);
				snprintf(t.name, sizeof(t.name), "%s", (char *)tb.bytes);
				s->tables[s->ntables++] = t;
			} else {
				table_fini(&t);
			}
		}
		cas_value_fini(&ks);
		cas_value_fini(&tb);
	}
	return 0;
}

const cas_keyspace *cas_schema_keyspace(const cas_schema *s, const char *name)
{
	for (size_t i = 0; i < s->nks; i++)
		if (strcmp(s->ks[i].name, name) == 0)
			return &s->ks[i];
	return NULL;
}

const cas_table *cas_schema_table(const cas_schema *s, const char *ks, const char *name)
{
	if (cas_schema_keyspace(s, ks) == NULL)
		return NULL;
	for (size_t i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].keyspace, ks) == 0 && strcmp(s->tables[i].name, name) == 0)
			return &s->tables[i];
	return NULL;
}

int cas_table_column(const cas_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const cas_column_def *)a)->name, ((const cas_column_def *)b)->name);
}

cas_table *cas_table_from_stmt(const cas_stmt *st, const char *keyspace, char *err, size_t errlen)
{
	cas_table *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->cols = calloc(st->ncolumns + 1, sizeof(*t->cols))) == NULL) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(keyspace) >= sizeof(t->keyspace) || strlen(st->table) >= sizeof(t->name)) {
		snprintf(err, errlen, "InvalidRequest: names are limited to 63 characters");
		goto fail;
	}
	snprintf(t->keyspace, sizeof(t->keyspace), "%s", keyspace);
	snprintf(t->name, sizeof(t->name), "%s", st->table);
	for (size_t i = 0; i < st->ncolumns; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(st->columns[i].name, st->columns[j].name) == 0) {
				snprintf(err, errlen, "InvalidRequest: Multiple definition of identifier %s",
				         st->columns[i].name);
				goto fail;
			}
		if (strchr(st->columns[i].name, '|') || strchr(st->columns[i].name, ',') ||
		    strchr(st->columns[i].name, ':')) {
			snprintf(err, errlen, "InvalidRequest: column name %s holds a reserved character",
			         st->columns[i].name);
			goto fail;
		}
	}
	/* Key columns first, in key order; then the others by name. */
	bool *used = calloc(st->ncolumns + 1, sizeof(*used));
	if (used == NULL)
		goto fail;
	const char *const *keys[2] = {(const char *const *)st->partition_key,
	                              (const char *const *)st->clustering};
	size_t nkeys[2] = {st->npartition, st->nclustering};
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < nkeys[k]; i++) {
			size_t j = 0;
			while (j < st->ncolumns && strcmp(st->columns[j].name, keys[k][i]) != 0)
				j++;
			if (j == st->ncolumns || used[j]) {
				snprintf(err, errlen,
				         j == st->ncolumns
				             ? "InvalidRequest: Unknown definition %s referenced in PRIMARY KEY"
				             : "InvalidRequest: Duplicate definition %s in PRIMARY KEY",
				         keys[k][i]);
				free(used);
				goto fail;
			}
			used[j] = true;
			t->cols[t->ncols].type = st->columns[j].type;
			t->cols[t->ncols++].name = strdup(st->columns[j].name);
		}
	}
	size_t first_regular = t->ncols;
	for (size_t j = 0; j < st->ncolumns; j++) {
		if (used[j])
			continue;
		t->cols[t->ncols].type = st->columns[j].type;
		t->cols[t->ncols++].name = strdup(st->columns[j].name);
	}
	free(used);
	qsort(t->cols + first_regular, t->ncols - first_regular, sizeof(*t->cols), by_name);
	t->npk = st->npartition;
	t->nck = st->nclustering;
	for (size_t i = 0; i < t->ncols; i++)
		if (t->cols[i].name == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	uint8_t u[16];
	px_uuid_random(u);
	snprintf(t->id, sizeof(t->id), "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
	         u[5]);
	return t;
fail:
	cas_table_free(t);
	return NULL;
}

char *cas_table_def(const cas_table *t)
{
	cas_wbuf w = {0};
	char head[96];
	snprintf(head, sizeof(head), "%s|%zu|%zu|", t->id, t->npk, t->nck);
	cas_put_raw(&w, head, strlen(head));
	for (size_t i = 0; i < t->ncols; i++) {
		if (i)
			cas_put_u8(&w, ',');
		cas_put_raw(&w, t->cols[i].name, strlen(t->cols[i].name));
		cas_put_u8(&w, ':');
		const char *tn = cas_type_name(t->cols[i].type);
		cas_put_raw(&w, tn, strlen(tn));
	}
	cas_put_u8(&w, 0);
	if (w.oom) {
		cas_wbuf_fini(&w);
		return NULL;
	}
	return (char *)w.data;
}

void cas_table_partition(cas_wbuf *w, const cas_table *t, const cas_value *pk)
{
	char name[160];
	int n = snprintf(name, sizeof(name), "%s.%s/%s", t->keyspace, t->name, t->id);
	cas_put_u8(w, (uint8_t)n);
	cas_put_raw(w, name, (size_t)n);
	for (size_t i = 0; i < t->npk; i++)
		cas_value_put_key(w, &pk[i]);
}
