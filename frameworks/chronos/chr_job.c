/* chr_job.c — see chr_job.h. Every field is checked for its JSON type before it is
 * read, so a job posted with "cpus": [] or "retries": "x" gets a 400 that names the
 * field rather than a default silently taken. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chr_job.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void chr_job_free(chr_job *j)
{
	if (j == NULL)
		return;
	free(j->name);
	free(j->command);
	free(j->description);
	free(j->owner);
	free(j->owner_name);
	free(j->schedule_tz);
	for (size_t i = 0; i < j->nparents; i++)
		free(j->parents[i]);
	free(j->parents);
	free(j->last_error_message);
	free(j);
}

bool chr_job_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 200)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("_.#- \t\n\v\f\r", *p) == NULL)
			return false;
	return true;
}

bool chr_job_has_parent(const chr_job *j, const char *parent)
{
	for (size_t i = 0; i < j->nparents; i++)
		if (strcmp(j->parents[i], parent) == 0)
			return true;
	return false;
}

/* An optional string field: its copy (or a copy of dflt) in *out. */
static bool get_string(const json_t *o, const char *key, const char *dflt, char **out, char *err,
                       size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		set_err(err, errlen, "field '%s' must be a string", key);
		return false;
	}
	const char *s = v != NULL && json_is_string(v) ? json_string_value(v) : dflt;
	*out = strdup(s);
	if (*out == NULL) {
		set_err(err, errlen, "out of memory");
		return false;
	}
	return true;
}

/* An optional number, also as a numeric string ("0.5": Chronos's own UI sends those). */
static bool get_number(const json_t *o, const char *key, double dflt, double *out, char *err,
                       size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return true;
	}
	if (json_is_number(v)) {
		*out = json_number_value(v);
	} else if (json_is_string(v)) {
		char *end;
		*out = strtod(json_string_value(v), &end);
		if (end == json_string_value(v) || *end != '\0') {
			set_err(err, errlen, "field '%s' must be a number, not '%s'", key,
			        json_string_value(v));
			return false;
		}
	} else {
		set_err(err, errlen, "field '%s' must be a number", key);
		return false;
	}
	if (!isfinite(*out) || *out < 0) {
		set_err(err, errlen, "field '%s' must be a number of at least 0", key);
		return false;
	}
	return true;
}

static bool get_bool(const json_t *o, const char *key, bool dflt, bool *out, char *err,
                     size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return true;
	}
	if (!json_is_boolean(v)) {
		set_err(err, errlen, "field '%s' must be true or false", key);
		return false;
	}
	*out = json_is_true(v);
	return true;
}

static bool get_int(const json_t *o, const char *key, int64_t dflt, int64_t max, int64_t *out,
                    char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v)) {
		*out = dflt;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		set_err(err, errlen, "field '%s' must be a whole number from 0 to %lld", key,
		        (long long)max);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

/* A history time: "" or absent is never. */
static bool get_time(const json_t *o, const char *key, int64_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	*out = 0;
	if (v == NULL || json_is_null(v) || (json_is_string(v) && *json_string_value(v) == '\0'))
		return true;
	if (!json_is_string(v)) {
		set_err(err, errlen, "field '%s' must be a time", key);
		return false;
	}
	return chr_time_parse(json_string_value(v), out, NULL, err, errlen);
}

static bool get_parents(const json_t *o, chr_job *j, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, "parents");
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_array(v)) {
		set_err(err, errlen, "field 'parents' must be a list of job names");
		return false;
	}
	size_t n = json_array_size(v);
	if (n == 0)
		return true;
	if ((j->parents = calloc(n, sizeof(*j->parents))) == NULL) {
		set_err(err, errlen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(v, i);
		if (!json_is_string(p) || !chr_job_name_valid(json_string_value(p))) {
			set_err(err, errlen, "parents[%zu] must be the name of a job", i);
			return false;
		}
		if (chr_job_has_parent(j, json_string_value(p))) {
			set_err(err, errlen, "parent '%s' is listed twice", json_string_value(p));
			return false;
		}
		if ((j->parents[i] = strdup(json_string_value(p))) == NULL) {
			set_err(err, errlen, "out of memory");
			return false;
		}
		j->nparents = i + 1;
	}
	return true;
}

/* The definition shared by a posted and a restored job. */
static chr_job *parse_definition(const json_t *o, const chr_job_defaults *d, char *err,
                                 size_t errlen)
{
	if (!json_is_object(o)) {
		set_err(err, errlen, "a job must be a JSON object");
		return NULL;
	}
	chr_job *j = calloc(1, sizeof(*j));
	if (j == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	const json_t *name = json_object_get(o, "name");
	const json_t *command = json_object_get(o, "command");
	int64_t retries;
	char *epsilon = NULL;
	bool async;
	if (!json_is_string(name) || !chr_job_name_valid(json_string_value(name))) {
		set_err(err, errlen,
		        "field 'name' must be a string of letters, digits, '-', '_', "
		        "'#', '.' and spaces (1 to 200 characters)");
		goto fail;
	}
	if (!json_is_string(command) || *json_string_value(command) == '\0') {
		set_err(err, errlen, "field 'command' must be a non-empty string");
		goto fail;
	}
	j->name = strdup(json_string_value(name));
	j->command = strdup(json_string_value(command));
	if (j->name == NULL || j->command == NULL) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (!get_string(o, "description", "", &j->description, err, errlen) ||
	    !get_string(o, "owner", "", &j->owner, err, errlen) ||
	    !get_string(o, "ownerName", "", &j->owner_name, err, errlen) ||
	    !get_string(o, "scheduleTimeZone", "", &j->schedule_tz, err, errlen) ||
	    !get_string(o, "epsilon", d->epsilon, &epsilon, err, errlen) ||
	    !get_number(o, "cpus", d->cpus, &j->cpus, err, errlen) ||
	    !get_number(o, "mem", d->mem, &j->mem, err, errlen) ||
	    !get_number(o, "disk", d->disk, &j->disk, err, errlen) ||
	    !get_int(o, "retries", d->retries, 100, &retries, err, errlen) ||
	    !get_bool(o, "disabled", false, &j->disabled, err, errlen) ||
	    !get_bool(o, "concurrent", false, &j->concurrent, err, errlen) ||
	    !get_bool(o, "async", false, &async, err, errlen) || !get_parents(o, j, err, errlen))
		goto fail;
	j->retries = (int)retries;
	if (async) {
		set_err(err, errlen,
		        "async jobs are not supported: a job's command ends when "
		        "its work is done");
		goto fail;
	}
	if (j->cpus <= 0 || j->mem <= 0) {
		set_err(err, errlen, "a job needs cpus and mem above 0");
		goto fail;
	}
	if (*j->schedule_tz != '\0' && !chr_tz_valid(j->schedule_tz)) {
		set_err(err, errlen,
		        "scheduleTimeZone '%s' is not a time zone of the tz database "
		        "(as Europe/Berlin or UTC)",
		        j->schedule_tz);
		goto fail;
	}
	char perr[192];
	if (!chr_period_parse(epsilon, &j->epsilon, perr, sizeof(perr))) {
		set_err(err, errlen, "epsilon: %s", perr);
		goto fail;
	}
	j->epsilon_ms = chr_period_approx_ms(&j->epsilon);
	free(epsilon);
	return j;
fail:
	free(epsilon);
	chr_job_free(j);
	return NULL;
}

chr_job *chr_job_from_json(const char *text, size_t len, bool dependency, int64_t now_ms,
                           const chr_job_defaults *defaults, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr);
	if (o == NULL) {
		set_err(err, errlen, "the body is not JSON: %s (line %d, column %d)", jerr.text,
		        jerr.line, jerr.column);
		return NULL;
	}
	chr_job *j = parse_definition(o, defaults, err, errlen);
	if (j == NULL)
		goto out;
	const json_t *schedule = json_object_get(o, "schedule");
	bool has_schedule = schedule != NULL && !json_is_null(schedule) &&
	                    !(json_is_string(schedule) && *json_string_value(schedule) == '\0');
	if (dependency) {
		if (has_schedule) {
			set_err(err, errlen, "a dependent job has parents instead of a schedule");
			goto fail;
		}
		if (j->nparents == 0) {
			set_err(err, errlen,
			        "a dependent job needs 'parents', a non-empty list of "
			        "job names");
			goto fail;
		}
		goto out;
	}
	if (j->nparents > 0) {
		set_err(err, errlen,
		        "a scheduled job has a schedule instead of parents (post "
		        "dependent jobs to /v1/scheduler/dependency)");
		goto fail;
	}
	if (!has_schedule || !json_is_string(schedule)) {
		set_err(err, errlen,
		        "field 'schedule' must be an ISO 8601 repeating interval, as "
		        "R/2026-01-01T00:00:00Z/PT1H");
		goto fail;
	}
	if (!chr_schedule_parse(json_string_value(schedule), now_ms, &j->schedule, err, errlen))
		goto fail;
	j->scheduled = true;
	/* The zone takes precedence over the start's designator (Chronos's rule): the
	 * start's wall-clock reading is read again in the zone. */
	if (*j->schedule_tz != '\0' && *strchr(json_string_value(schedule), '/') != '\0' &&
	    strchr(json_string_value(schedule), '/')[1] != '/') {
		int64_t utc_reading =
		    j->schedule.start_ms + (int64_t)j->schedule.offset_min * 60000;
		j->schedule.start_ms = chr_time_in_zone(utc_reading, j->schedule_tz);
		j->schedule.offset_min = 0;
	}
	goto out;
fail:
	chr_job_free(j);
	j = NULL;
out:
	json_decref(o);
	return j;
}

chr_job *chr_job_restore(const json_t *o, const chr_job_defaults *defaults, char *err,
                         size_t errlen)
{
	chr_job *j = parse_definition(o, defaults, err, errlen);
	if (j == NULL)
		return NULL;
	const json_t *sched = json_object_get(o, "schedule");
	int64_t offset, seq_s, seq_t;
	if (json_is_string(sched) && *json_string_value(sched) != '\0') {
		if (!chr_schedule_parse(json_string_value(sched), 0, &j->schedule, err, errlen))
			goto fail;
		j->scheduled = true;
		if (!get_int(o, "scheduleOffsetMinutes", 0, 24 * 60, &offset, err, errlen))
			goto fail;
		/* The schedule is written in UTC; the designator it was posted with still
		 * decides where calendar parts fall. */
		j->schedule.offset_min = (int)offset;
		if (json_is_true(json_object_get(o, "scheduleOffsetNegative")))
			j->schedule.offset_min = -j->schedule.offset_min;
	}
	if (!get_int(o, "successCount", 0, INT64_MAX, &j->success_count, err, errlen) ||
	    !get_int(o, "errorCount", 0, INT64_MAX, &j->error_count, err, errlen) ||
	    !get_int(o, "errorsSinceLastSuccess", 0, INT64_MAX, &j->errors_since_last_success, err,
	             errlen) ||
	    !get_time(o, "lastSuccess", &j->last_success_ms, err, errlen) ||
	    !get_time(o, "lastError", &j->last_error_ms, err, errlen) ||
	    !get_string(o, "lastErrorMessage", "", &j->last_error_message, err, errlen) ||
	    !get_int(o, "successSeq", 0, INT64_MAX, &seq_s, err, errlen) ||
	    !get_int(o, "triggerSeq", 0, INT64_MAX, &seq_t, err, errlen))
		goto fail;
	j->success_seq = (uint64_t)seq_s;
	j->trigger_seq = (uint64_t)seq_t;
	return j;
fail:
	chr_job_free(j);
	return NULL;
}

void chr_job_keep_history(chr_job *j, const chr_job *old)
{
	j->success_count = old->success_count;
	j->error_count = old->error_count;
	j->errors_since_last_success = old->errors_since_last_success;
	j->last_success_ms = old->last_success_ms;
	j->last_error_ms = old->last_error_ms;
	free(j->last_error_message);
	j->last_error_message = strdup(old->last_error_message ? old->last_error_message : "");
	j->success_seq = old->success_seq;
	j->trigger_seq = old->trigger_seq;
}

static json_t *time_or_empty(int64_t ms)
{
	char buf[40];
	return json_string(ms == 0 ? "" : chr_time_format(ms, buf, sizeof(buf)));
}

json_t *chr_job_to_json(const chr_job *j, bool internal)
{
	char buf[320];
	json_t *o = json_object();
	json_t *parents = json_array();
	if (o == NULL || parents == NULL) {
		json_decref(o);
		json_decref(parents);
		return NULL;
	}
	for (size_t i = 0; i < j->nparents; i++)
		json_array_append_new(parents, json_string(j->parents[i]));
	json_object_set_new(o, "name", json_string(j->name));
	json_object_set_new(o, "command", json_string(j->command));
	json_object_set_new(o, "description", json_string(j->description));
	json_object_set_new(o, "owner", json_string(j->owner));
	json_object_set_new(o, "ownerName", json_string(j->owner_name));
	if (j->scheduled) {
		json_object_set_new(
		    o, "schedule",
		    json_string(chr_schedule_format(&j->schedule, buf, sizeof(buf))));
		json_object_set_new(o, "scheduleTimeZone", json_string(j->schedule_tz));
		json_decref(parents);
	} else {
		json_object_set_new(o, "parents", parents);
	}
	json_object_set_new(o, "epsilon",
	                    json_string(chr_period_format(&j->epsilon, buf, sizeof(buf))));
	json_object_set_new(o, "cpus", json_real(j->cpus));
	json_object_set_new(o, "mem", json_real(j->mem));
	json_object_set_new(o, "disk", json_real(j->disk));
	json_object_set_new(o, "retries", json_integer(j->retries));
	json_object_set_new(o, "disabled", json_boolean(j->disabled));
	json_object_set_new(o, "concurrent", json_boolean(j->concurrent));
	json_object_set_new(o, "async", json_false());
	json_object_set_new(o, "executor", json_string(""));
	json_object_set_new(o, "successCount", json_integer(j->success_count));
	json_object_set_new(o, "errorCount", json_integer(j->error_count));
	json_object_set_new(o, "errorsSinceLastSuccess",
	                    json_integer(j->errors_since_last_success));
	json_object_set_new(o, "lastSuccess", time_or_empty(j->last_success_ms));
	json_object_set_new(o, "lastError", time_or_empty(j->last_error_ms));
	json_object_set_new(o, "lastErrorMessage",
	                    json_string(j->last_error_message ? j->last_error_message : ""));
	if (internal) {
		json_object_set_new(o, "successSeq", json_integer((json_int_t)j->success_seq));
		json_object_set_new(o, "triggerSeq", json_integer((json_int_t)j->trigger_seq));
		if (j->scheduled) {
			int off = j->schedule.offset_min;
			json_object_set_new(o, "scheduleOffsetMinutes",
			                    json_integer(off < 0 ? -off : off));
			json_object_set_new(o, "scheduleOffsetNegative", json_boolean(off < 0));
		}
	}
	return o;
}
