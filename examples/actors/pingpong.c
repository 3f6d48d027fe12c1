/* pingpong.c — libactor alone: two actors trade a counter by messages, and main asks
 * the result through a dispatch whose future it awaits.
 *
 *     cc pingpong.c $(pkg-config --cflags --libs libactor) */
#include <actor/libactor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 100000

struct player {
	actor_pid peer;
	long hits;
	actor_promise *done; /* set by the pinger after the last round */
};

static void on_ball(actor_t *self, const actor_msg *msg, void *arg)
{
	struct player *p = actor_state(self);
	long n;
	memcpy(&n, msg->data, sizeof(n));
	p->hits++;
	if (n == ROUNDS && p->done != NULL) {
		actor_promise_set(p->done, NULL, NULL);
		return;
	}
	n++;
	actor_send(self, msg->from, "ball", &n, sizeof(n));
}

static int player_init(actor_t *self)
{
	return actor_install(self, "ball", on_ball, NULL);
}

/* Runs inside the pinger (actor_call): serves the first ball, so replies come back to it. */
static void serve(actor_t *self, void *arg)
{
	struct player *p = actor_state(self);
	long first = 1;
	actor_send(self, p->peer, "ball", &first, sizeof(first));
}

static const actor_def player_def = {.name = "player", .init = player_init};

/* Runs inside the ponger: reads its count (an actor's state is only touched inside it). */
static void *read_hits(actor_t *self, void *arg, int *err)
{
	long *out = malloc(sizeof(*out));
	*out = self != NULL ? ((struct player *)actor_state(self))->hits : -1;
	return out;
}

int main(void)
{
	if (actor_runtime_init(NULL) != 0)
		return 1;
	struct player ping = {.done = actor_promise_alloc()}, pong = {0};
	actor_future *finished = actor_promise_future(ping.done);
	actor_pid a, b;
	actor_spawn(&player_def, &pong, &b);
	ping.peer = b;
	actor_spawn(&player_def, &ping, &a);
	actor_call(a, serve, NULL);

	actor_future_await(finished, -1);
	actor_future *hits = actor_dispatch(b, read_hits, NULL, free);
	actor_future_await(hits, -1);
	long pong_hits = *(long *)actor_future_value(hits);
	printf("%d rounds: ponger hit the ball %ld times\n", ROUNDS, pong_hits);

	actor_future_unref(hits);
	actor_future_unref(finished);
	actor_promise_free(ping.done);
	actor_terminate(a);
	actor_terminate(b);
	actor_wait(a, -1);
	actor_wait(b, -1);
	actor_runtime_fini();
	return pong_hits > 0 ? 0 : 1;
}
