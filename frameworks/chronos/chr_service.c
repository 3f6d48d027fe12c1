/* chr_service.c — the service of chr_service.h: configuration, the state file read at
 * start, the scheduler's actor ("chronos", serving /v1/scheduler/...) and its
 * framework on the scheduler driver, failing over to the framework id it had. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <actor/clock.h>
#include <actor/future.h>
#include <actor/log.h>
#include <plexus/scheduler.h>

#include "chr_sched.h"
#include "chr_store.h"

static int sched_init(actor_t *self)
{
	struct chr_sched *s = actor_state(self);
	if (chr_rest_install(self, s) != 0)
		return -1;
	chr_sched_rearm(self, s);
	return 0;
}

static void sched_fini(actor_t *self)
{
	struct chr_sched *s = actor_state(self);
	s->timer = 0;
	s->reconcile_timer = 0;
}

static const actor_def sched_def = {.name = "chronos", .init = sched_init, .fini = sched_fini};

static void sched_free(struct chr_sched *s)
{
	if (s == NULL)
		return;
	while (s->jobs != NULL) {
		chr_job *n = s->jobs->next;
		chr_job_free(s->jobs);
		s->jobs = n;
	}
	while (s->runs != NULL) {
		chr_run *n = s->runs->next;
		chr_run_free(s->runs);
		s->runs = n;
	}
	free(s->master), free(s->state_file), free(s->framework_name), free(s->user);
	free(s->role), free(s->default_epsilon), free(s->framework_id);
	free(s);
}

static char *dup_or(const char *v, const char *dflt)
{
	return strdup(v != NULL && *v != '\0' ? v : dflt);
}

static const char *current_user(void)
{
	const char *u = getenv("USER");
	if (u != NULL && *u != '\0')
		return u;
	struct passwd *pw = getpwuid(geteuid());
	return pw != NULL ? pw->pw_name : "root";
}

chr_service *chr_service_start(const chr_config *cfg, char *err, size_t errlen)
{
	struct chr_sched *s = calloc(1, sizeof(*s));
	if (s == NULL || cfg->master == NULL || cfg->state_file == NULL) {
		snprintf(err, errlen,
		         s == NULL ? "out of memory"
		                   : "a master and a state file "
		                     "are needed");
		free(s);
		return NULL;
	}
	s->master = strdup(cfg->master);
	s->state_file = strdup(cfg->state_file);
	s->framework_name = dup_or(cfg->framework_name, "chronos");
	s->user = dup_or(cfg->user, current_user());
	s->role = dup_or(cfg->role, "*");
	s->default_epsilon = dup_or(cfg->defaults.epsilon, "PT5M");
	if (!s->master || !s->state_file || !s->framework_name || !s->user || !s->role ||
	    !s->default_epsilon) {
		snprintf(err, errlen, "out of memory");
		sched_free(s);
		return NULL;
	}
	s->defaults = cfg->defaults;
	s->defaults.epsilon = s->default_epsilon;
	if (s->defaults.cpus <= 0)
		s->defaults.cpus = 0.1;
	if (s->defaults.mem <= 0)
		s->defaults.mem = 128;
	if (s->defaults.disk <= 0)
		s->defaults.disk = 256;
	if (cfg->defaults.retries == 0 && cfg->defaults.cpus == 0 && cfg->defaults.mem == 0)
		s->defaults.retries = 2; /* an all-zero defaults block means Chronos's defaults */
	s->failure_retry_ms = cfg->failure_retry_ms > 0 ? cfg->failure_retry_ms : 60000;
	s->failover_timeout_ms =
	    cfg->failover_timeout_ms > 0 ? cfg->failover_timeout_ms : 7 * 24 * 3600 * 1000LL;
	if (cfg->wall_offset_set) {
		s->wall_offset_ms = cfg->wall_offset_ms;
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s->wall_offset_ms =
		    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - actor_clock_now();
	}
	if (!chr_store_load(s, err, errlen)) {
		sched_free(s);
		return NULL;
	}

	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fw.user = s->user;
	fw.name = s->framework_name;
	fw.role = s->role;
	fw.has_failover_timeout = true;
	fw.failover_timeout = (double)s->failover_timeout_ms / 1000.0;
	fw.has_checkpoint = true;
	fw.checkpoint = true;
	if (s->framework_id != NULL) {
		fid.value = s->framework_id;
		fw.id = &fid;
	}
	px_scheduler_callbacks cb;
	chr_framework_callbacks(&cb);
	px_scheduler_options opts;
	px_scheduler_options_default(&opts);
	opts.implicit_acknowledgements = false;
	s->driver = px_scheduler_driver_alloc(&cb, s, &fw, s->master, &opts);
	if (s->driver == NULL) {
		snprintf(err, errlen, "cannot create the scheduler driver");
		sched_free(s);
		return NULL;
	}
	int rv = actor_spawn(&sched_def, s, &s->pid);
	if (rv != 0) {
		snprintf(err, errlen, "cannot start the scheduler: %s", actor_strerror(rv));
		px_scheduler_driver_free(s->driver);
		sched_free(s);
		return NULL;
	}
	if (px_scheduler_driver_start(s->driver) != PX_DRIVER_RUNNING) {
		snprintf(err, errlen, "cannot start the scheduler driver");
		chr_service_stop(s);
		return NULL;
	}
	size_t njobs = 0;
	for (const chr_job *j = s->jobs; j != NULL; j = j->next)
		njobs++;
	actor_info("chronos: %zu job(s) loaded from %s; registering with %s", njobs, s->state_file,
	           s->master);
	return s;
}

static void *registered_fn(actor_t *self, void *arg, int *err)
{
	(void)arg, (void)err;
	return self != NULL && ((struct chr_sched *)actor_state(self))->registered ? (void *)1
	                                                                           : NULL;
}

bool chr_service_registered(chr_service *svc)
{
	actor_future *f = actor_dispatch(svc->pid, registered_fn, NULL, NULL);
	bool yes = actor_future_await(f, 10000) == 0 &&
	           actor_future_state(f) == ACTOR_FUTURE_READY && actor_future_value(f) != NULL;
	actor_future_unref(f);
	return yes;
}

static void *mark_crashed(actor_t *self, void *arg, int *err)
{
	(void)arg, (void)err;
	if (self != NULL)
		((struct chr_sched *)actor_state(self))->crashed = true;
	return NULL;
}

static void end(chr_service *svc)
{
	px_scheduler_driver_free(svc->driver);
	actor_terminate(svc->pid);
	actor_wait(svc->pid, -1);
	sched_free(svc);
}

void chr_service_stop(chr_service *svc)
{
	if (svc == NULL)
		return;
	px_scheduler_driver_stop(svc->driver, true);
	end(svc);
}

void chr_service_crash(chr_service *svc)
{
	if (svc == NULL)
		return;
	/* Inside the actor and awaited, so that nothing it does after this is written. */
	actor_future *f = actor_dispatch(svc->pid, mark_crashed, NULL, NULL);
	actor_future_await(f, -1);
	actor_future_unref(f);
	px_scheduler_driver_abort(svc->driver);
	end(svc);
}
