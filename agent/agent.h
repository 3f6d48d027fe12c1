/* agent.h — the Plexus agent: advertises a machine's resources to the master and runs
 * the frameworks' executors and tasks in sandboxes under its work directory, as Apache
 * Mesos's agent does.
 *
 * The agent is an actor named "slave(N)" (N from 1 in each OS process). It is started
 * inside an already initialised libactor runtime, so that `plexus local` can run the
 * master and several agents in one process; `agent_main` is the `plexus agent`
 * command, which initialises the runtime itself. See docs/agent.md. */
#ifndef PLEXUS_AGENT_AGENT_H
#define PLEXUS_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "actor/pid.h"

/* Everything the agent is configured with. Strings are borrowed: agent_start copies
 * what it keeps, so they only need to live until it returns. */
struct agent_flags {
	const char *master;        /* --master: "master@ip:port" or the master's "ip:port" */
	const char *ip;            /* --ip: address the runtime binds (NULL: 127.0.0.1) */
	int port;                  /* --port: HTTP port (5051) */
	int actor_port;            /* --actor-port: actor transport port (0: ephemeral) */
	const char *hostname;      /* --hostname: advertised hostname (NULL: gethostname) */
	const char *resources;     /* --resources: text or JSON; NULL/missing: detected */
	const char *attributes;    /* --attributes: "rack:a;zone:1" */
	const char *work_dir;      /* --work-dir: sandboxes live below it */
	const char *executor_path; /* --executor-path: the plexus-executor binary
	                              (NULL: next to the running program) */
	int64_t executor_shutdown_grace_ms;       /* --executor-shutdown-grace-period (5 s) */
	int64_t executor_registration_timeout_ms; /* --executor-registration-timeout (1 min) */
	int64_t registration_backoff_ms;          /* --registration-backoff-factor (1 s) */
	int64_t update_retry_min_ms;              /* --status-update-retry-interval-min (10 s) */
	int64_t update_retry_max_ms;              /* --status-update-retry-interval-max (10 min) */
	/* Containment (agent/containerizer/containerizer.h). */
	const char *isolation;     /* --isolation (NULL: cgroups + pid namespace when usable,
	                              else posix) */
	const char *cgroups_root;  /* --cgroups-root ("plexus") */
	int cgroups_enable_cfs;    /* --cgroups-enable-cfs: hard cpu cap */
	int enforce_container_disk_quota; /* --enforce-container-disk-quota */
	int64_t container_disk_watch_ms;  /* --container-disk-watch-interval (15 s) */
	/* Checkpointing and recovery (docs/agent.md, "Recovery"). */
	int checkpoint;                /* --checkpoint (on) */
	const char *recover;           /* --recover: "reconnect" (default) or "cleanup" */
	int64_t recovery_timeout_ms;   /* --recovery-timeout (15 min) */
	int64_t executor_reregistration_timeout_ms; /* --executor-reregistration-timeout (2 s) */
	int64_t gc_delay_ms;           /* --gc-delay (1 week) */
	double gc_disk_headroom;       /* --gc-disk-headroom (0.1) */
	int64_t disk_watch_interval_ms; /* --disk-watch-interval (1 min) */
	/* The fetcher (agent/fetcher.h). */
	const char *fetcher_cache_dir; /* --fetcher-cache-dir (NULL: <work dir>/fetch) */
	uint64_t fetcher_cache_size;   /* --fetcher-cache-size in bytes (2GB) */
};

/* Fills flags with the defaults (work dir /tmp/plexus/agent, port 5051). */
void agent_flags_default(struct agent_flags *flags);

/* Parses `plexus agent` arguments (argv[0] is the command name) into flags, which
 * point into argv. Returns 0, 1 when --help was printed (exit 0), or 2 after printing
 * a message about a bad flag or value on stderr (exit 2). */
int agent_flags_parse(struct agent_flags *flags, int argc, char **argv);

/* Starts an agent in the running runtime: checks the flags (resources and attributes
 * must parse, the work dir must be creatable), spawns the "slave(N)" actor (and the
 * process-wide "files" actor if not there yet) and begins registering with the master.
 * On success *out is the agent's PID. On failure nothing was started and err (if not
 * NULL) says why; returns non-zero. */
int agent_start(const struct agent_flags *flags, actor_pid *out, char *err, size_t errlen);

/* Stops the agent started as pid: its executors are killed (and checkpointed as ended:
 * an agent started later on the work dir does not look for them) and the actor ends.
 * Only an agent that is killed leaves its executors for a restarted one to recover.
 * Waits until it has ended. Call from outside actors. */
void agent_stop(actor_pid pid);

/* `plexus agent [flags]`: runs an agent until SIGINT or SIGTERM. */
int agent_main(int argc, char **argv);

#endif
