/* cas_gossip.c — see cas_gossip.h. */
#include "cas_gossip.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/log.h>

static int make_pid(const char *addr, actor_pid *pid)
{
	char text[128];
	snprintf(text, sizeof(text), "cas@%s", addr);
	return actor_pid_parse(text, pid);
}

static int add_member(cas_gossip *g, const char *addr)
{
	actor_pid pid;
	if (strlen(addr) >= sizeof(g->v[0].addr) || make_pid(addr, &pid) != 0)
		return -1;
	cas_member *v = realloc(g->v, (g->n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	g->v = v;
	cas_member *m = &g->v[g->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	m->pid = pid;
	return (int)g->n++;
}

static void rebuild_ring(cas_gossip *g)
{
	cas_ring_fini(&g->ring);
	for (size_t i = 0; i < g->n; i++)
		cas_ring_add(&g->ring, (int)i, g->v[i].tokens, g->v[i].ntokens);
	cas_ring_sort(&g->ring);
}

int cas_gossip_init(cas_gossip *g, const char *addr, uint64_t generation, const int64_t *tokens,
                    size_t ntokens, double phi_threshold, int64_t interval_ms)
{
	memset(g, 0, sizeof(*g));
	g->phi_threshold = phi_threshold;
	g->interval_ms = interval_ms;
	if (add_member(g, addr) != 0)
		return -1;
	cas_member *self = &g->v[0];
	self->generation = generation;
	self->up = true;
	self->tokens = malloc((ntokens ? ntokens : 1) * sizeof(int64_t));
	if (self->tokens == NULL)
		return -1;
	memcpy(self->tokens, tokens, ntokens * sizeof(int64_t));
	self->ntokens = ntokens;
	rebuild_ring(g);
	return 0;
}

void cas_gossip_fini(cas_gossip *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].tokens);
	free(g->v);
	cas_ring_fini(&g->ring);
	memset(g, 0, sizeof(*g));
}

int cas_gossip_find(const cas_gossip *g, const char *addr)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].addr, addr) == 0)
			return (int)i;
	return -1;
}

int cas_gossip_add_seed(cas_gossip *g, const char *addr)
{
	if (cas_gossip_find(g, addr) >= 0)
		return 0;
	return add_member(g, addr) < 0 ? -1 : 0;
}

void cas_gossip_encode(const cas_gossip *g, cas_wbuf *w)
{
	uint32_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		n += g->v[i].generation != 0;
	cas_put_u32(w, n);
	for (size_t i = 0; i < g->n; i++) {
		const cas_member *m = &g->v[i];
		if (m->generation == 0)
			continue; /* a seed not heard from yet */
		cas_put_str(w, m->addr);
		cas_put_u64(w, m->generation);
		cas_put_u64(w, m->version);
		cas_put_u64(w, m->load);
		cas_put_u32(w, (uint32_t)m->ntokens);
		for (size_t t = 0; t < m->ntokens; t++)
			cas_put_u64(w, (uint64_t)m->tokens[t]);
	}
}

static void heard(cas_gossip *g, cas_member *m, int64_t now_ms)
{
	if (m->last_ms > 0) {
		m->intervals[m->next] = (double)(now_ms - m->last_ms);
		m->next = (m->next + 1) % CAS_FD_WINDOW;
		if (m->nint < CAS_FD_WINDOW)
			m->nint++;
	}
	m->last_ms = now_ms;
	if (!m->up)
		actor_info("cassandra: node %s is up", m->addr);
	m->up = true;
	(void)g;
}

int cas_gossip_merge(cas_gossip *g, cas_rbuf *r, int64_t now_ms)
{
	uint32_t n = cas_get_u32(r);
	int changed = 0;
	if (r->bad || n > 4096)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		char *addr = cas_get_str(r);
		uint64_t gen = cas_get_u64(r), ver = cas_get_u64(r), load = cas_get_u64(r);
		uint32_t nt = cas_get_u32(r);
		if (addr == NULL || r->bad || nt > 4096 || (size_t)nt * 8 > r->left) {
			free(addr);
			return -1;
		}
		int64_t *tokens = malloc((nt ? nt : 1) * sizeof(*tokens));
		if (tokens == NULL) {
			free(addr);
			return -1;
		}
		for (uint32_t t = 0; t < nt; t++)
			tokens[t] = (int64_t)cas_get_u64(r);
		int idx = cas_gossip_find(g, addr);
		if (idx < 0)
			idx = add_member(g, addr);
		free(addr);
		if (idx <= 0) { /* never take news about ourselves from others */
			free(tokens);
			continue;
		}
		cas_member *m = &g->v[idx];
		if (gen < m->generation || (gen == m->generation && ver <= m->version)) {
			free(tokens);
			continue;
		}
		bool tokens_changed = nt != m->ntokens ||
		                      (nt && memcmp(tokens, m->tokens, nt * sizeof(*tokens)) != 0);
		if (gen != m->generation) {
			m->nint = 0; /* a restarted node: its old rhythm says nothing */
			m->last_ms = 0;
		}
		m->generation = gen;
		m->version = ver;
		m->load = load;
		free(m->tokens);
		m->tokens = tokens;
		m->ntokens = nt;
		heard(g, m, now_ms);
		if (tokens_changed)
			changed = 1;
	}
	if (changed)
		rebuild_ring(g);
	return changed;
}

double cas_gossip_phi(const cas_member *m, int64_t now_ms)
{
	if (m->last_ms == 0)
		return INFINITY;
	double mean = 0;
	for (int i = 0; i < m->nint; i++)
		mean += m->intervals[i];
	mean = m->nint ? mean / m->nint : 0;
	if (mean <= 0)
		mean = 1;
	double delta = (double)(now_ms - m->last_ms);
	return delta / mean * log10(exp(1.0));
}

int cas_gossip_check(cas_gossip *g, int64_t now_ms)
{
	int changed = 0;
	for (size_t i = 1; i < g->n; i++) {
		cas_member *m = &g->v[i];
		if (!m->up)
			continue;
		/* Before a history exists, measure against the gossip interval. */
		double phi = m->nint ? cas_gossip_phi(m, now_ms)
		                     : (double)(now_ms - m->last_ms) / (double)(2 * g->interval_ms) *
		                           log10(exp(1.0));
		if (phi > g->phi_threshold) {
			m->up = false;
			changed++;
			actor_info("cassandra: node %s is down (phi %.1f)", m->addr, phi);
		}
	}
	return changed;
}

size_t cas_gossip_targets(const cas_gossip *g, const char *const *seeds, size_t nseeds, int *out)
{
	size_t n = 0, live = 0, dead = 0;
	int livev[64], deadv[64];
	for (size_t i = 1; i < g->n && i < 64; i++) {
		if (g->v[i].up)
			livev[live++] = (int)i;
		else
			deadv[dead++] = (int)i;
	}
	if (live)
		out[n++] = livev[rand() % (int)live];
	/* A dead node now and then, so one that came back hears of us (Cassandra: with
	 * probability dead / (live + 1)). */
	if (dead && rand() % (int)(live + 1) < (int)dead)
		out[n++] = deadv[rand() % (int)dead];
	if (nseeds) {
		int s = cas_gossip_find(g, seeds[rand() % (int)nseeds]);
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup |= out[i] == s;
		if (s > 0 && !dup)
			out[n++] = s;
	}
	return n;
}
