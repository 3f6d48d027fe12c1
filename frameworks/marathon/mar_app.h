/* mar_app.h — an app as Marathon defines it: the JSON a user posts to /v2/apps, checked
 * once here, and the parsed form the scheduler works with.
 *
 * Every app keeps its normalised JSON (defaults filled in, unknown fields dropped), so
 * that GET returns what the scheduler runs and the state file round-trips exactly. */
#ifndef MAR_APP_H
#define MAR_APP_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define MAR_ID_MAX          256
#define MAR_VERSION_MAX     32 /* "2026-01-01T00:00:00.000Z" */
#define MAR_MAX_PORTS       16
#define MAR_MAX_CHECKS      4
#define MAR_MAX_CONSTRAINTS 16

enum mar_constraint_op {
	MAR_UNIQUE,
	MAR_CLUSTER,
	MAR_GROUP_BY,
	MAR_LIKE,
	MAR_UNLIKE,
	MAR_MAX_PER,
};

struct mar_constraint {
	char field[64]; /* "hostname" or an agent attribute's name */
	enum mar_constraint_op op;
	char value[256]; /* "" when the operator takes none */
	regex_t re;      /* LIKE / UNLIKE: the value, anchored at both ends */
	bool has_re;
	int limit; /* MAX_PER: the most per value; GROUP_BY: the groups (0: any) */
};

enum mar_check_protocol { MAR_CHECK_HTTP, MAR_CHECK_TCP, MAR_CHECK_COMMAND };

struct mar_health_check {
	enum mar_check_protocol protocol;
	char path[256];     /* HTTP: the request path ("/") */
	int port_index;     /* which of the task's ports */
	int port;           /* a fixed port instead (0: use port_index) */
	char command[1024]; /* COMMAND: run through the shell in the task's sandbox */
	int grace_s;        /* failures in the first grace_s after start do not count */
	int interval_s;
	int timeout_s;
	int max_failures; /* consecutive failures that get the task killed (0: never) */
	bool ignore_1xx;
};

struct mar_port_def {
	int port; /* 0: any port of the offer */
	char name[64];
	char protocol[16]; /* "tcp" */
};

struct mar_app {
	char id[MAR_ID_MAX]; /* absolute: "/group/name" */
	char *cmd;           /* NULL when args is used */
	char **args;
	size_t nargs;
	double cpus, mem, disk;
	int instances;
	json_t *env;    /* object of strings */
	json_t *labels; /* object of strings */
	struct mar_constraint constraints[MAR_MAX_CONSTRAINTS];
	size_t nconstraints;
	struct mar_port_def ports[MAR_MAX_PORTS];
	size_t nports;
	struct mar_health_check checks[MAR_MAX_CHECKS];
	size_t nchecks;
	double min_health_capacity; /* upgradeStrategy, both in [0, 1] */
	double max_over_capacity;
	double backoff_s, backoff_factor, max_launch_delay_s;
	/* When anything changed (version) and when anything but instances changed
	 * (config_version: tasks of an older one are replaced by a restart). */
	char version[MAR_VERSION_MAX];
	char config_version[MAR_VERSION_MAX];
	json_t *json; /* the normalised definition, without version fields */
};

/* Parses and validates a definition. id_hint, when not NULL, is the id from the URL
 * (PUT /v2/apps/{id}), used when the body has none and required to match when it has
 * one. On success returns the app (versions empty; the caller stamps them) and leaves
 * *errors NULL. On failure returns NULL and sets *errors to a new array of Marathon's
 * {"path": "/field", "errors": ["..."]} objects. */
struct mar_app *mar_app_parse(const json_t *in, const char *id_hint, json_t **errors);

/* Frees an app and what it owns. NULL is a no-op. */
void mar_app_free(struct mar_app *app);

/* A deep copy (NULL on out of memory). */
struct mar_app *mar_app_copy(const struct mar_app *app);

/* Whether a and b run the same thing (all but instances and versions are equal), so
 * that going from one to the other needs no restart. */
bool mar_app_same_config(const struct mar_app *a, const struct mar_app *b);

/* The app's JSON with its versions (new reference): what GET /v2/apps/{id} shows,
 * before the scheduler adds its counts. */
json_t *mar_app_to_json(const struct mar_app *app);

/* Writes an absolute, normalised app id ("/a/b") from text ("a/b", "/a/b/") into out.
 * false when a segment is not a valid name; then why says so. */
bool mar_app_id_normalise(const char *text, char *out, size_t outlen, char *why, size_t whylen);

/* The current wall-clock time in Marathon's version format, into out. */
void mar_timestamp(char out[MAR_VERSION_MAX]);

/* A task id for the app: its id without the leading '/', '/' as '_', then '.' and a
 * random UUID ("group_name.1b2c...."), as Marathon names tasks. */
void mar_task_id_make(const char *app_id, char *out, size_t outlen);

#endif
