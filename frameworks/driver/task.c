/* task.c — the builders of include/plexus/task.h. Messages are built with malloc'ed
 * fields so that px_message_free (protobuf-c's free_unpacked) frees them whole. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/resources.h"
#include "plexus/message.h"
#include "plexus/task.h"
#include "plexus/util.h"

static void set_err(char *err, size_t errlen, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", what);
}

Plexus__Resource **px_resources_from_text(const char *text, const char *role, size_t *n,
                                          char *err, size_t errlen)
{
	px_resources *rs = NULL;
	Plexus__Resource **out = NULL;
	*n = 0;
	if (px_resources_parse(text != NULL ? text : "", role, &rs, err, errlen) != PX_OK)
		return NULL;
	int rv = px_resources_to_pb(rs, PX_PB_LEGACY, &out, n);
	px_resources_free(rs);
	if (rv != PX_OK) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (out == NULL) /* no resources at all: an empty, freeable array */
		out = calloc(1, sizeof(*out));
	return out;
}

void px_resources_free_array(Plexus__Resource **res, size_t n)
{
	px_pb_resources_free(res, n);
}

int px_task_set_resources(Plexus__TaskInfo *task, const char *resources, char *err,
                          size_t errlen)
{
	size_t n;
	Plexus__Resource **res = px_resources_from_text(resources, NULL, &n, err, errlen);
	if (res == NULL)
		return -1;
	px_resources_free_array(task->resources, task->n_resources);
	task->resources = res;
	task->n_resources = n;
	return 0;
}

Plexus__TaskInfo *px_task_alloc(const char *name, const Plexus__AgentID *agent_id,
                                const char *resources, char *err, size_t errlen)
{
	if (name == NULL || *name == '\0' || agent_id == NULL || agent_id->value == NULL) {
		set_err(err, errlen,
		        name == NULL || *name == '\0' ? "a task needs a name"
		                                      : "a task needs the agent_id of its offer");
		return NULL;
	}
	Plexus__TaskInfo *t = malloc(sizeof(*t));
	Plexus__TaskID *id = malloc(sizeof(*id));
	Plexus__AgentID *agent = malloc(sizeof(*agent));
	if (t == NULL || id == NULL || agent == NULL) {
		free(t), free(id), free(agent);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	plexus__task_info__init(t);
	plexus__task_id__init(id);
	plexus__agent_id__init(agent);
	t->task_id = id;
	t->agent_id = agent;

	uint8_t u[16];
	char text[37], idbuf[512];
	px_uuid_random(u);
	px_uuid_format(u, text);
	snprintf(idbuf, sizeof(idbuf), "%.400s-%.8s", name, text);
	t->name = strdup(name);
	id->value = strdup(idbuf);
	agent->value = strdup(agent_id->value);
	if (t->name == NULL || id->value == NULL || agent->value == NULL) {
		PX_FREE(t);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (px_task_set_resources(t, resources, err, errlen) != 0) {
		PX_FREE(t);
		return NULL;
	}
	return t;
}

Plexus__TaskInfo *px_task_command(const char *name, const Plexus__AgentID *agent_id,
                                  const char *command, const char *resources, char *err,
                                  size_t errlen)
{
	if (command == NULL) {
		set_err(err, errlen, "a command task needs a command");
		return NULL;
	}
	Plexus__TaskInfo *t = px_task_alloc(name, agent_id, resources, err, errlen);
	if (t == NULL)
		return NULL;
	Plexus__CommandInfo *cmd = malloc(sizeof(*cmd));
	if (cmd == NULL) {
		PX_FREE(t);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	plexus__command_info__init(cmd);
	t->command = cmd;
	cmd->value = strdup(command);
	cmd->has_shell = true;
	cmd->shell = true;
	if (cmd->value == NULL) {
		PX_FREE(t);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	return t;
}

Plexus__ExecutorInfo *px_executor_self(const char *executor_id, const char *args,
                                       const char *resources, char *err, size_t errlen)
{
	if (executor_id == NULL || *executor_id == '\0') {
		set_err(err, errlen, "an executor needs an id");
		return NULL;
	}
	Plexus__ExecutorInfo *ex = malloc(sizeof(*ex));
	Plexus__ExecutorID *id = malloc(sizeof(*id));
	Plexus__CommandInfo *cmd = malloc(sizeof(*cmd));
	if (ex == NULL || id == NULL || cmd == NULL) {
		free(ex), free(id), free(cmd);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	plexus__executor_info__init(ex);
	plexus__executor_id__init(id);
	plexus__command_info__init(cmd);
	ex->executor_id = id;
	ex->command = cmd;
	id->value = strdup(executor_id);
	size_t n = 0;
	ex->resources = px_resources_from_text(resources, NULL, &n, err, errlen);
	ex->n_resources = n;
	if (id->value == NULL || ex->resources == NULL) {
		if (id->value == NULL)
			set_err(err, errlen, "out of memory");
		PX_FREE(ex);
		return NULL;
	}
	if (px_command_add_self(cmd, args) != 0) {
		set_err(err, errlen, "cannot read this program's path (/proc/self/exe)");
		PX_FREE(ex);
		return NULL;
	}
	return ex;
}

/* Appends one malloc'ed element to a repeated message field (array, count). */
static int append(void ***array, size_t *n, void *item)
{
	void **grown = realloc(*array, (*n + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	grown[(*n)++] = item;
	*array = grown;
	return 0;
}

int px_command_add_env(Plexus__CommandInfo *cmd, const char *name, const char *value)
{
	if (cmd->environment == NULL) {
		cmd->environment = malloc(sizeof(*cmd->environment));
		if (cmd->environment == NULL)
			return -1;
		plexus__environment__init(cmd->environment);
	}
	Plexus__Environment__Variable *v = malloc(sizeof(*v));
	if (v == NULL)
		return -1;
	plexus__environment__variable__init(v);
	v->name = strdup(name);
	v->value = strdup(value != NULL ? value : "");
	if (v->name == NULL || v->value == NULL ||
	    append((void ***)&cmd->environment->variables, &cmd->environment->n_variables, v) != 0) {
		PX_FREE(v);
		return -1;
	}
	return 0;
}

int px_command_add_uri(Plexus__CommandInfo *cmd, const char *uri, bool executable, bool extract,
                       bool cache)
{
	Plexus__CommandInfo__URI *u = malloc(sizeof(*u));
	if (u == NULL)
		return -1;
	plexus__command_info__uri__init(u);
	u->value = strdup(uri);
	u->has_executable = true;
	u->executable = executable;
	u->has_extract = true;
	u->extract = extract;
	u->has_cache = true;
	u->cache = cache;
	if (u->value == NULL || append((void ***)&cmd->uris, &cmd->n_uris, u) != 0) {
		PX_FREE(u);
		return -1;
	}
	return 0;
}

int px_command_add_self(Plexus__CommandInfo *cmd, const char *args)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	const char *base = strrchr(self, '/');
	base = base != NULL ? base + 1 : self;
	size_t len = strlen(base) + (args != NULL ? strlen(args) : 0) + 4;
	char *value = malloc(len);
	if (value == NULL || px_command_add_uri(cmd, self, true, false, false) != 0) {
		free(value);
		return -1;
	}
	snprintf(value, len, "./%s%s%s", base, args != NULL && *args ? " " : "",
	         args != NULL ? args : "");
	free(cmd->value);
	cmd->value = value;
	cmd->has_shell = true;
	cmd->shell = true;
	return 0;
}

/* The offer's resources as a set; NULL if they do not parse (never for a master's). */
static px_resources *offer_set(const Plexus__Offer *offer)
{
	px_resources *rs = NULL;
	if (px_resources_from_pb(offer->resources, offer->n_resources, &rs, NULL, 0) != PX_OK)
		return NULL;
	return rs;
}

double px_offer_scalar(const Plexus__Offer *offer, const char *name)
{
	double sum = 0;
	for (size_t i = 0; i < offer->n_resources; i++) {
		const Plexus__Resource *r = offer->resources[i];
		if (r->name != NULL && strcmp(r->name, name) == 0 && r->scalar != NULL)
			sum += r->scalar->value;
	}
	return sum;
}

size_t px_offer_ranges(const Plexus__Offer *offer, const char *name, px_offer_range *out,
                       size_t max)
{
	size_t total = 0;
	for (size_t i = 0; i < offer->n_resources; i++) {
		const Plexus__Resource *r = offer->resources[i];
		if (r->name == NULL || strcmp(r->name, name) != 0 || r->ranges == NULL)
			continue;
		for (size_t j = 0; j < r->ranges->n_range; j++, total++) {
			if (total < max) {
				out[total].begin = r->ranges->range[j]->begin;
				out[total].end = r->ranges->range[j]->end;
			}
		}
	}
	return total;
}

/* Whether `have` holds `want` by quantity, whatever the reservations: an offer's
 * resources carry allocation marks and roles that a task's request usually omits. */
static bool holds(const px_resources *have, const px_resources *want)
{
	px_resources *h = NULL, *w = NULL;
	bool ok = px_resources_quantities(have, &h) == PX_OK &&
	          px_resources_quantities(want, &w) == PX_OK && px_resources_contains(h, w);
	px_resources_free(h);
	px_resources_free(w);
	return ok;
}

bool px_offer_fits(const Plexus__Offer *offer, const Plexus__TaskInfo *task)
{
	px_resources *have = offer_set(offer), *want = NULL, *ex = NULL;
	bool ok = have != NULL &&
	          px_resources_from_pb(task->resources, task->n_resources, &want, NULL, 0) == PX_OK;
	if (ok && task->executor != NULL) {
		ok = px_resources_from_pb(task->executor->resources, task->executor->n_resources, &ex,
		                          NULL, 0) == PX_OK &&
		     px_resources_add(want, ex) == PX_OK;
	}
	ok = ok && holds(have, want);
	px_resources_free(have);
	px_resources_free(want);
	px_resources_free(ex);
	return ok;
}

bool px_offer_fits_text(const Plexus__Offer *offer, const char *resources)
{
	px_resources *have = offer_set(offer), *want = NULL;
	bool ok = have != NULL && px_resources_parse(resources, NULL, &want, NULL, 0) == PX_OK &&
	          holds(have, want);
	px_resources_free(have);
	px_resources_free(want);
	return ok;
}
