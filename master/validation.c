/* validation.c — the checks an accept goes through before anything happens, with the
 * messages Mesos gives for them. Everything here only reads master state. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/master_internal.h"

const char *mst_validate_offers(struct master *m, struct mst_framework *fw,
                                Plexus__OfferID *const *ids, size_t n, struct mst_agent **ag,
                                char *buf, size_t buflen)
{
	struct mst_offer *first = NULL;

	*ag = NULL;
	if (n == 0)
		return "No offers specified";
	for (size_t i = 0; i < n; i++) {
		const char *id = ids[i]->value;
		struct mst_offer *o = mst_offer_find(m, id);
		if (o == NULL) {
			snprintf(buf, buflen, "Offer %s is no longer valid", id);
			return buf;
		}
		if (strcmp(o->framework_id, fw->id) != 0) {
			snprintf(buf, buflen,
			         "Offer %s has invalid framework %s while framework %s "
			         "is expected",
			         id, o->framework_id, fw->id);
			return buf;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(ids[j]->value, id) == 0) {
				snprintf(buf, buflen, "Duplicate offer %s in the accept", id);
				return buf;
			}
		}
		if (first == NULL) {
			first = o;
		} else if (strcmp(first->agent_id, o->agent_id) != 0) {
			snprintf(buf, buflen,
			         "Aggregated offers must belong to one single agent. "
			         "Offer %s uses agent %s and offer %s uses agent %s",
			         first->id, first->agent_id, o->id, o->agent_id);
			return buf;
		}
	}
	struct mst_agent *a = mst_agent_find(m, first->agent_id);
	if (a == NULL || !a->connected) {
		snprintf(buf, buflen, "Offer %s outlived agent %s", first->id, first->agent_id);
		return buf;
	}
	*ag = a;
	return NULL;
}

/* Mesos's rule for ids that become paths: not empty, not "." or "..", no '/', no
 * whitespace or control characters. */
static bool id_valid(const char *id)
{
	if (id == NULL || id[0] == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p == '/' || *p == '\\' || isspace(*p) || iscntrl(*p))
			return false;
	return true;
}

static bool executor_running(struct mst_framework *fw, struct mst_agent *ag,
                             const char *executor_id)
{
	for (struct mst_task *t = fw->tasks; t; t = t->next)
		if (t->executor_id && strcmp(t->executor_id, executor_id) == 0 &&
		    strcmp(t->agent_id, ag->id) == 0 && !px_task_state_is_terminal(t->state))
			return true;
	return false;
}

static const char *validate_command(const Plexus__CommandInfo *c, const char *what, char *buf,
                                    size_t buflen)
{
	bool shell = !c->has_shell || c->shell;

	if (shell && (c->value == NULL || c->value[0] == '\0')) {
		snprintf(buf, buflen, "%s: a shell command must have a value", what);
		return buf;
	}
	if (!shell && c->value == NULL) {
		snprintf(buf, buflen, "%s: a command must name the program to run", what);
		return buf;
	}
	return NULL;
}

/* Reads resources and drops their allocation marks: the master keeps its books in
 * unallocated form. */
static int read_resources(Plexus__Resource *const *res, size_t n, px_resources **out, char *err,
                          size_t errlen)
{
	px_resources *rs = NULL, *plain = NULL;
	int rv = px_resources_from_pb(res, n, &rs, err, errlen);

	if (rv != PX_OK)
		return rv;
	rv = px_resources_allocate(rs, NULL, &plain);
	px_resources_free(rs);
	if (rv == PX_OK)
		*out = plain;
	return rv;
}

const char *mst_validate_task(struct master *m, struct mst_framework *fw, struct mst_agent *ag,
                              const Plexus__TaskInfo *t, const px_resources *left,
                              char *const *accepted_ids, size_t n_accepted, px_resources **use,
                              char *buf, size_t buflen)
{
	const char *id = t->task_id->value;
	char err[256];
	const char *bad = NULL;

	*use = NULL;
	if (!id_valid(id))
		return "Task ID is empty or contains invalid characters ('/', whitespace, \".\" or "
		       "\"..\")";
	bool dup = mst_task_find(fw, id) != NULL;
	for (size_t i = 0; !dup && i < n_accepted; i++)
		dup = strcmp(accepted_ids[i], id) == 0;
	if (dup) {
		snprintf(buf, buflen, "Task has duplicate ID: %s", id);
		return buf;
	}
	if (t->agent_id == NULL || strcmp(t->agent_id->value, ag->id) != 0) {
		snprintf(buf, buflen, "Task uses invalid agent: %s",
		         t->agent_id ? t->agent_id->value : "(none)");
		return buf;
	}
	if ((t->command == NULL) == (t->executor == NULL))
		return "Task should have at least one (but not both) of CommandInfo or "
		       "ExecutorInfo present";
	if (t->command != NULL && (bad = validate_command(t->command, "Task", buf, buflen)))
		return bad;
	if (t->executor != NULL) {
		const Plexus__ExecutorInfo *e = t->executor;
		if (!id_valid(e->executor_id->value))
			return "ExecutorID is empty or contains invalid characters";
		if (e->framework_id != NULL && strcmp(e->framework_id->value, fw->id) != 0) {
			snprintf(buf, buflen,
			         "ExecutorInfo has an invalid FrameworkID (actual: %s "
			         "vs expected: %s)",
			         e->framework_id->value, fw->id);
			return buf;
		}
		if (e->command == NULL)
			return "ExecutorInfo has no CommandInfo";
		if ((bad = validate_command(e->command, "Executor", buf, buflen)))
			return bad;
	}

	px_resources *res = NULL, *exec = NULL;
	if (read_resources(t->resources, t->n_resources, &res, err, sizeof(err)) != PX_OK) {
		snprintf(buf, buflen, "Task uses invalid resources: %s", err);
		return buf;
	}
	if (t->executor != NULL && !executor_running(fw, ag, t->executor->executor_id->value)) {
		if (read_resources(t->executor->resources, t->executor->n_resources, &exec, err,
		                   sizeof(err)) != PX_OK) {
			px_resources_free(res);
			snprintf(buf, buflen, "Executor uses invalid resources: %s", err);
			return buf;
		}
		px_resources_add(res, exec);
		px_resources_free(exec);
	}
	if (px_resources_is_empty(res)) {
		px_resources_free(res);
		return "Task uses no resources";
	}
	if (!px_resources_contains(left, res)) {
		char *want = px_resources_format(res), *have = px_resources_format(left);
		snprintf(buf, buflen, "Task uses more resources %s than available %s",
		         want ? want : "?", have ? have : "?");
		free(want);
		free(have);
		px_resources_free(res);
		return buf;
	}
	(void)m;
	*use = res;
	return NULL;
}
