/* error.c — actor_strerror and actor_errname, both generated from ACTOR_ERRORS. */
#include "actor/error.h"

static const char *const actor__err_text[ACTOR__ERR_COUNT] = {
	[ACTOR_OK] = "success",
#define ACTOR__ERR_TEXT(name, text) [name] = text,
	ACTOR_ERRORS(ACTOR__ERR_TEXT)
#undef ACTOR__ERR_TEXT
};

static const char *const actor__err_name[ACTOR__ERR_COUNT] = {
	[ACTOR_OK] = "ACTOR_OK",
#define ACTOR__ERR_NAME(name, text) [name] = #name,
	ACTOR_ERRORS(ACTOR__ERR_NAME)
#undef ACTOR__ERR_NAME
};

const char *actor_strerror(int err)
{
	if (err < 0 || err >= ACTOR__ERR_COUNT)
		return "unknown error";
	return actor__err_text[err];
}

const char *actor_errname(int err)
{
	if (err < 0 || err >= ACTOR__ERR_COUNT)
		return "ACTOR_EUNKNOWN";
	return actor__err_name[err];
}
