/* error.h — libactor's one error enum. 0 is success; every call that can fail
 * returns one of these (never -1 with errno). */
#ifndef ACTOR_ERROR_H
#define ACTOR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X-macro: the enum and actor_strerror()/actor_errname() come from this one list. */
#define ACTOR_ERRORS(X)                                                        \
	X(ACTOR_EINVAL, "invalid argument")                                    \
	X(ACTOR_ENOMEM, "out of memory")                                       \
	X(ACTOR_ENOENT, "no such actor")                                       \
	X(ACTOR_EEXIST, "already exists")                                      \
	X(ACTOR_ETIMEDOUT, "timed out")                                        \
	X(ACTOR_ECLOSED, "runtime or actor closed")                            \
	X(ACTOR_EMSGSIZE, "message too large")                                 \
	X(ACTOR_EPROTO, "malformed message")                                   \
	X(ACTOR_ECANCELED, "discarded")                                        \
	X(ACTOR_EABANDONED, "promise abandoned")                               \
	X(ACTOR_ESTATE, "operation not valid in this state")                   \
	X(ACTOR_ECONN, "connection failed or lost")                            \
	X(ACTOR_EIO, "input/output error")                                     \
	X(ACTOR_EFAILED, "failed")                                             \
	X(ACTOR_ENOTRANSPORT, "no transport to another OS process (not listening)") \
	X(ACTOR_EAGAIN, "buffer full, try again later")

enum actor_error {
	ACTOR_OK = 0,
#define ACTOR__ERR_ENUM(name, text) name,
	ACTOR_ERRORS(ACTOR__ERR_ENUM)
#undef ACTOR__ERR_ENUM
	ACTOR__ERR_COUNT
};

/* A static, human-readable description of err ("unknown error" if out of range). */
const char *actor_strerror(int err);
/* The symbolic name of err, e.g. "ACTOR_ENOENT". */
const char *actor_errname(int err);

#ifdef __cplusplus
}
#endif

#endif
