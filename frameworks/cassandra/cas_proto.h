/* cas_proto.h — the messages between clients and nodes and among nodes (libactor
 * messages whose bodies are cas_buf encodings), and consistency levels.
 *
 * Client -> any node (the coordinator), answered by CAS_MSG_RESULT with the same id:
 *   CAS_MSG_WRITE  u64 id, u8 consistency, bytes partition, cells (all of that partition)
 *   CAS_MSG_READ   u64 id, u8 consistency, bytes partition
 *   CAS_MSG_RING   u64 id
 *   CAS_MSG_RESULT u64 id, u8 status, str message, then cells (read) or a ring (ring):
 *                  u32 n, then n x (str addr, u8 up, u64 load, u32 ntokens, u64 tokens...)
 * Coordinator -> replicas:
 *   CAS_MSG_MUTATE     u64 id, bytes partition, cells   -> CAS_MSG_MUTATE_ACK u64 id, u8 ok
 *   CAS_MSG_FETCH      u64 id, bytes partition          -> CAS_MSG_FETCH_REPLY u64 id, u8 ok, cells
 * Among all nodes:
 *   CAS_MSG_GOSSIP     u8 reply wanted, the states of cas_gossip_encode
 *   CAS_MSG_STREAM_REQ u32 n, n x u64 tokens of a bootstrapping node: answered with
 *                      CAS_MSG_MUTATE messages of the data it now replicates
 *
 * A partition is [u8 n]["<keyspace>.<table>"][partition key bytes]; its token is the
 * Murmur3 token of the partition key bytes (cas_partition_token). */
#ifndef CAS_PROTO_H
#define CAS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAS_MSG_WRITE "cas.write"
#define CAS_MSG_READ "cas.read"
#define CAS_MSG_RING "cas.ring"
#define CAS_MSG_RESULT "cas.result"
#define CAS_MSG_MUTATE "cas.mutate"
#define CAS_MSG_MUTATE_ACK "cas.mutate.ack"
#define CAS_MSG_FETCH "cas.fetch"
#define CAS_MSG_FETCH_REPLY "cas.fetch.reply"
#define CAS_MSG_GOSSIP "cas.gossip"
#define CAS_MSG_STREAM_REQ "cas.stream.req"

/* The name of every node's actor. */
#define CAS_NODE_ACTOR "cas"

typedef enum cas_consistency {
	CAS_ONE = 1,
	CAS_QUORUM = 2,
	CAS_ALL = 3,
} cas_consistency;

/* "ONE", "QUORUM", "ALL" (any case); false otherwise. */
bool cas_consistency_parse(const char *name, cas_consistency *out);
const char *cas_consistency_name(cas_consistency cl);
/* Replies a coordinator waits for at this level with rf replicas. */
int cas_consistency_blockfor(cas_consistency cl, int rf);

enum cas_status {
	CAS_OK = 0,
	CAS_UNAVAILABLE = 1, /* fewer live replicas than the level needs: nothing was done */
	CAS_TIMEOUT = 2,     /* not enough replicas answered in time (a write may have landed) */
	CAS_INVALID = 3,     /* a malformed or unacceptable request */
	CAS_NO_KEYSPACE = 4, /* the coordinator does not know the keyspace */
	CAS_ERROR = 5,       /* the node failed (I/O, out of memory) */
};
const char *cas_status_name(int status);

/* The table name and partition key bytes of a partition; false when malformed. */
bool cas_partition_split(const uint8_t *part, size_t plen, const char **table, size_t *tlen,
                         const uint8_t **key, size_t *klen);
int64_t cas_partition_token(const uint8_t *part, size_t plen);

#endif
