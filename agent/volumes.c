/* volumes.c — see volumes.h. */
#include "agent/volumes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/paths.h"

/* The role a resource is reserved for: the innermost reservation, or the legacy role. */
static const char *reserved_role(const Plexus__Resource *r)
{
	if (r->n_reservations > 0 && r->reservations[r->n_reservations - 1]->role)
		return r->reservations[r->n_reservations - 1]->role;
	return r->role && strcmp(r->role, "*") != 0 ? r->role : NULL;
}

/* A container path is relative and stays inside the sandbox: components that are
 * valid ids ("a/b" is fine, "../x" and "/abs" are not). */
static int container_path_valid(const char *path)
{
	if (path == NULL || *path == '\0' || *path == '/' || strlen(path) > 1024)
		return 0;
	char *copy = strdup(path), *save = NULL;
	int ok = copy != NULL;
	for (char *c = ok ? strtok_r(copy, "/", &save) : NULL; c && ok; c = strtok_r(NULL, "/", &save))
		ok = agent_path_id_valid(c);
	free(copy);
	return ok;
}

static int attach_one(const char *work_dir, const Plexus__Resource *r, const char *sandbox,
                      char *err, size_t errlen)
{
	const char *id = r->disk->persistence->id;
	const char *cpath = r->disk->volume->container_path;
	const char *role = reserved_role(r);
	char host[4096], link_path[4096], *cut;
	if (role == NULL || !agent_path_id_valid(role) || !agent_path_id_valid(id) ||
	    !container_path_valid(cpath)) {
		snprintf(err, errlen, "persistent volume '%s': needs a reserved role, an id and a "
		                      "relative container path that stay inside the sandbox",
		         id ? id : "");
		return -1;
	}
	snprintf(host, sizeof(host), "%s/volumes/roles/%s/%s", work_dir, role, id);
	snprintf(link_path, sizeof(link_path), "%s/%s", sandbox, cpath);
	int rc = agent_mkdirs(host);
	if (rc == 0 && (cut = strrchr(link_path, '/')) != NULL) {
		*cut = '\0';
		rc = agent_mkdirs(link_path);
		*cut = '/';
	}
	if (rc == 0 && symlink(host, link_path) != 0 && errno != EEXIST)
		rc = errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot attach persistent volume '%s' at %s: %s", id, link_path,
		         strerror(rc));
		return -1;
	}
	return 0;
}

int agent_volumes_attach(const char *work_dir, Plexus__Resource *const *res, size_t n,
                         const char *sandbox, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const Plexus__Resource *r = res[i];
		if (r->disk == NULL || r->disk->persistence == NULL || r->disk->volume == NULL)
			continue;
		if (attach_one(work_dir, r, sandbox, err, errlen) != 0)
			return -1;
	}
	return 0;
}
