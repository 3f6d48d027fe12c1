/* cas_res.h — the resources and offer operations the scheduler builds: dynamically
 * reserved cpus, mem, a port and disk, a persistent volume on that disk, and finding
 * them again in a later offer. Every message returned is the caller's (PX_FREE). */
#ifndef CAS_RES_H
#define CAS_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plexus/plexus.pb-c.h>

/* The container path of a node's volume inside its sandbox. */
#define CAS_VOLUME_PATH "cassandra-data"

/* A resource dynamically reserved for role by principal: a scalar (cpus, mem, disk)
 * or, when name is "ports", the single port `port`. With persistence_id (disk only) it
 * is a persistent volume mounted at CAS_VOLUME_PATH. NULL on out of memory. */
Plexus__Resource *cas_res_reserved(const char *name, double scalar, uint64_t port,
                                   const char *role, const char *principal,
                                   const char *persistence_id);

/* A RESERVE or CREATE operation over res (taken: the operation owns them). */
Plexus__Offer__Operation *cas_op_reserve(Plexus__Resource **res, size_t n);
Plexus__Offer__Operation *cas_op_create(Plexus__Resource **volumes, size_t n);
/* A LAUNCH operation of one task (taken). */
Plexus__Offer__Operation *cas_op_launch(Plexus__TaskInfo *task);

/* Whether r is reserved (dynamically) for role. */
bool cas_res_is_reserved_for(const Plexus__Resource *r, const char *role);
/* The persistence id of a volume resource, or NULL. */
const char *cas_res_persistence_id(const Plexus__Resource *r);

/* Unreserved scalar amount of name in the offer. */
double cas_offer_unreserved(const Plexus__Offer *o, const char *name);
/* The first unreserved port of the offer not in avoid (navoid of them); 0 if none. */
uint64_t cas_offer_free_port(const Plexus__Offer *o, const uint64_t *avoid, size_t navoid);

#endif
