/* framework.c — the framework on Plexus, as a user runs it: `plexus local` with three
 * agents and `plexus cassandra start --nodes=3 --rf=3`. Each node runs on resources the
 * scheduler reserved and on a persistent volume it created; a SIGKILLed node is
 * relaunched on the same agent and volume and finds its data; a restarted scheduler
 * fails over and keeps the running nodes; status, the CQL shell and stop work through
 * the master. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cas_discover.h"
#include "cas_harness.h"

static char master[64], state_path[512];
static pid_t local, sched;
static cas_client *client;

static void start_scheduler(const char *logname)
{
	char m[96], st[600];
	snprintf(m, sizeof(m), "--master=%s", master);
	snprintf(st, sizeof(st), "--state=%s", state_path);
	const char *argv[] = {CAS_PATH, "start", m, "--nodes=3", "--rf=3", st,
	                      "--cpus=0.2", "--mem=128", "--disk=64",
	                      "--node-args=--gossip-ms=100 --phi=8 --timeout-ms=4000", NULL};
	sched = ch_spawn(logname, argv);
}

static void setup(void)
{
	ch_init();
	ch_runtime_start();
	int http = ch_free_port(1), ports = ch_free_port(30);
	char portf[32], work[512], res[128];
	snprintf(master, sizeof(master), "127.0.0.1:%d", http);
	snprintf(portf, sizeof(portf), "--port=%d", http);
	snprintf(work, sizeof(work), "--work-dir=%s/work", ch_dir());
	snprintf(res, sizeof(res), "--resources=cpus:2;mem:2048;disk:4096;ports:[%d-%d]", ports,
	         ports + 29);
	snprintf(state_path, sizeof(state_path), "%s/scheduler.json", ch_dir());
	const char *argv[] = {PLEXUS_PATH, "local", "--agents=3", "--ip=127.0.0.1", portf, work, res,
	                      "--allocation-interval=100ms", NULL};
	local = ch_spawn("local", argv);
	start_scheduler("scheduler");
}

static void teardown(void)
{
	cas_client_free(client);
	client = NULL;
	ch_fini();
}

TestSuite(framework, .init = setup, .fini = teardown, .timeout = 150);

/* The framework's tasks as (name, id, state) from the master. */
struct tasks {
	char name[8][160], id[8][160], state[8][32];
	int n;
	char fw_id[128];
	bool active;
};

static bool read_tasks(struct tasks *t)
{
	int status = 0;
	char err[256];
	memset(t, 0, sizeof(*t));
	char *body = cas_http(master, "GET", "/master/state", NULL, NULL, &status, err, sizeof(err));
	json_t *root = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
	free(body);
	if (root == NULL)
		return false;
	json_t *fw;
	size_t i;
	json_array_foreach(json_object_get(root, "frameworks"), i, fw)
	{
		if (strcmp(json_string_value(json_object_get(fw, "name")) ?: "", "cassandra") != 0)
			continue;
		snprintf(t->fw_id, sizeof(t->fw_id), "%s", json_string_value(json_object_get(fw, "id")));
		t->active = json_is_true(json_object_get(fw, "active"));
		json_t *task;
		size_t k;
		json_array_foreach(json_object_get(fw, "tasks"), k, task)
		{
			if (t->n >= 8)
				break;
			snprintf(t->name[t->n], 160, "%s", json_string_value(json_object_get(task, "name")));
			snprintf(t->id[t->n], 160, "%s", json_string_value(json_object_get(task, "id")));
			snprintf(t->state[t->n], 32, "%s", json_string_value(json_object_get(task, "state")));
			t->n++;
		}
	}
	json_decref(root);
	return true;
}

static int running(const struct tasks *t)
{
	int n = 0;
	for (int i = 0; i < t->n; i++)
		n += strcmp(t->state[i], "TASK_RUNNING") == 0;
	return n;
}

static bool three_running(void *arg)
{
	struct tasks *t = arg;
	return read_tasks(t) && running(t) == 3;
}

/* The node address of a task name ("cassandra-node-1@127.0.0.1:31001"). */
static const char *addr_of(const char *name)
{
	const char *at = strchr(name, '@');
	return at ? at + 1 : "";
}

/* The pid of the node process serving port, found among running processes. */
static pid_t node_pid_of(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char want[64];
	snprintf(want, sizeof(want), "--port=%s", colon ? colon + 1 : "");
	DIR *d = opendir("/proc");
	pid_t found = 0;
	for (struct dirent *e; d && (e = readdir(d)) != NULL && found == 0;) {
		int pid = atoi(e->d_name);
		char path[300], cmd[4096];
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		cmd[n] = '\0';
		/* argv: ./plexus-cassandra node --port=P ... (NUL-separated) */
		const char *a1 = cmd + strlen(cmd) + 1;
		if (a1 < cmd + n && strcmp(a1, "node") == 0) {
			const char *a2 = a1 + strlen(a1) + 1;
			if (a2 < cmd + n && strcmp(a2, want) == 0)
				found = pid;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void raw_part(int key, cas_wbuf *p)
{
	char k[32];
	int n = snprintf(k, sizeof(k), "key%d", key);
	cas_put_u8(p, 7);
	cas_put_raw(p, "app.raw", 7);
	cas_put_raw(p, k, (size_t)n);
}

static void raw_write(int key)
{
	cas_wbuf p = {0}, k = {0};
	cas_cells cells = {0};
	char err[256];
	raw_part(key, &p);
	cas_put_u16(&k, (uint16_t)p.len);
	cas_put_raw(&k, p.data, p.len);
	cas_put_u8(&k, 0x03);
	cas_put_u8(&k, 'v');
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cas_cells_push(&cells, cas_cell_alloc(k.data, (uint32_t)k.len,
	                                      (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, 0, 0,
	                                      "x", 1));
	/* A loaded machine can make a replica look down to the failure detector for a
	 * moment: an unavailable ALL write is tried again for a few seconds. */
	int st = CAS_OK;
	for (int attempt = 0; attempt < 40; attempt++) {
		st = cas_client_write(client, CAS_ALL, p.data, p.len, &cells, err, sizeof(err));
		if (st == CAS_OK)
			break;
		struct timespec nap = {0, 250 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	cas_wbuf_fini(&k);
	cr_assert_eq(st, CAS_OK, "%s", err);
}

static bool node_holds(const char *addr, int key)
{
	cas_wbuf p = {0};
	cas_cells cells = {0};
	char err[256];
	raw_part(key, &p);
	int st = cas_client_fetch_local(client, addr, p.data, p.len, &cells, err, sizeof(err));
	bool ok = st == CAS_OK && cells.n == 1;
	cas_cells_fini(&cells);
	cas_wbuf_fini(&p);
	return ok;
}

struct relaunch {
	char old_id[160], addr[64];
	struct tasks t;
};

static bool relaunched(void *arg)
{
	struct relaunch *r = arg;
	if (!read_tasks(&r->t))
		return false;
	for (int i = 0; i < r->t.n; i++)
		if (strcmp(addr_of(r->t.name[i]), r->addr) == 0 && strcmp(r->t.id[i], r->old_id) != 0 &&
		    strcmp(r->t.state[i], "TASK_RUNNING") == 0)
			return true;
	return false;
}

struct failover {
	struct tasks before, now;
};

static bool back_with_same_tasks(void *arg)
{
	struct failover *f = arg;
	if (!read_tasks(&f->now) || !f->now.active || strcmp(f->now.fw_id, f->before.fw_id) != 0)
		return false;
	return running(&f->now) == 3;
}

static bool scheduler_gone(void *arg)
{
	(void)arg;
	return ch_wait_exit(sched, 0, NULL);
}

Test(framework, nodes_on_reserved_volumes_survive_kills_and_scheduler_failover)
{
	struct tasks t;
	cr_assert(ch_wait(40000, three_running, &t), "three nodes did not start");

	/* Every agent holds a dynamic reservation for the role, with the node's volume. */
	int status;
	char err[256];
	char *body = cas_http(master, "GET", "/master/state", NULL, NULL, &status, err, sizeof(err));
	cr_assert_not_null(body, "%s", err);
	json_t *root = json_loads(body, 0, NULL);
	free(body);
	json_t *agent;
	size_t i;
	int reserved = 0;
	json_array_foreach(json_object_get(root, "slaves"), i, agent)
	{
		json_t *r = json_object_get(json_object_get(agent, "reserved_resources"), "cassandra");
		reserved += r && json_number_value(json_object_get(r, "disk")) >= 64 &&
		            json_number_value(json_object_get(r, "cpus")) > 0.19;
	}
	json_decref(root);
	cr_assert_eq(reserved, 3, "reservations on %d agents", reserved);

	char contacts[256] = "";
	for (int k = 0; k < t.n; k++)
		snprintf(contacts + strlen(contacts), sizeof(contacts) - strlen(contacts), "%s%s",
		         k ? "," : "", addr_of(t.name[k]));
	client = cas_client_connect(contacts, 10000, err, sizeof(err));
	cr_assert_not_null(client, "%s", err);
	for (int k = 0; k < 3; k++)
		cr_assert(ch_wait_ring(client, addr_of(t.name[k]), 3, 15000), "the ring did not form");
	ch_cql(client, "CREATE KEYSPACE app WITH replication = {'class': 'SimpleStrategy', "
	               "'replication_factor': 3}");
	ch_cql(client, "CREATE TABLE app.users (id text PRIMARY KEY, name text)");
	ch_cql(client, "INSERT INTO app.users (id, name) VALUES ('u1', 'Ada')");
	for (int k = 0; k < 30; k++)
		raw_write(k);

	/* SIGKILL node 1: the scheduler relaunches it on its agent, on its volume. */
	struct relaunch r;
	snprintf(r.old_id, sizeof(r.old_id), "%s", t.id[1]);
	snprintf(r.addr, sizeof(r.addr), "%s", addr_of(t.name[1]));
	pid_t victim = node_pid_of(r.addr);
	cr_assert_gt(victim, 0, "no node process serves %s", r.addr);
	kill(victim, SIGKILL);
	cr_assert(ch_wait(30000, relaunched, &r), "node %s was not relaunched", r.addr);
	cr_assert(ch_wait_node_state(client, addr_of(t.name[0]), r.addr, true, 15000));
	/* Written at ALL before the kill, so only its volume can give it back these. */
	for (int k = 0; k < 30; k++)
		cr_assert(node_holds(r.addr, k), "the relaunched node lost key%d", k);

	/* The scheduler stops (failover) and comes back: the same framework, same tasks. */
	struct failover f;
	cr_assert(read_tasks(&f.before));
	kill(sched, SIGTERM);
	cr_assert(ch_wait_exit(sched, 10000, NULL), "the scheduler did not stop");
	start_scheduler("scheduler2");
	cr_assert(ch_wait(20000, back_with_same_tasks, &f), "the framework did not fail over");
	for (int a = 0; a < f.before.n; a++) {
		bool same = false;
		for (int b = 0; b < f.now.n; b++)
			same |= strcmp(f.before.id[a], f.now.id[b]) == 0 &&
			        strcmp(f.now.state[b], "TASK_RUNNING") == 0;
		cr_assert(same || strcmp(f.before.state[a], "TASK_RUNNING") != 0,
		          "task %s did not survive the failover", f.before.id[a]);
	}

	/* The operator commands, through the master. */
	char m[96], *out = NULL;
	snprintf(m, sizeof(m), "--master=%s", master);
	const char *status_argv[] = {CAS_PATH, "status", m, NULL};
	cr_assert_eq(ch_run(status_argv, NULL, &out, 20000), 0, "%s", out);
	int up = 0;
	for (const char *p = out; (p = strstr(p, "\nUN  ")) != NULL; p++)
		up++;
	cr_assert_eq(up, 3, "%s", out);
	free(out);
	const char *cql_argv[] = {CAS_PATH, "cql", m, NULL};
	cr_assert_eq(ch_run(cql_argv,
	                    "CONSISTENCY QUORUM;\nSELECT * FROM app.users\n WHERE id = 'u1';\n",
	                    &out, 20000),
	             0, "%s", out);
	cr_assert(strstr(out, " id | name \n----+------\n u1 |  Ada \n\n(1 rows)") != NULL, "%s", out);
	free(out);
	cr_assert_eq(ch_run(cql_argv, "SELECT * FROM app.users WHERE name = 'x';\n", &out, 20000), 1);
	free(out);
	const char *stop_argv[] = {CAS_PATH, "stop", m, NULL};
	cr_assert_eq(ch_run(stop_argv, NULL, &out, 20000), 0, "%s", out);
	free(out);
	cr_assert(ch_wait(15000, scheduler_gone, NULL), "the scheduler did not end after stop");
}
