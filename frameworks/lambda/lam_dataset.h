/* lam_dataset.h — the master dataset of the lambda architecture: an immutable,
 * time-partitioned log of page views in one directory.
 *
 *     DIR/_dataset.json          {"bucket_ms": 60000, "created_ms": ...}
 *     DIR/events/<B>.open        the bucket being appended to (event time in bucket B)
 *     DIR/events/<B>.log         a closed bucket: never written again
 *     DIR/_truth.json            what the generator produced so far (the ground truth)
 *
 * A bucket B holds the events with B * bucket_ms <= time < (B + 1) * bucket_ms. Each
 * line is "TIME_MS URL USER\n". The generator renames a bucket from .open to .log when
 * it starts the next one, so a reader that sees a .log file sees all of it. The speed
 * layer tails the files in bucket order; the batch layer reads the closed ones. */
#ifndef LAM_DATASET_H
#define LAM_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAM_URL_MAX 128

/* One event parsed from a line. url points into the line (not NUL-terminated). */
typedef struct lam_event {
	int64_t time_ms;
	const char *url;
	size_t url_len;
	const char *user;
	size_t user_len;
} lam_event;

/* Parses "TIME_MS URL USER" (no newline needed; len bytes). false when malformed. */
bool lam_event_parse(const char *line, size_t len, lam_event *out);

/* A URL that the serving layer accepts: starts with '/', 1..LAM_URL_MAX-1 bytes of
 * printable ASCII without spaces or quotes. */
bool lam_url_valid(const char *url, size_t len);

/* DIR/events/<bucket>.<open|log> into out. */
void lam_bucket_path(const char *dir, int64_t bucket, bool closed, char *out, size_t n);

/* The buckets present, ascending, with whether each is closed. *out malloc'ed (free
 * it); the count, or -1 when DIR/events cannot be read. */
typedef struct lam_bucket {
	int64_t bucket;
	bool closed;
} lam_bucket;
int lam_buckets(const char *dir, lam_bucket **out);

/* The smallest bucket present that is greater than after (-1: any), or -1 if none. */
int64_t lam_next_bucket(const char *dir, int64_t after);

/* The batch cutoff: every bucket below it is closed and none below it will appear.
 * That is the first open bucket, else one past the last closed one; 0 when there are
 * no buckets. */
int64_t lam_cutoff(const char *dir);

/* DIR/_dataset.json. write: 0 or -1 (errno). read: the bucket length, or -1 when the
 * file is missing or malformed. */
int lam_dataset_write_meta(const char *dir, int64_t bucket_ms);
int64_t lam_dataset_bucket_ms(const char *dir);

/* Writes text to path atomically (a temporary file, then rename). 0 or -1. */
int lam_write_atomic(const char *path, const char *text, size_t len);

/* Wall-clock time in ms (events carry wall-clock times: they leave the process). */
int64_t lam_now_ms(void);

#endif
