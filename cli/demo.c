/* plexus demo — a tour of libactor: a ring of actors passes a token around, then every
 * actor is asked, through a dispatched future, how many times it held the token. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actor/libactor.h"
#include "commands.h"

struct ring_node {
	actor_pid next;
	uint64_t held;          /* times this node had the token */
	actor_promise *done;    /* completed by whichever node ends the run */
};

static void on_token(actor_t *self, const actor_msg *msg, void *arg)
{
	struct ring_node *node = actor_state(self);
	uint64_t left;

	if (msg->len != sizeof(left))
		return; /* only the demo sends tokens; anything else is not ours */
	memcpy(&left, msg->data, sizeof(left));
	node->held++;
	if (left == 0) {
		actor_promise_set(node->done, NULL, NULL);
		return;
	}
	left--;
	actor_send(self, node->next, "token", &left, sizeof(left));
}

static int ring_node_init(actor_t *self)
{
	return actor_install(self, "token", on_token, NULL);
}

static const actor_def ring_node_def = {
	.name = "ring",
	.init = ring_node_init,
};

static void *read_held(actor_t *self, void *arg, int *err)
{
	struct ring_node *node = actor_state(self);
	uint64_t *held = malloc(sizeof(*held));

	if (held == NULL) {
		*err = ACTOR_ENOMEM;
		return NULL;
	}
	*held = node->held;
	return held;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: plexus demo [--actors=N] [--rounds=R] [--workers=W]\n"
		     "  --actors=N   actors in the ring (default 1000)\n"
		     "  --rounds=R   times the token goes around (default 1000)\n"
		     "  --workers=W  worker threads (default: number of cores)\n");
}

static int parse_count(const char *flag, const char *text, long max, long *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "plexus demo: --%s must be a number from 1 to %ld, not '%s'\n", flag,
			max, text);
		return -1;
	}
	*out = v;
	return 0;
}

int plexus_demo_main(int argc, char **argv)
{
	static const struct option options[] = {
		{"actors", required_argument, NULL, 'a'},
		{"rounds", required_argument, NULL, 'r'},
		{"workers", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	long actors = 1000, rounds = 1000, workers = 0;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if (parse_count("actors", optarg, 1000000, &actors))
				return 2;
			break;
		case 'r':
			if (parse_count("rounds", optarg, 1000000, &rounds))
				return 2;
			break;
		case 'w':
			if (parse_count("workers", optarg, 256, &workers))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "plexus demo: unknown or incomplete flag '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}

	actor_config cfg;
	actor_config_default(&cfg);
	cfg.workers = (int)workers;
	int rc = actor_runtime_init(&cfg);
	if (rc != 0) {
		fprintf(stderr, "plexus demo: cannot start the runtime: %s\n", actor_strerror(rc));
		return 1;
	}

	struct ring_node *nodes = calloc((size_t)actors, sizeof(*nodes));
	actor_pid *pids = calloc((size_t)actors, sizeof(*pids));
	actor_promise *done = actor_promise_alloc();
	int status = 1;

	if (nodes == NULL || pids == NULL || done == NULL) {
		fprintf(stderr, "plexus demo: out of memory\n");
		goto out;
	}
	for (long i = 0; i < actors; i++) {
		nodes[i].done = done;
		rc = actor_spawn(&ring_node_def, &nodes[i], &pids[i]);
		if (rc != 0) {
			fprintf(stderr, "plexus demo: spawn failed: %s\n", actor_strerror(rc));
			goto out;
		}
	}
	/* The nodes have no messages yet, so nothing reads .next until the token (sent
	 * below, after these writes) reaches them. */
	for (long i = 0; i < actors; i++)
		nodes[i].next = pids[(i + 1) % actors];

	char first[ACTOR_PID_TEXT_MAX], last[ACTOR_PID_TEXT_MAX];
	actor_pid_format(pids[0], first, sizeof(first));
	actor_pid_format(pids[actors - 1], last, sizeof(last));
	printf("ring of %ld actors, first %s, last %s\n", actors, first, last);

	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint64_t hops = (uint64_t)actors * (uint64_t)rounds - 1;
	actor_send(NULL, pids[0], "token", &hops, sizeof(hops));

	actor_future *finished = actor_promise_future(done);
	rc = actor_future_await(finished, 60000);
	actor_future_unref(finished);
	if (rc != 0) {
		fprintf(stderr, "plexus demo: the token did not come back in 60 s\n");
		goto out;
	}
	double elapsed = seconds_since(&start);
	printf("token passed %" PRIu64 " times in %.3f s (%.0f messages/s)\n", hops + 1,
	       elapsed, (double)(hops + 1) / elapsed);

	/* Ask every actor for its count through a dispatched future, and collect them. */
	actor_future **answers = calloc((size_t)actors, sizeof(*answers));
	if (answers == NULL)
		goto out;
	for (long i = 0; i < actors; i++)
		answers[i] = actor_dispatch(pids[i], read_held, NULL, free);
	actor_future *all = actor_future_collect(answers, (size_t)actors);
	rc = actor_future_await(all, 60000);
	if (rc == 0 && actor_future_state(all) == ACTOR_FUTURE_READY) {
		uint64_t total = 0;
		long uneven = 0;
		for (long i = 0; i < actors; i++) {
			uint64_t held = *(uint64_t *)actor_future_value(answers[i]);
			total += held;
			uneven += held != (uint64_t)rounds;
		}
		printf("%" PRIu64 " holds in all; %ld of %ld actors held it other than %ld times\n",
		       total, uneven, actors, rounds);
		status = total == hops + 1 && uneven == 0 ? 0 : 1;
	} else {
		fprintf(stderr, "plexus demo: collecting the counts failed\n");
	}
	actor_future_unref(all);
	for (long i = 0; i < actors; i++)
		actor_future_unref(answers[i]);
	free(answers);

out:
	actor_runtime_fini();
	actor_promise_free(done);
	free(pids);
	free(nodes);
	return status;
}
