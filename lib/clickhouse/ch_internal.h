/* The state the collector's thread (clickhouse.c) and the writer thread (ch_writer.c)
 * share, and what each owns alone. */
#ifndef CH_INTERNAL_H
#define CH_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "ch_batch.h"
#include "ch_rowbinary.h"
#include "ch_server.h"
#include "ch_spool.h"
#include "dpfix_clickhouse.h"

#define CH_TEMPLATE_CACHE 64     /* template pointers -> batch slots, per batch */
#define CH_FREE_BATCHES 4        /* emptied batches kept for reuse */
#define CH_SAID_ELEMENTS 128     /* elements without a column already said */

struct dpfix_clickhouse {
	struct dpfix_clickhouse_params p;
	char url[256], database[64], table[64], cluster[64], columns[1024], spool_dir[4096];
	char user[128], password[128];

	/* Counters: written with atomic adds by either thread, read by either. */
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

	/* Shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ch_batch *queue_head, *queue_tail;
	uint64_t queued_bytes;
	struct ch_batch *free_batches;
	uint32_t free_count;
	int stopping;
	pthread_t thread;
	int thread_started;

	/* The writer's alone (and create's, before the writer starts). */
	struct ch_server server;
	struct ch_server_params server_params;
	int ready;                      /* set up: columns known */
	int down;                       /* the last attempt failed */
	uint64_t down_since_ms;
	uint64_t backoff_ms;
	uint64_t next_attempt_ms;
	uint64_t last_ttl_ms;
	struct ch_spool spool;
	int spooling;                   /* a spool directory was given */
	struct ch_batch *replay;        /* the spool's first file, read back */
	struct ch_buf rows[CH_BATCH_MAX_SHARDS];
	struct ch_plan plans[CH_BATCH_MAX_TEMPLATES];
	uint64_t plan_batch[CH_BATCH_MAX_TEMPLATES];    /* the batch id each plan is for */
	uint64_t plan_schema[CH_BATCH_MAX_TEMPLATES];   /* ... and the set-up */
	uint64_t schema_generation;     /* set-ups that succeeded */
	uint32_t said_count;
	uint32_t said[CH_SAID_ELEMENTS][2];     /* pen, id */
	uint64_t lost_at_end;
};

void ch_log(struct dpfix_clickhouse *ch, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void
ch_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* Gives an emptied batch back for reuse (under lock). */
void ch_recycle(struct dpfix_clickhouse *ch, struct ch_batch *b);

/* The writer thread. */
void *ch_writer_main(void *arg);

#endif
