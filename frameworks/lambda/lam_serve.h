/* lam_serve.h — the serving layer over HTTP: an actor "lambda" of this process's
 * runtime answers
 *
 *   GET /lambda/query?url=/home    the merged count of one URL (lam_answer_json)
 *   GET /lambda/top?n=10           the n URLs with the most merged views
 *
 * Queries run on a thread of the server's own (cassandra's synchronous client must not
 * run inside an actor), one at a time, in arrival order. */
#ifndef LAM_SERVE_H
#define LAM_SERVE_H

#include <stddef.h>

#include "lam_store.h"

typedef struct lam_server lam_server;

/* Starts serving with a session of store (which must outlive the server). The runtime
 * must be running with an HTTP server. NULL with err. */
lam_server *lam_server_start(lam_store *store, char *err, size_t errlen);
void lam_server_stop(lam_server *s);

/* The top n URLs by merged views, as a JSON array text (malloc'ed), or NULL with err. */
char *lam_top_json(lam_store *store, int n, char *err, size_t errlen);
/* The same as answers: *out malloc'ed, sorted by views descending; the count or -1. */
int lam_top(lam_store *store, int n, lam_answer **out, char *err, size_t errlen);

#endif
