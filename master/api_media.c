/* api_media.c — media types of the v1 HTTP APIs (see api_media.h). */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/json_pb.h"
#include "master/api_media.h"

/* Does the media range [s, s+n) (no parameters, trimmed) name type? */
static bool range_is(const char *s, size_t n, const char *type)
{
	return strlen(type) == n && strncasecmp(s, type, n) == 0;
}

/* [s, e) trimmed of blanks. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

enum px_mt px_media_content_type(const char *header)
{
	if (header == NULL)
		return PX_MT_NONE;
	const char *s = header, *e = strchr(header, ';');
	if (e == NULL)
		e = header + strlen(header);
	trim(&s, &e);
	if (range_is(s, (size_t)(e - s), PX_MEDIA_JSON))
		return PX_MT_JSON;
	if (range_is(s, (size_t)(e - s), PX_MEDIA_PROTOBUF))
		return PX_MT_PROTOBUF;
	return PX_MT_NONE;
}

enum px_mt px_media_accept(const char *header)
{
	bool json = false, pb = false;

	if (header == NULL || header[0] == '\0')
		return PX_MT_JSON;
	for (const char *p = header; *p;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *s = p, *e = semi ? semi : end;
		trim(&s, &e);
		/* "q=0" refuses the range. */
		bool refused = false;
		for (const char *q = semi; q && q < end; q++)
			if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
				refused = strtod(q + 2, NULL) <= 0.0;
				break;
			}
		size_t n = (size_t)(e - s);
		if (!refused) {
			bool any = range_is(s, n, "*/*") || range_is(s, n, "application/*");
			json |= any || range_is(s, n, PX_MEDIA_JSON);
			pb |= any || range_is(s, n, PX_MEDIA_PROTOBUF);
		}
		p = comma ? comma + 1 : end;
	}
	return json ? PX_MT_JSON : pb ? PX_MT_PROTOBUF : PX_MT_NONE;
}

ProtobufCMessage *px_media_decode(enum px_mt mt, const uint8_t *body, size_t len,
                                  const ProtobufCMessageDescriptor *desc, char *why, size_t whylen)
{
	ProtobufCMessage *msg = NULL;

	if (mt == PX_MT_PROTOBUF) {
		msg = protobuf_c_message_unpack(desc, NULL, len, body);
		if (msg == NULL)
			snprintf(why, whylen, "not a valid %s message", desc->name);
		return msg;
	}
	json_error_t jerr;
	json_t *j = json_loadb((const char *)body, len, JSON_ALLOW_NUL, &jerr);
	if (j == NULL) {
		snprintf(why, whylen, "invalid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
		         jerr.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(why, whylen, "expected a JSON object");
		json_decref(j);
		return NULL;
	}
	char err[256] = "";
	if (px_json_to_pb(j, desc, &msg, err, sizeof(err)) != PX_OK) {
		snprintf(why, whylen, "%s", err[0] ? err : "out of memory");
		msg = NULL;
	}
	json_decref(j);
	return msg;
}

uint8_t *px_media_encode(enum px_mt mt, const ProtobufCMessage *msg, size_t *len)
{
	if (mt == PX_MT_PROTOBUF) {
		*len = protobuf_c_message_get_packed_size(msg);
		uint8_t *out = malloc(*len ? *len : 1);
		if (out != NULL)
			protobuf_c_message_pack(msg, out);
		return out;
	}
	json_t *j = px_pb_to_json(msg);
	char *text = j ? json_dumps(j, PX_JSON_DUMP_FLAGS) : NULL;
	json_decref(j);
	*len = text ? strlen(text) : 0;
	return (uint8_t *)text;
}
