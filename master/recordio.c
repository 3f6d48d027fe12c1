/* recordio.c — RecordIO framing (see recordio.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/recordio.h"

uint8_t *px_recordio_frame(const void *data, size_t len, size_t *out_len)
{
	char head[24];
	int n = snprintf(head, sizeof(head), "%zu\n", len);
	uint8_t *out = malloc((size_t)n + len);

	if (out == NULL)
		return NULL;
	memcpy(out, head, (size_t)n);
	if (len > 0)
		memcpy(out + n, data, len);
	*out_len = (size_t)n + len;
	return out;
}

long px_recordio_next(const uint8_t *buf, size_t len, const uint8_t **record, size_t *record_len)
{
	size_t i = 0, value = 0;

	/* 20 digits are more than any record this side of SIZE_MAX needs. */
	while (i < len && i < 21 && buf[i] >= '0' && buf[i] <= '9') {
		value = value * 10 + (size_t)(buf[i] - '0');
		i++;
	}
	if (i == len)
		return 0;
	if (i == 0 || i >= 21 || buf[i] != '\n')
		return -1;
	i++;
	if (len - i < value)
		return 0;
	*record = buf + i;
	*record_len = value;
	return (long)(i + value);
}
