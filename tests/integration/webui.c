/* webui.c — the web UI in a real browser (Debian's headless Chromium) against a real
 * `plexus local`: the page is loaded before any task exists, a task is launched, and
 * the page shows it appear and finish through the operator SUBSCRIBE stream; then its
 * sandbox page shows its stdout and a working download link. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

#define CHROMIUM "/usr/bin/chromium"

static int port;
static char master_flag[64];

static bool healthy(void *arg)
{
	return http_get(port, "/health", NULL) == 200 && master_active_agents(port) == 1;
}

static void setup(void)
{
	char port_flag[32], work[512];

	harness_init();
	port = free_port();
	snprintf(port_flag, sizeof(port_flag), "--port=%d", port);
	snprintf(master_flag, sizeof(master_flag), "--master=127.0.0.1:%d", port);
	snprintf(work, sizeof(work), "--work-dir=%s/local", harness_dir());
	plexus_spawnl("local", "local", "--agents=1", port_flag, work,
	              "--resources=cpus:1;mem:512;disk:1024", "--allocation-interval=100ms", NULL);
	cr_assert(wait_until(10000, healthy, NULL), "plexus local never came up");
}

static void teardown(void)
{
	harness_fini();
}

TestSuite(webui, .init = setup, .fini = teardown, .timeout = 150);

/* Starts Chromium dumping the DOM of url after budget_ms of (virtual) time into out. */
static pid_t chromium_start(const char *url, int budget_ms, const char *out)
{
	char budget[64], profile[600];
	snprintf(budget, sizeof(budget), "--virtual-time-budget=%d", budget_ms);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/chromium-%d", harness_dir(),
	         budget_ms);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(null, 2);
		execl(CHROMIUM, "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		      "--no-first-run", profile, budget, "--dump-dom", url, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Waits for Chromium and returns what it dumped (malloc'ed; "" on failure). */
static char *chromium_wait(pid_t pid, const char *out, int timeout_ms)
{
	int status;
	if (!proc_wait(pid, timeout_ms, &status))
		proc_signal(pid, SIGKILL);
	FILE *f = fopen(out, "r");
	char *text = calloc(1, 1 << 20);
	if (f != NULL) {
		size_t n = fread(text, 1, (1 << 20) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	return text;
}

static char *dump(const char *hash, int budget_ms)
{
	char url[320], out[600];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", port, hash);
	snprintf(out, sizeof(out), "%s/dom-%d.html", harness_dir(), budget_ms);
	return chromium_wait(chromium_start(url, budget_ms, out), out, budget_ms + 30000);
}

/* ---- Chromium driven through its DevTools protocol on a pipe (fds 3 and 4):
 * JSON messages ended by a NUL byte. The page's DOM is read in real time. */

struct browser {
	pid_t pid;
	int to, from; /* our ends: commands to Chromium, its answers */
	char session[128];
	int next_id;
	char *buf;
	size_t len, cap;
};

/* The next whole message from Chromium (new reference), NULL after timeout_ms. */
static json_t *cdp_read(struct browser *b, int timeout_ms)
{
	for (int waited = 0;;) {
		char *nul = b->len ? memchr(b->buf, '\0', b->len) : NULL;
		if (nul != NULL) {
			json_t *msg = json_loadb(b->buf, (size_t)(nul - b->buf), 0, NULL);
			size_t used = (size_t)(nul - b->buf) + 1;
			memmove(b->buf, nul + 1, b->len - used);
			b->len -= used;
			return msg;
		}
		struct pollfd p = {.fd = b->from, .events = POLLIN};
		if (waited >= timeout_ms || poll(&p, 1, 100) < 0)
			return NULL;
		waited += 100;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		if (b->cap - b->len < 65536) {
			b->cap = b->cap * 2 + 65536;
			b->buf = realloc(b->buf, b->cap);
		}
		ssize_t n = read(b->from, b->buf + b->len, b->cap - b->len);
		if (n <= 0)
			return NULL;
		b->len += (size_t)n;
	}
}

/* Sends method with params (taken over) and returns the "result" of its answer (new
 * reference), or NULL. */
static json_t *cdp_call(struct browser *b, const char *method, json_t *params, bool session)
{
	int id = ++b->next_id;
	json_t *msg = json_pack("{s:i,s:s,s:o}", "id", id, "method", method, "params",
	                        params ? params : json_object());
	if (session)
		json_object_set_new(msg, "sessionId", json_string(b->session));
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	bool ok = write(b->to, text, strlen(text) + 1) == (ssize_t)(strlen(text) + 1);
	free(text);
	while (ok) {
		json_t *answer = cdp_read(b, 20000);
		if (answer == NULL)
			return NULL;
		if (json_integer_value(json_object_get(answer, "id")) == id) {
			json_t *result = json_incref(json_object_get(answer, "result"));
			json_decref(answer);
			return result;
		}
		json_decref(answer); /* an event */
	}
	return NULL;
}

static void browser_open(struct browser *b, const char *url)
{
	int cmd[2], ans[2];
	char profile[600];

	memset(b, 0, sizeof(*b));
	cr_assert_eq(pipe(cmd), 0);
	cr_assert_eq(pipe(ans), 0);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/chromium-cdp", harness_dir());
	b->pid = fork();
	if (b->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		dup2(cmd[0], 3);
		dup2(ans[1], 4);
		execl(CHROMIUM, "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		      "--no-first-run", profile, "--remote-debugging-pipe", url, (char *)NULL);
		_exit(127);
	}
	close(cmd[0]);
	close(ans[1]);
	b->to = cmd[1];
	b->from = ans[0];
	json_t *targets = cdp_call(b, "Target.getTargets", NULL, false);
	cr_assert_not_null(targets, "Chromium does not answer on its DevTools pipe");
	const char *page = NULL;
	json_t *infos = json_object_get(targets, "targetInfos");
	for (size_t i = 0; i < json_array_size(infos); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(infos, i), "type")),
		           "page") == 0)
			page = json_string_value(
			    json_object_get(json_array_get(infos, i), "targetId"));
	cr_assert_not_null(page, "no page target");
	json_t *att = cdp_call(b, "Target.attachToTarget",
	                       json_pack("{s:s,s:b}", "targetId", page, "flatten", 1), false);
	json_decref(targets);
	cr_assert_not_null(att);
	snprintf(b->session, sizeof(b->session), "%s",
	         json_string_value(json_object_get(att, "sessionId")));
	json_decref(att);
}

/* The page's DOM now (malloc'ed; "" when it cannot be read). */
static char *browser_dom(struct browser *b)
{
	json_t *r = cdp_call(b, "Runtime.evaluate",
	                     json_pack("{s:s,s:b}", "expression",
	                               "document.documentElement.outerHTML", "returnByValue", 1),
	                     true);
	const char *v = json_string_value(json_object_get(json_object_get(r, "result"), "value"));
	char *dom = strdup(v ? v : "");
	json_decref(r);
	return dom;
}

/* Polls the DOM until it contains text; the last DOM (malloc'ed). */
static char *browser_wait_for(struct browser *b, const char *text, int timeout_ms, bool *found)
{
	char *dom = NULL;
	*found = false;
	for (int waited = 0; waited <= timeout_ms && !*found; waited += 200) {
		free(dom);
		dom = browser_dom(b);
		*found = strstr(dom, text) != NULL;
		if (!*found)
			usleep(200000);
	}
	return dom;
}

static void browser_close(struct browser *b)
{
	close(b->to);
	close(b->from);
	int status;
	if (!proc_wait(b->pid, 10000, &status))
		proc_signal(b->pid, SIGKILL);
	free(b->buf);
}

static bool subscribed(void *arg)
{
	FILE *f = fopen(proc_log("local"), "r");
	char line[1024];
	bool found = false;
	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, "operator API: SUBSCRIBE") != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

Test(webui, page_shows_a_task_appear_and_finish_then_its_stdout)
{
	if (access(CHROMIUM, X_OK) != 0)
		cr_skip_test("no %s (Debian's chromium package)", CHROMIUM);
	/* The page is served with its library, from the master itself. */
	char *body = NULL;
	cr_assert_eq(http_get(port, "/", &body), 200);
	cr_expect(strstr(body, "/webui/jquery.min.js") != NULL);
	free(body);
	cr_expect_eq(http_get(port, "/webui/jquery.min.js", NULL), 200);
	cr_expect_eq(http_get(port, "/webui/nothing-here.js", NULL), 404);

	/* Load the frameworks page first: no task exists yet. */
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/#/frameworks", port);
	struct browser b;
	browser_open(&b, url);
	bool found;
	char *dom = browser_wait_for(&b, "class=\"up\">live", 20000, &found);
	cr_assert(found, "the page never went live: %s", dom);
	free(dom);
	cr_assert(wait_until(10000, subscribed, NULL), "the page never subscribed");
	const char *args[] = {"execute", master_flag, "--name=seen", "--command=echo from-the-task",
	                      NULL};
	cr_assert_eq(plexus_run(NULL, 30000, args), 0);
	dom = browser_wait_for(&b, "<td class=\"task-id\">seen</td>", 20000, &found);
	cr_assert(found, "the task never appeared on the page loaded before it: %s", dom);
	free(dom);
	dom = browser_wait_for(&b, "class=\"state-TASK_FINISHED\">TASK_FINISHED", 20000, &found);
	cr_assert(found, "the page never showed the task finished: %s", dom);
	free(dom);
	browser_close(&b);

	/* Its sandbox: stdout's tail and a download link that works. */
	json_t *st = http_json(port, "/master/state");
	cr_assert_not_null(st);
	const char *fw = json_string_value(
	    json_object_get(json_array_get(json_object_get(st, "completed_frameworks"), 0), "id"));
	cr_assert_not_null(fw);
	char hash[256];
	snprintf(hash, sizeof(hash), "#/sandbox/%s/seen", fw);
	json_decref(st);
	dom = dump(hash, 4000);
	cr_expect(strstr(dom, "<pre class=\"tail\" id=\"stdout\">from-the-task") != NULL,
	          "no stdout on the sandbox page: %s", dom);
	char path[1024] = "";
	for (char *link = strstr(dom, "/files/download?path="); link != NULL;
	     link = strstr(link + 1, "/files/download?path=")) {
		size_t n = strcspn(link, "\"");
		if (n > 9 && strncmp(link + n - 9, "%2Fstdout", 9) == 0)
			snprintf(path, sizeof(path), "%.*s", (int)n, link);
	}
	cr_assert(path[0] != '\0', "no download link for stdout: %s", dom);
	free(dom);
	char *file = NULL;
	cr_assert_eq(http_get(port, path, &file), 200, "GET %s", path);
	cr_expect_str_eq(file, "from-the-task\n");
	free(file);
}
