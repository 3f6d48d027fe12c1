/* local.c — `plexus local` as a real process (master and two agents in one OS
 * process, one HTTP port), the operator commands against it (`plexus state`, `tasks`,
 * `cat`), and a clean stop on SIGTERM with every executor gone. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct fw *fw;
static int port;
static pid_t local;
static char addr[64], master_flag[96];

static bool healthy(void *arg)
{
	return http_get(port, "/health", NULL) == 200 && master_active_agents(port) == 2;
}

static void setup(void)
{
	char port_flag[32], work[512];

	fw = NULL;
	harness_init();
	fw_runtime_start();
	port = free_port();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	snprintf(master_flag, sizeof(master_flag), "--master=%s", addr);
	snprintf(port_flag, sizeof(port_flag), "--port=%d", port);
	snprintf(work, sizeof(work), "--work-dir=%s/local", harness_dir());
	local = plexus_spawnl("local", "local", "--agents=2", port_flag, work,
	                      "--resources=cpus:1;mem:512;disk:1024", "--allocation-interval=100ms",
	                      NULL);
	cr_assert(wait_until(10000, healthy, NULL), "plexus local never had two agents up");
}

static void teardown(void)
{
	fw_stop(fw, false);
	fw = NULL;
	harness_fini();
}

TestSuite(local, .init = setup, .fini = teardown, .timeout = 60);

static void run_task(const char *id, const char *command, int state)
{
	Plexus__Offer *o = fw_next_offer(fw, 10000);
	cr_assert_not_null(o, "no offer");
	fw_launch(fw, o, &id, 1, command, 0.1, 16);
	fw_offer_free(o);
	if (state >= 0)
		cr_assert(fw_wait_state(fw, id, state, 20000), "task %s never reached %s", id,
		          px_task_state_name(state));
}

Test(local, serves_master_and_agents_on_one_port)
{
	json_t *s = http_json(port, "/master/state");
	cr_assert_not_null(s);
	cr_expect_eq(json_array_size(json_object_get(s, "slaves")), 2);
	json_decref(s);
	cr_expect_eq(http_get(port, "/slave(1)/state", NULL), 200);
	cr_expect_eq(http_get(port, "/slave(2)/state", NULL), 200);
	cr_expect_eq(http_get(port, "/master/info", NULL), 200);
	/* It says where it is. */
	char *log = NULL;
	FILE *f = fopen(proc_log("local"), "r");
	cr_assert_not_null(f);
	log = calloc(1, 1 << 16);
	size_t n = fread(log, 1, (1 << 16) - 1, f);
	log[n] = '\0';
	fclose(f);
	cr_expect(strstr(log, "master@127.0.0.1:") != NULL, "no master PID in: %s", log);
	cr_expect(strstr(log, addr) != NULL, "no web address in: %s", log);
	free(log);
}

Test(local, operator_commands_show_tasks_and_sandbox_files)
{
	char *out = NULL;

	fw = fw_start(addr, "integration-local", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	run_task("speaker", "echo to-stdout-$((6*7)); echo to-stderr >&2",
	         PLEXUS__TASK_STATE__TASK_FINISHED);
	run_task("loser", "exit 4", PLEXUS__TASK_STATE__TASK_FAILED);

	const char *tasks[] = {"tasks", master_flag, NULL};
	cr_assert_eq(plexus_run(&out, 10000, tasks), 0);
	cr_expect(strstr(out, "ID") != NULL && strstr(out, "STATE") != NULL, "%s", out);
	char *line = strstr(out, "speaker");
	cr_assert_not_null(line, "no speaker in: %s", out);
	cr_expect(strstr(line, "TASK_FINISHED") != NULL, "%s", out);
	cr_expect(strstr(out, "TASK_FAILED") != NULL, "%s", out);
	free(out);

	const char *cat_out[] = {"cat", "speaker", "stdout", master_flag, NULL};
	cr_assert_eq(plexus_run(&out, 10000, cat_out), 0);
	cr_expect(strstr(out, "to-stdout-42") != NULL, "stdout was: %s", out);
	free(out);
	const char *cat_err[] = {"cat", master_flag, "speaker", "stderr", NULL};
	cr_assert_eq(plexus_run(&out, 10000, cat_err), 0);
	cr_expect(strstr(out, "to-stderr") != NULL, "stderr was: %s", out);
	free(out);
	const char *cat_none[] = {"cat", "nobody", "stdout", master_flag, NULL};
	cr_expect_eq(plexus_run(NULL, 10000, cat_none), 1);

	const char *state[] = {"state", master_flag, NULL};
	cr_assert_eq(plexus_run(&out, 10000, state), 0);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);
	cr_assert_not_null(j, "not JSON (%s): %.200s", err.text, out);
	cr_expect_eq(json_array_size(json_object_get(j, "slaves")), 2);
	json_decref(j);
	free(out);
}

Test(local, operator_commands_refuse_bad_flags_and_report_an_unreachable_master)
{
	char dead[96];
	snprintf(dead, sizeof(dead), "--master=127.0.0.1:%d", free_port());
	const char *const bad[][5] = {
	    {"state", "--bogus", NULL},
	    {"tasks", master_flag, "extra", NULL},
	    {"cat", "only-a-task", master_flag, NULL},
	    {"cat", "t", "stdlog", master_flag, NULL},
	    {"state", "--master=master@127.0.0.1:5050", NULL},
	    {"local", "--agents=many", NULL},
	    {"local", "--bogus", NULL},
	    {"local", "--allocation-interval=soon", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(plexus_run(NULL, 10000, bad[i]), 2, "plexus %s %s", bad[i][0],
		             bad[i][1]);
	const char *unreachable[] = {"tasks", dead, NULL};
	cr_expect_eq(plexus_run(NULL, 10000, unreachable), 1);
	/* A second cluster on the same port says so and gives up. */
	char taken[32];
	snprintf(taken, sizeof(taken), "--port=%d", port);
	const char *second[] = {"local", taken, "--agents=0", NULL};
	cr_expect_eq(plexus_run(NULL, 10000, second), 1);
	const char *help[] = {"cat", "--help", NULL};
	char *out = NULL;
	cr_expect_eq(plexus_run(&out, 10000, help), 0);
	cr_expect(strstr(out, "usage: plexus cat") != NULL, "%s", out);
	free(out);
}

/* The pids of the processes whose parent is ppid. */
static int children_of(pid_t ppid, pid_t *out, int max)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ps -o pid= --ppid %d", (int)ppid);
	FILE *p = popen(cmd, "r");
	int n = 0, pid;
	while (p != NULL && n < max && fscanf(p, "%d", &pid) == 1)
		out[n++] = pid;
	if (p != NULL)
		pclose(p);
	return n;
}

/* Dead: no such process, or a zombie (reparented to this subreaper). */
static bool process_dead(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

Test(local, sigterm_stops_cleanly_and_no_executor_survives)
{
	pid_t kids[16];
	int status = -1;

	fw = fw_start(addr, "integration-local-stop", 0, NULL, true);
	cr_assert_not_null(fw_wait_registered(fw, 10000));
	run_task("long1", "sleep 60", PLEXUS__TASK_STATE__TASK_RUNNING);
	run_task("long2", "sleep 60", PLEXUS__TASK_STATE__TASK_RUNNING);
	int n = children_of(local, kids, 16);
	cr_assert_geq(n, 2, "expected the executors as children of plexus local, found %d", n);
	proc_signal(local, SIGTERM);
	cr_assert(proc_wait(local, 20000, &status), "plexus local did not stop on SIGTERM");
	cr_expect_eq(status, 0, "plexus local exited with %d", status);
	for (int i = 0; i < n; i++)
		cr_expect(process_dead(kids[i]), "executor %d outlived plexus local", (int)kids[i]);
}
