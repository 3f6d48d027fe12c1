/* resources.c — storage and arithmetic of resource sets (see resources.h).
 *
 * A set is a sorted array of entries. Lookups are binary searches on (name, identity
 * bytes); the value operations work on sorted, coalesced intervals and sorted items,
 * so containment and subtraction are linear merges that need no allocation. */
#include <stdlib.h>
#include <string.h>

#include "resources_internal.h"

/* Interval counts up to this size are merged or subtracted in a stack buffer. */
#define PX_RANGES_STACK 64

/* ---- Entries ---------------------------------------------------------------------- */

int px__ident_cmp(const struct px_resource *a, const struct px_resource *b)
{
	int c = strcmp(a->name, b->name);
	if (c != 0)
		return c;
	if (a->ident_len != b->ident_len)
		return a->ident_len < b->ident_len ? -1 : 1;
	return a->ident_len == 0 ? 0 : memcmp(a->ident, b->ident, a->ident_len);
}

void px__entry_fini(struct px_resource *e)
{
	free(e->name);
	free(e->ident);
	free(e->role);
	free(e->persistence_id);
	free(e->alloc_role);
	free(e->ranges);
	for (size_t i = 0; i < e->n_items; i++)
		free(e->items[i]);
	free(e->items);
	memset(e, 0, sizeof(*e));
}

static bool entry_is_empty(const struct px_resource *e)
{
	switch (e->type) {
	case PX_SCALAR:
		return e->scalar == 0;
	case PX_RANGES:
		return e->n_ranges == 0;
	default:
		return e->n_items == 0;
	}
}

/* Orders values of the same type; used to keep indivisible copies in a fixed order. */
static int value_cmp(const struct px_resource *a, const struct px_resource *b)
{
	switch (a->type) {
	case PX_SCALAR:
		return a->scalar < b->scalar ? -1 : a->scalar > b->scalar;
	case PX_RANGES:
		for (size_t i = 0; i < a->n_ranges && i < b->n_ranges; i++) {
			if (a->ranges[i].begin != b->ranges[i].begin)
				return a->ranges[i].begin < b->ranges[i].begin ? -1 : 1;
			if (a->ranges[i].end != b->ranges[i].end)
				return a->ranges[i].end < b->ranges[i].end ? -1 : 1;
		}
		return a->n_ranges < b->n_ranges ? -1 : a->n_ranges > b->n_ranges;
	default:
		for (size_t i = 0; i < a->n_items && i < b->n_items; i++) {
			int c = strcmp(a->items[i], b->items[i]);
			if (c != 0)
				return c;
		}
		return a->n_items < b->n_items ? -1 : a->n_items > b->n_items;
	}
}

static char *dup_or_null(const char *s, bool *failed)
{
	if (s == NULL)
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*failed = true;
	return d;
}

static int entry_copy(struct px_resource *dst, const struct px_resource *src)
{
	bool failed = false;
	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->flags = src->flags;
	dst->n_reservations = src->n_reservations;
	dst->scalar = src->scalar;
	dst->name = dup_or_null(src->name, &failed);
	dst->role = dup_or_null(src->role, &failed);
	dst->persistence_id = dup_or_null(src->persistence_id, &failed);
	dst->alloc_role = dup_or_null(src->alloc_role, &failed);
	dst->ident = malloc(src->ident_len ? src->ident_len : 1);
	if (dst->ident == NULL)
		failed = true;
	else
		memcpy(dst->ident, src->ident, src->ident_len);
	dst->ident_len = src->ident_len;
	if (!failed && src->n_ranges > 0) {
		size_t cap =
		    src->n_ranges < PX__RANGES_MIN_CAP ? PX__RANGES_MIN_CAP : src->n_ranges;
		dst->ranges = malloc(cap * sizeof(*dst->ranges));
		if (dst->ranges == NULL) {
			failed = true;
		} else {
			memcpy(dst->ranges, src->ranges, src->n_ranges * sizeof(*dst->ranges));
			dst->n_ranges = src->n_ranges;
			dst->cap_ranges = cap;
		}
	}
	if (!failed && src->n_items > 0) {
		dst->items = calloc(src->n_items, sizeof(*dst->items));
		if (dst->items == NULL) {
			failed = true;
		} else {
			dst->cap_items = src->n_items;
			for (size_t i = 0; i < src->n_items && !failed; i++) {
				dst->items[i] = strdup(src->items[i]);
				if (dst->items[i] == NULL)
					failed = true;
				else
					dst->n_items = i + 1;
			}
		}
	}
	if (failed) {
		px__entry_fini(dst);
		return PX_ENOMEM;
	}
	return PX_OK;
}

/* ---- Ranges ----------------------------------------------------------------------- */

static int range_cmp(const void *pa, const void *pb)
{
	const struct px_range *a = pa, *b = pb;
	if (a->begin != b->begin)
		return a->begin < b->begin ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

/* Appends r to out[0..*n), coalescing with the last interval if they overlap or touch.
 * Inputs arrive in begin order. */
static void ranges_push(struct px_range *out, size_t *n, struct px_range r)
{
	if (*n > 0) {
		struct px_range *last = &out[*n - 1];
		if (last->end == UINT64_MAX || r.begin <= last->end + 1) {
			if (r.end > last->end)
				last->end = r.end;
			return;
		}
	}
	out[(*n)++] = r;
}

size_t px__ranges_normalize(struct px_range *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), range_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		ranges_push(v, &m, v[i]);
	return m;
}

/* Union of two normalized lists into out (room for na + nb); returns its count. */
static size_t ranges_union(const struct px_range *a, size_t na, const struct px_range *b, size_t nb,
                           struct px_range *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i].begin <= b[j].begin))
			ranges_push(out, &n, a[i++]);
		else
			ranges_push(out, &n, b[j++]);
	}
	return n;
}

/* a minus b (both normalized) into out (room for na + nb); returns its count. */
static size_t ranges_diff(const struct px_range *a, size_t na, const struct px_range *b, size_t nb,
                          struct px_range *out)
{
	size_t n = 0, j = 0;
	for (size_t i = 0; i < na; i++) {
		struct px_range cur = a[i];
		bool alive = true;
		while (j < nb && b[j].end < cur.begin)
			j++;
		for (size_t k = j; k < nb && b[k].begin <= cur.end; k++) {
			if (b[k].begin > cur.begin)
				out[n++] = (struct px_range){cur.begin, b[k].begin - 1};
			if (b[k].end >= cur.end) {
				alive = false;
				break;
			}
			cur.begin = b[k].end + 1;
		}
		if (alive)
			out[n++] = cur;
	}
	return n;
}

/* True when every interval of b lies inside an interval of a (both normalized). */
static bool ranges_contains(const struct px_range *a, size_t na, const struct px_range *b,
                            size_t nb)
{
	size_t i = 0;
	for (size_t j = 0; j < nb; j++) {
		while (i < na && a[i].end < b[j].begin)
			i++;
		if (i == na || a[i].begin > b[j].begin || a[i].end < b[j].end)
			return false;
	}
	return true;
}

static int ranges_reserve(struct px_resource *e, size_t need)
{
	if (need <= e->cap_ranges)
		return PX_OK;
	size_t cap = e->cap_ranges ? e->cap_ranges * 2 : PX__RANGES_MIN_CAP;
	while (cap < need)
		cap *= 2;
	struct px_range *v = realloc(e->ranges, cap * sizeof(*v));
	if (v == NULL)
		return PX_ENOMEM;
	e->ranges = v;
	e->cap_ranges = cap;
	return PX_OK;
}

/* ---- Sets ------------------------------------------------------------------------- */

static int item_cmp(const void *pa, const void *pb)
{
	return strcmp(*(char *const *)pa, *(char *const *)pb);
}

size_t px__items_sort(char **items, size_t n)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(items[i - 1], items[i]) == 0)
			return i;
	return n;
}

static bool items_contains(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i = 0;
	for (size_t j = 0; j < nb; j++) {
		int c = 1;
		while (i < na && (c = strcmp(a[i], b[j])) < 0)
			i++;
		if (i == na || c != 0)
			return false;
	}
	return true;
}

/* ---- Values ----------------------------------------------------------------------- */

static bool value_contains(const struct px_resource *a, const struct px_resource *b)
{
	switch (a->type) {
	case PX_SCALAR:
		return a->scalar >= b->scalar;
	case PX_RANGES:
		return ranges_contains(a->ranges, a->n_ranges, b->ranges, b->n_ranges);
	default:
		return items_contains(a->items, a->n_items, b->items, b->n_items);
	}
}

/* e += r's value. Both have the same type. */
static int value_add(struct px_resource *e, const struct px_resource *r)
{
	switch (e->type) {
	case PX_SCALAR:
		if (r->scalar > PX_SCALAR_MAX - e->scalar)
			return PX_ERANGE;
		e->scalar += r->scalar;
		return PX_OK;
	case PX_RANGES: {
		/* Merge into a scratch buffer (on the stack when small), then copy back
		 * into e's storage, which usually has room already. */
		size_t need = e->n_ranges + r->n_ranges;
		struct px_range stack[PX_RANGES_STACK];
		struct px_range *out =
		    need <= PX_RANGES_STACK ? stack : malloc(need * sizeof(*out));
		if (out == NULL)
			return PX_ENOMEM;
		size_t n = ranges_union(e->ranges, e->n_ranges, r->ranges, r->n_ranges, out);
		int rc = ranges_reserve(e, n);
		if (rc == PX_OK) {
			if (n > 0)
				memcpy(e->ranges, out, n * sizeof(*out));
			e->n_ranges = n;
		}
		if (out != stack)
			free(out);
		return rc;
	}
	default: {
		size_t need = e->n_items + r->n_items;
		char **out = malloc((need ? need : 1) * sizeof(*out));
		if (out == NULL)
			return PX_ENOMEM;
		size_t i = 0, j = 0, n = 0;
		while (i < e->n_items || j < r->n_items) {
			int c = i == e->n_items   ? 1
			        : j == r->n_items ? -1
			                          : strcmp(e->items[i], r->items[j]);
			if (c <= 0) {
				out[n++] = e->items[i++];
				if (c == 0)
					j++;
				continue;
			}
			out[n] = strdup(r->items[j++]);
			if (out[n] == NULL) {
				/* Keep e valid: the items taken so far stay, the new
				 * copies are dropped. */
				for (size_t k = 0; k < n; k++)
					if (!items_contains(e->items, e->n_items, &out[k], 1))
						free(out[k]);
				free(out);
				return PX_ENOMEM;
			}
			n++;
		}
		free(e->items);
		e->items = out;
		e->n_items = n;
		e->cap_items = need;
		return PX_OK;
	}
	}
}

/* e -= r's value, saturating. Both have the same type. */
static int value_subtract(struct px_resource *e, const struct px_resource *r)
{
	switch (e->type) {
	case PX_SCALAR:
		e->scalar = r->scalar >= e->scalar ? 0 : e->scalar - r->scalar;
		return PX_OK;
	case PX_RANGES: {
		size_t need = e->n_ranges + r->n_ranges;
		struct px_range stack[PX_RANGES_STACK];
		struct px_range *out =
		    need <= PX_RANGES_STACK ? stack : malloc(need * sizeof(*out));
		if (out == NULL)
			return PX_ENOMEM;
		size_t n = ranges_diff(e->ranges, e->n_ranges, r->ranges, r->n_ranges, out);
		int rc = ranges_reserve(e, n);
		if (rc == PX_OK) {
			if (n > 0)
				memcpy(e->ranges, out, n * sizeof(*out));
			e->n_ranges = n;
		}
		if (out != stack)
			free(out);
		return rc;
	}
	default: {
		size_t n = 0, j = 0;
		for (size_t i = 0; i < e->n_items; i++) {
			int c = 1;
			while (j < r->n_items && (c = strcmp(r->items[j], e->items[i])) < 0)
				j++;
			if (j < r->n_items && c == 0)
				free(e->items[i]);
			else
				e->items[n++] = e->items[i];
		}
		e->n_items = n;
		return PX_OK;
	}
	}
}

/* ---- Sets of entries -------------------------------------------------------------- */

px_resources *px_resources_new(void)
{
	return calloc(1, sizeof(px_resources));
}

void px_resources_clear(px_resources *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		px__entry_fini(&rs->v[i]);
	rs->n = 0;
}

void px_resources_free(px_resources *rs)
{
	if (rs == NULL)
		return;
	px_resources_clear(rs);
	free(rs->v);
	free(rs);
}

/* Appends a copy of e (which must sort after everything in rs). */
static int append_copy(px_resources *rs, const struct px_resource *e)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 8;
		struct px_resource *v = realloc(rs->v, cap * sizeof(*v));
		if (v == NULL)
			return PX_ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	int rc = entry_copy(&rs->v[rs->n], e);
	if (rc == PX_OK)
		rs->n++;
	return rc;
}

px_resources *px_resources_copy(const px_resources *rs)
{
	px_resources *c = px_resources_new();
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < rs->n; i++) {
		if (append_copy(c, &rs->v[i]) != PX_OK) {
			px_resources_free(c);
			return NULL;
		}
	}
	return c;
}

size_t px_resources_size(const px_resources *rs)
{
	return rs->n;
}

bool px_resources_is_empty(const px_resources *rs)
{
	return rs->n == 0;
}

const struct px_resource *px_resources_at(const px_resources *rs, size_t i)
{
	return i < rs->n ? &rs->v[i] : NULL;
}

/* Index of the first entry whose identity is not less than key's. */
static size_t lower_bound(const px_resources *rs, const struct px_resource *key)
{
	size_t lo = 0, hi = rs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (px__ident_cmp(&rs->v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(px_resources *rs, size_t pos, struct px_resource *e)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 8;
		struct px_resource *v = realloc(rs->v, cap * sizeof(*v));
		if (v == NULL)
			return PX_ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	memmove(&rs->v[pos + 1], &rs->v[pos], (rs->n - pos) * sizeof(*rs->v));
	rs->v[pos] = *e;
	rs->n++;
	memset(e, 0, sizeof(*e));
	return PX_OK;
}

static void remove_at(px_resources *rs, size_t pos)
{
	px__entry_fini(&rs->v[pos]);
	memmove(&rs->v[pos], &rs->v[pos + 1], (rs->n - pos - 1) * sizeof(*rs->v));
	rs->n--;
}

int px__add_owned(px_resources *rs, struct px_resource *e)
{
	if (entry_is_empty(e)) {
		px__entry_fini(e);
		return PX_OK;
	}
	size_t pos = lower_bound(rs, e);
	if (!(e->flags & PX_RF_EXCLUSIVE)) {
		if (pos < rs->n && px__ident_cmp(&rs->v[pos], e) == 0) {
			int rc = value_add(&rs->v[pos], e);
			px__entry_fini(e);
			return rc;
		}
	} else {
		while (pos < rs->n && px__ident_cmp(&rs->v[pos], e) == 0 &&
		       value_cmp(&rs->v[pos], e) <= 0)
			pos++;
	}
	int rc = insert_at(rs, pos, e);
	if (rc != PX_OK)
		px__entry_fini(e);
	return rc;
}

int px_resources_add_resource(px_resources *rs, const struct px_resource *r)
{
	if (entry_is_empty(r))
		return PX_OK;
	if (!(r->flags & PX_RF_EXCLUSIVE)) {
		size_t pos = lower_bound(rs, r);
		if (pos < rs->n && px__ident_cmp(&rs->v[pos], r) == 0)
			return value_add(&rs->v[pos], r);
	}
	struct px_resource e;
	int rc = entry_copy(&e, r);
	if (rc != PX_OK)
		return rc;
	return px__add_owned(rs, &e);
}

int px_resources_add(px_resources *rs, const px_resources *other)
{
	if (rs == other) {
		/* Adding a set to itself reads what it writes: add a copy instead. */
		px_resources *c = px_resources_copy(other);
		if (c == NULL)
			return PX_ENOMEM;
		int rc = px_resources_add(rs, c);
		px_resources_free(c);
		return rc;
	}
	for (size_t i = 0; i < other->n; i++) {
		int rc = px_resources_add_resource(rs, &other->v[i]);
		if (rc != PX_OK)
			return rc;
	}
	return PX_OK;
}

int px_resources_subtract_resource(px_resources *rs, const struct px_resource *r)
{
	size_t pos = lower_bound(rs, r);
	if (!(r->flags & PX_RF_EXCLUSIVE)) {
		if (pos == rs->n || px__ident_cmp(&rs->v[pos], r) != 0)
			return PX_OK;
		int rc = value_subtract(&rs->v[pos], r);
		if (rc == PX_OK && entry_is_empty(&rs->v[pos]))
			remove_at(rs, pos);
		return rc;
	}
	for (; pos < rs->n && px__ident_cmp(&rs->v[pos], r) == 0; pos++) {
		if (value_cmp(&rs->v[pos], r) == 0) {
			remove_at(rs, pos);
			break;
		}
	}
	return PX_OK;
}

int px_resources_subtract(px_resources *rs, const px_resources *other)
{
	if (rs == other) {
		px_resources_clear(rs);
		return PX_OK;
	}
	for (size_t i = 0; i < other->n; i++) {
		int rc = px_resources_subtract_resource(rs, &other->v[i]);
		if (rc != PX_OK)
			return rc;
	}
	return PX_OK;
}

/* Number of copies equal to e (identity and value) starting at index i of rs. */
static size_t count_copies(const px_resources *rs, size_t i, const struct px_resource *e)
{
	size_t k = 0;
	for (; i < rs->n && px__ident_cmp(&rs->v[i], e) == 0; i++)
		if (value_cmp(&rs->v[i], e) == 0)
			k++;
	return k;
}

bool px_resources_contains(const px_resources *rs, const px_resources *other)
{
	for (size_t i = 0; i < other->n; i++) {
		const struct px_resource *r = &other->v[i];
		size_t pos = lower_bound(rs, r);
		if (pos == rs->n || px__ident_cmp(&rs->v[pos], r) != 0)
			return false;
		if (!(r->flags & PX_RF_EXCLUSIVE)) {
			if (!value_contains(&rs->v[pos], r))
				return false;
			continue;
		}
		/* Equal copies sit next to each other in other: count them at once. */
		size_t want = 1;
		while (i + want < other->n && px__ident_cmp(&other->v[i + want], r) == 0 &&
		       value_cmp(&other->v[i + want], r) == 0)
			want++;
		if (count_copies(rs, pos, r) < want)
			return false;
		i += want - 1;
	}
	return true;
}

bool px_resources_equal(const px_resources *a, const px_resources *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (px__ident_cmp(&a->v[i], &b->v[i]) != 0 || value_cmp(&a->v[i], &b->v[i]) != 0)
			return false;
	return true;
}

int64_t px_resources_scalar(const px_resources *rs, const char *name)
{
	int64_t sum = 0;
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].type == PX_SCALAR && strcmp(rs->v[i].name, name) == 0)
			sum += rs->v[i].scalar;
	return sum;
}

/* ---- Views ------------------------------------------------------------------------ */

int px_resources_filter(const px_resources *rs, px_resource_pred pred, void *arg,
                        px_resources **out)
{
	px_resources *f = px_resources_new();
	if (f == NULL)
		return PX_ENOMEM;
	/* A subset of a canonical set in the same order is canonical. */
	for (size_t i = 0; i < rs->n; i++) {
		if (pred(&rs->v[i], arg) && append_copy(f, &rs->v[i]) != PX_OK) {
			px_resources_free(f);
			return PX_ENOMEM;
		}
	}
	*out = f;
	return PX_OK;
}

static bool is_unreserved(const struct px_resource *r, void *arg)
{
	return r->role == NULL;
}

int px_resources_unreserved(const px_resources *rs, px_resources **out)
{
	return px_resources_filter(rs, is_unreserved, NULL, out);
}

static bool is_reserved_for(const struct px_resource *r, void *arg)
{
	const char *role = arg;
	return r->role != NULL && (role == NULL || strcmp(r->role, role) == 0);
}

int px_resources_reserved(const px_resources *rs, const char *role, px_resources **out)
{
	return px_resources_filter(rs, is_reserved_for, (void *)role, out);
}

/* True when ancestor is role itself or one of its ancestors in the role tree
 * ("eng" for "eng/web"). */
static bool role_is_within(const char *role, const char *ancestor)
{
	size_t n = strlen(ancestor);
	return strncmp(role, ancestor, n) == 0 && (role[n] == '\0' || role[n] == '/');
}

static bool is_allocatable_to(const struct px_resource *r, void *arg)
{
	return r->role == NULL || role_is_within(arg, r->role);
}

int px_resources_allocatable_to(const px_resources *rs, const char *role, px_resources **out)
{
	return px_resources_filter(rs, is_allocatable_to, (void *)role, out);
}

static bool is_named(const struct px_resource *r, void *arg)
{
	return strcmp(r->name, arg) == 0;
}

int px_resources_named(const px_resources *rs, const char *name, px_resources **out)
{
	return px_resources_filter(rs, is_named, (void *)name, out);
}

int px__rebuild(const px_resources *rs, px__ident_edit edit, void *arg, px_resources **out)
{
	px_resources *f = px_resources_new();
	if (f == NULL)
		return PX_ENOMEM;
	int rc = PX_OK;
	for (size_t i = 0; i < rs->n && rc == PX_OK; i++) {
		const struct px_resource *r = &rs->v[i];
		Plexus__Resource *ident = px__ident_unpack(r);
		if (ident == NULL) {
			rc = PX_ENOMEM;
			break;
		}
		rc = edit(ident, arg);
		struct px_resource e;
		if (rc == PX_OK)
			rc = px__entry_init(&e, r->name, ident);
		protobuf_c_message_free_unpacked(&ident->base, NULL);
		if (rc != PX_OK)
			break;
		/* e starts with an empty value, so adding r's value to it copies it. */
		rc = value_add(&e, r);
		if (rc == PX_OK)
			rc = px__add_owned(f, &e);
		else
			px__entry_fini(&e);
	}
	if (rc != PX_OK) {
		px_resources_free(f);
		return rc;
	}
	*out = f;
	return PX_OK;
}

static int edit_unreserve(Plexus__Resource *ident, void *arg)
{
	while (ident->n_reservations > 0)
		protobuf_c_message_free_unpacked(
		    &ident->reservations[--ident->n_reservations]->base, NULL);
	return PX_OK;
}

int px_resources_flatten(const px_resources *rs, px_resources **out)
{
	return px__rebuild(rs, edit_unreserve, NULL, out);
}

int px_resources_quantities(const px_resources *rs, px_resources **out)
{
	px_resources *f = px_resources_new();
	if (f == NULL)
		return PX_ENOMEM;
	Plexus__Resource plain = PLEXUS__RESOURCE__INIT;
	plain.type = PLEXUS__VALUE__TYPE__SCALAR;
	int rc = PX_OK;
	for (size_t i = 0; i < rs->n && rc == PX_OK; i++) {
		if (rs->v[i].type != PX_SCALAR)
			continue;
		struct px_resource e;
		rc = px__entry_init(&e, rs->v[i].name, &plain);
		if (rc != PX_OK)
			break;
		e.scalar = rs->v[i].scalar;
		rc = px__add_owned(f, &e);
	}
	if (rc != PX_OK) {
		px_resources_free(f);
		return rc;
	}
	*out = f;
	return PX_OK;
}

/* ---- Accessors -------------------------------------------------------------------- */

const char *px_resource_name(const struct px_resource *r)
{
	return r->name;
}

enum px_value_type px_resource_type(const struct px_resource *r)
{
	return (enum px_value_type)r->type;
}

int64_t px_resource_scalar(const struct px_resource *r)
{
	return r->type == PX_SCALAR ? r->scalar : 0;
}

const struct px_range *px_resource_ranges(const struct px_resource *r, size_t *n)
{
	*n = r->type == PX_RANGES ? r->n_ranges : 0;
	return *n ? r->ranges : NULL;
}

const char *const *px_resource_items(const struct px_resource *r, size_t *n)
{
	*n = r->type == PX_SET ? r->n_items : 0;
	return *n ? (const char *const *)r->items : NULL;
}

const char *px_resource_role(const struct px_resource *r)
{
	return r->role ? r->role : "*";
}

bool px_resource_is_reserved(const struct px_resource *r)
{
	return r->role != NULL;
}

bool px_resource_is_dynamic(const struct px_resource *r)
{
	return (r->flags & PX_RF_DYNAMIC) != 0;
}

const char *px_resource_persistence_id(const struct px_resource *r)
{
	return r->persistence_id;
}

const char *px_resource_allocation_role(const struct px_resource *r)
{
	return r->alloc_role;
}

bool px_resource_is_revocable(const struct px_resource *r)
{
	return (r->flags & PX_RF_REVOCABLE) != 0;
}

bool px_resource_is_shared(const struct px_resource *r)
{
	return (r->flags & PX_RF_SHARED) != 0;
}
