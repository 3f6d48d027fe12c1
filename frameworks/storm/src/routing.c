/* routing.c — see routing.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing.h"

void stm_task_actor_id(int task, char *out, size_t size)
{
	snprintf(out, size, "stm-t%d", task);
}

/* "a.b.c.d:port" into host-order parts; false when it is not one. */
static bool parse_address(const char *text, uint32_t *ip, uint16_t *port)
{
	char host[32];
	const char *colon = strrchr(text, ':');
	if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
		return false;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	struct in_addr a;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (inet_pton(AF_INET, host, &a) != 1 || *end != '\0' || p <= 0 || p > 65535)
		return false;
	*ip = ntohl(a.s_addr);
	*port = (uint16_t)p;
	return true;
}

struct stm_routing *stm_routing_alloc(const struct stm_topology *topo, uint64_t epoch, int nworkers,
                                      const char *const *addresses, int self, bool active)
{
	struct stm_routing *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->pids = calloc((size_t)topo->ntasks, sizeof(actor_pid));
	if (r->pids == NULL) {
		free(r);
		return NULL;
	}
	r->refs = 1;
	r->epoch = epoch;
	r->nworkers = nworkers;
	r->self = self;
	r->active = active;
	r->ntasks = topo->ntasks;
	for (int t = 0; t < topo->ntasks; t++) {
		int w = stm_task_worker(t, nworkers);
		uint32_t ip;
		uint16_t port;
		char id[32];
		r->pids[t] = actor_pid_none;
		if (w >= nworkers || addresses[w] == NULL ||
		    !parse_address(addresses[w], &ip, &port))
			continue;
		stm_task_actor_id(t, id, sizeof(id));
		actor_pid_make(id, ip, port, &r->pids[t]);
	}
	return r;
}

struct stm_routing *stm_routing_ref(struct stm_routing *r)
{
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	return r;
}

void stm_routing_unref(struct stm_routing *r)
{
	if (r == NULL || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(r->pids);
	free(r);
}
