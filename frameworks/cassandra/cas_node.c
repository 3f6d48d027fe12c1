/* cas_node.c — the node actor: start-up (storage, tokens, generation), the replica
 * side (mutate with group commit, fetch), gossip rounds and the schema lookups the
 * coordinator needs. */
#include "cas_node_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <actor/log.h>
#include <actor/runtime.h>

#include "cas_key.h"
#include "cas_value.h"

void cas_node_opts_default(cas_node_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->num_tokens = 16;
	o->phi_threshold = 8;
	o->gossip_ms = 200;
	o->sync_period_ms = 10000;
	o->timeout_ms = 2000;
	cas_store_opts_default(&o->store);
}

int64_t cas_node_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cas_node_send(struct cas_node *n, int m, const char *name, const cas_wbuf *w)
{
	if (m < 0 || (size_t)m >= n->g.n || w->oom)
		return;
	actor_send(n->self, n->g.v[m].pid, name, w->data, w->len);
}

/* ---- tokens and generation, kept in the data directory ----------------------- */

/* Reads "<dir>/node.meta" (generation, then one token a line) or makes it. */
static int load_identity(const char *dir, int num_tokens, uint64_t *generation, int64_t **tokens,
                         size_t *ntokens, bool *fresh, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/node.meta", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	uint64_t prev = 0;
	size_t n = 0, cap = 0;
	int64_t *v = NULL;
	FILE *f = fopen(path, "re");
	if (f != NULL) {
		unsigned long long g;
		long long t;
		if (fscanf(f, "generation %llu\n", &g) == 1)
			prev = g;
		while (fscanf(f, "token %lld\n", &t) == 1) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				int64_t *nv = realloc(v, cap * sizeof(*v));
				if (nv == NULL)
					break;
				v = nv;
			}
			v[n++] = t;
		}
		fclose(f);
	}
	*fresh = n == 0;
	if (n == 0) {
		free(v);
		n = (size_t)(num_tokens > 0 ? num_tokens : 16);
		v = malloc(n * sizeof(*v));
		if (v == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		cas_ring_random_tokens(v, n);
	}
	/* A restart must supersede every state others hold about the previous run. */
	uint64_t gen = (uint64_t)time(NULL);
	if (gen <= prev)
		gen = prev + 1;
	f = fopen(tmp, "we");
	if (f == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		free(v);
		return -1;
	}
	fprintf(f, "generation %llu\n", (unsigned long long)gen);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "token %lld\n", (long long)v[i]);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		free(v);
		return -1;
	}
	*generation = gen;
	*tokens = v;
	*ntokens = n;
	return 0;
}

/* ---- schema lookups ------------------------------------------------------------ */

void cas_node_forget_schema(struct cas_node *n)
{
	n->nrf_cache = 0;
}

/* The partition of the schema table: "system.schema" with an empty text key. */
static void schema_partition(cas_wbuf *w)
{
	static const char table[] = "system.schema";
	cas_put_u8(w, sizeof(table) - 1);
	cas_put_raw(w, table, sizeof(table) - 1);
	cas_value empty = cas_value_text("");
	cas_value_put_key(w, &empty);
}

int cas_node_rf(struct cas_node *n, const uint8_t *part, size_t plen)
{
	const char *table;
	size_t tlen, klen;
	const uint8_t *key;
	if (!cas_partition_split(part, plen, &table, &tlen, &key, &klen))
		return 0;
	const char *dot = memchr(table, '.', tlen);
	size_t kslen = dot ? (size_t)(dot - table) : tlen;
	int members = 0;
	for (size_t i = 0; i < n->g.n; i++)
		members += n->g.v[i].ntokens > 0;
	if (kslen == 6 && memcmp(table, "system", 6) == 0)
		return members;
	if (kslen >= sizeof(n->rf_cache[0].ks))
		return 0;
	char ks[64];
	memcpy(ks, table, kslen);
	ks[kslen] = '\0';
	for (size_t i = 0; i < n->nrf_cache; i++)
		if (strcmp(n->rf_cache[i].ks, ks) == 0)
			return n->rf_cache[i].rf;
	/* The keyspace's row in system.schema: clustering (keyspace, ""), column "rf". */
	cas_wbuf p = {0}, k = {0};
	schema_partition(&p);
	cas_put_u16(&k, (uint16_t)p.len);
	cas_put_raw(&k, p.data, p.len);
	cas_value vk = cas_value_text(ks), ve = cas_value_text("");
	cas_put_u8(&k, CAS_KIND_CLUSTERING);
	cas_value_put_key(&k, &vk);
	cas_put_u8(&k, CAS_KIND_CLUSTERING);
	cas_value_put_key(&k, &ve);
	cas_put_u8(&k, CAS_KIND_COLUMN);
	cas_put_raw(&k, "rf", 2);
	cas_cells cells = {0};
	int rf = 0;
	if (!p.oom && !k.oom && cas_store_read(n->store, p.data, p.len, &cells) == 0) {
		for (size_t i = 0; i < cells.n; i++) {
			cas_cell *c = cells.v[i];
			if (cas_key_cmp(CAS_CELL_KEY(c), c->klen, k.data, k.len) == 0 &&
			    !cas_cell_dead(c, (uint32_t)time(NULL)) && c->vlen == 4)
				rf = (int32_t)cas_be32_load(CAS_CELL_VAL(c));
		}
	}
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	cas_wbuf_fini(&k);
	if (rf > 0 && n->nrf_cache < 16) {
		snprintf(n->rf_cache[n->nrf_cache].ks, sizeof(n->rf_cache[0].ks), "%s", ks);
		n->rf_cache[n->nrf_cache++].rf = rf;
	}
	return rf;
}

/* ---- replica side: mutate with group commit, fetch ------------------------------ */

static void send_ack(struct cas_node *n, actor_pid to, uint64_t id, bool ok)
{
	cas_wbuf w = {0};
	cas_put_u64(&w, id);
	cas_put_u8(&w, ok);
	if (!w.oom)
		actor_send(n->self, to, CAS_MSG_MUTATE_ACK, w.data, w.len);
	cas_wbuf_fini(&w);
}

/* Runs after the messages queued now: one fdatasync acknowledges every mutation that
 * arrived meanwhile (Cassandra's batch commit log mode groups the same way). */
static void sync_cb(actor_t *self, void *arg)
{
	struct cas_node *n = arg;
	if (self == NULL)
		return;
	n->sync_armed = false;
	bool ok = cas_store_sync(n->store) == 0;
	for (size_t i = 0; i < n->nacks; i++)
		send_ack(n, n->acks[i].to, n->acks[i].id, ok && n->acks[i].ok);
	n->nacks = 0;
	if (cas_store_maybe_flush(n->store, false) == 0)
		cas_store_compact(n->store, (uint32_t)time(NULL), false);
}

static void queue_ack(struct cas_node *n, actor_pid to, uint64_t id, bool ok)
{
	if (n->opts.periodic_sync) {
		send_ack(n, to, id, ok);
		return;
	}
	if (n->nacks == n->capacks) {
		size_t cap = n->capacks ? n->capacks * 2 : 64;
		struct cas_ack *v = realloc(n->acks, cap * sizeof(*v));
		if (v == NULL) {
			send_ack(n, to, id, false);
			return;
		}
		n->acks = v;
		n->capacks = cap;
	}
	n->acks[n->nacks++] = (struct cas_ack){to, id, ok};
	if (!n->sync_armed) {
		n->sync_armed = true;
		actor_delay(n->self, 0, sync_cb, n);
	}
}

/* Whether every cell belongs to the partition. */
static bool cells_in_partition(const cas_cells *cells, const uint8_t *part, size_t plen)
{
	for (size_t i = 0; i < cells->n; i++) {
		const uint8_t *p;
		size_t pl;
		const cas_cell *c = cells->v[i];
		if (!cas_key_partition(CAS_CELL_KEY(c), c->klen, &p, &pl) || pl != plen ||
		    memcmp(p, part, plen) != 0)
			return false;
	}
	return true;
}

void cas_node_apply(struct cas_node *n, const uint8_t *part, size_t plen, const cas_cells *cells,
                    actor_pid to, uint64_t id)
{
	bool ok = cas_store_apply(n->store, cells) == 0;
	const char *table;
	size_t tlen, klen;
	const uint8_t *key;
	if (cas_partition_split(part, plen, &table, &tlen, &key, &klen) && tlen == 13 &&
	    memcmp(table, "system.schema", 13) == 0)
		cas_node_forget_schema(n);
	queue_ack(n, to, id, ok);
}

static void on_mutate(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	size_t plen;
	const uint8_t *part = cas_get_bytes(&r, &plen);
	cas_cells cells = {0};
	if (r.bad || plen == 0 || plen > CAS_PARTITION_MAX || cas_cells_decode(&r, &cells) != 0 ||
	    !cells_in_partition(&cells, part, plen)) {
		actor_warn("cassandra: malformed mutation from %s dropped", actor_pid_str(msg->from));
		if (!r.bad)
			send_ack(n, msg->from, id, false);
		cas_cells_fini(&cells);
		return;
	}
	cas_node_apply(n, part, plen, &cells, msg->from, id);
	cas_cells_fini(&cells);
}

static void on_fetch(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	uint64_t id = cas_get_u64(&r);
	size_t plen;
	const uint8_t *part = cas_get_bytes(&r, &plen);
	cas_cells cells = {0};
	bool ok = !r.bad && plen > 0 && plen <= CAS_PARTITION_MAX &&
	          cas_store_read(n->store, part, plen, &cells) == 0;
	if (r.bad) {
		actor_warn("cassandra: malformed fetch from %s dropped", actor_pid_str(msg->from));
		return;
	}
	cas_wbuf w = {0};
	cas_put_u64(&w, id);
	cas_put_u8(&w, ok);
	cas_cells_encode(&w, &cells);
	if (!w.oom)
		actor_send(self, msg->from, CAS_MSG_FETCH_REPLY, w.data, w.len);
	cas_wbuf_fini(&w);
	cas_cells_fini(&cells);
}

/* ---- gossip ----------------------------------------------------------------------- */

static void send_gossip(struct cas_node *n, int m, bool reply_wanted)
{
	cas_wbuf w = {0};
	cas_put_u8(&w, reply_wanted);
	cas_gossip_encode(&n->g, &w);
	cas_node_send(n, m, CAS_MSG_GOSSIP, &w);
	cas_wbuf_fini(&w);
}

static void on_gossip(actor_t *self, const actor_msg *msg, void *arg)
{
	struct cas_node *n = arg;
	(void)self;
	cas_rbuf r = cas_rbuf_of(msg->data, msg->len);
	bool reply = cas_get_u8(&r);
	if (r.bad || cas_gossip_merge(&n->g, &r, cas_node_now_ms()) < 0) {
		actor_warn("cassandra: malformed gossip from %s dropped", actor_pid_str(msg->from));
		return;
	}
	if (reply) {
		char addr[64];
		uint32_t ip = msg->from.ip;
		snprintf(addr, sizeof(addr), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255,
		         (ip >> 8) & 255, ip & 255, msg->from.port);
		int m = cas_gossip_find(&n->g, addr);
		if (m > 0)
			send_gossip(n, m, false);
	}
}

static void gossip_cb(actor_t *self, void *arg)
{
	struct cas_node *n = arg;
	if (self == NULL)
		return;
	cas_member *me = &n->g.v[0];
	me->version++;
	me->load = cas_store_load(n->store);
	int64_t now = cas_node_now_ms();
	cas_gossip_check(&n->g, now);
	int targets[4];
	size_t k = cas_gossip_targets(&n->g, (const char *const *)n->seeds, n->nseeds, targets);
	for (size_t i = 0; i < k; i++)
		send_gossip(n, targets[i], true);
	cas_hints_replay(n);
	/* A new node streams its ranges a few rounds after it first hears of the ring, so
	 * that the others have learnt its tokens too. */
	if (n->bootstrap) {
		bool heard = false;
		for (size_t i = 1; i < n->g.n; i++)
			heard |= n->g.v[i].ntokens > 0 && n->g.v[i].up;
		if (heard && ++n->bootstrap_wait >= 5) {
			n->bootstrap = false;
			cas_stream_request(n);
		}
	}
	actor_delay(self, n->opts.gossip_ms, gossip_cb, n);
}

static void periodic_sync_cb(actor_t *self, void *arg)
{
	struct cas_node *n = arg;
	if (self == NULL)
		return;
	cas_store_sync(n->store);
	if (cas_store_maybe_flush(n->store, false) == 0)
		cas_store_compact(n->store, (uint32_t)time(NULL), false);
	actor_delay(self, n->opts.sync_period_ms, periodic_sync_cb, n);
}

static int node_init(actor_t *self)
{
	struct cas_node *n = actor_state(self);
	n->self = self;
	n->pid = actor_self(self);
	actor_install(self, CAS_MSG_MUTATE, on_mutate, n);
	actor_install(self, CAS_MSG_FETCH, on_fetch, n);
	actor_install(self, CAS_MSG_GOSSIP, on_gossip, n);
	cas_coord_install(n);
	cas_stream_install(n);
	actor_delay(self, 0, gossip_cb, n);
	if (n->opts.periodic_sync)
		actor_delay(self, n->opts.sync_period_ms, periodic_sync_cb, n);
	return 0;
}

static void node_fini(actor_t *self)
{
	struct cas_node *n = actor_state(self);
	n->self = NULL; /* pending timers are cancelled by the runtime as the actor ends */
	for (size_t i = 0; i < CAS_PENDING_SLOTS; i++)
		while (n->slots[i])
			cas_pending_free(n, n->slots[i]);
	/* Acknowledgements never sent: their writers time out, as after a crash. */
	n->nacks = 0;
}

static const actor_def node_def = {
    .name = CAS_NODE_ACTOR,
    .init = node_init,
    .fini = node_fini,
};

static void node_free(struct cas_node *n)
{
	cas_store_close(n->store);
	cas_gossip_fini(&n->g);
	for (size_t i = 0; i < n->nseeds; i++)
		free(n->seeds[i]);
	free(n->seeds);
	free(n->acks);
	free(n->hints_inflight);
	free(n->data_dir);
	free(n);
}

cas_node *cas_node_start(const cas_node_opts *opts, char *err, size_t errlen)
{
	struct cas_node *n = calloc(1, sizeof(*n));
	uint64_t gen;
	int64_t *tokens = NULL;
	size_t ntokens;
	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->opts = *opts;
	cas_node_opts def;
	cas_node_opts_default(&def);
	if (n->opts.num_tokens <= 0)
		n->opts.num_tokens = def.num_tokens;
	if (n->opts.phi_threshold <= 0)
		n->opts.phi_threshold = def.phi_threshold;
	if (n->opts.gossip_ms <= 0)
		n->opts.gossip_ms = def.gossip_ms;
	if (n->opts.sync_period_ms <= 0)
		n->opts.sync_period_ms = def.sync_period_ms;
	if (n->opts.timeout_ms <= 0)
		n->opts.timeout_ms = def.timeout_ms;
	uint32_t ip = actor_runtime_ip();
	snprintf(n->addr, sizeof(n->addr), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255,
	         (ip >> 8) & 255, ip & 255, actor_runtime_port());
	n->data_dir = strdup(opts->data_dir ? opts->data_dir : ".");
	n->opts.data_dir = n->data_dir;
	n->opts.seeds = NULL;
	if (n->data_dir == NULL || (mkdir(n->data_dir, 0755) != 0 && errno != EEXIST)) {
		snprintf(err, errlen, "cannot create the data directory %s: %s",
		         opts->data_dir ? opts->data_dir : ".", strerror(errno));
		node_free(n);
		return NULL;
	}
	n->store = cas_store_open(n->data_dir, &opts->store, err, errlen);
	bool fresh = false;
	if (n->store == NULL || load_identity(n->data_dir, n->opts.num_tokens, &gen, &tokens,
	                                      &ntokens, &fresh, err, errlen) != 0) {
		node_free(n);
		return NULL;
	}
	int rc = cas_gossip_init(&n->g, n->addr, gen, tokens, ntokens, n->opts.phi_threshold,
	                         n->opts.gossip_ms);
	free(tokens);
	if (rc != 0) {
		snprintf(err, errlen, "cannot set up membership for %s", n->addr);
		node_free(n);
		return NULL;
	}
	/* Seeds: a comma-separated list of ip:port; our own address is skipped. */
	for (const char *s = opts->seeds; s && *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char addr[64];
		if (len > 0 && len < sizeof(addr)) {
			memcpy(addr, s, len);
			addr[len] = '\0';
			char **v = realloc(n->seeds, (n->nseeds + 1) * sizeof(*v));
			if (strcmp(addr, n->addr) != 0 && v != NULL &&
			    cas_gossip_add_seed(&n->g, addr) == 0) {
				n->seeds = v;
				n->seeds[n->nseeds++] = strdup(addr);
			} else if (v != NULL) {
				n->seeds = v;
			}
		}
		s = e ? e + 1 : s + len;
	}
	n->bootstrap = fresh && n->nseeds > 0;
	actor_pid pid;
	if (actor_spawn(&node_def, n, &pid) != 0) {
		snprintf(err, errlen, "cannot spawn the node actor");
		node_free(n);
		return NULL;
	}
	if (strcmp(pid.id, CAS_NODE_ACTOR) != 0)
		actor_warn("cassandra: node actor is %s, not %s: clients will not find it",
		           pid.id, CAS_NODE_ACTOR);
	n->pid = pid;
	actor_info("cassandra: node %s up with %zu tokens, data in %s", n->addr, n->g.v[0].ntokens,
	           n->data_dir);
	return n;
}

void cas_node_stop(cas_node *n)
{
	if (n == NULL)
		return;
	actor_terminate(n->pid);
	actor_wait(n->pid, -1);
	node_free(n);
}
