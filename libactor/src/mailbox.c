/* mailbox.c — the per-actor MPSC queue and the items that travel in it.
 *
 * The queue is Vyukov's intrusive one: producers exchange the tail and then link the
 * old tail to the new node, so a push is one atomic exchange and never blocks. The
 * consumer keeps a stub node to tell "empty" from "one element". Between a producer's
 * exchange and its link the queue looks empty to the consumer, but the tail has moved,
 * so the consumer cannot mark it idle and looks again on its next turn. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

void actor__mailbox_init(struct actor *a)
{
	atomic_store_explicit(&a->mb_stub.next, NULL, memory_order_relaxed);
	a->mb_head = &a->mb_stub;
	a->mb_popped = 0;
	atomic_store_explicit(&a->mb_pushed, 0, memory_order_relaxed);
	atomic_store_explicit(&a->mb_tail, &a->mb_stub, memory_order_relaxed);
}

#define ACTOR__IDLE_MARK ((uintptr_t)1)

bool actor__mailbox_push(struct actor *a, struct actor__node *n)
{
	struct actor__node *prev;
	uintptr_t p;

	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	prev = atomic_exchange_explicit(&a->mb_tail, n, memory_order_acq_rel);
	p = (uintptr_t)prev;
	prev = (struct actor__node *)(p & ~ACTOR__IDLE_MARK);
	atomic_store_explicit(&prev->next, n, memory_order_release);
	return (p & ACTOR__IDLE_MARK) != 0;
}

struct actor__node *actor__mailbox_pop(struct actor *a)
{
	struct actor__node *head = a->mb_head;
	struct actor__node *next = atomic_load_explicit(&head->next, memory_order_acquire);
	struct actor__node *tail;

	if (head == &a->mb_stub) {
		if (next == NULL)
			return NULL;
		a->mb_head = next;
		head = next;
		next = atomic_load_explicit(&next->next, memory_order_acquire);
	}
	if (next != NULL) {
		a->mb_head = next;
		a->mb_popped++;
		return head;
	}
	tail = atomic_load_explicit(&a->mb_tail, memory_order_acquire);
	if (tail != head)
		return NULL; /* a push is half done */
	actor__mailbox_push(a, &a->mb_stub);
	next = atomic_load_explicit(&head->next, memory_order_acquire);
	if (next != NULL) {
		a->mb_head = next;
		a->mb_popped++;
		return head;
	}
	return NULL;
}

bool actor__mailbox_mark_idle(struct actor *a)
{
	struct actor__node *expect = &a->mb_stub;

	if (a->mb_head != &a->mb_stub ||
	    atomic_load_explicit(&a->mb_stub.next, memory_order_acquire) != NULL)
		return false;
	return atomic_compare_exchange_strong_explicit(
		&a->mb_tail, &expect, (struct actor__node *)((uintptr_t)&a->mb_stub | ACTOR__IDLE_MARK),
		memory_order_acq_rel, memory_order_relaxed);
}

/* Header, sender id and name; the body is placed after it by the caller. */
static struct actor__mail *actor__mail_head(const actor_pid *from, const char *name,
					    size_t name_len, size_t extra)
{
	size_t from_len = from->len <= ACTOR_PID_ID_MAX ? from->len : ACTOR_PID_ID_MAX;
	struct actor__mail *m = malloc(sizeof(*m) + from_len + name_len + 1 + extra);
	char *p;

	if (m == NULL)
		return NULL;
	m->node.kind = ACTOR__MAIL;
	m->node.aux = (uint32_t)name_len;
	m->from_hint = from->hint;
	m->from_ip = from->ip;
	m->from_port = from->port;
	m->from_len = (uint16_t)from_len;
	p = (char *)(m + 1);
	memcpy(p, from->id, from_len);
	p += from_len;
	memcpy(p, name, name_len);
	p[name_len] = '\0';
	m->release = NULL;
	m->owner = NULL;
	return m;
}

struct actor__mail *actor__mail_alloc(const actor_pid *from, const actor_pid *to, const char *name,
				      size_t name_len, const void *data, size_t len)
{
	struct actor__mail *m = actor__mail_head(from, name, name_len, len);
	uint8_t *body;

	if (m == NULL)
		return NULL;
	body = (uint8_t *)actor__mail_name(m) + name_len + 1;
	if (len > 0)
		memcpy(body, data, len);
	m->data = body;
	m->len = len;
	return m;
}

struct actor__mail *actor__mail_alloc_borrowed(const actor_pid *from, const actor_pid *to,
					       const char *name, size_t name_len,
					       const uint8_t *data, size_t len,
					       void (*release)(void *), void *owner)
{
	struct actor__mail *m = actor__mail_head(from, name, name_len, 0);

	if (m == NULL)
		return NULL;
	m->data = data;
	m->len = len;
	m->release = release;
	m->owner = owner;
	return m;
}

void actor__mail_msg(const struct actor__mail *m, const actor_pid *to, actor_msg *out)
{
	memset(&out->from, 0, sizeof(out->from));
	out->from.ip = m->from_ip;
	out->from.port = m->from_port;
	out->from.len = m->from_len;
	out->from.hint = m->from_hint;
	memcpy(out->from.id, m + 1, m->from_len);
	out->to = *to;
	out->name = actor__mail_name(m);
	out->data = m->data;
	out->len = m->len;
}

void actor__mail_free(struct actor__mail *m)
{
	if (m->release != NULL)
		m->release(m->owner);
	free(m);
}

struct actor__call *actor__call_alloc(actor_fn fn, void *arg)
{
	struct actor__call *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	c->node.kind = ACTOR__CALL;
	c->fn = fn;
	c->arg = arg;
	return c;
}

struct actor__pidnode *actor__pidnode_alloc(enum actor__kind kind, const actor_pid *who)
{
	struct actor__pidnode *p = malloc(sizeof(*p));

	if (p == NULL)
		return NULL;
	p->node.kind = kind;
	p->who = *who;
	return p;
}

void actor__node_discard(const actor_pid *owner, struct actor__node *n)
{
	struct actor__counters *c = actor__counters();

	switch (n->kind) {
	case ACTOR__MAIL: {
		struct actor__mail *m = (struct actor__mail *)n;
		actor_debug("dropped message %s to %s: actor gone", actor__mail_name(m),
			    actor_pid_str(*owner));
		actor__count(c, &c->dropped, 1);
		actor__mail_free(m);
		break;
	}
	case ACTOR__CALL: {
		struct actor__call *k = (struct actor__call *)n;
		k->fn(NULL, k->arg);
		free(k);
		break;
	}
	case ACTOR__CALL_OWNED: {
		struct actor__call *k = (struct actor__call *)n;
		k->fn(NULL, k->arg);
		break;
	}
	case ACTOR__LINK: {
		struct actor__pidnode *p = (struct actor__pidnode *)n;
		actor__send_exited(owner, &p->who);
		free(p);
		break;
	}
	default:
		free(n);
		break;
	}
}

struct actor__node *actor__nop_alloc(void)
{
	struct actor__node *n = malloc(sizeof(*n));

	if (n != NULL)
		n->kind = ACTOR__NOP;
	return n;
}
