/* cas_cmd_ops.c — the operator commands that talk to a running framework through the
 * master: `status` (the ring as `nodetool status` shows it), `stop` (teardown) and
 * `add-node` (asks the scheduler for one more node). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/actor.h>
#include <actor/future.h>
#include <actor/runtime.h>

#include "cas_client.h"
#include "cas_cmd.h"
#include "cas_discover.h"
#include "cas_flags.h"
#include "cas_ring.h"
#include "cas_sched.h"

static const char *const known[] = {"master", "name", NULL};

static int discover(int argc, char **argv, cas_discovery *d, const char *cmd)
{
	if (!cas_flags_check(argc, argv, known))
		return 2;
	const char *master = cas_flag(argc, argv, "master");
	const char *name = cas_flag(argc, argv, "name") ?: "cassandra";
	char err[512];
	if (master == NULL) {
		fprintf(stderr, "plexus cassandra %s: --master=HOST:PORT is required\n", cmd);
		return 2;
	}
	if (cas_discover(master, name, d, err, sizeof(err)) != 0) {
		fprintf(stderr, "plexus cassandra %s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}

static int runtime_up(void)
{
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = -1;
	return actor_runtime_init(&cfg);
}

static void human(uint64_t bytes, char *out, size_t n)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, "%.2f %s", v, u[i]);
}

/* The fraction of the token space whose primary replica is each node. */
static void ownership(const cas_ring_info *info, double *own)
{
	cas_ring ring = {0};
	for (size_t i = 0; i < info->n; i++) {
		own[i] = 0;
		cas_ring_add(&ring, (int)i, info->v[i].tokens, info->v[i].ntokens);
	}
	cas_ring_sort(&ring);
	for (size_t k = 0; k < ring.n; k++) {
		/* The range (previous token, this token] belongs to this token's node. */
		int64_t prev = ring.v[(k + ring.n - 1) % ring.n].token;
		uint64_t width = (uint64_t)ring.v[k].token - (uint64_t)prev;
		if (ring.n == 1)
			width = UINT64_MAX;
		own[ring.v[k].node] += (double)width / 18446744073709551616.0;
	}
	cas_ring_fini(&ring);
}

int cas_cmd_status(int argc, char **argv)
{
	cas_discovery d;
	int rc = discover(argc, argv, &d, "status");
	if (rc != 0)
		return rc;
	if (d.nnodes == 0) {
		printf("framework %s: no node is running\n", d.framework_id);
		cas_discovery_fini(&d);
		return 1;
	}
	if (runtime_up() != 0) {
		cas_discovery_fini(&d);
		return 1;
	}
	char err[512];
	cas_client *c = cas_client_connect(d.nodes, 5000, err, sizeof(err));
	cas_ring_info info = {0};
	int st = c ? cas_client_ring(c, NULL, &info, err, sizeof(err)) : CAS_ERROR;
	if (st != CAS_OK) {
		fprintf(stderr, "plexus cassandra status: %s\n", err);
		rc = 1;
	} else {
		double *own = calloc(info.n + 1, sizeof(*own));
		printf("Framework: %s\nStatus=Up/Down\n|/ State=Normal\n", d.framework_id);
		printf("--  %-22s %-12s %-7s %-7s %s\n", "Address", "Load", "Tokens", "Owns",
		       "First token");
		if (own)
			ownership(&info, own);
		for (size_t i = 0; i < info.n; i++) {
			char load[32];
			human(info.v[i].load, load, sizeof(load));
			int64_t first = info.v[i].ntokens ? info.v[i].tokens[0] : 0;
			for (size_t t = 1; t < info.v[i].ntokens; t++)
				if (info.v[i].tokens[t] < first)
					first = info.v[i].tokens[t];
			printf("%cN  %-22s %-12s %-7zu %5.1f%%  %" PRId64 "\n", info.v[i].up ? 'U' : 'D',
			       info.v[i].addr, load, info.v[i].ntokens, own ? own[i] * 100 : 0.0, first);
		}
		free(own);
	}
	cas_ring_info_fini(&info);
	cas_client_free(c);
	actor_runtime_fini();
	cas_discovery_fini(&d);
	return rc;
}

int cas_cmd_stop(int argc, char **argv)
{
	cas_discovery d;
	int rc = discover(argc, argv, &d, "stop");
	if (rc != 0)
		return rc;
	char body[256], err[512];
	snprintf(body, sizeof(body), "frameworkId=%s", d.framework_id);
	int status = 0;
	char *answer = cas_http(cas_flag(argc, argv, "master"), "POST", "/master/teardown",
	                        "application/x-www-form-urlencoded", body, &status, err, sizeof(err));
	if (answer == NULL || status != 200) {
		fprintf(stderr, "plexus cassandra stop: %s\n", answer ? answer : err);
		rc = 1;
	} else {
		printf("framework %s torn down: its nodes are killed (their reservations and "
		       "volumes stay on the agents)\n",
		       d.framework_id);
	}
	free(answer);
	cas_discovery_fini(&d);
	return rc;
}

/* ---- add-node: one message to the scheduler's control actor ------------------------------ */

static actor_promise *added;

static void on_added(actor_t *self, const actor_msg *msg, void *arg)
{
	(void)self;
	(void)arg;
	char *text = strndup((const char *)msg->data, msg->len);
	actor_promise_set(added, text, free);
}

static int waiter_init(actor_t *self)
{
	actor_install(self, CAS_MSG_SCHED_ADDED, on_added, NULL);
	return 0;
}

static const actor_def waiter_def = {.name = "cas-add-node", .init = waiter_init};

static void send_add(actor_t *self, void *arg)
{
	actor_pid *to = arg;
	if (self)
		actor_send(self, *to, CAS_MSG_SCHED_ADD, NULL, 0);
	free(to);
}

int cas_cmd_add_node(int argc, char **argv)
{
	if (!cas_flags_check(argc, argv, known))
		return 2;
	const char *master = cas_flag(argc, argv, "master");
	const char *name = cas_flag(argc, argv, "name") ?: "cassandra";
	if (master == NULL) {
		fprintf(stderr, "plexus cassandra add-node: --master=HOST:PORT is required\n");
		return 2;
	}
	/* The scheduler's address is its driver's PID in the master's state. */
	int status = 0;
	char err[512];
	char *state = cas_http(master, "GET", "/master/state", NULL, NULL, &status, err, sizeof(err));
	const char *pidtext = NULL;
	char pidbuf[160] = "";
	if (state) {
		char key[200];
		snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
		const char *at = strstr(state, key);
		const char *pid = at ? strstr(at, "\"pid\":\"") : NULL;
		if (pid) {
			pid += 7;
			const char *end = strchr(pid, '"');
			if (end && (size_t)(end - pid) < sizeof(pidbuf)) {
				memcpy(pidbuf, pid, (size_t)(end - pid));
				pidtext = pidbuf;
			}
		}
		free(state);
	}
	actor_pid driver, *control = malloc(sizeof(*control));
	const char *atsign = pidtext ? strchr(pidtext, '@') : NULL;
	char ctl[200];
	if (atsign)
		snprintf(ctl, sizeof(ctl), "%s%s", CAS_SCHED_ACTOR, atsign);
	if (control == NULL || atsign == NULL || actor_pid_parse(pidtext, &driver) != 0 ||
	    actor_pid_parse(ctl, control) != 0) {
		fprintf(stderr, "plexus cassandra add-node: no running scheduler called '%s' at %s\n",
		        name, master);
		free(control);
		return 1;
	}
	if (runtime_up() != 0) {
		free(control);
		return 1;
	}
	added = actor_promise_alloc();
	actor_future *f = actor_promise_future(added);
	actor_pid w;
	actor_spawn(&waiter_def, NULL, &w);
	actor_call(w, send_add, control);
	int rc = 1;
	if (actor_future_await(f, 5000) == 0 && actor_future_state(f) == ACTOR_FUTURE_READY) {
		printf("the ring grows to %s nodes; the new node streams its ranges as it joins\n",
		       (const char *)actor_future_value(f));
		rc = 0;
	} else {
		fprintf(stderr, "plexus cassandra add-node: the scheduler did not answer\n");
	}
	actor_future_unref(f);
	actor_terminate(w);
	actor_wait(w, 5000);
	actor_promise_free(added);
	actor_runtime_fini();
	return rc;
}
