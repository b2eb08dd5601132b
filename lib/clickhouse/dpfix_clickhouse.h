/* Flow records into ClickHouse: batched on the collector's thread (a copy per record),
 * inserted as Native blocks by writer threads of its own, into one server or each shard of a
 * cluster (with a Distributed table over them), and spooled to RFC 5655 files while
 * ClickHouse is away, then replayed in order: nothing lost, nothing twice
 * (doc/clickhouse.md). */
#ifndef DPFIX_CLICKHOUSE_H
#define DPFIX_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include "dpfix_ipfix.h"

struct dpfix_clickhouse_params {
	const char *url;                /* http://HOST:PORT */
	/* A file of one "user:password" line, readable by its owner only; NULL: the user
	 * default without a password. Never on the command line. */
	const char *credentials_file;
	const char *database;           /* "dpfix" */
	const char *table;              /* "flows" */
	const char *cluster;            /* NULL or "": one server */
	const char *columns;            /* more elements to have columns for; NULL or "" */
	uint32_t batch_rows;            /* an insert at this many rows ... */
	uint64_t batch_interval_ms;     /* ... or when the oldest row is this old */
	uint64_t memory_bytes;          /* batches waiting in memory, at most */
	const char *spool_dir;          /* NULL or "": no spool, batches wait in memory */
	uint64_t spool_bytes;           /* the spool's size, at most; 0: no limit */
	uint32_t ttl_days;              /* drop days older than this; 0: keep all */
	uint32_t timeout_ms;            /* for each request to ClickHouse */
	uint32_t connections;           /* inserts in flight at once (writer threads) */
	/* Where it says what happens (error: 1 for failures, 0 for news); called from the
	 * collector's thread and the writers'. */
	void (*log)(void *arg, int error, const char *text);
	void *log_arg;
};

#define DPFIX_CLICKHOUSE_BATCH_ROWS 500000
#define DPFIX_CLICKHOUSE_BATCH_INTERVAL_MS 1000
/* Plain numbers: the option table shows them as the defaults' text. */
#define DPFIX_CLICKHOUSE_MEMORY_BYTES 268435456     /* 256 MiB */
#define DPFIX_CLICKHOUSE_SPOOL_BYTES 4294967296     /* 4 GiB */
#define DPFIX_CLICKHOUSE_TIMEOUT_S 30
#define DPFIX_CLICKHOUSE_TIMEOUT_MS (DPFIX_CLICKHOUSE_TIMEOUT_S * 1000)
/* ClickHouse parses and writes an insert on one core: two in flight use two. */
#define DPFIX_CLICKHOUSE_CONNECTIONS 2
/* One insert stays one block of ClickHouse's (max_insert_block_size), so all or nothing. */
#define DPFIX_CLICKHOUSE_BATCH_ROWS_MAX 1000000

#define DPFIX_CLICKHOUSE_COUNTERS(X) \
	X(rows_inserted, "flow records inserted into ClickHouse") \
	X(batches_inserted, "inserts that succeeded (a batch into a shard)") \
	X(batches_retried, "inserts that failed, to be tried again (spooled or kept)") \
	X(batches_spooled, "batches written to the spool") \
	X(rows_spooled, "flow records written to the spool") \
	X(batches_replayed, "spooled batches inserted") \
	X(rows_replayed, "spooled flow records inserted") \
	X(batches_found_present, "inserts whose answer was lost, found done when checked") \
	X(batches_dropped, "batches lost: the spool (or memory, without one) was full, or " \
			"ClickHouse refused their data") \
	X(rows_dropped, "flow records lost so") \
	X(fields_without_column, "fields of inserted records not stored: no column for their " \
			"element (said once per element)") \
	X(options_records_skipped, "options records: not flows, not in the table") \
	X(partitions_dropped, "days dropped by clickhouse_ttl_days") \
	X(spool_files, "files in the spool now") \
	X(spool_bytes, "bytes in the spool now")

struct dpfix_clickhouse_stats {
#define DPFIX_CLICKHOUSE_FIELD(name, text) uint64_t name;
	DPFIX_CLICKHOUSE_COUNTERS(DPFIX_CLICKHOUSE_FIELD)
#undef DPFIX_CLICKHOUSE_FIELD
};

struct dpfix_clickhouse;

/* Reads the credentials, opens the spool (an earlier run's files are replayed first) and
 * asks ClickHouse once to set up: refused credentials, a cluster it does not have or
 * a table it will not create fail here (NULL, err says why). An unreachable ClickHouse
 * does not: it is said and the writer keeps trying, spooling meanwhile. */
struct dpfix_clickhouse *dpfix_clickhouse_create(const struct dpfix_clickhouse_params *p,
		char *err, size_t errlen);

/* Where and when a record was received. */
struct dpfix_clickhouse_origin {
	uint64_t session;               /* the transport session's id: templates are per
					 * (session, domain, template id) */
	uint8_t exporter[16];           /* IPv6; an IPv4 exporter as ::ffff:a.b.c.d */
	uint32_t domain;                /* observation domain */
	uint64_t time_ms;               /* UNIX time */
};

/* ---- the collector's thread ---- */

/* Takes a data record (copied; options records are counted and skipped). Never waits
 * for ClickHouse: a batch that finds memory full is dropped and counted without a spool;
 * with one, the oldest batches in memory are written to the spool here first (waiting
 * for the disk), and only a full spool drops. */
void dpfix_clickhouse_add(struct dpfix_clickhouse *ch, const struct dpfix_clickhouse_origin *o,
		const struct dpfix_ipfix_template *t, const uint8_t *rec, uint32_t len);
/* A template was learned, redefined or withdrawn somewhere (a (session, domain, id) may
 * now mean other fields). */
void dpfix_clickhouse_templates_changed(struct dpfix_clickhouse *ch);
/* Now and then (each round of the collector's loop): a batch as old as the interval goes. */
void dpfix_clickhouse_tick(struct dpfix_clickhouse *ch);
/* The end: the last batch goes; waits while the writer inserts what memory holds (or
 * spools it if ClickHouse is away or the spool is being replayed) and stops it. */
void dpfix_clickhouse_finish(struct dpfix_clickhouse *ch);

void dpfix_clickhouse_stats(const struct dpfix_clickhouse *ch, struct dpfix_clickhouse_stats *st);
/* Flow records lost (rows_dropped, and those left in memory at the end without a spool). */
uint64_t dpfix_clickhouse_lost(const struct dpfix_clickhouse *ch);
void dpfix_clickhouse_free(struct dpfix_clickhouse *ch);

#endif
