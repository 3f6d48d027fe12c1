/* lam_serve.c — see lam_serve.h. */
#include "lam_serve.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <actor/actor.h>
#include <actor/future.h>
#include <actor/http.h>
#include <actor/log.h>
#include <jansson.h>

#include "lam_dataset.h"

struct job {
	struct job *next;
	actor_promise *promise;
	char path[16];
	char query[512];
};

struct lam_server {
	lam_store *store;
	actor_pid pid;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool stop;
};

static int cmp_views(const void *a, const void *b)
{
	const lam_answer *x = a, *y = b;
	if (x->views != y->views)
		return x->views > y->views ? -1 : 1;
	return strcmp(x->url, y->url);
}

int lam_top(lam_store *store, int n, lam_answer **out, char *err, size_t errlen)
{
	char **urls;
	size_t nurls;
	*out = NULL;
	if (lam_store_urls(store, &urls, &nurls, err, errlen) != 0)
		return -1;
	lam_answer *v = calloc(nurls ? nurls : 1, sizeof(*v));
	int rc = v ? 0 : -1;
	size_t k = 0;
	for (size_t i = 0; i < nurls && rc == 0; i++) {
		if (lam_url_valid(urls[i], strlen(urls[i])))
			rc = lam_store_query(store, urls[i], &v[k++], err, errlen);
	}
	lam_store_urls_free(urls, nurls);
	if (rc != 0) {
		free(v);
		return -1;
	}
	qsort(v, k, sizeof(*v), cmp_views);
	*out = v;
	return (int)(k < (size_t)n ? k : (size_t)n);
}

char *lam_top_json(lam_store *store, int n, char *err, size_t errlen)
{
	lam_answer *v;
	int k = lam_top(store, n, &v, err, errlen);
	if (k < 0)
		return NULL;
	json_t *arr = json_array();
	for (int i = 0; i < k; i++) {
		char *one = lam_answer_json(&v[i]);
		json_array_append_new(arr, one ? json_loads(one, 0, NULL) : json_null());
		free(one);
	}
	free(v);
	char *text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

/* A query-string parameter, URL-decoded, into out; false when absent or malformed. */
static bool param(const char *query, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = query; p && *p;) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t k = 0;
			for (size_t i = nl + 1; i < len; i++) {
				char ch = p[i];
				if (ch == '%') {
					unsigned v;
					if (i + 2 >= len || sscanf(p + i + 1, "%2x", &v) != 1)
						return false;
					ch = (char)v;
					i += 2;
				} else if (ch == '+') {
					ch = ' ';
				}
				if (k + 1 >= n)
					return false;
				out[k++] = ch;
			}
			out[k] = '\0';
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

static actor_http_response *error_response(int status, const char *why)
{
	json_t *j = json_pack("{s:s}", "error", why);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	actor_http_response *r =
	    actor_http_response_alloc(status, "application/json", text, text ? strlen(text) : 0);
	free(text);
	return r;
}

static actor_http_response *answer(struct lam_server *s, const struct job *j)
{
	char err[512], url[LAM_URL_MAX + 8];
	char *text = NULL;
	if (strcmp(j->path, "query") == 0) {
		if (!param(j->query, "url", url, sizeof(url)) || !lam_url_valid(url, strlen(url)))
			return error_response(400, "give url=PATH, a path such as /home (printable, "
			                           "no spaces or quotes)");
		lam_answer a;
		if (lam_store_query(s->store, url, &a, err, sizeof(err)) == 0)
			text = lam_answer_json(&a);
	} else {
		char n[16] = "10";
		param(j->query, "n", n, sizeof(n));
		int k = atoi(n);
		if (k < 1 || k > 1000)
			return error_response(400, "n is a number of URLs from 1 to 1000");
		text = lam_top_json(s->store, k, err, sizeof(err));
	}
	if (text == NULL) {
		actor_warn("lambda: query failed: %s", err);
		return error_response(503, err);
	}
	actor_http_response *r = actor_http_response_alloc(200, "application/json", text, strlen(text));
	free(text);
	return r;
}

static void *serve_main(void *arg)
{
	struct lam_server *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && s->head == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->head == NULL)
			break;
		struct job *j = s->head;
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
		pthread_mutex_unlock(&s->mu);
		actor_http_response *r = s->stop ? error_response(503, "the server is stopping")
		                                 : answer(s, j);
		actor_promise_set(j->promise, r, actor_http_response_free_cb);
		actor_promise_free(j->promise);
		free(j);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static actor_future *on_request(actor_t *self, const actor_http_request *req, void *arg)
{
	struct lam_server *s = arg;
	(void)self;
	if (strcmp(req->method, "GET") != 0)
		return actor_http_respond(error_response(405, "only GET is served here"));
	const char *what = strcmp(req->path, "/query") == 0 ? "query"
	                   : strcmp(req->path, "/top") == 0 ? "top"
	                                                    : NULL;
	if (what == NULL)
		return actor_http_respond(error_response(404, "no such endpoint: try /lambda/query?url=/home or /lambda/top?n=10"));
	if (strlen(req->query) >= sizeof(((struct job *)0)->query))
		return actor_http_respond(error_response(414, "query string too long"));
	struct job *j = calloc(1, sizeof(*j));
	actor_promise *p = j ? actor_promise_alloc() : NULL;
	if (p == NULL) {
		free(j);
		return actor_http_respond(error_response(503, "out of memory"));
	}
	j->promise = p;
	snprintf(j->path, sizeof(j->path), "%s", what);
	snprintf(j->query, sizeof(j->query), "%s", req->query);
	actor_future *f = actor_promise_future(p);
	pthread_mutex_lock(&s->mu);
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return f;
}

static int serve_init(actor_t *self)
{
	struct lam_server *s = actor_state(self);
	if (actor_http_route(self, "/query", on_request, s) != 0 ||
	    actor_http_route(self, "/top", on_request, s) != 0)
		return -1;
	return 0;
}

static const actor_def serve_def = {.name = "lambda", .init = serve_init};

lam_server *lam_server_start(lam_store *store, char *err, size_t errlen)
{
	struct lam_server *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->store = lam_store_clone(store)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, serve_main, s) != 0) {
		lam_store_close(s->store);
		free(s);
		snprintf(err, errlen, "cannot start the query thread");
		return NULL;
	}
	if (actor_spawn(&serve_def, s, &s->pid) != 0) {
		snprintf(err, errlen, "cannot spawn the lambda actor");
		lam_server_stop(s);
		return NULL;
	}
	return s;
}

void lam_server_stop(lam_server *s)
{
	if (s == NULL)
		return;
	actor_terminate(s->pid);
	actor_wait(s->pid, 5000);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	lam_store_close(s->store);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
