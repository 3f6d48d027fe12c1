/* resources_json.c — resource sets as JSON arrays of Mesos Resource objects.
 * The JSON goes through the generated Resource message (json_pb.h), so the JSON form
 * accepts and produces exactly what the protobuf form does. */
#include <stdlib.h>

#include "json_pb.h"
#include "resources_internal.h"

int px_resources_from_json(const json_t *array, px_resources **out, char *err, size_t errlen)
{
	if (!json_is_array(array))
		return px_errorf(err, errlen, PX_EINVAL, "resources JSON must be an array");
	size_t n = json_array_size(array);
	Plexus__Resource **v = calloc(n ? n : 1, sizeof(*v));
	if (v == NULL)
		return px_errorf(err, errlen, PX_ENOMEM, "out of memory");
	int rc = PX_OK;
	size_t got = 0;
	for (; got < n; got++) {
		char why[384];
		ProtobufCMessage *m;
		rc = px_json_to_pb(json_array_get(array, got), &plexus__resource__descriptor, &m,
		                   why, sizeof(why));
		if (rc != PX_OK) {
			px_errorf(err, errlen, rc, "resource %zu: %s", got, why);
			break;
		}
		v[got] = (Plexus__Resource *)m;
	}
	if (rc == PX_OK)
		rc = px_resources_from_pb(v, n, out, err, errlen);
	px_pb_resources_free(v, got);
	return rc;
}

json_t *px_resources_to_json(const px_resources *rs)
{
	json_t *arr = json_array();
	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < rs->n; i++) {
		Plexus__Resource *m;
		if (px_resource_to_pb(&rs->v[i], PX_PB_REFINED, &m) != PX_OK) {
			json_decref(arr);
			return NULL;
		}
		json_t *j = px_pb_to_json(&m->base);
		protobuf_c_message_free_unpacked(&m->base, NULL);
		if (j == NULL || json_array_append_new(arr, j) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
