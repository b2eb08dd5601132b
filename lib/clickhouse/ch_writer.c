/* The ClickHouse writer thread. Batches form one queue, oldest first: the spool's files,
 * then the batches in memory. The writer inserts the head; when an insert fails, the
 * batch goes to the spool's end and every later one follows it there until ClickHouse
 * takes the spool back, so rows arrive in the order received. An insert whose answer
 * was lost is checked (its batch id) before it is sent again: nothing twice. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ch_internal.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define TTL_EVERY_MS (3600ull * 1000)
#define WAKE_MS 1000
#define FINISH_DRAIN_MS 10000

enum outcome {
	DONE,           /* every shard has the batch's rows */
	AGAIN,          /* some shard does not: try again later */
	BAD,            /* ClickHouse cannot read it: it never will */
};

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct ch_batch *
queue_pop(struct dpfix_clickhouse *ch)
{
	struct ch_batch *b;

	pthread_mutex_lock(&ch->lock);
	b = ch->queue_head;
	if (b != NULL) {
		ch->queue_head = b->next;
		if (ch->queue_head == NULL)
			ch->queue_tail = NULL;
		ch->queued_bytes -= ch_batch_bytes(b);
		b->next = NULL;
	}
	pthread_mutex_unlock(&ch->lock);
	return b;
}

/* Puts b back at the head (it keeps its place when it could not be inserted). */
static void
queue_push_front(struct dpfix_clickhouse *ch, struct ch_batch *b)
{
	pthread_mutex_lock(&ch->lock);
	b->next = ch->queue_head;
	ch->queue_head = b;
	if (ch->queue_tail == NULL)
		ch->queue_tail = b;
	ch->queued_bytes += ch_batch_bytes(b);
	pthread_mutex_unlock(&ch->lock);
}

static void
recycle(struct dpfix_clickhouse *ch, struct ch_batch *b)
{
	pthread_mutex_lock(&ch->lock);
	ch_recycle(ch, b);
	pthread_mutex_unlock(&ch->lock);
}

static void
update_spool_gauges(struct dpfix_clickhouse *ch)
{
	__atomic_store_n(&ch->stats.spool_files, ch_spool_files(&ch->spool), __ATOMIC_RELAXED);
	__atomic_store_n(&ch->stats.spool_bytes, ch->spool.bytes, __ATOMIC_RELAXED);
}

struct shard_filter {
	struct dpfix_clickhouse *ch;
	const struct ch_batch *b;
};

static void plans_free(struct dpfix_clickhouse *ch, const struct ch_batch *b);
static int plan_for(struct dpfix_clickhouse *ch, const struct ch_batch *b, uint32_t slot);

/* The spool keeps only the rows of shards that do not have them yet. */
static int
keep_undone(void *arg, uint32_t slot, const uint8_t *rec, uint32_t len)
{
	struct shard_filter *f = arg;
	struct ch_plan *p;

	if (f->b->shards_done == 0)
		return 1;
	if (plan_for(f->ch, f->b, slot) < 0)
		return 1;
	p = &f->ch->plans[slot];
	if (ch_plan_fields(p, rec, len) < 0)
		return 1;
	return !(f->b->shards_done >> ch_shard_of(&f->ch->server.map, ch_row_exporter(p, rec)) & 1);
}

/* Writes b at the spool's end; a full spool drops it, counted and said. */
static void
spool_batch(struct dpfix_clickhouse *ch, struct ch_batch *b)
{
	struct shard_filter f = {.ch = ch, .b = b};
	char err[512];
	int ret;

	ret = ch_spool_write(&ch->spool, b, ch->ready ? keep_undone : NULL, &f,
			ch->p.spool_bytes, err, sizeof(err));
	plans_free(ch, b);
	if (ret < 0) {
		ch_count(&ch->stats.batches_dropped, 1);
		ch_count(&ch->stats.rows_dropped, b->rows);
		ch_log(ch, 1, "clickhouse: %s: a batch of %u flow records is lost (rows_dropped)",
				err, b->rows);
	} else if (ret > 0) {
		ch_count(&ch->stats.batches_spooled, 1);
		ch_count(&ch->stats.rows_spooled, b->rows);
	}
	update_spool_gauges(ch);
}

/* Every batch in memory goes to the spool's end, in order. */
static void
spool_memory(struct dpfix_clickhouse *ch)
{
	struct ch_batch *b;

	while ((b = queue_pop(ch)) != NULL) {
		spool_batch(ch, b);
		recycle(ch, b);
	}
}

static void
plans_free(struct dpfix_clickhouse *ch, const struct ch_batch *b)
{
	for (uint32_t s = 0; s < b->template_count; s++)
		ch_plan_free(&ch->plans[s]);
}

/* The plan of b's template in slot: a batch's template memory is reused by the next
 * batch, and the columns change when ClickHouse is set up again, so a plan is kept for
 * one batch id and one set-up. */
static int
plan_for(struct dpfix_clickhouse *ch, const struct ch_batch *b, uint32_t slot)
{
	int ret;

	if (ch->plans[slot].t == b->templates[slot] && ch->plan_batch[slot] == b->id &&
			ch->plan_schema[slot] == ch->schema_generation)
		return 0;
	ch_plan_free(&ch->plans[slot]);
	ret = ch_plan_build(&ch->plans[slot], &ch->server.schema, b->templates[slot]);
	ch->plan_batch[slot] = b->id;
	ch->plan_schema[slot] = ch->schema_generation;
	return ret;
}

/* Says, once per element, which fields find no column. */
static void
say_unmapped(struct dpfix_clickhouse *ch, const struct ch_plan *p)
{
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
}

/* Encodes b's rows for the shards that lack them into ch->rows[shard]; skip[shard] leaves
 * out that many of a shard's first rows (an insert cut short took them). rows[] and
 * unmapped[] count per shard. 0, or -EBADMSG/-ENOMEM. */
static int
encode(struct dpfix_clickhouse *ch, const struct ch_batch *b, const uint64_t *skip,
		uint64_t *rows, uint64_t *unmapped)
{
	uint64_t skipped[CH_BATCH_MAX_SHARDS] = {0};
	const uint8_t *rec;
	uint32_t slot, len;
	size_t off = 0;

	for (uint32_t s = 0; s < ch->server.shard_count; s++) {
		ch->rows[s].len = 0;
		rows[s] = 0;
		unmapped[s] = 0;
	}
	while (ch_batch_next(b, &off, &slot, &rec, &len)) {
		struct ch_plan *p;
		uint32_t shard;

		if (plan_for(ch, b, slot) < 0)
			return -ENOMEM;
		p = &ch->plans[slot];
		if (ch_plan_fields(p, rec, len) < 0)
			return -EBADMSG;
		shard = ch_shard_of(&ch->server.map, ch_row_exporter(p, rec));
		if (b->shards_done >> shard & 1)
			continue;
		if (skip != NULL && skipped[shard] < skip[shard]) {
			skipped[shard]++;
			continue;
		}
		if (ch_row_encode(&ch->rows[shard], &ch->server.schema, p, rec, b->id) < 0)
			return -ENOMEM;
		rows[shard]++;
		unmapped[shard] += p->unmapped;
	}
	for (uint32_t s = 0; s < b->template_count; s++)
		if (ch->plans[s].t == b->templates[s] && ch->plan_batch[s] == b->id)
			say_unmapped(ch, &ch->plans[s]);
	return 0;
}

/* An insert into shard may have run: how many of its rows are there. Returns the result
 * of the question (CH_OK with *found). */
static enum ch_result
check_shard(struct dpfix_clickhouse *ch, const struct ch_batch *b, uint32_t shard, uint64_t *found,
		char *err, size_t errlen)
{
	if (!ch->server.has_batch_id) {
		*found = 0;     /* cannot know: sent again (the table lacks dpfixBatchId) */
		return CH_OK;
	}
	return ch_server_count_batch(&ch->server, shard, b->id, b->first_ms, b->last_ms, found,
			err, errlen);
}

static enum outcome
insert_batch(struct dpfix_clickhouse *ch, struct ch_batch *b, enum ch_result *worst, char *err,
		size_t errlen)
{
	uint64_t rows[CH_BATCH_MAX_SHARDS], unmapped[CH_BATCH_MAX_SHARDS];
	uint64_t skip[CH_BATCH_MAX_SHARDS] = {0};
	int need_skip = 0, ret;

	*worst = CH_OK;
	ret = encode(ch, b, NULL, rows, unmapped);
	if (ret < 0) {
		snprintf(err, errlen, ret == -ENOMEM ? "out of memory" : "a record does not fit its "
				"template");
		*worst = CH_BAD_DATA;
		return BAD;
	}
	/* Shards whose last insert of this batch went unanswered: what is there already. */
	for (uint32_t s = 0; s < ch->server.shard_count; s++) {
		enum ch_result res;
		uint64_t found;

		if (!(b->shards_uncertain >> s & 1) || (b->shards_done >> s & 1))
			continue;
		if (rows[s] == 0) {
			b->shards_uncertain &= ~(1ull << s);
			continue;
		}
		res = check_shard(ch, b, s, &found, err, errlen);
		if (res != CH_OK) {
			*worst = res;
			return AGAIN;
		}
		b->shards_uncertain &= ~(1ull << s);
		if (found >= rows[s]) {
			if (found > rows[s])
				ch_log(ch, 1, "clickhouse: batch %016" PRIx64 " has %" PRIu64 " rows in %s "
						"on %s, more than its %" PRIu64, b->id, found, ch->server.table,
						ch->server.shards[s].host, rows[s]);
			b->shards_done |= 1ull << s;
			ch_count(&ch->stats.batches_found_present, 1);
			ch_count(&ch->stats.rows_inserted, rows[s]);
			ch_count(&ch->stats.fields_without_column, unmapped[s]);
			if (b->from_spool)
				ch_count(&ch->stats.rows_replayed, rows[s]);
		} else if (found > 0) {
			/* Cut short on the way: the server took the first rows (a row format
			 * ends cleanly at any row). The rest go now. */
			skip[s] = found;
			need_skip = 1;
			ch_count(&ch->stats.rows_inserted, found);
			if (b->from_spool)
				ch_count(&ch->stats.rows_replayed, found);
		}
	}
	if (need_skip && encode(ch, b, skip, rows, unmapped) < 0) {
		snprintf(err, errlen, "out of memory");
		*worst = CH_REFUSED;
		return AGAIN;
	}
	for (uint32_t s = 0; s < ch->server.shard_count; s++) {
		struct iovec iov = {.iov_base = ch->rows[s].p, .iov_len = ch->rows[s].len};
		enum ch_result res;

		if (b->shards_done >> s & 1)
			continue;
		if (rows[s] == 0) {
			b->shards_done |= 1ull << s;
			continue;
		}
		res = ch_server_insert(&ch->server, s, &iov, 1, iov.iov_len, err, errlen);
		if (res == CH_OK) {
			b->shards_done |= 1ull << s;
			ch_count(&ch->stats.batches_inserted, 1);
			ch_count(&ch->stats.rows_inserted, rows[s]);
			ch_count(&ch->stats.fields_without_column, unmapped[s]);
			if (b->from_spool)
				ch_count(&ch->stats.rows_replayed, rows[s]);
			continue;
		}
		if (res == CH_NO_ANSWER)
			b->shards_uncertain |= 1ull << s;
		if (*worst == CH_OK || *worst == CH_NO_ANSWER || *worst == CH_UNREACHABLE)
			*worst = res;
	}
	if (*worst == CH_OK)
		return DONE;
	return *worst == CH_BAD_DATA ? BAD : AGAIN;
}

static void
went_down(struct dpfix_clickhouse *ch, enum ch_result res, const char *err)
{
	uint64_t now = ch_now_ms();

	ch->backoff_ms = ch->backoff_ms ? ch->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (ch->backoff_ms > BACKOFF_MAX_MS)
		ch->backoff_ms = BACKOFF_MAX_MS;
	ch->next_attempt_ms = now + ch->backoff_ms;
	if (res == CH_SCHEMA)
		ch->ready = 0;
	if (!ch->down)
		ch_log(ch, 1, "clickhouse: %s; %s, trying again with backoff up to %d s", err,
				ch->spooling ? "spooling" : "batches wait in memory", BACKOFF_MAX_MS / 1000);
	if (!ch->down)
		ch->down_since_ms = now;
	ch->down = 1;
}

static void
came_back(struct dpfix_clickhouse *ch)
{
	if (ch->down)
		ch_log(ch, 0, "clickhouse: ClickHouse answers again after %.1f s%s",
				(double)(ch_now_ms() - ch->down_since_ms) / 1000,
				ch_spool_files(&ch->spool) ? ": replaying the spool" : "");
	ch->down = 0;
	ch->backoff_ms = 0;
	ch->next_attempt_ms = 0;
}

/* One step with the queue's head: the spool's first file, else memory's first batch. */
static void
insert_head(struct dpfix_clickhouse *ch)
{
	struct ch_batch *b;
	enum ch_result res;
	enum outcome out;
	char err[512];

	if (ch_spool_files(&ch->spool) > 0) {
		b = ch->replay;
		if (b->rows == 0 && ch_spool_read_first(&ch->spool, b, err, sizeof(err)) < 0) {
			ch_log(ch, 1, "clickhouse: %s: moved to rejected/, not replayed", err);
			ch_count(&ch->stats.batches_dropped, 1);
			ch_spool_reject_first(&ch->spool);
			ch_batch_reset(b);
			update_spool_gauges(ch);
			return;
		}
	} else if ((b = queue_pop(ch)) == NULL) {
		return;
	}
	out = insert_batch(ch, b, &res, err, sizeof(err));
	if (out == DONE)
		came_back(ch);
	else if (out == AGAIN)
		went_down(ch, res, err);
	if (out != AGAIN || !b->from_spool)
		plans_free(ch, b);
	if (b->from_spool) {
		if (out == DONE) {
			ch_count(&ch->stats.batches_replayed, 1);
			ch_spool_remove_first(&ch->spool);
		} else if (out == BAD) {
			ch_log(ch, 1, "clickhouse: %s: spooled batch %016" PRIx64 " moved to rejected/",
					err, b->id);
			ch_count(&ch->stats.batches_dropped, 1);
			ch_spool_reject_first(&ch->spool);
		} else if (b->shards_uncertain) {
			ch_spool_mark_first_uncertain(&ch->spool);
		}
		if (out != AGAIN)
			ch_batch_reset(b);
		update_spool_gauges(ch);
		return;
	}
	if (out == BAD) {
		ch_count(&ch->stats.batches_dropped, 1);
		ch_count(&ch->stats.rows_dropped, b->rows);
		ch_log(ch, 1, "clickhouse: %s: a batch of %u flow records is lost (rows_dropped)",
				err, b->rows);
	} else if (out == AGAIN) {
		ch_count(&ch->stats.batches_retried, 1);
		if (ch->spooling) {
			spool_batch(ch, b);
		} else {
			queue_push_front(ch, b);
			return;
		}
	}
	recycle(ch, b);
}

static void
keep_days(struct dpfix_clickhouse *ch)
{
	uint64_t dropped = 0;
	char err[512];

	ch->last_ttl_ms = ch_now_ms();
	if (ch_server_drop_old_days(&ch->server, ch->p.ttl_days, wall_ms(), &dropped, err,
			sizeof(err)) != CH_OK)
		ch_log(ch, 1, "clickhouse: clickhouse_ttl_days: %s", err);
	if (dropped > 0) {
		ch_count(&ch->stats.partitions_dropped, dropped);
		ch_log(ch, 0, "clickhouse: dropped %" PRIu64 " days older than %u days from %s",
				dropped, ch->p.ttl_days, ch->server.table);
	}
}

/* The end: while ClickHouse takes them, batches are inserted in order (the spool's
 * first) for at most FINISH_DRAIN_MS; what is left in memory then goes to the spool,
 * which the next run replays first. Without a spool, what is not inserted is lost,
 * counted and said. */
static void
finish(struct dpfix_clickhouse *ch)
{
	uint64_t deadline = ch_now_ms() + FINISH_DRAIN_MS;
	struct ch_batch *b;

	if (!ch->ready && !ch->down) {
		char err[512];
		enum ch_result res = ch_server_setup(&ch->server, &ch->server_params, err,
				sizeof(err));

		if (res == CH_OK) {
			ch->ready = 1;
			ch->schema_generation++;
		} else {
			went_down(ch, res, err);
		}
	}
	while (ch->ready && !ch->down && ch_now_ms() < deadline &&
			(ch_spool_files(&ch->spool) > 0 || ch->queue_head != NULL))
		insert_head(ch);
	if (ch->spooling) {
		spool_memory(ch);
		if (ch_spool_files(&ch->spool) > 0)
			ch_log(ch, 0, "clickhouse: %u batches (%" PRIu64 " bytes) stay in the spool %s "
					"for the next run", ch_spool_files(&ch->spool), ch->spool.bytes,
					ch->spool.dir);
		return;
	}
	while ((b = queue_pop(ch)) != NULL) {
		ch_count(&ch->stats.batches_dropped, 1);
		ch_count(&ch->stats.rows_dropped, b->rows);
		ch_log(ch, 1, "clickhouse: at the end, ClickHouse has not taken a batch: %u flow "
				"records are lost (rows_dropped; clickhouse_spool_dir would keep them)",
				b->rows);
		recycle(ch, b);
	}
}

void *
ch_writer_main(void *arg)
{
	struct dpfix_clickhouse *ch = arg;

	update_spool_gauges(ch);
	for (;;) {
		uint64_t now = ch_now_ms();
		int stopping, spill, idle;

		pthread_mutex_lock(&ch->lock);
		idle = ch->queue_head == NULL && ch_spool_files(&ch->spool) == 0;
		if (!ch->stopping && (idle || now < ch->next_attempt_ms)) {
			struct timespec until;
			uint64_t wait = WAKE_MS;

			if (ch->next_attempt_ms > now && ch->next_attempt_ms - now < wait)
				wait = ch->next_attempt_ms - now;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)(wait / 1000);
			until.tv_nsec += (long)(wait % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&ch->wake, &ch->lock, &until);
		}
		stopping = ch->stopping;
		/* ClickHouse away, or memory past half its bound (the spool replays, or inserts
		 * are slower than intake): batches go to the spool's end, in order. */
		spill = ch->spooling && ch->queue_head != NULL &&
			(ch->down || ch->queued_bytes > ch->p.memory_bytes / 2);
		pthread_mutex_unlock(&ch->lock);
		if (stopping)
			break;
		if (spill)
			spool_memory(ch);
		if (ch_now_ms() < ch->next_attempt_ms)
			continue;
		if (!ch->ready) {
			char err[512];
			enum ch_result res = ch_server_setup(&ch->server, &ch->server_params, err,
					sizeof(err));

			if (res != CH_OK) {
				went_down(ch, res, err);
				continue;
			}
			ch->ready = 1;
			ch->schema_generation++;
		}
		if (ch->p.ttl_days != 0 && (ch->last_ttl_ms == 0 || now - ch->last_ttl_ms >= TTL_EVERY_MS))
			keep_days(ch);
		insert_head(ch);
	}
	finish(ch);
	update_spool_gauges(ch);
	return NULL;
}
