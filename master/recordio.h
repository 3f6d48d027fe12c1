/* recordio.h — Mesos's RecordIO framing of event streams: each record is its length in
 * decimal ASCII, a newline, then that many bytes ("5\nhello"). */
#ifndef PLEXUS_MASTER_RECORDIO_H
#define PLEXUS_MASTER_RECORDIO_H

#include <stddef.h>
#include <stdint.h>

/* data (len bytes) as one record, in a new buffer of *out_len bytes the caller frees.
 * NULL on out of memory. */
uint8_t *px_recordio_frame(const void *data, size_t len, size_t *out_len);

/* Reads one record from buf (len bytes): on success returns the bytes consumed (header
 * and record) and points *record, *record_len into buf; 0 when buf holds no complete
 * record yet; -1 when the header is not a length (the stream is corrupt). */
long px_recordio_next(const uint8_t *buf, size_t len, const uint8_t **record, size_t *record_len);

#endif
