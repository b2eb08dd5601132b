/* The state the collector's thread (clickhouse.c) and the writer threads (ch_writer.c,
 * ch_insert.c) share, and what each owns alone. Locks, taken in this order when nested:
 * state (the spool and what is known of ClickHouse; held while the spool is written),
 * server (rwlock: read while encoding and inserting, written while setting up), queue
 * (the batches handed over; never held during I/O, as the collector's thread takes it),
 * said (the elements said to lack a column). */
#ifndef CH_INTERNAL_H
#define CH_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "ch_batch.h"
#include "ch_http.h"
#include "ch_native.h"
#include "ch_server.h"
#include "ch_spool.h"
#include "dpfix_clickhouse.h"

#define CH_TEMPLATE_CACHE 64     /* (session, domain, template) -> batch slot, per batch */
#define CH_FREE_BATCHES 4        /* emptied batches kept for reuse */
#define CH_SAID_ELEMENTS 128     /* elements without a column already said */
#define CH_MAX_WRITERS 8

/* One writer thread: a batch at a time, encoded and inserted with buffers of its own. */
struct ch_writer {
	struct dpfix_clickhouse *ch;
	pthread_t thread;
	int started;
	struct ch_batch *replay;        /* the spool file it holds, read back */
	/* Per shard, a buffer per column of the insert: its Native head, then its values. */
	struct ch_buf *columns[CH_BATCH_MAX_SHARDS];
	uint32_t column_bufs[CH_BATCH_MAX_SHARDS];     /* buffers in columns[shard] */
	uint32_t column_count;          /* columns of the insert */
	struct iovec *iov;              /* the insert's body: query, block head, columns */
	uint32_t iov_cap;
	struct ch_buf used;             /* per column: 1 if the batch's records fill it */
	struct ch_buf query;            /* the INSERT naming those columns */
	struct ch_plan plans[CH_BATCH_MAX_TEMPLATES];
	uint64_t plan_batch[CH_BATCH_MAX_TEMPLATES];    /* the batch id each plan is for */
	uint64_t plan_schema[CH_BATCH_MAX_TEMPLATES];   /* ... and the set-up */
	struct ch_http_response response;
};

struct dpfix_clickhouse {
	struct dpfix_clickhouse_params p;
	char url[256], database[64], table[64], cluster[64], columns[1024], spool_dir[4096];
	char user[128], password[128];

	/* Counters: written with atomic adds by any thread, read by any. */
	struct dpfix_clickhouse_stats stats;

	/* The collector's thread alone. */
	struct ch_batch *current;
	uint64_t current_started_ms;    /* monotonic */
	/* Which slot of the current batch holds a template: decoders hand records over with a
	 * view of their template whose address is the same for all, so templates are told
	 * apart by where they come from; any template event empties the cache. */
	struct {
		uint64_t session;
		uint32_t domain;
		uint16_t id;
		uint16_t field_count;
		uint32_t slot;
	} cache[CH_TEMPLATE_CACHE];
	uint32_t cache_count;
	uint32_t cache_last;
	int memory_full_said;

	/* Queue lock: the batches handed over, oldest first. */
	pthread_mutex_t queue_lock;
	pthread_cond_t wake;            /* a batch came, the stop, or work for a writer */
	pthread_cond_t spill_wake;      /* memory past half with a spool: the spiller's turn */
	struct ch_batch *queue_head, *queue_tail;
	uint64_t queued_bytes;
	struct ch_batch *free_batches;
	uint32_t free_count;
	int stopping;

	/* State lock: the spool and what the writers know of ClickHouse. */
	pthread_mutex_t state_lock;
	struct ch_spool spool;
	int spooling;                   /* a spool directory was given */
	int ready;                      /* set up: the columns are known */
	int setting_up;                 /* a writer is setting up */
	int down;                       /* the last attempt failed */
	uint64_t down_since_ms;
	uint64_t backoff_ms;
	uint64_t next_attempt_ms;
	uint64_t last_ttl_ms;

	/* Server lock: read while inserting, written while setting up. */
	pthread_rwlock_t server_lock;
	struct ch_server server;
	struct ch_server_params server_params;
	uint64_t schema_generation;     /* set-ups that succeeded */

	pthread_mutex_t said_lock;
	uint32_t said_count;
	uint32_t said[CH_SAID_ELEMENTS][2];     /* pen, id */

	struct ch_writer writers[CH_MAX_WRITERS];
	uint32_t writer_count;
	/* With a spool: moves batches from memory to the spool as soon as they pass half of
	 * clickhouse_memory, while the writers are busy inserting. */
	struct ch_writer spiller;
};

void ch_log(struct dpfix_clickhouse *ch, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void
ch_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* Gives an emptied batch back for reuse (under the queue lock). */
void ch_recycle(struct dpfix_clickhouse *ch, struct ch_batch *b);

/* ch_writer.c: the collector's thread, memory full with a spool: the oldest batches in
 * memory go to the spool until a batch of bytes fits (the state lock taken). */
void ch_spool_to_fit(struct dpfix_clickhouse *ch, uint64_t bytes);
/* Creates the collector's side; threads 0 starts no writer and no spiller (tests: the
 * spiller late). */
struct dpfix_clickhouse *ch_create(const struct dpfix_clickhouse_params *p, int threads,
		char *err, size_t errlen);

/* ch_writer.c: starts the writers; the end (the collector's thread, once they stopped). */
int ch_writers_start(struct dpfix_clickhouse *ch, uint32_t count);
void ch_writers_stop(struct dpfix_clickhouse *ch);
void ch_writers_free(struct dpfix_clickhouse *ch);

/* ch_insert.c: one batch into ClickHouse, with the server's lock read. */
enum ch_insert_outcome {
	CH_INSERT_DONE,         /* every shard has the batch's rows */
	CH_INSERT_AGAIN,        /* some shard does not: try again later (*res says why) */
	CH_INSERT_BAD,          /* ClickHouse cannot read it: it never will */
};
enum ch_insert_outcome ch_insert_batch(struct ch_writer *w, struct ch_batch *b,
		enum ch_result *res, char *err, size_t errlen);
/* Whether a record of b belongs to a shard that does not have its rows yet (for the
 * spool: only those are kept). */
int ch_insert_record_undone(struct ch_writer *w, const struct ch_batch *b, uint32_t slot,
		const uint8_t *rec, uint32_t len);
/* Forgets the plans of b's templates. */
void ch_insert_forget(struct ch_writer *w, const struct ch_batch *b);
void ch_writer_buffers_free(struct ch_writer *w);

#endif
