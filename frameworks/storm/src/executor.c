/* executor.c — see executor.h.
 *
 * The hot path allocates nothing per tuple: received tuples are decoded in place, the
 * records an executor produces go into one reusable buffer per destination task, and
 * every buffer written during a turn is sent as one message when the turn ends. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/actor.h>
#include <actor/clock.h>
#include <actor/log.h>

#include "executor.h"
#include "ledger.h"
#include "tuple.h"
#include "window.h"

#define BATCH_MSG   "stm.batch"
#define NEXT_MSG    "stm.next"
#define SPOUT_TURN  256         /* next_tuple calls per turn before yielding */
#define FLUSH_BYTES (64 * 1024) /* a buffer this full is sent before the turn ends */

struct stm_ctx {
	struct executor *ex;
};

struct executor {
	struct stm_ctx ctx;
	actor_t *self;
	const struct stm_topology *topo;
	const struct stm_component *comp;
	int task;
	void *state;
	struct stm_routing *rt;
	struct stm_metrics *m;
	struct stm_buf *out; /* per destination task */
	int *dirty;          /* tasks whose buffer has records, ndirty of them */
	int ndirty;
	uint64_t rng;
	uint32_t *rr; /* per subscription: the shuffle's next index */
	/* spout */
	struct stm_ledger pending;
	bool next_scheduled;
	uint64_t *deferred_acks; /* acking off: message ids acked once next_tuple returns */
	size_t ndeferred, capdeferred;
	/* acker */
	struct stm_ledger ledger;
	/* window */
	struct stm_window window;
	bool opened;
};

/* ---- helpers ---------------------------------------------------------------------- */

static inline uint64_t rand64(struct executor *ex)
{
	/* xorshift64*: edge and root ids only need to be unique with high probability. */
	uint64_t x = ex->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ex->rng = x;
	uint64_t r = x * 0x2545F4914F6CDD1DULL;
	return r != 0 ? r : 1;
}

static struct stm_buf *out_for(struct executor *ex, int task)
{
	struct stm_buf *b = &ex->out[task];
	if (b->records == 0)
		ex->dirty[ex->ndirty++] = task;
	return b;
}

static void flush_one(struct executor *ex, int task)
{
	struct stm_buf *b = &ex->out[task];
	if (b->records == 0)
		return;
	actor_pid to = ex->rt->pids[task];
	if (!actor_pid_is_none(to))
		actor_send(ex->self, to, BATCH_MSG, b->p, b->len);
	b->len = 0;
	b->records = 0;
}

static void flush(struct executor *ex)
{
	for (int i = 0; i < ex->ndirty; i++)
		flush_one(ex, ex->dirty[i]);
	ex->ndirty = 0;
}

/* Called after writing to task's buffer: a full buffer leaves at once (it stays in
 * the dirty list, where it is empty by the end of the turn). */
static void maybe_flush(struct executor *ex, int task)
{
	if (ex->out[task].len >= FLUSH_BYTES) {
		flush_one(ex, task);
		/* Keep dirty consistent: the next record re-adds the task. */
		for (int i = 0; i < ex->ndirty; i++)
			if (ex->dirty[i] == task) {
				ex->dirty[i] = ex->dirty[--ex->ndirty];
				break;
			}
	}
}

static void send_ack_record(struct executor *ex, uint8_t kind, uint64_t root, uint64_t val)
{
	int acker = stm_topology_acker_task(ex->topo, root);
	stm_buf_put_ack(out_for(ex, acker), kind, root, val, (uint32_t)ex->task);
	maybe_flush(ex, acker);
}

/* ---- emitting --------------------------------------------------------------------- */

/* What a new tuple is anchored to: a spout root, or the anchors of input tuples. */
struct lineage {
	bool spout_tracked;
	uint64_t root;
	uint64_t spout_acc;
	stm_tuple *const *inputs;
	size_t ninputs;
};

/* Sends one copy of a tuple to task, anchored as lineage says. */
static void send_copy(struct executor *ex, int task, int stream, struct lineage *lin,
                      const stm_value *values, int n)
{
	struct stm_anchor anchors[STM_MAX_ANCHORS];
	int nanchors = 0;

	if (lin->spout_tracked) {
		uint64_t e = rand64(ex);
		lin->spout_acc ^= e;
		anchors[0] = (struct stm_anchor){.root = lin->root, .edge = e};
		nanchors = 1;
	} else if (ex->topo->acking) {
		for (size_t i = 0; i < lin->ninputs; i++) {
			stm_tuple *in = lin->inputs[i];
			for (int a = 0; a < in->nanchors; a++) {
				uint64_t e = rand64(ex);
				in->anchors[a].acc ^= e;
				int k = 0;
				while (k < nanchors && anchors[k].root != in->anchors[a].root)
					k++;
				if (k == nanchors) {
					if (nanchors == STM_MAX_ANCHORS)
						continue; /* cannot be tracked: its tree times out
						           */
					anchors[nanchors++] = (struct stm_anchor){
					    .root = in->anchors[a].root, .edge = 0};
				}
				anchors[k].edge ^= e;
			}
		}
	}
	STM_ADD(ex->m->transferred, 1);
	if (actor_pid_is_none(ex->rt->pids[task])) {
		STM_ADD(ex->m->dropped, 1);
		return;
	}
	stm_buf_put_tuple(out_for(ex, task), ex->task, stream, anchors, nanchors, values, n);
	maybe_flush(ex, task);
}

/* Routes a tuple of stream to the subscribers' tasks; direct >= 0 is the task of a
 * direct emit. Returns the number of copies sent. */
static int route(struct executor *ex, int stream, struct lineage *lin, const stm_value *values,
                 int n, int direct)
{
	const struct stm_stream *st = &ex->comp->streams[stream];
	const struct stm_routing *rt = ex->rt;
	int copies = 0;

	for (int s = 0; s < st->nsubs; s++) {
		const struct stm_sub *sub = &ex->topo->subs[st->subs[s]];
		const struct stm_component *target = &ex->topo->comps[sub->target];
		int first = target->first_task, p = target->parallelism;
		int task;
		if ((sub->grouping == STM_GROUP_DIRECT) != (direct >= 0))
			continue;
		switch (sub->grouping) {
		case STM_GROUP_DIRECT:
			if (direct < first || direct >= first + p)
				continue;
			send_copy(ex, direct, stream, lin, values, n);
			copies++;
			continue;
		case STM_GROUP_ALL:
			for (int k = 0; k < p; k++)
				send_copy(ex, first + k, stream, lin, values, n);
			copies += p;
			continue;
		case STM_GROUP_GLOBAL:
			task = first;
			break;
		case STM_GROUP_FIELDS:
			task = first +
			       (int)(stm_values_hash(values, sub->keys, sub->nkeys) % (uint64_t)p);
			break;
		case STM_GROUP_LOCAL_OR_SHUFFLE: {
			/* The next task of the target on this worker, if it has one. */
			task = -1;
			for (int k = 0; k < p && task < 0; k++) {
				int cand = first +
				           (int)((ex->rr[st->subs[s]] + (uint32_t)k) % (uint32_t)p);
				if (stm_routing_local(rt, cand))
					task = cand;
			}
			ex->rr[st->subs[s]]++;
			if (task < 0) /* none here: shuffle */
				task = first + (int)(ex->rr[st->subs[s]] % (uint32_t)p);
			break;
		}
		default:
			task = first + (int)(ex->rr[st->subs[s]]++ % (uint32_t)p);
		}
		send_copy(ex, task, stream, lin, values, n);
		copies++;
	}
	return copies;
}

static int stream_of(struct executor *ex, const char *name, int n)
{
	int s = stm_component_stream(ex->comp, name);
	if (s < 0 || ex->comp->streams[s].nfields != n) {
		actor_warn("storm: %s emits on stream '%s' with %d values, which it did not "
		           "declare so: dropped",
		           ex->comp->name, name ? name : STM_DEFAULT_STREAM, n);
		return -1;
	}
	return s;
}

static int spout_emit(struct executor *ex, int direct, const char *stream, const stm_value *values,
                      size_t n, bool has_msg_id, uint64_t msg_id)
{
	int s = stream_of(ex, stream, (int)n);
	if (s < 0 || ex->comp->kind != STM_KIND_SPOUT)
		return 0;
	STM_ADD(ex->m->emitted, 1);
	struct lineage lin = {.spout_tracked = has_msg_id && ex->topo->acking};
	struct stm_entry *e = NULL;
	if (lin.spout_tracked) {
		do
			lin.root = rand64(ex);
		while (stm_ledger_find(&ex->pending, lin.root) != NULL);
	}
	int copies = route(ex, s, &lin, values, (int)n, direct);
	if (!has_msg_id)
		return copies;
	if (!lin.spout_tracked || copies == 0) {
		/* Nothing to track: the tuple is complete at once (as Storm without ackers). */
		if (ex->ndeferred == ex->capdeferred) {
			size_t cap = ex->capdeferred ? ex->capdeferred * 2 : 256;
			uint64_t *d = realloc(ex->deferred_acks, cap * sizeof(*d));
			if (d == NULL)
				return copies;
			ex->deferred_acks = d;
			ex->capdeferred = cap;
		}
		ex->deferred_acks[ex->ndeferred++] = msg_id;
		return copies;
	}
	e = stm_ledger_add(&ex->pending, lin.root, NULL);
	if (e == NULL)
		return copies; /* out of memory: the tree cannot be tracked */
	e->val = msg_id;
	e->since_ms = actor_clock_now();
	e->since_us = stm_now_us();
	STM_SET(ex->m->pending, ex->pending.count);
	if (ex->pending.count > ex->m->pending_max)
		STM_SET(ex->m->pending_max, ex->pending.count);
	send_ack_record(ex, STM_REC_INIT, lin.root, lin.spout_acc);
	return copies;
}

static int bolt_emit(struct executor *ex, int direct, const char *stream,
                     const stm_tuple *const *anchors, size_t nanchors, const stm_value *values,
                     size_t n)
{
	int s = stream_of(ex, stream, (int)n);
	if (s < 0 || ex->comp->kind == STM_KIND_SPOUT)
		return 0;
	STM_ADD(ex->m->emitted, 1);
	struct lineage lin = {.inputs = (stm_tuple *const *)anchors,
	                      .ninputs = anchors ? nanchors : 0};
	return route(ex, s, &lin, values, (int)n, direct);
}

/* ---- the public calls of component code -------------------------------------------- */

int stm_spout_emit(stm_ctx *c, const char *stream, const stm_value *values, size_t n,
                   bool has_msg_id, uint64_t msg_id)
{
	return spout_emit(c->ex, -1, stream, values, n, has_msg_id, msg_id);
}

int stm_spout_emit_direct(stm_ctx *c, int task, const char *stream, const stm_value *values,
                          size_t n, bool has_msg_id, uint64_t msg_id)
{
	if (task < 0)
		return 0;
	return spout_emit(c->ex, task, stream, values, n, has_msg_id, msg_id);
}

int stm_emit(stm_ctx *c, const char *stream, const stm_tuple *const *anchors, size_t nanchors,
             const stm_value *values, size_t n)
{
	return bolt_emit(c->ex, -1, stream, anchors, nanchors, values, n);
}

int stm_emit_direct(stm_ctx *c, int task, const char *stream, const stm_tuple *const *anchors,
                    size_t nanchors, const stm_value *values, size_t n)
{
	if (task < 0)
		return 0;
	return bolt_emit(c->ex, task, stream, anchors, nanchors, values, n);
}

static void finish_tuple(struct executor *ex, const stm_tuple *ct, bool ok)
{
	stm_tuple *t = (stm_tuple *)ct;
	if (t->done || t->source == NULL)
		return;
	t->done = true;
	if (ok)
		STM_ADD(ex->m->acked, 1);
	else
		STM_ADD(ex->m->failed, 1);
	if (!ex->topo->acking)
		return;
	for (int a = 0; a < t->nanchors; a++) {
		if (ok)
			send_ack_record(ex, STM_REC_ACK, t->anchors[a].root,
			                t->anchors[a].edge ^ t->anchors[a].acc);
		else
			send_ack_record(ex, STM_REC_FAIL, t->anchors[a].root, 0);
	}
}

void stm_ack(stm_ctx *c, const stm_tuple *t)
{
	finish_tuple(c->ex, t, true);
}

void stm_fail(stm_ctx *c, const stm_tuple *t)
{
	finish_tuple(c->ex, t, false);
}

int stm_ctx_task(const stm_ctx *c)
{
	return c->ex->task;
}

int stm_ctx_task_index(const stm_ctx *c)
{
	return c->ex->task - c->ex->comp->first_task;
}

int stm_ctx_parallelism(const stm_ctx *c)
{
	return c->ex->comp->parallelism;
}

const char *stm_ctx_component(const stm_ctx *c)
{
	return c->ex->comp->name;
}

const char *stm_ctx_conf(const stm_ctx *c, const char *key, const char *def)
{
	return stm_conf(c->ex->topo, key, def);
}

int64_t stm_ctx_conf_int(const stm_ctx *c, const char *key, int64_t def)
{
	return stm_conf_int(c->ex->topo, key, def);
}

size_t stm_ctx_component_tasks(const stm_ctx *c, const char *component, int *out, size_t max)
{
	const struct stm_component *comp = stm_topology_component(c->ex->topo, component);
	if (comp == NULL)
		return 0;
	for (int i = 0; i < comp->parallelism && (size_t)i < max; i++)
		out[i] = comp->first_task + i;
	return (size_t)comp->parallelism;
}

/* ---- spouts ----------------------------------------------------------------------- */

static const stm_spout_def *spout_def(struct executor *ex)
{
	return ex->comp->def;
}

static void run_deferred_acks(struct executor *ex)
{
	const stm_spout_def *d = spout_def(ex);
	for (size_t i = 0; i < ex->ndeferred; i++) {
		STM_ADD(ex->m->acked, 1);
		if (d->ack != NULL)
			d->ack(&ex->ctx, ex->state, ex->deferred_acks[i]);
	}
	ex->ndeferred = 0;
}

static void schedule_next(struct executor *ex);

static void spout_next_cb(actor_t *self, void *arg)
{
	struct executor *ex = arg;
	if (self == NULL)
		return;
	ex->next_scheduled = false;
	if (!ex->rt->active)
		return; /* the next routing table that is active schedules the spout */
	const stm_spout_def *d = spout_def(ex);
	bool idle = false;
	for (int i = 0; i < SPOUT_TURN; i++) {
		if (ex->topo->acking && ex->pending.count >= (size_t)ex->topo->max_spout_pending)
			break; /* backpressure: wait for trees to complete */
		uint64_t before = ex->m->emitted;
		d->next_tuple(&ex->ctx, ex->state);
		run_deferred_acks(ex);
		if (ex->m->emitted == before) {
			idle = true;
			break;
		}
	}
	flush(ex);
	if (ex->topo->acking && ex->pending.count >= (size_t)ex->topo->max_spout_pending)
		return; /* a done record schedules the next turn */
	if (idle) {
		/* Nothing to emit: ask again in 1 ms rather than spin (as Storm's sleep). */
		ex->next_scheduled = true;
		actor_delay(self, 1, spout_next_cb, ex);
		return;
	}
	schedule_next(ex);
}

static void on_next(actor_t *self, const actor_msg *msg, void *arg)
{
	spout_next_cb(self, arg);
}

static void schedule_next(struct executor *ex)
{
	if (ex->next_scheduled)
		return;
	ex->next_scheduled = true;
	actor_send(ex->self, actor_self(ex->self), NEXT_MSG, NULL, 0);
}

static void spout_done(struct executor *ex, uint64_t root, bool ok)
{
	struct stm_entry *e = stm_ledger_find(&ex->pending, root);
	if (e == NULL)
		return; /* timed out already */
	uint64_t msg_id = e->val;
	int64_t us = stm_now_us() - e->since_us;
	stm_ledger_remove(&ex->pending, e);
	STM_SET(ex->m->pending, ex->pending.count);
	const stm_spout_def *d = spout_def(ex);
	if (ok) {
		STM_ADD(ex->m->acked, 1);
		stm_metrics_complete(ex->m, us > 0 ? (uint64_t)us : 0);
		if (d->ack != NULL)
			d->ack(&ex->ctx, ex->state, msg_id);
	} else {
		STM_ADD(ex->m->failed, 1);
		if (d->fail != NULL)
			d->fail(&ex->ctx, ex->state, msg_id);
	}
}

struct expired {
	uint64_t *ids;
	size_t n, cap;
};

static void collect_expired(const struct stm_entry *e, void *arg)
{
	struct expired *x = arg;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		uint64_t *ids = realloc(x->ids, cap * sizeof(*ids));
		if (ids == NULL)
			return;
		x->ids = ids;
		x->cap = cap;
	}
	x->ids[x->n++] = e->val;
}

static int64_t sweep_interval(const struct executor *ex)
{
	int64_t ms = ex->topo->message_timeout_ms / 4;
	return ms < 50 ? 50 : ms > 1000 ? 1000 : ms;
}

/* Fails every tree older than the message timeout back to its spout's code. */
static void spout_sweep_cb(actor_t *self, void *arg)
{
	struct executor *ex = arg;
	if (self == NULL)
		return;
	struct expired x = {0};
	stm_ledger_expire(&ex->pending, actor_clock_now() - ex->topo->message_timeout_ms,
	                  collect_expired, &x);
	STM_SET(ex->m->pending, ex->pending.count);
	const stm_spout_def *d = spout_def(ex);
	for (size_t i = 0; i < x.n; i++) {
		STM_ADD(ex->m->failed, 1);
		STM_ADD(ex->m->timed_out, 1);
		if (d->fail != NULL)
			d->fail(&ex->ctx, ex->state, x.ids[i]);
	}
	free(x.ids);
	flush(ex);
	if (x.n > 0)
		schedule_next(ex);
	actor_delay(self, sweep_interval(ex), spout_sweep_cb, ex);
}

/* ---- ackers ----------------------------------------------------------------------- */

static void acker_record(struct executor *ex, const struct stm_record *rec)
{
	bool added;
	struct stm_entry *e = stm_ledger_add(&ex->ledger, rec->root, &added);
	if (e == NULL)
		return;
	if (added)
		e->since_ms = actor_clock_now();
	switch (rec->kind) {
	case STM_REC_INIT:
		e->task = (int32_t)rec->spout_task;
		e->val ^= rec->val;
		break;
	case STM_REC_ACK:
		e->val ^= rec->val;
		break;
	case STM_REC_FAIL:
		e->failed = 1;
		break;
	}
	if (e->task < 0 || (e->val != 0 && !e->failed))
		return;
	int spout = e->task;
	bool ok = !e->failed;
	uint64_t root = e->root;
	stm_ledger_remove(&ex->ledger, e);
	if (stm_topology_task_component(ex->topo, spout) == NULL)
		return;
	if (ok)
		STM_ADD(ex->m->acked, 1);
	else
		STM_ADD(ex->m->failed, 1);
	stm_buf_put_done(out_for(ex, spout), root, ok);
	maybe_flush(ex, spout);
}

/* Forgets trees older than the timeout: their spouts fail them by themselves. */
static void acker_sweep_cb(actor_t *self, void *arg)
{
	struct executor *ex = arg;
	if (self == NULL)
		return;
	stm_ledger_expire(&ex->ledger, actor_clock_now() - ex->topo->message_timeout_ms, NULL,
	                  NULL);
	actor_delay(self, sweep_interval(ex), acker_sweep_cb, ex);
}

/* ---- bolts, windows and ticks ----------------------------------------------------- */

static void execute(struct executor *ex, stm_tuple *t)
{
	if (ex->comp->kind == STM_KIND_WINDOW) {
		if (!stm_tuple_is_tick(t))
			stm_window_add(&ex->window, &ex->ctx, ex->state, t, actor_clock_now());
	} else {
		const stm_bolt_def *d = ex->comp->def;
		d->execute(&ex->ctx, ex->state, t);
	}
	if (!t->source)
		return;
	STM_ADD(ex->m->executed, 1);
	if (!t->done && !t->kept)
		finish_tuple(ex, t, true);
}

static void tick_cb(actor_t *self, void *arg)
{
	struct executor *ex = arg;
	if (self == NULL)
		return;
	stm_tuple tick = {.source = NULL, .stream = -1, .source_task = -1};
	execute(ex, &tick);
	flush(ex);
	actor_delay(self, ex->comp->tick_ms, tick_cb, ex);
}

static void window_slide_cb(actor_t *self, void *arg)
{
	struct executor *ex = arg;
	if (self == NULL)
		return;
	int64_t next = stm_window_slide(&ex->window, &ex->ctx, ex->state, actor_clock_now());
	flush(ex);
	actor_delay(self, next, window_slide_cb, ex);
}

/* ---- the actor ---------------------------------------------------------------------- */

static void on_batch(actor_t *self, const actor_msg *msg, void *arg)
{
	struct executor *ex = arg;
	struct stm_reader r = {.p = msg->data, .end = msg->data + msg->len};
	struct stm_record rec;
	stm_tuple t;
	int64_t start_us = 0;
	bool is_bolt = ex->comp->kind == STM_KIND_BOLT || ex->comp->kind == STM_KIND_WINDOW;
	uint64_t executed = 0;
	int rc;

	if (is_bolt)
		start_us = stm_now_us();
	while ((rc = stm_reader_next(&r, ex->topo, &rec, &t)) == 1) {
		switch (rec.kind) {
		case STM_REC_TUPLE:
			if (is_bolt) {
				execute(ex, &t);
				executed++;
			}
			break;
		case STM_REC_INIT:
		case STM_REC_ACK:
		case STM_REC_FAIL:
			if (ex->comp->kind == STM_KIND_ACKER)
				acker_record(ex, &rec);
			break;
		case STM_REC_DONE:
			if (ex->comp->kind == STM_KIND_SPOUT)
				spout_done(ex, rec.root, rec.ok);
			break;
		}
	}
	if (rc < 0)
		actor_warn("storm: task %d dropped the rest of a malformed batch from %s", ex->task,
		           actor_pid_str(msg->from));
	if (executed > 0)
		STM_ADD(ex->m->execute_us, (uint64_t)(stm_now_us() - start_us));
	if (ex->comp->kind == STM_KIND_SPOUT) {
		if (ex->comp->kind == STM_KIND_SPOUT)
			run_deferred_acks(ex);
		if (!ex->topo->acking || ex->pending.count < (size_t)ex->topo->max_spout_pending)
			schedule_next(ex);
	}
	flush(ex);
}

static int executor_init(actor_t *self)
{
	struct executor *ex = actor_state(self);
	ex->self = self;
	actor_install(self, BATCH_MSG, on_batch, ex);
	switch (ex->comp->kind) {
	case STM_KIND_SPOUT: {
		const stm_spout_def *d = ex->comp->def;
		actor_install(self, NEXT_MSG, on_next, ex);
		ex->state = d->open != NULL ? d->open(&ex->ctx, ex->comp->arg) : ex->comp->arg;
		schedule_next(ex);
		if (ex->topo->acking)
			actor_delay(self, sweep_interval(ex), spout_sweep_cb, ex);
		break;
	}
	case STM_KIND_BOLT: {
		const stm_bolt_def *d = ex->comp->def;
		ex->state =
		    d->prepare != NULL ? d->prepare(&ex->ctx, ex->comp->arg) : ex->comp->arg;
		break;
	}
	case STM_KIND_WINDOW: {
		const stm_window_def *d = ex->comp->def;
		ex->window.def = d;
		ex->state =
		    d->prepare != NULL ? d->prepare(&ex->ctx, ex->comp->arg) : ex->comp->arg;
		if (d->length_ms > 0)
			actor_delay(self, d->slide_ms > 0 ? d->slide_ms : d->length_ms,
			            window_slide_cb, ex);
		break;
	}
	case STM_KIND_ACKER:
		actor_delay(self, sweep_interval(ex), acker_sweep_cb, ex);
		break;
	}
	if (ex->comp->tick_ms > 0 && ex->comp->kind != STM_KIND_SPOUT)
		actor_delay(self, ex->comp->tick_ms, tick_cb, ex);
	ex->opened = true;
	flush(ex);
	return 0;
}

static void executor_free(struct executor *ex)
{
	if (ex->out != NULL)
		for (int i = 0; i < ex->topo->ntasks; i++)
			stm_buf_fini(&ex->out[i]);
	free(ex->out);
	free(ex->dirty);
	free(ex->rr);
	free(ex->deferred_acks);
	stm_ledger_fini(&ex->pending);
	stm_ledger_fini(&ex->ledger);
	stm_window_fini(&ex->window);
	stm_routing_unref(ex->rt);
	free(ex);
}

static void executor_fini(actor_t *self)
{
	struct executor *ex = actor_state(self);
	if (ex->opened) {
		switch (ex->comp->kind) {
		case STM_KIND_SPOUT: {
			const stm_spout_def *d = ex->comp->def;
			if (d->close != NULL)
				d->close(&ex->ctx, ex->state);
			break;
		}
		case STM_KIND_BOLT: {
			const stm_bolt_def *d = ex->comp->def;
			if (d->cleanup != NULL)
				d->cleanup(&ex->ctx, ex->state);
			break;
		}
		case STM_KIND_WINDOW: {
			const stm_window_def *d = ex->comp->def;
			if (d->cleanup != NULL)
				d->cleanup(&ex->ctx, ex->state);
			break;
		}
		default:
			break;
		}
	}
	executor_free(ex);
}

/* The actor definitions of the tasks: the runtime needs a definition for as long as
 * its actor lives, and an executor may end after its state is freed, so they live in
 * one table for the life of the process (one topology per process). */
static pthread_mutex_t defs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct task_def {
	actor_def def;
	char name[32];
} * defs;
static int ndefs;

static const actor_def *task_def(int task, int ntasks)
{
	const actor_def *d = NULL;
	pthread_mutex_lock(&defs_lock);
	if (defs == NULL) {
		defs = calloc((size_t)ntasks, sizeof(*defs));
		for (int i = 0; defs != NULL && i < ntasks; i++) {
			stm_task_actor_id(i, defs[i].name, sizeof(defs[i].name));
			defs[i].def = (actor_def){
			    .name = defs[i].name, .init = executor_init, .fini = executor_fini};
		}
		ndefs = defs != NULL ? ntasks : 0;
	}
	if (task >= 0 && task < ndefs)
		d = &defs[task].def;
	pthread_mutex_unlock(&defs_lock);
	return d;
}

int stm_executor_spawn(const struct stm_topology *topo, int task, struct stm_routing *routing,
                       struct stm_metrics *metrics, actor_pid *out)
{
	struct executor *ex = calloc(1, sizeof(*ex));
	if (ex == NULL)
		return ACTOR_ENOMEM;
	ex->topo = topo;
	ex->comp = stm_topology_task_component(topo, task);
	ex->task = task;
	ex->ctx.ex = ex;
	ex->m = metrics;
	ex->rt = stm_routing_ref(routing);
	ex->out = calloc((size_t)topo->ntasks, sizeof(*ex->out));
	ex->dirty = calloc((size_t)topo->ntasks, sizeof(int));
	ex->rr = calloc((size_t)topo->nsubs + 1, sizeof(uint32_t));
	if (ex->comp == NULL || ex->out == NULL || ex->dirty == NULL || ex->rr == NULL) {
		executor_free(ex);
		return ACTOR_ENOMEM;
	}
	uint8_t seed[8];
	FILE *f = fopen("/dev/urandom", "r");
	if (f == NULL || fread(seed, 1, sizeof(seed), f) != sizeof(seed))
		memcpy(seed, &ex, sizeof(seed) < sizeof(ex) ? sizeof(seed) : sizeof(ex));
	if (f != NULL)
		fclose(f);
	memcpy(&ex->rng, seed, sizeof(ex->rng));
	ex->rng ^= (uint64_t)stm_now_us() * 0x9E3779B97F4A7C15ULL + (uint64_t)task;
	if (ex->rng == 0)
		ex->rng = 88172645463325252ULL;
	/* Shuffles start at different tasks in different emitters. */
	for (int i = 0; i < topo->nsubs; i++)
		ex->rr[i] = (uint32_t)(rand64(ex) >> 40);
	const actor_def *def = task_def(task, topo->ntasks);
	if (def == NULL) {
		executor_free(ex);
		return ACTOR_ENOMEM;
	}
	int rc = actor_spawn(def, ex, out);
	if (rc != 0)
		executor_free(ex);
	return rc;
}

static void set_routing_cb(actor_t *self, void *arg)
{
	struct stm_routing *r = arg;
	if (self == NULL) {
		stm_routing_unref(r);
		return;
	}
	struct executor *ex = actor_state(self);
	/* Records waiting for the old table leave first, where it said. */
	flush(ex);
	stm_routing_unref(ex->rt);
	ex->rt = r;
	if (ex->comp->kind == STM_KIND_SPOUT && r->active)
		schedule_next(ex);
}

void stm_executor_set_routing(actor_pid executor, struct stm_routing *routing)
{
	if (actor_call(executor, set_routing_cb, stm_routing_ref(routing)) != 0)
		stm_routing_unref(routing);
}
