/* registrar.c — the registry in <work_dir>/registry.json.
 *
 * The file is a JSON object {"agents": [AgentInfo, ...], "weights": {...}, "quotas":
 * {...}, "down_machines": [...]}: agents in protobuf's JSON mapping
 * (common/json_pb.h), the operator's settings as registrar.h shows them, so an operator
 * can read it. Each change rewrites it whole: registry.json.tmp, fsync, rename, fsync
 * of the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "actor/log.h"
#include "common/json_pb.h"
#include "common/resources.h"
#include "master/allocator/allocator.h"
#include "master/idmap.h"
#include "master/registrar.h"

/* The keys of the operator's settings, in the order they are written. */
static const char *const setting_keys[] = {"weights", "quotas", "down_machines"};
#define N_SETTINGS (sizeof(setting_keys) / sizeof(setting_keys[0]))

struct mst_registrar {
	char *dir; /* NULL: in memory */
	char *path;
	char *tmp;
	Plexus__AgentInfo **agents;
	size_t n;
	/* agent id -> index + 1 in agents, so admitting 10,000 agents is not quadratic;
	 * keys are the ids inside agents[]. When stale (out of memory), lookups scan. */
	struct mst_idmap index;
	bool index_stale;
	json_t *settings[N_SETTINGS]; /* NULL: never set */
};

static void index_rebuild(struct mst_registrar *r);

static int setting_index(const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (strcmp(setting_keys[i], key) == 0)
			return (int)i;
	return -1;
}

static void agents_free(Plexus__AgentInfo **agents, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&agents[i]->base, NULL);
	free(agents);
}

void mst_registrar_close(struct mst_registrar *r)
{
	if (r == NULL)
		return;
	agents_free(r->agents, r->n);
	mst_idmap_fini(&r->index);
	for (size_t i = 0; i < N_SETTINGS; i++)
		json_decref(r->settings[i]);
	free(r->dir);
	free(r->path);
	free(r->tmp);
	free(r);
}

static int mkdirs(const char *dir)
{
	char buf[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return EINVAL;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

static bool resources_valid(const json_t *v)
{
	px_resources *rs = NULL;
	char err[256];

	if (v == NULL)
		return true;
	if (px_resources_from_json(v, &rs, err, sizeof(err)) != PX_OK)
		return false;
	px_resources_free(rs);
	return true;
}

/* The shapes registrar.h gives, checked when the file is read. */
static bool setting_valid(const char *key, const json_t *v, char *why, size_t whylen)
{
	const char *role;
	json_t *x;

	if (strcmp(key, "weights") == 0 && json_is_object(v)) {
		json_object_foreach((json_t *)v, role, x)
		{
			if (!alloc_role_valid(role, true) || !json_is_number(x) ||
			    !(json_number_value(x) > 0)) {
				snprintf(why, whylen, "weights: bad entry for role '%s'", role);
				return false;
			}
		}
		return true;
	}
	if (strcmp(key, "quotas") == 0 && json_is_object(v)) {
		json_object_foreach((json_t *)v, role, x)
		{
			if (!alloc_role_valid(role, false) || !json_is_object(x) ||
			    !resources_valid(json_object_get(x, "guarantee")) ||
			    !resources_valid(json_object_get(x, "limit"))) {
				snprintf(why, whylen, "quotas: bad entry for role '%s'", role);
				return false;
			}
		}
		return true;
	}
	if (strcmp(key, "down_machines") == 0 && json_is_array(v)) {
		size_t i;
		json_array_foreach((json_t *)v, i, x)
		{
			if (!json_is_object(x)) {
				snprintf(why, whylen, "down_machines[%zu] is not an object", i);
				return false;
			}
		}
		return true;
	}
	snprintf(why, whylen, "'%s' does not have its shape", key);
	return false;
}

static int load(struct mst_registrar *r, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *root = json_load_file(r->path, 0, &jerr);

	if (root == NULL) {
		if (access(r->path, F_OK) != 0)
			return 0; /* no registry yet: a first start */
		snprintf(why, whylen, "%s: %s (line %d)", r->path, jerr.text, jerr.line);
		return EINVAL;
	}
	json_t *agents = json_object_get(root, "agents");
	if (agents != NULL && !json_is_array(agents)) {
		snprintf(why, whylen, "%s: 'agents' is not an array", r->path);
		json_decref(root);
		return EINVAL;
	}
	for (size_t i = 0; i < N_SETTINGS; i++) {
		json_t *v = json_object_get(root, setting_keys[i]);
		if (v == NULL)
			continue;
		if (!setting_valid(setting_keys[i], v, why, whylen)) {
			json_decref(root);
			return EINVAL;
		}
		r->settings[i] = json_incref(v);
	}
	size_t n = json_array_size(agents);
	r->agents = calloc(n ? n : 1, sizeof(*r->agents));
	if (r->agents == NULL) {
		json_decref(root);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ProtobufCMessage *msg = NULL;
		char err[256];
		if (px_json_to_pb(json_array_get(agents, i), &plexus__agent_info__descriptor, &msg,
		                  err, sizeof(err)) != PX_OK) {
			snprintf(why, whylen, "%s: agents[%zu]: %s", r->path, i, err);
			json_decref(root);
			return EINVAL;
		}
		Plexus__AgentInfo *info = (Plexus__AgentInfo *)msg;
		if (info->id == NULL || info->id->value == NULL || info->id->value[0] == '\0') {
			snprintf(why, whylen, "%s: agents[%zu]: no id", r->path, i);
			protobuf_c_message_free_unpacked(msg, NULL);
			json_decref(root);
			return EINVAL;
		}
		r->agents[r->n++] = info;
	}
	json_decref(root);
	index_rebuild(r);
	return 0;
}

struct mst_registrar *mst_registrar_open(const char *work_dir, int *err, char *why, size_t whylen)
{
	struct mst_registrar *r = calloc(1, sizeof(*r));
	int rv = 0;

	if (r == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	if (work_dir == NULL)
		return r;
	r->dir = strdup(work_dir);
	if (r->dir == NULL || asprintf(&r->path, "%s/registry.json", work_dir) < 0 ||
	    asprintf(&r->tmp, "%s/registry.json.tmp", work_dir) < 0) {
		r->path = r->tmp = NULL;
		rv = ENOMEM;
	} else if ((rv = mkdirs(work_dir)) != 0) {
		snprintf(why, whylen, "cannot create %s: %s", work_dir, strerror(rv));
	} else {
		rv = load(r, why, whylen);
	}
	if (rv != 0) {
		mst_registrar_close(r);
		*err = rv;
		return NULL;
	}
	return r;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, data, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		data += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Writes agents[0..n) and settings as the registry file. */
static int persist(struct mst_registrar *r, Plexus__AgentInfo *const *agents, size_t n,
                   json_t *const *settings)
{
	if (r->dir == NULL)
		return 0;
	json_t *root = json_object();
	json_t *arr = json_array();
	int rv = 0;

	if (root == NULL || arr == NULL || json_object_set_new(root, "agents", arr) != 0) {
		json_decref(root);
		return ENOMEM;
	}
	for (size_t i = 0; i < n && rv == 0; i++)
		if (json_array_append_new(arr, px_pb_to_json(&agents[i]->base)) != 0)
			rv = ENOMEM;
	for (size_t i = 0; i < N_SETTINGS && rv == 0; i++)
		if (settings[i] != NULL && json_object_set(root, setting_keys[i], settings[i]) != 0)
			rv = ENOMEM;
	char *text = rv == 0 ? json_dumps(root, PX_JSON_DUMP_FLAGS) : NULL;
	json_decref(root);
	if (text == NULL)
		return ENOMEM;

	int fd = open(r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rv = errno;
	} else {
		rv = write_all(fd, text, strlen(text));
		if (rv == 0 && fsync(fd) != 0)
			rv = errno;
		if (close(fd) != 0 && rv == 0)
			rv = errno;
	}
	free(text);
	if (rv == 0 && rename(r->tmp, r->path) != 0)
		rv = errno;
	if (rv == 0) {
		/* The rename is durable only once the directory is. */
		int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	} else {
		actor_error("registry: cannot write %s: %s", r->path, strerror(rv));
		unlink(r->tmp);
	}
	return rv;
}

static void index_rebuild(struct mst_registrar *r)
{
	mst_idmap_fini(&r->index);
	r->index_stale = false;
	for (size_t i = 0; i < r->n && !r->index_stale; i++)
		if (mst_idmap_put(&r->index, r->agents[i]->id->value, (void *)(uintptr_t)(i + 1)) !=
		    0)
			r->index_stale = true;
}

static void index_set(struct mst_registrar *r, size_t i)
{
	if (!r->index_stale &&
	    mst_idmap_put(&r->index, r->agents[i]->id->value, (void *)(uintptr_t)(i + 1)) != 0)
		r->index_stale = true;
}

static ssize_t index_of(const struct mst_registrar *r, const char *id)
{
	if (!r->index_stale)
		return (ssize_t)(uintptr_t)mst_idmap_get(&r->index, id) - 1;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->agents[i]->id->value, id) == 0)
			return (ssize_t)i;
	return -1;
}

int mst_registrar_admit(struct mst_registrar *r, const Plexus__AgentInfo *info)
{
	if (info->id == NULL || info->id->value == NULL)
		return EINVAL;
	size_t len = protobuf_c_message_get_packed_size(&info->base);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return ENOMEM;
	protobuf_c_message_pack(&info->base, buf);
	Plexus__AgentInfo *copy = plexus__agent_info__unpack(NULL, len, buf);
	free(buf);
	if (copy == NULL)
		return ENOMEM;

	ssize_t at = index_of(r, info->id->value);
	size_t n = at >= 0 ? r->n : r->n + 1;
	Plexus__AgentInfo **next = calloc(n, sizeof(*next));
	if (next == NULL) {
		protobuf_c_message_free_unpacked(&copy->base, NULL);
		return ENOMEM;
	}
	if (r->n > 0)
		memcpy(next, r->agents, r->n * sizeof(*next));
	next[at >= 0 ? (size_t)at : r->n] = copy;
	int rv = persist(r, next, n, r->settings);
	if (rv != 0) {
		protobuf_c_message_free_unpacked(&copy->base, NULL);
		free(next);
		return rv;
	}
	Plexus__AgentInfo *old = at >= 0 ? r->agents[at] : NULL;
	free(r->agents);
	r->agents = next;
	r->n = n;
	/* Before the old copy goes: the index's key becomes the new copy's id. */
	index_set(r, at >= 0 ? (size_t)at : n - 1);
	if (old != NULL)
		protobuf_c_message_free_unpacked(&old->base, NULL);
	return 0;
}

int mst_registrar_remove(struct mst_registrar *r, const char *agent_id)
{
	ssize_t at = index_of(r, agent_id);

	if (at < 0)
		return 0;
	Plexus__AgentInfo *gone = r->agents[at];
	Plexus__AgentInfo **next = calloc(r->n, sizeof(*next));
	size_t n = 0;
	if (next == NULL)
		return ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		if ((ssize_t)i != at)
			next[n++] = r->agents[i];
	int rv = persist(r, next, n, r->settings);
	if (rv != 0) {
		free(next);
		return rv;
	}
	free(r->agents);
	r->agents = next;
	r->n = n;
	index_rebuild(r); /* the ones after it moved down; removals are rare */
	protobuf_c_message_free_unpacked(&gone->base, NULL);
	return 0;
}

const Plexus__AgentInfo *mst_registrar_find(const struct mst_registrar *r, const char *agent_id)
{
	ssize_t at = index_of(r, agent_id);

	return at >= 0 ? r->agents[at] : NULL;
}

size_t mst_registrar_count(const struct mst_registrar *r)
{
	return r->n;
}

const Plexus__AgentInfo *mst_registrar_at(const struct mst_registrar *r, size_t i)
{
	return i < r->n ? r->agents[i] : NULL;
}

const json_t *mst_registrar_get(const struct mst_registrar *r, const char *key)
{
	int i = setting_index(key);

	return i >= 0 ? r->settings[i] : NULL;
}

int mst_registrar_put(struct mst_registrar *r, const char *key, json_t *value)
{
	int i = setting_index(key);

	if (i < 0 || value == NULL) {
		json_decref(value);
		return EINVAL;
	}
	json_t *next[N_SETTINGS];
	memcpy(next, r->settings, sizeof(next));
	next[i] = value;
	int rv = persist(r, r->agents, r->n, next);
	if (rv != 0) {
		json_decref(value);
		return rv;
	}
	json_decref(r->settings[i]);
	r->settings[i] = value;
	return 0;
}
