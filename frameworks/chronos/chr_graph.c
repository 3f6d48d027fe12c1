/* chr_graph.c — see chr_graph.h. Jobs number in the hundreds at most, so walks over
 * the list are plain linear searches. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chr_graph.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

chr_job *chr_graph_find(chr_job *jobs, const char *name)
{
	for (chr_job *j = jobs; j != NULL; j = j->next)
		if (strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

chr_job *chr_graph_first_child(chr_job *jobs, const char *name)
{
	for (chr_job *j = jobs; j != NULL; j = j->next)
		if (chr_job_has_parent(j, name))
			return j;
	return NULL;
}

/* Whether `from` reaches `target` by following parents (from depends on target).
 * depth bounds the walk: a graph that is already acyclic is never deeper than the
 * number of jobs. */
static bool depends_on(chr_job *jobs, const char *from, const char *target, size_t depth)
{
	if (strcmp(from, target) == 0)
		return true;
	if (depth == 0)
		return false;
	chr_job *j = chr_graph_find(jobs, from);
	if (j == NULL)
		return false;
	for (size_t i = 0; i < j->nparents; i++)
		if (depends_on(jobs, j->parents[i], target, depth - 1))
			return true;
	return false;
}

bool chr_graph_check(chr_job *jobs, const chr_job *job, char *err, size_t errlen)
{
	size_t n = 1;
	for (chr_job *j = jobs; j != NULL; j = j->next)
		n++;
	for (size_t i = 0; i < job->nparents; i++) {
		const char *p = job->parents[i];
		if (strcmp(p, job->name) == 0) {
			set_err(err, errlen, "job '%s' cannot be its own parent", job->name);
			return false;
		}
		if (chr_graph_find(jobs, p) == NULL) {
			set_err(err, errlen, "parent '%s' of job '%s' does not exist", p,
			        job->name);
			return false;
		}
		if (depends_on(jobs, p, job->name, n)) {
			set_err(err, errlen,
			        "parent '%s' depends on job '%s': that would be a cycle", p,
			        job->name);
			return false;
		}
	}
	return true;
}

/* Appends text to a growing buffer; false on out of memory. */
static bool append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int w = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (w < 0)
			return false;
		if ((size_t)w < *cap - *len) {
			*len += (size_t)w;
			return true;
		}
		size_t ncap = *cap * 2 + (size_t)w;
		char *n = realloc(*buf, ncap);
		if (n == NULL)
			return false;
		*buf = n;
		*cap = ncap;
	}
}

/* A name inside dot's double quotes: quotes and backslashes escaped. Job names hold
 * neither (see chr_job_name_valid), but the graph must never break on one. */
static const char *quoted(const char *name, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = name; *p && n + 2 < size; p++) {
		if (*p == '"' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

char *chr_graph_dot(chr_job *jobs)
{
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	char a[420], b[420];
	if (buf == NULL || !append(&buf, &len, &cap, "digraph G {\n"))
		goto fail;
	for (chr_job *j = jobs; j != NULL; j = j->next) {
		const char *color = j->last_success_ms == 0 && j->last_error_ms == 0 ? "white"
		                    : j->last_success_ms >= j->last_error_ms         ? "green"
		                                                                     : "red";
		if (!append(&buf, &len, &cap, "  \"%s\" [style=filled fillcolor=%s];\n",
		            quoted(j->name, a, sizeof(a)), color))
			goto fail;
	}
	for (chr_job *j = jobs; j != NULL; j = j->next)
		for (size_t i = 0; i < j->nparents; i++)
			if (!append(&buf, &len, &cap, "  \"%s\" -> \"%s\";\n",
			            quoted(j->parents[i], a, sizeof(a)),
			            quoted(j->name, b, sizeof(b))))
				goto fail;
	if (!append(&buf, &len, &cap, "}\n"))
		goto fail;
	return buf;
fail:
	free(buf);
	return NULL;
}
