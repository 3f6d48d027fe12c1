/* explain.c — ExplainOffersMessage: a framework asks why no offer holds what it needs;
 * the allocator answers (alloc_explain_request, through allocator_link.h) and the master
 * sends OffersExplainedMessage back to the sender.
 *
 * It reads and changes nothing, so it need not come from the scheduler's PID itself
 * (the driver asks through a short-lived actor of its own, see
 * px_scheduler_driver_explain): any actor of the scheduler's OS process (same address)
 * may ask. Anything else is answered with an error, logged and counted as dropped. */
#include <stdlib.h>
#include <string.h>

#include "master/allocator_link.h"
#include "master/master_internal.h"

struct explain_req {
	actor_pid to;
	uint64_t request_id;
	char *framework_id;
};

static void answer(actor_t *self, actor_pid to, const char *framework_id, uint64_t request_id,
                   const char *text, const char *error, int offerable)
{
	Plexus__Internal__OffersExplainedMessage a =
	    PLEXUS__INTERNAL__OFFERS_EXPLAINED_MESSAGE__INIT;
	Plexus__FrameworkID id;

	mst_id_init(&id, framework_id);
	a.framework_id = framework_id ? &id : NULL;
	a.has_request_id = true;
	a.request_id = request_id;
	a.explanation = (char *)text;
	a.error = (char *)error;
	a.has_offerable = error == NULL;
	a.offerable = offerable > 0 ? (uint32_t)offerable : 0;
	actor_send_pb(self, to, &a.base);
}

static void explained(actor_t *self, int rc, int offerable, const char *text, void *arg)
{
	struct explain_req *r = arg;

	if (self != NULL) {
		if (rc == 0)
			answer(self, r->to, r->framework_id, r->request_id, text, NULL, offerable);
		else
			answer(self, r->to, r->framework_id, r->request_id, NULL, text, 0);
	}
	free(r->framework_id);
	free(r);
}

static void refuse(actor_t *self, struct master *m, actor_pid from,
                   const Plexus__Internal__ExplainOffersMessage *e, const char *why)
{
	const char *id = e->framework_id ? e->framework_id->value : NULL;

	actor_warn("master: refusing an explanation for framework %s to %s: %s", id ? id : "(none)",
	           actor_pid_str(from), why);
	actor_counter_inc(m->metrics.dropped_messages);
	answer(self, from, id, e->request_id, NULL, why, 0);
}

static void explain(actor_t *self, actor_pid from, const ProtobufCMessage *msg, void *arg)
{
	struct master *m = actor_state(self);
	const Plexus__Internal__ExplainOffersMessage *e = (const void *)msg;
	const char *id = e->framework_id ? e->framework_id->value : NULL;
	struct mst_framework *fw = id ? mst_framework_find(m, id) : NULL;
	px_resources *got = NULL, *request = NULL;
	char err[256];

	(void)arg;
	if (fw == NULL) {
		refuse(self, m, from, e, "unknown framework");
		return;
	}
	if (fw->pid.ip != from.ip || fw->pid.port != from.port) {
		refuse(self, m, from, e, "not from the framework's scheduler process");
		return;
	}
	if (px_resources_from_pb(e->resources, e->n_resources, &got, err, sizeof(err)) != PX_OK) {
		refuse(self, m, from, e, err);
		return;
	}
	/* Reservations and allocation marks do not matter to the question. */
	int rc = px_resources_flatten(got, &request);
	px_resources_free(got);
	if (rc != PX_OK || px_resources_is_empty(request)) {
		px_resources_free(request);
		refuse(self, m, from, e, rc != PX_OK ? "out of memory" : "an empty request");
		return;
	}
	struct explain_req *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->framework_id = strdup(fw->id)) == NULL) {
		free(r);
		px_resources_free(request);
		refuse(self, m, from, e, "out of memory");
		return;
	}
	r->to = from;
	r->request_id = e->request_id;
	mst_alloc_explain(m->alloc, fw->id, fw->role, request, explained, r);
	px_resources_free(request);
}

void mst_explain_install(actor_t *self)
{
	actor_install_pb(self, &plexus__internal__explain_offers_message__descriptor, explain,
	                 NULL);
}
