/* The driver's mistakes that used to fail silently, each now an error that says why:
 * a master that cannot be parsed, a FrameworkInfo that cannot be encoded, a call whose
 * message cannot be encoded (a launch's bad tasks get TASK_ERROR and the rest goes on),
 * a remote master without a transport; and the runtime a driver starts by itself. */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"
#include "plexus/message.h"
#include "plexus/scheduler.h"
#include "plexus/task.h"
#include "proto/internal.pb-c.h"

#define WAIT_MS 10000

static struct {
	struct counter registered, updates;
	char task[64];
	int state;
	char message[512];
	int reason;
} ev;

static px_scheduler_driver *driver;
static peer *master;

static void on_registered(px_scheduler_driver *d, const Plexus__FrameworkID *id,
                          const Plexus__MasterInfo *mi, void *arg)
{
	counter_add(&ev.registered, 1);
}

static void on_update(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	snprintf(ev.task, sizeof(ev.task), "%s", s->task_id->value);
	ev.state = s->state;
	ev.reason = s->has_reason ? (int)s->reason : -1;
	snprintf(ev.message, sizeof(ev.message), "%s", s->message ? s->message : "");
	counter_add(&ev.updates, 1);
}

static const px_scheduler_callbacks callbacks = {
    .registered = on_registered,
    .status_update = on_update,
};

static void setup(void)
{
	memset(&ev, 0, sizeof(ev));
	test_runtime_start(false);
}

static void teardown(void)
{
	px_scheduler_driver_free(driver);
	driver = NULL;
	peer_free(master);
	master = NULL;
	test_runtime_stop();
}

TestSuite(errors, .init = setup, .fini = teardown, .timeout = 60);

static Plexus__FrameworkInfo framework(const char *user, const char *name)
{
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.user = (char *)user;
	fw.name = (char *)name;
	return fw;
}

Test(errors, alloc_refuses_a_master_it_cannot_parse)
{
	Plexus__FrameworkInfo fw = framework("tester", "fw");
	const char *bad[] = {"no-port", "127.0.0.1:99999", "master@", "http://:5050"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_null(px_scheduler_driver_alloc(&callbacks, NULL, &fw, bad[i], NULL), "%s",
		               bad[i]);
		cr_expect_not_null(strstr(px_driver_error(), "cannot use master"), "%s: '%s'",
		                   bad[i], px_driver_error());
		cr_expect_not_null(strstr(px_driver_error(), bad[i]), "the error names the spec");
	}
	cr_expect_null(px_scheduler_driver_alloc(&callbacks, NULL, &fw, NULL, NULL));
}

Test(errors, alloc_refuses_a_framework_info_that_cannot_be_encoded)
{
	Plexus__FrameworkInfo fw = framework("tester", NULL);
	cr_assert_null(px_scheduler_driver_alloc(&callbacks, NULL, &fw, "127.0.0.1:5050", NULL));
	cr_expect_not_null(strstr(px_driver_error(), "name is required"), "'%s'",
	                   px_driver_error());
	cr_expect_null(px_scheduler_driver_alloc(&callbacks, NULL, NULL, "127.0.0.1:5050", NULL));
	cr_expect_not_null(strstr(px_driver_error(), "FrameworkInfo"));
}

/* Registers a driver with the test's master and returns the driver's PID. */
static actor_pid start_registered(const char *user)
{
	master = peer_spawn("master");
	Plexus__FrameworkInfo fw = framework(user, "fw");
	driver = px_scheduler_driver_alloc(&callbacks, NULL, &fw, peer_pid_text(master), NULL);
	cr_assert_not_null(driver, "%s", px_driver_error());
	cr_assert_eq(px_scheduler_driver_start(driver), PX_DRIVER_RUNNING);
	actor_pid from;
	Plexus__Internal__RegisterFrameworkMessage *reg = (void *)peer_wait(
	    master, &plexus__internal__register_framework_message__descriptor, 1, WAIT_MS, &from);
	cr_assert_not_null(reg);
	if (user[0] == '\0') {
		struct passwd *pw = getpwuid(geteuid());
		cr_expect_str_eq(reg->framework->user, pw != NULL ? pw->pw_name : "");
	}
	protobuf_c_message_free_unpacked(&reg->base, NULL);
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-1";
	Plexus__Internal__FrameworkRegisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	peer_send(master, from, &ok.base);
	cr_assert(counter_wait(&ev.registered, 1, WAIT_MS));
	return from;
}

Test(errors, an_empty_user_is_the_current_user)
{
	start_registered("");
}

Test(errors, launch_reports_tasks_it_cannot_encode_and_sends_the_rest)
{
	start_registered("tester");
	Plexus__AgentID agent = PLEXUS__AGENT_ID__INIT;
	agent.value = "agent-1";
	char err[256];
	Plexus__TaskInfo *good = px_task_command("good", &agent, "true", "cpus:0.1", err, sizeof(err));
	Plexus__TaskInfo *bad = px_task_command("bad", &agent, "true", "cpus:0.1", err, sizeof(err));
	cr_assert(good != NULL && bad != NULL);
	char bad_id[128];
	snprintf(bad_id, sizeof(bad_id), "%s", bad->task_id->value);
	Plexus__AgentID *saved = bad->agent_id;
	bad->agent_id = NULL; /* required: this task cannot be encoded */

	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	oid.value = "o-1";
	const Plexus__OfferID *ids[1] = {&oid};
	const Plexus__TaskInfo *tasks[2] = {bad, good};
	cr_expect_eq(px_scheduler_driver_launch(driver, ids, 1, tasks, 2, NULL),
	             PX_DRIVER_INVALID_CALL);
	cr_expect_not_null(strstr(px_driver_error(), "task_infos[0].agent_id is required"), "'%s'",
	                   px_driver_error());

	cr_assert(counter_wait(&ev.updates, 1, WAIT_MS), "no TASK_ERROR for the bad task");
	cr_expect_str_eq(ev.task, bad_id);
	cr_expect_eq(ev.state, PLEXUS__TASK_STATE__TASK_ERROR);
	cr_expect_eq(ev.reason, PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID);
	cr_expect_not_null(strstr(ev.message, "agent_id"), "'%s'", ev.message);

	Plexus__Internal__AcceptOffersMessage *a = (void *)peer_wait(
	    master, &plexus__internal__accept_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(a, "the good task never reached the master");
	cr_assert_eq(a->n_operations, 1);
	cr_assert_eq(a->operations[0]->launch->n_task_infos, 1);
	cr_expect_str_eq(a->operations[0]->launch->task_infos[0]->task_id->value,
	                 good->task_id->value);
	protobuf_c_message_free_unpacked(&a->base, NULL);

	/* Only bad tasks: the offer goes back (an accept with no operation declines it). */
	const Plexus__TaskInfo *only_bad[1] = {bad};
	cr_expect_eq(px_scheduler_driver_launch(driver, ids, 1, only_bad, 1, NULL),
	             PX_DRIVER_INVALID_CALL);
	a = (void *)peer_wait(master, &plexus__internal__accept_offers_message__descriptor, 2,
	                      WAIT_MS, NULL);
	cr_assert_not_null(a);
	cr_expect_eq(a->n_operations, 0);
	cr_expect_eq(a->n_offer_ids, 1);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	cr_assert(counter_wait(&ev.updates, 2, WAIT_MS));

	bad->agent_id = saved;
	PX_FREE(good);
	PX_FREE(bad);
}

Test(errors, other_calls_name_the_missing_field)
{
	start_registered("tester");
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT; /* value is required */
	cr_expect_eq(px_scheduler_driver_kill(driver, &tid), PX_DRIVER_INVALID_CALL);
	cr_expect_not_null(strstr(px_driver_error(), "task_id.value is required"), "'%s'",
	                   px_driver_error());
	Plexus__OfferID oid = PLEXUS__OFFER_ID__INIT;
	cr_expect_eq(px_scheduler_driver_decline(driver, &oid, NULL), PX_DRIVER_INVALID_CALL);
	cr_expect_not_null(strstr(px_driver_error(), "offer_ids[0].value"), "'%s'",
	                   px_driver_error());
	/* A good call afterwards is taken and clears the error. */
	tid.value = "t-1";
	cr_expect_eq(px_scheduler_driver_kill(driver, &tid), PX_DRIVER_RUNNING);
	cr_expect_str_eq(px_driver_error(), "");
}

Test(errors, a_remote_master_without_a_transport_is_refused_at_start)
{
	Plexus__FrameworkInfo fw = framework("tester", "fw");
	driver = px_scheduler_driver_alloc(&callbacks, NULL, &fw, "master@10.1.2.3:5050", NULL);
	cr_assert_not_null(driver);
	cr_expect_eq(px_scheduler_driver_start(driver), PX_DRIVER_NOT_STARTED);
	cr_expect_not_null(strstr(px_driver_error(), "does not listen"), "'%s'", px_driver_error());
	cr_expect_eq(px_scheduler_driver_status(driver), PX_DRIVER_NOT_STARTED);
}

/* Without a runtime, start brings up one that listens, and free ends it. */
Test(no_runtime, start_brings_up_a_listening_runtime, .timeout = 60)
{
	cr_assert(!actor_runtime_running());
	Plexus__FrameworkInfo fw = framework("tester", "fw");
	px_scheduler_driver *d = px_scheduler_driver_alloc(&callbacks, NULL, &fw,
	                                                   "master@127.0.0.1:9", NULL);
	cr_assert_not_null(d);
	cr_assert_eq(px_scheduler_driver_start(d), PX_DRIVER_RUNNING, "%s", px_driver_error());
	cr_expect(actor_runtime_listening());
	px_scheduler_driver_stop(d, false);
	px_scheduler_driver_free(d);
	cr_expect(!actor_runtime_running(), "the driver's own runtime ends with it");
}
