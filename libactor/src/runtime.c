/* runtime.c — configuration, start and stop of the runtime, and its counters.
 *
 * Start order: registry, clock, timer thread, workers, then the transport (it may
 * deliver at once). Stop order: every actor ends (each fini runs, links fire), the
 * transport stops, the workers drain and join, the timer thread joins and runs what
 * is left with self == NULL, then memory is freed; init may be called again. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

struct actor__rt actor__rt;
const struct actor_transport_ops *actor__transport;

/* actor__transport_nng (src/net/transport_nng.c) is declared in transport.h; the
 * reference is a normal one so that static links always pull the transport in. */

static pthread_mutex_t actor__rt_mu = PTHREAD_MUTEX_INITIALIZER;

void actor_config_default(actor_config *cfg)
{
	*cfg = (actor_config){
		.workers = 0,
		.batch = 0,
		.ip = NULL,
		.port = -1,
		.listen = false,
		.max_frame = 0,
	};
}

static int actor__env_int(const char *name, int dflt)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > 65535) {
		actor_warn("ignoring %s=%s: not a number in 0..65535", name, s);
		return dflt;
	}
	return (int)v;
}

bool actor_runtime_running(void)
{
	return atomic_load_explicit(&actor__rt.running, memory_order_acquire) != 0;
}

uint32_t actor_runtime_ip(void)
{
	return actor__rt.ip;
}

uint16_t actor_runtime_port(void)
{
	return actor__rt.port;
}

bool actor_runtime_listening(void)
{
	return actor_runtime_running() && actor__rt.port != 0;
}

int actor_runtime_init(const actor_config *user)
{
	actor_config cfg;
	struct in_addr addr;
	const char *ip;
	int rc;

	if (user != NULL)
		cfg = *user;
	else
		actor_config_default(&cfg);
	pthread_mutex_lock(&actor__rt_mu);
	if (actor_runtime_running()) {
		pthread_mutex_unlock(&actor__rt_mu);
		return ACTOR_ESTATE;
	}
	if (cfg.workers <= 0)
		cfg.workers = actor__env_int("ACTOR_WORKERS", 0);
	if (cfg.workers <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.workers = n > 0 ? (int)n : 1;
	}
	if (cfg.batch <= 0)
		cfg.batch = 64;
	ip = cfg.ip != NULL ? cfg.ip : getenv("ACTOR_IP");
	if (ip == NULL || *ip == '\0')
		ip = "127.0.0.1";
	if (inet_pton(AF_INET, ip, &addr) != 1) {
		pthread_mutex_unlock(&actor__rt_mu);
		actor_error("runtime: bad IPv4 address '%s'", ip);
		return ACTOR_EINVAL;
	}
	cfg.ip = ip;
	if (cfg.port < 0)
		cfg.port = actor__env_int("ACTOR_PORT", 0);
	if (cfg.port > 65535) {
		pthread_mutex_unlock(&actor__rt_mu);
		return ACTOR_EINVAL;
	}
	if (cfg.max_frame == 0)
		cfg.max_frame = 64u << 20;
	actor__rt.ip = ntohl(addr.s_addr);
	actor__rt.port = 0;
	actor__rt.workers = cfg.workers;
	actor__rt.batch = cfg.batch;
	actor__rt.max_frame = cfg.max_frame;
	actor__transport = NULL;

	if ((rc = actor__registry_init()) != 0)
		goto fail;
	actor__clock_reset();
	if ((rc = actor__timers_start()) != 0)
		goto fail_registry;
	if ((rc = actor__sched_start(cfg.workers, cfg.batch)) != 0)
		goto fail_timers;
	/* Senders may run from the transport's threads as soon as it starts. */
	atomic_store_explicit(&actor__rt.running, 1, memory_order_release);
	if (cfg.listen) {
		uint32_t bound_ip = actor__rt.ip;
		uint16_t bound_port = 0;
		rc = actor__transport_nng.start(&cfg, &bound_ip, &bound_port);
		if (rc != 0) {
			atomic_store_explicit(&actor__rt.running, 0, memory_order_release);
			actor_error("runtime: transport %s did not start: %s",
				    actor__transport_nng.name, actor_strerror(rc));
			goto fail_sched;
		}
		actor__rt.ip = bound_ip;
		actor__rt.port = bound_port;
		actor__transport = &actor__transport_nng;
	}
	pthread_mutex_unlock(&actor__rt_mu);
	return 0;

fail_sched:
	actor__sched_stop();
fail_timers:
	actor__timers_stop();
fail_registry:
	actor__registry_fini();
fail:
	pthread_mutex_unlock(&actor__rt_mu);
	return rc;
}

/* Terminates every registered actor and waits for each to end; repeats while fini
 * callbacks spawn new ones. */
static void actor__end_all(void)
{
	for (;;) {
		size_t n;
		struct actor **all = actor__registry_all(&n);
		if (all == NULL || n == 0) {
			free(all);
			return;
		}
		for (size_t i = 0; i < n; i++)
			actor_terminate(all[i]->pid);
		for (size_t i = 0; i < n; i++) {
			actor_pid pid = all[i]->pid;
			actor__unref(all[i]);
			actor_wait(pid, -1);
		}
		free(all);
	}
}

void actor_runtime_fini(void)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 50000};

	pthread_mutex_lock(&actor__rt_mu);
	if (!actor_runtime_running()) {
		pthread_mutex_unlock(&actor__rt_mu);
		return;
	}
	actor__end_all();
	/* Every ended actor freed before the transport stops: what their mailboxes still
	 * hold is released (remote bodies) or answered (remote link requests) now. */
	for (;;) {
		actor__reclaim();
		if (actor__sched_quiet() && actor__limbo_len() == 0)
			break;
		nanosleep(&pause, NULL);
	}
	/* No actor is left to hear of a child's end. */
	actor__reap_stop();
	if (actor__transport != NULL) {
		actor__transport->stop();
		actor__transport = NULL;
	}
	actor__end_all(); /* anything spawned by a message that was still in flight */
	while (!actor__sched_quiet())
		nanosleep(&pause, NULL);
	atomic_store_explicit(&actor__rt.running, 0, memory_order_release);
	actor__sched_stop();
	actor__timers_stop();
	actor__links_fini();
	actor__registry_fini();
	actor__rt.port = 0;
	pthread_mutex_unlock(&actor__rt_mu);
}

void actor_runtime_stats(actor_stats *out)
{
	struct actor__counters c;

	actor__counters_sum(&c);
	out->actors_spawned = c.spawned;
	out->actors_alive = c.spawned >= c.ended ? c.spawned - c.ended : 0;
	out->messages_sent = c.sent;
	out->messages_received = c.received;
	out->messages_dropped = c.dropped;
	out->mailbox_high_water = c.high_water;
}
