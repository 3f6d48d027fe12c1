/* webui_http.c — serves the web UI (webui/, embedded at build time) at / and under /webui/.
 * A prefix route of "/" answers only what no actor route or longer prefix answers. */
#include <string.h>

#include "master/master_internal.h"
#include "webui/webui.h"

static actor_future *webui(actor_t *self, const actor_http_request *req, void *arg)
{
	const char *path = strcmp(req->path, "/index.html") == 0 ? "/" : req->path;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return actor_http_reply(405, "text/plain", "use GET\n", 8);
	for (const struct px_webui_asset *a = px_webui_assets; a->path != NULL; a++)
		if (strcmp(a->path, path) == 0) {
			actor_http_response *res =
			    actor_http_response_alloc(200, a->content_type, a->data, a->len);
			if (res != NULL)
				actor_http_response_header(res, "Cache-Control", "no-cache");
			return actor_http_respond(res);
		}
	return actor_http_reply(404, "text/plain", "no such page\n", 13);
}

int mst_webui_install(actor_t *self)
{
	return actor_http_route_prefix(self, "/", webui, NULL);
}
