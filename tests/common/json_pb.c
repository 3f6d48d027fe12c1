/* The generic protobuf <-> JSON converter on public and internal messages. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_pb.h"
#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

static char *dump(const ProtobufCMessage *m)
{
	json_t *j = px_pb_to_json(m);
	cr_assert_not_null(j);
	char *s = json_dumps(j, PX_JSON_DUMP_FLAGS);
	json_decref(j);
	return s;
}

static ProtobufCMessage *load_ok(const char *text, const ProtobufCMessageDescriptor *d)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	cr_assert_not_null(j, "bad test JSON: %s", jerr.text);
	char err[256] = "";
	ProtobufCMessage *m = NULL;
	int rc = px_json_to_pb(j, d, &m, err, sizeof(err));
	json_decref(j);
	cr_assert_eq(rc, PX_OK, "px_json_to_pb: %s", err);
	return m;
}

static void assert_load_error(const char *text, const ProtobufCMessageDescriptor *d,
                              const char *message)
{
	json_t *j = json_loads(text, 0, NULL);
	cr_assert_not_null(j);
	char err[256] = "";
	ProtobufCMessage *m = NULL;
	int rc = px_json_to_pb(j, d, &m, err, sizeof(err));
	json_decref(j);
	cr_assert_eq(rc, PX_EINVAL);
	cr_assert_null(m);
	cr_assert_str_eq(err, message);
}

Test(json_pb, task_status_enums_bytes_and_nesting)
{
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
	id.value = "t1";
	st.task_id = &id;
	st.state = PLEXUS__TASK_STATE__TASK_RUNNING;
	st.has_source = 1;
	st.source = PLEXUS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
	st.has_reason = 1;
	st.reason = PLEXUS__TASK_STATUS__REASON__REASON_AGENT_REREGISTERED;
	uint8_t data[] = {0xde, 0xad, 0xbe, 0xef, 0x00};
	st.has_data = 1;
	st.data = (ProtobufCBinaryData){sizeof(data), data};
	st.has_timestamp = 1;
	st.timestamp = 1700000000.5;

	char *s = dump(&st.base);
	cr_assert_str_eq(
	    s, "{\"task_id\":{\"value\":\"t1\"},\"state\":\"TASK_RUNNING\","
	       "\"data\":\"3q2+7wA=\",\"timestamp\":1700000000.5,"
	       "\"source\":\"SOURCE_EXECUTOR\",\"reason\":\"REASON_AGENT_REREGISTERED\"}");

	Plexus__TaskStatus *back =
	    (Plexus__TaskStatus *)load_ok(s, &plexus__task_status__descriptor);
	cr_assert_str_eq(back->task_id->value, "t1");
	cr_assert_eq(back->state, PLEXUS__TASK_STATE__TASK_RUNNING);
	cr_assert_eq(back->reason, 32);
	cr_assert_eq(back->data.len, sizeof(data));
	cr_assert_eq(memcmp(back->data.data, data, sizeof(data)), 0);
	cr_assert(!back->has_healthy);
	free(s);
	protobuf_c_message_free_unpacked(&back->base, NULL);
}

Test(json_pb, defaults_repeated_and_unset_fields)
{
	const char *text = "{\"user\":\"u\",\"name\":\"spark\",\"roles\":[\"a\",\"b\"],"
	                   "\"capabilities\":[{\"type\":\"MULTI_ROLE\"},{\"type\":6}],"
	                   "\"failover_timeout\":60,\"hostname\":null}";
	Plexus__FrameworkInfo *fi =
	    (Plexus__FrameworkInfo *)load_ok(text, &plexus__framework_info__descriptor);
	cr_assert_eq(fi->n_roles, 2);
	cr_assert_str_eq(fi->roles[1], "b");
	cr_assert_eq(fi->n_capabilities, 2);
	cr_assert_eq(fi->capabilities[1]->type,
	             PLEXUS__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE);
	cr_assert(fi->has_failover_timeout);
	cr_assert_eq(fi->failover_timeout, 60.0);
	cr_assert_null(fi->hostname);
	cr_assert(!fi->has_checkpoint);

	char *s = dump(&fi->base);
	/* The deprecated role keeps its default "*" and, being unset, is not written. */
	cr_assert_str_eq(s,
	                 "{\"user\":\"u\",\"name\":\"spark\",\"failover_timeout\":60.0,"
	                 "\"capabilities\":[{\"type\":\"MULTI_ROLE\"},{\"type\":\"MULTI_ROLE\"}],"
	                 "\"roles\":[\"a\",\"b\"]}");
	free(s);
	protobuf_c_message_free_unpacked(&fi->base, NULL);
}

Test(json_pb, large_unsigned_and_integer_strings)
{
	const char *text = "{\"begin\":\"18446744073709551615\",\"end\":5}";
	Plexus__Value__Range *r =
	    (Plexus__Value__Range *)load_ok(text, &plexus__value__range__descriptor);
	cr_assert_eq(r->begin, UINT64_MAX);
	cr_assert_eq(r->end, 5);
	char *s = dump(&r->base);
	cr_assert_str_eq(s, "{\"begin\":\"18446744073709551615\",\"end\":5}");
	free(s);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

Test(json_pb, internal_message_round_trip)
{
	const char *text = "{\"update\":{\"framework_id\":{\"value\":\"f\"},"
	                   "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_FINISHED\"},"
	                   "\"uuid\":\"AAECAw==\",\"latest_state\":\"TASK_FINISHED\"},"
	                   "\"pid\":\"agent@127.0.0.1:5051\"}";
	ProtobufCMessage *m = load_ok(text, &plexus__internal__status_update_message__descriptor);
	char *s = dump(m);
	cr_assert_str_eq(s, text);
	/* And the bytes survive a protobuf round trip too. */
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len);
	protobuf_c_message_pack(m, buf);
	Plexus__Internal__StatusUpdateMessage *u =
	    plexus__internal__status_update_message__unpack(NULL, len, buf);
	cr_assert_not_null(u);
	cr_assert_eq(u->update->uuid.len, 4);
	cr_assert_eq(u->update->uuid.data[3], 3);
	free(buf);
	free(s);
	protobuf_c_message_free_unpacked(&u->base, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
}

Test(json_pb, errors)
{
	const ProtobufCMessageDescriptor *ts = &plexus__task_status__descriptor;
	assert_load_error("{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_RUNNING\",\"bogus\":1}",
	                  ts, "unknown field 'bogus' in plexus.TaskStatus");
	assert_load_error("{\"task_id\":{\"value\":\"t\"},\"state\":\"RUNNING\"}", ts,
	                  "state: unknown plexus.TaskState value 'RUNNING'");
	assert_load_error("{\"task_id\":{\"value\":\"t\"},\"state\":99}", ts,
	                  "state: unknown plexus.TaskState value 99");
	assert_load_error("{\"task_id\":{},\"state\":\"TASK_RUNNING\"}", ts,
	                  "task_id: missing required field 'value' in plexus.TaskID");
	assert_load_error("{\"state\":\"TASK_RUNNING\"}", ts,
	                  "missing required field 'task_id' in plexus.TaskStatus");
	assert_load_error("{\"task_id\":{\"value\":\"t\"},\"state\":1,\"healthy\":\"yes\"}", ts,
	                  "healthy: expected a boolean, got string");
	assert_load_error("{\"task_id\":{\"value\":\"t\"},\"state\":1,\"data\":\"!!\"}", ts,
	                  "data: invalid base64");
	assert_load_error("{\"task_id\":[],\"state\":1}", ts,
	                  "task_id: expected an object for plexus.TaskID, got array");
	assert_load_error("{\"port\":4294967296}", &plexus__address__descriptor,
	                  "port: 4294967296 does not fit in int32");
	assert_load_error("{\"port\":1.5}", &plexus__address__descriptor,
	                  "port: 1.5 is not an integer in range");
	assert_load_error("{\"user\":\"u\",\"name\":\"n\",\"roles\":\"a\"}",
	                  &plexus__framework_info__descriptor,
	                  "roles: expected an array, got string");
	assert_load_error("{\"user\":\"u\",\"name\":\"n\",\"roles\":[\"a\",3]}",
	                  &plexus__framework_info__descriptor,
	                  "roles[1]: expected a string, got integer");
	assert_load_error("[]", ts, "expected an object for plexus.TaskStatus, got array");
}

/* Random single-byte changes to a valid TaskInfo document: whatever jansson still
 * accepts must convert or be rejected with a message, never crash or leak. */
Test(json_pb, mutated_documents_never_crash)
{
	const char *good =
	    "{\"name\":\"web\",\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"a1\"},"
	    "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
	    "{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":1,"
	    "\"end\":2}]}}],\"command\":{\"value\":\"echo hi\",\"shell\":true,"
	    "\"arguments\":[\"a\"],\"environment\":{\"variables\":[{\"name\":\"X\","
	    "\"value\":\"1\"}]}},\"data\":\"aGVsbG8=\",\"labels\":{\"labels\":[{\"key\":\"k\"}]}}";
	ProtobufCMessage *ok = load_ok(good, &plexus__task_info__descriptor);
	protobuf_c_message_free_unpacked(ok, NULL);

	static const char subst[] = "{}[]\":,0123456789-.eE tfnul\\abAZ";
	uint64_t state = 0x2545f4914f6cdd1dULL;
	size_t len = strlen(good);
	char *buf = malloc(len + 1);
	int converted = 0;
	for (int iter = 0; iter < 20000; iter++) {
		memcpy(buf, good, len + 1);
		for (int k = 0; k < 2; k++) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			buf[state % len] = subst[(state >> 32) % (sizeof(subst) - 1)];
		}
		json_t *j = json_loads(buf, 0, NULL);
		if (j == NULL)
			continue;
		char err[256] = "";
		ProtobufCMessage *m = NULL;
		if (px_json_to_pb(j, &plexus__task_info__descriptor, &m, err, sizeof(err)) ==
		    PX_OK) {
			converted++;
			json_t *again = px_pb_to_json(m);
			cr_assert_not_null(again);
			json_decref(again);
			size_t n = protobuf_c_message_get_packed_size(m);
			uint8_t *bytes = malloc(n ? n : 1);
			protobuf_c_message_pack(m, bytes);
			ProtobufCMessage *u = protobuf_c_message_unpack(
			    &plexus__task_info__descriptor, NULL, n, bytes);
			cr_assert_not_null(u, "packed message does not unpack: %s", buf);
			protobuf_c_message_free_unpacked(u, NULL);
			free(bytes);
			protobuf_c_message_free_unpacked(m, NULL);
		} else {
			cr_assert_neq(err[0], '\0', "no message for %s", buf);
			cr_assert_null(m);
		}
		json_decref(j);
	}
	cr_assert_gt(converted, 0);
	free(buf);
}
