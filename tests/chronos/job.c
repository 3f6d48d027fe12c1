/* job.c — a job from Chronos's JSON: what is taken, what defaults fill in, what is
 * refused and with which message, the JSON written back, and the dependency graph's
 * checks and dot form. No cluster. */
#include <criterion/criterion.h>
#include <string.h>

#include "chr_graph.h"
#include "chr_job.h"

static const chr_job_defaults defaults = {
    .cpus = 0.1, .mem = 128, .disk = 256, .retries = 2, .epsilon = "PT5M"};

static chr_job *parse(const char *text, bool dependency, char *err, size_t errlen)
{
	return chr_job_from_json(text, strlen(text), dependency, 1000, &defaults, err, errlen);
}

Test(job, chronos_fields_are_read_with_their_defaults)
{
	char err[512];
	chr_job *j = parse("{\"schedule\": \"R10/2012-10-01T05:52:00Z/PT2S\", \"name\": "
	                   "\"SAMPLE_JOB1\", \"epsilon\": \"PT15M\", \"command\": \"echo FOO\", "
	                   "\"owner\": \"bob@airbnb.com\", \"async\": false, \"cpus\": \"0.5\", "
	                   "\"container\": {\"type\": \"DOCKER\"}}",
	                   false, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	cr_assert_str_eq(j->name, "SAMPLE_JOB1");
	cr_assert_eq(j->schedule.repeat, 10);
	cr_assert_eq(j->epsilon_ms, 15 * 60000);
	cr_assert_float_eq(j->cpus, 0.5, 1e-9, "a numeric string is a number");
	cr_assert_float_eq(j->mem, 128, 1e-9);
	cr_assert_eq(j->retries, 2);
	cr_assert_str_eq(j->owner, "bob@airbnb.com");

	json_t *o = chr_job_to_json(j, false);
	cr_assert_str_eq(json_string_value(json_object_get(o, "schedule")),
	                 "R10/2012-10-01T05:52:00.000Z/PT2S");
	cr_assert_eq(json_integer_value(json_object_get(o, "successCount")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(o, "lastSuccess")), "");
	cr_assert_null(json_object_get(o, "parents"), "a scheduled job shows no parents");
	cr_assert_null(json_object_get(o, "successSeq"), "bookkeeping is for the state file");
	json_decref(o);
	chr_job_free(j);

	j = parse("{\"name\": \"child job\", \"command\": \"true\", \"parents\": [\"a\", \"b\"]}",
	          true, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	cr_assert_eq(j->nparents, 2);
	cr_assert_not(j->scheduled);
	chr_job_free(j);
}

Test(job, a_zone_takes_precedence_over_the_designator)
{
	char err[512];
	chr_job *j = parse("{\"name\": \"berlin\", \"command\": \"true\", \"schedule\": "
	                   "\"R/2026-03-28T09:00:00Z/P1D\", \"scheduleTimeZone\": "
	                   "\"Europe/Berlin\"}",
	                   false, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	char buf[128];
	cr_assert_str_eq(chr_schedule_format(&j->schedule, buf, sizeof(buf)),
	                 "R/2026-03-28T08:00:00.000Z/P1D", "09:00 in Berlin (CET)");
	chr_schedule_step(&j->schedule, j->schedule_tz);
	cr_assert_str_eq(chr_schedule_format(&j->schedule, buf, sizeof(buf)),
	                 "R/2026-03-29T07:00:00.000Z/P1D", "09:00 in Berlin (CEST)");
	chr_job_free(j);
}

Test(job, bad_jobs_are_refused_with_a_message)
{
	const char *bad[][3] = {
	    {"not json", "0", "not JSON"},
	    {"[1]", "0", "JSON object"},
	    {"{\"command\": \"true\", \"schedule\": \"R/2026-01-01T00:00:00Z/PT1H\"}", "0",
	     "'name'"},
	    {"{\"name\": \"a/b\", \"command\": \"true\", \"schedule\": \"R//PT1H\"}", "0",
	     "'name'"},
	    {"{\"name\": \"a\", \"schedule\": \"R//PT1H\"}", "0", "'command'"},
	    {"{\"name\": \"a\", \"command\": \"true\"}", "0", "'schedule'"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R/2026-01-01T00:00:00Z/"
	     "PT1Q\"}",
	     "0", "unknown unit"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"cpus\": []}",
	     "0", "'cpus'"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"mem\": "
	     "\"lots\"}",
	     "0", "'mem'"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"retries\": -1}",
	     "0", "'retries'"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"disabled\": 1}",
	     "0", "'disabled'"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"epsilon\": "
	     "\"15m\"}",
	     "0", "epsilon"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", "
	     "\"scheduleTimeZone\": \"Mars/Base\"}",
	     "0", "scheduleTimeZone"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"async\": true}",
	     "0", "async"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\", \"parents\": "
	     "[\"b\"]}",
	     "0", "instead of parents"},
	    {"{\"name\": \"a\", \"command\": \"true\"}", "1", "'parents'"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"parents\": [\"b\"], \"schedule\": "
	     "\"R//PT1H\"}",
	     "1", "instead of a schedule"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"parents\": [\"b\", \"b\"]}", "1", "twice"},
	    {"{\"name\": \"a\", \"command\": \"true\", \"parents\": [7]}", "1", "parents[0]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "";
		chr_job *j = parse(bad[i][0], bad[i][1][0] == '1', err, sizeof(err));
		cr_assert_null(j, "accepted: %s", bad[i][0]);
		cr_assert_not_null(strstr(err, bad[i][2]), "%s: '%s' lacks '%s'", bad[i][0], err,
		                   bad[i][2]);
	}
}

static chr_job *add(chr_job **list, const char *text, bool dependency)
{
	char err[512];
	chr_job *j = parse(text, dependency, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	cr_assert(chr_graph_check(*list, j, err, sizeof(err)), "%s", err);
	chr_job **tail = list;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = j;
	return j;
}

Test(job, the_graph_refuses_missing_parents_and_cycles)
{
	chr_job *jobs = NULL;
	char err[512];
	add(&jobs, "{\"name\": \"a\", \"command\": \"true\", \"schedule\": \"R//PT1H\"}", false);
	add(&jobs, "{\"name\": \"b\", \"command\": \"true\", \"parents\": [\"a\"]}", true);
	add(&jobs, "{\"name\": \"c\", \"command\": \"true\", \"parents\": [\"a\", \"b\"]}", true);

	chr_job *j = parse("{\"name\": \"d\", \"command\": \"true\", \"parents\": [\"x\"]}", true,
	                   err, sizeof(err));
	cr_assert_not(chr_graph_check(jobs, j, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "'x'"), "%s", err);
	chr_job_free(j);
	/* a changed to depend on c: a -> b -> c -> a. */
	j = parse("{\"name\": \"a\", \"command\": \"true\", \"parents\": [\"c\"]}", true, err,
	          sizeof(err));
	cr_assert_not(chr_graph_check(jobs, j, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "cycle"), "%s", err);
	chr_job_free(j);
	j = parse("{\"name\": \"b\", \"command\": \"true\", \"parents\": [\"b\"]}", true, err,
	          sizeof(err));
	cr_assert_not(chr_graph_check(jobs, j, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "own parent"), "%s", err);
	chr_job_free(j);

	cr_assert_str_eq(chr_graph_first_child(jobs, "a")->name, "b");
	cr_assert_null(chr_graph_first_child(jobs, "c"));
	char *dot = chr_graph_dot(jobs);
	cr_assert_not_null(strstr(dot, "\"a\" -> \"b\";"), "%s", dot);
	cr_assert_not_null(strstr(dot, "\"a\" -> \"c\";"), "%s", dot);
	cr_assert_not_null(strstr(dot, "\"b\" -> \"c\";"), "%s", dot);
	cr_assert_not_null(strstr(dot, "\"a\" [style=filled fillcolor=white];"), "%s", dot);
	free(dot);
	while (jobs != NULL) {
		chr_job *n = jobs->next;
		chr_job_free(jobs);
		jobs = n;
	}
}

Test(job, the_state_file_form_keeps_history_and_bookkeeping)
{
	char err[512];
	chr_job *j = parse("{\"name\": \"a\", \"command\": \"true\", \"schedule\": "
	                   "\"R3/2026-01-01T00:00:00+02:00/P1M\"}",
	                   false, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	j->success_count = 7;
	j->error_count = 2;
	j->last_success_ms = 1767225600000LL;
	j->success_seq = 41;
	j->trigger_seq = 40;
	j->last_error_message = strdup("TASK_FAILED: exit 3");
	json_t *o = chr_job_to_json(j, true);
	chr_job *back = chr_job_restore(o, &defaults, err, sizeof(err));
	cr_assert_not_null(back, "%s", err);
	cr_assert_eq(back->success_count, 7);
	cr_assert_eq(back->error_count, 2);
	cr_assert_eq(back->last_success_ms, 1767225600000LL);
	cr_assert_eq(back->success_seq, 41);
	cr_assert_eq(back->trigger_seq, 40);
	cr_assert_eq(back->schedule.repeat, 3);
	cr_assert_eq(back->schedule.start_ms, j->schedule.start_ms);
	cr_assert_eq(back->schedule.offset_min, 120, "the designator still places months");
	cr_assert_str_eq(back->last_error_message, "TASK_FAILED: exit 3");
	json_decref(o);
	chr_job_free(j);
	chr_job_free(back);
}
