/* message.c — copies and names of the public messages (include/plexus/message.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plexus/message.h"

ProtobufCMessage *px_message_copy(const ProtobufCMessage *m)
{
	if (m == NULL)
		return NULL;
	/* Packing then unpacking is protobuf-c's only deep copy; it also checks that every
	 * required field is there. */
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t small[512];
	uint8_t *buf = len <= sizeof(small) ? small : malloc(len);
	if (buf == NULL)
		return NULL;
	protobuf_c_message_pack(m, buf);
	ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	if (buf != small)
		free(buf);
	return copy;
}

void px_message_free(ProtobufCMessage *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

/* Walks m's fields for a required string or message left NULL; path is the field path
 * so far. Returns 0, or -1 with err written. */
static int check_fields(const ProtobufCMessage *m, char *path, size_t plen, int depth,
                        char *err, size_t errlen)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (depth > 64) {
		snprintf(err, errlen, "%s: messages nested more than 64 deep", path);
		return -1;
	}
	size_t here = strlen(path);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m + f->offset;
		bool pointer = f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
				continue;
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *const *items = *(void *const *const *)base;
			for (size_t j = 0; j < n; j++) {
				snprintf(path + here, plen - here, "%s%s[%zu]", here ? "." : "", f->name, j);
				if (items == NULL || items[j] == NULL) {
					snprintf(err, errlen, "%s is NULL", path);
					return -1;
				}
				if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
				    check_fields(items[j], path, plen, depth + 1, err, errlen) != 0)
					return -1;
			}
			path[here] = '\0';
			continue;
		}
		if (!pointer)
			continue;
		const void *value = *(const void *const *)base;
		snprintf(path + here, plen - here, "%s%s", here ? "." : "", f->name);
		if (value == NULL && f->label == PROTOBUF_C_LABEL_REQUIRED) {
			snprintf(err, errlen, "%s is required but not set", path);
			return -1;
		}
		if (value != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    check_fields(value, path, plen, depth + 1, err, errlen) != 0)
			return -1;
		path[here] = '\0';
	}
	return 0;
}

int px_message_check(const ProtobufCMessage *m, char *err, size_t errlen)
{
	char scratch[8];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	if (m == NULL) {
		snprintf(err, errlen, "no message");
		return -1;
	}
	char path[512] = "";
	return check_fields(m, path, sizeof(path), 0, err, errlen);
}

static const char *enum_name(const ProtobufCEnumDescriptor *desc, int value, const char *none)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
	return v != NULL ? v->name : none;
}

const char *px_task_state_name(Plexus__TaskState state)
{
	return enum_name(&plexus__task_state__descriptor, (int)state, "TASK_UNKNOWN");
}

bool px_task_state_parse(const char *name, Plexus__TaskState *out)
{
	if (name == NULL)
		return false;
	const ProtobufCEnumDescriptor *d = &plexus__task_state__descriptor;
	const char *bare = strncasecmp(name, "TASK_", 5) == 0 ? name + 5 : name;
	for (unsigned i = 0; i < d->n_values; i++) {
		if (strcasecmp(d->values[i].name + 5, bare) == 0) {
			*out = (Plexus__TaskState)d->values[i].value;
			return true;
		}
	}
	return false;
}

bool px_task_state_is_terminal(Plexus__TaskState state)
{
	switch (state) {
	case PLEXUS__TASK_STATE__TASK_FINISHED:
	case PLEXUS__TASK_STATE__TASK_FAILED:
	case PLEXUS__TASK_STATE__TASK_KILLED:
	case PLEXUS__TASK_STATE__TASK_ERROR:
	case PLEXUS__TASK_STATE__TASK_LOST:
	case PLEXUS__TASK_STATE__TASK_DROPPED:
	case PLEXUS__TASK_STATE__TASK_GONE:
	case PLEXUS__TASK_STATE__TASK_GONE_BY_OPERATOR:
		return true;
	default:
		return false;
	}
}

const char *px_task_reason_name(Plexus__TaskStatus__Reason reason)
{
	return enum_name(&plexus__task_status__reason__descriptor, (int)reason, "REASON_UNKNOWN");
}

const char *px_task_source_name(Plexus__TaskStatus__Source source)
{
	return enum_name(&plexus__task_status__source__descriptor, (int)source, "SOURCE_UNKNOWN");
}
