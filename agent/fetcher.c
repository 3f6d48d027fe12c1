/* fetcher.c — copies an executor's URIs into its sandbox (agent/fetcher.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actor/log.h"
#include "agent/fetcher.h"

/* Copies the regular file src to dst (created with mode). 0, or an errno value. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno;
	struct stat st;
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(in);
		return e;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		int e = errno;
		close(in);
		return e;
	}
	char buf[1 << 16];
	int rv = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rv = errno;
				goto done;
			}
			off += w;
		}
	}
done:
	close(in);
	if (close(out) != 0 && rv == 0)
		rv = errno;
	if (rv == 0 && fchmodat(AT_FDCWD, dst, mode, 0) != 0)
		rv = errno;
	return rv;
}

int agent_fetch(const Plexus__CommandInfo *cmd, const char *sandbox, char *err, size_t errlen)
{
	for (size_t i = 0; cmd != NULL && i < cmd->n_uris; i++) {
		const Plexus__CommandInfo__URI *u = cmd->uris[i];
		const char *path = u->value != NULL ? u->value : "";
		if (strncmp(path, "file://", 7) == 0)
			path += 7;
		if (path[0] != '/') {
			snprintf(err, errlen, "cannot fetch '%s': only absolute file paths are fetched",
			         u->value != NULL ? u->value : "");
			return -1;
		}
		const char *base = strrchr(path, '/') + 1;
		if (*base == '\0') {
			snprintf(err, errlen, "cannot fetch '%s': it names no file", path);
			return -1;
		}
		char dst[4096];
		if (snprintf(dst, sizeof(dst), "%s/%s", sandbox, base) >= (int)sizeof(dst)) {
			snprintf(err, errlen, "cannot fetch '%s': the sandbox path is too long", path);
			return -1;
		}
		mode_t mode = u->has_executable && u->executable ? 0755 : 0644;
		int rv = copy_file(path, dst, mode);
		if (rv != 0) {
			snprintf(err, errlen, "cannot fetch '%s': %s", path, strerror(rv));
			return -1;
		}
		actor_debug("fetcher: %s -> %s", path, dst);
	}
	return 0;
}
