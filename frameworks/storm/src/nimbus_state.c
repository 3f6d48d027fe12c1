/* nimbus_state.c — the nimbus's state file (see nimbus.h), written atomically (a
 * temporary file renamed over it) on every change of the assignment or the workers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <actor/log.h>

#include "nimbus_int.h"

static const char *const state_names[] = {"pending", "launched", "running", "retired"};

void nimbus_task_id(const struct nimbus *n, int slot, int gen, char *out, size_t size)
{
	snprintf(out, size, "storm-%s-w%d-g%d", n->name, slot, gen);
}

bool nimbus_parse_task_id(const struct nimbus *n, const char *task_id, int *slot, int *gen)
{
	char prefix[96];
	int len = snprintf(prefix, sizeof(prefix), "storm-%s-w", n->name);
	if (strncmp(task_id, prefix, (size_t)len) != 0)
		return false;
	char tail;
	if (sscanf(task_id + len, "%d-g%d%c", slot, gen, &tail) != 2)
		return false;
	return *slot >= 0 && *slot < STM_MAX_WORKERS && *gen >= 0;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void nimbus_state_save(struct nimbus *n)
{
	char path[600], tmp[610];
	json_t *slots = json_array();
	for (int i = 0; i < n->nslots; i++) {
		const struct slot *s = &n->slots[i];
		json_array_append_new(
		    slots, json_pack("{sssisssssssI}", "state", state_names[s->state], "gen",
		                     s->gen, "task_id", s->task_id, "agent_id", s->agent_id,
		                     "address", s->address, "pid", (json_int_t)s->pid));
	}
	json_t *o =
	    json_pack("{sssssisIsbsbsIsssIso}", "name", n->name, "framework_id", n->framework_id,
	              "nworkers", n->nworkers, "epoch", (json_int_t)n->epoch, "started", n->started,
	              "active", n->active, "relaunches", (json_int_t)n->relaunches, "http", n->http,
	              "nimbus_pid", (json_int_t)getpid(), "slots", slots);
	snprintf(path, sizeof(path), "%s/nimbus.json", n->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (make_dirs(n->dir) != 0 || json_dump_file(o, tmp, JSON_INDENT(1)) != 0 ||
	    rename(tmp, path) != 0)
		actor_error("storm %s: cannot write %s: %s", n->name, path, strerror(errno));
	json_decref(o);
}

int nimbus_state_load(struct nimbus *n, char *err, size_t errlen)
{
	char path[600];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/nimbus.json", n->dir);
	if (access(path, F_OK) != 0)
		return 0;
	json_t *o = json_load_file(path, 0, &jerr);
	json_t *slots = json_object_get(o, "slots");
	const char *fid = json_string_value(json_object_get(o, "framework_id"));
	json_int_t nworkers = json_integer_value(json_object_get(o, "nworkers"));
	if (!json_is_array(slots) || fid == NULL || nworkers < 1 ||
	    json_array_size(slots) > STM_MAX_WORKERS || (size_t)nworkers > json_array_size(slots)) {
		snprintf(err, errlen, "%s is not a nimbus state file: remove it to start afresh",
		         path);
		json_decref(o);
		return -1;
	}
	snprintf(n->framework_id, sizeof(n->framework_id), "%s", fid);
	n->nworkers = (int)nworkers;
	n->nslots = (int)json_array_size(slots);
	n->epoch = (uint64_t)json_integer_value(json_object_get(o, "epoch"));
	n->started = json_is_true(json_object_get(o, "started"));
	n->active = json_is_true(json_object_get(o, "active"));
	n->relaunches = json_integer_value(json_object_get(o, "relaunches"));
	for (int i = 0; i < n->nslots; i++) {
		json_t *s = json_array_get(slots, (size_t)i);
		struct slot *sl = &n->slots[i];
		const char *state = json_string_value(json_object_get(s, "state"));
		sl->state = SLOT_RETIRED;
		for (int k = 0; state != NULL && k < 4; k++)
			if (strcmp(state, state_names[k]) == 0)
				sl->state = (enum slot_state)k;
		sl->gen = (int)json_integer_value(json_object_get(s, "gen"));
		snprintf(sl->task_id, sizeof(sl->task_id), "%s",
		         json_string_value(json_object_get(s, "task_id")) ?: "");
		snprintf(sl->agent_id, sizeof(sl->agent_id), "%s",
		         json_string_value(json_object_get(s, "agent_id")) ?: "");
		snprintf(sl->address, sizeof(sl->address), "%s",
		         json_string_value(json_object_get(s, "address")) ?: "");
		sl->pid = json_integer_value(json_object_get(s, "pid"));
		if (sl->task_id[0] == '\0')
			nimbus_task_id(n, i, sl->gen, sl->task_id, sizeof(sl->task_id));
	}
	json_decref(o);
	actor_info("storm %s: failing over framework %s with %d workers", n->name, n->framework_id,
	           n->nworkers);
	return 1;
}

void nimbus_state_remove(struct nimbus *n)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/nimbus.json", n->dir);
	unlink(path);
	rmdir(n->dir);
}
