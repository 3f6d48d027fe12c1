/* Resources <-> protobuf and JSON: round trips, both reservation formats, volumes,
 * and validation errors. */

#include <string.h>

#include "common/json_pb.h"
#include "helpers.h"

static px_resources *from_pb_ok(Plexus__Resource **v, size_t n)
{
	char err[256] = "";
	px_resources *rs = NULL;
	int rc = px_resources_from_pb(v, n, &rs, err, sizeof(err));
	cr_assert_eq(rc, PX_OK, "from_pb: %s", err);
	return rs;
}

static void assert_from_pb_error(Plexus__Resource *r, const char *message)
{
	char err[256] = "";
	px_resources *rs = NULL;
	int rc = px_resources_from_pb(&r, 1, &rs, err, sizeof(err));
	cr_assert_eq(rc, PX_EINVAL, "rc %d (%s), want PX_EINVAL (%s)", rc, err, message);
	cr_assert_null(rs);
	cr_assert_str_eq(err, message);
}

Test(pb, scalar_and_static_reservation_fields)
{
	px_resources *rs = R("cpus(web):0.3");
	Plexus__Resource **v;
	size_t n;
	cr_assert_eq(px_resources_to_pb(rs, PX_PB_REFINED, &v, &n), PX_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0]->name, "cpus");
	cr_assert_eq(v[0]->type, PLEXUS__VALUE__TYPE__SCALAR);
	cr_assert_not_null(v[0]->scalar);
	cr_assert_eq(v[0]->scalar->value, 0.3);
	cr_assert_eq(v[0]->n_reservations, 1);
	cr_assert_eq(v[0]->reservations[0]->type, PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC);
	cr_assert_str_eq(v[0]->reservations[0]->role, "web");
	cr_assert_str_eq(v[0]->role, "*"); /* legacy field left at its default */
	px_pb_resources_free(v, n);

	cr_assert_eq(px_resources_to_pb(rs, PX_PB_LEGACY, &v, &n), PX_OK);
	cr_assert_str_eq(v[0]->role, "web");
	cr_assert_eq(v[0]->n_reservations, 0);
	cr_assert_null(v[0]->reservation);
	px_pb_resources_free(v, n);
	px_resources_free(rs);
}

Test(pb, wire_round_trip_of_every_value_type)
{
	px_resources *rs = R("cpus:1.5;cpus(eng/web):2;mem:1024;ports:[1-5,10];disks:{x,y}");
	Plexus__Resource **v;
	size_t n;
	cr_assert_eq(px_resources_to_pb(rs, PX_PB_REFINED, &v, &n), PX_OK);
	cr_assert_eq(n, 5);

	/* Through bytes, as a message on the wire would go. */
	Plexus__Resource **back = calloc(n, sizeof(*back));
	for (size_t i = 0; i < n; i++) {
		size_t len = plexus__resource__get_packed_size(v[i]);
		uint8_t *buf = malloc(len);
		plexus__resource__pack(v[i], buf);
		back[i] = plexus__resource__unpack(NULL, len, buf);
		cr_assert_not_null(back[i]);
		free(buf);
	}
	px_resources *again = from_pb_ok(back, n);
	cr_assert(px_resources_equal(rs, again));
	assert_format(again,
	              "cpus:1.5; cpus(eng/web):2; disks:{x, y}; mem:1024; ports:[1-5, 10-10]");
	px_pb_resources_free(v, n);
	px_pb_resources_free(back, n);
	px_resources_free(rs);
	px_resources_free(again);
}

/* A dynamically reserved disk resource with a persistent volume, in the
 * pre-refinement format (role + reservation), as an old Mesos framework sends it. */
static Plexus__Resource *legacy_volume(const char *id, double size)
{
	Plexus__Resource *r = malloc(sizeof(*r));
	plexus__resource__init(r);
	r->name = strdup("disk");
	r->type = PLEXUS__VALUE__TYPE__SCALAR;
	r->scalar = malloc(sizeof(*r->scalar));
	plexus__value__scalar__init(r->scalar);
	r->scalar->value = size;
	r->role = strdup("db");
	r->reservation = malloc(sizeof(*r->reservation));
	plexus__resource__reservation_info__init(r->reservation);
	r->reservation->principal = strdup("ops");
	r->disk = malloc(sizeof(*r->disk));
	plexus__resource__disk_info__init(r->disk);
	r->disk->persistence = malloc(sizeof(*r->disk->persistence));
	plexus__resource__disk_info__persistence__init(r->disk->persistence);
	r->disk->persistence->id = strdup(id);
	r->disk->volume = malloc(sizeof(*r->disk->volume));
	plexus__volume__init(r->disk->volume);
	r->disk->volume->mode = PLEXUS__VOLUME__MODE__RW;
	r->disk->volume->container_path = strdup("data");
	return r;
}

Test(pb, legacy_dynamic_reservation_and_volumes)
{
	Plexus__Resource *v[3] = {legacy_volume("db1", 1024), legacy_volume("db1", 1024),
	                          legacy_volume("db2", 512)};
	px_resources *rs = from_pb_ok(v, 3);
	/* Volumes are indivisible: two copies of db1 stay two entries. */
	cr_assert_eq(px_resources_size(rs), 3);
	assert_format(rs, "disk(db)[dynamic][volume:db1]:1024; disk(db)[dynamic][volume:db1]:1024; "
	                  "disk(db)[dynamic][volume:db2]:512");
	const struct px_resource *r = px_resources_at(rs, 0);
	cr_assert(px_resource_is_dynamic(r));
	cr_assert_str_eq(px_resource_role(r), "db");
	cr_assert_str_eq(px_resource_persistence_id(r), "db1");

	/* Refined output keeps principal and volume. */
	Plexus__Resource *out;
	cr_assert_eq(px_resource_to_pb(r, PX_PB_REFINED, &out), PX_OK);
	cr_assert_eq(out->n_reservations, 1);
	cr_assert_eq(out->reservations[0]->type, PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC);
	cr_assert_str_eq(out->reservations[0]->principal, "ops");
	cr_assert_str_eq(out->disk->volume->container_path, "data");
	protobuf_c_message_free_unpacked(&out->base, NULL);
	/* Legacy output gives back role + reservation. */
	cr_assert_eq(px_resource_to_pb(r, PX_PB_LEGACY, &out), PX_OK);
	cr_assert_str_eq(out->role, "db");
	cr_assert_not_null(out->reservation);
	cr_assert_str_eq(out->reservation->principal, "ops");
	cr_assert_eq(out->reservation->has_type, 0);
	cr_assert_eq(out->n_reservations, 0);
	protobuf_c_message_free_unpacked(&out->base, NULL);

	/* Part of a volume cannot be taken, nor contained. */
	Plexus__Resource *half = legacy_volume("db1", 512);
	px_resources *part = from_pb_ok(&half, 1);
	cr_assert(!px_resources_contains(rs, part));
	cr_assert_eq(px_resources_subtract(rs, part), PX_OK);
	cr_assert_eq(px_resources_size(rs), 3);

	/* A whole copy can; containment counts copies. */
	px_resources *one = from_pb_ok(v, 1);
	px_resources *two = from_pb_ok(v, 2);
	cr_assert(px_resources_contains(rs, two));
	cr_assert_eq(px_resources_subtract(rs, one), PX_OK);
	cr_assert_eq(px_resources_size(rs), 2);
	cr_assert(px_resources_contains(rs, one));
	cr_assert(!px_resources_contains(rs, two));

	/* Reserved volumes are not unreserved, and flatten keeps the volume identity. */
	px_resources *flat;
	cr_assert_eq(px_resources_flatten(rs, &flat), PX_OK);
	assert_format(flat, "disk[volume:db1]:1024; disk[volume:db2]:512");
	px_resources_free(flat);

	for (int i = 0; i < 3; i++)
		protobuf_c_message_free_unpacked(&v[i]->base, NULL);
	protobuf_c_message_free_unpacked(&half->base, NULL);
	px_resources_free(part);
	px_resources_free(one);
	px_resources_free(two);
	px_resources_free(rs);
}

static Plexus__Resource *scalar_resource(const char *name, double value)
{
	Plexus__Resource *r = malloc(sizeof(*r));
	plexus__resource__init(r);
	r->name = strdup(name);
	r->type = PLEXUS__VALUE__TYPE__SCALAR;
	r->scalar = malloc(sizeof(*r->scalar));
	plexus__value__scalar__init(r->scalar);
	r->scalar->value = value;
	return r;
}

static Plexus__Resource__ReservationInfo *reservation(int type, const char *role)
{
	Plexus__Resource__ReservationInfo *ri = malloc(sizeof(*ri));
	plexus__resource__reservation_info__init(ri);
	if (type != 0) {
		ri->has_type = 1;
		ri->type = type;
	}
	ri->role = role ? strdup(role) : NULL;
	return ri;
}

static void push_reservation(Plexus__Resource *r, Plexus__Resource__ReservationInfo *ri)
{
	r->reservations = realloc(r->reservations, (r->n_reservations + 1) * sizeof(ri));
	r->reservations[r->n_reservations++] = ri;
}

Test(pb, refined_reservations)
{
	Plexus__Resource *r = scalar_resource("cpus", 2);
	push_reservation(r, reservation(PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC, "eng"));
	push_reservation(r,
	                 reservation(PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC, "eng/web"));
	px_resources *rs = from_pb_ok(&r, 1);
	assert_format(rs, "cpus(eng/web)[dynamic][refined]:2");
	px_resources *v;
	cr_assert_eq(px_resources_reserved(rs, "eng/web", &v), PX_OK);
	cr_assert_eq(px_resources_size(v), 1);
	px_resources_free(v);
	/* Not expressible in the legacy format: stays refined. */
	Plexus__Resource *out;
	cr_assert_eq(px_resource_to_pb(px_resources_at(rs, 0), PX_PB_LEGACY, &out), PX_OK);
	cr_assert_eq(out->n_reservations, 2);
	cr_assert_str_eq(out->role, "*");
	protobuf_c_message_free_unpacked(&out->base, NULL);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	px_resources_free(rs);
}

Test(pb_errors, values)
{
	Plexus__Resource *r = scalar_resource("cpus", -1);
	assert_from_pb_error(r, "resource 0 ('cpus'): scalar -1 is negative or not a number");
	r->scalar->value = 1e300;
	assert_from_pb_error(r, "resource 0 ('cpus'): scalar 1e+300 is too large");
	r->type = PLEXUS__VALUE__TYPE__RANGES;
	assert_from_pb_error(
	    r, "resource 0 ('cpus'): a RANGES resource needs 'ranges' and nothing else");
	r->type = PLEXUS__VALUE__TYPE__TEXT;
	assert_from_pb_error(
	    r, "resource 0 ('cpus'): value type 3 is not supported (SCALAR, RANGES or SET)");
	r->type = PLEXUS__VALUE__TYPE__SET;
	free(r->scalar);
	r->scalar = NULL;
	r->set = malloc(sizeof(*r->set));
	plexus__value__set__init(r->set);
	r->set->item = malloc(2 * sizeof(char *));
	r->set->item[0] = strdup("a");
	r->set->item[1] = strdup("a");
	r->set->n_item = 2;
	assert_from_pb_error(r, "resource 0 ('cpus'): duplicate item 'a' in set");
	free(r->name);
	r->name = strdup("");
	assert_from_pb_error(r, "resource 0: empty name");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	r = malloc(sizeof(*r));
	plexus__resource__init(r);
	r->name = strdup("ports");
	r->type = PLEXUS__VALUE__TYPE__RANGES;
	r->ranges = malloc(sizeof(*r->ranges));
	plexus__value__ranges__init(r->ranges);
	r->ranges->range = malloc(sizeof(Plexus__Value__Range *));
	r->ranges->range[0] = malloc(sizeof(Plexus__Value__Range));
	plexus__value__range__init(r->ranges->range[0]);
	r->ranges->range[0]->begin = 9;
	r->ranges->range[0]->end = 3;
	r->ranges->n_range = 1;
	assert_from_pb_error(r, "resource 0 ('ports'): range 9-3 has begin greater than end");
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(pb_errors, reservations)
{
	Plexus__Resource *r = scalar_resource("cpus", 1);
	push_reservation(r, reservation(0, "eng"));
	assert_from_pb_error(r,
	                     "resource 0 ('cpus'): reservation 0: type must be STATIC or DYNAMIC");
	r->reservations[0]->has_type = 1;
	r->reservations[0]->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
	push_reservation(r, reservation(PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC, "ops"));
	assert_from_pb_error(
	    r, "resource 0 ('cpus'): reservation 1: role 'ops' is not a sub-role of 'eng'");
	free(r->reservations[1]->role);
	r->reservations[1]->role = strdup("*");
	assert_from_pb_error(
	    r, "resource 0 ('cpus'): reservation 1: '*' means unreserved and cannot be "
	       "reserved for");
	r->reservations[1]->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__STATIC;
	free(r->reservations[1]->role);
	r->reservations[1]->role = strdup("eng/x");
	assert_from_pb_error(
	    r, "resource 0 ('cpus'): reservation 1: a refined reservation must be DYNAMIC");
	r->role = strdup("eng");
	assert_from_pb_error(
	    r, "resource 0 ('cpus'): 'reservations' cannot be combined with 'role' or "
	       "'reservation'");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	r = scalar_resource("cpus", 1);
	r->reservation = reservation(0, NULL);
	assert_from_pb_error(r, "resource 0 ('cpus'): 'reservation' set on an unreserved resource");
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- JSON ------------------------------------------------------------------------- */

static char *to_json_text(const px_resources *rs)
{
	json_t *j = px_resources_to_json(rs);
	cr_assert_not_null(j);
	char *s = json_dumps(j, PX_JSON_DUMP_FLAGS);
	json_decref(j);
	return s;
}

Test(json, exact_output)
{
	px_resources *rs = R("cpus(web):0.3;ports:[1-2];disks:{a}");
	char *s = to_json_text(rs);
	cr_assert_str_eq(s, "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.3},"
	                    "\"reservations\":[{\"role\":\"web\",\"type\":\"STATIC\"}]},"
	                    "{\"name\":\"disks\",\"type\":\"SET\",\"set\":{\"item\":[\"a\"]}},"
	                    "{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":"
	                    "[{\"begin\":1,\"end\":2}]}}]");
	free(s);
	px_resources_free(rs);
}

Test(json, round_trip_through_text)
{
	px_resources *rs =
	    R("cpus:0.1;cpus(eng/web):2.25;mem:8192;ports:[31000-32000];disks:{a,b}");
	char *s = to_json_text(rs);
	char err[256] = "";
	px_resources *again = NULL;
	cr_assert_eq(px_resources_parse(s, NULL, &again, err, sizeof(err)), PX_OK, "%s", err);
	cr_assert(px_resources_equal(rs, again));
	free(s);
	px_resources_free(rs);
	px_resources_free(again);
}

Test(json, mesos_legacy_json_is_read)
{
	const char *text = "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2},"
	                   "\"role\":\"*\"},"
	                   "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":512},"
	                   "\"role\":\"db\",\"reservation\":{\"principal\":\"ops\"}}]";
	char err[256] = "";
	px_resources *rs = NULL;
	cr_assert_eq(px_resources_parse(text, NULL, &rs, err, sizeof(err)), PX_OK, "%s", err);
	assert_format(rs, "cpus:2; mem(db)[dynamic]:512");
	px_resources_free(rs);
}

static void assert_json_error(const char *text, const char *message)
{
	char err[256] = "";
	px_resources *rs = NULL;
	cr_assert_eq(px_resources_parse(text, NULL, &rs, err, sizeof(err)), PX_EINVAL);
	cr_assert_null(rs);
	cr_assert_str_eq(err, message);
}

Test(json, errors_name_the_field)
{
	assert_json_error("[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":\"x\"}}]",
	                  "resource 0: scalar.value: expected a number, got string 'x'");
	assert_json_error("[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"colour\":1}]",
	                  "resource 0: unknown field 'colour' in plexus.Resource");
	assert_json_error("[{\"name\":\"cpus\",\"type\":\"FLOAT\"}]",
	                  "resource 0: type: unknown plexus.Value.Type value 'FLOAT'");
	assert_json_error("[{\"type\":\"SCALAR\"}]",
	                  "resource 0: missing required field 'name' in plexus.Resource");
	assert_json_error("[{\"name\":\"cpus\",\"type\":\"SCALAR\"}]",
	                  "resource 0 ('cpus'): a SCALAR resource needs 'scalar' and nothing else");
	assert_json_error("[{\"name\":\"p\",\"type\":\"RANGES\",\"ranges\":{\"range\":"
	                  "[{\"begin\":1,\"end\":2},{\"begin\":-1,\"end\":2}]}}]",
	                  "resource 0: ranges.range[1].begin: -1 is negative");
	assert_json_error("[1]", "resource 0: expected an object for plexus.Resource, got integer");
}
