/* resources_internal.h — the layout of a resource set, shared by the resources_*.c
 * files of common/ and by nothing else. */
#ifndef PX_RESOURCES_INTERNAL_H
#define PX_RESOURCES_INTERNAL_H

#include "resources.h"

/* Entry flags. */
enum {
	PX_RF_DYNAMIC = 1 << 0,   /* innermost reservation is dynamic */
	PX_RF_REVOCABLE = 1 << 1, /* Resource.revocable set */
	PX_RF_SHARED = 1 << 2,    /* Resource.shared set */
	PX_RF_DISK = 1 << 3,      /* Resource.disk set */
	PX_RF_EXCLUSIVE = 1 << 4, /* indivisible: persistent volume, MOUNT/BLOCK disk, shared */
};

/* One entry. The identity of a resource (everything but its name and value) is kept
 * as the packed bytes of a Resource message whose name and value fields are cleared
 * and whose reservations are normalized to the `reservations` stack. protobuf-c packs
 * fields in field-number order, so equal identities pack to equal bytes: comparing two
 * identities is one memcmp, and conversion back to protobuf loses nothing. The fields
 * the arithmetic and views need often are also kept decoded beside it. */
struct px_resource {
	char *name;
	uint8_t *ident; /* packed identity, never NULL (may have length 0) */
	size_t ident_len;
	char *role;           /* innermost reservation's role; NULL when unreserved */
	char *persistence_id; /* NULL unless a persistent volume */
	char *alloc_role;     /* allocation_info.role, or NULL */
	uint32_t n_reservations;
	uint8_t type; /* enum px_value_type */
	uint8_t flags;

	int64_t scalar; /* thousandths */
	struct px_range *ranges;
	size_t n_ranges, cap_ranges;
	char **items;
	size_t n_items, cap_items;
};

/* Every ranges value keeps room for at least this many intervals, so that splitting
 * an interval while subtracting rarely needs to allocate. */
#define PX__RANGES_MIN_CAP 4

/* A canonical set: entries sorted by px__entry_order(), none empty, mergeable entries
 * with equal identities merged. */
struct px_resources {
	struct px_resource *v;
	size_t n, cap;
};

/* Orders by name, then identity bytes. */
int px__ident_cmp(const struct px_resource *a, const struct px_resource *b);

/* Releases what e owns (not e itself). */
void px__entry_fini(struct px_resource *e);

/* Sets e's name and identity from ident (borrowed; its name and value fields and the
 * legacy role/reservation fields are ignored; reservations must be normalized) and
 * clears its value. PX_OK or PX_ENOMEM; on error e owns nothing. */
int px__entry_init(struct px_resource *e, const char *name, const Plexus__Resource *ident);

/* The identity of e as a new Resource message (name and value unset), or NULL when
 * out of memory. Free with protobuf_c_message_free_unpacked(&m->base, NULL). */
Plexus__Resource *px__ident_unpack(const struct px_resource *e);

/* Adds e to rs, taking ownership of what e owns in every case (e itself is
 * caller storage and is left empty). PX_OK, PX_ENOMEM or PX_ERANGE. */
int px__add_owned(px_resources *rs, struct px_resource *e);

/* Edits an identity in place (it owns its parts: free what is removed). Returns PX_OK
 * or PX_ENOMEM. */
typedef int (*px__ident_edit)(Plexus__Resource *ident, void *arg);

/* A new set made of rs's entries with each identity passed through edit(ident, arg);
 * entries that become equal merge. PX_OK, PX_ENOMEM or PX_ERANGE. */
int px__rebuild(const px_resources *rs, px__ident_edit edit, void *arg, px_resources **out);

/* Sorts and coalesces v[0..n) in place; returns the new count. */
size_t px__ranges_normalize(struct px_range *v, size_t n);

/* Sorts items[0..n) and returns the index of a duplicate, or n when all differ. */
size_t px__items_sort(char **items, size_t n);

/* NULL when role is a valid role name (a '/'-separated path of components, none empty,
 * ".", "..", "*", starting with '-' or holding blanks, control characters or '\\'),
 * else a static string saying why not. "*" itself is not a valid reserved role. */
const char *px__role_invalid(const char *role);

#endif
