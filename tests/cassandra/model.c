/* model.c — a randomized test against a model: one client does random QUORUM writes and
 * reads over a few keys of a three-node ring (RF 3) while nodes are SIGKILLed and
 * restarted (at most one down at a time). Every read must return the last acknowledged
 * write of its key or a later write that failed (it may have landed); once a read has
 * returned a value, later reads never go back before it. The seed is printed and
 * CAS_SEED replays it. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cas_harness.h"

#define N 3
#define KEYS 12
#define MAXSEQ 4096

static int ports[N];
static pid_t pids[N];
static char addr[N][32], seeds[96], all[128];
static cas_client *client;

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
		pids[i] = ch_node_start(i, ports[i], seeds);
	char err[256];
	client = cas_client_connect(all, 10000, err, sizeof(err));
	cr_assert_not_null(client, "%s", err);
	for (int i = 0; i < N; i++)
		cr_assert(ch_wait_ring(client, addr[i], N, 15000));
	ch_cql(client, "CREATE KEYSPACE m WITH replication = {'class': 'SimpleStrategy', "
	               "'replication_factor': 3}");
}

static void teardown(void)
{
	cas_client_free(client);
	client = NULL;
	ch_fini();
}

TestSuite(model, .init = setup, .fini = teardown, .timeout = 150);

static void part_of(int key, cas_wbuf *p)
{
	char k[16];
	int n = snprintf(k, sizeof(k), "k%d", key);
	cas_put_u8(p, 5);
	cas_put_raw(p, "m.kv", 4);
	cas_put_u8(p, '_');
	cas_put_raw(p, k, (size_t)n);
}

/* Writes value seq (timestamp base + seq: later writes always win). */
static int write_seq(int key, int seq, int64_t base)
{
	cas_wbuf p = {0}, k = {0};
	cas_cells cells = {0};
	char err[256], v[16];
	part_of(key, &p);
	cas_put_u16(&k, (uint16_t)p.len);
	cas_put_raw(&k, p.data, p.len);
	cas_put_u8(&k, 0x03);
	cas_put_u8(&k, 'v');
	int n = snprintf(v, sizeof(v), "%d", seq);
	cas_cells_push(&cells, cas_cell_alloc(k.data, (uint32_t)k.len, base + seq, 0, 0, v,
	                                      (uint32_t)n));
	int st = cas_client_write(client, CAS_QUORUM, p.data, p.len, &cells, err, sizeof(err));
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	cas_wbuf_fini(&k);
	return st;
}

/* Reads the key: its value's seq, 0 when absent, -1 on failure. */
static int read_seq(int key)
{
	cas_wbuf p = {0};
	cas_cells cells = {0};
	char err[256];
	part_of(key, &p);
	int st = cas_client_read(client, CAS_QUORUM, p.data, p.len, &cells, err, sizeof(err));
	int seq = st != CAS_OK ? -1 : 0;
	if (st == CAS_OK && cells.n > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%.*s", (int)cells.v[0]->vlen, (const char *)CAS_CELL_VAL(cells.v[0]));
		seq = atoi(v);
	}
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	return seq;
}

struct model {
	int acked;               /* the seq every read must reach at least (0: none) */
	bool maybe[MAXSEQ + 1]; /* later writes that failed: they may be visible */
};

Test(model, quorum_reads_match_the_model_while_nodes_die_and_return)
{
	unsigned seed = getenv("CAS_SEED") ? (unsigned)atoi(getenv("CAS_SEED")) : (unsigned)time(NULL);
	srand(seed);
	cr_log_info("seed %u", seed);
	static struct model m[KEYS];
	memset(m, 0, sizeof(m));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t base = (int64_t)now.tv_sec * 1000000;
	int seq = 0, down = -1, down_for = 0, kills = 0, reads = 0, failed = 0;
	for (int step = 0; step < 400 && seq < MAXSEQ; step++) {
		int r = rand() % 100;
		if (down < 0 && r < 3) {
			down = rand() % N;
			ch_kill(pids[down], SIGKILL);
			down_for = 20 + rand() % 40;
			kills++;
			continue;
		}
		if (down >= 0 && --down_for <= 0) {
			pids[down] = ch_node_start(down, ports[down], seeds);
			cr_assert(ch_wait_ring(client, addr[(down + 1) % N], N, 20000),
			          "seed %u: node %d did not come back", seed, down);
			down = -1;
			continue;
		}
		int key = rand() % KEYS;
		if (r < 55) {
			int s = ++seq;
			if (write_seq(key, s, base) == CAS_OK) {
				m[key].acked = s;
				memset(m[key].maybe, 0, sizeof(m[key].maybe));
			} else {
				m[key].maybe[s] = true;
				failed++;
			}
		} else {
			int got = read_seq(key);
			if (got < 0) {
				failed++;
				continue;
			}
			reads++;
			bool ok = got == m[key].acked || (got > m[key].acked && got <= MAXSEQ && m[key].maybe[got]);
			cr_assert(ok, "seed %u step %d: key %d read %d, model says %d (or a later failed write)",
			          seed, step, key, got, m[key].acked);
			/* Read repair made it a quorum's: later reads start from it. */
			if (got > m[key].acked) {
				m[key].acked = got;
				for (int x = 0; x <= got; x++)
					m[key].maybe[x] = false;
			}
		}
	}
	cr_log_info("seed %u: %d writes, %d reads checked, %d kills, %d failed requests", seed, seq,
	            reads, kills, failed);
	cr_assert_gt(reads, 50, "seed %u: too few reads were checked", seed);
}
