/* resources_pb.c — resource identities and conversion to and from the generated
 * protobuf Resource (see resources.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resources_internal.h"

/* ---- Roles ------------------------------------------------------------------------ */

const char *px__role_invalid(const char *role)
{
	if (role == NULL || role[0] == '\0')
		return "role is empty";
	if (strcmp(role, "*") == 0)
		return "'*' means unreserved and cannot be reserved for";
	const char *p = role;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0)
			return "role has an empty component";
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return "role component cannot be '.' or '..'";
		if (n == 1 && p[0] == '*')
			return "role component cannot be '*'";
		if (p[0] == '-')
			return "role component cannot start with '-'";
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= 0x20 || c == 0x7f || c == '\\')
				return "role contains a blank, control character or '\\'";
		}
		if (end == NULL)
			return NULL;
		p = end + 1;
	}
}

/* ---- Identities ------------------------------------------------------------------- */

int px__entry_init(struct px_resource *e, const char *name, const Plexus__Resource *ident)
{
	memset(e, 0, sizeof(*e));
	Plexus__Resource key = *ident;
	key.name = (char *)"";
	key.scalar = NULL;
	key.ranges = NULL;
	key.set = NULL;
	key.role = NULL;
	key.reservation = NULL;

	e->ident_len = protobuf_c_message_get_packed_size(&key.base);
	e->ident = malloc(e->ident_len ? e->ident_len : 1);
	e->name = strdup(name);
	if (e->ident == NULL || e->name == NULL)
		goto nomem;
	protobuf_c_message_pack(&key.base, e->ident);

	e->type = (uint8_t)ident->type;
	e->n_reservations = (uint32_t)ident->n_reservations;
	if (ident->n_reservations > 0) {
		const Plexus__Resource__ReservationInfo *last =
		    ident->reservations[ident->n_reservations - 1];
		e->role = strdup(last->role ? last->role : "");
		if (e->role == NULL)
			goto nomem;
		if (last->has_type &&
		    last->type == PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC)
			e->flags |= PX_RF_DYNAMIC;
	}
	if (ident->allocation_info != NULL && ident->allocation_info->role != NULL) {
		e->alloc_role = strdup(ident->allocation_info->role);
		if (e->alloc_role == NULL)
			goto nomem;
	}
	if (ident->revocable)
		e->flags |= PX_RF_REVOCABLE;
	if (ident->shared)
		e->flags |= PX_RF_SHARED | PX_RF_EXCLUSIVE;
	if (ident->disk) {
		e->flags |= PX_RF_DISK;
		if (ident->disk->persistence) {
			e->flags |= PX_RF_EXCLUSIVE;
			e->persistence_id = strdup(ident->disk->persistence->id);
			if (e->persistence_id == NULL)
				goto nomem;
		}
		/* MOUNT and BLOCK disks are used whole or not at all. */
		if (ident->disk->source &&
		    (ident->disk->source->type ==
		         PLEXUS__RESOURCE__DISK_INFO__SOURCE__TYPE__MOUNT ||
		     ident->disk->source->type == PLEXUS__RESOURCE__DISK_INFO__SOURCE__TYPE__BLOCK))
			e->flags |= PX_RF_EXCLUSIVE;
	}
	return PX_OK;
nomem:
	px__entry_fini(e);
	return PX_ENOMEM;
}

Plexus__Resource *px__ident_unpack(const struct px_resource *e)
{
	return plexus__resource__unpack(NULL, e->ident_len, e->ident);
}

/* ---- Scalars ---------------------------------------------------------------------- */

int px_scalar_from_double(double value, int64_t *milli)
{
	if (isnan(value) || isinf(value))
		return PX_EINVAL;
	if (value < 0)
		return PX_EINVAL;
	double m = round(value * 1000.0);
	if (m > (double)PX_SCALAR_MAX)
		return PX_ERANGE;
	*milli = (int64_t)m;
	return PX_OK;
}

int px_resources_add_scalar(px_resources *rs, const char *name, const char *role, int64_t milli)
{
	if (name == NULL || name[0] == '\0' || milli < 0)
		return PX_EINVAL;
	if (milli > PX_SCALAR_MAX)
		return PX_ERANGE;
	if (role != NULL && strcmp(role, "*") == 0)
		role = NULL;
	if (role != NULL && px__role_invalid(role) != NULL)
		return PX_EINVAL;
	if (milli == 0)
		return PX_OK;

	Plexus__Resource ident = PLEXUS__RESOURCE__INIT;
	Plexus__Resource__ReservationInfo resv = PLEXUS__RESOURCE__RESERVATION_INFO__INIT;
	Plexus__Resource__ReservationInfo *stack[1] = {&resv};
	ident.type = PLEXUS__VALUE__TYPE__SCALAR;
	if (role != NULL) {
		resv.has_type = 1;
		resv.type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
		resv.role = (char *)role;
		ident.n_reservations = 1;
		ident.reservations = stack;
	}
	struct px_resource e;
	int rc = px__entry_init(&e, name, &ident);
	if (rc != PX_OK)
		return rc;
	e.scalar = milli;
	return px__add_owned(rs, &e);
}

/* ---- From protobuf ---------------------------------------------------------------- */

static bool role_is_descendant(const char *role, const char *ancestor)
{
	size_t n = strlen(ancestor);
	return strncmp(role, ancestor, n) == 0 && role[n] == '/';
}

/* Checks r's reservations and fills *stack and *n with the normalized stack (pointing into
 * r or at *legacy). */
static int normalize_reservations(const Plexus__Resource *r, size_t idx,
                                  Plexus__Resource__ReservationInfo *legacy,
                                  Plexus__Resource__ReservationInfo ***stack, size_t *n, char *err,
                                  size_t errlen)
{
	bool has_role = r->role != NULL && strcmp(r->role, "*") != 0;
	if (r->n_reservations > 0) {
		if (has_role || r->reservation)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resource %zu ('%s'): 'reservations' cannot be combined "
			                 "with 'role' or 'reservation'",
			                 idx, r->name);
		for (size_t i = 0; i < r->n_reservations; i++) {
			const Plexus__Resource__ReservationInfo *ri = r->reservations[i];
			const char *why = px__role_invalid(ri->role);
			if (why != NULL)
				return px_errorf(err, errlen, PX_EINVAL,
				                 "resource %zu ('%s'): reservation %zu: %s", idx,
				                 r->name, i, why);
			if (!ri->has_type ||
			    (ri->type != PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC &&
			     ri->type != PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC))
				return px_errorf(
				    err, errlen, PX_EINVAL,
				    "resource %zu ('%s'): reservation %zu: type must be "
				    "STATIC or DYNAMIC",
				    idx, r->name, i);
			if (i > 0 && ri->type != PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC)
				return px_errorf(err, errlen, PX_EINVAL,
				                 "resource %zu ('%s'): reservation %zu: a refined "
				                 "reservation must be DYNAMIC",
				                 idx, r->name, i);
			if (i > 0 && !role_is_descendant(ri->role, r->reservations[i - 1]->role))
				return px_errorf(
				    err, errlen, PX_EINVAL,
				    "resource %zu ('%s'): reservation %zu: role '%s' is "
				    "not a sub-role of '%s'",
				    idx, r->name, i, ri->role, r->reservations[i - 1]->role);
		}
		*stack = r->reservations;
		*n = r->n_reservations;
		return PX_OK;
	}
	if (!has_role) {
		if (r->reservation)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resource %zu ('%s'): 'reservation' set on an unreserved "
			                 "resource",
			                 idx, r->name);
		*stack = NULL;
		*n = 0;
		return PX_OK;
	}
	const char *why = px__role_invalid(r->role);
	if (why != NULL)
		return px_errorf(err, errlen, PX_EINVAL, "resource %zu ('%s'): %s", idx, r->name,
		                 why);
	/* Pre-refinement format: role alone is a static reservation, role plus
	 * `reservation` a dynamic one (whose principal and labels it carries). */
	legacy->has_type = 1;
	legacy->role = r->role;
	if (r->reservation) {
		legacy->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
		legacy->principal = r->reservation->principal;
		legacy->labels = r->reservation->labels;
	} else {
		legacy->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
	}
	**stack = legacy;
	*n = 1;
	return PX_OK;
}

/* Copies r's value into e after checking it. */
static int value_from_pb(struct px_resource *e, const Plexus__Resource *r, size_t idx, char *err,
                         size_t errlen)
{
	switch (r->type) {
	case PLEXUS__VALUE__TYPE__SCALAR: {
		if (r->scalar == NULL || r->ranges || r->set)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resource %zu ('%s'): a SCALAR resource needs 'scalar' "
			                 "and nothing else",
			                 idx, r->name);
		int rc = px_scalar_from_double(r->scalar->value, &e->scalar);
		if (rc != PX_OK)
			return px_errorf(
			    err, errlen, PX_EINVAL, "resource %zu ('%s'): scalar %g is %s", idx,
			    r->name, r->scalar->value,
			    rc == PX_ERANGE ? "too large" : "negative or not a number");
		return PX_OK;
	}
	case PLEXUS__VALUE__TYPE__RANGES: {
		if (r->ranges == NULL || r->scalar || r->set)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resource %zu ('%s'): a RANGES resource needs 'ranges' "
			                 "and nothing else",
			                 idx, r->name);
		size_t n = r->ranges->n_range;
		if (n == 0)
			return PX_OK;
		size_t cap = n < PX__RANGES_MIN_CAP ? PX__RANGES_MIN_CAP : n;
		e->ranges = malloc(cap * sizeof(*e->ranges));
		if (e->ranges == NULL)
			return PX_ENOMEM;
		e->cap_ranges = cap;
		for (size_t i = 0; i < n; i++) {
			const Plexus__Value__Range *rg = r->ranges->range[i];
			if (rg->begin > rg->end)
				return px_errorf(err, errlen, PX_EINVAL,
				                 "resource %zu ('%s'): range %llu-%llu has begin "
				                 "greater than end",
				                 idx, r->name, (unsigned long long)rg->begin,
				                 (unsigned long long)rg->end);
			e->ranges[i] = (struct px_range){rg->begin, rg->end};
		}
		e->n_ranges = px__ranges_normalize(e->ranges, n);
		return PX_OK;
	}
	case PLEXUS__VALUE__TYPE__SET: {
		if (r->set == NULL || r->scalar || r->ranges)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resource %zu ('%s'): a SET resource needs 'set' and "
			                 "nothing else",
			                 idx, r->name);
		size_t n = r->set->n_item;
		if (n == 0)
			return PX_OK;
		e->items = calloc(n, sizeof(*e->items));
		if (e->items == NULL)
			return PX_ENOMEM;
		e->cap_items = n;
		for (size_t i = 0; i < n; i++) {
			e->items[i] = strdup(r->set->item[i]);
			if (e->items[i] == NULL)
				return PX_ENOMEM;
			e->n_items = i + 1;
		}
		size_t dup = px__items_sort(e->items, n);
		if (dup < n)
			return px_errorf(err, errlen, PX_EINVAL,
			                 "resource %zu ('%s'): duplicate item '%s' in set", idx,
			                 r->name, e->items[dup]);
		return PX_OK;
	}
	default:
		return px_errorf(err, errlen, PX_EINVAL,
		                 "resource %zu ('%s'): value type %d is not supported (SCALAR, "
		                 "RANGES or SET)",
		                 idx, r->name, (int)r->type);
	}
}

int px_resources_from_pb(Plexus__Resource *const *res, size_t n, px_resources **out, char *err,
                         size_t errlen)
{
	px_resources *rs = px_resources_new();
	if (rs == NULL)
		return PX_ENOMEM;
	int rc = PX_OK;
	for (size_t i = 0; i < n && rc == PX_OK; i++) {
		const Plexus__Resource *r = res[i];
		if (r->name == NULL || r->name[0] == '\0') {
			rc = px_errorf(err, errlen, PX_EINVAL, "resource %zu: empty name", i);
			break;
		}
		Plexus__Resource__ReservationInfo legacy = PLEXUS__RESOURCE__RESERVATION_INFO__INIT;
		Plexus__Resource__ReservationInfo *legacy_stack[1];
		Plexus__Resource__ReservationInfo **stack = legacy_stack;
		size_t n_stack = 0;
		rc = normalize_reservations(r, i, &legacy, &stack, &n_stack, err, errlen);
		if (rc != PX_OK)
			break;
		if (r->disk && r->disk->persistence &&
		    (r->disk->persistence->id == NULL || r->disk->persistence->id[0] == '\0')) {
			rc = px_errorf(err, errlen, PX_EINVAL,
			               "resource %zu ('%s'): persistent volume with an empty id", i,
			               r->name);
			break;
		}
		Plexus__Resource ident = *r;
		ident.n_reservations = n_stack;
		ident.reservations = stack;

		struct px_resource e;
		rc = px__entry_init(&e, r->name, &ident);
		if (rc != PX_OK)
			break;
		rc = value_from_pb(&e, r, i, err, errlen);
		if (rc != PX_OK) {
			px__entry_fini(&e);
			break;
		}
		rc = px__add_owned(rs, &e);
		if (rc == PX_ERANGE)
			px_errorf(err, errlen, rc, "resource %zu ('%s'): sum is too large", i,
			          r->name);
	}
	if (rc != PX_OK) {
		if (rc == PX_ENOMEM)
			px_errorf(err, errlen, rc, "out of memory");
		px_resources_free(rs);
		return rc;
	}
	*out = rs;
	return PX_OK;
}

/* ---- To protobuf ------------------------------------------------------------------ */

static int value_to_pb(const struct px_resource *e, Plexus__Resource *m)
{
	switch (e->type) {
	case PX_SCALAR:
		m->scalar = malloc(sizeof(*m->scalar));
		if (m->scalar == NULL)
			return PX_ENOMEM;
		plexus__value__scalar__init(m->scalar);
		m->scalar->value = (double)e->scalar / 1000.0;
		return PX_OK;
	case PX_RANGES:
		m->ranges = malloc(sizeof(*m->ranges));
		if (m->ranges == NULL)
			return PX_ENOMEM;
		plexus__value__ranges__init(m->ranges);
		m->ranges->range = calloc(e->n_ranges ? e->n_ranges : 1, sizeof(*m->ranges->range));
		if (m->ranges->range == NULL)
			return PX_ENOMEM;
		for (size_t i = 0; i < e->n_ranges; i++) {
			Plexus__Value__Range *rg = malloc(sizeof(*rg));
			if (rg == NULL)
				return PX_ENOMEM;
			plexus__value__range__init(rg);
			rg->begin = e->ranges[i].begin;
			rg->end = e->ranges[i].end;
			m->ranges->range[m->ranges->n_range++] = rg;
		}
		return PX_OK;
	default:
		m->set = malloc(sizeof(*m->set));
		if (m->set == NULL)
			return PX_ENOMEM;
		plexus__value__set__init(m->set);
		m->set->item = calloc(e->n_items ? e->n_items : 1, sizeof(*m->set->item));
		if (m->set->item == NULL)
			return PX_ENOMEM;
		for (size_t i = 0; i < e->n_items; i++) {
			char *s = strdup(e->items[i]);
			if (s == NULL)
				return PX_ENOMEM;
			m->set->item[m->set->n_item++] = s;
		}
		return PX_OK;
	}
}

/* Rewrites a one-level reservation stack into `role` (+ `reservation` when dynamic). */
static int to_legacy(Plexus__Resource *m)
{
	if (m->n_reservations != 1)
		return PX_OK;
	Plexus__Resource__ReservationInfo *ri = m->reservations[0];
	m->role = ri->role;
	ri->role = NULL;
	if (ri->type == PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC) {
		ri->has_type = 0;
		ri->type = 0;
		m->reservation = ri;
	} else {
		protobuf_c_message_free_unpacked(&ri->base, NULL);
	}
	free(m->reservations);
	m->reservations = NULL;
	m->n_reservations = 0;
	return PX_OK;
}

int px_resource_to_pb(const struct px_resource *r, enum px_pb_format format, Plexus__Resource **out)
{
	Plexus__Resource *m = px__ident_unpack(r);
	if (m == NULL)
		return PX_ENOMEM;
	free(m->name);
	m->name = strdup(r->name);
	int rc = m->name == NULL ? PX_ENOMEM : value_to_pb(r, m);
	if (rc == PX_OK && format == PX_PB_LEGACY)
		rc = to_legacy(m);
	if (rc != PX_OK) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return rc;
	}
	*out = m;
	return PX_OK;
}

void px_pb_resources_free(Plexus__Resource **res, size_t n)
{
	if (res == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (res[i] != NULL)
			protobuf_c_message_free_unpacked(&res[i]->base, NULL);
	free(res);
}

int px_resources_to_pb(const px_resources *rs, enum px_pb_format format, Plexus__Resource ***out,
                       size_t *n)
{
	Plexus__Resource **v = calloc(rs->n ? rs->n : 1, sizeof(*v));
	if (v == NULL)
		return PX_ENOMEM;
	for (size_t i = 0; i < rs->n; i++) {
		int rc = px_resource_to_pb(&rs->v[i], format, &v[i]);
		if (rc != PX_OK) {
			px_pb_resources_free(v, i);
			return rc;
		}
	}
	*out = v;
	*n = rs->n;
	return PX_OK;
}
