/* monitor.c — see monitor.h. */
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "actor/libactor.h"
#include "agent/containerizer/container.h"
#include "agent/containerizer/monitor.h"
#include "common/json_pb.h"

/* The list is read by the monitor's handlers and written by agents (launch, cleanup):
 * a mutex, not the mailbox, so that a container is gone from it the moment cleanup
 * returns and its memory can be freed. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct container *list;
static int refs;
static bool alive;
static int64_t tick_ms = 15000;

void monitor_add(struct container *k)
{
	pthread_mutex_lock(&mu);
	k->next = list;
	list = k;
	pthread_mutex_unlock(&mu);
}

void monitor_remove(struct container *k)
{
	pthread_mutex_lock(&mu);
	for (struct container **pp = &list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	k->next = NULL;
	pthread_mutex_unlock(&mu);
}

void monitor_locked(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&mu);
	fn(arg);
	pthread_mutex_unlock(&mu);
}

static actor_future *statistics(actor_t *self, const actor_http_request *req, void *arg)
{
	json_t *arr = json_array();

	pthread_mutex_lock(&mu);
	for (struct container *k = list; k != NULL && arr != NULL; k = k->next) {
		Plexus__ResourceStatistics st = PLEXUS__RESOURCE_STATISTICS__INIT;
		container_usage(k, &st);
		json_t *js = px_pb_to_json(&st.base);
		json_t *item = json_pack("{s:s,s:s,s:s,s:o}", "executor_id", k->executor_id,
		                         "framework_id", k->framework_id, "source", k->source,
		                         "statistics", js ? js : json_object());
		if (item != NULL)
			json_array_append_new(arr, item);
	}
	pthread_mutex_unlock(&mu);
	char *text = arr ? json_dumps(arr, PX_JSON_DUMP_FLAGS) : NULL;
	json_decref(arr);
	if (text == NULL)
		return actor_http_reply(500, "text/plain", "out of memory\n", 14);
	actor_future *f = actor_http_reply(200, "application/json", text, strlen(text));
	free(text);
	return f;
}

static void tick(actor_t *self, void *arg)
{
	if (self == NULL)
		return;
	int64_t now = actor_clock_now();
	pthread_mutex_lock(&mu);
	for (struct container *k = list; k != NULL; k = k->next) {
		/* Limits are read every tick; the sandbox is walked when its turn comes. */
		bool walk = k->next_check <= now;
		if (walk)
			k->next_check = now + k->z->cfg.disk_watch_ms;
		(void)container_check(k, walk);
	}
	int64_t next = tick_ms;
	pthread_mutex_unlock(&mu);
	actor_delay(self, next, tick, NULL);
}

static int monitor_init(actor_t *self)
{
	int rc = actor_http_route(self, "/statistics", statistics, NULL);
	if (rc == 0)
		rc = actor_http_route(self, "/statistics.json", statistics, NULL);
	/* Spawned under mu by monitor_ref: no lock here, and tick_ms is set already. */
	actor_delay(self, tick_ms, tick, NULL);
	return rc;
}

static void monitor_fini(actor_t *self)
{
	pthread_mutex_lock(&mu);
	alive = false;
	pthread_mutex_unlock(&mu);
}

static const actor_def monitor_def = {
    .name = "monitor",
    .init = monitor_init,
    .fini = monitor_fini,
};

int monitor_ref(int64_t want_ms)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	if (want_ms > 0 && (refs == 0 || want_ms < tick_ms))
		tick_ms = want_ms;
	if (!alive) {
		actor_pid pid;
		rc = actor_spawn(&monitor_def, NULL, &pid);
		if (rc == 0 && strcmp(pid.id, "monitor") != 0)
			actor_warn("monitor: the id \"monitor\" is taken; serving under %s",
			           actor_pid_str(pid));
		alive = rc == 0;
	}
	if (rc == 0)
		refs++;
	pthread_mutex_unlock(&mu);
	return rc;
}

void monitor_unref(void)
{
	pthread_mutex_lock(&mu);
	refs--;
	pthread_mutex_unlock(&mu);
}
