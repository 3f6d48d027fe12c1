/* cas_proto.c — see cas_proto.h. */
#include "cas_proto.h"

#include <strings.h>

#include "cas_murmur3.h"

bool cas_consistency_parse(const char *name, cas_consistency *out)
{
	static const char *const names[] = {"ONE", "QUORUM", "ALL"};
	for (int i = 0; i < 3; i++) {
		if (strcasecmp(name, names[i]) == 0) {
			*out = (cas_consistency)(i + 1);
			return true;
		}
	}
	return false;
}

const char *cas_consistency_name(cas_consistency cl)
{
	return cl == CAS_ONE ? "ONE" : cl == CAS_QUORUM ? "QUORUM" : cl == CAS_ALL ? "ALL" : "?";
}

int cas_consistency_blockfor(cas_consistency cl, int rf)
{
	return cl == CAS_ONE ? 1 : cl == CAS_QUORUM ? rf / 2 + 1 : rf;
}

const char *cas_status_name(int status)
{
	static const char *const names[] = {"OK",         "Unavailable", "WriteTimeout/ReadTimeout",
	                                    "InvalidRequest", "InvalidRequest", "ServerError"};
	return status >= 0 && status <= 5 ? names[status] : "ServerError";
}

bool cas_partition_split(const uint8_t *part, size_t plen, const char **table, size_t *tlen,
                         const uint8_t **key, size_t *klen)
{
	if (plen < 1 || part[0] == 0 || (size_t)part[0] + 1 > plen)
		return false;
	*table = (const char *)part + 1;
	*tlen = part[0];
	*key = part + 1 + part[0];
	*klen = plen - 1 - part[0];
	return true;
}

int64_t cas_partition_token(const uint8_t *part, size_t plen)
{
	const char *t;
	size_t tl, kl;
	const uint8_t *k;
	if (!cas_partition_split(part, plen, &t, &tl, &k, &kl))
		return 0;
	return cas_murmur3_token(k, kl);
}
