/* mal_roles.c — Mesos's /master/roles from the allocator's per-role figures: the
 * figures are read inside the allocator (as JSON), the frameworks of each role are
 * added back in the master, which answers. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_pb.h"
#include "master/allocator/allocator_actor.h"
#include "master/mal.h"
#include "master/mal_internal.h"
#include "master/master_internal.h"

struct roles_req {
	actor_promise *promise;
	json_t *roles; /* filled inside the allocator */
};

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

static int collect(alloc_core *core, int64_t now, void *arg)
{
	struct roles_req *r = arg;

	(void)now;
	r->roles = json_array();
	if (r->roles == NULL)
		return ALLOC_ENOMEM;
	alloc_roles_foreach(core, one_role, r->roles);
	return ALLOC_OK;
}

static void collected(actor_t *in, actor_future *f, void *arg)
{
	struct roles_req *r = arg;

	if (in == NULL || actor_future_state(f) != ACTOR_FUTURE_READY || r->roles == NULL) {
		actor_promise_fail(r->promise, ACTOR_EFAILED, "the allocator did not answer");
	} else {
		struct master *m = actor_state(in);
		size_t i;
		json_t *role;
		json_array_foreach(r->roles, i, role)
		{
			json_t *ids = json_array();
			const char *name = json_string_value(json_object_get(role, "name"));
			for (struct framework *fw = m->frameworks; fw; fw = fw->next)
				if (strcmp(fw->role, name) == 0)
					json_array_append_new(ids, json_string(fw->id));
			json_object_set_new(role, "frameworks", ids);
		}
		json_t *o = json_object();
		json_object_set(o, "roles", r->roles);
		char *text = json_dumps(o, PX_JSON_DUMP_FLAGS);
		json_decref(o);
		actor_http_response *res =
		    text ? actor_http_response_alloc(200, "application/json", text, strlen(text))
		         : NULL;
		free(text);
		if (res != NULL)
			actor_promise_set(r->promise, res, actor_http_response_free_cb);
		else
			actor_promise_fail(r->promise, ACTOR_ENOMEM, "out of memory");
	}
	json_decref(r->roles);
	actor_promise_free(r->promise);
	free(r);
}

actor_future *mal_roles_response(struct mal *a)
{
	struct roles_req *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->promise = actor_promise_alloc()) == NULL) {
		free(r);
		return actor_future_failed(ACTOR_ENOMEM, "out of memory");
	}
	actor_future *res = actor_promise_future(r->promise);
	actor_future *f = alloc_actor_dispatch(mal_pid(a), collect, r);
	actor_future_on_any(f, actor_current(), collected, r);
	actor_future_unref(f);
	return res;
}
