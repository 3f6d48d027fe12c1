/* detect.c — see detect.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/detect.h"
#include "common/json_pb.h"

#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)

int64_t agent_mem_for_tasks(uint64_t total)
{
	uint64_t left = total >= 2 * GiB ? total - GiB : total / 2;
	return (int64_t)(left / MiB);
}

int64_t agent_disk_for_tasks(uint64_t total)
{
	uint64_t left = total >= 10 * GiB ? total - 5 * GiB : total / 2;
	return (int64_t)(left / MiB);
}

static uint64_t mem_total_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	uint64_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024ull;
}

int agent_resources(const char *text, const char *work_dir, px_resources **out, char *err,
                    size_t errlen)
{
	px_resources *rs = NULL;
	int rc;

	if (text != NULL && *text != '\0') {
		rc = px_resources_parse(text, NULL, &rs, err, errlen);
		if (rc != PX_OK)
			return rc;
	} else if ((rs = px_resources_new()) == NULL) {
		return px_errorf(err, errlen, PX_ENOMEM, "out of memory");
	}
	/* What the flag names is kept as given; the rest is detected. */
	px_resources *named = NULL;
	rc = PX_OK;
	if (rc == PX_OK && px_resources_named(rs, "cpus", &named) == PX_OK) {
		if (px_resources_is_empty(named)) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);
			rc = px_resources_add_scalar(rs, "cpus", NULL, (n > 0 ? n : 1) * 1000);
		}
		px_resources_free(named);
	}
	if (rc == PX_OK && px_resources_named(rs, "mem", &named) == PX_OK) {
		if (px_resources_is_empty(named)) {
			int64_t mb = agent_mem_for_tasks(mem_total_bytes());
			rc = px_resources_add_scalar(rs, "mem", NULL, mb * 1000);
		}
		px_resources_free(named);
	}
	if (rc == PX_OK && px_resources_named(rs, "disk", &named) == PX_OK) {
		if (px_resources_is_empty(named)) {
			struct statvfs sv;
			uint64_t total = 0;
			if (statvfs(work_dir, &sv) == 0)
				total = (uint64_t)sv.f_blocks * sv.f_frsize;
			rc = px_resources_add_scalar(rs, "disk", NULL,
			                             agent_disk_for_tasks(total) * 1000);
		}
		px_resources_free(named);
	}
	if (rc == PX_OK && px_resources_named(rs, "ports", &named) == PX_OK) {
		if (px_resources_is_empty(named)) {
			px_resources *ports = NULL;
			rc = px_resources_parse("ports:[31000-32000]", NULL, &ports, err, errlen);
			if (rc == PX_OK)
				rc = px_resources_add(rs, ports);
			px_resources_free(ports);
		}
		px_resources_free(named);
	}
	if (rc != PX_OK) {
		px_resources_free(rs);
		return px_errorf(err, errlen, rc, "detecting resources: %s", px_strerror(rc));
	}
	*out = rs;
	return PX_OK;
}

/* ---- attributes ------------------------------------------------------------------- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The JSON value of one attribute, or NULL with err set. */
static json_t *attribute_json(const char *name, char *value, char *err, size_t errlen)
{
	char *end;
	json_t *j = json_pack("{s:s}", "name", name);
	size_t n = strlen(value);

	if (j == NULL)
		return NULL;
	if (n >= 2 && value[0] == '[' && value[n - 1] == ']') {
		json_t *ranges = json_array();
		value[n - 1] = '\0';
		for (char *save = NULL, *tok = strtok_r(value + 1, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned long long b, e;
			int used = 0;
			tok = trim(tok);
			if (sscanf(tok, "%llu-%llu%n", &b, &e, &used) != 2 || tok[used] != '\0' ||
			    b > e) {
				snprintf(err, errlen, "attribute '%s': bad range '%s'", name, tok);
				json_decref(ranges);
				json_decref(j);
				return NULL;
			}
			json_array_append_new(ranges, json_pack("{s:I,s:I}", "begin", (json_int_t)b,
			                                        "end", (json_int_t)e));
		}
		json_object_set_new(j, "type", json_string("RANGES"));
		json_object_set_new(j, "ranges", json_pack("{s:o}", "range", ranges));
	} else if (n >= 2 && value[0] == '{' && value[n - 1] == '}') {
		json_t *items = json_array();
		value[n - 1] = '\0';
		for (char *save = NULL, *tok = strtok_r(value + 1, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save))
			if (*trim(tok) != '\0')
				json_array_append_new(items, json_string(trim(tok)));
		json_object_set_new(j, "type", json_string("SET"));
		json_object_set_new(j, "set", json_pack("{s:o}", "item", items));
	} else {
		errno = 0;
		double d = strtod(value, &end);
		if (n > 0 && *end == '\0' && errno == 0 && !isspace((unsigned char)value[0])) {
			json_object_set_new(j, "type", json_string("SCALAR"));
			json_object_set_new(j, "scalar", json_pack("{s:f}", "value", d));
		} else {
			json_object_set_new(j, "type", json_string("TEXT"));
			json_object_set_new(j, "text", json_pack("{s:s}", "value", value));
		}
	}
	return j;
}

void agent_attributes_free(Plexus__Attribute **attrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&attrs[i]->base, NULL);
	free(attrs);
}

int agent_attributes_parse(const char *text, Plexus__Attribute ***out, size_t *n, char *err,
                           size_t errlen)
{
	char *copy = strdup(text ? text : "");
	Plexus__Attribute **attrs = NULL;
	size_t count = 0;
	int rc = PX_OK;

	if (copy == NULL)
		return px_errorf(err, errlen, PX_ENOMEM, "out of memory");
	for (char *save = NULL, *tok = strtok_r(copy, ";", &save); tok != NULL;
	     tok = strtok_r(NULL, ";", &save)) {
		tok = trim(tok);
		if (*tok == '\0')
			continue;
		char *colon = strchr(tok, ':');
		if (colon == NULL) {
			rc = px_errorf(err, errlen, PX_EINVAL,
			               "attribute '%s': expected name:value", tok);
			break;
		}
		*colon = '\0';
		char *name = trim(tok), *value = trim(colon + 1);
		if (*name == '\0' || *value == '\0') {
			rc = px_errorf(err, errlen, PX_EINVAL,
			               "attribute '%s:%s': name and value must not be empty", name,
			               value);
			break;
		}
		json_t *j = attribute_json(name, value, err, errlen);
		if (j == NULL) {
			rc = PX_EINVAL;
			break;
		}
		ProtobufCMessage *m = NULL;
		char why[256];
		rc = px_json_to_pb(j, &plexus__attribute__descriptor, &m, why, sizeof(why));
		json_decref(j);
		if (rc != PX_OK) {
			px_errorf(err, errlen, rc, "attribute '%s': %s", name, why);
			break;
		}
		Plexus__Attribute **grown = realloc(attrs, (count + 1) * sizeof(*grown));
		if (grown == NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
			rc = px_errorf(err, errlen, PX_ENOMEM, "out of memory");
			break;
		}
		attrs = grown;
		attrs[count++] = (Plexus__Attribute *)m;
	}
	free(copy);
	if (rc != PX_OK) {
		agent_attributes_free(attrs, count);
		return rc;
	}
	*out = attrs;
	*n = count;
	return PX_OK;
}
