/* runtime.h — one libactor runtime per OS process: worker threads, the timer
 * thread, and (when listening) the network transport. */
#ifndef ACTOR_RUNTIME_H
#define ACTOR_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct actor_config {
	int workers;          /* worker threads; 0 = number of cores (env ACTOR_WORKERS) */
	int batch;            /* messages an actor handles per turn before it yields; 0 = 64 */
	const char *ip;       /* address PIDs carry and the listener binds; NULL = env ACTOR_IP
	                         or "127.0.0.1" */
	int port;             /* listen port; 0 = ephemeral, -1 = env ACTOR_PORT or 0 */
	bool listen;          /* open the network listener (remote messaging, HTTP) */
	size_t max_frame;     /* largest remote message accepted or sent; 0 = 64 MiB */
	int http_port;        /* HTTP server port (see http.h), served only when listening;
	                         0 = ephemeral, -1 = no HTTP server. It is a second port:
	                         nng's HTTP server owns its listener. */
	size_t http_max_body; /* largest HTTP request body accepted (413 above); 0 = 1 MiB */
} actor_config;

/* Fills cfg with the defaults described above. */
void actor_config_default(actor_config *cfg);

/* Starts the runtime. cfg may be NULL for defaults. ACTOR_ESTATE if already running. */
int actor_runtime_init(const actor_config *cfg);

/* Terminates every actor (each fini runs), joins all threads and frees everything.
 * Must not be called from inside an actor. After it returns, init may be called again. */
void actor_runtime_fini(void);

bool actor_runtime_running(void);

/* The address this OS process's PIDs carry (host byte order) and its port. */
uint32_t actor_runtime_ip(void);
uint16_t actor_runtime_port(void);

/* Whether the network transport runs (the runtime was started with listen true), so
 * that actors of other OS processes can reach this one's and be reached. */
bool actor_runtime_listening(void);

/* Counters the runtime keeps about itself; cheap to read, summed over workers. */
typedef struct actor_stats {
	uint64_t actors_alive;
	uint64_t actors_spawned;
	uint64_t messages_sent;       /* accepted by actor_send and friends */
	uint64_t messages_received;   /* handed to a handler (or dispatch function) */
	uint64_t messages_dropped;    /* unknown target, no handler, actor ended, filtered */
	uint64_t mailbox_high_water;  /* deepest mailbox seen */
} actor_stats;

void actor_runtime_stats(actor_stats *out);

#ifdef __cplusplus
}
#endif

#endif
