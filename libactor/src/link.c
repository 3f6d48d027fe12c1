/* link.c — links between actors, local and remote, and the transport's way in.
 *
 * A link is recorded on both sides: the linker keeps the PIDs it is linked to
 * (`linked`, which makes exited arrive once per link and makes linking twice one
 * link), and the linkee keeps its linkers (`linkers`). The linkee learns of a new
 * linker through its own mailbox (ACTOR__LINK), so the request is ordered with its
 * end: a link request that finds the linkee gone, or that is still queued when it
 * ends, is answered with exited. Across OS processes the same requests travel as
 * the system messages "actor.link", "actor.unlink" and "actor.exited"; the remote
 * links of local actors are also kept in one table so that a lost peer turns into
 * exited for each of them. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define ACTOR__SYS_LINK "actor.link"
#define ACTOR__SYS_UNLINK "actor.unlink"
#define ACTOR__SYS_EXITED "actor.exited"

struct actor__rlink {
	actor_pid linker; /* local */
	actor_pid linkee; /* remote */
};

static struct {
	pthread_mutex_t lock;
	struct actor__rlink *v;
	size_t n, cap;
} rlinks = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void actor__rlink_add(const actor_pid *linker, const actor_pid *linkee)
{
	pthread_mutex_lock(&rlinks.lock);
	if (rlinks.n == rlinks.cap) {
		size_t cap = rlinks.cap ? rlinks.cap * 2 : 16;
		struct actor__rlink *v = realloc(rlinks.v, cap * sizeof(*v));
		if (v == NULL) {
			pthread_mutex_unlock(&rlinks.lock);
			actor_error("out of memory recording a remote link");
			return;
		}
		rlinks.v = v;
		rlinks.cap = cap;
	}
	rlinks.v[rlinks.n].linker = *linker;
	rlinks.v[rlinks.n].linkee = *linkee;
	rlinks.n++;
	pthread_mutex_unlock(&rlinks.lock);
}

static void actor__rlink_remove(const actor_pid *linker, const actor_pid *linkee)
{
	pthread_mutex_lock(&rlinks.lock);
	for (size_t i = 0; i < rlinks.n; i++) {
		if (actor_pid_equal(rlinks.v[i].linker, *linker) &&
		    actor_pid_equal(rlinks.v[i].linkee, *linkee)) {
			rlinks.v[i] = rlinks.v[--rlinks.n];
			break;
		}
	}
	pthread_mutex_unlock(&rlinks.lock);
}

void actor__links_fini(void)
{
	pthread_mutex_lock(&rlinks.lock);
	free(rlinks.v);
	rlinks.v = NULL;
	rlinks.n = rlinks.cap = 0;
	pthread_mutex_unlock(&rlinks.lock);
}

static ssize_t actor__pid_index(const actor_pid *v, uint32_t n, const actor_pid *p)
{
	for (uint32_t i = 0; i < n; i++)
		if (actor_pid_equal(v[i], *p))
			return (ssize_t)i;
	return -1;
}

static bool actor__pid_push(actor_pid **v, uint32_t *n, uint32_t *cap, const actor_pid *p)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 2;
		actor_pid *nv = realloc(*v, c * sizeof(*nv));
		if (nv == NULL)
			return false;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *p;
	return true;
}

static void actor__pid_remove_at(actor_pid *v, uint32_t *n, size_t i)
{
	v[i] = v[--(*n)];
}

/* Queues exited(who) for the local actor linker. */
static void actor__post_exited(const actor_pid *linker, const actor_pid *who)
{
	struct actor__pidnode *p = actor__pidnode_alloc(ACTOR__EXITED, who);

	if (p == NULL) {
		actor_error("out of memory: %s will not hear that %s ended", actor_pid_str(*linker),
			    actor_pid_str(*who));
		return;
	}
	actor__post_pid(linker, &p->node);
}

static int actor__sys_send(const actor_pid *from, const actor_pid *to, const char *name)
{
	const struct actor_transport_ops *t = actor__transport;
	actor_pid f = *from, d = *to;

	if (t == NULL)
		return ACTOR_ECLOSED;
	f.hint = 0;
	d.hint = 0;
	return t->send(&f, &d, name, strlen(name), NULL, 0);
}

void actor__send_exited(const actor_pid *ended, const actor_pid *who)
{
	actor_pid e = *ended;

	e.hint = 0;
	if (actor__pid_is_local(who))
		actor__post_exited(who, &e);
	else if (actor__sys_send(&e, who, ACTOR__SYS_EXITED) != 0)
		actor_debug("could not tell %s that %s ended", actor_pid_str(*who),
			    actor_pid_str(e));
}

void actor_link(actor_t *self, actor_pid pid)
{
	struct actor__pidnode *p;
	struct actor *a;

	if (self == NULL || actor_pid_is_none(pid) || actor_pid_equal(self->pid, pid))
		return;
	pid.hint = actor__pid_is_local(&pid) ? pid.hint : 0;
	if (actor__pid_index(self->linked, self->nlinked, &pid) >= 0)
		return;
	if (!actor__pid_push(&self->linked, &self->nlinked, &self->linked_cap, &pid)) {
		actor_error("out of memory linking %s to %s", actor_pid_str(self->pid),
			    actor_pid_str(pid));
		return;
	}
	if (!actor__pid_is_local(&pid)) {
		actor__rlink_add(&self->pid, &pid);
		if (actor__sys_send(&self->pid, &pid, ACTOR__SYS_LINK) != 0) {
			/* Nobody can tell us when it ends: as far as we know, it has. */
			actor__rlink_remove(&self->pid, &pid);
			actor__post_exited(&self->pid, &pid);
		}
		return;
	}
	a = actor__lookup(&pid);
	if (a == NULL) {
		actor__post_exited(&self->pid, &pid); /* never existed, or already ended */
		return;
	}
	p = actor__pidnode_alloc(ACTOR__LINK, &self->pid);
	if (p == NULL) {
		actor__unref(a);
		actor__post_exited(&self->pid, &pid);
		return;
	}
	actor__post(a, &p->node);
	actor__unref(a);
}

static void actor__unlink_peer(const actor_pid *self, const actor_pid *pid)
{
	if (actor__pid_is_local(pid)) {
		struct actor__pidnode *p = actor__pidnode_alloc(ACTOR__UNLINK, self);
		if (p != NULL)
			actor__post_pid(pid, &p->node);
	} else {
		actor__rlink_remove(self, pid);
		actor__sys_send(self, pid, ACTOR__SYS_UNLINK);
	}
}

void actor_unlink(actor_t *self, actor_pid pid)
{
	ssize_t i;

	if (self == NULL)
		return;
	i = actor__pid_index(self->linked, self->nlinked, &pid);
	if (i < 0)
		return;
	actor__pid_remove_at(self->linked, &self->nlinked, (size_t)i);
	actor__unlink_peer(&self->pid, &pid);
}

void actor__link_event(struct actor *a, struct actor__node *n)
{
	struct actor__pidnode *p = (struct actor__pidnode *)n;
	ssize_t i;

	switch (n->kind) {
	case ACTOR__EXITED:
		i = actor__pid_index(a->linked, a->nlinked, &p->who);
		if (i >= 0) {
			actor__pid_remove_at(a->linked, &a->nlinked, (size_t)i);
			if (!actor__pid_is_local(&p->who))
				actor__rlink_remove(&a->pid, &p->who);
			if (a->def->exited != NULL)
				a->def->exited(a, p->who);
		}
		break;
	case ACTOR__LINK:
		if (actor__pid_index(a->linkers, a->nlinkers, &p->who) < 0 &&
		    !actor__pid_push(&a->linkers, &a->nlinkers, &a->linkers_cap, &p->who))
			actor_error("out of memory recording a linker of %s", actor_pid_str(a->pid));
		break;
	case ACTOR__UNLINK:
		i = actor__pid_index(a->linkers, a->nlinkers, &p->who);
		if (i >= 0)
			actor__pid_remove_at(a->linkers, &a->nlinkers, (size_t)i);
		break;
	default:
		break;
	}
	free(p);
}

void actor__links_end(struct actor *a)
{
	for (uint32_t i = 0; i < a->nlinkers; i++)
		actor__send_exited(&a->pid, &a->linkers[i]);
	a->nlinkers = 0;
	for (uint32_t i = 0; i < a->nlinked; i++)
		actor__unlink_peer(&a->pid, &a->linked[i]);
	a->nlinked = 0;
}

void actor__peer_lost(uint32_t ip, uint16_t port)
{
	struct actor__rlink *lost = NULL;
	size_t nlost = 0;

	pthread_mutex_lock(&rlinks.lock);
	for (size_t i = 0; i < rlinks.n;) {
		if (rlinks.v[i].linkee.ip == ip && rlinks.v[i].linkee.port == port) {
			struct actor__rlink *v = realloc(lost, (nlost + 1) * sizeof(*v));
			if (v == NULL)
				break;
			lost = v;
			lost[nlost++] = rlinks.v[i];
			rlinks.v[i] = rlinks.v[--rlinks.n];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&rlinks.lock);
	for (size_t i = 0; i < nlost; i++)
		actor__post_exited(&lost[i].linker, &lost[i].linkee);
	free(lost);
}

static bool actor__name_is(const char *name, size_t len, const char *sys)
{
	return len == strlen(sys) && memcmp(name, sys, len) == 0;
}

void actor__deliver_remote(const actor_pid *from, const actor_pid *to, const char *name,
			   size_t name_len, const uint8_t *data, size_t len,
			   void (*release)(void *owner), void *owner)
{
	struct actor__counters *c = actor__counters();
	actor_pid f = *from, t = *to;
	struct actor__mail *m;
	struct actor *a;

	f.hint = 0;
	t.hint = 0;
	if (!actor__pid_is_local(&t) || name_len == 0 || memchr(name, '\0', name_len) != NULL) {
		actor_debug("dropped remote message to %s: misaddressed or bad name",
			    actor_pid_str(t));
		actor__count(c, &c->dropped, 1);
		if (release != NULL)
			release(owner);
		return;
	}
	if (actor__name_is(name, name_len, ACTOR__SYS_LINK) ||
	    actor__name_is(name, name_len, ACTOR__SYS_UNLINK) ||
	    actor__name_is(name, name_len, ACTOR__SYS_EXITED)) {
		if (release != NULL)
			release(owner);
		if (actor_pid_is_none(f))
			return;
		if (actor__name_is(name, name_len, ACTOR__SYS_EXITED)) {
			actor__post_exited(&t, &f);
			return;
		}
		bool link = actor__name_is(name, name_len, ACTOR__SYS_LINK);
		struct actor__pidnode *p =
			actor__pidnode_alloc(link ? ACTOR__LINK : ACTOR__UNLINK, &f);
		if (p != NULL)
			actor__post_pid(&t, &p->node); /* LINK to nobody answers exited */
		else if (link)
			actor__send_exited(&t, &f);
		return;
	}
	a = actor__lookup(&t);
	if (a == NULL) {
		actor_debug("dropped remote message %.*s to %s: no such actor", (int)name_len, name,
			    actor_pid_str(t));
		actor__count(c, &c->dropped, 1);
		if (release != NULL)
			release(owner);
		return;
	}
	m = actor__mail_alloc_borrowed(&f, &t, name, name_len, data, len, release, owner);
	if (m == NULL) {
		actor_error("out of memory: dropped remote message to %s", actor_pid_str(t));
		actor__count(c, &c->dropped, 1);
		actor__unref(a);
		if (release != NULL)
			release(owner);
		return;
	}
	actor__post_here(a, &m->node);
	actor__unref(a);
}
