/* cas_key.h — the layout of a storage key's suffix, shared by storage (which must know
 * which cells a row or partition deletion covers) and the CQL layer (which builds and
 * reads keys).
 *
 *   [u16 n][partition: u8 table-name length, "<ks>.<table>", partition key bytes]
 *   then one of:
 *     0x00                                   the partition's deletion (a tombstone)
 *     clustering 0x01                        a row's deletion
 *     clustering 0x02                        the row marker (INSERT writes it)
 *     clustering 0x03 <column name>          a column's value
 *   where clustering is, for each clustering column, 0x10 and the value's
 *   order-preserving, prefix-free encoding (cas_value.h), so cells sort by clustering
 *   order and a row's cells follow its deletion. */
#ifndef CAS_KEY_H
#define CAS_KEY_H

enum {
	CAS_KIND_PARTITION_DEL = 0x00,
	CAS_KIND_ROW_DEL = 0x01,
	CAS_KIND_ROW_MARKER = 0x02,
	CAS_KIND_COLUMN = 0x03,
	CAS_KIND_CLUSTERING = 0x10,
};

#endif
