/* hooks.c — see hooks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/containerizer/containerizer.h"
#include "agent/containerizer/hooks.h"
#include "agent/internal.h"

/* Mesos gives the command executor this much on top of its task. */
#define COMMAND_EXECUTOR_CPUS   0.1
#define COMMAND_EXECUTOR_MEM_MB 32.0

void agent_container_launch_info(struct agent *a, struct agent_executor *ex, struct agent_launch *l)
{
	double cpus = 0, mem = 0, disk = 0;

	l->ctx = a->launcher_ctx;
	l->container_id = ex->run_uuid;
	l->framework_id = ex->fw->id;
	l->executor_id = ex->id;
	l->source = ex->info->source ? ex->info->source : ex->id;
	containerizer_sum_resources(ex->info->resources, ex->info->n_resources, &cpus, &mem, &disk);
	l->cpus = cpus;
	l->mem_mb = mem;
	l->disk_mb = disk;
}

static void add_tasks(const struct agent_task *t, double *cpus, double *mem, double *disk)
{
	for (; t != NULL; t = t->next)
		if (!px_task_state_is_terminal(t->state))
			containerizer_sum_resources(t->info->resources, t->info->n_resources, cpus,
			                            mem, disk);
}

void agent_container_update(struct agent *a, struct agent_executor *ex)
{
	double cpus = 0, mem = 0, disk = 0;

	if (a->launcher->update == NULL || ex->container.state == NULL ||
	    ex->phase == EXECUTOR_TERMINATED)
		return;
	containerizer_sum_resources(ex->info->resources, ex->info->n_resources, &cpus, &mem, &disk);
	add_tasks(ex->queued, &cpus, &mem, &disk);
	add_tasks(ex->launched, &cpus, &mem, &disk);
	if (ex->command) {
		if (cpus > 0)
			cpus += COMMAND_EXECUTOR_CPUS;
		if (mem > 0)
			mem += COMMAND_EXECUTOR_MEM_MB;
	}
	a->launcher->update(&ex->container, cpus, mem, disk);
}

void agent_container_note_limitation(struct agent *a, struct agent_executor *ex)
{
	int reason;
	char msg[512];

	if (a->launcher->limitation == NULL || ex->container.state == NULL || ex->has_end_reason)
		return;
	if (!a->launcher->limitation(&ex->container, &reason, msg, sizeof(msg)))
		return;
	char *copy = strdup(msg);
	if (copy == NULL)
		return;
	ex->has_end_reason = true;
	ex->end_reason = (Plexus__TaskStatus__Reason)reason;
	free(ex->end_message);
	ex->end_message = copy;
}

void agent_container_cleanup(struct agent *a, struct agent_executor *ex)
{
	if (a->launcher->cleanup != NULL && ex->container.state != NULL)
		a->launcher->cleanup(&ex->container);
}

bool agent_container_rewrite_failure(struct agent *a, struct agent_executor *ex, int state,
                                     int *reason, char **message)
{
	int r;
	char msg[512];

	if (state != PLEXUS__TASK_STATE__TASK_FAILED || a->launcher->limitation == NULL ||
	    ex == NULL || ex->container.state == NULL)
		return false;
	if (!a->launcher->limitation(&ex->container, &r, msg, sizeof(msg)))
		return false;
	char *copy = strdup(msg);
	if (copy == NULL)
		return false;
	free(*message);
	*message = copy;
	*reason = r;
	return true;
}
