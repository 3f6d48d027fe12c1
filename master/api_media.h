/* api_media.h — the media types of the v1 HTTP APIs: which body a request carries
 * (Content-Type), which answer it accepts (Accept), and decoding a body of either type
 * into a protobuf message. */
#ifndef PLEXUS_MASTER_API_MEDIA_H
#define PLEXUS_MASTER_API_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define PX_MEDIA_JSON     "application/json"
#define PX_MEDIA_PROTOBUF "application/x-protobuf"

enum px_mt { PX_MT_NONE, PX_MT_JSON, PX_MT_PROTOBUF };

/* The type of a Content-Type header value (parameters such as "; charset=utf-8" are
 * ignored); PX_MT_NONE when missing or neither. */
enum px_mt px_media_content_type(const char *header);

/* What an Accept header value lets the server answer: JSON when it is missing or allows
 * JSON (application/json, application/ *, * / *), else protobuf if it allows that, else
 * PX_MT_NONE (406). A type with q=0 is refused. */
enum px_mt px_media_accept(const char *header);

/* Decodes body (len bytes) of type mt as a message of desc; the caller frees it with
 * protobuf_c_message_free_unpacked. NULL with the reason in why. */
ProtobufCMessage *px_media_decode(enum px_mt mt, const uint8_t *body, size_t len,
                                  const ProtobufCMessageDescriptor *desc, char *why, size_t whylen);

/* msg encoded as mt, in a new buffer of *len bytes (the caller frees it); NULL on out of
 * memory. JSON is written with PX_JSON_DUMP_FLAGS. */
uint8_t *px_media_encode(enum px_mt mt, const ProtobufCMessage *msg, size_t *len);

#endif
