/* cas_res.c — see cas_res.h. Messages are built with malloc'ed parts so that PX_FREE
 * (protobuf-c's free of unpacked messages) releases them. */
#include "cas_res.h"

#include <stdlib.h>
#include <string.h>

#include <plexus/message.h>

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

Plexus__Resource *cas_res_reserved(const char *name, double scalar, uint64_t port,
                                   const char *role, const char *principal,
                                   const char *persistence_id)
{
	Plexus__Resource *r = calloc(1, sizeof(*r));
	Plexus__Resource__ReservationInfo *ri = calloc(1, sizeof(*ri));
	Plexus__Resource__ReservationInfo **riv = calloc(1, sizeof(*riv));
	if (r == NULL || ri == NULL || riv == NULL)
		goto fail;
	plexus__resource__init(r);
	plexus__resource__reservation_info__init(ri);
	r->name = dup(name);
	ri->has_type = true;
	ri->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
	ri->role = dup(role);
	ri->principal = dup(principal);
	riv[0] = ri;
	ri = NULL;
	r->reservations = riv;
	r->n_reservations = 1;
	riv = NULL;
	if (strcmp(name, "ports") == 0) {
		Plexus__Value__Ranges *rs = calloc(1, sizeof(*rs));
		Plexus__Value__Range *rg = calloc(1, sizeof(*rg));
		Plexus__Value__Range **rgv = calloc(1, sizeof(*rgv));
		if (rs == NULL || rg == NULL || rgv == NULL) {
			free(rs), free(rg), free(rgv);
			goto fail;
		}
		plexus__value__ranges__init(rs);
		plexus__value__range__init(rg);
		rg->begin = rg->end = port;
		rgv[0] = rg;
		rs->range = rgv;
		rs->n_range = 1;
		r->type = PLEXUS__VALUE__TYPE__RANGES;
		r->ranges = rs;
	} else {
		Plexus__Value__Scalar *sc = calloc(1, sizeof(*sc));
		if (sc == NULL)
			goto fail;
		plexus__value__scalar__init(sc);
		sc->value = scalar;
		r->type = PLEXUS__VALUE__TYPE__SCALAR;
		r->scalar = sc;
	}
	if (persistence_id) {
		Plexus__Resource__DiskInfo *di = calloc(1, sizeof(*di));
		Plexus__Resource__DiskInfo__Persistence *pe = calloc(1, sizeof(*pe));
		Plexus__Volume *vo = calloc(1, sizeof(*vo));
		if (di == NULL || pe == NULL || vo == NULL) {
			free(di), free(pe), free(vo);
			goto fail;
		}
		plexus__resource__disk_info__init(di);
		plexus__resource__disk_info__persistence__init(pe);
		plexus__volume__init(vo);
		pe->id = dup(persistence_id);
		pe->principal = dup(principal);
		vo->container_path = dup(CAS_VOLUME_PATH);
		vo->mode = PLEXUS__VOLUME__MODE__RW;
		di->persistence = pe;
		di->volume = vo;
		r->disk = di;
	}
	if (r->name == NULL || r->reservations[0]->role == NULL)
		goto fail;
	return r;
fail:
	free(ri);
	free(riv);
	PX_FREE(r);
	return NULL;
}

static Plexus__Offer__Operation *op_alloc(Plexus__Offer__Operation__Type type)
{
	Plexus__Offer__Operation *op = calloc(1, sizeof(*op));
	if (op == NULL)
		return NULL;
	plexus__offer__operation__init(op);
	op->has_type = true;
	op->type = type;
	return op;
}

Plexus__Offer__Operation *cas_op_reserve(Plexus__Resource **res, size_t n)
{
	Plexus__Offer__Operation *op = op_alloc(PLEXUS__OFFER__OPERATION__TYPE__RESERVE);
	Plexus__Offer__Operation__Reserve *r = calloc(1, sizeof(*r));
	Plexus__Resource **v = malloc((n ? n : 1) * sizeof(*v));
	if (op == NULL || r == NULL || v == NULL) {
		free(op), free(r), free(v);
		for (size_t i = 0; i < n; i++)
			PX_FREE(res[i]);
		return NULL;
	}
	plexus__offer__operation__reserve__init(r);
	memcpy(v, res, n * sizeof(*v));
	r->resources = v;
	r->n_resources = n;
	op->reserve = r;
	return op;
}

Plexus__Offer__Operation *cas_op_create(Plexus__Resource **volumes, size_t n)
{
	Plexus__Offer__Operation *op = op_alloc(PLEXUS__OFFER__OPERATION__TYPE__CREATE);
	Plexus__Offer__Operation__Create *c = calloc(1, sizeof(*c));
	Plexus__Resource **v = malloc((n ? n : 1) * sizeof(*v));
	if (op == NULL || c == NULL || v == NULL) {
		free(op), free(c), free(v);
		for (size_t i = 0; i < n; i++)
			PX_FREE(volumes[i]);
		return NULL;
	}
	plexus__offer__operation__create__init(c);
	memcpy(v, volumes, n * sizeof(*v));
	c->volumes = v;
	c->n_volumes = n;
	op->create = c;
	return op;
}

Plexus__Offer__Operation *cas_op_launch(Plexus__TaskInfo *task)
{
	Plexus__Offer__Operation *op = op_alloc(PLEXUS__OFFER__OPERATION__TYPE__LAUNCH);
	Plexus__Offer__Operation__Launch *l = calloc(1, sizeof(*l));
	Plexus__TaskInfo **v = malloc(sizeof(*v));
	if (op == NULL || l == NULL || v == NULL) {
		free(op), free(l), free(v);
		PX_FREE(task);
		return NULL;
	}
	plexus__offer__operation__launch__init(l);
	v[0] = task;
	l->task_infos = v;
	l->n_task_infos = 1;
	op->launch = l;
	return op;
}

bool cas_res_is_reserved_for(const Plexus__Resource *r, const char *role)
{
	if (r->n_reservations > 0) {
		const Plexus__Resource__ReservationInfo *ri = r->reservations[r->n_reservations - 1];
		return ri->role && strcmp(ri->role, role) == 0 &&
		       (!ri->has_type || ri->type == PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC);
	}
	return r->reservation != NULL && r->role && strcmp(r->role, role) == 0;
}

const char *cas_res_persistence_id(const Plexus__Resource *r)
{
	return r->disk && r->disk->persistence ? r->disk->persistence->id : NULL;
}

static bool unreserved(const Plexus__Resource *r)
{
	return r->n_reservations == 0 && r->reservation == NULL &&
	       (r->role == NULL || strcmp(r->role, "*") == 0);
}

double cas_offer_unreserved(const Plexus__Offer *o, const char *name)
{
	double sum = 0;
	for (size_t i = 0; i < o->n_resources; i++) {
		const Plexus__Resource *r = o->resources[i];
		if (unreserved(r) && strcmp(r->name, name) == 0 && r->scalar && r->disk == NULL)
			sum += r->scalar->value;
	}
	return sum;
}

uint64_t cas_offer_free_port(const Plexus__Offer *o, const uint64_t *avoid, size_t navoid)
{
	for (size_t i = 0; i < o->n_resources; i++) {
		const Plexus__Resource *r = o->resources[i];
		if (!unreserved(r) || strcmp(r->name, "ports") != 0 || r->ranges == NULL)
			continue;
		for (size_t k = 0; k < r->ranges->n_range; k++) {
			for (uint64_t p = r->ranges->range[k]->begin; p <= r->ranges->range[k]->end; p++) {
				bool taken = false;
				for (size_t a = 0; a < navoid; a++)
					taken |= avoid[a] == p;
				if (!taken)
					return p;
			}
		}
	}
	return 0;
}
