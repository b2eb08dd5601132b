/* The ClickHouse writer threads. Batches form one queue, oldest first: the spool's files,
 * then the batches in memory. Each writer takes the head and inserts it (several at once:
 * ClickHouse parses and writes an insert on one core, so two in flight use two). When an
 * insert fails, the batch goes to the spool's end and every later one follows it there
 * until ClickHouse takes the spool back, so rows arrive in the order received, the
 * writers' few in flight aside. An insert whose answer was lost is checked (its batch
 * id) before it is sent again: nothing twice. */
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

/* What a writer inserts: a batch from memory, or spool file seq read back into b. */
struct job {
	struct ch_batch *b;
	uint64_t seq;
};

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the queue (queue lock) ---- */

static struct ch_batch *
queue_pop(struct dpfix_clickhouse *ch)
{
	struct ch_batch *b;

	pthread_mutex_lock(&ch->queue_lock);
	b = ch->queue_head;
	if (b != NULL) {
		ch->queue_head = b->next;
		if (ch->queue_head == NULL)
			ch->queue_tail = NULL;
		ch->queued_bytes -= ch_batch_bytes(b);
		b->next = NULL;
	}
	pthread_mutex_unlock(&ch->queue_lock);
	return b;
}

/* Puts b back at the head (it keeps its place when it could not be inserted). */
static void
queue_push_front(struct dpfix_clickhouse *ch, struct ch_batch *b)
{
	pthread_mutex_lock(&ch->queue_lock);
	b->next = ch->queue_head;
	ch->queue_head = b;
	if (ch->queue_tail == NULL)
		ch->queue_tail = b;
	ch->queued_bytes += ch_batch_bytes(b);
	pthread_mutex_unlock(&ch->queue_lock);
}

static void
recycle(struct dpfix_clickhouse *ch, struct ch_batch *b)
{
	pthread_mutex_lock(&ch->queue_lock);
	ch_recycle(ch, b);
	pthread_mutex_unlock(&ch->queue_lock);
}

/* Sleeps until a batch comes (unless backing off), the stop, or ms. 1 if stopping. */
static int
sleep_for_work(struct dpfix_clickhouse *ch, uint64_t ms, int backing_off)
{
	int stopping;

	pthread_mutex_lock(&ch->queue_lock);
	if (!ch->stopping && (ch->queue_head == NULL || backing_off)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(ms / 1000);
		until.tv_nsec += (long)(ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ch->wake, &ch->queue_lock, &until);
	}
	stopping = ch->stopping;
	pthread_mutex_unlock(&ch->queue_lock);
	return stopping;
}

static void
wake_writers(struct dpfix_clickhouse *ch)
{
	pthread_mutex_lock(&ch->queue_lock);
	pthread_cond_broadcast(&ch->wake);
	pthread_mutex_unlock(&ch->queue_lock);
}

/* ---- the spool and ClickHouse's state (state lock held) ---- */

static void
update_spool_gauges(struct dpfix_clickhouse *ch)
{
	__atomic_store_n(&ch->stats.spool_files, ch_spool_files(&ch->spool), __ATOMIC_RELAXED);
	__atomic_store_n(&ch->stats.spool_bytes, ch->spool.bytes, __ATOMIC_RELAXED);
}

struct spool_filter {
	struct ch_writer *w;
	const struct ch_batch *b;
};

static int
keep_undone(void *arg, uint32_t slot, const uint8_t *rec, uint32_t len)
{
	struct spool_filter *f = arg;

	return ch_insert_record_undone(f->w, f->b, slot, rec, len);
}

/* Writes b at the spool's end (only the rows of shards that lack them); a full spool
 * drops it, counted and said. */
static void
spool_batch(struct ch_writer *w, struct ch_batch *b)
{
	struct dpfix_clickhouse *ch = w->ch;
	struct spool_filter f = {.w = w, .b = b};
	char err[512];
	int ret;

	ret = ch_spool_write(&ch->spool, b, b->shards_done ? keep_undone : NULL, &f,
			ch->p.spool_bytes, err, sizeof(err));
	ch_insert_forget(w, b);
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
spool_memory(struct ch_writer *w)
{
	struct ch_batch *b;

	while ((b = queue_pop(w->ch)) != NULL) {
		spool_batch(w, b);
		recycle(w->ch, b);
	}
}

/* Memory is full as the collector's thread hands a batch over (of bytes): with a spool,
 * the oldest batches in memory go to the spool's end, on this thread, until it fits, as
 * the spiller would had it come in time (the disk, never ClickHouse, holds reception up).
 * A full spool drops them, counted and said. */
void
ch_spool_to_fit(struct dpfix_clickhouse *ch, uint64_t bytes)
{
	struct ch_batch *b;
	int fits;

	pthread_mutex_lock(&ch->state_lock);
	for (;;) {
		pthread_mutex_lock(&ch->queue_lock);
		fits = ch->queue_head == NULL || ch->queued_bytes + bytes <= ch->p.memory_bytes;
		pthread_mutex_unlock(&ch->queue_lock);
		if (fits || (b = queue_pop(ch)) == NULL)
			break;
		/* The spiller's buffers: it uses them only under the state lock too. */
		spool_batch(&ch->spiller, b);
		recycle(ch, b);
	}
	pthread_mutex_unlock(&ch->state_lock);
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
	if (!ch->down) {
		ch_log(ch, 1, "clickhouse: %s; %s, trying again with backoff up to %d s", err,
				ch->spooling ? "spooling" : "batches wait in memory", BACKOFF_MAX_MS / 1000);
		ch->down_since_ms = now;
	}
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

/* The queue's head for w: the oldest spool file no writer holds, else memory's first
 * batch. 1 with j filled in, 0 if there is none. */
static int
claim(struct ch_writer *w, struct job *j)
{
	struct dpfix_clickhouse *ch = w->ch;
	char err[512];

	while (ch_spool_waiting(&ch->spool)) {
		j->seq = ch_spool_claim(&ch->spool);
		j->b = w->replay;
		if (ch_spool_read(&ch->spool, j->seq, j->b, err, sizeof(err)) == 0)
			return 1;
		ch_log(ch, 1, "clickhouse: %s: moved to rejected/, not replayed", err);
		ch_count(&ch->stats.batches_dropped, 1);
		ch_spool_reject(&ch->spool, j->seq);
		update_spool_gauges(ch);
	}
	j->seq = 0;
	j->b = queue_pop(ch);
	return j->b != NULL;
}

/* What the insert of a job came to. */
static void
settle(struct ch_writer *w, struct job *j, enum ch_insert_outcome out, enum ch_result res,
		const char *err)
{
	struct dpfix_clickhouse *ch = w->ch;
	struct ch_batch *b = j->b;

	if (out == CH_INSERT_DONE) {
		came_back(ch);
	} else if (out == CH_INSERT_BAD) {
		ch_count(&ch->stats.batches_dropped, 1);
		ch_log(ch, 1, "clickhouse: %s: %s", err, j->seq ? "the spooled batch is moved to "
				"rejected/" : "the batch's flow records are lost (rows_dropped)");
	} else {
		ch_count(&ch->stats.batches_retried, 1);
		went_down(ch, res, err);
	}
	if (j->seq != 0) {
		if (out == CH_INSERT_DONE) {
			ch_count(&ch->stats.batches_replayed, 1);
			ch_spool_remove(&ch->spool, j->seq);
		} else if (out == CH_INSERT_BAD) {
			ch_spool_reject(&ch->spool, j->seq);
		} else {
			/* A shard that took it or may have: asked again before the next try. */
			if (b->shards_uncertain || b->shards_done)
				ch_spool_mark_uncertain(&ch->spool, j->seq);
			ch_spool_release(&ch->spool, j->seq);
		}
		ch_insert_forget(w, b);
		ch_batch_reset(b);
		update_spool_gauges(ch);
		return;
	}
	if (out == CH_INSERT_BAD)
		ch_count(&ch->stats.rows_dropped, b->rows);
	if (out == CH_INSERT_AGAIN && !ch->spooling) {
		ch_insert_forget(w, b);
		queue_push_front(ch, b);
		return;
	}
	if (out == CH_INSERT_AGAIN)
		spool_batch(w, b);
	ch_insert_forget(w, b);
	recycle(ch, b);
}

/* ---- set-up, retention ---- */

static void
set_up(struct ch_writer *w)
{
	struct dpfix_clickhouse *ch = w->ch;
	enum ch_result res;
	char err[512];

	pthread_rwlock_wrlock(&ch->server_lock);
	res = ch_server_setup(&ch->server, &ch->server_params, err, sizeof(err));
	if (res == CH_OK)
		ch->schema_generation++;
	pthread_rwlock_unlock(&ch->server_lock);
	pthread_mutex_lock(&ch->state_lock);
	ch->setting_up = 0;
	ch->ready = res == CH_OK;
	if (res != CH_OK)
		went_down(ch, res, err);
	pthread_mutex_unlock(&ch->state_lock);
}

static void
keep_days(struct ch_writer *w)
{
	struct dpfix_clickhouse *ch = w->ch;
	uint64_t dropped = 0;
	enum ch_result res;
	char err[512];

	pthread_rwlock_rdlock(&ch->server_lock);
	res = ch_server_drop_old_days(&ch->server, &w->response, ch->p.ttl_days, wall_ms(),
			&dropped, err, sizeof(err));
	pthread_rwlock_unlock(&ch->server_lock);
	if (res != CH_OK)
		ch_log(ch, 1, "clickhouse: clickhouse_ttl_days: %s", err);
	if (dropped > 0) {
		ch_count(&ch->stats.partitions_dropped, dropped);
		ch_log(ch, 0, "clickhouse: dropped %" PRIu64 " days older than %u days from %s",
				dropped, ch->p.ttl_days, ch->server.table);
	}
}

/* Whether the batches in memory go to the spool's end now: ClickHouse is away, or
 * memory is past half its bound (the spool replays, or inserts are slower than intake).
 * State lock held. */
static int
spill_due(struct dpfix_clickhouse *ch)
{
	int due;

	pthread_mutex_lock(&ch->queue_lock);
	due = ch->spooling && ch->queue_head != NULL &&
		(ch->down || ch->queued_bytes > ch->p.memory_bytes / 2);
	pthread_mutex_unlock(&ch->queue_lock);
	return due;
}

/* ---- the writer threads ---- */

/* One job, inserted and settled. */
static void
run_job(struct ch_writer *w, struct job *j)
{
	enum ch_insert_outcome out;
	enum ch_result res;
	char err[512];

	out = ch_insert_batch(w, j->b, &res, err, sizeof(err));
	pthread_mutex_lock(&w->ch->state_lock);
	settle(w, j, out, res, err);
	pthread_mutex_unlock(&w->ch->state_lock);
}

static void *
writer_main(void *arg)
{
	struct ch_writer *w = arg;
	struct dpfix_clickhouse *ch = w->ch;

	for (;;) {
		uint64_t now = ch_now_ms(), wait = WAKE_MS;
		int ttl = 0, setup = 0, backing_off = 0;
		struct job j = {0};

		pthread_mutex_lock(&ch->state_lock);
		if (spill_due(ch))
			spool_memory(w);
		if (now < ch->next_attempt_ms) {
			backing_off = 1;
			wait = ch->next_attempt_ms - now < wait ? ch->next_attempt_ms - now : wait;
		} else if (!ch->ready) {
			/* One writer sets up; the others wait for it to wake them. */
			setup = !ch->setting_up;
			backing_off = !setup;
			ch->setting_up = 1;
		} else if (ch->p.ttl_days != 0 && (ch->last_ttl_ms == 0 ||
				now - ch->last_ttl_ms >= TTL_EVERY_MS)) {
			ch->last_ttl_ms = now;
			ttl = 1;
		} else {
			claim(w, &j);
		}
		pthread_mutex_unlock(&ch->state_lock);
		if (setup) {
			set_up(w);
			wake_writers(ch);
		} else if (ttl) {
			keep_days(w);
		} else if (j.b != NULL) {
			run_job(w, &j);
			wake_writers(ch);
		} else if (sleep_for_work(ch, wait, backing_off)) {
			break;
		}
		pthread_mutex_lock(&ch->queue_lock);
		if (ch->stopping) {
			pthread_mutex_unlock(&ch->queue_lock);
			break;
		}
		pthread_mutex_unlock(&ch->queue_lock);
	}
	return NULL;
}

/* The spiller: a writer inserting a batch looks at memory only between inserts, each of
 * which takes a second or more, while intake may fill clickhouse_memory in less (a TCP
 * exporter unpaced: 2 M records/s); memory full drops batches though the spool has room.
 * The spiller is woken as the queue passes half of clickhouse_memory and moves the
 * batches in memory to the spool's end, oldest first, as a writer would. When it is
 * late all the same, the collector's thread spools them itself (ch_spool_to_fit). */
static void *
spiller_main(void *arg)
{
	struct ch_writer *w = arg;
	struct dpfix_clickhouse *ch = w->ch;

	for (;;) {
		pthread_mutex_lock(&ch->state_lock);
		if (spill_due(ch))
			spool_memory(w);
		pthread_mutex_unlock(&ch->state_lock);
		pthread_mutex_lock(&ch->queue_lock);
		if (!ch->stopping && !(ch->queue_head != NULL &&
				ch->queued_bytes > ch->p.memory_bytes / 2)) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += WAKE_MS / 1000;
			pthread_cond_timedwait(&ch->spill_wake, &ch->queue_lock, &until);
		}
		if (ch->stopping) {
			pthread_mutex_unlock(&ch->queue_lock);
			return NULL;
		}
		pthread_mutex_unlock(&ch->queue_lock);
	}
}

int
ch_writers_start(struct dpfix_clickhouse *ch, uint32_t count)
{
	if (count == 0)
		count = 1;
	if (count > CH_MAX_WRITERS)
		count = CH_MAX_WRITERS;
	for (uint32_t i = 0; i < count; i++) {
		struct ch_writer *w = &ch->writers[i];

		w->ch = ch;
		w->replay = ch_batch_create();
		if (w->replay == NULL)
			return -ENOMEM;
		ch->writer_count++;
	}
	pthread_mutex_lock(&ch->state_lock);
	update_spool_gauges(ch);
	pthread_mutex_unlock(&ch->state_lock);
	for (uint32_t i = 0; i < count; i++) {
		if (pthread_create(&ch->writers[i].thread, NULL, writer_main, &ch->writers[i]) != 0)
			return -EAGAIN;
		ch->writers[i].started = 1;
	}
	if (ch->spooling) {
		if (pthread_create(&ch->spiller.thread, NULL, spiller_main, &ch->spiller) != 0)
			return -EAGAIN;
		ch->spiller.started = 1;
	}
	return 0;
}

/* The end, once the writers have stopped, on the caller's thread with the first
 * writer's buffers: while ClickHouse takes them, batches are inserted in order (the
 * spool's first) for at most FINISH_DRAIN_MS; what is left in memory then goes to the
 * spool, which the next run replays first. Without a spool, what is not inserted is
 * lost, counted and said. */
static void
finish(struct ch_writer *w)
{
	struct dpfix_clickhouse *ch = w->ch;
	uint64_t deadline = ch_now_ms() + FINISH_DRAIN_MS;
	struct ch_batch *b;
	struct job j;

	if (!ch->ready && !ch->down)
		set_up(w);
	while (ch->ready && !ch->down && ch_now_ms() < deadline) {
		pthread_mutex_lock(&ch->state_lock);
		if (!claim(w, &j)) {
			pthread_mutex_unlock(&ch->state_lock);
			break;
		}
		pthread_mutex_unlock(&ch->state_lock);
		run_job(w, &j);
	}
	pthread_mutex_lock(&ch->state_lock);
	if (ch->spooling) {
		spool_memory(w);
		if (ch_spool_files(&ch->spool) > 0)
			ch_log(ch, 0, "clickhouse: %u batches (%" PRIu64 " bytes) stay in the spool %s "
					"for the next run", ch_spool_files(&ch->spool), ch->spool.bytes,
					ch->spool.dir);
	}
	pthread_mutex_unlock(&ch->state_lock);
	while ((b = queue_pop(ch)) != NULL) {
		ch_count(&ch->stats.batches_dropped, 1);
		ch_count(&ch->stats.rows_dropped, b->rows);
		ch_log(ch, 1, "clickhouse: at the end, ClickHouse has not taken a batch: %u flow "
				"records are lost (rows_dropped; clickhouse_spool_dir would keep them)",
				b->rows);
		recycle(ch, b);
	}
}

void
ch_writers_stop(struct dpfix_clickhouse *ch)
{
	int started = 0;

	pthread_mutex_lock(&ch->queue_lock);
	ch->stopping = 1;
	pthread_cond_broadcast(&ch->wake);
	pthread_cond_broadcast(&ch->spill_wake);
	pthread_mutex_unlock(&ch->queue_lock);
	if (ch->spiller.started)
		pthread_join(ch->spiller.thread, NULL);
	ch->spiller.started = 0;
	for (uint32_t i = 0; i < ch->writer_count; i++) {
		if (ch->writers[i].started)
			pthread_join(ch->writers[i].thread, NULL);
		started |= ch->writers[i].started;
		ch->writers[i].started = 0;
	}
	if (started)
		finish(&ch->writers[0]);
	pthread_mutex_lock(&ch->state_lock);
	update_spool_gauges(ch);
	pthread_mutex_unlock(&ch->state_lock);
}

void
ch_writers_free(struct dpfix_clickhouse *ch)
{
	for (uint32_t i = 0; i < ch->writer_count; i++) {
		ch_batch_free(ch->writers[i].replay);
		ch_writer_buffers_free(&ch->writers[i]);
	}
	ch_writer_buffers_free(&ch->spiller);
	ch->writer_count = 0;
}
