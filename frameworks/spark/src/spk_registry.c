/* spk_registry.c — see spk_registry.h. Registrations happen at start-up on the main
 * thread, before any task thread exists, so lookups need no lock. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spk_registry.h"
#include "spk_wire.h"

#define SPK_REGISTRY_MAX 256
#define SPK_NAME_MAX     64

struct spk_fn_entry {
	char name[SPK_NAME_MAX];
	enum spk_fn_kind kind;
	void *fn;
};

static struct spk_fn_entry table[SPK_REGISTRY_MAX];
static int ntable;

/* "sum": decimal integers added. */
int spk_builtin_sum(spk_bytes a, spk_bytes b, const char *arg, spk_buf *out)
{
	(void)arg;
	char ta[32], tb[32];
	if (a.len >= sizeof(ta) || b.len >= sizeof(tb))
		return spk_fail("sum: value longer than an integer");
	memcpy(ta, a.data, a.len);
	ta[a.len] = '\0';
	memcpy(tb, b.data, b.len);
	tb[b.len] = '\0';
	char *ea, *eb;
	long long x = strtoll(ta, &ea, 10), y = strtoll(tb, &eb, 10);
	if (*ea != '\0' || *eb != '\0' || a.len == 0 || b.len == 0)
		return spk_fail("sum: not an integer: '%s' or '%s'", ta, tb);
	return spk_buf_printf(out, "%lld", x + y);
}

/* "__first": keeps one of two values (distinct). */
static int builtin_first(spk_bytes a, spk_bytes b, const char *arg, spk_buf *out)
{
	(void)b;
	(void)arg;
	return spk_buf_append(out, a.data, a.len);
}

/* "__distinct_key": the whole row as a key ('k' + key and value, or 'v' + value). */
static int builtin_distinct_key(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	spk_buf k = {0};
	if (in->keyed) {
		spk_buf_append(&k, "k", 1);
		spk_put_bytes(&k, in->key.data, in->key.len);
		spk_put_bytes(&k, in->value.data, in->value.len);
	} else {
		spk_buf_append(&k, "v", 1);
		spk_buf_append(&k, in->value.data, in->value.len);
	}
	spk_emit_pair(out, k.data, k.len, "", 0);
	spk_buf_fini(&k);
	return 0;
}

/* "__distinct_row": back from that key to the row. */
static int builtin_distinct_row(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	if (in->key.len == 0)
		return spk_fail("distinct: empty key");
	spk_bytes rest = {in->key.data + 1, in->key.len - 1};
	if (in->key.data[0] == 'v') {
		spk_emit_value(out, rest.data, rest.len);
		return 0;
	}
	size_t pos = 0;
	spk_bytes k, v;
	if (!spk_list_next(rest, &pos, &k) || !spk_list_next(rest, &pos, &v))
		return spk_fail("distinct: malformed key");
	spk_emit_pair(out, k.data, k.len, v.data, v.len);
	return 0;
}

/* "__as_list": a combined value as a list of one (a MapReduce reducer reads lists). */
static int builtin_as_list(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	spk_buf l = {0};
	spk_put_bytes(&l, in->value.data, in->value.len);
	spk_emit_pair(out, in->key.data, in->key.len, l.data ? l.data : "", l.len);
	spk_buf_fini(&l);
	return 0;
}

/* "__ungroup": (key, list) -> (key, value) for each value: the identity reducer. */
static int builtin_ungroup(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	spk_bytes v;
	for (size_t pos = 0; spk_list_next(in->value, &pos, &v);)
		spk_emit_pair(out, in->key.data, in->key.len, v.data, v.len);
	return 0;
}

/* "__tag_new" / "__tag_state": a value marked as a batch's ('n') or the old state ('s'). */
static int tag(const spk_row *in, spk_emitter *out, char t)
{
	spk_buf v = {0};
	spk_buf_append(&v, &t, 1);
	spk_buf_append(&v, in->value.data, in->value.len);
	spk_emit_pair(out, in->key.data, in->key.len, v.data, v.len);
	spk_buf_fini(&v);
	return 0;
}

static int builtin_tag_new(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	return tag(in, out, 'n');
}

static int builtin_tag_state(const spk_row *in, const char *arg, spk_emitter *out)
{
	(void)arg;
	return tag(in, out, 's');
}

/* "__update_state": (key, tagged values) -> (key, new state) by the update function
 * whose name is arg up to a newline (the user's arg follows it). */
static int builtin_update_state(const spk_row *in, const char *arg, spk_emitter *out)
{
	char name[64];
	const char *nl = arg ? strchr(arg, '\n') : NULL;
	size_t len = nl ? (size_t)(nl - arg) : 0;
	if (nl == NULL || len >= sizeof(name))
		return spk_fail("update_state_by_key: bad function argument");
	memcpy(name, arg, len);
	name[len] = '\0';
	spk_update_fn fn = spk_registry_find(name, SPK_FN_UPDATE);
	if (fn == NULL)
		return spk_fail("no update function '%s' registered", name);
	spk_buf values = {0}, state_out = {0};
	spk_bytes v, state = {"", 0};
	bool has_state = false;
	for (size_t pos = 0; spk_list_next(in->value, &pos, &v);) {
		if (v.len > 0 && v.data[0] == 's') {
			state = (spk_bytes){v.data + 1, v.len - 1};
			has_state = true;
		} else if (v.len > 0) {
			spk_put_bytes(&values, v.data + 1, v.len - 1);
		}
	}
	bool keep = true;
	int rc = fn(in->key, (spk_bytes){values.data ? values.data : "", values.len},
	            has_state ? &state : NULL, nl + 1, &state_out, &keep);
	if (rc == 0 && keep)
		spk_emit_pair(out, in->key.data, in->key.len, state_out.data ? state_out.data : "",
		              state_out.len);
	spk_buf_fini(&values);
	spk_buf_fini(&state_out);
	return rc;
}

static int add(const char *name, enum spk_fn_kind kind, void *fn);

static void builtins(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	add("sum", SPK_FN_REDUCE, (void *)spk_builtin_sum);
	add("__first", SPK_FN_REDUCE, (void *)builtin_first);
	add("__tag_new", SPK_FN_MAP, (void *)builtin_tag_new);
	add("__tag_state", SPK_FN_MAP, (void *)builtin_tag_state);
	add("__update_state", SPK_FN_MAP, (void *)builtin_update_state);
	add("__as_list", SPK_FN_MAP, (void *)builtin_as_list);
	add("__ungroup", SPK_FN_MAP, (void *)builtin_ungroup);
	add("__distinct_key", SPK_FN_MAP, (void *)builtin_distinct_key);
	add("__distinct_row", SPK_FN_MAP, (void *)builtin_distinct_row);
}

static int add(const char *name, enum spk_fn_kind kind, void *fn)
{
	builtins();
	if (name == NULL || fn == NULL || strlen(name) >= SPK_NAME_MAX ||
	    ntable >= SPK_REGISTRY_MAX)
		return -1;
	for (int i = 0; i < ntable; i++)
		if (strcmp(table[i].name, name) == 0)
			return -1;
	snprintf(table[ntable].name, SPK_NAME_MAX, "%s", name);
	table[ntable].kind = kind;
	table[ntable].fn = fn;
	ntable++;
	return 0;
}

int spk_register_map(const char *name, spk_map_fn fn)
{
	return add(name, SPK_FN_MAP, (void *)fn);
}

int spk_register_filter(const char *name, spk_filter_fn fn)
{
	return add(name, SPK_FN_FILTER, (void *)fn);
}

int spk_register_reduce(const char *name, spk_reduce_fn fn)
{
	return add(name, SPK_FN_REDUCE, (void *)fn);
}

int spk_register_partitioner(const char *name, spk_partitioner_fn fn)
{
	return add(name, SPK_FN_PARTITIONER, (void *)fn);
}

int spk_register_update(const char *name, spk_update_fn fn)
{
	return add(name, SPK_FN_UPDATE, (void *)fn);
}

int spk_register_partitions(const char *name, spk_partition_fn fn)
{
	return add(name, SPK_FN_PARTITIONS, (void *)fn);
}

void *spk_registry_find(const char *name, enum spk_fn_kind kind)
{
	builtins();
	if (name == NULL)
		return NULL;
	for (int i = 0; i < ntable; i++)
		if (table[i].kind == kind && strcmp(table[i].name, name) == 0)
			return table[i].fn;
	return NULL;
}

static _Thread_local char failure[512];

const char *spk_failure(void)
{
	return failure;
}

void spk_failure_clear(void)
{
	failure[0] = '\0';
}

void spk_failure_set(const char *fmt, ...)
{
	if (failure[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
}

int spk_fail(const char *fmt, ...)
{
	if (failure[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	return -1;
}
