/* fetcher.h — fetches an executor's CommandInfo.uris into its sandbox before it starts,
 * as Mesos's fetcher does.
 *
 * Each URI is a local path (absolute, or file://) copied into the sandbox under its
 * base name, made executable when URI.executable is set. */
#ifndef AGENT_FETCHER_H
#define AGENT_FETCHER_H

#include <stddef.h>

#include "proto/plexus.pb-c.h"

/* Fetches every URI of cmd into sandbox. 0 on success; -1 with err saying which URI
 * failed and why (the executor is then not started). */
int agent_fetch(const Plexus__CommandInfo *cmd, const char *sandbox, char *err, size_t errlen);

#endif
