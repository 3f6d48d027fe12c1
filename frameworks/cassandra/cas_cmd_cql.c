/* cas_cmd_cql.c — `plexus cassandra cql`: the CQL shell. Statements end with ';' and
 * may span lines; they come from standard input, interactively (with a prompt) or as a
 * script. Rows print as cqlsh prints them; errors print on standard error and the
 * shell goes on (the exit status is 1 if any statement failed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actor/runtime.h>

#include "cas_client.h"
#include "cas_cmd.h"
#include "cas_cql.h"
#include "cas_discover.h"
#include "cas_flags.h"
#include "cas_session.h"

struct shell {
	cas_session *s;
	int failures;
};

static void run_one(const char *stmt, void *arg)
{
	struct shell *sh = arg;
	cas_result r;
	char err[2048];
	if (cas_session_execute(sh->s, stmt, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		sh->failures++;
		return;
	}
	cas_result_print(&r, stdout);
	fflush(stdout);
	cas_result_fini(&r);
}

int cas_cmd_cql(int argc, char **argv)
{
	static const char *const known[] = {"master", "node", "name", "consistency", NULL};
	if (!cas_flags_check(argc, argv, known))
		return 2;
	const char *master = cas_flag(argc, argv, "master"), *node = cas_flag(argc, argv, "node");
	const char *name = cas_flag(argc, argv, "name");
	const char *level = cas_flag(argc, argv, "consistency");
	cas_consistency cl = CAS_ONE;
	if (level && !cas_consistency_parse(level, &cl)) {
		fprintf(stderr, "plexus cassandra cql: --consistency is ONE, QUORUM or ALL\n");
		return 2;
	}
	if ((master == NULL) == (node == NULL)) {
		fprintf(stderr, "plexus cassandra cql: give --master=HOST:PORT or --node=IP:PORT\n");
		return 2;
	}
	char err[512];
	cas_discovery d = {0};
	if (master) {
		if (cas_discover(master, name ? name : "cassandra", &d, err, sizeof(err)) != 0 ||
		    d.nnodes == 0) {
			fprintf(stderr, "plexus cassandra cql: %s\n",
			        d.nnodes == 0 && !*err ? "no node is running" : err);
			cas_discovery_fini(&d);
			return 1;
		}
		node = d.nodes;
	}
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.port = 0;
	cfg.http_port = -1;
	if (actor_runtime_init(&cfg) != 0) {
		fprintf(stderr, "plexus cassandra cql: cannot start the runtime\n");
		cas_discovery_fini(&d);
		return 1;
	}
	cas_client *c = cas_client_connect(node, 5000, err, sizeof(err));
	cas_discovery_fini(&d);
	if (c == NULL) {
		fprintf(stderr, "plexus cassandra cql: %s\n", err);
		actor_runtime_fini();
		return 1;
	}
	struct shell sh = {cas_session_alloc(c), 0};
	cas_session_set_consistency(sh.s, cl);
	bool tty = isatty(STDIN_FILENO);
	char *pending = NULL;
	size_t plen = 0;
	char line[65536];
	for (;;) {
		if (tty) {
			fputs(plen ? "   ... " : "cqlsh> ", stdout);
			fflush(stdout);
		}
		if (fgets(line, sizeof(line), stdin) == NULL)
			break;
		size_t ll = strlen(line);
		char *v = realloc(pending, plen + ll + 1);
		if (v == NULL)
			break;
		pending = v;
		memcpy(pending + plen, line, ll + 1);
		plen += ll;
		size_t done = cas_cql_split(pending, run_one, &sh);
		memmove(pending, pending + done, plen - done + 1);
		plen -= done;
		if (plen == 0 || strspn(pending, " \t\r\n") == plen)
			plen = 0;
	}
	if (plen > 0) { /* a last statement without ';' */
		run_one(pending, &sh);
	}
	free(pending);
	cas_session_free(sh.s);
	cas_client_free(c);
	actor_runtime_fini();
	return sh.failures ? 1 : 0;
}
