/* webui.h — the web UI's static files, embedded into the program at build time
 * (webui/embed.cmake), served by the master at / (master/webui_http.c). */
#ifndef PLEXUS_WEBUI_H
#define PLEXUS_WEBUI_H

#include <stddef.h>

struct px_webui_asset {
	const char *path; /* "/webui/app.js"; "/" is the page itself */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* The files, ended by an entry whose path is NULL. */
extern const struct px_webui_asset px_webui_assets[];

#endif
