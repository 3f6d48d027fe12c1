/* ten_tasks.c — a framework that runs ten command tasks on a Plexus cluster and exits
 * once all have ended: ./ten_tasks 127.0.0.1:5050 (the master's HTTP address). */
#include <plexus/plexus.h>
#include <stdio.h>

#define TASKS 10
static int launched, ended, failed;

static void offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		Plexus__TaskInfo *tasks[TASKS];
		size_t k = 0;
		double cpus = px_offer_scalar(offers[i], "cpus"), mem = px_offer_scalar(offers[i], "mem");
		for (; launched < TASKS && cpus >= 0.1 && mem >= 32; cpus -= 0.1, mem -= 32) {
			char name[32], cmd[64];
			snprintf(name, sizeof(name), "task-%d", launched);
			snprintf(cmd, sizeof(cmd), "echo hello from task %d", launched++);
			tasks[k++] = px_task_command(name, offers[i]->agent_id, cmd, "cpus:0.1;mem:32",
			                             NULL, 0);
		}
		const Plexus__OfferID *id[] = {offers[i]->id};
		px_scheduler_driver_launch(d, id, 1, (const Plexus__TaskInfo *const *)tasks, k, NULL);
		for (size_t j = 0; j < k; j++)
			PX_FREE(tasks[j]);
	}
}

static void update(px_scheduler_driver *d, const Plexus__TaskStatus *s, void *arg)
{
	printf("%s %s\n", s->task_id->value, px_task_state_name(s->state));
	if (!px_task_state_is_terminal(s->state))
		return;
	failed += s->state != PLEXUS__TASK_STATE__TASK_FINISHED;
	if (++ended == TASKS)
		px_scheduler_driver_stop(d, false);
}

int main(int argc, char **argv)
{
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.name = "ten-tasks";
	fw.user = ""; /* the user this program runs as */
	px_scheduler_callbacks cb = {.resource_offers = offers, .status_update = update};
	px_scheduler_driver *d =
	    px_scheduler_driver_alloc(&cb, NULL, &fw, argc > 1 ? argv[1] : "127.0.0.1:5050", NULL);
	if (d == NULL) {
		fprintf(stderr, "%s\n", px_driver_error());
		return 2;
	}
	enum px_driver_status status = px_scheduler_driver_run(d);
	px_scheduler_driver_free(d);
	return status == PX_DRIVER_STOPPED && failed == 0 ? 0 : 1;
}
