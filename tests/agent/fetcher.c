/* fetcher.c — CommandInfo.uris fetched into the sandbox by a real agent before its
 * real plexus-executor starts: local files, file:// and http:// URLs from an HTTP
 * server of the test's own on 127.0.0.1 (it counts requests), the executable bit,
 * tar.gz and zip extraction, the cache, failures reported as TASK_FAILED with the
 * fetcher's reason, a kill during a fetch, and the MESOS_* environment of a task. */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "harness.h"

static struct harness h;

/* ---- the HTTP server: blobs by path, with a request count each -------------------- */

struct blob {
	const char *path;
	char *data;
	size_t len;
	atomic_int requests;
};

static struct blob blobs[8];
static size_t nblobs;
static nng_http_server *server;
static nng_url *server_url;
static uint16_t server_port;
/* /slow never answers by itself: its request waits here until the test ends. */
static pthread_mutex_t slow_mu = PTHREAD_MUTEX_INITIALIZER;
static nng_aio *slow_aio;
static atomic_int slow_requests;

static void serve_blob(const char *path, const void *data, size_t len)
{
	struct blob *b = &blobs[nblobs++];
	b->path = path;
	b->data = malloc(len ? len : 1);
	memcpy(b->data, data, len);
	b->len = len;
	atomic_init(&b->requests, 0);
}

static int requests(const char *path)
{
	for (size_t i = 0; i < nblobs; i++)
		if (strcmp(blobs[i].path, path) == 0)
			return atomic_load(&blobs[i].requests);
	return -1;
}

static void serve(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	const char *uri = nng_http_req_get_uri(req);
	size_t len = strcspn(uri, "?");
	nng_http_res *res = NULL;

	if (len == 5 && strncmp(uri, "/slow", len) == 0) {
		atomic_fetch_add(&slow_requests, 1);
		pthread_mutex_lock(&slow_mu);
		slow_aio = aio;
		pthread_mutex_unlock(&slow_mu);
		return;
	}
	for (size_t i = 0; i < nblobs; i++)
		if (strlen(blobs[i].path) == len && strncmp(blobs[i].path, uri, len) == 0) {
			atomic_fetch_add(&blobs[i].requests, 1);
			nng_http_res_alloc(&res);
			nng_http_res_copy_data(res, blobs[i].data, blobs[i].len);
			break;
		}
	if (res == NULL)
		nng_http_res_alloc_error(&res, 404);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void server_start(void)
{
	nng_http_handler *hd;
	nng_sockaddr sa;

	cr_assert_eq(nng_url_parse(&server_url, "http://127.0.0.1:0"), 0);
	cr_assert_eq(nng_http_server_hold(&server, server_url), 0);
	cr_assert_eq(nng_http_handler_alloc(&hd, "/", serve), 0);
	cr_assert_eq(nng_http_handler_set_tree(hd), 0);
	cr_assert_eq(nng_http_server_add_handler(server, hd), 0);
	cr_assert_eq(nng_http_server_start(server), 0);
	cr_assert_eq(nng_http_server_get_addr(server, &sa), 0);
	server_port = ntohs(sa.s_in.sa_port);
	cr_assert_neq(server_port, 0);
}

static void server_stop(void)
{
	pthread_mutex_lock(&slow_mu);
	if (slow_aio != NULL) {
		nng_http_res *res;
		nng_http_res_alloc_error(&res, 503);
		nng_aio_set_output(slow_aio, 0, res);
		nng_aio_finish(slow_aio, 0);
		slow_aio = NULL;
	}
	pthread_mutex_unlock(&slow_mu);
	nng_http_server_stop(server);
	nng_http_server_release(server);
	nng_url_free(server_url);
	for (size_t i = 0; i < nblobs; i++)
		free(blobs[i].data);
	nblobs = 0;
}

static char *url(const char *path)
{
	static char buf[4][256];
	static int next;
	char *out = buf[next++ % 4];
	snprintf(out, sizeof(buf[0]), "http://127.0.0.1:%u%s", (unsigned)server_port, path);
	return out;
}

/* ---- archives, made with libarchive ------------------------------------------------ */

/* An archive (format "zip" or "tar.gz") of one file; *len is its size. */
static char *make_archive(const char *format, const char *name, const char *content, size_t *len)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	if (strcmp(format, "zip") == 0) {
		archive_write_set_format_zip(a);
	} else {
		archive_write_add_filter_gzip(a);
		archive_write_set_format_pax_restricted(a);
	}
	cr_assert_eq(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
	cr_assert_eq(archive_write_data(a, content, strlen(content)), (la_ssize_t)strlen(content));
	archive_entry_free(e);
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return buf;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "we");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(path, mode);
}

/* ---- tasks ------------------------------------------------------------------------- */

struct uri {
	const char *value;
	bool executable, no_extract, cache;
	const char *output_file;
};

/* Sends RunTaskMessage for a command task of FRAMEWORK_ID with these URIs. */
static void run_with_uris(const char *task_id, const char *command, const struct uri *uris,
                          size_t n)
{
	Plexus__Internal__RunTaskMessage m = PLEXUS__INTERNAL__RUN_TASK_MESSAGE__INIT;
	Plexus__FrameworkInfo fi = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	Plexus__TaskInfo t = PLEXUS__TASK_INFO__INIT;
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	Plexus__CommandInfo__URI u[8], *up[8];

	cr_assert_leq(n, 8);
	for (size_t i = 0; i < n; i++) {
		plexus__command_info__uri__init(&u[i]);
		u[i].value = (char *)uris[i].value;
		u[i].has_executable = uris[i].executable;
		u[i].executable = uris[i].executable;
		u[i].has_extract = uris[i].no_extract;
		u[i].extract = !uris[i].no_extract;
		u[i].has_cache = uris[i].cache;
		u[i].cache = uris[i].cache;
		u[i].output_file = (char *)uris[i].output_file;
		up[i] = &u[i];
	}
	fid.value = (char *)FRAMEWORK_ID;
	fi.user = (char *)"tester";
	fi.name = (char *)"fetcher-tests";
	fi.id = &fid;
	tid.value = (char *)task_id;
	aid.value = (char *)AGENT_ID;
	cmd.value = (char *)command;
	cmd.n_uris = n;
	cmd.uris = up;
	t.name = (char *)task_id;
	t.task_id = &tid;
	t.agent_id = &aid;
	t.command = &cmd;
	m.framework_id = &fid;
	m.framework = &fi;
	m.framework_pid = (char *)"scheduler-test@127.0.0.1:1";
	m.task = &t;
	master_send(h.agent, &m.base);
}

/* Waits (real time) for a terminal update of task_id; false on timeout. */
static bool wait_terminal(const char *task_id, struct seen_update *out, int64_t timeout_ms)
{
	for (int64_t waited = 0; waited <= timeout_ms; waited += 10) {
		struct seen_update got[64];
		size_t n = master_updates(got, 64);
		for (size_t i = 0; i < n; i++) {
			int s = got[i].state;
			if (strcmp(got[i].task_id, task_id) == 0 &&
			    (s == PLEXUS__TASK_STATE__TASK_FINISHED ||
			     s == PLEXUS__TASK_STATE__TASK_FAILED ||
			     s == PLEXUS__TASK_STATE__TASK_KILLED ||
			     s == PLEXUS__TASK_STATE__TASK_LOST ||
			     s == PLEXUS__TASK_STATE__TASK_ERROR)) {
				*out = got[i];
				return true;
			}
		}
		usleep(10000);
	}
	return false;
}

static void expect_finished(const char *task_id)
{
	struct seen_update u;
	cr_assert(wait_terminal(task_id, &u, 20000), "task %s did not end", task_id);
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FINISHED, "task %s: state %d (%s)", task_id,
	             u.state, u.message);
}

/* The task failed at its fetch: TASK_FAILED, container launch failed, a message that
 * names the URI and holds reason; the same line is in the sandbox's stderr. */
static void expect_fetch_failure(const char *task_id, const char *uri, const char *reason)
{
	struct seen_update u;
	char want[512];

	cr_assert(wait_terminal(task_id, &u, 20000), "task %s did not end", task_id);
	cr_assert_eq(u.state, PLEXUS__TASK_STATE__TASK_FAILED, "task %s: state %d (%s)", task_id,
	             u.state, u.message);
	cr_assert_eq(u.reason, PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED);
	cr_assert_eq(u.source, PLEXUS__TASK_STATUS__SOURCE__SOURCE_AGENT);
	snprintf(want, sizeof(want), "Failed to fetch '%s': ", uri);
	cr_assert(strstr(u.message, "Failed to fetch all URIs for container") != NULL, "%s",
	          u.message);
	cr_assert(strstr(u.message, want) != NULL, "'%s' not in '%s'", want, u.message);
	cr_assert(strstr(u.message, reason) != NULL, "'%s' not in '%s'", reason, u.message);
	char *dir = sandbox_of(&h, task_id);
	cr_assert_not_null(dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/stderr", dir);
	char *log = read_file(path);
	cr_assert(log != NULL && strstr(log, want) != NULL, "fetcher log: %s", log);
	free(log);
	free(dir);
}

static char *sandbox_file(const char *task_id, const char *name)
{
	char *dir = sandbox_of(&h, task_id);
	cr_assert_not_null(dir, "no sandbox for %s", task_id);
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	free(dir);
	return read_file(path);
}

static void setup(void)
{
	harness_start(&h);
	server_start();
}

static void teardown(void)
{
	harness_stop(&h);
	server_stop();
}

TestSuite(fetcher, .init = setup, .fini = teardown, .timeout = 60);

Test(fetcher, local_file_and_http_url_land_in_the_sandbox_executable_when_asked)
{
	char script[512], plain[512];
	snprintf(script, sizeof(script), "%s/hello.sh", h.work_dir);
	snprintf(plain, sizeof(plain), "%s/notes.txt", h.work_dir);
	write_file(script, "#!/bin/sh\necho script ran\n", 26, 0644);
	write_file(plain, "local notes\n", 12, 0644);
	serve_blob("/data/greeting.txt", "hello over http\n", 16);
	harness_start_agent(&h, "cpus:1;mem:128", NULL);

	char file_url[600];
	snprintf(file_url, sizeof(file_url), "file://%s", plain);
	const struct uri uris[] = {
	    {.value = script, .executable = true},
	    {.value = file_url},
	    {.value = url("/data/greeting.txt?version=3")},
	    {.value = url("/data/greeting.txt"), .output_file = "sub/renamed.txt"},
	};
	run_with_uris(
	    "t-fetch",
	    "./hello.sh && cat notes.txt greeting.txt sub/renamed.txt && test -x hello.sh "
	    "&& test ! -x greeting.txt",
	    uris, 4);
	expect_finished("t-fetch");
	char *out = sandbox_file("t-fetch", "stdout");
	cr_assert_str_eq(out, "script ran\nlocal notes\nhello over http\nhello over http\n");
	free(out);
	cr_assert_eq(requests("/data/greeting.txt"), 2);
	/* The fetcher's log went to the sandbox's stderr. */
	char *log = sandbox_file("t-fetch", "stderr");
	cr_assert(strstr(log, "Made '") != NULL && strstr(log, "Downloading resource from") != NULL,
	          "%s", log);
	free(log);
}

Test(fetcher, tar_gz_and_zip_are_extracted_unless_told_not_to)
{
	size_t tlen, zlen;
	char *tgz = make_archive("tar.gz", "dir/from-tar.txt", "packed in a tarball\n", &tlen);
	char *zip = make_archive("zip", "from-zip.txt", "packed in a zip\n", &zlen);
	char zpath[512];
	snprintf(zpath, sizeof(zpath), "%s/bundle.zip", h.work_dir);
	write_file(zpath, zip, zlen, 0644);
	serve_blob("/bundle.tar.gz", tgz, tlen);
	serve_blob("/kept.tgz", tgz, tlen);
	free(tgz);
	free(zip);
	harness_start_agent(&h, "cpus:1;mem:128", NULL);

	const struct uri uris[] = {
	    {.value = url("/bundle.tar.gz")},
	    {.value = zpath},
	    {.value = url("/kept.tgz"), .no_extract = true},
	};
	run_with_uris(
	    "t-extract",
	    "cat dir/from-tar.txt from-zip.txt && test -f bundle.tar.gz && test -f kept.tgz", uris,
	    3);
	expect_finished("t-extract");
	char *out = sandbox_file("t-extract", "stdout");
	cr_assert_str_eq(out, "packed in a tarball\npacked in a zip\n");
	free(out);
}

Test(fetcher, a_cached_uri_is_downloaded_once)
{
	serve_blob("/tool.bin", "cached content\n", 15);
	serve_blob("/fresh.bin", "fetched each time\n", 18);
	harness_start_agent(&h, "cpus:1;mem:128", NULL);

	const struct uri uris[] = {
	    {.value = url("/tool.bin"), .cache = true},
	    {.value = url("/fresh.bin")},
	};
	run_with_uris("t-cache-1", "cat tool.bin fresh.bin", uris, 2);
	expect_finished("t-cache-1");
	run_with_uris("t-cache-2", "cat tool.bin fresh.bin", uris, 2);
	expect_finished("t-cache-2");
	for (int i = 1; i <= 2; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t-cache-%d", i);
		char *out = sandbox_file(id, "stdout");
		cr_assert_str_eq(out, "cached content\nfetched each time\n", "%s: %s", id, out);
		free(out);
	}
	cr_assert_eq(requests("/tool.bin"), 1, "the cached URI was downloaded again");
	cr_assert_eq(requests("/fresh.bin"), 2);
	char *log = sandbox_file("t-cache-2", "stderr");
	cr_assert(strstr(log, "Found '") != NULL, "%s", log);
	free(log);
	/* The cache lives under the work dir by default. */
	char dir[600];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/fetch", h.work_dir);
	cr_assert(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
}

Test(fetcher, failures_name_the_uri_and_the_reason)
{
	char missing[512], corrupt[512];
	snprintf(missing, sizeof(missing), "%s/no-such-file.sh", h.work_dir);
	snprintf(corrupt, sizeof(corrupt), "%s/broken.tar.gz", h.work_dir);
	write_file(corrupt, "this is not a tarball at all", 28, 0644);
	serve_blob("/garbage.zip", "PK\x03\x04 truncated nonsense", 24);
	harness_start_agent(&h, "cpus:4;mem:512", NULL);

	/* A refused connection: a port nothing listens on (bound, never listened). */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sl), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	char refused[128];
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%u/x.tgz",
	         (unsigned)ntohs(sa.sin_port));

	const struct uri u_missing = {.value = missing};
	const struct uri u_404 = {.value = url("/not-there.tgz")};
	const struct uri u_corrupt = {.value = corrupt};
	const struct uri u_zip = {.value = url("/garbage.zip")};
	const struct uri u_refused = {.value = refused};
	const struct uri u_relative = {.value = "relative/path.sh"};
	run_with_uris("t-missing", "true", &u_missing, 1);
	run_with_uris("t-404", "true", &u_404, 1);
	run_with_uris("t-corrupt", "true", &u_corrupt, 1);
	run_with_uris("t-zip", "true", &u_zip, 1);
	run_with_uris("t-refused", "true", &u_refused, 1);
	run_with_uris("t-relative", "true", &u_relative, 1);
	expect_fetch_failure("t-missing", missing, "No such file or directory");
	expect_fetch_failure("t-404", u_404.value, "received HTTP return code 404");
	expect_fetch_failure("t-corrupt", corrupt, "Failed to extract 'broken.tar.gz'");
	expect_fetch_failure("t-zip", u_zip.value, "Failed to extract 'garbage.zip'");
	expect_fetch_failure("t-refused", refused, "Connection refused");
	expect_fetch_failure("t-relative", "relative/path.sh", "relative path");
	close(s);
	/* No executor ever started for them. */
	cr_assert_eq(master_exited_executors(), 0);
}

Test(fetcher, a_framework_executor_whose_fetch_fails_fails_its_task)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	Plexus__ExecutorInfo ei = PLEXUS__EXECUTOR_INFO__INIT;
	Plexus__ExecutorID eid = PLEXUS__EXECUTOR_ID__INIT;
	Plexus__CommandInfo cmd = PLEXUS__COMMAND_INFO__INIT;
	Plexus__CommandInfo__URI u = PLEXUS__COMMAND_INFO__URI__INIT, *up = &u;
	eid.value = (char *)"t-custom"; /* so that sandbox_of finds its sandbox */
	u.value = url("/my-executor.tgz");
	cmd.value = (char *)"./my-executor";
	cmd.n_uris = 1;
	cmd.uris = &up;
	ei.executor_id = &eid;
	ei.command = &cmd;
	run_task(&h, "t-custom", NULL, &ei, -1);
	/* Not TASK_LOST, as for an executor that died: its container never launched. */
	expect_fetch_failure("t-custom", u.value, "received HTTP return code 404");
}

Test(fetcher, a_cache_too_small_fails_the_task)
{
	static char big[4096];
	memset(big, 'x', sizeof(big));
	serve_blob("/big.bin", big, sizeof(big));
	h.fetcher_cache_size = 1024;
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	const struct uri u = {.value = url("/big.bin"), .cache = true};
	run_with_uris("t-small", "true", &u, 1);
	expect_fetch_failure("t-small", u.value, "the fetcher cache is too small");
}

Test(fetcher, a_kill_during_a_fetch_ends_the_task_and_the_agent_never_blocks)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	const struct uri u = {.value = url("/slow")};
	run_with_uris("t-slow", "true", &u, 1);
	for (int i = 0; i < 2000 && atomic_load(&slow_requests) == 0; i++)
		usleep(5000);
	cr_assert_eq(atomic_load(&slow_requests), 1, "the fetch did not start");
	/* The download hangs; the agent's actor still answers. */
	char target[128], *body = NULL;
	snprintf(target, sizeof(target), "/%s/state", h.agent.id);
	cr_assert_eq(http_get(h.http_port, target, &body), 200);
	cr_assert(strstr(body, "t-slow") != NULL, "%s", body);
	free(body);
	kill_task(&h, "t-slow");
	struct seen_update u2;
	cr_assert(wait_terminal("t-slow", &u2, 10000), "the kill was not answered");
	cr_assert_eq(u2.state, PLEXUS__TASK_STATE__TASK_KILLED, "%d (%s)", u2.state, u2.message);
	cr_assert_eq(master_exited_executors(), 0);
}

Test(fetcher, a_task_sees_mesos_environment)
{
	harness_start_agent(&h, "cpus:1;mem:128", NULL);
	run_task(&h, "t-env",
	         "echo \"$MESOS_SANDBOX|$MESOS_DIRECTORY|$MESOS_TASK_ID|$MESOS_FRAMEWORK_ID|"
	         "$MESOS_EXECUTOR_ID|$MESOS_SLAVE_ID|$MESOS_AGENT_ID|$MESOS_SLAVE_PID|"
	         "$MESOS_AGENT_ENDPOINT|$MESOS_CHECKPOINT|$MESOS_RECOVERY_TIMEOUT|"
	         "$MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD|$PLEXUS_EXECUTOR_ID\"",
	         NULL, -1);
	expect_finished("t-env");
	char *dir = sandbox_of(&h, "t-env");
	char agent[ACTOR_PID_TEXT_MAX], want[4096];
	actor_pid_format(h.agent, agent, sizeof(agent));
	snprintf(want, sizeof(want),
	         "%s|%s|t-env|%s|t-env|%s|%s|%s|127.0.0.1:%u|1|15mins|5secs|t-env\n", dir, dir,
	         FRAMEWORK_ID, AGENT_ID, AGENT_ID, agent, (unsigned)h.http_port);
	char *out = sandbox_file("t-env", "stdout");
	cr_assert_str_eq(out, want);
	free(out);
	free(dir);
}

/* ---- flags ------------------------------------------------------------------------- */

static int parse_flag(struct agent_flags *f, const char *flag)
{
	char *argv[] = {(char *)"agent", (char *)"--master=127.0.0.1:5050", (char *)flag, NULL};
	agent_flags_default(f);
	return agent_flags_parse(f, flag ? 3 : 2, argv);
}

Test(fetcher_flags, cache_dir_and_size_with_mesos_units, .init = cr_redirect_stderr)
{
	struct agent_flags f;
	cr_assert_eq(parse_flag(&f, NULL), 0);
	cr_assert_null(f.fetcher_cache_dir);
	cr_assert_eq(f.fetcher_cache_size, 2ULL << 30, "Mesos's default is 2GB");
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-size=512MB"), 0);
	cr_assert_eq(f.fetcher_cache_size, 512ULL << 20);
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-size=100KB"), 0);
	cr_assert_eq(f.fetcher_cache_size, 100ULL << 10);
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-size=4096"), 0);
	cr_assert_eq(f.fetcher_cache_size, 4096);
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-dir=/var/cache/plexus"), 0);
	cr_assert_str_eq(f.fetcher_cache_dir, "/var/cache/plexus");
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-size=lots"), 2);
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-size=-1GB"), 2);
	cr_assert_eq(parse_flag(&f, "--fetcher-cache-size=2XB"), 2);
}
