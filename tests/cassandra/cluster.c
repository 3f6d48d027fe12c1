/* cluster.c — a ring of three real node processes (RF 3) and a client in the test
 * process: QUORUM with a replica down, hints replayed when it returns, read repair of a
 * stale replica, a node SIGKILLed in the middle of writes losing none it acknowledged,
 * and CQL (with its errors) against the ring. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cas_harness.h"
#include "cas_ring.h"
#include "cas_session.h"

#define N 3

static int ports[N];
static pid_t pids[N];
static char addr[N][32], all[128], seeds[96];
static cas_client *client;

static void start_node(int i)
{
	pids[i] = ch_node_start(i, ports[i], seeds);
}

static void setup(void)
{
	ch_init();
	ch_runtime_start();
	int base = ch_free_port(N);
	for (int i = 0; i < N; i++) {
		ports[i] = base + i;
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d", ports[i]);
	}
	snprintf(seeds, sizeof(seeds), "%s,%s", addr[0], addr[1]);
	snprintf(all, sizeof(all), "%s,%s,%s", addr[0], addr[1], addr[2]);
	for (int i = 0; i < N; i++)
		start_node(i);
	char err[256];
	client = cas_client_connect(all, 10000, err, sizeof(err));
	cr_assert_not_null(client, "%s", err);
	for (int i = 0; i < N; i++)
		cr_assert(ch_wait_ring(client, addr[i], N, 10000), "node %d did not see the ring", i);
	ch_cql(client, "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', "
	               "'replication_factor': 3}");
}

static void teardown(void)
{
	cas_client_free(client);
	client = NULL;
	ch_fini();
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 120);

/* ---- raw cells of keyspace k (table "k.raw": no CQL schema needed) -------------------- */

static void part_of(int key, cas_wbuf *p)
{
	char k[32];
	int n = snprintf(k, sizeof(k), "key%d", key);
	cas_put_u8(p, 5);
	cas_put_raw(p, "k.raw", 5);
	cas_put_raw(p, k, (size_t)n);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void cells_of(int key, const char *val, int64_t ts, cas_cells *out, cas_wbuf *p)
{
	part_of(key, p);
	cas_wbuf k = {0};
	cas_put_u16(&k, (uint16_t)p->len);
	cas_put_raw(&k, p->data, p->len);
	cas_put_u8(&k, 0x03);
	cas_put_u8(&k, 'v');
	cr_assert_eq(cas_cells_push(out, cas_cell_alloc(k.data, (uint32_t)k.len, ts, 0, 0, val,
	                                                (uint32_t)strlen(val))),
	             0);
	cas_wbuf_fini(&k);
}

static int write_key(cas_consistency cl, int key, const char *val, char *err, size_t errlen)
{
	cas_wbuf p = {0};
	cas_cells cells = {0};
	cells_of(key, val, now_us(), &cells, &p);
	int st = cas_client_write(client, cl, p.data, p.len, &cells, err, errlen);
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	return st;
}

/* The value of key as read at cl (or "" when absent), status returned. */
static int read_key(cas_consistency cl, int key, char *val, size_t n, char *err, size_t errlen)
{
	cas_wbuf p = {0};
	cas_cells cells = {0};
	part_of(key, &p);
	int st = cas_client_read(client, cl, p.data, p.len, &cells, err, errlen);
	val[0] = '\0';
	if (st == CAS_OK && cells.n == 1)
		snprintf(val, n, "%.*s", (int)cells.v[0]->vlen, (const char *)CAS_CELL_VAL(cells.v[0]));
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	return st;
}

/* What node i itself holds for key ("" when nothing). */
static bool local_value(int i, int key, char *val, size_t n)
{
	cas_wbuf p = {0};
	cas_cells cells = {0};
	char err[256];
	part_of(key, &p);
	int st = cas_client_fetch_local(client, addr[i], p.data, p.len, &cells, err, sizeof(err));
	val[0] = '\0';
	if (st == CAS_OK && cells.n == 1)
		snprintf(val, n, "%.*s", (int)cells.v[0]->vlen, (const char *)CAS_CELL_VAL(cells.v[0]));
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	return st == CAS_OK;
}

Test(cluster, quorum_write_then_read_with_one_of_three_replicas_down)
{
	char err[256], val[64];
	ch_kill(pids[2], SIGKILL);
	/* Before the ring has noticed, and after: QUORUM needs two of three. */
	for (int i = 0; i < 10; i++) {
		char v[16];
		snprintf(v, sizeof(v), "v%d", i);
		cr_assert_eq(write_key(CAS_QUORUM, i, v, err, sizeof(err)), CAS_OK, "%s", err);
		cr_assert_eq(read_key(CAS_QUORUM, i, val, sizeof(val), err, sizeof(err)), CAS_OK, "%s",
		             err);
		cr_assert_str_eq(val, v);
	}
	for (int i = 0; i < 2; i++)
		cr_assert(ch_wait_node_state(client, addr[i], addr[2], false, 10000),
		          "the failure detector of node %d did not convict the dead node", i);
	cr_assert_eq(write_key(CAS_ALL, 100, "x", err, sizeof(err)), CAS_UNAVAILABLE);
	cr_assert(strstr(err, "Cannot achieve consistency level ALL") != NULL, "%s", err);
	cr_assert_eq(read_key(CAS_ALL, 1, val, sizeof(val), err, sizeof(err)), CAS_UNAVAILABLE);
	cr_assert_eq(read_key(CAS_QUORUM, 3, val, sizeof(val), err, sizeof(err)), CAS_OK, "%s", err);
	cr_assert_str_eq(val, "v3");
	cr_assert_eq(read_key(CAS_ONE, 4, val, sizeof(val), err, sizeof(err)), CAS_OK, "%s", err);
	cr_assert_str_eq(val, "v4");
}

struct holds {
	int node, nkeys;
	const char *prefix;
};

static bool node_holds_all(void *arg)
{
	struct holds *h = arg;
	for (int i = 0; i < h->nkeys; i++) {
		char want[32], got[64];
		snprintf(want, sizeof(want), "%s%d", h->prefix, i);
		if (!local_value(h->node, i, got, sizeof(got)) || strcmp(got, want) != 0)
			return false;
	}
	return true;
}

Test(cluster, hints_are_replayed_when_the_replica_returns)
{
	char err[256];
	ch_kill(pids[2], SIGKILL);
	cr_assert(ch_wait_node_state(client, addr[0], addr[2], false, 10000));
	cr_assert(ch_wait_node_state(client, addr[1], addr[2], false, 10000));
	for (int i = 0; i < 20; i++) {
		char v[16];
		snprintf(v, sizeof(v), "h%d", i);
		cr_assert_eq(write_key(CAS_QUORUM, i, v, err, sizeof(err)), CAS_OK, "%s", err);
	}
	start_node(2);
	struct holds h = {2, 20, "h"};
	cr_assert(ch_wait(15000, node_holds_all, &h), "the returning replica did not get its hints");
}

struct stale {
	int key;
	const char *want;
};

static bool repaired(void *arg)
{
	struct stale *s = arg;
	char got[64];
	return local_value(2, s->key, got, sizeof(got)) && strcmp(got, s->want) == 0;
}

Test(cluster, read_repair_fixes_a_stale_replica)
{
	char err[256], val[64];
	cr_assert_eq(write_key(CAS_ALL, 7, "old", err, sizeof(err)), CAS_OK, "%s", err);
	/* A newer value lands on two replicas only: node 2 is stale, and no hint exists. */
	cas_wbuf p = {0};
	cas_cells cells = {0};
	cells_of(7, "new", now_us(), &cells, &p);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(cas_client_mutate_local(client, addr[i], p.data, p.len, &cells, err,
		                                     sizeof(err)),
		             CAS_OK, "%s", err);
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	cr_assert(local_value(2, 7, val, sizeof(val)));
	cr_assert_str_eq(val, "old");
	cr_assert_eq(read_key(CAS_QUORUM, 7, val, sizeof(val), err, sizeof(err)), CAS_OK, "%s", err);
	cr_assert_str_eq(val, "new");
	struct stale s = {7, "new"};
	cr_assert(ch_wait(5000, repaired, &s), "the stale replica was not repaired");
}

struct writer {
	int acked; /* keys 0..acked-1 were acknowledged at ALL */
	volatile int stop;
};

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	char err[256];
	for (int i = 0; !w->stop && i < 100000; i++) {
		char v[16];
		snprintf(v, sizeof(v), "w%d", i);
		if (write_key(CAS_ALL, i, v, err, sizeof(err)) != CAS_OK)
			break;
		__atomic_store_n(&w->acked, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static bool acked_some(void *arg)
{
	return __atomic_load_n(&((struct writer *)arg)->acked, __ATOMIC_ACQUIRE) >= 50;
}

Test(cluster, a_node_sigkilled_during_writes_loses_no_write_it_acknowledged)
{
	struct writer w = {0};
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, write_loop, &w), 0);
	bool enough = ch_wait(40000, acked_some, &w);
	/* Every write acknowledged at ALL was acknowledged by node 2 after its commit log
	 * sync: kill it in the middle of the stream. */
	ch_kill(pids[2], SIGKILL);
	pthread_join(t, NULL);
	cr_assert(enough, "the writes did not get going");
	int acked = w.acked;
	cr_assert_gt(acked, 0);
	start_node(2);
	struct holds h = {2, acked, "w"};
	/* Checked at once after the restart: hints would take a gossip round or more. */
	cr_assert(ch_wait(3000, node_holds_all, &h), "node 2 lost acknowledged writes (of %d)",
	          acked);
	char err[256], val[64];
	cr_assert(ch_wait_ring(client, addr[0], N, 10000));
	cr_assert_eq(read_key(CAS_QUORUM, acked - 1, val, sizeof(val), err, sizeof(err)), CAS_OK,
	             "%s", err);
}

/* Runs a statement; 0 with the result's printed form in out, or -1 with the error. */
static int cql(cas_session *s, const char *q, char *out, size_t n)
{
	cas_result r;
	if (cas_session_execute(s, q, &r, out, n) != 0)
		return -1;
	FILE *f = fmemopen(out, n, "w");
	cas_result_print(&r, f);
	fclose(f);
	cas_result_fini(&r);
	return 0;
}

Test(cluster, cql_reads_and_writes_rows_and_names_mistakes)
{
	cas_session *s = cas_session_alloc(client);
	char out[4096];
	cas_session_set_consistency(s, CAS_QUORUM);
#define OK(q) cr_assert_eq(cql(s, q, out, sizeof(out)), 0, "%s: %s", q, out)
#define ERR(q, want)                                                                              \
	do {                                                                                       \
		cr_assert_eq(cql(s, q, out, sizeof(out)), -1, "%s succeeded", q);                  \
		cr_assert(strstr(out, want) != NULL, "%s: '%s' lacks '%s'", q, out, want);         \
	} while (0)
	ERR("SELECT * FROM nope WHERE k = 1", "No keyspace has been specified");
	ERR("USE nope", "Keyspace 'nope' does not exist");
	OK("USE k");
	ERR("SELECT * FROM nope WHERE k = 1", "unconfigured table nope");
	OK("CREATE TABLE ev (user text, at bigint, what text, n int, PRIMARY KEY (user, at))");
	ERR("CREATE TABLE ev (a text PRIMARY KEY)", "already exists");
	OK("INSERT INTO ev (user, at, what, n) VALUES ('ann', 1, 'login', 1)");
	OK("INSERT INTO ev (user, at, what, n) VALUES ('ann', 2, 'view', 2)");
	OK("INSERT INTO ev (user, at, what) VALUES ('ann', 3, 'buy')");
	OK("INSERT INTO ev (user, at, what) VALUES ('ann', 4, 'gone soon') USING TTL 1");
	OK("UPDATE ev SET n = 30 WHERE user = 'ann' AND at = 3");
	OK("DELETE what FROM ev WHERE user = 'ann' AND at = 2");
	OK("SELECT at, what, n FROM ev WHERE user = 'ann' AND at >= 2 ORDER BY at DESC LIMIT 3");
	cr_assert(strstr(out, " at |      what |    n \n") != NULL, "%s", out);
	cr_assert(strstr(out, "  4 | gone soon | null \n  3 |       buy |   30 \n  2 |      null |    2 \n"),
	          "%s", out);
	cr_assert(strstr(out, "(3 rows)") != NULL, "%s", out);
	/* The TTL runs out; a row deletion removes the row. */
	struct timespec ts = {2, 100 * 1000000};
	nanosleep(&ts, NULL);
	OK("DELETE FROM ev WHERE user = 'ann' AND at = 1");
	OK("SELECT at FROM ev WHERE user = 'ann'");
	cr_assert(strstr(out, "(2 rows)") != NULL && strstr(out, "  4 ") == NULL, "%s", out);
	OK("DELETE FROM ev WHERE user = 'ann'");
	OK("SELECT * FROM ev WHERE user = 'ann'");
	cr_assert(strstr(out, "(0 rows)") != NULL, "%s", out);
	ERR("SELECT * FROM ev WHERE at = 1", "Some partition key parts are missing: user");
	ERR("SELECT * FROM ev WHERE user = 'a' AND what = 'x'", "Cannot restrict non-primary-key");
	ERR("INSERT INTO ev (user, at, n) VALUES ('a', 'one', 1)",
	    "invalid STRING constant (one) for \"at\" of type bigint");
	ERR("INSERT INTO ev (user, what) VALUES ('a', 'x')", "Some clustering keys are missing: at");
	ERR("INSERT INTO ev (user, at, color) VALUES ('a', 1, 'red')", "Undefined column name color");
	ERR("UPDATE ev SET at = 2 WHERE user = 'a' AND at = 1", "PRIMARY KEY part at found in SET");
	ERR("SELECT * FROM ev WHERE user = 'a' ORDER BY what", "only supported on the clustered");
	ERR("SELECT * FORM ev", "line 1:9 mismatched input 'FORM' expecting FROM");
	OK("DROP TABLE ev");
	ERR("SELECT * FROM ev WHERE user = 'a'", "unconfigured table ev");
	/* A recreated table starts empty. */
	OK("CREATE TABLE ev (user text, at bigint, PRIMARY KEY (user, at))");
	OK("SELECT * FROM ev WHERE user = 'ann'");
	cr_assert(strstr(out, "(0 rows)") != NULL, "%s", out);
	cas_session_free(s);
}

struct joined {
	char addr[32];
	int nkeys;
};

/* Whether the new node holds every key of which it is now a replica (by the ring as
 * node 0 sees it), and is a replica of some. */
static bool streamed(void *arg)
{
	struct joined *j = arg;
	cas_ring_info info;
	char err[256];
	if (cas_client_ring(client, addr[0], &info, err, sizeof(err)) != CAS_OK)
		return false;
	cas_ring ring = {0};
	int me = -1;
	for (size_t i = 0; i < info.n; i++) {
		cas_ring_add(&ring, (int)i, info.v[i].tokens, info.v[i].ntokens);
		if (strcmp(info.v[i].addr, j->addr) == 0)
			me = (int)i;
	}
	cas_ring_sort(&ring);
	bool ok = me >= 0 && info.n == 4;
	int owned = 0;
	for (int k = 0; k < j->nkeys && ok; k++) {
		cas_wbuf p = {0};
		part_of(k, &p);
		int reps[3];
		size_t n = cas_ring_replicas(&ring, cas_partition_token(p.data, p.len), 3, reps);
		for (size_t r = 0; r < n && ok; r++) {
			if (reps[r] != me)
				continue;
			owned++;
			cas_cells cells = {0};
			ok = cas_client_fetch_local(client, j->addr, p.data, p.len, &cells, err,
			                            sizeof(err)) == CAS_OK &&
			     cells.n == 1;
			cas_cells_fini(&cells);
		}
		cas_wbuf_fini(&p);
	}
	cas_ring_fini(&ring);
	cas_ring_info_fini(&info);
	return ok && owned > 0;
}

Test(cluster, an_added_node_streams_its_ranges_and_every_key_stays_readable)
{
	char err[256], val[64];
	enum { KEYS = 200 };
	for (int i = 0; i < KEYS; i++) {
		char v[16];
		snprintf(v, sizeof(v), "a%d", i);
		cr_assert_eq(write_key(CAS_QUORUM, i, v, err, sizeof(err)), CAS_OK, "%s", err);
	}
	struct joined j = {.nkeys = KEYS};
	int port = ch_free_port(1);
	snprintf(j.addr, sizeof(j.addr), "127.0.0.1:%d", port);
	ch_node_start(3, port, seeds);
	for (int i = 0; i < N; i++)
		cr_assert(ch_wait_ring(client, addr[i], N + 1, 15000), "node %d did not see the new node",
		          i);
	cr_assert(ch_wait(20000, streamed, &j), "the new node did not receive its ranges");
	for (int i = 0; i < KEYS; i++) {
		char v[16];
		snprintf(v, sizeof(v), "a%d", i);
		cr_assert_eq(read_key(CAS_QUORUM, i, val, sizeof(val), err, sizeof(err)), CAS_OK, "%s",
		             err);
		cr_assert_str_eq(val, v, "key%d", i);
	}
}
