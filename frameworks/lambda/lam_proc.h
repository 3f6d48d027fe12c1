/* lam_proc.h — the child processes `plexus lambda up` starts: each in a process group
 * of its own (Ctrl-C reaches only `up`, which stops them in order), output into a log. */
#ifndef LAM_PROC_H
#define LAM_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* Starts argv (NULL-terminated; argv[0] a path) with stdin from /dev/null and stdout and
 * stderr appended to log. The pid, or -1. */
pid_t lam_spawn(const char *log, char *const argv[]);
/* Runs argv to its end, at most timeout_ms; its exit status, or -1 (it is killed on
 * timeout). */
int lam_run(const char *log, char *const argv[], int timeout_ms);
/* Whether pid (a child) still runs; reaps it if it ended. */
bool lam_alive(pid_t pid);
/* SIGTERM, then SIGKILL after grace_ms; reaps. */
void lam_stop(pid_t pid, int grace_ms);
/* The directory of the running program (for the programs installed beside it). */
const char *lam_self_dir(void);
/* Kills every process whose working directory lies under dir (what is left of a
 * cluster's tasks); the number killed. */
int lam_kill_under(const char *dir);

#endif
