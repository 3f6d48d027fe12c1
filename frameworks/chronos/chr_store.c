/* chr_store.c — see chr_store.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "chr_graph.h"
#include "chr_store.h"

static const char *state_names[] = {"queued", "launched", "retry_wait", "reconciling"};

static json_t *run_to_json(const chr_run *r)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "job", json_string(r->job));
	json_object_set_new(o, "taskId", json_string(r->task_id));
	if (r->agent_id != NULL)
		json_object_set_new(o, "agentId", json_string(r->agent_id));
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "scheduled", json_integer(r->scheduled_ms));
	json_object_set_new(o, "retryAt", json_integer(r->retry_at_ms));
	json_object_set_new(o, "state", json_string(state_names[r->state]));
	json_object_set_new(o, "killed", json_boolean(r->killed));
	return o;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

bool chr_store_save(const struct chr_sched *s, char *err, size_t errlen)
{
	json_t *root = json_object(), *jobs = json_array(), *runs = json_array();
	char *text = NULL, tmp[4096];
	bool ok = false;
	int fd = -1;

	if (root == NULL || jobs == NULL || runs == NULL)
		goto oom;
	for (const chr_job *j = s->jobs; j != NULL; j = j->next)
		if (json_array_append_new(jobs, chr_job_to_json(j, true)) != 0)
			goto oom;
	for (const chr_run *r = s->runs; r != NULL; r = r->next)
		if (json_array_append_new(runs, run_to_json(r)) != 0)
			goto oom;
	json_object_set_new(root, "version", json_integer(1));
	if (s->framework_id != NULL)
		json_object_set_new(root, "frameworkId", json_string(s->framework_id));
	json_object_set_new(root, "seq", json_integer((json_int_t)s->seq));
	json_object_set_new(root, "runSeq", json_integer((json_int_t)s->run_seq));
	json_object_set_new(root, "jobs", jobs);
	json_object_set_new(root, "runs", runs);
	jobs = runs = NULL;
	if ((text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
	                                 JSON_REAL_PRECISION(12))) == NULL)
		goto oom;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->state_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !write_all(fd, text, strlen(text)) || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, s->state_file) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, s->state_file,
		         strerror(errno));
		goto out;
	}
	/* The rename itself survives a crash only once the directory is synced. */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", s->state_file);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ok = true;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (fd >= 0)
		close(fd);
	free(text);
	json_decref(jobs);
	json_decref(runs);
	json_decref(root);
	return ok;
}

static chr_run *run_from_json(const json_t *o, char *err, size_t errlen)
{
	const json_t *job = json_object_get(o, "job"), *task = json_object_get(o, "taskId");
	const json_t *agent = json_object_get(o, "agentId"), *state = json_object_get(o, "state");
	if (!json_is_string(job) || !json_is_string(task) || !json_is_string(state) ||
	    !json_is_integer(json_object_get(o, "attempt")) ||
	    !json_is_integer(json_object_get(o, "scheduled"))) {
		snprintf(err, errlen, "a run lacks job, taskId, state, attempt or scheduled");
		return NULL;
	}
	chr_run *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->job = strdup(json_string_value(job));
	r->task_id = strdup(json_string_value(task));
	r->agent_id = json_is_string(agent) ? strdup(json_string_value(agent)) : NULL;
	r->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
	r->scheduled_ms = json_integer_value(json_object_get(o, "scheduled"));
	r->retry_at_ms = json_integer_value(json_object_get(o, "retryAt"));
	r->killed = json_is_true(json_object_get(o, "killed"));
	r->state = strcmp(json_string_value(state), "retry_wait") == 0 ? CHR_RUN_RETRY_WAIT
	                                                               : CHR_RUN_RECONCILING;
	if (r->job == NULL || r->task_id == NULL) {
		chr_run_free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return r;
}

bool chr_store_load(struct chr_sched *s, char *err, size_t errlen)
{
	json_error_t jerr;
	if (access(s->state_file, F_OK) != 0 && errno == ENOENT)
		return true;
	json_t *root = json_load_file(s->state_file, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "cannot read state file %s: %s (line %d)", s->state_file,
		         jerr.text, jerr.line);
		return false;
	}
	chr_job *jobs = NULL, **jtail = &jobs;
	chr_run *runs = NULL, **rtail = &runs;
	const json_t *ja = json_object_get(root, "jobs"), *ra = json_object_get(root, "runs");
	const json_t *fid = json_object_get(root, "frameworkId");
	char why[256];
	size_t i;
	const json_t *v;

	if (!json_is_object(root) || !json_is_array(ja) || !json_is_array(ra)) {
		snprintf(err, errlen, "state file %s lacks its jobs or runs", s->state_file);
		goto fail;
	}
	json_array_foreach(ja, i, v)
	{
		chr_job *j = chr_job_restore(v, &s->defaults, why, sizeof(why));
		if (j == NULL) {
			snprintf(err, errlen, "state file %s: job %zu: %s", s->state_file, i, why);
			goto fail;
		}
		*jtail = j;
		jtail = &j->next;
	}
	json_array_foreach(ra, i, v)
	{
		chr_run *r = run_from_json(v, why, sizeof(why));
		if (r == NULL) {
			snprintf(err, errlen, "state file %s: run %zu: %s", s->state_file, i, why);
			goto fail;
		}
		*rtail = r;
		rtail = &r->next;
		if (chr_graph_find(jobs, r->job) == NULL) {
			snprintf(err, errlen, "state file %s: run %zu of unknown job '%s'",
			         s->state_file, i, r->job);
			goto fail;
		}
	}
	s->jobs = jobs;
	s->runs = runs;
	s->framework_id = json_is_string(fid) ? strdup(json_string_value(fid)) : NULL;
	s->seq = (uint64_t)json_integer_value(json_object_get(root, "seq"));
	s->run_seq = (uint64_t)json_integer_value(json_object_get(root, "runSeq"));
	json_decref(root);
	return true;
fail:
	while (jobs != NULL) {
		chr_job *n = jobs->next;
		chr_job_free(jobs);
		jobs = n;
	}
	while (runs != NULL) {
		chr_run *n = runs->next;
		chr_run_free(runs);
		runs = n;
	}
	json_decref(root);
	return false;
}
