/* lam_view.h — the live view of `plexus lambda up` (and `plexus lambda view`): the top
 * URLs with their merged counts beside the generator's ground truth, the freshness of
 * the speed layer, the last batch run, and each framework's share of the cluster. */
#ifndef LAM_VIEW_H
#define LAM_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "lam_store.h"

/* Renders one frame into out; clear: start with the terminal's clear-screen. 0, or -1
 * when the serving layer could not be read (the frame says why). */
int lam_view_render(FILE *out, const char *master, const char *dataset, lam_store *store,
                    int top, bool clear);

#endif
