/* volumes.c — dynamic reservations and persistent volumes end to end, through offer
 * operations of a framework on a master and two agents: RESERVE and CREATE in the same
 * accept as the LAUNCH of a task that writes into the volume; the volume is offered
 * back, with its persistence id, to the role only; a second task on it finds what the
 * first one wrote (the volume outlived its task and sandbox). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plexus/task.h"

static struct cluster c;
static struct fw *fw, *other;

static void setup(void)
{
	memset(&c, 0, sizeof(c));
	fw = other = NULL;
	harness_init();
	fw_runtime_start();
	cluster_start(&c);
}

static void teardown(void)
{
	fw_stop(fw, false);
	fw_stop(other, false);
	fw = other = NULL;
	fw_set_role(NULL);
	harness_fini();
}

TestSuite(volumes, .init = setup, .fini = teardown, .timeout = 90);

/* A resource dynamically reserved for role "db" (scalar), a volume when pid is set. */
static Plexus__Resource *reserved(const char *name, double v, const char *pid)
{
	Plexus__Resource *r = calloc(1, sizeof(*r));
	Plexus__Resource__ReservationInfo *ri = calloc(1, sizeof(*ri));
	Plexus__Value__Scalar *sc = calloc(1, sizeof(*sc));
	cr_assert(r && ri && sc);
	plexus__resource__init(r);
	plexus__resource__reservation_info__init(ri);
	plexus__value__scalar__init(sc);
	r->name = strdup(name);
	r->type = PLEXUS__VALUE__TYPE__SCALAR;
	sc->value = v;
	r->scalar = sc;
	ri->has_type = true;
	ri->type = PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
	ri->role = strdup("db");
	ri->principal = strdup("db");
	r->reservations = calloc(1, sizeof(*r->reservations));
	r->reservations[0] = ri;
	r->n_reservations = 1;
	if (pid) {
		Plexus__Resource__DiskInfo *di = calloc(1, sizeof(*di));
		Plexus__Resource__DiskInfo__Persistence *pe = calloc(1, sizeof(*pe));
		Plexus__Volume *vo = calloc(1, sizeof(*vo));
		plexus__resource__disk_info__init(di);
		plexus__resource__disk_info__persistence__init(pe);
		plexus__volume__init(vo);
		pe->id = strdup(pid);
		pe->principal = strdup("db");
		vo->container_path = strdup("data");
		vo->mode = PLEXUS__VOLUME__MODE__RW;
		di->persistence = pe;
		di->volume = vo;
		r->disk = di;
	}
	return r;
}

static Plexus__TaskInfo *task_on_volume(const Plexus__Offer *o, const char *id, const char *cmd)
{
	char err[256];
	Plexus__TaskInfo *t = px_task_command(id, o->agent_id, cmd, NULL, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	free(t->task_id->value);
	t->task_id->value = strdup(id);
	px_resources_free_array(t->resources, t->n_resources);
	t->resources = calloc(3, sizeof(*t->resources));
	t->resources[0] = reserved("cpus", 0.2, NULL);
	t->resources[1] = reserved("mem", 32, NULL);
	t->resources[2] = reserved("disk", 64, "vol-1");
	t->n_resources = 3;
	return t;
}

/* Whether the offer holds the volume vol-1 (reserved for db, with its path). */
static bool offer_has_volume(const Plexus__Offer *o)
{
	for (size_t i = 0; i < o->n_resources; i++) {
		const Plexus__Resource *r = o->resources[i];
		if (r->disk && r->disk->persistence && strcmp(r->disk->persistence->id, "vol-1") == 0 &&
		    r->disk->volume && strcmp(r->disk->volume->container_path, "data") == 0)
			return true;
	}
	return false;
}

Test(volumes, a_volume_outlives_its_task_and_is_offered_back_to_its_role_only)
{
	fw_set_role("db");
	fw = fw_start(c.master_addr, "volumes-db", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o);
	char agent[128];
	snprintf(agent, sizeof(agent), "%s", o->agent_id->value);

	/* One accept: reserve, create the volume, launch a writer on it. */
	Plexus__Offer__Operation reserve = PLEXUS__OFFER__OPERATION__INIT, create = reserve,
	                         launch = reserve;
	Plexus__Offer__Operation__Reserve rsv = PLEXUS__OFFER__OPERATION__RESERVE__INIT;
	Plexus__Offer__Operation__Create crt = PLEXUS__OFFER__OPERATION__CREATE__INIT;
	Plexus__Offer__Operation__Launch lch = PLEXUS__OFFER__OPERATION__LAUNCH__INIT;
	Plexus__Resource *rres[3] = {reserved("cpus", 0.2, NULL), reserved("mem", 32, NULL),
	                             reserved("disk", 64, NULL)};
	Plexus__Resource *vol[1] = {reserved("disk", 64, "vol-1")};
	Plexus__TaskInfo *writer =
	    task_on_volume(o, "writer", "test -L data && test -d data && echo persisted > data/f");
	reserve.has_type = create.has_type = launch.has_type = true;
	reserve.type = PLEXUS__OFFER__OPERATION__TYPE__RESERVE;
	create.type = PLEXUS__OFFER__OPERATION__TYPE__CREATE;
	launch.type = PLEXUS__OFFER__OPERATION__TYPE__LAUNCH;
	rsv.resources = rres;
	rsv.n_resources = 3;
	crt.volumes = vol;
	crt.n_volumes = 1;
	lch.task_infos = &writer;
	lch.n_task_infos = 1;
	reserve.reserve = &rsv;
	create.create = &crt;
	launch.launch = &lch;
	const Plexus__Offer__Operation *ops[3] = {&reserve, &create, &launch};
	const Plexus__OfferID *ids[1] = {o->id};
	Plexus__Filters f = PLEXUS__FILTERS__INIT;
	f.has_refuse_seconds = true;
	f.refuse_seconds = 0.2;
	px_scheduler_driver_accept(fw_driver(fw), ids, 1, ops, 3, &f);
	fw_offer_free(o);
	for (int i = 0; i < 3; i++)
		PX_FREE(rres[i]);
	PX_FREE(vol[0]);
	PX_FREE(writer);
	struct fw_update u;
	cr_assert(fw_wait_terminal(fw, "writer", &u, 20000));
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FINISHED, "writer ended %d: %s", u.state,
	             u.message);

	/* The volume comes back in an offer of that agent, to this role. */
	Plexus__Offer *back = NULL;
	for (int tries = 0; tries < 50 && back == NULL; tries++) {
		Plexus__Offer *x = fw_next_offer(fw, 10000);
		cr_assert_not_null(x, "no offer came back with the volume");
		if (strcmp(x->agent_id->value, agent) == 0 && offer_has_volume(x))
			back = x;
		else {
			px_scheduler_driver_decline(fw_driver(fw), x->id, &f);
			fw_offer_free(x);
		}
	}
	cr_assert_not_null(back);

	/* Set aside for a while by its role, the volume stays the role's: a framework of
	 * another role is offered that agent but never the volume. */
	Plexus__Filters away = PLEXUS__FILTERS__INIT;
	away.has_refuse_seconds = true;
	away.refuse_seconds = 4;
	px_scheduler_driver_decline(fw_driver(fw), back->id, &away);
	fw_offer_free(back);
	back = NULL;
	fw_set_role("other");
	other = fw_start(c.master_addr, "volumes-other", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(other, 10000));
	int seen = 0;
	for (int tries = 0; tries < 20 && seen < 2; tries++) {
		Plexus__Offer *x = fw_next_offer(other, 3000);
		if (x == NULL)
			break;
		cr_assert(!offer_has_volume(x), "the volume was offered to another role");
		seen += strcmp(x->agent_id->value, agent) == 0;
		px_scheduler_driver_decline(fw_driver(other), x->id, &f);
		fw_offer_free(x);
	}
	cr_assert_gt(seen, 0, "the other role got no offer of that agent");
	fw_stop(other, false);
	other = NULL;
	/* Once the filter has expired, the role gets its volume again. */
	for (int tries = 0; tries < 100 && back == NULL; tries++) {
		Plexus__Offer *x = fw_next_offer(fw, 15000);
		cr_assert_not_null(x, "the volume was not offered again");
		if (strcmp(x->agent_id->value, agent) == 0 && offer_has_volume(x))
			back = x;
		else {
			px_scheduler_driver_decline(fw_driver(fw), x->id, &f);
			fw_offer_free(x);
		}
	}
	cr_assert_not_null(back);

	/* A reader on the same volume finds what the writer left. */
	Plexus__TaskInfo *reader = task_on_volume(back, "reader", "grep -q persisted data/f");
	const Plexus__TaskInfo *tasks[1] = {reader};
	const Plexus__OfferID *bid[1] = {back->id};
	px_scheduler_driver_launch(fw_driver(fw), bid, 1, tasks, 1, &f);
	PX_FREE(reader);
	fw_offer_free(back);
	cr_assert(fw_wait_terminal(fw, "reader", &u, 20000));
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FINISHED, "reader ended %d: %s", u.state,
	             u.message);
}
