/* task.h — builders for the common path: a command task from text, and what an offer
 * holds.
 *
 *     Plexus__TaskInfo *t = px_task_command("hello", offer->agent_id, "echo hi",
 *                                           "cpus:0.5;mem:64", err, sizeof(err));
 *     if (px_offer_fits(offer, t)) ...launch, then PX_FREE(t);
 *
 * Resource text is Mesos's ("cpus:0.5;mem:64;ports:[31000-31005]", "disk(role):100");
 * errors say which token is wrong. */
#ifndef PLEXUS_TASK_H
#define PLEXUS_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plexus/plexus.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A task that runs `command` through the shell with the command executor, with the
 * given resources, on the agent of agent_id. Its id is name plus a random suffix
 * ("hello-1f2e3d4c"). The caller owns the result: PX_FREE it. NULL when name, agent_id
 * or command is missing or resources is not valid text; then err (errlen bytes, may be
 * NULL) says why. */
Plexus__TaskInfo *px_task_command(const char *name, const Plexus__AgentID *agent_id,
                                  const char *command, const char *resources, char *err,
                                  size_t errlen);

/* A task without a command, for a framework's own executor: set task->executor (for
 * example from px_executor_self) and, if the executor wants it, task->data. Id, name,
 * agent and resources as px_task_command. PX_FREE it. NULL with err on bad input. */
Plexus__TaskInfo *px_task_alloc(const char *name, const Plexus__AgentID *agent_id,
                                const char *resources, char *err, size_t errlen);

/* An executor that runs this very program (see px_command_add_self) with args, under
 * the id executor_id, with the given resources. PX_FREE it (or let the task that holds
 * it free it). NULL with err on bad input. */
Plexus__ExecutorInfo *px_executor_self(const char *executor_id, const char *args,
                                       const char *resources, char *err, size_t errlen);

/* Resources from text, for TaskInfo.resources or ExecutorInfo.resources: an array of
 * *n messages the caller frees with px_resources_free_array. role NULL: unreserved
 * ("*"). NULL (and err) on bad text. */
Plexus__Resource **px_resources_from_text(const char *text, const char *role, size_t *n,
                                          char *err, size_t errlen);
void px_resources_free_array(Plexus__Resource **res, size_t n);

/* Sets task->resources from text, replacing what it had. 0, or -1 with err. */
int px_task_set_resources(Plexus__TaskInfo *task, const char *resources, char *err,
                          size_t errlen);

/* Adds an environment variable to a command (CommandInfo.environment). 0, or -1 on out
 * of memory. */
int px_command_add_env(Plexus__CommandInfo *cmd, const char *name, const char *value);

/* Adds a URI for the fetcher (CommandInfo.uris): a file path or an http(s) URL, made
 * executable, extracted (tar, tar.gz, zip) and/or cached as asked. 0, or -1 on out of
 * memory. */
int px_command_add_uri(Plexus__CommandInfo *cmd, const char *uri, bool executable, bool extract,
                       bool cache);

/* The scheme by which a framework's own code reaches its executors (spark, storm and
 * any C framework): the program is its own executor. This adds the running program's
 * binary (/proc/self/exe) as an executable URI, so the fetcher copies it into the
 * sandbox, and sets cmd->value to run it from there: "./<name> <args>". The same binary
 * on both sides means functions registered by name at start-up are found in executor
 * mode too. 0, or -1 (out of memory, or the binary's path cannot be read). */
int px_command_add_self(Plexus__CommandInfo *cmd, const char *args);

/* The sum of a scalar resource ("cpus", "mem", "disk", "gpus") over everything in the
 * offer, reserved or not; 0 when absent. */
double px_offer_scalar(const Plexus__Offer *offer, const char *name);

/* A range of a ranges resource (ports). */
typedef struct px_offer_range {
	uint64_t begin, end; /* inclusive */
} px_offer_range;

/* Copies up to max ranges of the ranges resource `name` ("ports") into out and returns
 * how many the offer has in all (which may exceed max). */
size_t px_offer_ranges(const Plexus__Offer *offer, const char *name, px_offer_range *out,
                       size_t max);

/* Whether the offer holds the scalar resources (cpus, mem, disk, gpus ...) that the
 * task and, when it names one, its executor ask for, whatever their reservations.
 * Ranges and sets (ports) are for the framework to pick: see px_offer_ranges. */
bool px_offer_fits(const Plexus__Offer *offer, const Plexus__TaskInfo *task);

/* The same for resources written as text; false on bad text. */
bool px_offer_fits_text(const Plexus__Offer *offer, const char *resources);

#ifdef __cplusplus
}
#endif

#endif
