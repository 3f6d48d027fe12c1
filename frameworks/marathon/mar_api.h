/* mar_api.h — the REST API's dispatcher. */
#ifndef MAR_API_H
#define MAR_API_H

struct mar_request;

/* Answers one request (state is the marathon actor's struct mar_state); inside the
 * actor. Every request is answered exactly once, and the state file is written after
 * any change. */
void mar_api_handle(void *state, struct mar_request *r);

#endif
