/* topology.c — the builder (storm.h) and the resolved topology (topology.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/log.h>

#include "topology.h"

static void fail(struct stm_topology *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct stm_topology *t, const char *fmt, ...)
{
	va_list ap;
	if (t->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

struct stm_topology *stm_topology_alloc(const char *const *keys, const char *const *values, int n)
{
	struct stm_topology *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->workers = 1;
	t->ackers = -1;
	t->max_spout_pending = 1000;
	t->message_timeout_ms = 30000;
	t->acking = true;
	t->acker = -1;
	for (int i = 0; i < n; i++)
		stm_set_conf(t, keys[i], values[i]);
	return t;
}

void stm_topology_free(struct stm_topology *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nconf; i++) {
		free(t->conf[i].key);
		free(t->conf[i].value);
	}
	free(t->conf);
	free(t->task_component);
	free(t);
}

static bool name_valid(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;
	if (n == 0 || n >= STM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

static stm_component *add(stm_topology *t, const char *name, enum stm_kind kind, const void *def,
                          void *arg, int parallelism)
{
	if (t->finalized) {
		fail(t, "components are added only while building");
		return NULL;
	}
	if (!name_valid(name) || (name[0] == '_' && name[1] == '_' && kind != STM_KIND_ACKER)) {
		fail(t, "bad component name '%s'", name ? name : "(null)");
		return NULL;
	}
	if (stm_topology_component(t, name) != NULL) {
		fail(t, "duplicate component '%s'", name);
		return NULL;
	}
	if (def == NULL || parallelism < 1 || parallelism > 4096) {
		fail(t, "component '%s': needs code and a parallelism in 1..4096", name);
		return NULL;
	}
	if (t->ncomponents >= STM_MAX_COMPONENTS) {
		fail(t, "more than %d components", STM_MAX_COMPONENTS);
		return NULL;
	}
	struct stm_component *c = &t->comps[t->ncomponents];
	memset(c, 0, sizeof(*c));
	c->topo = t;
	c->index = t->ncomponents++;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->kind = kind;
	c->def = def;
	c->arg = arg;
	c->parallelism = parallelism;
	return c;
}

stm_component *stm_spout(stm_topology *t, const char *name, const stm_spout_def *def, void *arg,
                         int parallelism)
{
	return add(t, name, STM_KIND_SPOUT, def, arg, parallelism);
}

stm_component *stm_bolt(stm_topology *t, const char *name, const stm_bolt_def *def, void *arg,
                        int parallelism)
{
	return add(t, name, STM_KIND_BOLT, def, arg, parallelism);
}

stm_component *stm_window_bolt(stm_topology *t, const char *name, const stm_window_def *def,
                               void *arg, int parallelism)
{
	if (def != NULL &&
	    ((def->length_count > 0) == (def->length_ms > 0) || def->slide_count < 0 ||
	     def->slide_ms < 0 || (def->length_count > 0 && def->slide_ms > 0) ||
	     (def->length_ms > 0 && def->slide_count > 0))) {
		fail(t, "window bolt '%s': give a length and slide in tuples or in ms, not both",
		     name ? name : "(null)");
		return NULL;
	}
	return add(t, name, STM_KIND_WINDOW, def, arg, parallelism);
}

static int declare(stm_component *comp, const char *stream, int nfields, const char **fields)
{
	if (comp == NULL)
		return -1;
	stm_topology *t = comp->topo;
	const char *name = stream != NULL ? stream : STM_DEFAULT_STREAM;
	if (!name_valid(name) || nfields < 0 || nfields > STM_MAX_FIELDS ||
	    comp->nstreams >= STM_MAX_STREAMS || stm_component_stream(comp, name) >= 0) {
		fail(t, "component '%s': cannot declare stream '%s' with %d fields", comp->name,
		     name, nfields);
		return -1;
	}
	struct stm_stream *s = &comp->streams[comp->nstreams++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->nfields = nfields;
	for (int i = 0; i < nfields; i++) {
		if (!name_valid(fields[i])) {
			fail(t, "component '%s': bad field name", comp->name);
			return -1;
		}
		snprintf(s->fields[i], sizeof(s->fields[i]), "%s", fields[i]);
	}
	return 0;
}

int stm_declare(stm_component *comp, const char *stream, int nfields, ...)
{
	const char *fields[STM_MAX_FIELDS];
	va_list ap;
	if (nfields > STM_MAX_FIELDS || nfields < 0)
		return declare(comp, stream, nfields, NULL);
	va_start(ap, nfields);
	for (int i = 0; i < nfields; i++)
		fields[i] = va_arg(ap, const char *);
	va_end(ap);
	return declare(comp, stream, nfields, fields);
}

static int subscribe(stm_component *bolt, const char *source, const char *stream,
                     enum stm_grouping g, int nkeys, const char **keys)
{
	if (bolt == NULL)
		return -1;
	stm_topology *t = bolt->topo;
	if (bolt->kind == STM_KIND_SPOUT || source == NULL || t->nsubs >= STM_MAX_SUBS ||
	    nkeys < 0 || nkeys > STM_MAX_FIELDS) {
		fail(t, "component '%s': bad subscription", bolt->name);
		return -1;
	}
	struct stm_sub *s = &t->subs[t->nsubs++];
	memset(s, 0, sizeof(*s));
	snprintf(s->source_name, sizeof(s->source_name), "%s", source);
	snprintf(s->stream_name, sizeof(s->stream_name), "%s",
	         stream ? stream : STM_DEFAULT_STREAM);
	s->target = bolt->index;
	s->grouping = g;
	s->nkeys = nkeys;
	for (int i = 0; i < nkeys; i++)
		snprintf(s->key_names[i], sizeof(s->key_names[i]), "%s", keys[i] ? keys[i] : "");
	return 0;
}

int stm_shuffle(stm_component *bolt, const char *source, const char *stream)
{
	return subscribe(bolt, source, stream, STM_GROUP_SHUFFLE, 0, NULL);
}

int stm_local_or_shuffle(stm_component *bolt, const char *source, const char *stream)
{
	return subscribe(bolt, source, stream, STM_GROUP_LOCAL_OR_SHUFFLE, 0, NULL);
}

int stm_all(stm_component *bolt, const char *source, const char *stream)
{
	return subscribe(bolt, source, stream, STM_GROUP_ALL, 0, NULL);
}

int stm_global(stm_component *bolt, const char *source, const char *stream)
{
	return subscribe(bolt, source, stream, STM_GROUP_GLOBAL, 0, NULL);
}

int stm_direct(stm_component *bolt, const char *source, const char *stream)
{
	return subscribe(bolt, source, stream, STM_GROUP_DIRECT, 0, NULL);
}

int stm_fields(stm_component *bolt, const char *source, const char *stream, int nfields, ...)
{
	const char *keys[STM_MAX_FIELDS];
	va_list ap;
	if (nfields < 1 || nfields > STM_MAX_FIELDS) {
		if (bolt != NULL)
			fail(bolt->topo, "component '%s': a fields grouping needs 1..%d fields",
			     bolt->name, STM_MAX_FIELDS);
		return -1;
	}
	va_start(ap, nfields);
	for (int i = 0; i < nfields; i++)
		keys[i] = va_arg(ap, const char *);
	va_end(ap);
	return subscribe(bolt, source, stream, STM_GROUP_FIELDS, nfields, keys);
}

void stm_tick_every(stm_component *bolt, int64_t ms)
{
	if (bolt != NULL && ms > 0)
		bolt->tick_ms = ms;
}

void stm_set_workers(stm_topology *t, int n)
{
	if (n >= 1)
		t->workers = n;
}

void stm_set_ackers(stm_topology *t, int n)
{
	if (n >= 0)
		t->ackers = n;
}

void stm_set_max_spout_pending(stm_topology *t, int n)
{
	if (n >= 1)
		t->max_spout_pending = n;
}

void stm_set_message_timeout_ms(stm_topology *t, int64_t ms)
{
	if (ms >= 1)
		t->message_timeout_ms = ms;
}

void stm_set_acking(stm_topology *t, bool on)
{
	t->acking = on;
}

const char *stm_conf(const stm_topology *t, const char *key, const char *def)
{
	for (int i = t->nconf - 1; i >= 0; i--)
		if (strcmp(t->conf[i].key, key) == 0)
			return t->conf[i].value;
	return def;
}

int64_t stm_conf_int(const stm_topology *t, const char *key, int64_t def)
{
	const char *v = stm_conf(t, key, NULL);
	char *end;
	if (v == NULL || *v == '\0')
		return def;
	long long n = strtoll(v, &end, 10);
	return *end == '\0' ? (int64_t)n : def;
}

void stm_set_conf(stm_topology *t, const char *key, const char *value)
{
	if (key == NULL || value == NULL)
		return;
	for (int i = 0; i < t->nconf; i++)
		if (strcmp(t->conf[i].key, key) == 0) {
			char *v = strdup(value);
			if (v == NULL)
				return;
			free(t->conf[i].value);
			t->conf[i].value = v;
			return;
		}
	struct stm_conf_entry *c = realloc(t->conf, (size_t)(t->nconf + 1) * sizeof(*c));
	if (c == NULL)
		return;
	t->conf = c;
	c[t->nconf].key = strdup(key);
	c[t->nconf].value = strdup(value);
	if (c[t->nconf].key == NULL || c[t->nconf].value == NULL) {
		free(c[t->nconf].key);
		free(c[t->nconf].value);
		return;
	}
	t->nconf++;
}

const char *stm_topology_error(const stm_topology *t)
{
	return t->error[0] != '\0' ? t->error : NULL;
}

const struct stm_component *stm_topology_component(const struct stm_topology *t, const char *name)
{
	for (int i = 0; i < t->ncomponents; i++)
		if (strcmp(t->comps[i].name, name) == 0)
			return &t->comps[i];
	return NULL;
}

int stm_component_stream(const struct stm_component *c, const char *name)
{
	if (name == NULL)
		name = STM_DEFAULT_STREAM;
	for (int i = 0; i < c->nstreams; i++)
		if (strcmp(c->streams[i].name, name) == 0)
			return i;
	return -1;
}

const struct stm_component *stm_topology_task_component(const struct stm_topology *t, int task)
{
	if (task < 0 || task >= t->ntasks)
		return NULL;
	return &t->comps[t->task_component[task]];
}

int stm_topology_acker_task(const struct stm_topology *t, uint64_t root)
{
	const struct stm_component *a = &t->comps[t->acker];
	return a->first_task + (int)(root % (uint64_t)a->parallelism);
}

static int resolve(struct stm_topology *t, struct stm_sub *s)
{
	const struct stm_component *src = stm_topology_component(t, s->source_name);
	struct stm_component *dst = &t->comps[s->target];
	if (src == NULL || src->kind == STM_KIND_ACKER) {
		fail(t, "'%s' subscribes to '%s', which is not a component", dst->name,
		     s->source_name);
		return -1;
	}
	int stream = stm_component_stream(src, s->stream_name);
	if (stream < 0) {
		fail(t, "'%s' subscribes to stream '%s' that '%s' does not declare", dst->name,
		     s->stream_name, src->name);
		return -1;
	}
	struct stm_stream *st = &t->comps[src->index].streams[stream];
	for (int k = 0; k < s->nkeys; k++) {
		s->keys[k] = -1;
		for (int f = 0; f < st->nfields; f++)
			if (strcmp(st->fields[f], s->key_names[k]) == 0)
				s->keys[k] = f;
		if (s->keys[k] < 0) {
			fail(t, "'%s' groups on field '%s' that stream '%s' of '%s' lacks",
			     dst->name, s->key_names[k], st->name, src->name);
			return -1;
		}
	}
	if (st->nsubs >= STM_MAX_SUBS) {
		fail(t, "too many subscriptions");
		return -1;
	}
	s->source = src->index;
	s->stream = stream;
	st->subs[st->nsubs++] = (int)(s - t->subs);
	return 0;
}

/* The topology.* keys of the configuration override what build set. */
static void apply_overrides(struct stm_topology *t)
{
	stm_set_workers(t, (int)stm_conf_int(t, "topology.workers", t->workers));
	stm_set_ackers(t, (int)stm_conf_int(t, "topology.acker.executors", t->ackers));
	stm_set_max_spout_pending(
	    t, (int)stm_conf_int(t, "topology.max.spout.pending", t->max_spout_pending));
	int64_t secs = stm_conf_int(t, "topology.message.timeout.secs", -1);
	if (secs > 0)
		stm_set_message_timeout_ms(t, secs * 1000);
	stm_set_message_timeout_ms(
	    t, stm_conf_int(t, "topology.message.timeout.ms", t->message_timeout_ms));
	const char *acking = stm_conf(t, "topology.acking", NULL);
	if (acking != NULL)
		t->acking = strcmp(acking, "false") != 0 && strcmp(acking, "off") != 0 &&
		            strcmp(acking, "0") != 0;
}

static const stm_bolt_def acker_def; /* the acker's code is the executor's own */

int stm_topology_build(struct stm_topology *t, stm_build_fn build, void *arg)
{
	if (build != NULL)
		build(t, arg);
	apply_overrides(t);
	if (t->error[0] != '\0')
		return -1;
	if (t->ncomponents == 0) {
		fail(t, "the topology has no components");
		return -1;
	}
	for (int i = 0; i < t->ncomponents && t->acking; i++) {
		const stm_window_def *d = t->comps[i].def;
		int64_t slide =
		    t->comps[i].kind == STM_KIND_WINDOW && d->slide_ms > 0 ? d->slide_ms : 0;
		/* As Storm: a tuple waits for its last window, so length + slide must fit in
		 * the message timeout or every tree would time out and replay. */
		if (t->comps[i].kind == STM_KIND_WINDOW && d->length_ms > 0 &&
		    d->length_ms + slide >= t->message_timeout_ms) {
			fail(t,
			     "window bolt '%s': length + slide (%lld ms) must be below the message "
			     "timeout (%lld ms)",
			     t->comps[i].name, (long long)(d->length_ms + slide),
			     (long long)t->message_timeout_ms);
			return -1;
		}
	}
	if (t->acking && t->ackers != 0) {
		int n = t->ackers > 0 ? t->ackers : t->workers;
		struct stm_component *a =
		    add(t, STM_ACKER_NAME, STM_KIND_ACKER, &acker_def, NULL, n);
		if (a == NULL)
			return -1;
		t->acker = a->index;
	} else {
		t->acking = false;
	}
	t->finalized = true;
	for (int i = 0; i < t->nsubs; i++)
		if (resolve(t, &t->subs[i]) != 0)
			return -1;
	int ntasks = 0;
	for (int i = 0; i < t->ncomponents; i++) {
		t->comps[i].first_task = ntasks;
		ntasks += t->comps[i].parallelism;
	}
	t->task_component = malloc((size_t)ntasks * sizeof(int));
	if (t->task_component == NULL) {
		fail(t, "out of memory");
		return -1;
	}
	for (int i = 0; i < t->ncomponents; i++)
		for (int k = 0; k < t->comps[i].parallelism; k++)
			t->task_component[t->comps[i].first_task + k] = i;
	t->ntasks = ntasks;
	return 0;
}
