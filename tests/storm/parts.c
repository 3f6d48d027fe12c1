/* parts.c — the storm framework's parts without a cluster: the tuple wire format
 * (and its rejection of malformed batches), the ledger behind pending tables and
 * ackers, the XOR rule of tuple trees, the topology builder's checks, routing. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ledger.h"
#include "routing.h"
#include "topology.h"
#include "tuple.h"

static void noop_next(stm_ctx *c, void *s)
{
}

static void noop_exec(stm_ctx *c, void *s, const stm_tuple *t)
{
}

static const stm_spout_def spout_def = {.next_tuple = noop_next};
static const stm_bolt_def bolt_def = {.execute = noop_exec};

static void small_build(stm_topology *t, void *arg)
{
	stm_component *s = stm_spout(t, "s", &spout_def, NULL, 1);
	stm_declare(s, NULL, 3, "word", "n", "x");
	stm_declare(s, "other", 1, "raw");
	stm_component *b = stm_bolt(t, "b", &bolt_def, NULL, 3);
	stm_declare(b, NULL, 0);
	stm_fields(b, "s", NULL, 1, "word");
	stm_component *c = stm_bolt(t, "c", &bolt_def, NULL, 2);
	stm_all(c, "s", "other");
	stm_set_workers(t, 2);
}

static struct stm_topology *built(stm_build_fn fn)
{
	struct stm_topology *t = stm_topology_alloc(NULL, NULL, 0);
	cr_assert_not_null(t);
	cr_assert_eq(stm_topology_build(t, fn, NULL), 0, "%s", stm_topology_error(t));
	return t;
}

Test(storm_parts, tuples_round_trip_through_a_batch)
{
	struct stm_topology *topo = built(small_build);
	struct stm_buf b = {0};
	struct stm_anchor anchors[2] = {{.root = 11, .edge = 22}, {.root = 33, .edge = 44}};
	stm_value v[3] = {stm_str("hello"), stm_int(-7), stm_double(2.5)};
	cr_assert_eq(stm_buf_put_tuple(&b, 0, 0, anchors, 2, v, 3), 0);
	cr_assert_eq(stm_buf_put_ack(&b, STM_REC_INIT, 99, 1234, 0), 0);
	cr_assert_eq(stm_buf_put_ack(&b, STM_REC_ACK, 99, 1234, 0), 0);
	cr_assert_eq(stm_buf_put_ack(&b, STM_REC_FAIL, 98, 0, 0), 0);
	cr_assert_eq(stm_buf_put_done(&b, 99, true), 0);
	cr_assert_eq(b.records, 5);

	struct stm_reader r = {.p = b.p, .end = b.p + b.len};
	struct stm_record rec;
	stm_tuple t;
	cr_assert_eq(stm_reader_next(&r, topo, &rec, &t), 1);
	cr_assert_eq(rec.kind, STM_REC_TUPLE);
	size_t len;
	const char *s = stm_tuple_string(&t, 0, &len);
	cr_expect(len == 5 && memcmp(s, "hello", 5) == 0);
	cr_expect_eq(stm_tuple_int(&t, 1), -7);
	cr_expect_eq(stm_tuple_double(&t, 2), 2.5);
	cr_expect_eq(stm_tuple_field(&t, "n").u.i, -7);
	cr_expect_eq(stm_tuple_field(&t, "nope").type, STM_NULL);
	cr_expect_str_eq(stm_tuple_component(&t), "s");
	cr_expect_str_eq(stm_tuple_stream(&t), "default");
	cr_expect_eq(t.nanchors, 2);
	cr_expect_eq(t.anchors[1].root, 33);
	cr_expect_eq(t.anchors[1].edge, 44);
	cr_assert_eq(stm_reader_next(&r, topo, &rec, &t), 1);
	cr_expect(rec.kind == STM_REC_INIT && rec.root == 99 && rec.val == 1234 &&
	          rec.spout_task == 0);
	cr_assert_eq(stm_reader_next(&r, topo, &rec, &t), 1);
	cr_expect(rec.kind == STM_REC_ACK && rec.val == 1234);
	cr_assert_eq(stm_reader_next(&r, topo, &rec, &t), 1);
	cr_expect(rec.kind == STM_REC_FAIL && rec.root == 98);
	cr_assert_eq(stm_reader_next(&r, topo, &rec, &t), 1);
	cr_expect(rec.kind == STM_REC_DONE && rec.ok);
	cr_expect_eq(stm_reader_next(&r, topo, &rec, &t), 0);

	/* A kept copy owns its strings. */
	struct stm_reader r2 = {.p = b.p, .end = b.p + b.len};
	stm_reader_next(&r2, topo, &rec, &t);
	stm_tuple *kept = stm_tuple_keep(&t);
	cr_assert_not_null(kept);
	memset(b.p, 0, b.len);
	s = stm_tuple_string(kept, 0, &len);
	cr_expect(len == 5 && memcmp(s, "hello", 5) == 0);
	stm_tuple_free(kept);
	stm_buf_fini(&b);
	stm_topology_free(topo);
}

Test(storm_parts, malformed_batches_are_rejected_not_read_past)
{
	struct stm_topology *topo = built(small_build);
	struct stm_buf b = {0};
	stm_value v[3] = {stm_str("a long enough string"), stm_int(1), stm_int(2)};
	stm_buf_put_tuple(&b, 0, 0, NULL, 0, v, 3);
	struct stm_record rec;
	stm_tuple t;
	/* Every truncation fails cleanly. */
	for (size_t cut = 1; cut < b.len; cut++) {
		uint8_t *copy = malloc(cut);
		memcpy(copy, b.p, cut);
		struct stm_reader r = {.p = copy, .end = copy + cut};
		cr_expect_eq(stm_reader_next(&r, topo, &rec, &t), -1, "cut at %zu", cut);
		free(copy);
	}
	/* An unknown task, stream, record kind, or too many values. */
	uint8_t bad_task[] = {'T', 200, 0, 0, 0, 0, 0, 0, 0};
	uint8_t bad_stream[] = {'T', 0, 0, 0, 0, 9, 0, 0, 0};
	uint8_t bad_kind[] = {'Z', 0};
	uint8_t too_many[] = {'T', 0, 0, 0, 0, 1, 0, 0, 5};
	const uint8_t *cases[] = {bad_task, bad_stream, bad_kind, too_many};
	size_t lens[] = {sizeof(bad_task), sizeof(bad_stream), sizeof(bad_kind), sizeof(too_many)};
	for (int i = 0; i < 4; i++) {
		struct stm_reader r = {.p = cases[i], .end = cases[i] + lens[i]};
		cr_expect_eq(stm_reader_next(&r, topo, &rec, &t), -1, "case %d", i);
	}
	stm_buf_fini(&b);
	stm_topology_free(topo);
}

Test(storm_parts, ledger_adds_finds_removes_and_expires)
{
	struct stm_ledger l = {0};
	for (uint64_t r = 1; r <= 5000; r++) {
		bool added;
		struct stm_entry *e = stm_ledger_add(&l, r, &added);
		cr_assert(e != NULL && added);
		e->val = r * 3;
		e->since_ms = (int64_t)r;
	}
	cr_expect_eq(l.count, 5000);
	for (uint64_t r = 1; r <= 5000; r += 2)
		stm_ledger_remove(&l, stm_ledger_find(&l, r));
	cr_expect_eq(l.count, 2500);
	for (uint64_t r = 1; r <= 5000; r++) {
		struct stm_entry *e = stm_ledger_find(&l, r);
		if (r % 2)
			cr_expect_null(e, "root %llu removed", (unsigned long long)r);
		else
			cr_expect(e != NULL && e->val == r * 3, "root %llu kept",
			          (unsigned long long)r);
	}
	cr_expect_eq(stm_ledger_expire(&l, 2001, NULL, NULL), 1000, "roots 2..2000 expire");
	cr_expect_eq(l.count, 1500);
	cr_expect_null(stm_ledger_find(&l, 2000));
	cr_expect_not_null(stm_ledger_find(&l, 2002));
	stm_ledger_fini(&l);
}

Test(storm_parts, a_tree_completes_when_the_xor_returns_to_zero)
{
	/* A spout tuple with two children, one of which has a child: each edge id is
	 * xored in once when emitted and once when acked. */
	uint64_t e1 = 0x1111, e2 = 0x2222, e3 = 0x4444;
	uint64_t ledger = 0;
	ledger ^= e1 ^ e2; /* spout init: its edges */
	ledger ^= e1 ^ e3; /* bolt acks e1, anchoring e3 */
	cr_expect_neq(ledger, 0);
	ledger ^= e3; /* e3 acked */
	cr_expect_neq(ledger, 0);
	ledger ^= e2; /* e2 acked */
	cr_expect_eq(ledger, 0);
}

static void bad_field(stm_topology *t, void *arg)
{
	stm_component *s = stm_spout(t, "s", &spout_def, NULL, 1);
	stm_declare(s, NULL, 1, "word");
	stm_component *b = stm_bolt(t, "b", &bolt_def, NULL, 1);
	stm_fields(b, "s", NULL, 1, "missing");
}

static void bad_source(stm_topology *t, void *arg)
{
	stm_spout(t, "s", &spout_def, NULL, 1);
	stm_shuffle(stm_bolt(t, "b", &bolt_def, NULL, 1), "nobody", NULL);
}

static void duplicate(stm_topology *t, void *arg)
{
	stm_spout(t, "s", &spout_def, NULL, 1);
	stm_bolt(t, "s", &bolt_def, NULL, 1);
}

static void zero_parallelism(stm_topology *t, void *arg)
{
	stm_spout(t, "s", &spout_def, NULL, 0);
}

Test(storm_parts, the_builder_refuses_bad_topologies_with_a_reason)
{
	struct {
		stm_build_fn fn;
		const char *needle;
	} cases[] = {{bad_field, "missing"},
	             {bad_source, "nobody"},
	             {duplicate, "duplicate"},
	             {zero_parallelism, "parallelism"},
	             {NULL, "no components"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stm_topology *t = stm_topology_alloc(NULL, NULL, 0);
		cr_expect_neq(stm_topology_build(t, cases[i].fn, NULL), 0);
		const char *err = stm_topology_error(t);
		cr_expect(err != NULL && strstr(err, cases[i].needle) != NULL, "case %zu: %s", i,
		          err ? err : "(none)");
		stm_topology_free(t);
	}
}

Test(storm_parts, tasks_are_numbered_and_dealt_to_workers)
{
	const char *keys[] = {"topology.workers", "topology.max.spout.pending"};
	const char *values[] = {"3", "77"};
	struct stm_topology *t = stm_topology_alloc(keys, values, 2);
	cr_assert_eq(stm_topology_build(t, small_build, NULL), 0);
	cr_expect_eq(t->workers, 3, "the configuration overrides the builder");
	cr_expect_eq(t->max_spout_pending, 77);
	/* s:1 + b:3 + c:2 + ackers: one per worker. */
	cr_expect_eq(t->ntasks, 1 + 3 + 2 + 3);
	cr_expect_str_eq(stm_topology_task_component(t, 0)->name, "s");
	cr_expect_str_eq(stm_topology_task_component(t, 3)->name, "b");
	cr_expect_str_eq(stm_topology_task_component(t, 5)->name, "c");
	cr_expect_str_eq(stm_topology_task_component(t, 8)->name, STM_ACKER_NAME);
	for (uint64_t root = 1; root < 100; root++) {
		int a = stm_topology_acker_task(t, root);
		cr_expect(a >= 6 && a <= 8);
	}
	const char *addrs[] = {"127.0.0.1:1000", "", "127.0.0.1:3000"};
	struct stm_routing *r = stm_routing_alloc(t, 5, 3, addrs, 0, true);
	cr_assert_not_null(r);
	cr_expect_str_eq(r->pids[3].id, "stm-t3");
	cr_expect_eq(r->pids[3].port, 1000, "task 3 on worker 0");
	cr_expect(actor_pid_is_none(r->pids[4]), "worker 1 is down");
	cr_expect_eq(r->pids[5].port, 3000);
	cr_expect(stm_routing_local(r, 6) && !stm_routing_local(r, 7));
	stm_routing_unref(r);
	/* Equal keys hash equally; the fields grouping relies on it across hosts. */
	stm_value a[1] = {stm_str("apple")}, b[1] = {stm_strn("apple pie", 5)};
	int keys0[] = {0};
	cr_expect_eq(stm_values_hash(a, keys0, 1), stm_values_hash(b, keys0, 1));
	stm_topology_free(t);
}
