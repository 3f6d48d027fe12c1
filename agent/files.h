/* files.h — the "files" actor: /files/read and /files/browse over sandboxes, as Mesos's
 * files process serves them.
 *
 * One per OS process, shared by every agent in it. Directories are attached under a
 * virtual path (the agent attaches each sandbox under its own real path and under
 * /frameworks/F/executors/E/runs/latest); a request's path is resolved against the
 * longest attached prefix, canonicalised, and refused unless it stays inside the
 * attached directory:
 *
 *   GET /files/read?path=P[&offset=N][&length=N]  -> {"data": "...", "offset": N}
 *       offset -1 or missing: the file's size (with data ""); length capped at 16 pages
 *   GET /files/browse?path=P  -> [{"path","nlink","size","mtime","mode","uid","gid"}...]
 *
 *   400  no path, a bad offset/length, reading a directory
 *   403  the path resolves outside its attached directory (a symlink or "..")
 *   404  nothing attached there, or no such file */
#ifndef PLEXUS_AGENT_FILES_H
#define PLEXUS_AGENT_FILES_H

/* Spawns the actor on first use. Returns 0 or a libactor error code. */
int files_ref(void);
/* Releases a reference; the actor itself lives until the runtime ends. */
void files_unref(void);

/* Attaches the directory (or file) real under the virtual path; replaces an earlier
 * attachment of that path. Returns 0 or an errno code (real must exist). Any thread. */
int files_attach(const char *real, const char *virtual_path);
/* Forgets the virtual path (no-op when unknown); when real is not NULL, only if the
 * path is still attached to real (a newer run may have taken the path over). Any
 * thread. */
void files_detach(const char *virtual_path, const char *real);

#endif
