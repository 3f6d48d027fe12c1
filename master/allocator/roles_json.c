/* roles_json.c — the role objects of Mesos's /master/roles from the allocator's per-role
 * figures (alloc_roles_foreach); see report.h. */
#include <stdbool.h>

#include "report.h"

static json_t *figures(const alloc_role_stats *s, int64_t (*pick)(const alloc_role_stats *, size_t))
{
	json_t *o = json_object();

	json_object_set_new(o, "cpus", json_real(0));
	json_object_set_new(o, "mem", json_real(0));
	json_object_set_new(o, "disk", json_real(0));
	json_object_set_new(o, "gpus", json_real(0));
	for (size_t i = 0; i < s->n && i < sizeof(s->res) / sizeof(s->res[0]); i++) {
		int64_t v = pick(s, i);
		if (v >= 0)
			json_object_set_new(o, s->res[i].name, json_real((double)v / 1000.0));
	}
	return o;
}

static int64_t pick_allocated(const alloc_role_stats *s, size_t i)
{
	return s->res[i].offered + s->res[i].used;
}
static int64_t pick_offered(const alloc_role_stats *s, size_t i)
{
	return s->res[i].offered;
}
static int64_t pick_used(const alloc_role_stats *s, size_t i)
{
	return s->res[i].used;
}
static int64_t pick_reserved(const alloc_role_stats *s, size_t i)
{
	return s->res[i].reserved;
}
static int64_t pick_guarantee(const alloc_role_stats *s, size_t i)
{
	return s->res[i].guarantee;
}
static int64_t pick_limit(const alloc_role_stats *s, size_t i)
{
	return s->res[i].limit;
}

static void one_role(const alloc_role_stats *s, void *arg)
{
	json_t *arr = arg, *o = json_object();
	bool quota = false;

	if (o == NULL)
		return;

	for (size_t i = 0; i < s->n && i < sizeof(s->res) / sizeof(s->res[0]); i++)
		quota |= s->res[i].guarantee >= 0 || s->res[i].limit >= 0;
	json_object_set_new(o, "name", json_string(s->role));
	json_object_set_new(o, "weight", json_real(s->weight));
	json_object_set_new(o, "share", json_real(s->share));
	/* Mesos's "resources" of a role: what is allocated to it (offered or used). */
	json_object_set_new(o, "resources", figures(s, pick_allocated));
	json_object_set_new(o, "allocated", figures(s, pick_used));
	json_object_set_new(o, "offered", figures(s, pick_offered));
	json_object_set_new(o, "reserved", figures(s, pick_reserved));
	if (quota) {
		json_t *q = json_object();
		json_object_set_new(q, "role", json_string(s->role));
		json_object_set_new(q, "guarantee", figures(s, pick_guarantee));
		json_object_set_new(q, "limit", figures(s, pick_limit));
		json_object_set_new(o, "quota", q);
	}
	json_array_append_new(arr, o);
}

json_t *alloc_roles_json(const alloc_core *core)
{
	json_t *roles = json_array();

	if (roles != NULL)
		alloc_roles_foreach(core, one_role, roles);
	return roles;
}
