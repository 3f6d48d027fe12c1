/* spk_shuffle_read.c — the reduce side of a shuffle, and the server that feeds it.
 *
 * A reduce task knows from its description where every map output is and how big its
 * block is. Blocks on its own executor are read from the file; the others are asked
 * for over libactor, up to SPK_FETCH_PARALLEL executors' blocks at once, each a chunk
 * at a time (the next chunk is asked for when one arrives), so no block is ever held
 * whole in a message. Rows are handed to the aggregation as they are parsed. A block
 * that cannot be had (its executor is gone, or does not have it) ends the task with a
 * fetch failure naming the map output, which the driver recomputes from lineage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <actor/log.h>

#include "spk_kvmap.h"
#include "spk_registry.h"
#include "spk_shuffle.h"

#define SPK_FETCH_PARALLEL   8
#define SPK_FETCH_TIMEOUT_MS 30000

/* ---- aggregation ------------------------------------------------------------------- */

struct agg {
	const spk_node *node;
	spk_sink *out;
	spk_reduce_fn fn;
	spk_kvmap table;
	spk_buf rows; /* SORT */
};

static int agg_add(struct agg *a, int input, const spk_row *row)
{
	switch (a->node->agg) {
	case SPK_AGG_NONE:
		return a->out->push(a->out, row);
	case SPK_AGG_SORT:
		return spk_put_row(&a->rows, row) == 0 ? SPK_PUSH_OK : SPK_PUSH_FAIL;
	case SPK_AGG_REDUCE:
		return spk_kvmap_reduce(&a->table, row->key, row->value, a->fn, a->node->arg) == 0
		           ? SPK_PUSH_OK
		           : SPK_PUSH_FAIL;
	case SPK_AGG_GROUP:
	case SPK_AGG_JOIN: {
		spk_kv *e = spk_kvmap_get(&a->table, row->keyed ? row->key : row->value);
		if (e == NULL || spk_put_bytes(&e->list[input], row->value.data, row->value.len))
			return SPK_PUSH_FAIL;
		return SPK_PUSH_OK;
	}
	default:
		return SPK_PUSH_FAIL;
	}
}

static int join_emit(struct agg *a, spk_kv *e)
{
	spk_bytes left = {e->list[0].data, e->list[0].len};
	spk_bytes right = {e->list[1].data, e->list[1].len};
	spk_bytes l, r;
	spk_buf pair = {0};
	int rc = SPK_PUSH_OK;
	for (size_t pl = 0; rc == SPK_PUSH_OK && spk_list_next(left, &pl, &l);)
		for (size_t pr = 0; rc == SPK_PUSH_OK && spk_list_next(right, &pr, &r);) {
			pair.len = 0;
			spk_put_bytes(&pair, l.data, l.len);
			spk_put_bytes(&pair, r.data, r.len);
			spk_row row = {
			    .key = e->key, .value = {pair.data, pair.len}, .keyed = true};
			rc = a->out->push(a->out, &row);
		}
	spk_buf_fini(&pair);
	return rc;
}

static int agg_finish(struct agg *a)
{
	int rc = SPK_PUSH_OK;
	if (a->node->agg == SPK_AGG_NONE)
		return rc;
	if (a->node->agg == SPK_AGG_SORT) {
		struct spk_sorted_row *v = NULL;
		size_t n = 0;
		if (spk_rows_sorted(&a->rows, &v, &n) != 0)
			return SPK_PUSH_FAIL;
		for (size_t i = 0; i < n && rc == SPK_PUSH_OK; i++)
			rc = a->out->push(a->out, &v[i].row);
		free(v);
		return rc;
	}
	size_t n = 0;
	spk_kv **e = spk_kvmap_entries(&a->table, true, &n);
	if (e == NULL && n > 0)
		return SPK_PUSH_FAIL;
	for (size_t i = 0; i < n && rc == SPK_PUSH_OK; i++) {
		if (a->node->agg == SPK_AGG_REDUCE) {
			spk_row row = {.key = e[i]->key, .value = e[i]->value, .keyed = true};
			rc = a->out->push(a->out, &row);
		} else if (a->node->agg == SPK_AGG_GROUP) {
			spk_row row = {.key = e[i]->key,
			               .value = {e[i]->list[0].data ? e[i]->list[0].data : "",
			                         e[i]->list[0].len},
			               .keyed = true};
			rc = a->out->push(a->out, &row);
		} else {
			rc = join_emit(a, e[i]);
		}
	}
	free(e);
	return rc;
}

/* ---- parsing streamed bytes -------------------------------------------------------- */

struct block {
	int input, map;
	const char *pid;
	uint64_t size, got;
	spk_buf carry; /* the start of a row cut by a chunk's end */
	bool started, done;
};

/* Hands every whole row of carry + data to the aggregation; keeps the rest. */
static int feed(struct agg *a, struct block *b, const char *data, size_t len)
{
	if (spk_buf_append(&b->carry, data, len) != 0)
		return SPK_PUSH_FAIL;
	spk_rd rd;
	spk_rd_init(&rd, b->carry.data, b->carry.len);
	const uint8_t *last = rd.p;
	spk_row row;
	int rc = SPK_PUSH_OK;
	while (rc == SPK_PUSH_OK && spk_get_row(&rd, &row)) {
		rc = agg_add(a, b->input, &row);
		last = rd.p;
	}
	size_t used = (size_t)(last - (const uint8_t *)b->carry.data);
	memmove(b->carry.data, b->carry.data + used, b->carry.len - used);
	b->carry.len -= used;
	return rc;
}

static int block_end(struct block *b, spk_run *run, const spk_node *n)
{
	b->done = true;
	if (b->carry.len != 0) {
		spk_failure_set("shuffle %d map %d: block ends inside a row", n->in[b->input].sid,
		                b->map);
		return SPK_PUSH_FAIL;
	}
	(void)run;
	return SPK_PUSH_OK;
}

static int read_local(struct agg *a, spk_run *run, const spk_node *n, struct block *b)
{
	char path[4096];
	uint64_t off, len;
	int sid = n->in[b->input].sid;
	if (!spk_exec_output_find(run->ex, sid, b->map, n->partition, path, sizeof(path), &off,
	                          &len) ||
	    len != b->size) {
		run->fetch_sid = sid;
		run->fetch_map = b->map;
		spk_failure_set("shuffle %d map %d: not on this executor", sid, b->map);
		return SPK_PUSH_FETCH_FAILED;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *chunk = malloc(SPK_FETCH_CHUNK);
	int rc = fd >= 0 && chunk ? SPK_PUSH_OK : SPK_PUSH_FETCH_FAILED;
	while (rc == SPK_PUSH_OK && b->got < len) {
		size_t want = len - b->got > SPK_FETCH_CHUNK ? SPK_FETCH_CHUNK : len - b->got;
		ssize_t got = pread(fd, chunk, want, (off_t)(off + b->got));
		if (got <= 0) {
			rc = SPK_PUSH_FETCH_FAILED;
			break;
		}
		b->got += (uint64_t)got;
		rc = feed(a, b, chunk, (size_t)got);
	}
	if (rc == SPK_PUSH_FETCH_FAILED) {
		run->fetch_sid = sid;
		run->fetch_map = b->map;
		spk_failure_set("shuffle %d map %d: cannot read %s", sid, b->map, path);
	}
	free(chunk);
	if (fd >= 0)
		close(fd);
	return rc == SPK_PUSH_OK ? block_end(b, run, n) : rc;
}

static void request(spk_run *run, const spk_node *n, uint64_t session, struct block *b)
{
	spk_buf m = {0};
	char self[ACTOR_PID_TEXT_MAX];
	actor_pid_format(spk_exec_pid(run->ex), self, sizeof(self));
	spk_put_varint(&m, session);
	spk_put_u8(&m, (uint8_t)b->input);
	spk_put_varint(&m, (uint64_t)n->in[b->input].sid);
	spk_put_varint(&m, (uint64_t)b->map);
	spk_put_varint(&m, (uint64_t)n->partition);
	spk_put_varint(&m, b->got);
	spk_put_str(&m, self);
	actor_pid to;
	if (actor_pid_parse(b->pid, &to) == 0)
		actor_send(NULL, to, SPK_MSG_FETCH, m.data, m.len);
	spk_buf_fini(&m);
	b->started = true;
}

static int fetch_failed(spk_run *run, const spk_node *n, struct block *b, const char *why)
{
	run->fetch_sid = n->in[b->input].sid;
	run->fetch_map = b->map;
	snprintf(run->fetch_pid, sizeof(run->fetch_pid), "%s", b->pid);
	spk_failure_set("shuffle %d map %d from %s: %s", run->fetch_sid, b->map, b->pid, why);
	return SPK_PUSH_FETCH_FAILED;
}

static int read_remote(struct agg *a, spk_run *run, const spk_node *n, struct block *bs, size_t nb)
{
	if (nb == 0)
		return SPK_PUSH_OK;
	uint64_t session;
	spk_fetch_session *s = spk_fetch_open(run->ex, &session);
	if (s == NULL)
		return SPK_PUSH_FAIL;
	for (size_t i = 0; i < nb; i++)
		spk_exec_watch(run->ex, bs[i].pid);
	size_t next = 0, inflight = 0, done = 0;
	int rc = SPK_PUSH_OK;
	while (rc == SPK_PUSH_OK && done < nb) {
		while (inflight < SPK_FETCH_PARALLEL && next < nb) {
			request(run, n, session, &bs[next++]);
			inflight++;
		}
		spk_fetch_reply *r = spk_fetch_wait(s, SPK_FETCH_TIMEOUT_MS);
		if (r == NULL) {
			for (size_t i = 0; i < nb; i++)
				if (bs[i].started && !bs[i].done) {
					rc = fetch_failed(run, n, &bs[i], "timed out");
					break;
				}
			if (rc == SPK_PUSH_OK)
				rc = SPK_PUSH_FAIL;
			break;
		}
		if (r->lost) {
			for (size_t i = 0; i < nb && rc == SPK_PUSH_OK; i++)
				if (!bs[i].done && strcmp(bs[i].pid, r->pid) == 0)
					rc = fetch_failed(run, n, &bs[i], "executor lost");
			free(r);
			continue;
		}
		struct block *b = NULL;
		for (size_t i = 0; i < next; i++)
			if (bs[i].input == r->input && bs[i].map == r->map && !bs[i].done)
				b = &bs[i];
		if (b == NULL || r->offset != b->got) {
			free(r);
			continue; /* a late reply of an earlier task's session id cannot match */
		}
		if (!r->ok || r->len == 0) {
			rc = fetch_failed(run, n, b, "the executor does not have it");
			free(r);
			break;
		}
		b->got += r->len;
		rc = feed(a, b, r->data, r->len);
		free(r);
		if (rc != SPK_PUSH_OK)
			break;
		if (b->got >= b->size) {
			rc = block_end(b, run, n);
			inflight--;
			done++;
		} else {
			request(run, n, session, b);
		}
	}
	spk_fetch_close(run->ex, s);
	return rc;
}

int spk_shuffle_read(spk_run *run, const spk_node *n, spk_sink *out)
{
	struct agg a = {.node = n, .out = out};
	if (n->agg == SPK_AGG_REDUCE) {
		a.fn = spk_registry_find(n->fn, SPK_FN_REDUCE);
		if (a.fn == NULL) {
			spk_failure_set("no reduce function '%s' registered", n->fn);
			return SPK_PUSH_FAIL;
		}
	}
	spk_kvmap_init(&a.table);
	size_t total = 0;
	for (int i = 0; i < n->nin; i++)
		total += (size_t)n->in[i].nmaps;
	struct block *local = calloc(total + 1, sizeof(*local));
	struct block *remote = calloc(total + 1, sizeof(*remote));
	size_t nl = 0, nr = 0;
	int rc = local && remote ? SPK_PUSH_OK : SPK_PUSH_FAIL;
	char self[ACTOR_PID_TEXT_MAX];
	actor_pid_format(spk_exec_pid(run->ex), self, sizeof(self));
	for (int i = 0; rc == SPK_PUSH_OK && i < n->nin; i++)
		for (int m = 0; m < n->in[i].nmaps; m++) {
			const struct spk_map_loc *loc = &n->in[i].maps[m];
			if (loc->size == 0)
				continue;
			bool here = loc->pid != NULL && strcmp(loc->pid, self) == 0;
			struct block *b = here ? &local[nl++] : &remote[nr++];
			b->input = i;
			b->map = m;
			b->pid = loc->pid ? loc->pid : "";
			b->size = loc->size;
		}
	for (size_t i = 0; rc == SPK_PUSH_OK && i < nl; i++)
		rc = read_local(&a, run, n, &local[i]);
	if (rc == SPK_PUSH_OK)
		rc = read_remote(&a, run, n, remote, nr);
	if (rc == SPK_PUSH_OK)
		rc = agg_finish(&a);
	for (size_t i = 0; local && i < nl; i++)
		spk_buf_fini(&local[i].carry);
	for (size_t i = 0; remote && i < nr; i++)
		spk_buf_fini(&remote[i].carry);
	free(local);
	free(remote);
	spk_kvmap_fini(&a.table);
	spk_buf_fini(&a.rows);
	return rc;
}

void spk_shuffle_serve(actor_t *self, spk_exec *ex, const actor_msg *msg)
{
	spk_rd rd;
	spk_rd_init(&rd, msg->data, msg->len);
	uint64_t session = spk_get_varint(&rd);
	uint8_t input = spk_get_u8(&rd);
	int sid = (int)spk_get_varint(&rd);
	int map = (int)spk_get_varint(&rd);
	int reduce = (int)spk_get_varint(&rd);
	uint64_t offset = spk_get_varint(&rd);
	char *reply = spk_get_str(&rd);
	actor_pid to;
	if (!spk_rd_done(&rd) || reply == NULL || actor_pid_parse(reply, &to) != 0) {
		actor_warn("spark executor: malformed fetch request from %s dropped",
		           actor_pid_str(msg->from));
		free(reply);
		return;
	}
	free(reply);
	char path[4096];
	uint64_t off = 0, len = 0;
	bool ok = spk_exec_output_find(ex, sid, map, reduce, path, sizeof(path), &off, &len) &&
	          offset < len;
	char *chunk = NULL;
	ssize_t got = 0;
	if (ok) {
		size_t want = len - offset > SPK_FETCH_CHUNK ? SPK_FETCH_CHUNK : len - offset;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		chunk = malloc(want);
		got = fd >= 0 && chunk ? pread(fd, chunk, want, (off_t)(off + offset)) : -1;
		if (fd >= 0)
			close(fd);
		ok = got > 0;
	}
	spk_buf m = {0};
	spk_put_varint(&m, session);
	spk_put_u8(&m, input);
	spk_put_varint(&m, (uint64_t)map);
	spk_put_u8(&m, ok ? 1 : 0);
	spk_put_varint(&m, offset);
	spk_put_bytes(&m, chunk, ok ? (size_t)got : 0);
	actor_send(self, to, SPK_MSG_BLOCK, m.data, m.len);
	spk_buf_fini(&m);
	free(chunk);
}
