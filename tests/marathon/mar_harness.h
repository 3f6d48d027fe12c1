/* mar_harness.h — what the marathon tests share: real `plexus local`, `plexus master`,
 * `plexus agent` and `plexus marathon` processes on 127.0.0.1 with free ports, HTTP
 * requests through nng's HTTP client, an /v2/events reader, and bounded waits.
 *
 * Every process started is killed and reaped by mh_fini (also when a test fails half
 * way: call it from the suite's teardown); the test process is a child subreaper, so
 * executors orphaned by a killed agent are reaped too. */
#ifndef TESTS_MARATHON_HARNESS_H
#define TESTS_MARATHON_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

void mh_init(void);
void mh_fini(void);
const char *mh_dir(void);
int mh_free_port(void);

/* Starts `plexus <args...>` (NULL-terminated), output in <scratch>/<name>.log. */
pid_t mh_spawn(const char *name, ...);
/* SIGKILLs (and reaps) or SIGTERMs (and waits up to 10 s for) a started process. */
void mh_kill(pid_t pid);
bool mh_term(pid_t pid);

/* `plexus local` with n agents of these resources; returns its HTTP port once the
 * master lists n agents. */
int mh_local(int agents, const char *resources);
/* `plexus master` (an agent is lost after 5 missed pings of 1 s); its HTTP port once it
 * answers. */
int mh_master(void);
/* `plexus agent` for the master, with a hostname and attributes (may be NULL); waits
 * until the master lists `expect` agents. Returns its pid. */
pid_t mh_agent(int master_port, const char *hostname, const char *attributes, const char *resources,
               int expect);
/* `plexus marathon` for the master; state_file may be NULL. Waits for /ping and a
 * framework id in /v2/info; returns the HTTP port, the pid in *pid (may be NULL). */
int mh_marathon(int master_port, const char *state_file, pid_t *pid);
int mh_marathon_on(int master_port, const char *state_file, int http_port, pid_t *pid);

/* One request: the status (0 when it could not be made), the body in *out (malloc'ed)
 * when out is not NULL. */
int mh_http(const char *method, int port, const char *path, const char *body, char **out);
/* The same, the body parsed as JSON (NULL when it is not); status in *status. */
json_t *mh_json(const char *method, int port, const char *path, const char *body, int *status);

/* Calls pred(arg) every 20 ms until true or timeout_ms passed; its last answer. */
bool mh_wait(int timeout_ms, bool (*pred)(void *arg), void *arg);

/* The app's GET /v2/apps/{id} "app" object, or NULL. */
json_t *mh_app(int port, const char *id);
/* An integer field of the app ("tasksRunning"), -1 when there is no such app. */
int mh_app_count(int port, const char *id, const char *field);
/* Waits until the app's field equals n. */
bool mh_wait_count(int port, const char *id, const char *field, int n, int timeout_ms);
/* Waits until the app has no deployment under way. */
bool mh_wait_deployed(int port, const char *id, int timeout_ms);

/* ---- /v2/events ------------------------------------------------------------------- */

struct mh_events;
/* Opens GET /v2/events and reads it on a thread. NULL on failure. */
struct mh_events *mh_events_open(int port);
/* The next event not yet taken (its type in type[64]); NULL after timeout_ms. */
json_t *mh_events_next(struct mh_events *ev, char type[64], int timeout_ms);
void mh_events_close(struct mh_events *ev);

#endif
