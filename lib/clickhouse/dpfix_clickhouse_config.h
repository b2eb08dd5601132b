/* The ClickHouse options of a program that writes flows there (the collector, later the
 * Mediator), as rows for its option table (lib/config): one wording, one set of names,
 * their defaults here. Header only: the rows are expanded into the program's table. */
#ifndef DPFIX_CLICKHOUSE_CONFIG_H
#define DPFIX_CLICKHOUSE_CONFIG_H

#include <stddef.h>

#include "dpfix_clickhouse.h"
#include "dpfix_config.h"

#define DPFIX_CLICKHOUSE_PATH_LEN 256

struct dpfix_clickhouse_settings {
	char url[DPFIX_CLICKHOUSE_PATH_LEN];
	char credentials[DPFIX_CLICKHOUSE_PATH_LEN];
	char database[64];
	char table[64];
	char cluster[64];
	char columns[1024];
	uint32_t batch_rows;
	uint64_t batch_interval_ms;
	uint64_t memory_bytes;
	char spool_dir[DPFIX_CLICKHOUSE_PATH_LEN];
	uint64_t spool_bytes;
	uint32_t ttl_days;
	uint64_t timeout_ms;
	uint32_t connections;
};

/* The rows for the struct dpfix_clickhouse_settings at field of stype. */
#define DPFIX_CLICKHOUSE_OPTIONS(stype, field) \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse", DPFIX_CONFIG_STRING, field.url, NULL, 0, 0, \
		"also insert the flow records into ClickHouse at http://HOST:PORT (its HTTP " \
		"interface; doc/clickhouse.md)"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_credentials", DPFIX_CONFIG_STRING, \
		field.credentials, NULL, 0, 0, "a file of one user:password line, mode 600 (never " \
		"on the command line); none: the user default without a password"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_database", DPFIX_CONFIG_STRING, \
		field.database, "dpfix", 0, 0, "database of the flow table (created if missing)"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_table", DPFIX_CONFIG_STRING, field.table, \
		"flows", 0, 0, "the flow table (created if missing: MergeTree, a partition per UTC " \
		"day, sorted by minute, exporter and source address); with a cluster, the " \
		"Distributed table over each shard's TABLE_local"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_cluster", DPFIX_CONFIG_STRING, \
		field.cluster, NULL, 0, 0, "a cluster of the server's remote_servers: the table " \
		"on every shard, rows sharded by sipHash64(exporterIPv6Address)"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_columns", DPFIX_CONFIG_STRING, \
		field.columns, NULL, 0, 0, "more information elements to have columns for, by " \
		"name, comma-separated (added to the table if it lacks them)"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_batch_rows", DPFIX_CONFIG_U32, \
		field.batch_rows, DPFIX_CONFIG_TEXT(DPFIX_CLICKHOUSE_BATCH_ROWS), 1, \
		DPFIX_CLICKHOUSE_BATCH_ROWS_MAX, "an insert at this many flow records..."), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_batch_interval", DPFIX_CONFIG_DURATION, \
		field.batch_interval_ms, "1", 10, 3600ull * 1000, "... or when its first record " \
		"is this many seconds old"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_memory", DPFIX_CONFIG_U64, \
		field.memory_bytes, DPFIX_CONFIG_TEXT(DPFIX_CLICKHOUSE_MEMORY_BYTES), 1u << 20, \
		UINT64_MAX, "bytes of batches that may wait in memory for ClickHouse; past half, " \
		"they go to the spool; when full, a batch is dropped, counted and said"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_spool_dir", DPFIX_CONFIG_STRING, \
		field.spool_dir, NULL, 0, 0, "a directory for the batches ClickHouse has not " \
		"taken (RFC 5655 files), replayed in order when it answers, first thing at the " \
		"next start; none: they wait in memory and what is left at the end is lost"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_spool_bytes", DPFIX_CONFIG_U64, \
		field.spool_bytes, DPFIX_CONFIG_TEXT(DPFIX_CLICKHOUSE_SPOOL_BYTES), 0, UINT64_MAX, \
		"the spool's size at most; a batch past it is dropped, counted and said; 0: no " \
		"limit"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_ttl_days", DPFIX_CONFIG_U32, \
		field.ttl_days, "0", 0, 100000, "drop the days of flows older than this from the " \
		"table dpfix made (at start and hourly); 0: keep all"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_timeout", DPFIX_CONFIG_DURATION, \
		field.timeout_ms, DPFIX_CONFIG_TEXT(DPFIX_CLICKHOUSE_TIMEOUT_S), 100, 3600ull * 1000, \
		"seconds to wait for a connection and for each answer of ClickHouse"), \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "clickhouse_connections", DPFIX_CONFIG_U32, \
		field.connections, DPFIX_CONFIG_TEXT(DPFIX_CLICKHOUSE_CONNECTIONS), 1, 8, \
		"inserts in flight at once, each a thread of its own (ClickHouse parses and writes " \
		"an insert on one core)")

/* The library's parameters from the settings (pointers into s). */
static inline void
dpfix_clickhouse_params_from(const struct dpfix_clickhouse_settings *s,
		struct dpfix_clickhouse_params *p)
{
	*p = (struct dpfix_clickhouse_params){
		.url = s->url, .credentials_file = s->credentials[0] ? s->credentials : NULL,
		.database = s->database, .table = s->table, .cluster = s->cluster,
		.columns = s->columns, .batch_rows = s->batch_rows,
		.batch_interval_ms = s->batch_interval_ms, .memory_bytes = s->memory_bytes,
		.spool_dir = s->spool_dir, .spool_bytes = s->spool_bytes, .ttl_days = s->ttl_days,
		.timeout_ms = (uint32_t)s->timeout_ms, .connections = s->connections,
	};
}

#endif
