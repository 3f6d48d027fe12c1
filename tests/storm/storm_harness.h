/* storm_harness.h — what the storm tests share: a real cluster (`plexus local`, or a
 * master and separate agents), topologies submitted with `plexus storm`, the nimbus's
 * JSON, and the word-count reference.
 *
 * Every process started is killed and reaped by sh_fini(), and so is every orphan
 * reparented to the test (it is a child subreaper): nimbuses, workers of killed
 * agents. */
#ifndef TESTS_STORM_HARNESS_H
#define TESTS_STORM_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

void sh_init(void);
void sh_fini(void);
const char *sh_dir(void);
int sh_free_port(void);

/* Starts a program (argv NULL-terminated, argv[0] its path), output in
 * <scratch>/<name>.log. */
pid_t sh_spawn(const char *name, const char *const *argv);
/* Runs a program to its end (bounded); stdout in *out (malloc'ed) if out. Exit status
 * or -1 on timeout. */
int sh_run(char **out, int timeout_ms, const char *const *argv);
/* Whether pid runs; reaps the test's ended children first (orphans reparented to it
 * included), so that a zombie does not count. */
bool sh_alive(pid_t pid);
/* SIGKILLs and reaps a process this test started (or any pid: then only kills). */
void sh_kill(pid_t pid);

/* `plexus local` with n agents of cpus:2;mem:2048: its HTTP port once every agent is
 * registered. */
int sh_local_start(int nagents);
/* A master alone, then agents as separate processes (posix isolation). */
int sh_master_start(void);
pid_t sh_agent_start(int master_port, int i);
/* The master's HTTP port's /master/state, or NULL. */
json_t *sh_master_state(int port);

/* `plexus storm submit` of the word-count example as name with extra --conf flags
 * (NULL-terminated list of "K=V"); asserts it succeeded. */
void sh_submit_wordcount(int master_port, const char *name, const char *const *confs);
/* `plexus storm <args...>` (NULL-terminated); its exit status, stdout in *out. */
int sh_storm(char **out, const char *const *args);
/* The nimbus's GET /storm/state for topology name, or NULL. */
json_t *sh_nimbus(const char *name);
/* The nimbus's OS pid from its state file (0 if none). */
pid_t sh_nimbus_pid(const char *name);
/* The sum of a counter over the tasks of a component in a nimbus view. */
int64_t sh_component(json_t *view, const char *component, const char *counter);
/* A worker's entry in a nimbus view. */
json_t *sh_worker(json_t *view, int index);
/* The index of the worker that runs the component's first task. */
int sh_worker_of(json_t *view, const char *component);

/* Polls pred every 50ms until true or timeout; its last answer. */
bool sh_wait(int timeout_ms, bool (*pred)(void *arg), void *arg);

/* ---- word count ---- */

/* What the sink wrote, read from <dir>/sink-*.txt. */
struct wc_result {
	int64_t lines;          /* all lines */
	int64_t distinct;       /* distinct (sentence, index) */
	int64_t duplicates;     /* lines - distinct */
	bool one_task_per_word; /* every word counted by one count task */
	bool exact;             /* distinct words' counts == the reference of n sentences */
	int64_t expected;       /* words in the reference */
};
void wc_check(const char *dir, uint64_t sentences, struct wc_result *r);
/* Lines in the sink files now. */
int64_t wc_lines(const char *dir);

#endif
