/* mar_app.c — see mar_app.h. Field names, defaults and messages follow Marathon's
 * AppDefinition: what it accepts is accepted here, what it rejects is rejected with the
 * same kind of {"path", "errors"} detail. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "plexus/util.h"

#include "mar_app.h"

/* Marathon's rule for one segment of an id. */
#define MAR_SEGMENT_RE                                                                             \
	"^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$"

struct mar_errors {
	json_t *list; /* array of {"path", "errors"} */
};

static void add_error(struct mar_errors *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(struct mar_errors *e, const char *path, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(e->list, json_pack("{s:s, s:[s]}", "path", path, "errors", text));
}

void mar_timestamp(char out[MAR_VERSION_MAX])
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	char date[24];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, MAR_VERSION_MAX, "%.19s.%03dZ", date, (int)(tv.tv_usec / 1000) % 1000);
}

void mar_task_id_make(const char *app_id, char *out, size_t outlen)
{
	uint8_t uuid[16];
	char text[37];
	size_t n = 0;

	for (const char *p = app_id[0] == '/' ? app_id + 1 : app_id; *p != '\0' && n + 1 < outlen;
	     p++)
		out[n++] = *p == '/' ? '_' : *p;
	px_uuid_random(uuid);
	px_uuid_format(uuid, text);
	snprintf(out + n, outlen - n, ".%s", text);
}

bool mar_app_id_normalise(const char *text, char *out, size_t outlen, char *why, size_t whylen)
{
	static regex_t re;
	static bool compiled;
	char seg[MAR_ID_MAX];
	size_t n = 0;

	if (!compiled) {
		/* Compiled once, from one actor; the pattern is a constant that compiles. */
		if (regcomp(&re, MAR_SEGMENT_RE, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(why, whylen, "cannot compile the id pattern");
			return false;
		}
		compiled = true;
	}
	if (text == NULL || strlen(text) + 2 > outlen) {
		snprintf(why, whylen, "id is missing or too long");
		return false;
	}
	for (const char *p = text; *p != '\0';) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		memcpy(seg, p, len);
		seg[len] = '\0';
		if (regexec(&re, seg, 0, NULL, 0) != 0) {
			snprintf(why, whylen, "'%s' must fully match regular expression '%s'", seg,
			         MAR_SEGMENT_RE);
			return false;
		}
		out[n++] = '/';
		memcpy(out + n, seg, len);
		n += len;
		p += len;
	}
	if (n == 0) {
		snprintf(why, whylen, "id must not be empty");
		return false;
	}
	out[n] = '\0';
	return true;
}

/* A number field: the default when absent, an error when not a number or below lo. */
static double number(struct mar_errors *e, const json_t *in, const char *key, double def, double lo,
                     double hi, char *path)
{
	json_t *v = json_object_get(in, key);
	if (v == NULL || json_is_null(v))
		return def;
	if (!json_is_number(v)) {
		add_error(e, path, "must be a number");
		return def;
	}
	double d = json_number_value(v);
	if (!isfinite(d) || d < lo || d > hi) {
		add_error(e, path, "got %g, expected between %g and %g", d, lo, hi);
		return def;
	}
	return d;
}

static int integer(struct mar_errors *e, const json_t *in, const char *key, int def, int lo, int hi,
                   char *path)
{
	json_t *v = json_object_get(in, key);
	if (v == NULL || json_is_null(v))
		return def;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		add_error(e, path, "must be an integer between %d and %d", lo, hi);
		return def;
	}
	return (int)json_integer_value(v);
}

/* env and labels: objects of strings; Marathon also takes {"secret": ...} values in env,
 * which need a secret store this framework does not have. */
static json_t *string_map(struct mar_errors *e, const json_t *in, const char *key)
{
	json_t *v = json_object_get(in, key), *out = json_object();
	const char *k;
	json_t *item;
	char path[128];

	if (v == NULL || json_is_null(v))
		return out;
	if (!json_is_object(v)) {
		snprintf(path, sizeof(path), "/%s", key);
		add_error(e, path, "must be an object of strings");
		return out;
	}
	json_object_foreach(v, k, item)
	{
		snprintf(path, sizeof(path), "/%s(%s)", key, k);
		if (!json_is_string(item))
			add_error(e, path, "must be a string");
		else
			json_object_set(out, k, item);
	}
	return out;
}

static const char *const op_names[] = {"UNIQUE", "CLUSTER", "GROUP_BY",
                                       "LIKE",   "UNLIKE",  "MAX_PER"};

static void parse_constraints(struct mar_errors *e, const json_t *in, struct mar_app *app)
{
	json_t *list = json_object_get(in, "constraints"), *c;
	size_t i;
	char path[64];

	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list) || json_array_size(list) > MAR_MAX_CONSTRAINTS) {
		add_error(e, "/constraints", "must be an array of at most %d constraints",
		          MAR_MAX_CONSTRAINTS);
		return;
	}
	json_array_foreach(list, i, c)
	{
		snprintf(path, sizeof(path), "/constraints(%zu)", i);
		size_t n = json_array_size(c);
		if (!json_is_array(c) || n < 2 || n > 3 || !json_is_string(json_array_get(c, 0)) ||
		    !json_is_string(json_array_get(c, 1)) ||
		    (n == 3 && !json_is_string(json_array_get(c, 2)))) {
			add_error(e, path, "Each constraint must have either 2 or 3 fields");
			continue;
		}
		struct mar_constraint *k = &app->constraints[app->nconstraints];
		const char *field = json_string_value(json_array_get(c, 0));
		const char *op = json_string_value(json_array_get(c, 1));
		const char *value = n == 3 ? json_string_value(json_array_get(c, 2)) : "";
		size_t o;
		for (o = 0; o < sizeof(op_names) / sizeof(op_names[0]); o++)
			if (strcmp(op, op_names[o]) == 0)
				break;
		if (o == sizeof(op_names) / sizeof(op_names[0])) {
			add_error(e, path,
			          "Constraint operator must be one of the following: [UNIQUE, "
			          "CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER]");
			continue;
		}
		if (strlen(field) == 0 || strlen(field) >= sizeof(k->field) ||
		    strlen(value) >= sizeof(k->value)) {
			add_error(e, path, "Constraint field or value is empty or too long");
			continue;
		}
		*k = (struct mar_constraint){.op = (enum mar_constraint_op)o};
		snprintf(k->field, sizeof(k->field), "%s", field);
		snprintf(k->value, sizeof(k->value), "%s", value);
		if ((k->op == MAR_LIKE || k->op == MAR_UNLIKE) && value[0] == '\0') {
			add_error(e, path, "%s requires a regular expression value", op);
			continue;
		}
		if (k->op == MAR_UNIQUE && value[0] != '\0') {
			add_error(e, path, "UNIQUE does not take a value");
			continue;
		}
		if (k->op == MAR_MAX_PER || (k->op == MAR_GROUP_BY && value[0] != '\0')) {
			char *end;
			long v = strtol(value, &end, 10);
			if (*end != '\0' || v <= 0 || v > 1000000) {
				add_error(e, path, "%s requires a positive integer value", op);
				continue;
			}
			k->limit = (int)v;
		}
		if (k->op == MAR_LIKE || k->op == MAR_UNLIKE) {
			char anchored[300];
			snprintf(anchored, sizeof(anchored), "^(%s)$", value);
			if (regcomp(&k->re, anchored, REG_EXTENDED | REG_NOSUB) != 0) {
				add_error(e, path, "'%s' is not a valid regular expression", value);
				continue;
			}
			k->has_re = true;
		}
		app->nconstraints++;
	}
}

static void parse_ports(struct mar_errors *e, const json_t *in, struct mar_app *app)
{
	json_t *list = json_object_get(in, "portDefinitions"), *p;
	size_t i;
	char path[64];

	if (list == NULL || json_is_null(list)) {
		/* Marathon's "ports" shorthand: a list of numbers. */
		json_t *ports = json_object_get(in, "ports");
		if (ports == NULL || json_is_null(ports))
			return;
		if (!json_is_array(ports) || json_array_size(ports) > MAR_MAX_PORTS) {
			add_error(e, "/ports", "must be an array of at most %d ports",
			          MAR_MAX_PORTS);
			return;
		}
		json_array_foreach(ports, i, p)
		{
			if (!json_is_integer(p) || json_integer_value(p) < 0 ||
			    json_integer_value(p) > 65535) {
				add_error(e, "/ports", "ports must be integers in [0, 65535]");
				return;
			}
			struct mar_port_def *d = &app->ports[app->nports++];
			*d = (struct mar_port_def){.port = (int)json_integer_value(p)};
			snprintf(d->protocol, sizeof(d->protocol), "tcp");
		}
		return;
	}
	if (!json_is_array(list) || json_array_size(list) > MAR_MAX_PORTS) {
		add_error(e, "/portDefinitions", "must be an array of at most %d ports",
		          MAR_MAX_PORTS);
		return;
	}
	json_array_foreach(list, i, p)
	{
		snprintf(path, sizeof(path), "/portDefinitions(%zu)", i);
		if (!json_is_object(p)) {
			add_error(e, path, "must be an object");
			continue;
		}
		struct mar_port_def *d = &app->ports[app->nports];
		*d = (struct mar_port_def){0};
		d->port = integer(e, p, "port", 0, 0, 65535, path);
		json_t *name = json_object_get(p, "name"), *proto = json_object_get(p, "protocol");
		if (name != NULL &&
		    (!json_is_string(name) || strlen(json_string_value(name)) >= sizeof(d->name))) {
			add_error(e, path, "name must be a short string");
			continue;
		}
		const char *pr = proto && json_is_string(proto) ? json_string_value(proto) : "tcp";
		if (strcmp(pr, "tcp") != 0 && strcmp(pr, "udp") != 0 &&
		    strcmp(pr, "udp,tcp") != 0) {
			add_error(e, path, "protocol must be tcp, udp or udp,tcp");
			continue;
		}
		snprintf(d->name, sizeof(d->name), "%s", name ? json_string_value(name) : "");
		snprintf(d->protocol, sizeof(d->protocol), "%s", pr);
		app->nports++;
	}
}

static void parse_checks(struct mar_errors *e, const json_t *in, struct mar_app *app)
{
	json_t *list = json_object_get(in, "healthChecks"), *h;
	size_t i;
	char path[64];

	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list) || json_array_size(list) > MAR_MAX_CHECKS) {
		add_error(e, "/healthChecks", "must be an array of at most %d checks",
		          MAR_MAX_CHECKS);
		return;
	}
	json_array_foreach(list, i, h)
	{
		snprintf(path, sizeof(path), "/healthChecks(%zu)", i);
		if (!json_is_object(h)) {
			add_error(e, path, "must be an object");
			continue;
		}
		struct mar_health_check *c = &app->checks[app->nchecks];
		*c = (struct mar_health_check){0};
		json_t *proto = json_object_get(h, "protocol");
		const char *pr = proto && json_is_string(proto) ? json_string_value(proto) : "HTTP";
		if (strcmp(pr, "HTTP") == 0 || strcmp(pr, "MESOS_HTTP") == 0)
			c->protocol = MAR_CHECK_HTTP;
		else if (strcmp(pr, "TCP") == 0 || strcmp(pr, "MESOS_TCP") == 0)
			c->protocol = MAR_CHECK_TCP;
		else if (strcmp(pr, "COMMAND") == 0) {
			/* The agents' command executor runs no checks, and the scheduler cannot
			 * run a command inside a task's sandbox. */
			add_error(e, path,
			          "COMMAND health checks are not supported: use HTTP or TCP");
			continue;
		} else {
			add_error(e, path,
			          "protocol must be one of HTTP, TCP, COMMAND, MESOS_HTTP, "
			          "MESOS_TCP");
			continue;
		}
		json_t *p = json_object_get(h, "path");
		snprintf(c->path, sizeof(c->path), "%s",
		         p && json_is_string(p) ? json_string_value(p) : "/");
		c->port_index = integer(e, h, "portIndex", 0, 0, MAR_MAX_PORTS - 1, path);
		c->port = integer(e, h, "port", 0, 0, 65535, path);
		c->grace_s = integer(e, h, "gracePeriodSeconds", 300, 0, 86400 * 7, path);
		c->interval_s = integer(e, h, "intervalSeconds", 60, 1, 86400, path);
		c->timeout_s = integer(e, h, "timeoutSeconds", 20, 1, 86400, path);
		c->max_failures = integer(e, h, "maxConsecutiveFailures", 3, 0, 1000000, path);
		json_t *ig = json_object_get(h, "ignoreHttp1xx");
		c->ignore_1xx = ig != NULL && json_is_true(ig);
		if (c->protocol == MAR_CHECK_COMMAND) {
			json_t *cmd = json_object_get(h, "command");
			json_t *value = json_is_object(cmd) ? json_object_get(cmd, "value") : NULL;
			if (value == NULL || !json_is_string(value) ||
			    strlen(json_string_value(value)) == 0 ||
			    strlen(json_string_value(value)) >= sizeof(c->command)) {
				add_error(e, path, "COMMAND health checks need command.value");
				continue;
			}
			snprintf(c->command, sizeof(c->command), "%s", json_string_value(value));
		} else if (c->port == 0 && (size_t)c->port_index >= app->nports) {
			add_error(e, path,
			          "Health check port indices must address an element of the "
			          "ports array or container port mappings.");
			continue;
		}
		app->nchecks++;
	}
}

static json_t *ports_json(const struct mar_app *app)
{
	json_t *list = json_array();
	for (size_t i = 0; i < app->nports; i++) {
		json_t *p = json_pack("{s:i, s:s}", "port", app->ports[i].port, "protocol",
		                      app->ports[i].protocol);
		if (app->ports[i].name[0] != '\0')
			json_object_set_new(p, "name", json_string(app->ports[i].name));
		json_array_append_new(list, p);
	}
	return list;
}

static json_t *checks_json(const struct mar_app *app)
{
	static const char *const names[] = {"HTTP", "TCP", "COMMAND"};
	json_t *list = json_array();
	for (size_t i = 0; i < app->nchecks; i++) {
		const struct mar_health_check *c = &app->checks[i];
		json_t *h = json_pack("{s:s, s:i, s:i, s:i, s:i}", "protocol", names[c->protocol],
		                      "gracePeriodSeconds", c->grace_s, "intervalSeconds",
		                      c->interval_s, "timeoutSeconds", c->timeout_s,
		                      "maxConsecutiveFailures", c->max_failures);
		if (c->protocol == MAR_CHECK_HTTP) {
			json_object_set_new(h, "path", json_string(c->path));
			json_object_set_new(h, "ignoreHttp1xx", json_boolean(c->ignore_1xx));
		}
		if (c->protocol == MAR_CHECK_COMMAND)
			json_object_set_new(h, "command", json_pack("{s:s}", "value", c->command));
		else if (c->port != 0)
			json_object_set_new(h, "port", json_integer(c->port));
		else
			json_object_set_new(h, "portIndex", json_integer(c->port_index));
		json_array_append_new(list, h);
	}
	return list;
}

/* The normalised definition: every field the scheduler uses, with its value. */
static json_t *normalised(const struct mar_app *app)
{
	json_t *j = json_pack(
	    "{s:s, s:f, s:f, s:f, s:i, s:O, s:O, s:f, s:f, s:f}", "id", app->id, "cpus", app->cpus,
	    "mem", app->mem, "disk", app->disk, "instances", app->instances, "env", app->env,
	    "labels", app->labels, "backoffSeconds", app->backoff_s, "backoffFactor",
	    app->backoff_factor, "maxLaunchDelaySeconds", app->max_launch_delay_s);
	if (j == NULL)
		return NULL;
	json_object_set_new(j, "cmd", app->cmd ? json_string(app->cmd) : json_null());
	if (app->args != NULL) {
		json_t *a = json_array();
		for (size_t i = 0; i < app->nargs; i++)
			json_array_append_new(a, json_string(app->args[i]));
		json_object_set_new(j, "args", a);
	} else {
		json_object_set_new(j, "args", json_null());
	}
	json_t *cs = json_array();
	for (size_t i = 0; i < app->nconstraints; i++) {
		const struct mar_constraint *c = &app->constraints[i];
		json_t *one = json_pack("[s, s]", c->field, op_names[c->op]);
		if (c->value[0] != '\0')
			json_array_append_new(one, json_string(c->value));
		json_array_append_new(cs, one);
	}
	json_object_set_new(j, "constraints", cs);
	json_object_set_new(j, "portDefinitions", ports_json(app));
	json_object_set_new(j, "healthChecks", checks_json(app));
	json_object_set_new(j, "upgradeStrategy",
	                    json_pack("{s:f, s:f}", "minimumHealthCapacity",
	                              app->min_health_capacity, "maximumOverCapacity",
	                              app->max_over_capacity));
	return j;
}

struct mar_app *mar_app_parse(const json_t *in, const char *id_hint, json_t **errors)
{
	struct mar_errors e = {.list = json_array()};
	struct mar_app *app = calloc(1, sizeof(*app));
	char why[512];

	*errors = NULL;
	if (app == NULL || e.list == NULL) {
		free(app);
		json_decref(e.list);
		*errors = json_pack("[{s:s, s:[s]}]", "path", "/", "errors", "out of memory");
		return NULL;
	}
	if (!json_is_object(in)) {
		add_error(&e, "/", "an app definition must be a JSON object");
		goto fail;
	}
	json_t *id = json_object_get(in, "id");
	const char *id_text = id && json_is_string(id) ? json_string_value(id) : id_hint;
	if (id != NULL && !json_is_string(id))
		add_error(&e, "/id", "must be a string");
	else if (id_text == NULL)
		add_error(&e, "/id", "is required");
	else if (!mar_app_id_normalise(id_text, app->id, sizeof(app->id), why, sizeof(why)))
		add_error(&e, "/id", "%s", why);
	else if (id_hint != NULL) {
		char hint[MAR_ID_MAX];
		if (mar_app_id_normalise(id_hint, hint, sizeof(hint), why, sizeof(why)) &&
		    strcmp(hint, app->id) != 0)
			add_error(&e, "/id",
			          "the id in the body (%s) is not the id in the URL (%s)", app->id,
			          hint);
	}

	json_t *cmd = json_object_get(in, "cmd"), *args = json_object_get(in, "args");
	bool has_cmd = cmd != NULL && !json_is_null(cmd);
	bool has_args = args != NULL && !json_is_null(args);
	if (has_cmd && (!json_is_string(cmd) || json_string_length(cmd) == 0))
		add_error(&e, "/cmd", "must be a non-empty string");
	else if (has_cmd)
		app->cmd = strdup(json_string_value(cmd));
	if (has_args) {
		size_t i;
		json_t *a;
		if (!json_is_array(args) || json_array_size(args) == 0) {
			add_error(&e, "/args", "must be a non-empty array of strings");
		} else {
			app->args = calloc(json_array_size(args), sizeof(char *));
			json_array_foreach(args, i, a)
			{
				if (!json_is_string(a)) {
					add_error(&e, "/args",
					          "must be a non-empty array of strings");
					break;
				}
				app->args[app->nargs++] = strdup(json_string_value(a));
			}
		}
	}
	if (has_cmd == has_args)
		add_error(&e, "/",
		          "AppDefinition must either contain one of 'cmd' or 'args', and "
		          "not both.");

	app->cpus = number(&e, in, "cpus", 1.0, 0, 1e6, "/cpus");
	app->mem = number(&e, in, "mem", 128.0, 0, 1e12, "/mem");
	app->disk = number(&e, in, "disk", 0, 0, 1e12, "/disk");
	app->instances = integer(&e, in, "instances", 1, 0, 1000000, "/instances");
	app->backoff_s = number(&e, in, "backoffSeconds", 1, 0, 86400, "/backoffSeconds");
	app->backoff_factor = number(&e, in, "backoffFactor", 1.15, 1, 100, "/backoffFactor");
	app->max_launch_delay_s =
	    number(&e, in, "maxLaunchDelaySeconds", 3600, 0, 86400 * 7, "/maxLaunchDelaySeconds");
	if (app->cpus + app->mem + app->disk <= 0)
		add_error(&e, "/", "an app must ask for some cpus, mem or disk");
	app->env = string_map(&e, in, "env");
	app->labels = string_map(&e, in, "labels");
	parse_constraints(&e, in, app);
	parse_ports(&e, in, app);
	parse_checks(&e, in, app);

	json_t *us = json_object_get(in, "upgradeStrategy");
	app->min_health_capacity = 1.0;
	app->max_over_capacity = 1.0;
	if (us != NULL && !json_is_null(us)) {
		if (!json_is_object(us)) {
			add_error(&e, "/upgradeStrategy", "must be an object");
		} else {
			app->min_health_capacity =
			    number(&e, us, "minimumHealthCapacity", 1.0, 0, 1,
			           "/upgradeStrategy/minimumHealthCapacity");
			app->max_over_capacity = number(&e, us, "maximumOverCapacity", 1.0, 0, 1,
			                                "/upgradeStrategy/maximumOverCapacity");
		}
	}
	if (json_array_size(e.list) > 0)
		goto fail;
	app->json = normalised(app);
	if (app->json == NULL) {
		add_error(&e, "/", "out of memory");
		goto fail;
	}
	json_decref(e.list);
	return app;
fail:
	mar_app_free(app);
	*errors = e.list;
	return NULL;
}

void mar_app_free(struct mar_app *app)
{
	if (app == NULL)
		return;
	free(app->cmd);
	for (size_t i = 0; i < app->nargs; i++)
		free(app->args[i]);
	free(app->args);
	for (size_t i = 0; i < app->nconstraints; i++)
		if (app->constraints[i].has_re)
			regfree(&app->constraints[i].re);
	json_decref(app->env);
	json_decref(app->labels);
	json_decref(app->json);
	free(app);
}

struct mar_app *mar_app_copy(const struct mar_app *app)
{
	json_t *errors = NULL;
	struct mar_app *copy = mar_app_parse(app->json, NULL, &errors);
	json_decref(errors);
	if (copy == NULL)
		return NULL;
	memcpy(copy->version, app->version, sizeof(copy->version));
	memcpy(copy->config_version, app->config_version, sizeof(copy->config_version));
	return copy;
}

bool mar_app_same_config(const struct mar_app *a, const struct mar_app *b)
{
	json_t *x = json_deep_copy(a->json), *y = json_deep_copy(b->json);
	json_object_del(x, "instances");
	json_object_del(y, "instances");
	bool same = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

json_t *mar_app_to_json(const struct mar_app *app)
{
	json_t *j = json_deep_copy(app->json);
	json_object_set_new(j, "version", json_string(app->version));
	json_object_set_new(j, "versionInfo",
	                    json_pack("{s:s, s:s}", "lastScalingAt", app->version,
	                              "lastConfigChangeAt", app->config_version));
	return j;
}
