/* squares.c — a framework with its own executor: the scheduler sends numbers as
 * tasks, the executor answers each with its square in the task's final status.
 *
 * One program plays both parts (the SDK's scheme for shipping C code): the scheduler
 * puts its own binary into the ExecutorInfo (px_command_add_self), the agent fetches
 * it into the sandbox and starts it with --executor.
 *
 *     ./squares 127.0.0.1:5050 */
#include <plexus/plexus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASKS 4

/* ---- the executor ------------------------------------------------------------------ */

static void send_state(px_executor_driver *d, const Plexus__TaskInfo *task,
                       Plexus__TaskState state, const char *data)
{
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = task->task_id;
	st.state = state;
	if (data != NULL) {
		st.has_data = true;
		st.data.data = (uint8_t *)data;
		st.data.len = strlen(data);
	}
	px_executor_driver_send_status_update(d, &st);
}

static void launch_task(px_executor_driver *d, const Plexus__TaskInfo *task, void *arg)
{
	char n[32] = "", answer[32];
	if (task->has_data && task->data.len < sizeof(n))
		memcpy(n, task->data.data, task->data.len);
	long v = strtol(n, NULL, 10);
	snprintf(answer, sizeof(answer), "%ld", v * v);
	send_state(d, task, PLEXUS__TASK_STATE__TASK_RUNNING, NULL);
	send_state(d, task, PLEXUS__TASK_STATE__TASK_FINISHED, answer);
}

static void shutdown_executor(px_executor_driver *d, void *arg)
{
	px_executor_driver_stop(d);
}

static int run_executor(void)
{
	char err[256];
	px_executor_callbacks cb = {.launch_task = launch_task, .shutdown = shutdown_executor};
	px_executor_driver *d = px_executor_driver_alloc(&cb, NULL, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "squares executor: %s\n", err);
		return 2;
	}
	enum px_driver_status s = px_executor_driver_run(d);
	px_executor_driver_free(d);
	return s == PX_DRIVER_STOPPED ? 0 : 1;
}

/* ---- the scheduler ----------------------------------------------------------------- */

static int launched, answered;
static long sum;

static Plexus__TaskInfo *square_task(const Plexus__Offer *offer, int n)
{
	char name[32], data[32];
	snprintf(name, sizeof(name), "square-%d", n);
	snprintf(data, sizeof(data), "%d", n);
	Plexus__TaskInfo *t = px_task_alloc(name, offer->agent_id, "cpus:0.1;mem:16", NULL, 0);
	t->executor = px_executor_self("squares-executor", "--executor", "cpus:0.1;mem:32", NULL, 0);
	t->has_data = true;
	t->data.data = (uint8_t *)strdup(data);
	t->data.len = strlen(data);
	return t;
}

static void offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		Plexus__TaskInfo *tasks[TASKS];
		size_t k = 0;
		/* One executor per agent: every task of this offer shares it. */
		while (launched < TASKS && k < TASKS && px_offer_fits_text(offers[i], "cpus:0.6;mem:96"))
			tasks[k++] = square_task(offers[i], ++launched);
		const Plexus__OfferID *id[] = {offers[i]->id};
		px_scheduler_driver_launch(d, id, 1, (const Plexus__TaskInfo *const *)tasks, k, NULL);
		for (size_t j = 0; j < k; j++)
			PX_FREE(tasks[j]);
	}
}

static void update(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	if (s->state == PLEXUS__TASK_STATE__TASK_FINISHED && s->has_data) {
		printf("%s = %.*s\n", s->task_id->value, (int)s->data.len, (const char *)s->data.data);
		sum += strtol((const char *)s->data.data, NULL, 10);
	} else if (px_task_state_is_terminal(s->state)) {
		printf("%s ended %s: %s\n", s->task_id->value, px_task_state_name(s->state),
		       s->message ? s->message : "");
	}
	if (px_task_state_is_terminal(s->state) && ++answered == TASKS)
		px_scheduler_driver_stop(d, false);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--executor") == 0)
		return run_executor();
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.name = "squares";
	fw.user = "";
	px_scheduler_callbacks cb = {.resource_offers = offers, .status_update = update};
	px_scheduler_driver *d =
	    px_scheduler_driver_alloc(&cb, NULL, &fw, argc > 1 ? argv[1] : "127.0.0.1:5050", NULL);
	if (d == NULL) {
		fprintf(stderr, "%s\n", px_driver_error());
		return 2;
	}
	enum px_driver_status s = px_scheduler_driver_run(d);
	px_scheduler_driver_free(d);
	printf("sum of squares 1..%d: %ld\n", TASKS, sum);
	return s == PX_DRIVER_STOPPED && sum == 30 ? 0 : 1;
}
