/* One batch into ClickHouse (ch_internal.h): its records encoded as a Native block per shard,
 * each shard's rows inserted, and before an insert that may have run already is sent
 * again, a question for its batch id: nothing twice. A writer thread runs this with the
 * server's set-up read-locked, on buffers of its own. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ch_internal.h"

/* The plan of b's template in slot: a batch's template memory is reused by the next
 * batch, and the columns change when ClickHouse is set up again, so a plan is kept for
 * one batch id and one set-up. */
static int
plan_for(struct ch_writer *w, const struct ch_batch *b, uint32_t slot)
{
	struct dpfix_clickhouse *ch = w->ch;
	int ret;

	if (w->plans[slot].t == b->templates[slot] && w->plan_batch[slot] == b->id &&
			w->plan_schema[slot] == ch->schema_generation)
		return 0;
	ch_plan_free(&w->plans[slot]);
	ret = ch_plan_build(&w->plans[slot], &ch->server.schema, b->templates[slot]);
	w->plan_batch[slot] = b->id;
	w->plan_schema[slot] = ch->schema_generation;
	return ret;
}

void
ch_insert_forget(struct ch_writer *w, const struct ch_batch *b)
{
	for (uint32_t s = 0; s < b->template_count; s++)
		ch_plan_free(&w->plans[s]);
}

void
ch_writer_buffers_free(struct ch_writer *w)
{
	for (uint32_t i = 0; i < CH_BATCH_MAX_SHARDS; i++) {
		for (uint32_t c = 0; c < w->column_bufs[i]; c++)
			ch_buf_free(&w->columns[i][c]);
		free(w->columns[i]);
		w->columns[i] = NULL;
		w->column_bufs[i] = 0;
	}
	free(w->iov);
	w->iov = NULL;
	w->iov_cap = 0;
	ch_buf_free(&w->used);
	ch_buf_free(&w->query);
	for (uint32_t i = 0; i < CH_BATCH_MAX_TEMPLATES; i++)
		ch_plan_free(&w->plans[i]);
	ch_http_response_free(&w->response);
}

int
ch_insert_record_undone(struct ch_writer *w, const struct ch_batch *b, uint32_t slot,
		const uint8_t *rec, uint32_t len)
{
	struct ch_plan *p = &w->plans[slot];
	int undone = 1;

	if (b->shards_done == 0)
		return 1;
	pthread_rwlock_rdlock(&w->ch->server_lock);
	if (plan_for(w, b, slot) == 0 && ch_plan_fields(p, rec, len) == 0)
		undone = !(b->shards_done >> ch_shard_of(&w->ch->server.map,
				ch_row_exporter(p, rec)) & 1);
	pthread_rwlock_unlock(&w->ch->server_lock);
	return undone;
}

/* Says, once per element, which fields find no column. */
static void
say_unmapped(struct dpfix_clickhouse *ch, const struct ch_plan *p)
{
	pthread_mutex_lock(&ch->said_lock);
	for (uint32_t i = 0; i < p->unmapped; i++) {
		const struct dpfix_ipfix_field_spec *f = &p->t->fields[p->unmapped_fields[i]];
		char name[DPFIX_IPFIX_IE_NAME_MAX + 16];
		uint32_t k;

		for (k = 0; k < ch->said_count; k++)
			if (ch->said[k][0] == f->pen && ch->said[k][1] == f->id)
				break;
		if (k < ch->said_count || ch->said_count == CH_SAID_ELEMENTS)
			continue;
		ch->said[ch->said_count][0] = f->pen;
		ch->said[ch->said_count++][1] = f->id;
		dpfix_ipfix_field_name(f, name, sizeof(name));
		ch_log(ch, 0, "clickhouse: %s has no column in %s: not stored (counted in "
				"fields_without_column; add the column to keep it)", name, ch->server.table);
	}
	pthread_mutex_unlock(&ch->said_lock);
}

/* Starts shard's column buffers for a batch: each with its column's Native head. */
static int
columns_start(struct ch_writer *w, uint32_t shard)
{
	const struct ch_schema *schema = &w->ch->server.schema;
	uint32_t n = w->column_count;

	if (w->column_bufs[shard] < n) {
		struct ch_buf *c = realloc(w->columns[shard], n * sizeof(*c));

		if (c == NULL)
			return -ENOMEM;
		memset(c + w->column_bufs[shard], 0, (n - w->column_bufs[shard]) * sizeof(*c));
		w->columns[shard] = c;
		w->column_bufs[shard] = n;
	}
	for (uint32_t c = 0, i = 0; c < schema->count; c++)
		if (w->used.p[c] && ch_native_column_head(&w->columns[shard][i++], &schema->columns[c]) < 0)
			return -ENOMEM;
	return 0;
}

/* Encodes b's rows for the shards that lack them into w->columns[shard]; skip[shard] leaves
 * out that many of a shard's first rows (an insert cut short took them). rows[] and
 * unmapped[] count per shard. 0, or -EBADMSG/-ENOMEM. */
static int
encode(struct ch_writer *w, const struct ch_batch *b, const uint64_t *skip, uint64_t *rows,
		uint64_t *unmapped)
{
	const struct ch_server *server = &w->ch->server;
	uint64_t skipped[CH_BATCH_MAX_SHARDS] = {0};
	const uint8_t *rec;
	uint32_t slot, len;
	size_t off = 0;

	/* The columns some template of the batch fills, and the batch id. */
	w->used.len = 0;
	if (ch_buf_reserve(&w->used, server->schema.count) < 0)
		return -ENOMEM;
	memset(w->used.p, 0, server->schema.count);
	for (uint32_t t = 0; t < b->template_count; t++) {
		if (plan_for(w, b, t) < 0)
			return -ENOMEM;
		for (uint32_t c = 0; c < server->schema.count; c++)
			w->used.p[c] |= w->plans[t].source[c] >= 0 ||
				server->schema.columns[c].conv == CH_CONV_BATCH_ID;
	}
	w->column_count = 0;
	for (uint32_t c = 0; c < server->schema.count; c++)
		w->column_count += w->used.p[c];
	for (uint32_t s = 0; s < server->shard_count; s++) {
		rows[s] = 0;
		unmapped[s] = 0;
		if (!(b->shards_done >> s & 1) && columns_start(w, s) < 0)
			return -ENOMEM;
	}
	for (uint32_t t = 0; t < b->template_count; t++)
		if (ch_plan_compile(&w->plans[t], &server->schema, w->used.p) < 0)
			return -ENOMEM;
	if (ch_server_insert_query(server, w->used.p, &w->query) < 0)
		return -ENOMEM;
	while (ch_batch_next(b, &off, &slot, &rec, &len)) {
		struct ch_plan *p;
		uint32_t shard;

		if (plan_for(w, b, slot) < 0)
			return -ENOMEM;
		p = &w->plans[slot];
		if (ch_plan_fields(p, rec, len) < 0)
			return -EBADMSG;
		shard = ch_shard_of(&server->map, ch_row_exporter(p, rec));
		if (b->shards_done >> shard & 1)
			continue;
		if (skip != NULL && skipped[shard] < skip[shard]) {
			skipped[shard]++;
			continue;
		}
		if (ch_row_encode(w->columns[shard], &server->schema, p, rec, b->id) < 0)
			return -ENOMEM;
		rows[shard]++;
		unmapped[shard] += p->unmapped;
	}
	for (uint32_t s = 0; s < b->template_count; s++)
		if (w->plans[s].t == b->templates[s] && w->plan_batch[s] == b->id &&
				w->plans[s].unmapped > 0)
			say_unmapped(w->ch, &w->plans[s]);
	return 0;
}

static void
count_inserted(struct dpfix_clickhouse *ch, const struct ch_batch *b, uint64_t rows,
		uint64_t unmapped)
{
	ch_count(&ch->stats.rows_inserted, rows);
	ch_count(&ch->stats.fields_without_column, unmapped);
	if (b->from_spool)
		ch_count(&ch->stats.rows_replayed, rows);
}

/* Shards whose last insert of b went unanswered: what they hold of it already. A shard
 * with all its rows is done; one with some gets the rest: skip[] (ClickHouse takes a Native
 * block whole or not at all, a batch's rows being one block of one day's partition; were
 * it ever cut, the rows it kept are not sent twice). */
static enum ch_result
check_uncertain(struct ch_writer *w, struct ch_batch *b, const uint64_t *rows,
		const uint64_t *unmapped, uint64_t *skip, int *need_skip, char *err, size_t errlen)
{
	struct dpfix_clickhouse *ch = w->ch;
	const struct ch_server *server = &ch->server;

	for (uint32_t s = 0; s < server->shard_count; s++) {
		enum ch_result res;
		uint64_t found = 0;

		if (!(b->shards_uncertain >> s & 1) || (b->shards_done >> s & 1))
			continue;
		/* Without dpfixBatchId there is no asking: sent again (said at set-up). */
		if (rows[s] > 0 && server->has_batch_id) {
			res = ch_server_count_batch(server, &w->response, s, b->id, b->first_ms,
					b->last_ms, &found, err, errlen);
			if (res != CH_OK)
				return res;
		}
		b->shards_uncertain &= ~(1ull << s);
		if (rows[s] > 0 && found >= rows[s]) {
			if (found > rows[s])
				ch_log(ch, 1, "clickhouse: batch %016" PRIx64 " has %" PRIu64 " rows in %s "
						"on %s, more than its %" PRIu64, b->id, found, server->table,
						server->shards[s].host, rows[s]);
			b->shards_done |= 1ull << s;
			ch_count(&ch->stats.batches_found_present, 1);
			count_inserted(ch, b, rows[s], unmapped[s]);
		} else if (found > 0) {
			skip[s] = found;
			*need_skip = 1;
			count_inserted(ch, b, found, 0);
		}
	}
	return CH_OK;
}

/* Sends shard's block: the query, the block's head, its columns. */
static enum ch_result
insert_shard(struct ch_writer *w, uint32_t shard, uint64_t rows, char *err, size_t errlen)
{
	uint8_t head[CH_NATIVE_HEAD_MAX];
	uint32_t n = 2 + w->column_count;

	if (w->iov_cap < n) {
		struct iovec *iov = realloc(w->iov, n * sizeof(*iov));

		if (iov == NULL) {
			snprintf(err, errlen, "out of memory");
			return CH_REFUSED;
		}
		w->iov = iov;
		w->iov_cap = n;
	}
	w->iov[0] = (struct iovec){.iov_base = w->query.p, .iov_len = w->query.len};
	w->iov[1] = (struct iovec){.iov_base = head,
		.iov_len = ch_native_block_head(head, w->column_count, rows)};
	for (uint32_t c = 0; c < w->column_count; c++)
		w->iov[2 + c] = (struct iovec){.iov_base = w->columns[shard][c].p,
			.iov_len = w->columns[shard][c].len};
	return ch_server_insert(&w->ch->server, &w->response, shard, w->iov, (int)n, err, errlen);
}

static enum ch_insert_outcome
insert_locked(struct ch_writer *w, struct ch_batch *b, enum ch_result *worst, char *err,
		size_t errlen)
{
	struct dpfix_clickhouse *ch = w->ch;
	const struct ch_server *server = &ch->server;
	uint64_t rows[CH_BATCH_MAX_SHARDS], unmapped[CH_BATCH_MAX_SHARDS];
	uint64_t skip[CH_BATCH_MAX_SHARDS] = {0};
	int need_skip = 0, ret;

	*worst = CH_OK;
	ret = encode(w, b, NULL, rows, unmapped);
	if (ret < 0) {
		snprintf(err, errlen, ret == -ENOMEM ? "out of memory" : "a record does not fit its "
				"template");
		*worst = ret == -ENOMEM ? CH_REFUSED : CH_BAD_DATA;
		return ret == -ENOMEM ? CH_INSERT_AGAIN : CH_INSERT_BAD;
	}
	if (b->shards_uncertain) {
		*worst = check_uncertain(w, b, rows, unmapped, skip, &need_skip, err, errlen);
		if (*worst != CH_OK)
			return CH_INSERT_AGAIN;
	}
	if (need_skip && encode(w, b, skip, rows, unmapped) < 0) {
		snprintf(err, errlen, "out of memory");
		*worst = CH_REFUSED;
		return CH_INSERT_AGAIN;
	}
	for (uint32_t s = 0; s < server->shard_count; s++) {
		enum ch_result res;

		if (b->shards_done >> s & 1)
			continue;
		if (rows[s] == 0) {
			b->shards_done |= 1ull << s;
			continue;
		}
		res = insert_shard(w, s, rows[s], err, errlen);
		if (res == CH_OK) {
			b->shards_done |= 1ull << s;
			ch_count(&ch->stats.batches_inserted, 1);
			count_inserted(ch, b, rows[s], unmapped[s]);
			continue;
		}
		if (res == CH_NO_ANSWER)
			b->shards_uncertain |= 1ull << s;
		if (*worst == CH_OK || *worst == CH_NO_ANSWER || *worst == CH_UNREACHABLE)
			*worst = res;
	}
	if (*worst == CH_OK)
		return CH_INSERT_DONE;
	return *worst == CH_BAD_DATA ? CH_INSERT_BAD : CH_INSERT_AGAIN;
}

enum ch_insert_outcome
ch_insert_batch(struct ch_writer *w, struct ch_batch *b, enum ch_result *res, char *err,
		size_t errlen)
{
	enum ch_insert_outcome out;

	pthread_rwlock_rdlock(&w->ch->server_lock);
	out = insert_locked(w, b, res, err, errlen);
	pthread_rwlock_unlock(&w->ch->server_lock);
	return out;
}
