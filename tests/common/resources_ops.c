/* Offer operations on resources (reserve, unreserve, create, destroy), allocation
 * marks and reservation popping. */
#include <string.h>

#include "helpers.h"

/* An operation of type with the resources of text; reserved entries are made dynamic
 * with principal "ops" and, when volume_id is set, disks become persistent volumes. */
static Plexus__Offer__Operation *make_op(int type, const char *text, const char *volume_id)
{
	px_resources *rs = R(text);
	Plexus__Resource **v;
	size_t n;
	cr_assert_eq(px_resources_to_pb(rs, PX_PB_REFINED, &v, &n), PX_OK);
	px_resources_free(rs);
	for (size_t i = 0; i < n; i++) {
		Plexus__Resource *r = v[i];
		if (r->n_reservations > 0) {
			Plexus__Resource__ReservationInfo *last =
			    r->reservations[r->n_reservations - 1];
			last->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
			last->principal = strdup("ops");
		}
		if (volume_id != NULL && strcmp(r->name, "disk") == 0) {
			r->disk = malloc(sizeof(*r->disk));
			plexus__resource__disk_info__init(r->disk);
			r->disk->persistence = malloc(sizeof(*r->disk->persistence));
			plexus__resource__disk_info__persistence__init(r->disk->persistence);
			r->disk->persistence->id = strdup(volume_id);
		}
	}
	Plexus__Offer__Operation *op = malloc(sizeof(*op));
	plexus__offer__operation__init(op);
	op->has_type = 1;
	op->type = type;
	switch (type) {
	case PLEXUS__OFFER__OPERATION__TYPE__RESERVE:
		op->reserve = malloc(sizeof(*op->reserve));
		plexus__offer__operation__reserve__init(op->reserve);
		op->reserve->resources = v;
		op->reserve->n_resources = n;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE:
		op->unreserve = malloc(sizeof(*op->unreserve));
		plexus__offer__operation__unreserve__init(op->unreserve);
		op->unreserve->resources = v;
		op->unreserve->n_resources = n;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__CREATE:
		op->create = malloc(sizeof(*op->create));
		plexus__offer__operation__create__init(op->create);
		op->create->volumes = v;
		op->create->n_volumes = n;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__DESTROY:
		op->destroy = malloc(sizeof(*op->destroy));
		plexus__offer__operation__destroy__init(op->destroy);
		op->destroy->volumes = v;
		op->destroy->n_volumes = n;
		break;
	default:
		px_pb_resources_free(v, n);
		break;
	}
	return op;
}

static void apply_ok(px_resources *rs, Plexus__Offer__Operation *op)
{
	char err[256] = "";
	cr_assert_eq(px_resources_apply(rs, op, err, sizeof(err)), PX_OK, "apply: %s", err);
	protobuf_c_message_free_unpacked(&op->base, NULL);
}

static void apply_error(px_resources *rs, Plexus__Offer__Operation *op, const char *message)
{
	char err[256] = "";
	px_resources *before = px_resources_copy(rs);
	cr_assert_eq(px_resources_apply(rs, op, err, sizeof(err)), PX_EINVAL);
	cr_assert_str_eq(err, message);
	cr_assert(px_resources_equal(rs, before), "resources changed on error");
	px_resources_free(before);
	protobuf_c_message_free_unpacked(&op->base, NULL);
}

Test(ops, reserve_and_unreserve)
{
	px_resources *rs = R("cpus:4;mem:1024");
	px_resources *orig = px_resources_copy(rs);
	apply_ok(rs,
	         make_op(PLEXUS__OFFER__OPERATION__TYPE__RESERVE, "cpus(web):1;mem(web):24", NULL));
	assert_format(rs, "cpus:3; cpus(web)[dynamic]:1; mem:1000; mem(web)[dynamic]:24");
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE, "cpus(web):1;mem(web):24",
	                     NULL));
	cr_assert(px_resources_equal(rs, orig));
	px_resources_free(rs);
	px_resources_free(orig);
}

Test(ops, refine_a_static_reservation)
{
	px_resources *rs = R("cpus(eng):2");
	Plexus__Offer__Operation *op =
	    make_op(PLEXUS__OFFER__OPERATION__TYPE__RESERVE, "cpus(eng):1", NULL);
	/* Stack a dynamic eng/web reservation on the static eng one. */
	Plexus__Resource *r = op->reserve->resources[0];
	r->reservations[0]->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
	free(r->reservations[0]->principal);
	r->reservations[0]->principal = NULL;
	r->reservations = realloc(r->reservations, 2 * sizeof(*r->reservations));
	Plexus__Resource__ReservationInfo *ri = malloc(sizeof(*ri));
	plexus__resource__reservation_info__init(ri);
	ri->has_type = 1;
	ri->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
	ri->role = strdup("eng/web");
	r->reservations[1] = ri;
	r->n_reservations = 2;
	apply_ok(rs, op);
	assert_format(rs, "cpus(eng):1; cpus(eng/web)[dynamic][refined]:1");

	px_resources *popped;
	cr_assert_eq(px_resources_pop_reservation(rs, &popped), PX_OK);
	assert_format(popped, "cpus:1; cpus(eng):1");
	px_resources_free(popped);
	px_resources_free(rs);
}

Test(ops, reserve_errors)
{
	px_resources *rs = R("cpus:4;mem:1024");
	apply_error(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__RESERVE, "cpus(web):8", NULL),
	            "RESERVE: 'cpus:8' is not available in 'cpus:4; mem:1024'");
	Plexus__Offer__Operation *op =
	    make_op(PLEXUS__OFFER__OPERATION__TYPE__RESERVE, "cpus(web):1", NULL);
	op->reserve->resources[0]->reservations[0]->type =
	    PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
	apply_error(rs, op, "RESERVE: 'cpus(web):1' is not a dynamic reservation");
	apply_error(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE, "cpus(web):1", NULL),
	            "UNRESERVE: 'cpus(web)[dynamic]:1' is not available in 'cpus:4; mem:1024'");
	apply_error(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__RESERVE, "", NULL),
	            "RESERVE: no resources given");
	op = make_op(PLEXUS__OFFER__OPERATION__TYPE__GROW_VOLUME, "", NULL);
	apply_error(rs, op, "operation type 11 is not supported");
	op = make_op(PLEXUS__OFFER__OPERATION__TYPE__LAUNCH, "", NULL);
	op->has_type = 0;
	apply_error(rs, op, "operation without a type");
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__LAUNCH, "", NULL));
	assert_format(rs, "cpus:4; mem:1024");
	px_resources_free(rs);
}

Test(ops, create_and_destroy_volumes)
{
	px_resources *rs = R("disk:2048");
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__RESERVE, "disk(db):1024", NULL));
	px_resources *reserved = px_resources_copy(rs);
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__CREATE, "disk(db):512", "v1"));
	assert_format(rs, "disk:1024; disk(db)[dynamic]:512; disk(db)[dynamic][volume:v1]:512");
	/* A second volume of the same id and size is another copy. */
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__CREATE, "disk(db):512", "v1"));
	assert_format(rs, "disk:1024; disk(db)[dynamic][volume:v1]:512; "
	                  "disk(db)[dynamic][volume:v1]:512");
	apply_error(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__CREATE, "disk(db):1", "v2"),
	            "CREATE: 'disk(db)[dynamic]:1' is not available in 'disk:1024; "
	            "disk(db)[dynamic][volume:v1]:512; disk(db)[dynamic][volume:v1]:512'");
	apply_error(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__CREATE, "disk(db):1", NULL),
	            "CREATE: 'disk(db)[dynamic]:1' is not a persistent volume");
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__DESTROY, "disk(db):512", "v1"));
	apply_ok(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__DESTROY, "disk(db):512", "v1"));
	cr_assert(px_resources_equal(rs, reserved));
	apply_error(rs, make_op(PLEXUS__OFFER__OPERATION__TYPE__DESTROY, "disk(db):512", "v1"),
	            "DESTROY: 'disk(db)[dynamic][volume:v1]:512' is not available in "
	            "'disk:1024; disk(db)[dynamic]:1024'");
	px_resources_free(reserved);
	px_resources_free(rs);
}

Test(ops, allocate_marks_and_separates)
{
	px_resources *rs = R("cpus:1;mem(web):2");
	px_resources *offered, *back;
	cr_assert_eq(px_resources_allocate(rs, "web", &offered), PX_OK);
	assert_format(offered, "cpus[allocated:web]:1; mem(web)[allocated:web]:2");
	cr_assert_str_eq(px_resource_allocation_role(px_resources_at(offered, 0)), "web");
	cr_assert_null(px_resource_allocation_role(px_resources_at(rs, 0)));
	cr_assert(!px_resources_contains(rs, offered));
	cr_assert(!px_resources_contains(offered, rs));
	cr_assert_eq(px_resources_allocate(offered, NULL, &back), PX_OK);
	cr_assert(px_resources_equal(rs, back));
	cr_assert_eq(px_resources_allocate(rs, "bad role", &back), PX_EINVAL);
	px_resources_free(offered);
	px_resources_free(back);
	px_resources_free(rs);
}
