/* mar_constraint.c — Marathon's placement constraints, judged against an offer's agent
 * and the tasks an app already has (see mar_state.h). */
#include <stdio.h>
#include <string.h>

#include "mar_state.h"

json_t *mar_offer_attributes(const Plexus__Offer *offer)
{
	json_t *out = json_object();
	char text[256];

	for (size_t i = 0; i < offer->n_attributes; i++) {
		const Plexus__Attribute *a = offer->attributes[i];
		text[0] = '\0';
		if (a->text != NULL && a->text->value != NULL) {
			snprintf(text, sizeof(text), "%s", a->text->value);
		} else if (a->scalar != NULL) {
			snprintf(text, sizeof(text), "%g", a->scalar->value);
		} else if (a->ranges != NULL) {
			size_t n = 0;
			for (size_t r = 0; r < a->ranges->n_range && n < sizeof(text); r++)
				n += (size_t)snprintf(
				    text + n, sizeof(text) - n, "%s%llu-%llu", r ? "," : "[",
				    (unsigned long long)a->ranges->range[r]->begin,
				    (unsigned long long)a->ranges->range[r]->end);
			if (n < sizeof(text) - 1)
				snprintf(text + n, sizeof(text) - n, "]");
		} else if (a->set != NULL) {
			size_t n = 0;
			for (size_t s = 0; s < a->set->n_item && n < sizeof(text); s++)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s",
				                      s ? "," : "{", a->set->item[s]);
			if (n < sizeof(text) - 1)
				snprintf(text + n, sizeof(text) - n, "}");
		}
		json_object_set_new(out, a->name, json_string(text));
	}
	return out;
}

const char *mar_offer_field(const char *hostname, const json_t *attrs, const char *field)
{
	if (strcmp(field, "hostname") == 0)
		return hostname;
	return json_string_value(json_object_get(attrs, field));
}

/* How many live tasks of e have this value of field. */
static int count_value(const struct mar_entry *e, const char *field, const char *value)
{
	int n = 0;
	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->killing)
			continue;
		const char *v = mar_offer_field(t->host, t->attrs, field);
		if (v != NULL && strcmp(v, value) == 0)
			n++;
	}
	return n;
}

/* GROUP_BY: the offer's group must be one of the least used, counting every group an
 * agent is known to have (with or without tasks), so that tasks spread evenly. */
static bool group_by_accepts(const struct mar_entry *e, const char *field, const char *value,
                             const json_t *agents)
{
	int mine = count_value(e, field, value);
	const char *id;
	json_t *a;
	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->killing)
			continue;
		const char *v = mar_offer_field(t->host, t->attrs, field);
		if (v != NULL && strcmp(v, value) != 0 && count_value(e, field, v) < mine)
			return false;
	}
	json_object_foreach((json_t *)agents, id, a)
	{
		const char *v = mar_offer_field(json_string_value(json_object_get(a, "hostname")),
		                                json_object_get(a, "attributes"), field);
		if (v != NULL && strcmp(v, value) != 0 && count_value(e, field, v) < mine)
			return false;
	}
	return true;
}

void mar_agent_seen(struct mar_state *st, const char *agent_id, const char *hostname,
                    const json_t *attrs)
{
	if (st->agents == NULL)
		st->agents = json_object();
	json_object_set_new(st->agents, agent_id,
	                    json_pack("{s:s, s:O}", "hostname", hostname, "attributes", attrs));
}

/* CLUSTER without a value: all tasks on the value of the first one. */
static bool cluster_accepts(const struct mar_entry *e, const struct mar_constraint *c,
                            const char *value)
{
	if (c->value[0] != '\0')
		return strcmp(value, c->value) == 0;
	for (const struct mar_task *t = e->tasks; t != NULL; t = t->next) {
		if (t->killing)
			continue;
		const char *v = mar_offer_field(t->host, t->attrs, c->field);
		return v != NULL && strcmp(v, value) == 0;
	}
	return true;
}

bool mar_constraints_accept(const struct mar_entry *e, const char *hostname, const json_t *attrs,
                            const json_t *agents)
{
	for (size_t i = 0; i < e->app->nconstraints; i++) {
		const struct mar_constraint *c = &e->app->constraints[i];
		const char *value = mar_offer_field(hostname, attrs, c->field);
		if (value == NULL) {
			/* An agent without the attribute satisfies only UNLIKE. */
			if (c->op == MAR_UNLIKE)
				continue;
			return false;
		}
		bool ok = true;
		switch (c->op) {
		case MAR_UNIQUE:
			ok = count_value(e, c->field, value) == 0;
			break;
		case MAR_CLUSTER:
			ok = cluster_accepts(e, c, value);
			break;
		case MAR_GROUP_BY:
			ok = group_by_accepts(e, c->field, value, agents);
			break;
		case MAR_LIKE:
			ok = regexec(&c->re, value, 0, NULL, 0) == 0;
			break;
		case MAR_UNLIKE:
			ok = regexec(&c->re, value, 0, NULL, 0) != 0;
			break;
		case MAR_MAX_PER:
			ok = count_value(e, c->field, value) < c->limit;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}
