/* webui.c — the web UI in a real browser (Debian's headless Chromium) against a real
 * `plexus local`: the page is loaded before any task exists, a task is launched, and
 * the page shows it appear and finish through the operator SUBSCRIBE stream; then its
 * sandbox page shows its stdout and a working download link. */
#include <criterion/criterion.h>
#include <fcntl.h>
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
	char url[256], out[600];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", port, hash);
	snprintf(out, sizeof(out), "%s/dom-%d.html", harness_dir(), budget_ms);
	return chromium_wait(chromium_start(url, budget_ms, out), out, budget_ms + 30000);
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
	char url[256], out[600];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/#/frameworks", port);
	snprintf(out, sizeof(out), "%s/live.html", harness_dir());
	pid_t live = chromium_start(url, 20000, out);
	cr_assert(wait_until(30000, subscribed, NULL), "the page never subscribed");
	const char *args[] = {"execute", master_flag, "--name=seen", "--command=echo from-the-task",
	                      NULL};
	cr_assert_eq(plexus_run(NULL, 30000, args), 0);
	char *dom = chromium_wait(live, out, 60000);
	cr_assert(strstr(dom, "<td class=\"task-id\">seen</td>") != NULL,
	          "the task never appeared on the page loaded before it: %s", dom);
	bool finished = strstr(dom, "class=\"state-TASK_FINISHED\">TASK_FINISHED") != NULL;
	free(dom);
	/* Should the budget have ended first, later loads must show it finished. */
	for (int i = 0; i < 5 && !finished; i++) {
		dom = dump("#/frameworks", 3000 + i);
		finished = strstr(dom, "class=\"state-TASK_FINISHED\">TASK_FINISHED") != NULL;
		free(dom);
	}
	cr_assert(finished, "the page never showed the task finished");

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
