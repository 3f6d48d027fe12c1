/* sorter.c — skip list of slots ordered by (share, allocs, seq) (see sorter.h). */
#include "sorter.h"

#include <assert.h>
#include <string.h>

static int slot_cmp(const struct slot *a, const struct slot *b)
{
	if (a->share != b->share)
		return a->share < b->share ? -1 : 1;
	if (a->allocs != b->allocs)
		return a->allocs < b->allocs ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

void sorter_init(struct sorter *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->level = 1;
	s->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
}

/* Level with probability 1/4 per step up: the levels a list of 4^12 needs. The
 * generator is seeded per sorter, so the shape (and the run) is deterministic. */
static int random_level(struct sorter *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	uint64_t r = s->rng;
	int lvl = 1;
	while (lvl < SORTER_LEVELS && (r & 3) == 0) {
		lvl++;
		r >>= 2;
	}
	return lvl;
}

static void find(struct sorter *s, const struct slot *x, struct slot **upd)
{
	struct slot *p = &s->head;
	for (int l = s->level - 1; l >= 0; l--) {
		while (p->next[l] != NULL && slot_cmp(p->next[l], x) < 0)
			p = p->next[l];
		upd[l] = p;
	}
}

void sorter_insert(struct sorter *s, struct slot *x)
{
	struct slot *upd[SORTER_LEVELS];
	assert(!x->in);
	find(s, x, upd);
	int lvl = random_level(s);
	for (int l = s->level; l < lvl; l++)
		upd[l] = &s->head;
	if (lvl > s->level)
		s->level = lvl;
	x->level = (uint8_t)lvl;
	for (int l = 0; l < lvl; l++) {
		x->next[l] = upd[l]->next[l];
		upd[l]->next[l] = x;
	}
	x->in = true;
	s->n++;
}

void sorter_remove(struct sorter *s, struct slot *x)
{
	struct slot *upd[SORTER_LEVELS];
	assert(x->in);
	find(s, x, upd);
	for (int l = 0; l < x->level; l++) {
		assert(upd[l]->next[l] == x);
		upd[l]->next[l] = x->next[l];
		x->next[l] = NULL;
	}
	while (s->level > 1 && s->head.next[s->level - 1] == NULL)
		s->level--;
	x->in = false;
	s->n--;
}
