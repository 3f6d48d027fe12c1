/* http_operator.c — the operator's endpoints for the allocator, in Mesos's shapes:
 *
 *   GET  /weights                 [{"role": "eng", "weight": 2.0}, ...]
 *   PUT  /weights                 the same array: sets those weights (others stay)
 *   GET  /quota                   {"infos": [{"role", "guarantee": [Resource], "limit": [...]}]}
 *   POST /quota                   {"role": "eng", "guarantee": [Resource...],
 *                                  "limit": [Resource...]} (or "guarantees"/"limits" as
 *                                  {"cpus": 1, "mem": 512}); replaces the role's quota
 *   DELETE /quota/<role>          removes it
 *   POST /master/reserve          slaveId=<id>&resources=<JSON array of Resource> as a
 *   POST /master/unreserve        form, or a JSON object {"slaveId", "resources"}: 202
 *   POST /master/create-volumes   the same with "volumes" (disk with a persistence id on
 *   POST /master/destroy-volumes  reserved disk): 202
 *   POST /machine/down            [{"hostname": "h", "ip": "10.0.0.1"}, ...]: agents on
 *   POST /machine/up              those machines stop (resume) being offered
 *   GET  /maintenance/status      {"down_machines": [...], "draining_machines": []}
 *   GET  /master/roles            {"roles": [{"name", "weight", "frameworks", "resources",
 *                                  "allocated", "offered", "reserved", "quota"}]}
 *
 * /weights, /quota, /machine and /maintenance lie outside the master's own paths: they are
 * prefix routes of the master (actor_http_route_prefix), so /quota/<role> needs no route
 * of its own. The master validates each request, writes the registry first, then tells
 * the allocator (allocator_link.h) and answers. Bad input gets 400 (409 when resources are
 * not available), a log line, and changes nothing. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/json_pb.h"
#include "master/allocator/allocator.h"
#include "master/allocator_link.h"
#include "master/master_internal.h"
#include "master/registrar.h"

/* ---- answers ------------------------------------------------------------------------ */

static actor_http_response *text_response(int status, const char *text)
{
	size_t len = strlen(text);
	actor_http_response *res = actor_http_response_alloc(status, "text/plain", text, len);

	if (res != NULL && len == 0)
		actor_http_response_header(res, "Content-Length", "0");
	return res;
}

static actor_http_response *json_response(int status, json_t *o)
{
	char *text = o ? json_dumps(o, PX_JSON_DUMP_FLAGS) : NULL;

	json_decref(o);
	if (text == NULL)
		return text_response(500, "out of memory");
	actor_http_response *res =
	    actor_http_response_alloc(status, "application/json", text, strlen(text));
	free(text);
	return res;
}

/* A 4xx with the reason, logged and counted. */
static actor_http_response *refuse(struct master *m, int status, const char *what, const char *why)
{
	actor_warn("master: %s refused: %s", what, why);
	actor_counter_inc(m->metrics.http_bad_requests);
	return text_response(status, why);
}

static json_t *parse_body(const actor_http_request *req, char *why, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb((const char *)req->body, req->body_len, 0, &jerr);

	if (o == NULL)
		snprintf(why, len, "Failed to parse the JSON body: %s", jerr.text);
	return o;
}

/* ---- weights ------------------------------------------------------------------------ */

static actor_http_response *weights_get(struct master *m)
{
	json_t *arr = json_array();
	const char *role;
	json_t *v;

	json_object_foreach((json_t *)mst_registrar_get(m->registrar, "weights"), role, v)
	{
		json_t *o = json_object();
		json_object_set_new(o, "role", json_string(role));
		json_object_set_new(o, "weight", json_real(json_number_value(v)));
		json_array_append_new(arr, o);
	}
	return json_response(200, arr);
}

static actor_http_response *weights_put(struct master *m, const actor_http_request *req)
{
	char why[512];
	json_t *body = parse_body(req, why, sizeof(why));
	json_t *next = NULL, *item;
	size_t i;

	if (body == NULL)
		return refuse(m, 400, "PUT /weights", why);
	if (!json_is_array(body)) {
		json_decref(body);
		return refuse(m, 400, "PUT /weights",
		              "Expected a JSON array of {\"role\": ..., \"weight\": ...}");
	}
	const json_t *cur = mst_registrar_get(m->registrar, "weights");
	next = cur ? json_deep_copy(cur) : json_object();
	json_array_foreach(body, i, item)
	{
		json_t *role = json_object_get(item, "role"), *w = json_object_get(item, "weight");
		double weight = json_number_value(w);
		if (!json_is_string(role) || !alloc_role_valid(json_string_value(role), true)) {
			snprintf(why, sizeof(why), "Entry %zu: missing or invalid 'role'", i);
			goto bad;
		}
		if (!json_is_number(w) || !(weight > 0) || !isfinite(weight)) {
			snprintf(why, sizeof(why),
			         "Entry %zu: 'weight' of role '%s' must be a positive number", i,
			         json_string_value(role));
			goto bad;
		}
		json_object_set_new(next, json_string_value(role), json_real(weight));
	}
	int rv = mst_registrar_put(m->registrar, "weights", json_incref(next));
	if (rv != 0) {
		json_decref(next);
		json_decref(body);
		return text_response(503, "Failed to write the registry");
	}
	json_array_foreach(body, i, item)
	{
		const char *role = json_string_value(json_object_get(item, "role"));
		double w = json_number_value(json_object_get(item, "weight"));
		actor_info("master: weight of role '%s' set to %g", role, w);
		mst_alloc_set_weight(m->alloc, role, w);
	}
	json_decref(next);
	json_decref(body);
	return text_response(200, "");
bad:
	json_decref(next);
	json_decref(body);
	return refuse(m, 400, "PUT /weights", why);
}

static actor_http_response *weights(struct master *m, const actor_http_request *req)
{
	if (strcmp(req->method, "GET") == 0)
		return weights_get(m);
	if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0)
		return weights_put(m, req);
	return text_response(405, "use GET or PUT");
}

/* ---- quota -------------------------------------------------------------------------- */

static actor_http_response *quota_get(struct master *m)
{
	json_t *infos = json_array(), *o = json_object();
	const char *role;
	json_t *v;

	json_object_foreach((json_t *)mst_registrar_get(m->registrar, "quotas"), role, v)
	{
		json_t *info = json_deep_copy(v);
		json_object_set_new(info, "role", json_string(role));
		json_array_append_new(infos, info);
	}
	json_object_set_new(o, "infos", infos);
	return json_response(200, o);
}

/* Scalar quantities from a Resource array or a {"name": value} object; NULL and a
 * reason in why when neither or not scalar. *out stays NULL for a missing field. */
static bool quantities(const json_t *v, const char *field, px_resources **out, char *why,
                       size_t len)
{
	char err[256];

	*out = NULL;
	if (v == NULL)
		return true;
	if (json_is_object(v)) {
		const char *name;
		json_t *x;
		*out = px_resources_new();
		json_object_foreach((json_t *)v, name, x)
		{
			int64_t milli;
			if (*out == NULL || !json_is_number(x) ||
			    px_scalar_from_double(json_number_value(x), &milli) != PX_OK ||
			    px_resources_add_scalar(*out, name, NULL, milli) != PX_OK) {
				snprintf(why, len, "'%s': '%s' must be a non-negative number",
				         field, name);
				goto bad;
			}
		}
		return true;
	}
	if (!json_is_array(v) || px_resources_from_json(v, out, err, sizeof(err)) != PX_OK) {
		snprintf(why, len, "'%s': %s", field,
		         json_is_array(v) ? err : "expected an array of Resource objects");
		goto bad;
	}
	for (size_t i = 0; i < px_resources_size(*out); i++) {
		const struct px_resource *r = px_resources_at(*out, i);
		if (px_resource_type(r) != PX_SCALAR || px_resource_is_reserved(r)) {
			snprintf(why, len,
			         "'%s': quota holds unreserved scalar resources only, not '%s'",
			         field, px_resource_name(r));
			goto bad;
		}
	}
	return true;
bad:
	px_resources_free(*out);
	*out = NULL;
	return false;
}

static actor_http_response *quota_post(struct master *m, const actor_http_request *req)
{
	char why[512];
	json_t *body = parse_body(req, why, sizeof(why));
	px_resources *g = NULL, *l = NULL;
	actor_http_response *res = NULL;

	if (body == NULL)
		return refuse(m, 400, "POST /quota", why);
	json_t *role = json_object_get(body, "role");
	json_t *gj = json_object_get(body, "guarantee");
	json_t *lj = json_object_get(body, "limit");
	if (gj == NULL)
		gj = json_object_get(body, "guarantees");
	if (lj == NULL)
		lj = json_object_get(body, "limits");
	if (!json_is_object(body) || !json_is_string(role) ||
	    !alloc_role_valid(json_string_value(role), false)) {
		res = refuse(m, 400, "POST /quota",
		             "Expected {\"role\": <valid role other than '*'>, \"guarantee\": "
		             "[...], \"limit\": [...]}");
		goto out;
	}
	if (!quantities(gj, "guarantee", &g, why, sizeof(why)) ||
	    !quantities(lj, "limit", &l, why, sizeof(why))) {
		res = refuse(m, 400, "POST /quota", why);
		goto out;
	}
	if (g == NULL && l == NULL) {
		res = refuse(m, 400, "POST /quota", "A quota needs a guarantee or a limit");
		goto out;
	}
	for (size_t i = 0; g != NULL && l != NULL && i < px_resources_size(g); i++) {
		const char *name = px_resource_name(px_resources_at(g, i));
		bool limited = false;
		for (size_t k = 0; k < px_resources_size(l); k++)
			limited |= strcmp(px_resource_name(px_resources_at(l, k)), name) == 0;
		if (limited && px_resources_scalar(g, name) > px_resources_scalar(l, name)) {
			snprintf(why, sizeof(why), "The guarantee of '%s' exceeds its limit", name);
			res = refuse(m, 400, "POST /quota", why);
			goto out;
		}
	}
	const json_t *cur = mst_registrar_get(m->registrar, "quotas");
	json_t *next = cur ? json_deep_copy(cur) : json_object();
	json_t *entry = json_object();
	json_object_set_new(entry, "guarantee", g ? px_resources_to_json(g) : json_array());
	if (l != NULL)
		json_object_set_new(entry, "limit", px_resources_to_json(l));
	json_object_set_new(next, json_string_value(role), entry);
	if (mst_registrar_put(m->registrar, "quotas", next) != 0) {
		res = text_response(503, "Failed to write the registry");
		goto out;
	}
	actor_info("master: quota of role '%s' set", json_string_value(role));
	mst_alloc_set_quota(m->alloc, json_string_value(role), g, l);
	mst_alloc_run(m->alloc);
	res = text_response(200, "");
out:
	px_resources_free(g);
	px_resources_free(l);
	json_decref(body);
	return res;
}

static actor_http_response *quota_delete(struct master *m, const char *role)
{
	const json_t *cur = mst_registrar_get(m->registrar, "quotas");

	if (json_object_get(cur, role) == NULL) {
		char why[300];
		snprintf(why, sizeof(why), "No quota set for role '%s'", role);
		return refuse(m, 400, "DELETE /quota", why);
	}
	json_t *next = json_deep_copy(cur);
	json_object_del(next, role);
	if (mst_registrar_put(m->registrar, "quotas", next) != 0)
		return text_response(503, "Failed to write the registry");
	actor_info("master: quota of role '%s' removed", role);
	mst_alloc_set_quota(m->alloc, role, NULL, NULL);
	mst_alloc_run(m->alloc);
	return text_response(200, "");
}

static actor_http_response *quota(struct master *m, const actor_http_request *req)
{
	if (strcmp(req->path, "/") != 0) {
		if (strcmp(req->method, "DELETE") != 0)
			return text_response(405, "use DELETE");
		return quota_delete(m, req->path + 1);
	}
	if (strcmp(req->method, "GET") == 0)
		return quota_get(m);
	if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0)
		return quota_post(m, req);
	return text_response(405, "use GET, POST or DELETE /quota/<role>");
}

/* ---- maintenance -------------------------------------------------------------------- */

static bool machine_matches(const json_t *mid, const struct mst_agent *ag)
{
	const char *host = json_string_value(json_object_get(mid, "hostname"));
	const char *ip = json_string_value(json_object_get(mid, "ip"));
	char agent_ip[32];

	snprintf(agent_ip, sizeof(agent_ip), "%u.%u.%u.%u", (ag->pid.ip >> 24) & 255,
	         (ag->pid.ip >> 16) & 255, (ag->pid.ip >> 8) & 255, ag->pid.ip & 255);
	if (host != NULL && host[0] && ag->info->hostname && strcmp(host, ag->info->hostname) == 0)
		return true;
	return ip != NULL && ip[0] && strcmp(ip, agent_ip) == 0;
}

bool mst_machine_is_down(struct master *m, const struct mst_agent *ag)
{
	size_t i;
	json_t *mid;

	json_array_foreach((json_t *)mst_registrar_get(m->registrar, "down_machines"), i, mid)
	{
		if (machine_matches(mid, ag))
			return true;
	}
	return false;
}

/* Equal strings, or both absent (json_equal says two absent values differ). */
static bool same_field(const json_t *a, const json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key));
	const char *y = json_string_value(json_object_get(b, key));

	return x == NULL || y == NULL ? x == y : strcmp(x, y) == 0;
}

static bool same_machine(const json_t *a, const json_t *b)
{
	return same_field(a, b, "hostname") && same_field(a, b, "ip");
}

static actor_http_response *machine(actor_t *self, struct master *m, const actor_http_request *req)
{
	bool down = strcmp(req->path, "/down") == 0;
	char why[512];
	size_t i, k;
	json_t *mid;

	if (!down && strcmp(req->path, "/up") != 0)
		return text_response(404, "use /machine/down or /machine/up");
	if (strcmp(req->method, "POST") != 0)
		return text_response(405, "use POST");
	json_t *body = parse_body(req, why, sizeof(why));
	if (body == NULL)
		return refuse(m, 400, req->path, why);
	bool ok = json_is_array(body) && json_array_size(body) > 0;
	json_array_foreach(body, i, mid)
	{
		json_t *h = json_object_get(mid, "hostname"), *ip = json_object_get(mid, "ip");
		ok &= json_is_object(mid) && (h == NULL || json_is_string(h)) &&
		      (ip == NULL || json_is_string(ip)) &&
		      (json_string_length(h) > 0 || json_string_length(ip) > 0);
	}
	if (!ok) {
		json_decref(body);
		return refuse(
		    m, 400, req->path,
		    "Expected a non-empty JSON array of {\"hostname\": ..., \"ip\": ...}");
	}
	const json_t *cur = mst_registrar_get(m->registrar, "down_machines");
	json_t *next = json_array();
	json_array_foreach((json_t *)cur, k, mid)
	{
		bool listed = false;
		json_t *x;
		json_array_foreach(body, i, x) listed |= same_machine(mid, x);
		if (down || !listed)
			json_array_append(next, mid);
	}
	if (down) {
		json_array_foreach(body, i, mid)
		{
			bool listed = false;
			json_t *x;
			json_array_foreach((json_t *)cur, k, x) listed |= same_machine(mid, x);
			if (!listed)
				json_array_append(next, mid);
		}
	}
	if (mst_registrar_put(m->registrar, "down_machines", next) != 0) {
		json_decref(body);
		return text_response(503, "Failed to write the registry");
	}
	/* Offers of the agents there go at once; a machine that comes up is offered in the
	 * next pass, which starts now. */
	for (struct mst_agent *ag = m->agents; ag; ag = ag->next) {
		bool hit = false;
		json_array_foreach(body, i, mid) hit |= machine_matches(mid, ag);
		if (!hit)
			continue;
		actor_info("master: agent %s (%s) %s maintenance", ag->id, ag->info->hostname,
		           down ? "under" : "out of");
		ag->maintenance = down;
		mst_alloc_agent_maintenance(m->alloc, ag->id, down);
		if (down)
			mst_offers_rescind(self, m, NULL, ag->id);
	}
	if (!down)
		mst_alloc_run(m->alloc);
	json_decref(body);
	return text_response(200, "");
}

/* Mesos's /maintenance/status: the machines down (none drain: there are no schedules). */
static actor_http_response *maintenance_status(struct master *m, const actor_http_request *req)
{
	if (strcmp(req->method, "GET") != 0)
		return text_response(405, "use GET");
	const json_t *down = mst_registrar_get(m->registrar, "down_machines");
	json_t *o = json_object();
	json_object_set_new(o, "down_machines", down ? json_deep_copy(down) : json_array());
	json_object_set_new(o, "draining_machines", json_array());
	return json_response(200, o);
}

/* ---- the routes outside /master ------------------------------------------------------ */

enum endpoint { EP_WEIGHTS, EP_QUOTA, EP_MACHINE, EP_MAINTENANCE };

/* /weights, /quota[/<role>], /machine/<up|down> and /maintenance/status: prefix routes of
 * the master, so that req->path is what follows the prefix. */
static actor_future *outside_route(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);
	actor_http_response *res = NULL;

	switch ((enum endpoint)(intptr_t)arg) {
	case EP_WEIGHTS:
		res = strcmp(req->path, "/") == 0 ? weights(m, req)
		                                  : text_response(404, "use /weights");
		break;
	case EP_QUOTA:
		res = quota(m, req);
		break;
	case EP_MACHINE:
		res = machine(self, m, req);
		break;
	case EP_MAINTENANCE:
		res = strcmp(req->path, "/status") == 0
		          ? maintenance_status(m, req)
		          : text_response(404, "use /maintenance/status");
		break;
	}
	return res != NULL ? actor_http_respond(res)
	                   : actor_http_reply(500, "text/plain", "out of memory", 13);
}

/* ---- /master/reserve, /unreserve, /create-volumes, /destroy-volumes ---------------- */

/* The value of key in an application/x-www-form-urlencoded text, decoded into a new
 * string (free()), or NULL when absent or malformed. */
static char *form_get(const char *text, size_t len, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			char *out = malloc((size_t)(stop - p) + 1);
			size_t n = 0;
			if (out == NULL)
				return NULL;
			for (const char *q = p + klen + 1; q < stop; q++) {
				char c = *q;
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (stop - q < 3 || !isxdigit((unsigned char)q[1]) ||
					    !isxdigit((unsigned char)q[2])) {
						free(out);
						return NULL;
					}
					char hex[3] = {q[1], q[2], 0};
					c = (char)strtol(hex, NULL, 16);
					q += 2;
				}
				out[n++] = c;
			}
			out[n] = '\0';
			return out;
		}
		p = stop + 1;
	}
	return NULL;
}

/* The operator operations, by what Mesos's endpoints call their resources. */
static const char *op_field(Plexus__Offer__Operation__Type type)
{
	return type == PLEXUS__OFFER__OPERATION__TYPE__CREATE ||
	               type == PLEXUS__OFFER__OPERATION__TYPE__DESTROY
	           ? "volumes"
	           : "resources";
}

static const char *op_name(Plexus__Offer__Operation__Type type)
{
	switch (type) {
	case PLEXUS__OFFER__OPERATION__TYPE__RESERVE:
		return "reserve";
	case PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE:
		return "unreserve";
	case PLEXUS__OFFER__OPERATION__TYPE__CREATE:
		return "create-volumes";
	default:
		return "destroy-volumes";
	}
}

/* Why r cannot take part in an operation of this type, or NULL: reservations must be
 * dynamic and for a valid role; volumes must have a persistence id and sit on reserved
 * disk (as Mesos requires). */
static const char *resource_unfit(const struct px_resource *r, Plexus__Offer__Operation__Type type)
{
	if (type == PLEXUS__OFFER__OPERATION__TYPE__RESERVE ||
	    type == PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE)
		return px_resource_is_dynamic(r) && alloc_role_valid(px_resource_role(r), false)
		           ? NULL
		           : "must carry a dynamic reservation for a valid role";
	if (strcmp(px_resource_name(r), "disk") != 0 || px_resource_persistence_id(r) == NULL)
		return "must be disk with a persistence id";
	return px_resource_is_reserved(r) ? NULL : "must be reserved disk";
}

/* Reads the agent id and the resources (or volumes) of an operator operation. Returns
 * NULL or the reason it cannot. */
static const char *operation_target(const actor_http_request *req,
                                    Plexus__Offer__Operation__Type type, char **agent_id,
                                    px_resources **res, char *why, size_t len)
{
	const char *field = op_field(type);
	const char *body = (const char *)req->body;
	size_t i = 0;
	json_t *doc = NULL, *resources = NULL;
	const char *bad = NULL;

	*agent_id = NULL;
	*res = NULL;
	while (i < req->body_len && isspace((unsigned char)body[i]))
		i++;
	if (i < req->body_len && body[i] == '{') {
		if ((doc = parse_body(req, why, len)) == NULL)
			return why;
		json_t *id = json_object_get(doc, "slaveId");
		if (id == NULL)
			id = json_object_get(doc, "agentId");
		if (id == NULL)
			id = json_object_get(json_object_get(doc, "slave_id"), "value");
		if (id == NULL)
			id = json_object_get(json_object_get(doc, "agent_id"), "value");
		if (json_is_string(id))
			*agent_id = strdup(json_string_value(id));
		resources = json_incref(json_object_get(doc, field));
	} else {
		*agent_id = form_get(body, req->body_len, "slaveId");
		char *text = form_get(body, req->body_len, field);
		json_error_t jerr;
		if (text != NULL && (resources = json_loads(text, 0, &jerr)) == NULL) {
			snprintf(why, len, "Failed to parse '%s': %s", field, jerr.text);
			bad = why;
		}
		free(text);
	}
	if (bad == NULL && (*agent_id == NULL || (*agent_id)[0] == '\0'))
		bad = "Missing 'slaveId'";
	else if (bad == NULL && !json_is_array(resources)) {
		snprintf(why, len, "Missing '%s' (a JSON array of Resource objects)", field);
		bad = why;
	} else if (bad == NULL) {
		char err[256];
		if (px_resources_from_json(resources, res, err, sizeof(err)) != PX_OK) {
			snprintf(why, len, "Invalid '%s': %s", field, err);
			bad = why;
		} else if (px_resources_is_empty(*res)) {
			snprintf(why, len, "'%s' is empty", field);
			bad = why;
		}
	}
	for (size_t k = 0; bad == NULL && k < px_resources_size(*res); k++) {
		const struct px_resource *r = px_resources_at(*res, k);
		const char *unfit = resource_unfit(r, type);
		if (unfit != NULL) {
			snprintf(why, len, "Resource '%s' %s", px_resource_name(r), unfit);
			bad = why;
		}
	}
	json_decref(resources);
	json_decref(doc);
	if (bad != NULL) {
		free(*agent_id);
		px_resources_free(*res);
		*agent_id = NULL;
		*res = NULL;
	}
	return bad;
}

/* The agent's dynamic reservations and persistent volumes, which it checkpoints. */
static bool checkpointed(const struct px_resource *r, void *arg)
{
	(void)arg;
	return px_resource_is_dynamic(r) || px_resource_persistence_id(r) != NULL;
}

static void send_checkpoint(actor_t *self, struct mst_agent *ag)
{
	px_resources *ck = NULL;
	Plexus__Resource **res = NULL;
	size_t n = 0;

	if (px_resources_filter(ag->total, checkpointed, NULL, &ck) != PX_OK)
		return;
	if (px_resources_to_pb(ck, PX_PB_REFINED, &res, &n) == PX_OK) {
		Plexus__Internal__CheckpointResourcesMessage msg =
		    PLEXUS__INTERNAL__CHECKPOINT_RESOURCES_MESSAGE__INIT;
		msg.resources = res;
		msg.n_resources = n;
		actor_send_pb(self, ag->pid, &msg.base);
		px_pb_resources_free(res, n);
	}
	px_resources_free(ck);
}

struct pending_op {
	actor_promise *promise;
	char *agent_id;
	Plexus__Offer__Operation op;
	Plexus__Offer__Operation__Reserve reserve;
	Plexus__Offer__Operation__Unreserve unreserve;
	Plexus__Offer__Operation__Create create;
	Plexus__Offer__Operation__Destroy destroy;
	Plexus__Resource **res;
	size_t n_res;
};

static void pending_free(struct pending_op *p)
{
	px_pb_resources_free(p->res, p->n_res);
	free(p->agent_id);
	actor_promise_free(p->promise);
	free(p);
}

static void answer(actor_promise *p, actor_http_response *res)
{
	if (res != NULL)
		actor_promise_set(p, res, actor_http_response_free_cb);
	else
		actor_promise_fail(p, ACTOR_ENOMEM, "out of memory");
}

/* The allocator's answer, back in the master: the books follow only when it applied. */
static void operation_done(actor_t *self, int rc, const char *err, void *arg)
{
	struct pending_op *p = arg;

	if (self == NULL) {
		actor_promise_fail(p->promise, ACTOR_ENOENT, "the master has ended");
		pending_free(p);
		return;
	}
	struct master *m = actor_state(self);
	const char *what = op_name(p->op.type);
	if (rc != 0) {
		char why[600];
		snprintf(why, sizeof(why), "Failed to %s on agent %s: %s", what, p->agent_id, err);
		answer(p->promise, refuse(m, 409, what, why));
		pending_free(p);
		return;
	}
	struct mst_agent *ag = mst_agent_find(m, p->agent_id);
	if (ag != NULL) {
		char e[256];
		if (px_resources_apply(ag->total, &p->op, e, sizeof(e)) == PX_OK)
			send_checkpoint(self, ag);
		else
			actor_error("master: %s on agent %s accepted by the allocator but not by "
			            "the master's books: %s",
			            what, ag->id, e);
	}
	actor_info("master: operator %s on agent %s done", what, p->agent_id);
	mst_alloc_run(m->alloc);
	answer(p->promise, text_response(202, ""));
	pending_free(p);
}

/* Whether op applies to what is neither used nor offered on the agent. */
static bool fits_free(const struct mst_agent *ag, const Plexus__Offer__Operation *op)
{
	px_resources *avail = px_resources_copy(ag->total);
	char err[256];
	bool ok = avail != NULL;

	if (ok) {
		px_resources_subtract(avail, ag->used);
		px_resources_subtract(avail, ag->offered);
		ok = px_resources_apply(avail, op, err, sizeof(err)) == PX_OK;
	}
	px_resources_free(avail);
	return ok;
}

/* Rescinds the agent's offers one by one until op fits in what is free, as Mesos
 * rescinds only the offers an operator's operation needs. */
static void rescind_for(actor_t *self, struct master *m, struct mst_agent *ag,
                        const Plexus__Offer__Operation *op)
{
	struct mst_offer *o = m->offers;

	while (o != NULL && !fits_free(ag, op)) {
		struct mst_offer *next = o->next;
		if (strcmp(o->agent_id, ag->id) == 0) {
			actor_counter_inc(m->metrics.offers_rescinded);
			mst_offer_remove(self, m, o, true, true);
		}
		o = next;
	}
	mst_master_update_gauges(m);
}

static actor_future *operation(actor_t *self, const actor_http_request *req,
                               Plexus__Offer__Operation__Type type)
{
	struct master *m = actor_state(self);
	const char *what = op_name(type);
	char why[1024], err[512];
	char *agent_id = NULL;
	px_resources *res = NULL;

	if (strcmp(req->method, "POST") != 0)
		return actor_http_reply(405, "text/plain", "use POST", 8);
	const char *bad = operation_target(req, type, &agent_id, &res, why, sizeof(why));
	if (bad != NULL)
		return actor_http_respond(refuse(m, 400, what, bad));
	struct mst_agent *ag = mst_agent_find(m, agent_id);
	struct pending_op *p = calloc(1, sizeof(*p));
	actor_future *f = NULL;
	if (ag == NULL) {
		f = actor_http_respond(refuse(m, 400, what, "No agent found with specified ID"));
		goto out;
	}
	if (p == NULL || (p->promise = actor_promise_alloc()) == NULL ||
	    (p->agent_id = strdup(agent_id)) == NULL ||
	    px_resources_to_pb(res, PX_PB_REFINED, &p->res, &p->n_res) != PX_OK) {
		f = actor_http_reply(500, "text/plain", "out of memory", 13);
		goto out;
	}
	plexus__offer__operation__init(&p->op);
	p->op.has_type = true;
	p->op.type = type;
	switch (type) {
	case PLEXUS__OFFER__OPERATION__TYPE__RESERVE:
		plexus__offer__operation__reserve__init(&p->reserve);
		p->reserve.resources = p->res;
		p->reserve.n_resources = p->n_res;
		p->op.reserve = &p->reserve;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__UNRESERVE:
		plexus__offer__operation__unreserve__init(&p->unreserve);
		p->unreserve.resources = p->res;
		p->unreserve.n_resources = p->n_res;
		p->op.unreserve = &p->unreserve;
		break;
	case PLEXUS__OFFER__OPERATION__TYPE__CREATE:
		plexus__offer__operation__create__init(&p->create);
		p->create.volumes = p->res;
		p->create.n_volumes = p->n_res;
		p->op.create = &p->create;
		break;
	default:
		plexus__offer__operation__destroy__init(&p->destroy);
		p->destroy.volumes = p->res;
		p->destroy.n_volumes = p->n_res;
		p->op.destroy = &p->destroy;
		break;
	}
	/* As Mesos: what tasks use cannot be taken; what is offered is rescinded when the
	 * operation needs it. */
	px_resources *avail = px_resources_copy(ag->total);
	if (avail == NULL) {
		f = actor_http_reply(500, "text/plain", "out of memory", 13);
		goto out;
	}
	px_resources_subtract(avail, ag->used);
	if (px_resources_apply(avail, &p->op, err, sizeof(err)) != PX_OK) {
		px_resources_free(avail);
		snprintf(why, sizeof(why), "Resources are not available on agent %s: %s", ag->id,
		         err);
		f = actor_http_respond(refuse(m, 409, what, why));
		goto out;
	}
	px_resources_free(avail);
	rescind_for(self, m, ag, &p->op);
	f = actor_promise_future(p->promise);
	mst_alloc_agent_apply(m->alloc, ag->id, &p->op, operation_done, p);
	p = NULL;
out:
	if (p != NULL)
		pending_free(p);
	free(agent_id);
	px_resources_free(res);
	return f;
}

/* arg is the operation's type. */
static actor_future *operation_route(actor_t *self, const actor_http_request *req, void *arg)
{
	return operation(self, req, (Plexus__Offer__Operation__Type)(intptr_t)arg);
}

static actor_future *roles_route(actor_t *self, const actor_http_request *req, void *arg)
{
	struct master *m = actor_state(self);

	(void)arg;
	if (strcmp(req->method, "GET") != 0)
		return actor_http_reply(405, "text/plain", "use GET", 7);
	return mst_alloc_roles_response(m->alloc);
}

int mst_operator_install(actor_t *self)
{
	int rv = 0;

#define OP(path, type)                                                                             \
	rv |= actor_http_route(self, path, operation_route,                                        \
	                       (void *)(intptr_t)PLEXUS__OFFER__OPERATION__TYPE__##type)
	OP("/reserve", RESERVE);
	OP("/unreserve", UNRESERVE);
	OP("/create-volumes", CREATE);
	OP("/destroy-volumes", DESTROY);
#undef OP
	rv |= actor_http_route(self, "/roles", roles_route, NULL);
	rv |=
	    actor_http_route_prefix(self, "/weights", outside_route, (void *)(intptr_t)EP_WEIGHTS);
	rv |= actor_http_route_prefix(self, "/quota", outside_route, (void *)(intptr_t)EP_QUOTA);
	rv |=
	    actor_http_route_prefix(self, "/machine", outside_route, (void *)(intptr_t)EP_MACHINE);
	rv |= actor_http_route_prefix(self, "/maintenance", outside_route,
	                              (void *)(intptr_t)EP_MAINTENANCE);
	return rv;
}
