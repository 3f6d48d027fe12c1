/* window.c — see window.h. */
#include <stdlib.h>

#include "tuple.h"
#include "window.h"

static stm_tuple *at(const struct stm_window *w, size_t i)
{
	return w->items[(w->head + i) % w->cap];
}

static int push(struct stm_window *w, stm_tuple *t)
{
	if (w->count == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		stm_tuple **items = malloc(cap * sizeof(*items));
		if (items == NULL)
			return -1;
		for (size_t i = 0; i < w->count; i++)
			items[i] = at(w, i);
		free(w->items);
		w->items = items;
		w->head = 0;
		w->cap = cap;
	}
	w->items[(w->head + w->count) % w->cap] = t;
	w->count++;
	return 0;
}

static void evict_oldest(struct stm_window *w, stm_ctx *c)
{
	stm_tuple *t = at(w, 0);
	w->head = (w->head + 1) % w->cap;
	w->count--;
	stm_ack(c, t);
	stm_tuple_free(t);
}

/* Fires on_window with items [from, count). */
static void fire(struct stm_window *w, stm_ctx *c, void *state, size_t from)
{
	size_t n = w->count - from;
	const stm_tuple **list = malloc((n ? n : 1) * sizeof(*list));
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		list[i] = at(w, from + i);
	w->def->on_window(c, state, (const stm_tuple *const *)list, n);
	free(list);
}

void stm_window_add(struct stm_window *w, stm_ctx *c, void *state, const stm_tuple *t,
                    int64_t now_ms)
{
	stm_tuple *copy = stm_tuple_keep(t);
	if (copy == NULL)
		return; /* t is acked by the executor; the window misses it */
	/* A tuple that arrives in the millisecond a window ended belongs to the next. */
	copy->arrived_ms = now_ms > w->end ? now_ms : w->end + 1;
	if (push(w, copy) != 0) {
		((stm_tuple *)t)->kept = false;
		stm_tuple_free(copy);
		return;
	}
	if (w->def->length_count <= 0)
		return;
	int64_t len = w->def->length_count;
	int64_t slide = w->def->slide_count > 0 ? w->def->slide_count : len;
	if (++w->since_fire < slide)
		return;
	w->since_fire = 0;
	size_t from = w->count > (size_t)len ? w->count - (size_t)len : 0;
	fire(w, c, state, from);
	size_t keep = len > slide ? (size_t)(len - slide) : 0;
	while (w->count > keep)
		evict_oldest(w, c);
}

int64_t stm_window_slide(struct stm_window *w, stm_ctx *c, void *state, int64_t now_ms)
{
	int64_t len = w->def->length_ms;
	int64_t slide = w->def->slide_ms > 0 ? w->def->slide_ms : len;
	int64_t end = w->end != 0 ? w->end + slide : now_ms;
	if (end > now_ms)
		end = now_ms;
	/* Only the tuples of (end - len, end]: later ones wait for the next window. */
	size_t from = 0, to = 0;
	while (from < w->count && at(w, from)->arrived_ms <= end - len)
		from++;
	to = from;
	while (to < w->count && at(w, to)->arrived_ms <= end)
		to++;
	size_t later = w->count - to;
	w->count -= later; /* hide the later ones from fire */
	fire(w, c, state, from);
	w->count += later;
	while (w->count > 0 && at(w, 0)->arrived_ms <= end + slide - len)
		evict_oldest(w, c);
	w->end = end;
	int64_t next = end + slide - now_ms;
	return next > 1 ? next : 1;
}

void stm_window_fini(struct stm_window *w)
{
	while (w->count > 0) {
		stm_tuple *t = at(w, 0);
		w->head = (w->head + 1) % w->cap;
		w->count--;
		stm_tuple_free(t);
	}
	free(w->items);
	w->items = NULL;
	w->cap = 0;
}
