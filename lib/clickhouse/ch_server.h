/* What the collector asks of ClickHouse: set-up (the database, the flow table on every
 * shard of a cluster and the Distributed table over them, the columns it may fill),
 * inserts into each shard's table, whether a batch is already there, and retention by
 * dropping old days. */
#ifndef CH_SERVER_H
#define CH_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ch_batch.h"
#include "ch_http.h"
#include "ch_schema.h"
#include "ch_shard.h"

/* How a request ended, for what to do next. */
enum ch_result {
	CH_OK,
	CH_UNREACHABLE,         /* not sent: no connection */
	CH_NO_ANSWER,           /* sent, no answer: it may have run */
	CH_AUTH,                /* user or password refused */
	CH_SCHEMA,              /* the table or a column is gone: set up again */
	CH_BAD_DATA,            /* the server could not parse what was sent */
	CH_REFUSED,             /* any other error the server answered with */
};

struct ch_server_params {
	const char *url;
	const char *user;
	const char *password;
	const char *database;
	const char *table;
	const char *cluster;        /* NULL or "": one server */
	const char *columns;        /* extra elements to have columns for; NULL or "" */
	uint32_t timeout_ms;
	void (*note)(void *arg, const char *text);  /* what set-up found and did */
	void *arg;
};

struct ch_server {
	struct ch_http_server entry;        /* the --clickhouse URL */
	struct ch_http_server *shards;      /* where rows go: the entry, or each shard */
	uint32_t shard_count;
	struct ch_shard_map map;
	struct ch_schema schema;            /* the columns each insert fills */
	char table[160];                    /* `db`.`table` the rows go to on each shard */
	int has_batch_id;                   /* presence checks possible */
	int has_time;                       /* ... narrowed to the batch's reception times */
	struct ch_http_response response;   /* set-up's */
};

/* Parses the URL and keeps the credentials; no connection yet. -EINVAL with err. */
int ch_server_init(struct ch_server *s, const struct ch_server_params *p, char *err,
		size_t errlen);
void ch_server_free(struct ch_server *s);

/* Connects, creates what is missing and reads the columns (again after CH_SCHEMA).
 * CH_OK, or the result with err saying what failed. */
enum ch_result ch_server_setup(struct ch_server *s, const struct ch_server_params *p, char *err,
		size_t errlen);

/* The requests below read s (set up) and fill the caller's r: several writers may ask at
 * once, each with its own response. */

/* Runs sql on server h; the answer is in r. */
enum ch_result ch_server_query(struct ch_http_response *r, const struct ch_http_server *h,
		const char *sql, char *err, size_t errlen);

/* "INSERT INTO `db`.`table` (the columns used[c] marks) FORMAT Native\n" into out.
 * A batch names only the columns its records can fill: ClickHouse fills the others with
 * their defaults for less than reading them. 0 or -ENOMEM. */
int ch_server_insert_query(const struct ch_server *s, const uint8_t *used, struct ch_buf *out);

/* Inserts into shard: the body is iov (iovcnt buffers), the query first, then its data
 * (a Native block of the query's columns). */
enum ch_result ch_server_insert(const struct ch_server *s, struct ch_http_response *r,
		uint32_t shard, const struct iovec *iov, int iovcnt, char *err, size_t errlen);

/* How many rows of batch id shard already holds (first_ms..last_ms: the batch's reception
 * times, 0 when unknown). CH_OK with *count. */
enum ch_result ch_server_count_batch(const struct ch_server *s, struct ch_http_response *r,
		uint32_t shard, uint64_t id, uint64_t first_ms, uint64_t last_ms, uint64_t *count,
		char *err, size_t errlen);

/* Drops the days older than keep_days on every shard (the table dpfix made is
 * partitioned by UTC day); *dropped counts them. CH_OK or the first failure. */
enum ch_result ch_server_drop_old_days(const struct ch_server *s, struct ch_http_response *r,
		uint32_t keep_days, uint64_t now_ms, uint64_t *dropped, char *err, size_t errlen);

#endif
