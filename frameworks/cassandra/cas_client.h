/* cas_client.h — the C client library: token-aware routing and a consistency level per
 * request.
 *
 * A client is an actor of the calling process's libactor runtime (which must be
 * running and listening, since nodes answer by message). It learns the ring (nodes,
 * tokens, up/down) from a contact node and refreshes it every second; each request goes
 * to the first live node that owns the partition's token (a replica coordinates its own
 * data: one network hop less), or to a contact node while the ring is unknown. Calls
 * are thread-safe. Synchronous calls must come from threads that are not actors. */
#ifndef CAS_CLIENT_H
#define CAS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas_cell.h"
#include "cas_proto.h"

typedef struct cas_client cas_client;

/* Connects to the nodes at contacts ("ip:port[,ip:port...]") and fetches the ring.
 * NULL with err when no contact answers within timeout_ms. */
cas_client *cas_client_connect(const char *contacts, int64_t timeout_ms, char *err, size_t errlen);
/* Ends the client's actor; requests in flight complete with CAS_TIMEOUT first. NULL is
 * a no-op. */
void cas_client_free(cas_client *c);

/* The answer to a request: status (enum cas_status), message (an error's reason, ""
 * on success) and, for reads, the cells (borrowed until the callback returns). Runs
 * exactly once, inside the client's actor. */
typedef void (*cas_client_cb)(int status, const char *message, const cas_cells *cells, void *arg);

/* Writes cells (all of partition part) at consistency cl. Copies its arguments. 0, or
 * -1 on out of memory (cb then never runs). */
int cas_client_write_async(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                           const cas_cells *cells, cas_client_cb cb, void *arg);
int cas_client_read_async(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                          cas_client_cb cb, void *arg);

/* Synchronous forms: the status; on failure err holds the reason. read appends the
 * partition's reconciled cells (tombstones included) to out. */
int cas_client_write(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                     const cas_cells *cells, char *err, size_t errlen);
int cas_client_read(cas_client *c, cas_consistency cl, const uint8_t *part, size_t plen,
                    cas_cells *out, char *err, size_t errlen);

/* What the ring looks like from a node. */
typedef struct cas_ring_node {
	char addr[48];
	bool up;
	uint64_t load;
	int64_t *tokens;
	size_t ntokens;
} cas_ring_node;

typedef struct cas_ring_info {
	cas_ring_node *v;
	size_t n;
} cas_ring_info;

/* Asks a node (contact, or any known node when NULL) for its view of the ring. The
 * status; out filled on CAS_OK (free with cas_ring_info_fini). */
int cas_client_ring(cas_client *c, const char *node, cas_ring_info *out, char *err, size_t errlen);
void cas_ring_info_fini(cas_ring_info *r);
/* Decodes the ring part of a CAS_MSG_RESULT; -1 when malformed. */
int cas_ring_info_decode(cas_rbuf *r, cas_ring_info *out);

/* Replica-level access to one node's own copy, bypassing coordination: for operators'
 * tools and tests that must see exactly what a replica holds. fetch appends the node's
 * local cells of the partition to out; mutate applies cells on that node only (durably,
 * as a replica does). The status. */
int cas_client_fetch_local(cas_client *c, const char *node, const uint8_t *part, size_t plen,
                           cas_cells *out, char *err, size_t errlen);
int cas_client_mutate_local(cas_client *c, const char *node, const uint8_t *part, size_t plen,
                            const cas_cells *cells, char *err, size_t errlen);

/* Request timeout (real time) for later requests; default 5000 ms. */
void cas_client_set_timeout(cas_client *c, int64_t ms);

#endif
