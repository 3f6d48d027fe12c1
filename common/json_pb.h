/* json_pb.h — any protobuf-c message to and from JSON (jansson), driven by the
 * generated descriptors, following protobuf's JSON mapping as Mesos uses it:
 *
 *  - keys are the field names of the .proto ("framework_id", not "frameworkId");
 *  - enums are written by value name ("TASK_RUNNING"); read by name or by number;
 *  - repeated fields are arrays (empty ones are left out); messages are objects;
 *  - bytes are base64 (standard alphabet, padded on output, padding optional on input);
 *  - 64-bit integers are JSON numbers (beyond INT64_MAX: a decimal string); numeric
 *    strings are accepted on input for every integer field;
 *  - doubles that are not finite are the strings "NaN", "Infinity", "-Infinity";
 *  - only fields that are set are written (proto2 presence); JSON null reads as unset.
 *
 * Reading rejects, with the JSON path of the culprit in the message: unknown fields,
 * values of the wrong JSON type, integers out of range, unknown enum names, bad base64,
 * missing required fields.
 *
 * Errors: int codes of error.h; text in the caller's buffer. */
#ifndef PX_JSON_PB_H
#define PX_JSON_PB_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "error.h"

/* json_dumps() flags for JSON produced here: compact, and reals with 15 significant
 * digits so that a scalar of three decimals prints as written (0.3, not
 * 0.29999999999999999). */
#define PX_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* msg (borrowed) as a new JSON object, or NULL when out of memory. */
json_t *px_pb_to_json(const ProtobufCMessage *msg);

/* Reads json (borrowed) as a message of type desc into a new *out, which the caller
 * frees with protobuf_c_message_free_unpacked(*out, NULL). PX_EINVAL with err saying
 * where and why (e.g. `scalar.value: expected a number, got string`), or PX_ENOMEM. */
int px_json_to_pb(const json_t *json, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out, char *err, size_t errlen);

#endif
