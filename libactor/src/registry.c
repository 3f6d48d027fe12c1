/* registry.c — which actors exist: slots with generations, and ids in a sharded table.
 *
 * Every actor owns a slot. The slot word holds (generation << 32 | references); the
 * registry's own reference keeps a live actor, and whoever posts to an actor takes a
 * reference first, so an actor is freed only when nobody can still touch it. A PID
 * carries a hint (slot + 1, generation), so the hot path of a send resolves its
 * target with one compare-and-swap and no lock. PIDs without a usable hint (parsed
 * from text, or naming a newer actor of the same id) are looked up by id in one of
 * ACTOR__SHARDS mutex-guarded hash tables. Slot memory lives until the runtime ends,
 * so a stale hint is always safe to read.
 *
 * Worker threads send without touching the count at all (two locked operations on a
 * line that every sender to a busy actor would share): when the count of an actor
 * falls to 0 it is retired, not freed, and freed only once every worker has passed
 * a point between turns after that (each announces the epoch it has seen, see
 * sched.c). A worker that finds an actor during a turn can use it until the turn
 * ends. Other threads (main, timer, transport) take a reference as before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ACTOR__SLOT_CHUNK 4096u
#define ACTOR__SLOT_CHUNKS 4096u /* up to 16M actors at once */
#define ACTOR__SHARDS 64u

/* One cache line each: senders to different actors must not share a line. */
struct actor__slot {
	_Atomic uint64_t word;
	struct actor *_Atomic actor;
} __attribute__((aligned(ACTOR__CACHELINE)));

struct actor__shard {
	pthread_mutex_t lock;
	struct actor **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
} __attribute__((aligned(ACTOR__CACHELINE)));

static struct {
	struct actor__slot *_Atomic chunks[ACTOR__SLOT_CHUNKS];
	pthread_mutex_t slot_lock;
	pthread_mutex_t limbo_lock;
	/* Retired actors, oldest first (epochs are taken under the lock, so they rise
	 * along the list); linked by reg_next, reg_hash holds the epoch. */
	struct actor *limbo, **limbo_tail;
	_Atomic size_t nlimbo;
	uint32_t *free_slots;
	size_t nfree, free_cap;
	uint32_t next_unused;
	_Atomic uint64_t name_seq;
	struct actor__shard shards[ACTOR__SHARDS];
} reg = {.slot_lock = PTHREAD_MUTEX_INITIALIZER, .limbo_lock = PTHREAD_MUTEX_INITIALIZER};

static struct actor__slot *actor__slot_at(uint32_t idx)
{
	struct actor__slot *chunk;

	if (idx / ACTOR__SLOT_CHUNK >= ACTOR__SLOT_CHUNKS)
		return NULL;
	chunk = atomic_load_explicit(&reg.chunks[idx / ACTOR__SLOT_CHUNK], memory_order_acquire);
	return chunk ? &chunk[idx % ACTOR__SLOT_CHUNK] : NULL;
}

int actor__registry_init(void)
{
	for (size_t i = 0; i < ACTOR__SHARDS; i++) {
		struct actor__shard *s = &reg.shards[i];
		pthread_mutex_init(&s->lock, NULL);
		s->nbuckets = 64;
		s->count = 0;
		s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
		if (s->buckets == NULL) {
			for (size_t j = 0; j < i; j++)
				free(reg.shards[j].buckets);
			return ACTOR_ENOMEM;
		}
	}
	reg.nfree = 0;
	reg.next_unused = 0;
	return 0;
}

void actor__registry_fini(void)
{
	for (size_t i = 0; i < ACTOR__SHARDS; i++) {
		free(reg.shards[i].buckets);
		reg.shards[i].buckets = NULL;
		pthread_mutex_destroy(&reg.shards[i].lock);
	}
	actor__reclaim();
	for (size_t i = 0; i < ACTOR__SLOT_CHUNKS; i++) {
		free(atomic_load(&reg.chunks[i]));
		atomic_store(&reg.chunks[i], NULL);
	}
	free(reg.free_slots);
	reg.free_slots = NULL;
	reg.nfree = reg.free_cap = 0;
	reg.next_unused = 0;
}

static int actor__slot_alloc(uint32_t *out)
{
	uint32_t idx;

	pthread_mutex_lock(&reg.slot_lock);
	if (reg.nfree > 0) {
		idx = reg.free_slots[--reg.nfree];
	} else {
		idx = reg.next_unused;
		if (idx / ACTOR__SLOT_CHUNK >= ACTOR__SLOT_CHUNKS) {
			pthread_mutex_unlock(&reg.slot_lock);
			return ACTOR_ENOMEM;
		}
		if (atomic_load(&reg.chunks[idx / ACTOR__SLOT_CHUNK]) == NULL) {
			struct actor__slot *c =
				aligned_alloc(ACTOR__CACHELINE, ACTOR__SLOT_CHUNK * sizeof(*c));
			if (c != NULL)
				memset(c, 0, ACTOR__SLOT_CHUNK * sizeof(*c));
			if (c == NULL) {
				pthread_mutex_unlock(&reg.slot_lock);
				return ACTOR_ENOMEM;
			}
			atomic_store_explicit(&reg.chunks[idx / ACTOR__SLOT_CHUNK], c,
					      memory_order_release);
		}
		reg.next_unused++;
	}
	pthread_mutex_unlock(&reg.slot_lock);
	*out = idx;
	return 0;
}

static void actor__slot_release(uint32_t idx)
{
	pthread_mutex_lock(&reg.slot_lock);
	if (reg.nfree == reg.free_cap) {
		size_t cap = reg.free_cap ? reg.free_cap * 2 : 1024;
		uint32_t *p = realloc(reg.free_slots, cap * sizeof(*p));
		if (p == NULL) {
			/* The slot is leaked until fini; it stays invalid (refs 0). */
			pthread_mutex_unlock(&reg.slot_lock);
			return;
		}
		reg.free_slots = p;
		reg.free_cap = cap;
	}
	reg.free_slots[reg.nfree++] = idx;
	pthread_mutex_unlock(&reg.slot_lock);
}

static uint64_t actor__id_hash(const char *id, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 32);
}

static struct actor__shard *actor__shard_of(uint64_t h)
{
	/* The shard comes from the high half, the bucket (h & (nbuckets - 1)) from the low
	 * half, so a shard's table uses all of its buckets however large it grows. */
	return &reg.shards[(h >> 32) % ACTOR__SHARDS];
}

/* Caller holds s->lock. */
static struct actor *actor__shard_find(struct actor__shard *s, uint64_t h, const char *id,
				       size_t len)
{
	for (struct actor *a = s->buckets[h & (s->nbuckets - 1)]; a != NULL; a = a->reg_next)
		if (a->reg_hash == h && a->pid.len == len && actor__bytes_equal(a->pid.id, id, len))
			return a;
	return NULL;
}

static void actor__shard_grow(struct actor__shard *s)
{
	size_t n = s->nbuckets * 2;
	struct actor **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct actor *a = s->buckets[i], *next;
		for (; a != NULL; a = next) {
			next = a->reg_next;
			a->reg_next = b[a->reg_hash & (n - 1)];
			b[a->reg_hash & (n - 1)] = a;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

/* Inserts a under id if free; false if taken. */
static bool actor__shard_insert(struct actor *a, const char *id, size_t len)
{
	uint64_t h = actor__id_hash(id, len);
	struct actor__shard *s = actor__shard_of(h);

	pthread_mutex_lock(&s->lock);
	if (actor__shard_find(s, h, id, len) != NULL) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	memcpy(a->pid.id, id, len);
	a->pid.id[len] = '\0';
	a->pid.len = (uint16_t)len;
	a->reg_hash = h;
	a->reg_next = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = a;
	if (++s->count > s->nbuckets)
		actor__shard_grow(s);
	pthread_mutex_unlock(&s->lock);
	return true;
}

int actor__registry_add(struct actor *a, const char *base)
{
	char id[ACTOR_PID_ID_MAX + 1];
	size_t blen;
	uint32_t idx;
	struct actor__slot *slot;
	uint64_t gen;
	int rc;

	if (base == NULL || *base == '\0')
		base = "actor";
	blen = strlen(base);
	if (blen > ACTOR_PID_ID_MAX - 22)
		return ACTOR_EINVAL; /* leaves room for "(N)" */
	for (size_t i = 0; i < blen; i++) {
		unsigned char c = (unsigned char)base[i];
		if (c <= 0x20 || c >= 0x7f || c == '@' || c == '/')
			return ACTOR_EINVAL;
	}
	rc = actor__slot_alloc(&idx);
	if (rc != 0)
		return rc;
	slot = actor__slot_at(idx);
	gen = atomic_load_explicit(&slot->word, memory_order_relaxed) >> 32;
	a->slot = idx;
	atomic_store_explicit(&slot->actor, a, memory_order_relaxed);
	/* refs 0 -> 1: nobody can take a reference while it is 0, so a store is enough. */
	atomic_store_explicit(&slot->word, (gen << 32) | 1u, memory_order_release);
	a->pid.ip = actor__rt.ip;
	a->pid.port = actor__rt.port;
	a->pid.hint = (gen << 32) | ((uint64_t)idx + 1);

	if (!actor__shard_insert(a, base, blen)) {
		for (;;) {
			uint64_t n = atomic_fetch_add_explicit(&reg.name_seq, 1,
							       memory_order_relaxed) + 1;
			int len = snprintf(id, sizeof(id), "%s(%llu)", base, (unsigned long long)n);
			if (actor__shard_insert(a, id, (size_t)len))
				break;
		}
	}
	return 0;
}

void actor__registry_remove(struct actor *a)
{
	struct actor__shard *s = actor__shard_of(a->reg_hash);
	struct actor **pp;

	pthread_mutex_lock(&s->lock);
	for (pp = &s->buckets[a->reg_hash & (s->nbuckets - 1)]; *pp != NULL; pp = &(*pp)->reg_next) {
		if (*pp == a) {
			*pp = a->reg_next;
			s->count--;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	a->reg_next = NULL;
}

void actor__ref(struct actor *a)
{
	atomic_fetch_add_explicit(&actor__slot_at(a->slot)->word, 1, memory_order_relaxed);
}

void actor__unref(struct actor *a)
{
	struct actor__slot *slot = actor__slot_at(a->slot);
	uint64_t w = atomic_fetch_sub_explicit(&slot->word, 1, memory_order_acq_rel);

	if ((uint32_t)w != 1)
		return;
	/* Last reference: nobody can take another (refs are 0). New generation, then free. */
	atomic_store_explicit(&slot->actor, NULL, memory_order_relaxed);
	atomic_store_explicit(&slot->word, ((w >> 32) + 1) << 32, memory_order_release);
	actor__slot_release(a->slot);
	pthread_mutex_lock(&reg.limbo_lock);
	a->reg_hash = atomic_fetch_add_explicit(&actor__epoch, 1, memory_order_seq_cst);
	a->reg_next = NULL;
	if (reg.limbo_tail == NULL)
		reg.limbo_tail = &reg.limbo;
	*reg.limbo_tail = a;
	reg.limbo_tail = &a->reg_next;
	atomic_fetch_add_explicit(&reg.nlimbo, 1, memory_order_relaxed);
	pthread_mutex_unlock(&reg.limbo_lock);
	if (actor__tls_worker == NULL)
		actor__reclaim(); /* workers reclaim between turns */
}

void actor__reclaim(void)
{
	struct actor *done, *a, **last = NULL;
	uint64_t min;
	size_t n = 0;

	if (atomic_load_explicit(&reg.nlimbo, memory_order_relaxed) == 0)
		return;
	pthread_mutex_lock(&reg.limbo_lock);
	min = actor__sched_min_epoch();
	done = reg.limbo;
	for (a = reg.limbo; a != NULL && a->reg_hash < min; a = a->reg_next) {
		last = &a->reg_next;
		n++;
	}
	if (last == NULL) {
		done = NULL;
	} else {
		reg.limbo = *last;
		*last = NULL;
		if (reg.limbo == NULL)
			reg.limbo_tail = &reg.limbo;
		atomic_fetch_sub_explicit(&reg.nlimbo, n, memory_order_relaxed);
	}
	pthread_mutex_unlock(&reg.limbo_lock);
	while ((a = done) != NULL) {
		done = a->reg_next;
		actor__destroy(a);
	}
}

size_t actor__limbo_len(void)
{
	return atomic_load_explicit(&reg.nlimbo, memory_order_acquire);
}

struct actor *actor__acquire(const actor_pid *pid)
{
	struct actor__slot *slot;
	struct actor__shard *s;
	struct actor *a;
	uint64_t w, h;

	if (actor__tls_worker == NULL)
		return actor__lookup(pid);
	if (pid->hint != 0) {
		slot = actor__slot_at((uint32_t)pid->hint - 1);
		if (slot != NULL) {
			w = atomic_load_explicit(&slot->word, memory_order_seq_cst);
			if ((uint32_t)(w >> 32) == (uint32_t)(pid->hint >> 32) && (uint32_t)w != 0) {
				a = atomic_load_explicit(&slot->actor, memory_order_acquire);
				if (a != NULL && a->pid.len == pid->len &&
				    actor__bytes_equal(a->pid.id, pid->id, pid->len) &&
				    !(atomic_load_explicit(&a->flags, memory_order_relaxed) &
				      ACTOR__F_DEAD))
					return a;
			}
		}
	}
	if (pid->len == 0 || pid->len > ACTOR_PID_ID_MAX)
		return NULL;
	h = actor__id_hash(pid->id, pid->len);
	s = actor__shard_of(h);
	pthread_mutex_lock(&s->lock);
	a = actor__shard_find(s, h, pid->id, pid->len);
	pthread_mutex_unlock(&s->lock);
	return a;
}

void actor__release(struct actor *a)
{
	if (actor__tls_worker == NULL)
		actor__unref(a);
}

static struct actor *actor__lookup_hint(const actor_pid *pid)
{
	uint64_t hint = pid->hint;
	uint32_t idx = (uint32_t)hint - 1;
	uint32_t gen = (uint32_t)(hint >> 32);
	struct actor__slot *slot = actor__slot_at(idx);
	struct actor *a;
	uint64_t w;

	if (slot == NULL)
		return NULL;
	w = atomic_load_explicit(&slot->word, memory_order_acquire);
	do {
		if ((uint32_t)(w >> 32) != gen || (uint32_t)w == 0)
			return NULL;
	} while (!atomic_compare_exchange_weak_explicit(&slot->word, &w, w + 1,
							memory_order_acquire, memory_order_acquire));
	a = atomic_load_explicit(&slot->actor, memory_order_relaxed);
	if (a != NULL && a->pid.len == pid->len && actor__bytes_equal(a->pid.id, pid->id, pid->len) &&
	    !(atomic_load_explicit(&a->flags, memory_order_relaxed) & ACTOR__F_DEAD))
		return a;
	if (a != NULL)
		actor__unref(a);
	return NULL;
}

struct actor *actor__lookup(const actor_pid *pid)
{
	struct actor__shard *s;
	struct actor *a;
	uint64_t h;

	if (pid->hint != 0 && (a = actor__lookup_hint(pid)) != NULL)
		return a;
	if (pid->len == 0 || pid->len > ACTOR_PID_ID_MAX)
		return NULL;
	h = actor__id_hash(pid->id, pid->len);
	s = actor__shard_of(h);
	pthread_mutex_lock(&s->lock);
	a = actor__shard_find(s, h, pid->id, pid->len);
	if (a != NULL)
		actor__ref(a);
	pthread_mutex_unlock(&s->lock);
	return a;
}

struct actor **actor__registry_all(size_t *n)
{
	size_t cap = 64, count = 0;
	struct actor **all = malloc(cap * sizeof(*all));

	for (size_t i = 0; i < ACTOR__SHARDS && all != NULL; i++) {
		struct actor__shard *s = &reg.shards[i];
		pthread_mutex_lock(&s->lock);
		for (size_t b = 0; b < s->nbuckets && all != NULL; b++) {
			for (struct actor *a = s->buckets[b]; a != NULL; a = a->reg_next) {
				if (count == cap) {
					struct actor **p = realloc(all, cap * 2 * sizeof(*all));
					if (p == NULL)
						break;
					all = p;
					cap *= 2;
				}
				actor__ref(a);
				all[count++] = a;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	*n = count;
	return all;
}
