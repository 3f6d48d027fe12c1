/* common.h — what the containerizer tests share: an agent under a test master (the
 * tests/agent harness) with chosen isolation flags, tasks with resources, waiting on
 * processes, and removal of every cgroup a test made. */
#ifndef TESTS_CONTAINERIZER_COMMON_H
#define TESTS_CONTAINERIZER_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent.h"
#include "harness.h"

/* The cgroups root of this test process: "plexus-test-<pid>". */
const char *test_cgroups_root(void);
/* Whether this machine lets the tests use cgroups v1 or v2 (root, mounted). */
bool test_have_cgroups(void);
/* Kills every process in the test root's cgroups and removes them, in every hierarchy.
 * Safe to call when nothing was made. */
void test_remove_cgroups(void);

/* How many container cgroups are under the test root in the cpu and memory
 * hierarchies (or the unified one). */
int test_count_cgroups(void);

/* Starts an agent on h with these flags (isolation NULL: the default) and the test's
 * cgroups root, and waits for its registration. */
void test_start_agent(struct harness *h, const char *resources, const char *isolation,
                      bool enforce_disk, int64_t disk_watch_ms);
/* RunTaskMessage for a command task of FRAMEWORK_ID with resources (text form). */
void test_run_task(struct harness *h, const char *task_id, const char *command,
                   const char *resources);
/* Waits for an update of task_id in state; fills out; false on timeout. */
bool test_wait_state(const char *task_id, int state, struct seen_update *out, int64_t ms);
/* Waits until pid is gone (or a zombie); false on timeout. */
bool test_wait_gone(pid_t pid, int64_t ms);
/* SIGKILLs every process whose working directory is under dir (what a failed test
 * may leave behind in its sandboxes). */
void test_kill_strays(const char *dir);
/* Milliseconds on a monotonic clock. */
int64_t test_now_ms(void);

#endif
