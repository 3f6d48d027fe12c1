/* pid.h — a PID names an actor in any OS process on any machine: "name@ip:port".
 * It is a small value: copy it freely, compare it with actor_pid_equal. */
#ifndef ACTOR_PID_H
#define ACTOR_PID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACTOR_PID_ID_MAX 63 /* longest id, in bytes, without the terminating NUL */
#define ACTOR_PID_TEXT_MAX (ACTOR_PID_ID_MAX + sizeof("@255.255.255.255:65535"))

typedef struct actor_pid {
	uint32_t ip;                       /* IPv4 address, host byte order */
	uint16_t port;                     /* TCP port of the owning OS process */
	uint16_t len;                      /* strlen(id) */
	char id[ACTOR_PID_ID_MAX + 1];     /* NUL-terminated: "master", "slave(3)" */
	uint64_t hint;                     /* internal lookup hint set by the runtime; 0 = none.
	                                      Ignored by equal/hash/format; never sent. */
} actor_pid;

/* The PID that names nobody (id empty). Messages sent from outside any actor carry it. */
extern const actor_pid actor_pid_none;

/* Parses "id@a.b.c.d:port". The id is 1..63 bytes of printable ASCII other than '@',
 * whitespace and '/'; the port 0..65535. Returns ACTOR_EINVAL on anything else and
 * leaves *out untouched. */
int actor_pid_parse(const char *text, actor_pid *out);

/* Builds a PID from parts; ACTOR_EINVAL if id is not a valid id (see above). */
int actor_pid_make(const char *id, uint32_t ip, uint16_t port, actor_pid *out);

/* Formats as "id@a.b.c.d:port" like snprintf: returns the length it needed. */
int actor_pid_format(actor_pid pid, char *buf, size_t size);

bool actor_pid_equal(actor_pid a, actor_pid b);
bool actor_pid_is_none(actor_pid pid);
uint64_t actor_pid_hash(actor_pid pid);

/* Convenience for logs: formats into one of ACTOR_PID_STR_SLOTS thread-local buffers
 * used in turn, so up to that many results can be used at once (e.g. in one log line);
 * each stays valid until that many more calls on the same thread. */
#define ACTOR_PID_STR_SLOTS 4
const char *actor_pid_str(actor_pid pid);

#ifdef __cplusplus
}
#endif

#endif
