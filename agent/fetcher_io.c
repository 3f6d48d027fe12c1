/* fetcher_io.c — the fetcher's disk and network work: local copies, HTTP downloads
 * with libcurl, archives unpacked with libarchive (agent/fetcher_internal.h). */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/fetcher_internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void fetch_io_init(void)
{
	pthread_once(&curl_once, curl_init);
}

const char *fetch_local_path(const char *uri)
{
	if (uri[0] == '/')
		return uri;
	if (strncmp(uri, "file://", 7) == 0 && uri[7] == '/')
		return uri + 7;
	return NULL;
}

int fetch_copy(const char *src, const char *dst, mode_t mode, char *err, size_t errlen)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rv = 0;

	if (in < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s",
		         S_ISDIR(st.st_mode) ? "it is a directory" : "not a file");
		close(in);
		return -1;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", dst, strerror(errno));
		close(in);
		return -1;
	}
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rv = n < 0 ? errno : 0;
			break;
		}
		for (ssize_t off = 0; off < n && rv == 0;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				rv = errno;
			else if (w > 0)
				off += w;
		}
		if (rv != 0)
			break;
	}
	close(in);
	if (close(out) != 0 && rv == 0)
		rv = errno;
	if (rv == 0 && chmod(dst, mode) != 0)
		rv = errno;
	if (rv != 0) {
		snprintf(err, errlen, "cannot copy to '%s': %s", dst, strerror(rv));
		unlink(dst);
		return -1;
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------------- */

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	return fwrite(data, size, n, arg) * size;
}

/* Returning non-zero makes curl stop with CURLE_ABORTED_BY_CALLBACK. */
static int progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	return fetch_aborted(arg);
}

static int http_download(const struct fetch_ctx *ctx, const char *url, const char *dst, char *err,
                         size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	long code = 0;
	FILE *out = fopen(dst, "we");

	if (out == NULL) {
		snprintf(err, errlen, "cannot create '%s': %s", dst, strerror(errno));
		return -1;
	}
	CURL *c = curl_easy_init();
	if (c == NULL) {
		fclose(out);
		unlink(dst);
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	/* Threads: no signals for timeouts (curl would otherwise use SIGALRM). */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer (under 1 byte/s for a minute) fails instead of hanging. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)ctx);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	long os_errno = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_cleanup(c);
	bool written = fclose(out) == 0;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		snprintf(err, errlen, "the fetch was aborted");
	else if (rc != CURLE_OK && os_errno != 0)
		snprintf(err, errlen, "Error downloading resource: %s (%s)",
		         curl_err[0] ? curl_err : curl_easy_strerror(rc), strerror((int)os_errno));
	else if (rc != CURLE_OK)
		snprintf(err, errlen, "Error downloading resource: %s",
		         curl_err[0] ? curl_err : curl_easy_strerror(rc));
	else if (code < 200 || code >= 300)
		snprintf(err, errlen, "Error downloading resource, received HTTP return code %ld",
		         code);
	else if (!written)
		snprintf(err, errlen, "cannot write '%s': %s", dst, strerror(errno));
	else
		return 0;
	unlink(dst);
	return -1;
}

int fetch_download(const struct fetch_ctx *ctx, const char *uri, const char *dst, char *err,
                   size_t errlen)
{
	const char *path = fetch_local_path(uri);

	if (path != NULL) {
		fetch_logf(ctx, "Copying resource with command: cp '%s' '%s'", path, dst);
		return fetch_copy(path, dst, 0644, err, errlen);
	}
	if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) {
		fetch_logf(ctx, "Downloading resource from '%s' to '%s'", uri, dst);
		return http_download(ctx, uri, dst, err, errlen);
	}
	if (strstr(uri, "://") == NULL)
		snprintf(err, errlen, "a relative path cannot be fetched (give an absolute path)");
	else
		snprintf(err, errlen, "unsupported scheme (file, http and https are fetched)");
	return -1;
}

/* ---- archives --------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

bool fetch_is_archive(const char *name)
{
	static const char *const suffixes[] = {".tar",  ".tar.gz", ".tgz", ".tar.bz2",
	                                       ".tbz2", ".tar.xz", ".txz", ".zip"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (ends_with(name, suffixes[i]))
			return true;
	return false;
}

static const char *archive_why(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s != NULL ? s : "unknown archive error";
}

/* Whether an entry's path stays inside the directory it is unpacked into. */
static bool path_inside(const char *p)
{
	if (p == NULL || *p == '\0' || *p == '/')
		return false;
	for (const char *s = p; *s != '\0';) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* Rewrites an entry's path (and hard link target) to lie under dir. */
static int relocate(struct archive_entry *e, const char *dir, char *err, size_t errlen)
{
	const char *p = archive_entry_pathname(e);
	const char *link = archive_entry_hardlink(e);
	char *full = NULL;

	if (!path_inside(p) || (link != NULL && !path_inside(link))) {
		snprintf(err, errlen, "the entry '%s' would land outside the sandbox", p ? p : "");
		return -1;
	}
	if (asprintf(&full, "%s/%s", dir, p) < 0)
		goto oom;
	archive_entry_set_pathname(e, full);
	free(full);
	if (link != NULL) {
		if (asprintf(&full, "%s/%s", dir, link) < 0)
			goto oom;
		archive_entry_set_hardlink(e, full);
		free(full);
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int fetch_extract(const struct fetch_ctx *ctx, const char *archive, const char *dir, char *err,
                  size_t errlen)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	int rv = -1, r;
	size_t entries = 0;

	if (in == NULL || out == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	archive_read_support_format_zip(in);
	/* Symlinks may not lead an entry out; owners stay the agent's. */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
	                                        ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	                                        ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	if (archive_read_open_filename(in, archive, 1 << 16) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_why(in));
		goto done;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (fetch_aborted(ctx)) {
			snprintf(err, errlen, "the fetch was aborted");
			goto done;
		}
		if (relocate(e, dir, err, errlen) != 0)
			goto done;
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			snprintf(err, errlen, "%s", archive_why(out));
			goto done;
		}
		const void *buf;
		size_t len;
		la_int64_t off;
		while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN) {
				snprintf(err, errlen, "%s", archive_why(out));
				goto done;
			}
		if (r != ARCHIVE_EOF) {
			snprintf(err, errlen, "%s", archive_why(in));
			goto done;
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			snprintf(err, errlen, "%s", archive_why(out));
			goto done;
		}
		entries++;
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, errlen, "%s", archive_why(in));
		goto done;
	}
	fetch_logf(ctx, "Extracted '%s' into '%s' (%zu entries)", archive, dir, entries);
	rv = 0;
done:
	if (in != NULL)
		archive_read_free(in);
	if (out != NULL)
		archive_write_free(out);
	return rv;
}
