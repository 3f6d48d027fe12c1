/* resources_ops.c — what offer operations do to resources (see resources.h):
 * reserve, unreserve, create and destroy persistent volumes, and marking resources as
 * allocated to a role. Mirrors Mesos's Resources::apply(). */
#include <stdlib.h>
#include <string.h>

#include "resources_internal.h"

static int edit_allocate(Plexus__Resource *ident, void *arg)
{
	const char *role = arg;
	if (ident->allocation_info != NULL) {
		protobuf_c_message_free_unpacked(&ident->allocation_info->base, NULL);
		ident->allocation_info = NULL;
	}
	if (role == NULL)
		return PX_OK;
	Plexus__Resource__AllocationInfo *ai = malloc(sizeof(*ai));
	if (ai == NULL)
		return PX_ENOMEM;
	plexus__resource__allocation_info__init(ai);
	ai->role = strdup(role);
	if (ai->role == NULL) {
		free(ai);
		return PX_ENOMEM;
	}
	ident->allocation_info = ai;
	return PX_OK;
}

int px_resources_allocate(const px_resources *rs, const char *role, px_resources **out)
{
	if (role != NULL && strcmp(role, "*") != 0 && px__role_invalid(role) != NULL)
		return PX_EINVAL;
	return px__rebuild(rs, edit_allocate, (void *)role, out);
}

static int edit_pop(Plexus__Resource *ident, void *arg)
{
	if (ident->n_reservations > 0)
		protobuf_c_message_free_unpacked(
		    &ident->reservations[--ident->n_reservations]->base, NULL);
	return PX_OK;
}

int px_resources_pop_reservation(const px_resources *rs, px_resources **out)
{
	return px__rebuild(rs, edit_pop, NULL, out);
}

/* A persistent volume back to the disk it was made from: no persistence, no volume,
 * and no disk info at all when no disk source is left. */
static int edit_strip_volume(Plexus__Resource *ident, void *arg)
{
	Plexus__Resource__DiskInfo *d = ident->disk;
	if (d == NULL)
		return PX_OK;
	if (d->persistence != NULL) {
		protobuf_c_message_free_unpacked(&d->persistence->base, NULL);
		d->persistence = NULL;
	}
	if (d->volume != NULL) {
		protobuf_c_message_free_unpacked(&d->volume->base, NULL);
		d->volume = NULL;
	}
	if (d->source == NULL) {
		protobuf_c_message_free_unpacked(&d->base, NULL);
		ident->disk = NULL;
	}
	return PX_OK;
}

/* Swaps what a and b hold. */
static void swap_sets(px_resources *a, px_resources *b)
{
	px_resources t = *a;
	*a = *b;
	*b = t;
}

/* work -= from; work += to, after checking that work holds from. */
static int convert(px_resources *work, const px_resources *from, const px_resources *to,
                   const char *op, char *err, size_t errlen)
{
	if (!px_resources_contains(work, from)) {
		char *need = px_resources_format(from);
		char *have = px_resources_format(work);
		int rc = px_errorf(err, errlen, PX_EINVAL, "%s: '%s' is not available in '%s'", op,
		                   need ? need : "?", have ? have : "?");
		free(need);
		free(have);
		return rc;
	}
	int rc = px_resources_subtract(work, from);
	if (rc == PX_OK)
		rc = px_resources_add(work, to);
	return rc;
}

/* Checks each entry of rs with pred; names the first failure. */
static int check_all(const px_resources *rs, bool (*pred)(const struct px_resource *),
                     const char *op, const char *what, char *err, size_t errlen)
{
	for (size_t i = 0; i < px_resources_size(rs); i++) {
		const struct px_resource *r = px_resources_at(rs, i);
		if (!pred(r)) {
			px_resources one = {.v = (struct px_resource *)r, .n = 1, .cap = 1};
			char *text = px_resources_format(&one);
			int rc = px_errorf(err, errlen, PX_EINVAL, "%s: '%s' %s", op,
			                   text ? text : "?", what);
			free(text);
			return rc;
		}
	}
	return PX_OK;
}

static bool is_dynamic(const struct px_resource *r)
{
	return (r->flags & PX_RF_DYNAMIC) != 0;
}

static bool is_volume(const struct px_resource *r)
{
	return r->persistence_id != NULL;
}

/* Reads a repeated Resource field of the operation into a set. */
static int read_set(Plexus__Resource **v, size_t n, const char *op, px_resources **out, char *err,
                    size_t errlen)
{
	char why[256];
	int rc = px_resources_from_pb(v, n, out, why, sizeof(why));
	if (rc != PX_OK)
		px_errorf(err, errlen, rc, "%s: %s", op, why);
	return rc;
}

int px_resources_apply(px_resources *rs, const Plexus__Offer__Operation *op, char *err,
                       size_t errlen)
{
	if (!op->has_type)
		return px_errorf(err, errlen, PX_EINVAL, "operation without a type");
	const char *name;
	Plexus__Resource **v = NULL;
	size_t n = 0;
	px__ident_edit edit;
	bool (*pred)(const struct px_resource *);
	const char *what;
	bool forward; /* true: rs gives edited(x) and gets x; false: the reverse */

	switch (op->type) {
	case PLEXUS__OFFER__OPERATION__TYPE__LAUNCH:
	case PLEXUS__OFFER__OPERATION__TYPE__LAUNCH_GROUP:
		/* Launching uses resources without changing what they are. */
		return PX_OK;
	case PLEXUS__OFFER__OPERATION__TYPE__RESERVE:
		name = "RESERVE";
		if (op->reserve) {
			v = op->reserve->resources;
			n = op->reserve->n_resources;
		}
		edit = edit_pop;
		pred = is_dynamic;
		what = "is not a dynamic reservation";
		forward = true;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE:
		name = "UNRESERVE";
		if (op->unreserve) {
			v = op->unreserve->resources;
			n = op->unreserve->n_resources;
		}
		edit = edit_pop;
		pred = is_dynamic;
		what = "is not a dynamic reservation";
		forward = false;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__CREATE:
		name = "CREATE";
		if (op->create) {
			v = op->create->volumes;
			n = op->create->n_volumes;
		}
		edit = edit_strip_volume;
		pred = is_volume;
		what = "is not a persistent volume";
		forward = true;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__DESTROY:
		name = "DESTROY";
		if (op->destroy) {
			v = op->destroy->volumes;
			n = op->destroy->n_volumes;
		}
		edit = edit_strip_volume;
		pred = is_volume;
		what = "is not a persistent volume";
		forward = false;
		break;
	default:
		return px_errorf(err, errlen, PX_EINVAL, "operation type %d is not supported",
		                 (int)op->type);
	}
	if (n == 0)
		return px_errorf(err, errlen, PX_EINVAL, "%s: no resources given", name);

	px_resources *target = NULL, *source = NULL, *work = NULL;
	int rc = read_set(v, n, name, &target, err, errlen);
	if (rc == PX_OK)
		rc = check_all(target, pred, name, what, err, errlen);
	if (rc == PX_OK) {
		rc = px__rebuild(target, edit, NULL, &source);
		if (rc == PX_ENOMEM)
			px_errorf(err, errlen, rc, "out of memory");
	}
	if (rc == PX_OK) {
		/* Work on a copy so that rs is untouched on error. */
		work = px_resources_copy(rs);
		rc = work ? PX_OK : px_errorf(err, errlen, PX_ENOMEM, "out of memory");
	}
	if (rc == PX_OK)
		rc = forward ? convert(work, source, target, name, err, errlen)
		             : convert(work, target, source, name, err, errlen);
	if (rc == PX_ERANGE)
		px_errorf(err, errlen, rc, "%s: a sum is too large", name);
	if (rc == PX_OK)
		swap_sets(rs, work);
	px_resources_free(work);
	px_resources_free(target);
	px_resources_free(source);
	return rc;
}
