/* paths.c — see paths.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/paths.h"

bool agent_path_id_valid(const char *id)
{
	size_t n = id == NULL ? 0 : strlen(id);

	if (n == 0 || n > 255 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int agent_mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return n == 0 ? EINVAL : ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return errno;
		buf[i] = saved;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return errno;
	return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int agent_sandbox_create(const char *work_dir, const char *agent_id, const char *framework_id,
                         const char *executor_id, const char *run, char **out, char *err,
                         size_t errlen)
{
	const char *ids[] = {agent_id, framework_id, executor_id, run};
	const char *what[] = {"agent id", "framework id", "executor id", "run id"};
	char runs[4096], dir[4096], latest[4096];
	int rc;

	for (int i = 0; i < 4; i++)
		if (!agent_path_id_valid(ids[i])) {
			snprintf(err, errlen, "the %s '%s' cannot be a path component", what[i],
			         ids[i] ? ids[i] : "");
			return EINVAL;
		}
	if (snprintf(runs, sizeof(runs), "%s/slaves/%s/frameworks/%s/executors/%s/runs", work_dir,
	             agent_id, framework_id, executor_id) >= (int)sizeof(runs) ||
	    snprintf(dir, sizeof(dir), "%s/%s", runs, run) >= (int)sizeof(dir) ||
	    snprintf(latest, sizeof(latest), "%s/latest", runs) >= (int)sizeof(latest)) {
		snprintf(err, errlen, "sandbox path too long");
		return ENAMETOOLONG;
	}
	if ((rc = agent_mkdirs(dir)) != 0) {
		snprintf(err, errlen, "cannot create the sandbox '%s': %s", dir, strerror(rc));
		return rc;
	}
	/* "latest" is a convenience for people; failing to update it is not fatal. */
	(void)unlink(latest);
	(void)!symlink(run, latest);
	*out = strdup(dir);
	return *out ? 0 : ENOMEM;
}

char *agent_sandbox_virtual(const char *framework_id, const char *executor_id)
{
	char *s = NULL;

	if (asprintf(&s, "/frameworks/%s/executors/%s/runs/latest", framework_id, executor_id) < 0)
		return NULL;
	return s;
}
