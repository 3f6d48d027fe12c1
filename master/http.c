/* http.c — the master's HTTP endpoints, in the shapes Mesos serves them:
 *
 *   GET  /master/state        everything (frameworks with tasks and offers, agents ...)
 *   GET  /master/frameworks   frameworks, completed frameworks
 *   GET  /master/slaves       agents
 *   GET  /master/tasks        tasks (?limit=N&offset=N&order=asc|desc&framework_id=&task_id=,
 *                             as Mesos: default limit 100, completed frameworks' too)
 *   POST /master/teardown     frameworkId=<id> as a form, or a JSON body
 *                             {"framework_id": {"value": "<id>"}} or {"frameworkId": "<id>"}
 *   GET  /master/info         {"id", "pid", "hostname", "ip", "port", "version"}: how
 *                             agents and drivers find the master's PID from its HTTP
 *                             address
 *   GET  /master/health, /health
 *
 * Resources appear as Mesos's model: {"cpus": 2, "mem": 1024, "disk": 0, "gpus": 0,
 * "ports": "[31000-32000]"}, with the full Resource objects in *_full fields. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_pb.h"
#include "common/json_writer.h"
#include "master/master_internal.h"

static const char *const state_names[] = {
    [PLEXUS__TASK_STATE__TASK_STAGING] = "TASK_STAGING",
    [PLEXUS__TASK_STATE__TASK_STARTING] = "TASK_STARTING",
    [PLEXUS__TASK_STATE__TASK_RUNNING] = "TASK_RUNNING",
    [PLEXUS__TASK_STATE__TASK_KILLING] = "TASK_KILLING",
    [PLEXUS__TASK_STATE__TASK_FINISHED] = "TASK_FINISHED",
    [PLEXUS__TASK_STATE__TASK_FAILED] = "TASK_FAILED",
    [PLEXUS__TASK_STATE__TASK_KILLED] = "TASK_KILLED",
    [PLEXUS__TASK_STATE__TASK_ERROR] = "TASK_ERROR",
    [PLEXUS__TASK_STATE__TASK_LOST] = "TASK_LOST",
    [PLEXUS__TASK_STATE__TASK_DROPPED] = "TASK_DROPPED",
    [PLEXUS__TASK_STATE__TASK_UNREACHABLE] = "TASK_UNREACHABLE",
    [PLEXUS__TASK_STATE__TASK_GONE] = "TASK_GONE",
    [PLEXUS__TASK_STATE__TASK_GONE_BY_OPERATOR] = "TASK_GONE_BY_OPERATOR",
    [PLEXUS__TASK_STATE__TASK_UNKNOWN] = "TASK_UNKNOWN",
};

static const char *state_name(Plexus__TaskState s)
{
	if (s < 0 || (size_t)s >= sizeof(state_names) / sizeof(state_names[0]) || !state_names[s])
		return "TASK_UNKNOWN";
	return state_names[s];
}

static char *ranges_text(const struct px_range *r, size_t n)
{
	size_t cap = 2 + n * 44, len = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	s[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len +=
		    (size_t)snprintf(s + len, cap - len, "%s%llu-%llu", i ? ", " : "",
		                     (unsigned long long)r[i].begin, (unsigned long long)r[i].end);
	snprintf(s + len, cap - len, "]");
	return s;
}

static char *set_text(const char *const *items, size_t n)
{
	size_t cap = 3;
	for (size_t i = 0; i < n; i++)
		cap += strlen(items[i]) + 2;
	char *s = malloc(cap);
	if (s == NULL)
		return NULL;
	size_t len = 0;
	s[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", items[i]);
	snprintf(s + len, cap - len, "}");
	return s;
}

/* Mesos's model(Resources): scalars summed per name, ranges and sets as text. */
static json_t *resources_model(const px_resources *rs)
{
	json_t *o = json_object();
	px_resources *flat = NULL;

	json_object_set_new(o, "cpus", json_real(0));
	json_object_set_new(o, "gpus", json_real(0));
	json_object_set_new(o, "mem", json_real(0));
	json_object_set_new(o, "disk", json_real(0));
	if (rs == NULL || px_resources_flatten(rs, &flat) != PX_OK)
		return o;
	for (size_t i = 0; i < px_resources_size(flat); i++) {
		const struct px_resource *r = px_resources_at(flat, i);
		const char *name = px_resource_name(r);
		size_t n;
		char *text = NULL;
		switch (px_resource_type(r)) {
		case PX_SCALAR: {
			json_t *cur = json_object_get(o, name);
			double v = (double)px_resource_scalar(r) / 1000.0;
			json_object_set_new(o, name,
			                    json_real(v + (cur ? json_number_value(cur) : 0)));
			break;
		}
		case PX_RANGES: {
			const struct px_range *rg = px_resource_ranges(r, &n);
			text = ranges_text(rg, n);
			break;
		}
		case PX_SET: {
			const char *const *items = px_resource_items(r, &n);
			text = set_text(items, n);
			break;
		}
		}
		if (text != NULL)
			json_object_set_new(o, name, json_string(text));
		free(text);
	}
	px_resources_free(flat);
	return o;
}

static json_t *full(const px_resources *rs)
{
	json_t *a = rs ? px_resources_to_json(rs) : NULL;
	return a ? a : json_array();
}

static json_t *str_or_empty(const char *s)
{
	return json_string(s ? s : "");
}

static json_t *task_json(const struct mst_task *t, const char *role)
{
	json_t *o = json_object();
	json_t *statuses = json_array();

	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "framework_id", json_string(t->framework_id));
	json_object_set_new(o, "executor_id", str_or_empty(t->executor_id));
	json_object_set_new(o, "slave_id", json_string(t->agent_id));
	json_object_set_new(o, "state", json_string(state_name(t->state)));
	json_object_set_new(o, "resources", resources_model(t->resources));
	json_object_set_new(o, "role", json_string(role));
	for (size_t i = 0; i < t->n_states; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "state", json_string(state_name(t->states[i])));
		json_object_set_new(s, "timestamp", json_real(t->times[i]));
		json_array_append_new(statuses, s);
	}
	json_object_set_new(o, "statuses", statuses);
	return o;
}

static json_t *offer_json(const struct mst_offer *o)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_string(o->id));
	json_object_set_new(j, "framework_id", json_string(o->framework_id));
	json_object_set_new(j, "slave_id", json_string(o->agent_id));
	json_object_set_new(j, "resources", resources_model(o->resources));
	return j;
}

static json_t *framework_json(struct master *m, const struct mst_framework *fw)
{
	json_t *o = json_object();
	const Plexus__FrameworkInfo *info = fw->info;
	json_t *tasks = json_array(), *unreachable = json_array(), *completed = json_array();
	json_t *offers = json_array(), *caps = json_array(), *roles = json_array();
	int64_t counts[16] = {0};

	json_object_set_new(o, "id", json_string(fw->id));
	json_object_set_new(o, "name", json_string(info->name));
	json_object_set_new(o, "user", json_string(info->user));
	json_object_set_new(o, "pid",
	                    json_string(actor_pid_is_none(fw->pid) ? "" : actor_pid_str(fw->pid)));
	json_object_set_new(o, "hostname", str_or_empty(info->hostname));
	json_object_set_new(o, "webui_url", str_or_empty(info->webui_url));
	json_object_set_new(o, "principal", str_or_empty(info->principal));
	json_object_set_new(o, "failover_timeout", json_real(info->failover_timeout));
	json_object_set_new(o, "checkpoint", json_boolean(info->checkpoint));
	json_object_set_new(o, "role", json_string(fw->role));
	for (size_t i = 0; i < info->n_roles; i++)
		json_array_append_new(roles, json_string(info->roles[i]));
	json_object_set_new(o, "roles", roles);
	for (size_t i = 0; i < info->n_capabilities; i++) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		    &plexus__framework_info__capability__type__descriptor,
		    info->capabilities[i]->type);
		if (v != NULL)
			json_array_append_new(caps, json_string(v->name));
	}
	json_object_set_new(o, "capabilities", caps);
	json_object_set_new(o, "active", json_boolean(fw->active));
	json_object_set_new(o, "connected", json_boolean(fw->connected));
	json_object_set_new(o, "recovered", json_boolean(fw->recovered));
	json_object_set_new(o, "registered_time", json_real(fw->registered_time));
	json_object_set_new(o, "reregistered_time", json_real(fw->reregistered_time));
	json_object_set_new(o, "unregistered_time", json_real(fw->unregistered_time));
	json_object_set_new(o, "used_resources", resources_model(fw->used));
	json_object_set_new(o, "offered_resources", resources_model(fw->offered));
	px_resources *res = px_resources_copy(fw->used);
	if (res != NULL)
		px_resources_add(res, fw->offered);
	json_object_set_new(o, "resources", resources_model(res));
	px_resources_free(res);
	json_object_set_new(o, "used_resources_full", full(fw->used));
	json_object_set_new(o, "offered_resources_full", full(fw->offered));
	for (const struct mst_task *t = fw->tasks; t; t = t->next) {
		if (t->state >= 0 && t->state < 16)
			counts[t->state]++;
		json_array_append_new(t->state == PLEXUS__TASK_STATE__TASK_UNREACHABLE ? unreachable
		                                                                       : tasks,
		                      task_json(t, fw->role));
	}
	for (const struct mst_task *t = fw->completed; t; t = t->next) {
		if (t->state >= 0 && t->state < 16)
			counts[t->state]++;
		json_array_append_new(t->state == PLEXUS__TASK_STATE__TASK_UNREACHABLE ? unreachable
		                                                                       : completed,
		                      task_json(t, fw->role));
	}
	for (size_t s = 0; s < sizeof(state_names) / sizeof(state_names[0]); s++)
		if (state_names[s])
			json_object_set_new(o, state_names[s], json_integer(counts[s]));
	for (const struct mst_offer *of = m->offers; of; of = of->next)
		if (strcmp(of->framework_id, fw->id) == 0)
			json_array_append_new(offers, offer_json(of));
	json_object_set_new(o, "tasks", tasks);
	json_object_set_new(o, "unreachable_tasks", unreachable);
	json_object_set_new(o, "completed_tasks", completed);
	json_object_set_new(o, "offers", offers);
	json_object_set_new(o, "executors", json_array());
	return o;
}

static json_t *attributes_model(const Plexus__AgentInfo *info)
{
	json_t *o = json_object();

	for (size_t i = 0; i < info->n_attributes; i++) {
		const Plexus__Attribute *a = info->attributes[i];
		json_t *full_attr = px_pb_to_json(&a->base);
		json_t *v = NULL;
		if (a->scalar)
			v = json_real(a->scalar->value);
		else if (a->text && a->text->value)
			v = json_string(a->text->value);
		else if (full_attr != NULL) /* ranges and sets: their JSON form */
			v = json_incref(json_object_get(full_attr, a->ranges ? "ranges" : "set"));
		if (v != NULL)
			json_object_set_new(o, a->name, v);
		json_decref(full_attr);
	}
	return o;
}

static json_t *reserved_model(const px_resources *total)
{
	json_t *o = json_object();
	px_resources *reserved = NULL;

	if (px_resources_reserved(total, NULL, &reserved) != PX_OK)
		return o;
	for (size_t i = 0; i < px_resources_size(reserved); i++) {
		const char *role = px_resource_role(px_resources_at(reserved, i));
		if (json_object_get(o, role) != NULL)
			continue;
		px_resources *mine = NULL;
		if (px_resources_reserved(reserved, role, &mine) == PX_OK)
			json_object_set_new(o, role, resources_model(mine));
		px_resources_free(mine);
	}
	px_resources_free(reserved);
	return o;
}

static json_t *agent_json(const struct mst_agent *a)
{
	json_t *o = json_object();
	px_resources *unreserved = NULL, *reserved = NULL;

	json_object_set_new(o, "id", json_string(a->id));
	json_object_set_new(o, "pid", json_string(actor_pid_str(a->pid)));
	json_object_set_new(o, "hostname", json_string(a->info->hostname));
	json_object_set_new(o, "port", json_integer(a->info->has_port ? a->info->port : 5051));
	json_object_set_new(o, "registered_time", json_real(a->registered_time));
	if (a->reregistered_time > 0)
		json_object_set_new(o, "reregistered_time", json_real(a->reregistered_time));
	json_object_set_new(o, "version", json_string(a->version));
	json_object_set_new(o, "active", json_boolean(a->active));
	json_object_set_new(o, "connected", json_boolean(a->connected));
	json_object_set_new(o, "resources", resources_model(a->total));
	json_object_set_new(o, "used_resources", resources_model(a->used));
	json_object_set_new(o, "offered_resources", resources_model(a->offered));
	px_resources_unreserved(a->total, &unreserved);
	px_resources_reserved(a->total, NULL, &reserved);
	json_object_set_new(o, "unreserved_resources", resources_model(unreserved));
	json_object_set_new(o, "reserved_resources", reserved_model(a->total));
	json_object_set_new(o, "unreserved_resources_full", full(unreserved));
	json_object_set_new(o, "reserved_resources_full", full(reserved));
	json_object_set_new(o, "used_resources_full", full(a->used));
	json_object_set_new(o, "offered_resources_full", full(a->offered));
	json_object_set_new(o, "attributes", attributes_model(a->info));
	json_object_set_new(o, "capabilities", json_array());
	px_resources_free(unreserved);
	px_resources_free(reserved);
	return o;
}

static json_t *flags_json(const master_flags *f)
{
	json_t *o = json_object();
	char buf[32];

#define MS(name, v)                                                                                \
	(snprintf(buf, sizeof(buf), "%lldms", (long long)(v)),                                     \
	 json_object_set_new(o, name, json_string(buf)))
	json_object_set_new(o, "port", json_integer(f->port));
	json_object_set_new(o, "actor_port", json_integer(f->actor_port));
	json_object_set_new(o, "work_dir", str_or_empty(f->work_dir));
	MS("offer_timeout", f->offer_timeout_ms);
	MS("agent_ping_timeout", f->agent_ping_timeout_ms);
	json_object_set_new(o, "max_agent_ping_timeouts", json_integer(f->max_agent_ping_timeouts));
	MS("allocation_interval", f->allocation_interval_ms);
	MS("agent_reregister_timeout", f->agent_reregister_timeout_ms);
#undef MS
	return o;
}

static json_t *frameworks_array(struct master *m, const struct mst_framework *list)
{
	json_t *a = json_array();

	for (const struct mst_framework *f = list; f; f = f->next)
		json_array_append_new(a, framework_json(m, f));
	return a;
}

static json_t *agents_array(struct master *m)
{
	json_t *a = json_array();

	for (const struct mst_agent *g = m->agents; g; g = g->next)
		json_array_append_new(a, agent_json(g));
	return a;
}

/* ---- GET /master/state, written straight into one buffer ----
 *
 * With 10,000 agents and 100,000 tasks the answer is ~50 MB; building it as a jansson
 * tree, dumping and freeing it took seconds of the master's time. The writer
 * (common/json_writer.h) gives the same bytes as the jansson tree functions above,
 * which /master/frameworks, /master/slaves and /master/tasks still use. */

struct model_entry {
	const char *name;
	double value;
	char *text; /* ranges and sets; NULL for a scalar */
};

/* resources_model, streamed: the same members in the same order, a later resource of a
 * name replacing (or, for scalars, adding to) the earlier one in place as
 * json_object_set_new does. */
static void w_resources_model(px_jw *w, const char *key, const px_resources *rs)
{
	px_resources *flat = NULL;
	struct model_entry fixed[4] = {
	    {"cpus", 0, NULL}, {"gpus", 0, NULL}, {"mem", 0, NULL}, {"disk", 0, NULL}};
	struct model_entry *e = fixed;
	size_t n = 4;

	if (rs != NULL && px_resources_flatten(rs, &flat) == PX_OK) {
		size_t size = px_resources_size(flat);
		if (size > 0) {
			e = malloc((4 + size) * sizeof(*e));
			if (e == NULL) {
				w->oom = true;
				e = fixed;
			} else {
				memcpy(e, fixed, sizeof(fixed));
			}
		}
		for (size_t i = 0; e != fixed && i < size; i++) {
			const struct px_resource *r = px_resources_at(flat, i);
			const char *name = px_resource_name(r);
			struct model_entry *cur = NULL;
			size_t k;
			char *text = NULL;
			for (k = 0; k < n && cur == NULL; k++)
				if (strcmp(e[k].name, name) == 0)
					cur = &e[k];
			switch (px_resource_type(r)) {
			case PX_SCALAR: {
				double v = (double)px_resource_scalar(r) / 1000.0;
				double before = cur && cur->text == NULL ? cur->value : 0;
				if (cur == NULL)
					cur = &e[n++];
				else
					free(cur->text);
				*cur = (struct model_entry){name, v + before, NULL};
				continue;
			}
			case PX_RANGES: {
				const struct px_range *rg = px_resource_ranges(r, &k);
				text = ranges_text(rg, k);
				break;
			}
			case PX_SET: {
				const char *const *items = px_resource_items(r, &k);
				text = set_text(items, k);
				break;
			}
			}
			if (text == NULL)
				continue;
			if (cur == NULL)
				cur = &e[n++];
			else
				free(cur->text);
			*cur = (struct model_entry){name, 0, text};
		}
	}
	if (px_jw_key_object(w, key)) {
		for (size_t i = 0; i < n; i++) {
			if (e[i].text != NULL)
				px_jw_kv_string(w, e[i].name, e[i].text);
			else
				px_jw_kv_real(w, e[i].name, e[i].value);
		}
		px_jw_object_end(w);
	}
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	if (e != fixed)
		free(e);
	px_resources_free(flat);
}

static void w_full(px_jw *w, const char *key, const px_resources *rs)
{
	json_t *a = full(rs);

	px_jw_kv_json(w, key, a);
	json_decref(a);
}

static void w_task(px_jw *w, const struct mst_task *t, const char *role)
{
	px_jw_object_begin(w);
	px_jw_kv_string(w, "id", t->id);
	px_jw_kv_string(w, "name", t->name);
	px_jw_kv_string(w, "framework_id", t->framework_id);
	px_jw_kv_string(w, "executor_id", t->executor_id ? t->executor_id : "");
	px_jw_kv_string(w, "slave_id", t->agent_id);
	px_jw_kv_string(w, "state", state_name(t->state));
	w_resources_model(w, "resources", t->resources);
	px_jw_kv_string(w, "role", role);
	if (px_jw_key_array(w, "statuses")) {
		for (size_t i = 0; i < t->n_states; i++) {
			px_jw_object_begin(w);
			px_jw_kv_string(w, "state", state_name(t->states[i]));
			px_jw_kv_real(w, "timestamp", t->times[i]);
			px_jw_object_end(w);
		}
		px_jw_array_end(w);
	}
	px_jw_object_end(w);
}

static void w_offer(px_jw *w, const struct mst_offer *o)
{
	px_jw_object_begin(w);
	px_jw_kv_string(w, "id", o->id);
	px_jw_kv_string(w, "framework_id", o->framework_id);
	px_jw_kv_string(w, "slave_id", o->agent_id);
	w_resources_model(w, "resources", o->resources);
	px_jw_object_end(w);
}

/* Writes the tasks of list whose state is (unreachable) or is not (!unreachable)
 * TASK_UNREACHABLE, under key. */
static void w_tasks(px_jw *w, const char *key, const struct mst_task *list, bool unreachable,
                    const char *role)
{
	if (!px_jw_key_array(w, key))
		return;
	for (const struct mst_task *t = list; t; t = t->next)
		if ((t->state == PLEXUS__TASK_STATE__TASK_UNREACHABLE) == unreachable)
			w_task(w, t, role);
	px_jw_array_end(w);
}

static void w_framework(px_jw *w, struct master *m, const struct mst_framework *fw)
{
	const Plexus__FrameworkInfo *info = fw->info;
	int64_t counts[16] = {0};

	px_jw_object_begin(w);
	px_jw_kv_string(w, "id", fw->id);
	px_jw_kv_string(w, "name", info->name);
	px_jw_kv_string(w, "user", info->user);
	px_jw_kv_string(w, "pid", actor_pid_is_none(fw->pid) ? "" : actor_pid_str(fw->pid));
	px_jw_kv_string(w, "hostname", info->hostname ? info->hostname : "");
	px_jw_kv_string(w, "webui_url", info->webui_url ? info->webui_url : "");
	px_jw_kv_string(w, "principal", info->principal ? info->principal : "");
	px_jw_kv_real(w, "failover_timeout", info->failover_timeout);
	px_jw_kv_bool(w, "checkpoint", info->checkpoint);
	px_jw_kv_string(w, "role", fw->role);
	if (px_jw_key_array(w, "roles")) {
		for (size_t i = 0; i < info->n_roles; i++)
			px_jw_string(w, info->roles[i]);
		px_jw_array_end(w);
	}
	if (px_jw_key_array(w, "capabilities")) {
		for (size_t i = 0; i < info->n_capabilities; i++) {
			const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			    &plexus__framework_info__capability__type__descriptor,
			    info->capabilities[i]->type);
			if (v != NULL)
				px_jw_string(w, v->name);
		}
		px_jw_array_end(w);
	}
	px_jw_kv_bool(w, "active", fw->active);
	px_jw_kv_bool(w, "connected", fw->connected);
	px_jw_kv_bool(w, "recovered", fw->recovered);
	px_jw_kv_real(w, "registered_time", fw->registered_time);
	px_jw_kv_real(w, "reregistered_time", fw->reregistered_time);
	px_jw_kv_real(w, "unregistered_time", fw->unregistered_time);
	w_resources_model(w, "used_resources", fw->used);
	w_resources_model(w, "offered_resources", fw->offered);
	px_resources *res = px_resources_copy(fw->used);
	if (res != NULL)
		px_resources_add(res, fw->offered);
	w_resources_model(w, "resources", res);
	px_resources_free(res);
	w_full(w, "used_resources_full", fw->used);
	w_full(w, "offered_resources_full", fw->offered);
	for (int pass = 0; pass < 2; pass++)
		for (const struct mst_task *t = pass ? fw->completed : fw->tasks; t; t = t->next)
			if (t->state >= 0 && t->state < 16)
				counts[t->state]++;
	for (size_t s = 0; s < sizeof(state_names) / sizeof(state_names[0]); s++)
		if (state_names[s])
			px_jw_kv_integer(w, state_names[s], counts[s]);
	w_tasks(w, "tasks", fw->tasks, false, fw->role);
	/* The tree version appends the unreachable ones of both lists, live tasks first. */
	if (px_jw_key_array(w, "unreachable_tasks")) {
		for (int pass = 0; pass < 2; pass++)
			for (const struct mst_task *t = pass ? fw->completed : fw->tasks; t;
			     t = t->next)
				if (t->state == PLEXUS__TASK_STATE__TASK_UNREACHABLE)
					w_task(w, t, fw->role);
		px_jw_array_end(w);
	}
	w_tasks(w, "completed_tasks", fw->completed, false, fw->role);
	if (px_jw_key_array(w, "offers")) {
		for (const struct mst_offer *of = m->offers; of; of = of->next)
			if (strcmp(of->framework_id, fw->id) == 0)
				w_offer(w, of);
		px_jw_array_end(w);
	}
	if (px_jw_key_array(w, "executors"))
		px_jw_array_end(w);
	px_jw_object_end(w);
}

static void w_reserved_model(px_jw *w, const char *key, const px_resources *total)
{
	px_resources *reserved = NULL;

	if (!px_jw_key_object(w, key))
		return;
	if (px_resources_reserved(total, NULL, &reserved) == PX_OK) {
		size_t n = px_resources_size(reserved);
		for (size_t i = 0; i < n; i++) {
			const char *role = px_resource_role(px_resources_at(reserved, i));
			bool seen = false;
			for (size_t k = 0; k < i && !seen; k++)
				seen = strcmp(px_resource_role(px_resources_at(reserved, k)),
				              role) == 0;
			if (seen)
				continue;
			px_resources *mine = NULL;
			if (px_resources_reserved(reserved, role, &mine) == PX_OK)
				w_resources_model(w, role, mine);
			px_resources_free(mine);
		}
	}
	px_resources_free(reserved);
	px_jw_object_end(w);
}

static void w_agent(px_jw *w, const struct mst_agent *a)
{
	px_resources *unreserved = NULL, *reserved = NULL;

	px_jw_object_begin(w);
	px_jw_kv_string(w, "id", a->id);
	px_jw_kv_string(w, "pid", actor_pid_str(a->pid));
	px_jw_kv_string(w, "hostname", a->info->hostname);
	px_jw_kv_integer(w, "port", a->info->has_port ? a->info->port : 5051);
	px_jw_kv_real(w, "registered_time", a->registered_time);
	if (a->reregistered_time > 0)
		px_jw_kv_real(w, "reregistered_time", a->reregistered_time);
	px_jw_kv_string(w, "version", a->version);
	px_jw_kv_bool(w, "active", a->active);
	px_jw_kv_bool(w, "connected", a->connected);
	w_resources_model(w, "resources", a->total);
	w_resources_model(w, "used_resources", a->used);
	w_resources_model(w, "offered_resources", a->offered);
	px_resources_unreserved(a->total, &unreserved);
	px_resources_reserved(a->total, NULL, &reserved);
	w_resources_model(w, "unreserved_resources", unreserved);
	w_reserved_model(w, "reserved_resources", a->total);
	w_full(w, "unreserved_resources_full", unreserved);
	w_full(w, "reserved_resources_full", reserved);
	w_full(w, "used_resources_full", a->used);
	w_full(w, "offered_resources_full", a->offered);
	json_t *attrs = attributes_model(a->info);
	px_jw_kv_json(w, "attributes", attrs);
	json_decref(attrs);
	if (px_jw_key_array(w, "capabilities"))
		px_jw_array_end(w);
	px_jw_object_end(w);
	px_resources_free(unreserved);
	px_resources_free(reserved);
}

/* The /master/state answer as text (the caller frees it), or NULL out of memory. */
static char *state_text(struct master *m, size_t *len)
{
	Plexus__MasterInfo *info = mst_master_info_new(m);
	int active = 0, inactive = 0;
	char pid[ACTOR_PID_TEXT_MAX];
	px_jw w;

	px_jw_init(&w, 1 << 16);
	for (const struct mst_agent *g = m->agents; g; g = g->next)
		g->active ? active++ : inactive++;
	actor_pid_format(m->self, pid, sizeof(pid));
	px_jw_object_begin(&w);
	px_jw_kv_string(&w, "version", MASTER_VERSION);
	px_jw_kv_string(&w, "id", m->id);
	px_jw_kv_string(&w, "pid", pid);
	px_jw_kv_string(&w, "hostname", m->hostname);
	px_jw_kv_real(&w, "start_time", m->start_time);
	px_jw_kv_real(&w, "elected_time", m->start_time);
	px_jw_kv_integer(&w, "activated_slaves", active);
	px_jw_kv_integer(&w, "deactivated_slaves", inactive);
	px_jw_kv_integer(&w, "unreachable_slaves", (json_int_t)m->n_unreachable);
	px_jw_kv_string(&w, "leader", pid);
	if (info != NULL) {
		json_t *li = px_pb_to_json(&info->base);
		px_jw_kv_json(&w, "leader_info", li);
		json_decref(li);
	}
	mst_pb_free(info);
	json_t *flags = flags_json(&m->flags);
	px_jw_kv_json(&w, "flags", flags);
	json_decref(flags);
	if (px_jw_key_array(&w, "slaves")) {
		for (const struct mst_agent *g = m->agents; g; g = g->next)
			w_agent(&w, g);
		px_jw_array_end(&w);
	}
	if (px_jw_key_array(&w, "recovered_slaves"))
		px_jw_array_end(&w);
	for (int pass = 0; pass < 2; pass++) {
		if (!px_jw_key_array(&w, pass ? "completed_frameworks" : "frameworks"))
			continue;
		for (const struct mst_framework *f = pass ? m->completed_frameworks : m->frameworks;
		     f; f = f->next)
			w_framework(&w, m, f);
		px_jw_array_end(&w);
	}
	if (px_jw_key_array(&w, "orphan_tasks"))
		px_jw_array_end(&w);
	if (px_jw_key_array(&w, "unregistered_frameworks"))
		px_jw_array_end(&w);
	px_jw_object_end(&w);
	return px_jw_finish(&w, len);
}

/* ---- responses ---- */

static actor_future *reply_json(int status, json_t *o)
{
	char *text = o ? json_dumps(o, PX_JSON_DUMP_FLAGS) : NULL;

	json_decref(o);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory", 13);
	actor_future *f = actor_http_reply(status, "application/json", text, strlen(text));
	free(text);
	return f;
}

static actor_future *reply_text(int status, const char *text)
{
	size_t len = strlen(text);
	actor_http_response *res = actor_http_response_alloc(status, "text/plain", text, len);

	/* libactor's server sends no Content-Length for an empty body, so a client waits
	 * for the connection to close; say it here. */
	if (res != NULL && len == 0)
		actor_http_response_header(res, "Content-Length", "0");
	return actor_http_respond(res);
}

static actor_future *bad_request(struct master *m, const char *why)
{
	actor_counter_inc(m->metrics.http_bad_requests);
	return reply_text(400, why);
}

static bool is_get(const actor_http_request *req)
{
	return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static actor_future *state(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);

	if (!is_get(req))
		return reply_text(405, "use GET");
	mst_master_update_gauges(m);
	size_t len = 0;
	char *text = state_text(m, &len);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory", 13);
	actor_future *f = actor_http_reply(200, "application/json", text, len);
	free(text);
	return f;
}

static actor_future *frameworks(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	json_t *o = json_object();

	if (!is_get(req)) {
		json_decref(o);
		return reply_text(405, "use GET");
	}
	json_object_set_new(o, "frameworks", frameworks_array(m, m->frameworks));
	json_object_set_new(o, "completed_frameworks",
	                    frameworks_array(m, m->completed_frameworks));
	json_object_set_new(o, "unregistered_frameworks", json_array());
	return reply_json(200, o);
}

static actor_future *slaves(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	json_t *o = json_object();

	if (!is_get(req)) {
		json_decref(o);
		return reply_text(405, "use GET");
	}
	json_object_set_new(o, "slaves", agents_array(m));
	json_object_set_new(o, "recovered_slaves", json_array());
	return reply_json(200, o);
}

/* The value of key in an application/x-www-form-urlencoded text, decoded into out.
 * Returns false when absent or malformed. */
static bool form_value(const char *text, size_t len, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = 0;
			for (const char *q = p + klen + 1; q < stop; q++) {
				char c = *q;
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (stop - q < 3 || !isxdigit((unsigned char)q[1]) ||
					    !isxdigit((unsigned char)q[2]))
						return false;
					char hex[3] = {q[1], q[2], 0};
					c = (char)strtol(hex, NULL, 16);
					q += 2;
				}
				if (n + 1 >= outlen || c == '\0')
					return false;
				out[n++] = c;
			}
			out[n] = '\0';
			return n > 0;
		}
		p = stop + 1;
	}
	return false;
}

static long query_long(const char *query, const char *key, long dflt)
{
	char buf[32];
	char *end;

	if (!form_value(query, strlen(query), key, buf, sizeof(buf)))
		return dflt;
	long v = strtol(buf, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}

struct task_ref {
	const struct mst_task *t;
	const char *role;
};

static int by_start(const void *a, const void *b)
{
	double x = ((const struct task_ref *)a)->t->staged_time;
	double y = ((const struct task_ref *)b)->t->staged_time;
	return x < y ? -1 : x > y ? 1 : 0;
}

/* Mesos's /master/tasks: every task the master knows, of completed frameworks too,
 * filtered by framework_id and task_id, in order of start time (order=asc|desc), then
 * offset and limit (default 100). */
static actor_future *tasks(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	char fw_id[256] = "", task_id[256] = "", order[8] = "asc";

	if (!is_get(req))
		return reply_text(405, "use GET");
	long limit = query_long(req->query, "limit", 100);
	long offset = query_long(req->query, "offset", 0);
	if (limit < 0 || offset < 0)
		return bad_request(m, "limit and offset must be non-negative integers");
	form_value(req->query, strlen(req->query), "framework_id", fw_id, sizeof(fw_id));
	form_value(req->query, strlen(req->query), "task_id", task_id, sizeof(task_id));
	form_value(req->query, strlen(req->query), "order", order, sizeof(order));
	if (strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
		return bad_request(m, "order must be 'asc' or 'desc'");
	size_t n = 0, cap = 64;
	struct task_ref *refs = malloc(cap * sizeof(*refs));
	for (int fpass = 0; fpass < 2 && refs != NULL; fpass++)
		for (const struct mst_framework *f = fpass ? m->completed_frameworks : m->frameworks;
		     f && refs != NULL; f = f->next) {
			if (fw_id[0] != '\0' && strcmp(f->id, fw_id) != 0)
				continue;
			for (int pass = 0; pass < 2 && refs != NULL; pass++)
				for (const struct mst_task *t = pass ? f->completed : f->tasks; t;
				     t = t->next) {
					if (task_id[0] != '\0' && strcmp(t->id, task_id) != 0)
						continue;
					if (n == cap) {
						struct task_ref *more =
						    realloc(refs, (cap *= 2) * sizeof(*refs));
						if (more == NULL) {
							free(refs);
							refs = NULL;
							break;
						}
						refs = more;
					}
					refs[n++] = (struct task_ref){t, f->role};
				}
		}
	if (refs == NULL)
		return actor_http_reply(500, "text/plain", "out of memory", 13);
	qsort(refs, n, sizeof(*refs), by_start);
	json_t *arr = json_array();
	for (long i = offset; i < (long)n && (long)json_array_size(arr) < limit; i++) {
		const struct task_ref *r = &refs[strcmp(order, "desc") == 0 ? (long)n - 1 - i : i];
		json_array_append_new(arr, task_json(r->t, r->role));
	}
	free(refs);
	json_t *o = json_object();
	json_object_set_new(o, "tasks", arr);
	return reply_json(200, o);
}

/* The framework id of a teardown request: a form field, a query parameter, or JSON. */
static const char *teardown_target(const actor_http_request *req, char *id, size_t idlen)
{
	const char *body = (const char *)req->body;
	size_t len = req->body_len;
	size_t i = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && body[i] == '{') {
		json_error_t jerr;
		json_t *o = json_loadb(body, len, 0, &jerr);
		static char why[256];
		if (o == NULL) {
			snprintf(why, sizeof(why), "Failed to parse the JSON body: %s", jerr.text);
			return why;
		}
		json_t *v = json_object_get(o, "frameworkId");
		json_t *fid = json_object_get(o, "framework_id");
		if (v == NULL && json_is_object(fid))
			v = json_object_get(fid, "value");
		bool ok =
		    json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < idlen;
		if (ok)
			snprintf(id, idlen, "%s", json_string_value(v));
		json_decref(o);
		return ok ? NULL
		          : "JSON body must be {\"framework_id\": {\"value\": \"<id>\"}} or "
		            "{\"frameworkId\": \"<id>\"}";
	}
	if (len > 0 && form_value(body, len, "frameworkId", id, idlen))
		return NULL;
	if (form_value(req->query, strlen(req->query), "frameworkId", id, idlen))
		return NULL;
	return len > 0 ? "Unable to read 'frameworkId' from the body (expected "
	                 "frameworkId=<id> or a JSON object)"
	               : "Missing 'frameworkId' query parameter or body";
}

static actor_future *teardown(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	char id[256];

	if (strcmp(req->method, "POST") != 0)
		return reply_text(405, "use POST");
	const char *bad = teardown_target(req, id, sizeof(id));
	if (bad != NULL)
		return bad_request(m, bad);
	struct mst_framework *fw = mst_framework_find(m, id);
	if (fw == NULL)
		return bad_request(m, "No framework found with specified ID");
	if (fw->connected) {
		Plexus__Internal__FrameworkErrorMessage err =
		    PLEXUS__INTERNAL__FRAMEWORK_ERROR_MESSAGE__INIT;
		err.message = "Framework removed by the operator";
		actor_send_pb(self, fw->pid, &err.base);
	}
	mst_framework_remove(self, m, fw, "teardown by the operator");
	return reply_text(200, "");
}

static actor_future *info(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	json_t *o = json_object();
	char pid[ACTOR_PID_TEXT_MAX], ip[INET_ADDRSTRLEN];
	struct in_addr in = {.s_addr = htonl(m->self.ip)};

	actor_pid_format(m->self, pid, sizeof(pid));
	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	json_object_set_new(o, "id", json_string(m->id));
	json_object_set_new(o, "pid", json_string(pid));
	json_object_set_new(o, "hostname", json_string(m->hostname));
	json_object_set_new(o, "ip", json_string(ip));
	json_object_set_new(o, "port", json_integer(actor_runtime_http_port()));
	json_object_set_new(o, "version", json_string(MASTER_VERSION));
	return reply_json(200, o);
}

/* /master/health (path "/health") and the prefix route /health (path "/"). */
static actor_future *health(actor_t *self, const actor_http_request *req, void *arg)
{
	if (strcmp(req->path, "/") != 0 && strcmp(req->path, "/health") != 0)
		return reply_text(404, "use /health");
	return reply_text(200, "");
}

int mst_http_install(actor_t *self)
{
	int rv = 0;

	rv |= actor_http_route(self, "/state", state, NULL);
	rv |= actor_http_route(self, "/state.json", state, NULL);
	rv |= actor_http_route(self, "/frameworks", frameworks, NULL);
	rv |= actor_http_route(self, "/slaves", slaves, NULL);
	rv |= actor_http_route(self, "/tasks", tasks, NULL);
	rv |= actor_http_route(self, "/teardown", teardown, NULL);
	rv |= actor_http_route(self, "/info", info, NULL);
	rv |= actor_http_route(self, "/health", health, NULL);
	/* GET /health too, outside the master's own paths. */
	rv |= actor_http_route_prefix(self, "/health", health, NULL);
	rv |= mst_operator_install(self); /* http_operator.c */
	return rv;
}
