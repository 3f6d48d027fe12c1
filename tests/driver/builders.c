/* The SDK's builders and helpers (include/plexus/task.h, message.h, util.h): a command
 * task from text, offers read by name, copies, task states, durations and UUIDs. */
#include <criterion/criterion.h>
#include <string.h>

#include "plexus/message.h"
#include "plexus/task.h"
#include "plexus/util.h"

Test(builders, command_task_from_text)
{
	Plexus__AgentID agent = PLEXUS__AGENT_ID__INIT;
	agent.value = "agent-7";
	char err[256];
	Plexus__TaskInfo *t =
	    px_task_command("web", &agent, "echo hi", "cpus:0.5;mem:64;ports:[31000-31001]", err,
	                    sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_expect_str_eq(t->name, "web");
	cr_expect_eq(strncmp(t->task_id->value, "web-", 4), 0, "%s", t->task_id->value);
	cr_expect_eq(strlen(t->task_id->value), 12);
	cr_expect_str_eq(t->agent_id->value, "agent-7");
	cr_expect_str_eq(t->command->value, "echo hi");
	cr_expect(t->command->shell);
	cr_assert_eq(t->n_resources, 3);
	cr_expect_eq(px_message_check(&t->base, err, sizeof(err)), 0, "%s", err);

	/* Two tasks of one name get two ids. */
	Plexus__TaskInfo *u = px_task_command("web", &agent, "true", "cpus:1", err, sizeof(err));
	cr_assert_not_null(u);
	cr_expect_str_neq(t->task_id->value, u->task_id->value);

	Plexus__TaskInfo *copy = PX_COPY(Plexus__TaskInfo, t);
	cr_assert_not_null(copy);
	cr_expect_str_eq(copy->task_id->value, t->task_id->value);
	cr_expect_neq(copy->task_id, t->task_id, "a deep copy");
	PX_FREE(copy);
	PX_FREE(u);
	PX_FREE(t);
}

Test(builders, bad_input_is_explained)
{
	Plexus__AgentID agent = PLEXUS__AGENT_ID__INIT;
	agent.value = "a";
	char err[256] = "";
	cr_expect_null(px_task_command("x", &agent, "true", "cpus:lots", err, sizeof(err)));
	cr_expect_not_null(strstr(err, "cpus:lots"), "'%s'", err);
	cr_expect_null(px_task_command(NULL, &agent, "true", "cpus:1", err, sizeof(err)));
	cr_expect_not_null(strstr(err, "name"), "'%s'", err);
	cr_expect_null(px_task_command("x", NULL, "true", "cpus:1", err, sizeof(err)));
	cr_expect_not_null(strstr(err, "agent_id"), "'%s'", err);
	cr_expect_null(px_task_command("x", &agent, NULL, "cpus:1", NULL, 0), "err may be NULL");
}

Test(builders, environment_and_uris)
{
	Plexus__AgentID agent = PLEXUS__AGENT_ID__INIT;
	agent.value = "a";
	Plexus__TaskInfo *t = px_task_command("x", &agent, "true", "cpus:1", NULL, 0);
	cr_assert_not_null(t);
	cr_assert_eq(px_command_add_env(t->command, "GREETING", "hello"), 0);
	cr_assert_eq(px_command_add_uri(t->command, "http://127.0.0.1/a.tgz", false, true, true), 0);
	cr_assert_eq(px_command_add_self(t->command, "--executor"), 0);
	cr_assert_not_null(t->command->environment);
	cr_assert_eq(t->command->environment->n_variables, 1);
	cr_expect_str_eq(t->command->environment->variables[0]->value, "hello");
	cr_assert_eq(t->command->n_uris, 2);
	cr_expect(t->command->uris[0]->extract && t->command->uris[0]->cache);
	cr_expect(t->command->uris[1]->executable);
	cr_expect_eq(t->command->uris[1]->value[0], '/', "the program's absolute path");
	cr_expect_str_eq(t->command->value, "./driver.builders --executor");
	cr_expect_eq(px_message_check(&t->base, NULL, 0), 0);
	PX_FREE(t);
}

static Plexus__Resource *scalar(const char *name, double v, const char *role)
{
	Plexus__Resource *r = calloc(1, sizeof(*r));
	Plexus__Value__Scalar *s = calloc(1, sizeof(*s));
	plexus__resource__init(r);
	plexus__value__scalar__init(s);
	r->name = strdup(name);
	r->type = PLEXUS__VALUE__TYPE__SCALAR;
	s->value = v;
	r->scalar = s;
	if (role != NULL)
		r->role = strdup(role);
	return r;
}

Test(builders, offers_are_read_by_name)
{
	Plexus__Offer o = PLEXUS__OFFER__INIT;
	size_t n;
	Plexus__Resource **text = px_resources_from_text("mem:512;ports:[31000-31004,32000-32000]",
	                                                 NULL, &n, NULL, 0);
	cr_assert_not_null(text);
	Plexus__Resource *all[8];
	size_t k = 0;
	all[k++] = scalar("cpus", 1.5, NULL);
	all[k++] = scalar("cpus", 0.5, "web");
	for (size_t i = 0; i < n; i++)
		all[k++] = text[i];
	o.resources = all;
	o.n_resources = k;
	cr_expect_float_eq(px_offer_scalar(&o, "cpus"), 2.0, 1e-9, "reserved ones count too");
	cr_expect_float_eq(px_offer_scalar(&o, "mem"), 512, 1e-9);
	cr_expect_float_eq(px_offer_scalar(&o, "gpus"), 0, 1e-9);
	px_offer_range r[1];
	cr_expect_eq(px_offer_ranges(&o, "ports", r, 1), 2, "counts beyond max");
	cr_expect_eq(r[0].begin, 31000);
	cr_expect_eq(r[0].end, 31004);
	cr_expect(px_offer_fits_text(&o, "cpus:2;mem:512"));
	cr_expect(!px_offer_fits_text(&o, "cpus:2.5"));
	cr_expect(!px_offer_fits_text(&o, "cpus:what"));
	Plexus__AgentID agent = PLEXUS__AGENT_ID__INIT;
	agent.value = "a";
	Plexus__TaskInfo *t = px_task_command("x", &agent, "true", "cpus:1;mem:256", NULL, 0);
	cr_expect(px_offer_fits(&o, t));
	px_task_set_resources(t, "mem:1024", NULL, 0);
	cr_expect(!px_offer_fits(&o, t));
	PX_FREE(t);
	PX_FREE(all[0]);
	PX_FREE(all[1]);
	px_resources_free_array(text, n);
}

Test(messages, task_states)
{
	cr_expect_str_eq(px_task_state_name(PLEXUS__TASK_STATE__TASK_RUNNING), "TASK_RUNNING");
	cr_expect_str_eq(px_task_state_name((Plexus__TaskState)99), "TASK_UNKNOWN");
	Plexus__TaskState s;
	cr_expect(px_task_state_parse("failed", &s) && s == PLEXUS__TASK_STATE__TASK_FAILED);
	cr_expect(px_task_state_parse("TASK_GONE_BY_OPERATOR", &s) &&
	          s == PLEXUS__TASK_STATE__TASK_GONE_BY_OPERATOR);
	cr_expect(!px_task_state_parse("sleepy", &s));
	const Plexus__TaskState terminal[] = {
	    PLEXUS__TASK_STATE__TASK_FINISHED, PLEXUS__TASK_STATE__TASK_FAILED,
	    PLEXUS__TASK_STATE__TASK_KILLED,   PLEXUS__TASK_STATE__TASK_ERROR,
	    PLEXUS__TASK_STATE__TASK_LOST,     PLEXUS__TASK_STATE__TASK_DROPPED,
	    PLEXUS__TASK_STATE__TASK_GONE,     PLEXUS__TASK_STATE__TASK_GONE_BY_OPERATOR};
	for (size_t i = 0; i < sizeof(terminal) / sizeof(terminal[0]); i++)
		cr_expect(px_task_state_is_terminal(terminal[i]), "%s",
		          px_task_state_name(terminal[i]));
	const Plexus__TaskState live[] = {
	    PLEXUS__TASK_STATE__TASK_STAGING, PLEXUS__TASK_STATE__TASK_STARTING,
	    PLEXUS__TASK_STATE__TASK_RUNNING, PLEXUS__TASK_STATE__TASK_KILLING,
	    PLEXUS__TASK_STATE__TASK_UNREACHABLE, PLEXUS__TASK_STATE__TASK_UNKNOWN};
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		cr_expect(!px_task_state_is_terminal(live[i]), "%s", px_task_state_name(live[i]));
	cr_expect_str_eq(px_task_reason_name(PLEXUS__TASK_STATUS__REASON__REASON_TASK_INVALID),
	                 "REASON_TASK_INVALID");
	cr_expect_str_eq(px_task_source_name(PLEXUS__TASK_STATUS__SOURCE__SOURCE_AGENT),
	                 "SOURCE_AGENT");
}

Test(messages, check_names_the_missing_field_by_path)
{
	Plexus__TaskInfo t = PLEXUS__TASK_INFO__INIT;
	Plexus__TaskID id = PLEXUS__TASK_ID__INIT;
	char err[256];
	t.name = "x";
	cr_expect_eq(px_message_check(&t.base, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "task_id is required but not set");
	t.task_id = &id;
	cr_expect_eq(px_message_check(&t.base, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "task_id.value is required but not set");
	id.value = "t";
	Plexus__AgentID a = PLEXUS__AGENT_ID__INIT;
	a.value = "a";
	t.agent_id = &a;
	Plexus__Resource r = PLEXUS__RESOURCE__INIT;
	Plexus__Resource *rs[2] = {&r, NULL};
	t.resources = rs;
	t.n_resources = 1;
	cr_expect_eq(px_message_check(&t.base, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "resources[0].name is required but not set");
	r.name = "cpus";
	cr_expect_eq(px_message_check(&t.base, err, sizeof(err)), 0, "%s", err);
	t.n_resources = 2;
	cr_expect_eq(px_message_check(&t.base, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "resources[1] is NULL");
	cr_expect_null(px_message_copy(NULL));
	px_message_free(NULL);
}

Test(util, durations_in_mesos_units)
{
	struct {
		const char *text;
		int64_t ms;
	} ok[] = {{"15secs", 15000},   {"1days", 86400000}, {"2mins", 120000}, {"500ms", 500},
	          {"30", 30000},       {"0.5secs", 500},    {"1hrs", 3600000}, {"1weeks", 604800000},
	          {"1500us", 1},       {"10ns", 0},         {"1day", 86400000}, {"1sec", 1000}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = -1;
		cr_expect(px_duration_parse(ok[i].text, &ms), "%s", ok[i].text);
		cr_expect_eq(ms, ok[i].ms, "%s: %lld", ok[i].text, (long long)ms);
	}
	const char *bad[] = {"", "secs", "-1secs", "5 secs", "5parsecs", "nan", "inf", "1e30days"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms;
		cr_expect(!px_duration_parse(bad[i], &ms), "'%s' accepted", bad[i]);
	}
	char buf[32];
	cr_expect_str_eq(px_duration_format(15000, buf, sizeof(buf)), "15secs");
	cr_expect_str_eq(px_duration_format(60000, buf, sizeof(buf)), "1mins");
	cr_expect_str_eq(px_duration_format(1500, buf, sizeof(buf)), "1500ms");
	cr_expect_str_eq(px_duration_format(0, buf, sizeof(buf)), "0ms");
	cr_expect_str_eq(px_duration_format(172800000, buf, sizeof(buf)), "2days");
}

Test(util, uuids_are_version_4)
{
	uint8_t a[16], b[16];
	char text[37];
	px_uuid_random(a);
	px_uuid_random(b);
	cr_expect_neq(memcmp(a, b, 16), 0);
	cr_expect_eq(a[6] >> 4, 4);
	cr_expect_eq(a[8] & 0xc0, 0x80);
	px_uuid_format(a, text);
	cr_expect_eq(strlen(text), 36);
	cr_expect_eq(text[14], '4');
	cr_expect_eq(text[8], '-');
}
