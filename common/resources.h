/* resources.h — resource sets and their arithmetic, as Mesos's Resources class does it.
 *
 * Prefix: every public name of common/ starts with px_ (PX_ for constants); internal
 * helpers of a file are static or start with px__.
 *
 * A px_resources is a set of resources. Each resource has a name ("cpus"), a value type
 * (scalar, ranges or set) and an identity: its reservation stack (role, type,
 * principal, labels), disk info (persistent volumes, disk sources), allocation info,
 * revocable and shared markers. Two resources with the same name and identity merge
 * into one; resources of different identities never do, so `cpus(web):2` and `cpus:2`
 * stay two entries. The set is kept canonical (merged, sorted, no empty entries), so
 * equality is a plain comparison.
 *
 * Values:
 *  - Scalars are fixed point with three decimal digits, as Mesos has them: a scalar is
 *    an int64_t count of thousandths ("milli"), so 0.1 + 0.2 == 0.3 exactly. Input with
 *    more digits is rounded to the nearest thousandth.
 *  - Ranges are unsigned 64-bit closed intervals, kept sorted with overlapping and
 *    adjacent intervals coalesced ([1-3],[4-6] is [1-6]).
 *  - Sets are sorted, duplicate-free lists of strings; adding is set union.
 *
 * Indivisible resources (persistent volumes, MOUNT and BLOCK disks, shared resources)
 * are never merged or split: adding one appends another copy, subtracting removes an
 * exactly equal copy or nothing, and containment counts copies.
 *
 * Ownership: a px_resources is owned by whoever received it from a function ending in
 * _new, _copy, _parse or an `out` parameter, and released with px_resources_free().
 * Functions taking `const px_resources *` never keep the pointer. A
 * `const struct px_resource *` obtained from px_resources_at() is borrowed: valid until
 * the set it came from is next modified or freed.
 *
 * Cost: px_resources_contains(), px_resources_equal(), px_resources_scalar() and
 * subtracting scalars or sets never allocate. Subtracting ranges allocates only when a
 * split leaves an entry with more intervals than it has room for (room for at least 4
 * is kept) or when more than 64 intervals take part. Adding allocates when a new entry
 * or set item must be stored, or intervals outgrow their room. Lookups are binary
 * searches. (About 50 ns for contains and 120 ns for subtract plus add of a three-entry
 * request against a six-entry agent, -O2.)
 *
 * Threads: a set may be read from many threads at once; writing needs exclusive access.
 *
 * Errors: see error.h (int codes, PX_OK = 0, text in a caller's message buffer). */
#ifndef PX_RESOURCES_H
#define PX_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "proto/plexus.pb-c.h"

/* Value types, numbered as Mesos's Value.Type. */
enum px_value_type {
	PX_SCALAR = 0,
	PX_RANGES = 1,
	PX_SET = 2,
};

/* Reservation types, numbered as Mesos's Resource.ReservationInfo.Type. */
enum px_reservation_type {
	PX_RESERVATION_STATIC = 1,
	PX_RESERVATION_DYNAMIC = 2,
};

/* One closed interval [begin, end] of a ranges value. */
struct px_range {
	uint64_t begin;
	uint64_t end;
};

/* Largest scalar a resource may hold, in thousandths (about 9.2e12 units). */
#define PX_SCALAR_MAX ((int64_t)9223372036854775LL)

typedef struct px_resources px_resources;
struct px_resource; /* one entry of a set; read it with the px_resource_* accessors */

/* ---- Life cycle ------------------------------------------------------------------- */

/* A new empty set, or NULL when out of memory. */
px_resources *px_resources_new(void);

/* Releases rs and everything it owns. px_resources_free(NULL) does nothing. */
void px_resources_free(px_resources *rs);

/* A deep copy of rs, or NULL when out of memory. */
px_resources *px_resources_copy(const px_resources *rs);

/* Empties rs, keeping its storage for reuse. */
void px_resources_clear(px_resources *rs);

/* ---- Reading ---------------------------------------------------------------------- */

/* Number of entries (distinct name + identity pairs, plus indivisible copies). */
size_t px_resources_size(const px_resources *rs);

bool px_resources_is_empty(const px_resources *rs);

/* Entry i (0 <= i < size), borrowed. Entries are sorted by name, then identity. */
const struct px_resource *px_resources_at(const px_resources *rs, size_t i);

/* Sum in thousandths of every scalar entry called name, whatever its identity;
 * 0 when there is none. */
int64_t px_resources_scalar(const px_resources *rs, const char *name);

const char *px_resource_name(const struct px_resource *r);
enum px_value_type px_resource_type(const struct px_resource *r);
/* The scalar in thousandths; 0 for other types. */
int64_t px_resource_scalar(const struct px_resource *r);
/* The intervals (sorted, coalesced) and their count in *n; NULL and 0 for other types. */
const struct px_range *px_resource_ranges(const struct px_resource *r, size_t *n);
/* The items (sorted, unique) and their count in *n; NULL and 0 for other types. */
const char *const *px_resource_items(const struct px_resource *r, size_t *n);
/* Role the resource is reserved for (its innermost reservation), or "*" if unreserved. */
const char *px_resource_role(const struct px_resource *r);
bool px_resource_is_reserved(const struct px_resource *r);
/* True when the innermost reservation is dynamic. */
bool px_resource_is_dynamic(const struct px_resource *r);
/* Persistence id of a persistent volume, or NULL. */
const char *px_resource_persistence_id(const struct px_resource *r);
/* Role of Resource.allocation_info (the role an offer is made to), or NULL. */
const char *px_resource_allocation_role(const struct px_resource *r);
bool px_resource_is_revocable(const struct px_resource *r);
bool px_resource_is_shared(const struct px_resource *r);

/* ---- Arithmetic ------------------------------------------------------------------- */

/* rs += other. Returns PX_OK, PX_ENOMEM or PX_ERANGE (a scalar would pass
 * PX_SCALAR_MAX); on error rs holds a valid but partly added set. */
int px_resources_add(px_resources *rs, const px_resources *other);

/* rs += one resource (borrowed from any set). Errors as px_resources_add(). */
int px_resources_add_resource(px_resources *rs, const struct px_resource *r);

/* rs += an unreserved (role NULL or "*") or statically reserved scalar, in thousandths.
 * A zero amount adds nothing. PX_EINVAL for a bad name, role or a negative amount. */
int px_resources_add_scalar(px_resources *rs, const char *name, const char *role, int64_t milli);

/* rs -= other, as Mesos does: each entry of other is taken from the entry of rs with
 * the same name and identity; what is not there is ignored (scalars stop at zero,
 * intervals and items not present are skipped, an indivisible resource is removed only
 * if an equal copy exists). Check px_resources_contains() first for exact accounting.
 * Returns PX_OK, or PX_ENOMEM (only when splitting more than 64 intervals). */
int px_resources_subtract(px_resources *rs, const px_resources *other);

/* rs -= one resource. As px_resources_subtract(). */
int px_resources_subtract_resource(px_resources *rs, const struct px_resource *r);

/* True when rs holds at least other: every entry of other is covered by the entry of
 * the same name and identity in rs (scalar >=, intervals and items included). */
bool px_resources_contains(const px_resources *rs, const px_resources *other);

/* True when a and b hold exactly the same resources. */
bool px_resources_equal(const px_resources *a, const px_resources *b);

/* ---- Views (each returns a new set in *out; PX_OK or PX_ENOMEM) ----------------- */

typedef bool (*px_resource_pred)(const struct px_resource *r, void *arg);

/* The entries of rs for which pred(r, arg) is true. */
int px_resources_filter(const px_resources *rs, px_resource_pred pred, void *arg,
                        px_resources **out);

/* The unreserved entries. */
int px_resources_unreserved(const px_resources *rs, px_resources **out);

/* The entries reserved for role (their innermost reservation's role); every reserved
 * entry when role is NULL. */
int px_resources_reserved(const px_resources *rs, const char *role, px_resources **out);

/* What a framework of role may be offered: unreserved entries and entries reserved for
 * role or one of its ancestors ("eng" for "eng/web"). */
int px_resources_allocatable_to(const px_resources *rs, const char *role, px_resources **out);

/* The entries called name. */
int px_resources_named(const px_resources *rs, const char *name, px_resources **out);

/* rs with every reservation removed (and merged where that makes entries equal),
 * as Mesos's flatten(): the totals the allocator compares against. */
int px_resources_flatten(const px_resources *rs, px_resources **out);

/* Scalar quantities only: one unreserved entry per scalar name holding the sum over all
 * identities (disk info, reservations, revocable ... dropped). For DRF shares and quota. */
int px_resources_quantities(const px_resources *rs, px_resources **out);

/* rs with every entry marked as allocated to role (Resource.allocation_info), or with
 * the mark removed when role is NULL, as Mesos's allocate()/unallocate(): each offer
 * carries the role it is made to. PX_EINVAL for a bad role. */
int px_resources_allocate(const px_resources *rs, const char *role, px_resources **out);

/* rs with the innermost reservation of each entry removed (a dynamic reservation on top
 * of a static one leaves the static one), as Mesos's popReservation(). */
int px_resources_pop_reservation(const px_resources *rs, px_resources **out);

/* ---- Offer operations ------------------------------------------------------------- */

/* Applies an offer operation to rs (an agent's total or an offer's resources) as
 * Mesos's Resources::apply() does:
 *  - RESERVE: each given resource (dynamically reserved) replaces the same resource
 *    without its innermost reservation;
 *  - UNRESERVE: the reverse;
 *  - CREATE: each given persistent volume replaces the plain disk it is made from
 *    (same resource without persistence and volume);
 *  - DESTROY: the reverse;
 *  - LAUNCH, LAUNCH_GROUP: nothing changes (use px_resources_subtract for what tasks use).
 * What is replaced must be held by rs, identity included: resources of an operation that
 * carry allocation_info (as offered resources do) only match allocated resources, so
 * apply such an operation to offered resources, or strip the marks before applying it
 * to an agent's unallocated total. On failure rs is unchanged and PX_EINVAL (or
 * PX_ENOMEM, PX_ERANGE) comes with a message, e.g.
 * `RESERVE: 'cpus:8' is not available in 'cpus:4; mem:1024'`. */
int px_resources_apply(px_resources *rs, const Plexus__Offer__Operation *op, char *err,
                       size_t errlen);

/* ---- Text form -------------------------------------------------------------------- */

/* Parses `name[(role)]:value;...` where value is a scalar ("0.5"), ranges
 * ("[31000-32000, 40000]") or a set ("{a,b}"), whitespace allowed around tokens; or,
 * when the first non-blank character is '[', a JSON array of Mesos Resource objects
 * (which carry their own reservations). Text entries without a role get default_role (NULL or "*"
 * means unreserved; any other role makes them statically reserved for it). Zero scalars and empty
 * ranges/sets are dropped. On success *out is a new set; on failure PX_EINVAL (or PX_ENOMEM,
 * PX_ERANGE) and err says which resource and why, e.g. `resource 'mem:abc': invalid scalar 'abc'`.
 */
int px_resources_parse(const char *text, const char *default_role, px_resources **out, char *err,
                       size_t errlen);

/* Formats rs as text ("cpus:2; mem:1024; ports:[31000-32000]; disks:{a, b}"), into a
 * new malloc'ed string the caller frees, or NULL when out of memory. Unreserved and
 * statically reserved entries parse back to an equal set; other identities are shown
 * with annotations for people (e.g. `disk(web)[dynamic][volume:db]:1024`), which
 * px_resources_parse() rejects. */
char *px_resources_format(const px_resources *rs);

/* Formats a scalar in thousandths as Mesos shows it: "2", "0.5", "0.125". buf must
 * hold at least 32 bytes. Returns buf. */
char *px_scalar_format(int64_t milli, char *buf, size_t len);

/* Converts a double to thousandths, rounding to nearest. PX_EINVAL for NaN, infinity or
 * a negative value, PX_ERANGE past PX_SCALAR_MAX. */
int px_scalar_from_double(double value, int64_t *milli);

/* ---- Protobuf and JSON ------------------------------------------------------------ */

/* Builds a set from n generated Resource messages (borrowed). Accepts both Mesos
 * formats: `reservations` (post-refinement) and `role` + `reservation` (pre-refinement).
 * Validates as Mesos does (value field matching the type, non-negative scalars, begin
 * <= end, no duplicate set items, reservations with a role and type). On failure
 * PX_EINVAL with err naming the resource index and the reason. */
int px_resources_from_pb(Plexus__Resource *const *res, size_t n, px_resources **out, char *err,
                         size_t errlen);

/* Output format of px_resources_to_pb(). */
enum px_pb_format {
	PX_PB_REFINED = 0, /* `reservations` stack only (post-refinement) */
	PX_PB_LEGACY = 1,  /* also `role` and `reservation` where expressible (pre-refinement) */
};

/* Converts rs to *n new Resource messages in a new array *out. Free with
 * px_pb_resources_free(). PX_OK or PX_ENOMEM. */
int px_resources_to_pb(const px_resources *rs, enum px_pb_format format, Plexus__Resource ***out,
                       size_t *n);

/* Converts one entry to a new Resource message (free with
 * protobuf_c_message_free_unpacked(&msg->base, NULL)). PX_OK or PX_ENOMEM. */
int px_resource_to_pb(const struct px_resource *r, enum px_pb_format format,
                      Plexus__Resource **out);

/* Frees an array from px_resources_to_pb(). Accepts NULL. */
void px_pb_resources_free(Plexus__Resource **res, size_t n);

/* Builds a set from a JSON array of Mesos Resource objects (borrowed), e.g.
 * [{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]. Errors as from_pb, with the
 * JSON path of the offending field. */
int px_resources_from_json(const json_t *array, px_resources **out, char *err, size_t errlen);

/* rs as a new JSON array of Resource objects (caller owns the reference), or NULL
 * when out of memory. Dump it with PX_JSON_DUMP_FLAGS (json_pb.h) so that 0.3 prints
 * as 0.3. */
json_t *px_resources_to_json(const px_resources *rs);

#endif
